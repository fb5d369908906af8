/*
 * The shared store (PlaidCache): what every child of the server, and with
 * redis or memcache every server behind a balancer, must agree on: the
 * webhook verification keys, the kids Plaid does not know, the budget of
 * key fetches, the webhooks already seen. A mod_socache provider, set up
 * as httpd's own consumers do (mod_ssl, mod_authn_socache): looked up when
 * the directive is read, created and initialised in post-config, one
 * global mutex (a check-and-set must be atomic across children, and some
 * providers are not safe across processes at all), re-attached in each
 * child.
 */
#include "ap_provider.h"
#include "ap_socache.h"
#include "util_mutex.h"

#include "mod_plaid_link.h"

#define CACHE_MUTEX "plaid-link-cache"
#define CACHE_NAME  "mod_plaid_link"

static ap_socache_instance_t *instance;
static const ap_socache_provider_t *provider;
static apr_global_mutex_t *mutex;
static int needed;

const char *plaid_cache_set(cmd_parms *cmd, void *cv, const char *arg)
{
    plaid_server_conf *sc = ap_get_module_config(cmd->server->module_config,
                                                 &plaid_link_module);
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY), *colon;
    const char *name;

    (void)cv;
    if (err) {
        return err;
    }
    colon = ap_strchr_c(arg, ':');
    name = colon ? apr_pstrmemdup(cmd->pool, arg, (apr_size_t)(colon - arg))
                 : arg;
    sc->cache = ap_lookup_provider(AP_SOCACHE_PROVIDER_GROUP, name,
                                   AP_SOCACHE_PROVIDER_VERSION);
    if (!sc->cache) {
        return apr_psprintf(cmd->pool, "PlaidCache: no socache provider "
                            "'%s': LoadModule socache_%s_module first (shmcb "
                            "for one server, redis or memcache for several)",
                            name, name);
    }
    sc->cache_args = colon ? colon + 1 : NULL;
    sc->cache_text = arg;
    return NULL;
}

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

    if (instance && provider) {
        provider->destroy(instance, s);
    }
    instance = NULL;
    provider = NULL;
    mutex = NULL;
    needed = 0;
    return APR_SUCCESS;
}

int plaid_cache_post_config(apr_pool_t *pconf, apr_pool_t *ptemp,
                            server_rec *s)
{
    plaid_server_conf *sc = ap_get_module_config(s->module_config,
                                                 &plaid_link_module);
    struct ap_socache_hints hints = { 64, 128, apr_time_from_sec(300) };
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
    rv = ap_global_mutex_create(&mutex, NULL, CACHE_MUTEX, NULL, s, pconf, 0);
    if (rv == APR_SUCCESS) {
        rv = provider->init(instance, CACHE_NAME, &hints, s, pconf);
    }
    apr_pool_cleanup_register(pconf, s, forget, apr_pool_cleanup_null);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_EMERG, rv, NULL,
                     PLLOGNO(0005) "PlaidCache %s cannot be set up",
                     sc->cache_text ? sc->cache_text : "shmcb");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    return OK;
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

apr_status_t plaid_cache_get(request_rec *r, const char *key,
                             unsigned char *data, unsigned int *len)
{
    if (!instance) {
        return APR_EGENERAL;
    }
    return provider->retrieve(instance, r->server, (const unsigned char *)key,
                              (unsigned int)strlen(key), data, len, r->pool);
}

apr_status_t plaid_cache_put(request_rec *r, const char *key,
                             apr_time_t expiry, const void *data,
                             unsigned int len)
{
    if (!instance) {
        return APR_EGENERAL;
    }
    return provider->store(instance, r->server, (const unsigned char *)key,
                           (unsigned int)strlen(key), expiry,
                           (unsigned char *)data, len, r->pool);
}
