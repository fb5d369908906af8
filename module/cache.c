/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The shared store (PlaidCache): what every child of the server, and with
 * redis or memcache every server behind a balancer, must agree on: the
 * webhook verification keys, the kids Plaid does not know, the budget of
 * key fetches, the webhooks already seen, the counts of the rate limits
 * and the circuit breaker's state. A mod_socache provider, set up as
 * httpd's own consumers do (mod_ssl, mod_authn_socache): looked up when
 * the directive is read, created and initialised in post-config, one
 * global mutex (a check-and-set must be atomic across children, and some
 * providers are not safe across processes at all), re-attached in each
 * child.
 *
 * Two promises the providers do not keep by themselves:
 *
 * - A key fits every store. mod_socache_redis and mod_socache_memcache
 *   hex-encode the key after their "mod_plaid_link:" tag into 254 bytes
 *   and refuse longer ones (APR_EINVAL): a key longer than
 *   PLAID_CACHE_KEY_MAX is refused here with every provider, said as
 *   what it is (PL0136), so that shmcb finds what redis would refuse.
 * - A store that comes back is used again at once. apr_redis and
 *   apr_memcache keep a pool of connections per child and mark the
 *   server dead after one fails, trying it again only every 5 seconds
 *   and then over another pooled connection, as dead as the first when
 *   the store restarted. So after a failed call a network store's
 *   instance is made anew in the child (fresh connections) and the call
 *   tried once more; while it keeps failing, each call starts from a
 *   fresh instance, unless the last attempt was slow (a timeout, not a
 *   refusal), when the child waits 5 seconds, as apr_redis does.
 */
#include <apr_atomic.h>
#include <apr_shm.h>
#include <apr_thread_rwlock.h>

#include "ap_provider.h"
#include "ap_socache.h"
#include "util_mutex.h"

#include "glue.h"

#define CACHE_MUTEX "plaid-link-cache"
#define CACHE_NAME  "mod_plaid_link"

/* A call that failed slowly as often as this means a timeout: the child
 * then leaves the store alone for RENEW_PAUSE, as apr_redis does. */
#define SLOW_FAILURE apr_time_from_msec(500)
#define RENEW_PAUSE  apr_time_from_sec(5)

static ap_socache_instance_t *instance;     /* the one in use */
/* post-config's, in pconf: a child that makes its own leaves this one's
 * pooled connections open until it exits (they are not ours to close). */
static ap_socache_instance_t *made_at_start;
static const ap_socache_provider_t *provider;
static apr_global_mutex_t *mutex;
static int needed;

/* Making the instance anew (the child's): the arguments, the server and
 * hints init wants, the pools (a fresh one per instance, under one with
 * an allocator of its own that threads may share), and a lock that lets
 * the instance be swapped while no call uses it. */
static const char *made_with;
static server_rec *main_server;
static struct ap_socache_hints hints = { 64, 128, apr_time_from_sec(300) };
static apr_pool_t *renewals, *renewed;
static apr_thread_rwlock_t *swap;
static apr_uint32_t generation;
static apr_time_t pause_until;

/* This child's view of the store's health: whether the instance in use
 * failed last (its server may be marked dead), and when a refused key was
 * last said. */
static apr_uint32_t stale;
static apr_uint32_t refused_said_at;

/* The server's: the second at which calls began to fail (0: the last
 * write succeeded) and how many outages have ended, in shared memory made
 * in post-config, so that one child's successful write ends the outage
 * for every child and the next one is new to all of them (limits.c says
 * it then, whatever the clock's second). Without that memory, the child's
 * own words. */
typedef struct {
    apr_uint32_t down_since;
    apr_uint32_t recoveries;
} cache_health;

static cache_health own_health;
static cache_health *health = &own_health;

void plaid_cache_need(void)
{
    needed = 1;
}

void plaid_cache_pre_config(apr_pool_t *pconf)
{
    ap_mutex_register(pconf, CACHE_MUTEX, NULL, APR_LOCK_DEFAULT, 0);
}

static apr_status_t forget(void *data)
{
    server_rec *s = data;

    if (made_at_start && provider) {
        provider->destroy(made_at_start, s);
    }
    instance = made_at_start = NULL;
    provider = NULL;
    mutex = NULL;
    needed = 0;
    health = &own_health;
    return APR_SUCCESS;
}

/* The server's health: anonymous shared memory, inherited by the
 * children; a new one each generation. */
static void share_health(apr_pool_t *pconf, server_rec *s)
{
    apr_shm_t *shm;
    apr_status_t rv = apr_shm_create(&shm, sizeof(cache_health), NULL,
                                     pconf);

    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, rv, s, PLLOGNO(0138)
                     "cannot make shared memory for PlaidCache's health: "
                     "each child tells an outage of the store on its own");
        return;
    }
    health = apr_shm_baseaddr_get(shm);
    memset(health, 0, sizeof(*health));
}

int plaid_cache_post_config(apr_pool_t *pconf, apr_pool_t *ptemp,
                            server_rec *s)
{
    plaid_server_conf *sc = ap_get_module_config(s->module_config,
                                                 &plaid_link_module);
    const char *err, *args = sc->cache_args;
    apr_status_t rv;

    if (!needed) {
        return OK;
    }
    provider = sc->cache;
    if (!provider) {
        /* One server: shared memory, anonymous unless told a path. */
        provider = ap_lookup_provider(AP_SOCACHE_PROVIDER_GROUP, "shmcb",
                                      AP_SOCACHE_PROVIDER_VERSION);
        args = NULL;
    }
    if (!provider) {
        ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_EMERG, 0, NULL,
                     PLLOGNO(0005) "SetHandler plaid-webhook needs a cache "
                     "shared by the children: LoadModule "
                     "socache_shmcb_module, or set PlaidCache");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if ((err = provider->create(&instance, args, ptemp, pconf))) {
        ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_EMERG, 0, NULL,
                     PLLOGNO(0005) "PlaidCache %s: %s",
                     sc->cache_text ? sc->cache_text : "shmcb", err);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    made_at_start = instance;
    made_with = args ? apr_pstrdup(pconf, args) : NULL;
    main_server = s;
    rv = ap_global_mutex_create(&mutex, NULL, CACHE_MUTEX, NULL, s, pconf, 0);
    if (rv == APR_SUCCESS) {
        rv = provider->init(instance, CACHE_NAME, &hints, s, pconf);
    }
    apr_pool_cleanup_register(pconf, s, forget, apr_pool_cleanup_null);
    share_health(pconf, s);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_EMERG, rv, NULL,
                     PLLOGNO(0005) "PlaidCache %s cannot be set up",
                     sc->cache_text ? sc->cache_text : "shmcb");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    return OK;
}

/* Stores reached over the network, whose instance a child may make anew;
 * shmcb and dbm are made once by the parent for all children. */
static int renewable(void)
{
    return provider && (strcmp(provider->name, "redis") == 0
                        || strcmp(provider->name, "memcache") == 0);
}

/* Before pchild's sub-pools go, the instance made in them stops being
 * the one in use. */
static apr_status_t back_to_start(void *data)
{
    (void)data;
    instance = made_at_start;
    renewed = renewals = NULL;
    swap = NULL;
    return APR_SUCCESS;
}

static void renewal_child_init(apr_pool_t *p)
{
    apr_allocator_t *allocator;
    apr_thread_mutex_t *lock;

    /* Threads make connections in the instance's pools at once: its
     * allocator needs a mutex, which pchild's has not. */
    if (apr_allocator_create(&allocator) != APR_SUCCESS) {
        return;
    }
    if (apr_pool_create_ex(&renewals, p, NULL, allocator) != APR_SUCCESS) {
        apr_allocator_destroy(allocator);
        renewals = NULL;
        return;
    }
    apr_allocator_owner_set(allocator, renewals);
    if (apr_thread_mutex_create(&lock, APR_THREAD_MUTEX_DEFAULT, renewals)
            != APR_SUCCESS
        || apr_thread_rwlock_create(&swap, renewals) != APR_SUCCESS) {
        renewals = NULL;
        swap = NULL;
        return;
    }
    apr_allocator_mutex_set(allocator, lock);
    apr_pool_pre_cleanup_register(p, NULL, back_to_start);
}

void plaid_cache_child_init(apr_pool_t *p, server_rec *s)
{
    apr_status_t rv;

    if (mutex && (rv = apr_global_mutex_child_init(
                      &mutex, apr_global_mutex_lockfile(mutex), p))
                 != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, PLLOGNO(0005)
                     "cannot re-attach the PlaidCache mutex");
        mutex = NULL;
    }
    apr_atomic_set32(&stale, 0);
    memset(&own_health, 0, sizeof(own_health));
    apr_atomic_set32(&refused_said_at, 0);
    if (instance && renewable()) {
        renewal_child_init(p);
    }
}

int plaid_cache_ready(void)
{
    return instance && mutex;
}

apr_status_t plaid_cache_lock(void)
{
    return mutex ? apr_global_mutex_lock(mutex) : APR_EGENERAL;
}

void plaid_cache_unlock(void)
{
    if (mutex) {
        apr_global_mutex_unlock(mutex);
    }
}

apr_uint32_t plaid_cache_recoveries(void)
{
    return apr_atomic_read32(&health->recoveries);
}

/* ------------------------------------------------------------------ */
/* Calls, made anew once on a fresh instance after a failure. */

typedef struct {
    const char *key;
    unsigned char *data;
    unsigned int *len;         /* get: room, then length */
    unsigned int put_len;
    apr_time_t expiry;
    int put;
} cache_call;

static apr_status_t call_provider(request_rec *r, cache_call *c)
{
    unsigned int klen = (unsigned int)strlen(c->key);

    if (c->put) {
        return provider->store(instance, r->server,
                               (const unsigned char *)c->key, klen,
                               c->expiry, c->data, c->put_len, r->pool);
    }
    return provider->retrieve(instance, r->server,
                              (const unsigned char *)c->key, klen, c->data,
                              c->len, r->pool);
}

/* The call on the instance in use, which no renewal swaps meanwhile. */
static apr_status_t call_instance(request_rec *r, cache_call *c)
{
    apr_status_t rv;

    if (!swap) {
        return call_provider(r, c);
    }
    apr_thread_rwlock_rdlock(swap);
    rv = call_provider(r, c);
    apr_thread_rwlock_unlock(swap);
    return rv;
}

/* Did the store fail? Not for a miss, nor for an entry or key it refuses
 * (APR_EINVAL; APR_ENOMEM: an entry longer than asked for). A put on a
 * server apr_redis marked dead answers APR_NOTFOUND. */
static int store_failed(const cache_call *c, apr_status_t rv)
{
    if (rv == APR_SUCCESS || rv == APR_EINVAL) {
        return 0;
    }
    return c->put || (rv != APR_NOTFOUND && rv != APR_ENOMEM);
}

/* A fresh instance in place of the one in use, unless another thread
 * made one since seen_generation; 1 when the next call goes to a fresh
 * instance. */
static int renew(apr_uint32_t seen_generation)
{
    ap_socache_instance_t *fresh = NULL;
    apr_pool_t *p, *old;
    int made = 0;

    if (!swap || !renewals || apr_time_now() < pause_until) {
        return 0;
    }
    apr_thread_rwlock_wrlock(swap);
    if (apr_atomic_read32(&generation) != seen_generation) {
        apr_thread_rwlock_unlock(swap);
        return 1;
    }
    if (apr_pool_create(&p, renewals) == APR_SUCCESS) {
        if (!provider->create(&fresh, made_with, p, p)
            && provider->init(fresh, CACHE_NAME, &hints, main_server, p)
               == APR_SUCCESS) {
            old = renewed;
            instance = fresh;
            renewed = p;
            apr_atomic_inc32(&generation);
            made = 1;
            if (old) {
                /* Closes the old instance's connections. */
                apr_pool_destroy(old);
            }
        }
        else {
            apr_pool_destroy(p);
        }
    }
    apr_thread_rwlock_unlock(swap);
    return made;
}

/* A call failed: the outage begins, unless it has begun. */
static void note_down(void)
{
    apr_atomic_set32(&stale, 1);
    if (!apr_atomic_read32(&health->down_since)) {
        apr_atomic_cas32(&health->down_since,
                         (apr_uint32_t)apr_time_sec(apr_time_now()), 0);
    }
}

/* A write succeeded: the store is back. Not a read: a redis replica
 * answers reads and refuses writes. */
static void note_up(request_rec *r)
{
    apr_uint32_t now = (apr_uint32_t)apr_time_sec(apr_time_now());
    apr_uint32_t since = apr_atomic_read32(&health->down_since);

    if (since && apr_atomic_cas32(&health->down_since, 0, since) == since) {
        apr_atomic_inc32(&health->recoveries);
        ap_log_rerror(APLOG_MARK, APLOG_NOTICE, 0, r, PLLOGNO(0137)
                      "PlaidCache reachable again (a write succeeded) "
                      "after %u s of failed calls: limits and the breaker "
                      "apply again", now - since);
    }
}

/* A refused key, said as what it is, at most once a minute per child. */
static void say_refused(request_rec *r, const char *key, const char *why)
{
    apr_uint32_t now = (apr_uint32_t)apr_time_sec(apr_time_now());
    apr_uint32_t last = apr_atomic_read32(&refused_said_at);
    const char *colon = ap_strchr_c(key, ':');
    /* The kind of key only: the rest may hold a user's id. */
    const char *kind = colon ? apr_pstrmemdup(r->pool, key,
                                              (apr_size_t)(colon - key))
                             : "";

    if ((last && now - last < 60)
        || apr_atomic_cas32(&refused_said_at, now, last) != last) {
        return;
    }
    ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, PLLOGNO(0136)
                  "PlaidCache key refused: a %s key of %" APR_SIZE_T_FMT
                  " bytes, %s; its entry is neither read nor written (said "
                  "at most once a minute per child)",
                  plaid_log_quote(r->pool, kind, 32), strlen(key), why);
}

static apr_status_t call(request_rec *r, cache_call *c)
{
    apr_uint32_t seen;
    apr_time_t began;
    apr_status_t rv;
    int fresh = 0;

    if (!instance) {
        return APR_EGENERAL;
    }
    if (strlen(c->key) > PLAID_CACHE_KEY_MAX) {
        say_refused(r, c->key, apr_psprintf(r->pool, "more than the %d "
                                            "every provider takes",
                                            PLAID_CACHE_KEY_MAX));
        return APR_EINVAL;
    }
    seen = apr_atomic_read32(&generation);
    if (apr_atomic_read32(&stale)) {
        /* The instance in use failed last: its server is marked dead. */
        fresh = renew(seen);
        seen = apr_atomic_read32(&generation);
    }
    began = apr_time_now();
    rv = call_instance(r, c);
    if (store_failed(c, rv) && !fresh && renew(seen)) {
        fresh = 1;
        began = apr_time_now();
        rv = call_instance(r, c);
    }
    if (fresh && store_failed(c, rv)
        && apr_time_now() - began >= SLOW_FAILURE) {
        pause_until = apr_time_now() + RENEW_PAUSE;
    }
    if (rv == APR_EINVAL) {
        say_refused(r, c->key, "which the store refused (APR_EINVAL)");
    }
    else if (store_failed(c, rv)) {
        note_down();
        return rv;
    }
    /* A miss proves a fresh instance only: apr_redis answers one without
     * asking a server it marked dead. */
    if (rv == APR_SUCCESS || fresh) {
        apr_atomic_set32(&stale, 0);
    }
    if (rv == APR_SUCCESS && c->put) {
        note_up(r);
    }
    return rv;
}

const char *plaid_cache_key(apr_pool_t *p, const char *prefix,
                            const char *a, const char *b)
{
    const char *text = apr_psprintf(p, "%" APR_SIZE_T_FMT ":%s:%s",
                                    strlen(a), a, b);
    char hex[65];

    plaid_sha256_hex(text, strlen(text), hex);
    return apr_pstrcat(p, prefix, hex, NULL);
}

apr_status_t plaid_cache_get(request_rec *r, const char *key,
                             unsigned char *data, unsigned int *len)
{
    cache_call c = { key, data, len, 0, 0, 0 };

    return call(r, &c);
}

apr_status_t plaid_cache_put(request_rec *r, const char *key,
                             apr_time_t expiry, const void *data,
                             unsigned int len)
{
    cache_call c = { key, (unsigned char *)data, NULL, len, expiry, 1 };

    return call(r, &c);
}
