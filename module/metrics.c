/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Metrics: what the module did, for SetHandler plaid-metrics (Prometheus)
 * and mod_status's page (status.c). The counters are one block of shared
 * memory (plaid_metrics.h) that the parent makes once, at the first
 * start-up, and keeps in its process pool, as mod_status keeps its
 * scoreboard: every child adds to the same words with atomic operations,
 * no lock on the request path, and a restart short of a stop keeps the
 * counts.
 *
 * An endpoint is a vhost, the section of a SetHandler that named one of
 * the handlers, and the handler. Each gets a number at start-up, from
 * the sections of each server (check.c calls plaid_counters_note); the
 * numbers are kept in the process pool too, so that an endpoint keeps its
 * counters across restarts, and a child of the old generation still
 * counts under the right labels while a graceful restart replaces it.
 * Number 0 is "other": an endpoint made some other way, or past
 * PLAID_METRICS_ENDPOINTS.
 */
#include <errno.h>
#include <signal.h>
#include <unistd.h>

#include <apr_shm.h>

#include "ap_mpm.h"

#include "glue.h"

/* With the layout's version: a graceful restart onto a build whose store
 * differs makes a new one instead of reading the old one wrongly. */
#define STORE_KEY "plaid_link_metrics/3"

/* One child's calls in flight. A child adds to its own word, and
 * PlaidMaxInFlight (call.c) and the gauge sum the words: the server's
 * calls in flight, whatever child they are in. A word is zeroed when its
 * child exits, however it exits (child_exited, in the parent), and when a
 * new child takes it: a child killed during a call (a crash, a hard
 * restart) leaves nothing behind. */
typedef struct {
    apr_uint32_t pid;          /* 0: free */
    apr_uint32_t calls;
} child_calls;

/* PlaidMaxInFlight's refusals since its last warning, and when that was
 * (seconds, 0 never): one warning a minute for the whole server, not one
 * per child (prefork has hundreds). */
typedef struct {
    apr_uint32_t refused;
    apr_uint32_t warned_at;
    /* At least the calls in flight in the server: raised before a child's
     * word, lowered after it, and never lowered for a child that died (its
     * word is zeroed, this is not), so it can only be too high. Below the
     * cap, no call needs the sum of every child's word. */
    apr_uint32_t calls_bound;
} refusals;

/* What outlives a generation, in the process pool; nothing in it points
 * into this module, which httpd unloads and loads again at a restart. */
typedef struct {
    apr_pool_t *pool;          /* the process pool */
    plaid_metrics *block;      /* shared */
    refusals *refusals;        /* shared */
    child_calls *children;     /* shared, n_children of them */
    int n_children;
    apr_hash_t *numbers;       /* "vhost\nlocation\nhandler" -> int */
    int n;                     /* endpoints numbered, "other" included */
    plaid_metrics_labels labels[PLAID_METRICS_ENDPOINTS];
} metrics_store;

static metrics_store *store;

/* This generation's (server, endpoint) -> number, made in the parent at
 * start-up and only read after. */
static apr_hash_t *numbered;

/* This child's word of calls in flight; when it found none free, a word
 * of its own memory, so that its calls still count in this child. */
static child_calls *mine;
static child_calls unshared;

struct endpoint_key {
    const server_rec *s;
    const plaid_endpoint *e;
};

const plaid_endpoint *plaid_counted_endpoint(cmd_parms *cmd,
                                             const plaid_handler *h)
{
    plaid_endpoint *e = apr_palloc(cmd->pool, sizeof(*e));

    e->handler = h;
    e->location = cmd->path ? apr_pstrdup(cmd->pool, cmd->path) : "(server)";
    return e;
}

/* The block, the refusals and the children's words: twice ServerLimit of
 * them, since the processes of an old generation that lost their slot
 * (event, worker) still finish their calls beside a full new one. */
static apr_status_t make_store(apr_pool_t *pproc, apr_size_t *size)
{
    metrics_store *st = apr_pcalloc(pproc, sizeof(*st));
    int limit = 0;
    apr_shm_t *shm;
    apr_status_t rv;
    char *base;

    ap_mpm_query(AP_MPMQ_HARD_LIMIT_DAEMONS, &limit);
    st->n_children = 2 * (limit > 16 ? limit : 16);
    *size = sizeof(plaid_metrics) + sizeof(refusals)
            + st->n_children * sizeof(child_calls);
    /* Anonymous: inherited by every child, and nothing on disk to remove
     * (or to be removed by a process that exits after a fork). */
    if ((rv = apr_shm_create(&shm, *size, NULL, pproc)) != APR_SUCCESS) {
        return rv;
    }
    base = apr_shm_baseaddr_get(shm);
    memset(base, 0, *size);
    st->pool = pproc;
    st->block = (plaid_metrics *)base;
    st->refusals = (refusals *)(base + sizeof(plaid_metrics));
    st->children = (child_calls *)(base + sizeof(plaid_metrics)
                                   + sizeof(refusals));
    st->numbers = apr_hash_make(pproc);
    st->labels[0].vhost = st->labels[0].location = "other";
    st->labels[0].handler = "other";
    st->n = 1;
    apr_pool_userdata_set(st, STORE_KEY, apr_pool_cleanup_null, pproc);
    return APR_SUCCESS;
}

static apr_status_t forget_numbers(void *data)
{
    (void)data;
    numbered = NULL;
    return APR_SUCCESS;
}

int plaid_counters_post_config(apr_pool_t *pconf, server_rec *s)
{
    apr_pool_t *pproc = s->process->pool;
    apr_size_t size = 0;
    apr_status_t rv;
    void *kept = NULL;

    apr_pool_userdata_get(&kept, STORE_KEY, pproc);
    if (!kept) {
        if ((rv = make_store(pproc, &size)) != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_EMERG, rv, NULL,
                         PLLOGNO(0150) "cannot make the metrics' shared "
                         "memory (%" APR_SIZE_T_FMT " bytes)", size);
            return HTTP_INTERNAL_SERVER_ERROR;
        }
        apr_pool_userdata_get(&kept, STORE_KEY, pproc);
    }
    store = kept;
    numbered = apr_hash_make(pconf);
    apr_pool_cleanup_register(pconf, NULL, forget_numbers,
                              apr_pool_cleanup_null);
    return OK;
}

/* The number of (vhost, location, handler), given one the first time:
 * only then does the process pool grow, so that restarts do not. */
static int *number_for(apr_pool_t *pconf, const char *vhost,
                       const plaid_endpoint *e)
{
    apr_pool_t *pproc = store->pool;
    const char *name = apr_pstrcat(pconf, vhost, "\n", e->location, "\n",
                                   e->handler->name, NULL);
    plaid_metrics_labels *l;
    int *n = apr_hash_get(store->numbers, name, APR_HASH_KEY_STRING);

    if (n) {
        return n;
    }
    n = apr_palloc(pproc, sizeof(*n));
    *n = 0;
    if (store->n < PLAID_METRICS_ENDPOINTS) {
        *n = store->n;
        l = &store->labels[store->n++];
        l->vhost = apr_pstrdup(pproc, vhost);
        l->location = apr_pstrdup(pproc, e->location);
        l->handler = apr_pstrdup(pproc, e->handler->name);
    }
    apr_hash_set(store->numbers, apr_pstrdup(pproc, name),
                 APR_HASH_KEY_STRING, n);
    return n;
}

void plaid_counters_note(apr_pool_t *pconf, server_rec *s,
                         const plaid_conf *c)
{
    struct endpoint_key k, *kp;

    if (!store || !numbered || !c || !c->handler.endpoint
        || c->handler.endpoint->handler->uncounted) {
        return;
    }
    memset(&k, 0, sizeof(k));
    k.s = s;
    k.e = c->handler.endpoint;
    if (apr_hash_get(numbered, &k, sizeof(k))) {
        return;
    }
    kp = apr_pmemdup(pconf, &k, sizeof(k));
    apr_hash_set(numbered, kp, sizeof(*kp),
                 number_for(pconf, plaid_vhost_name(pconf, s), c->handler.endpoint));
}

/* The endpoint r is an answer of, or 0. */
static int number_of(request_rec *r, const plaid_handler *h)
{
    const plaid_conf *c = ap_get_module_config(r->per_dir_config,
                                               &plaid_link_module);
    struct endpoint_key k;
    const int *n;

    if (!numbered || !c || !c->handler.endpoint || c->handler.endpoint->handler != h) {
        return 0;
    }
    memset(&k, 0, sizeof(k));
    k.s = r->server;
    k.e = c->handler.endpoint;
    n = apr_hash_get(numbered, &k, sizeof(k));
    return n ? *n : 0;
}

void plaid_count_answer(request_rec *r, int status)
{
    const plaid_handler *h = plaid_handler_named(r->handler);

    if (store && h && !h->uncounted) {
        plaid_metrics_count_answer(store->block, number_of(r, h), status);
    }
}

void plaid_count_call_end(request_rec *r, const plaid_result *res)
{
    (void)r;
    __atomic_fetch_sub(&(mine ? mine : &unshared)->calls, 1,
                       __ATOMIC_SEQ_CST);
    if (store) {
        __atomic_fetch_sub(&store->refusals->calls_bound, 1,
                           __ATOMIC_SEQ_CST);
        plaid_metrics_count_call(store->block, res);
    }
}

void plaid_count_rate_limited(request_rec *r)
{
    (void)r;
    if (store) {
        plaid_metrics_add(&store->block->rate_limited, 1);
    }
}

void plaid_count_circuit_refused(request_rec *r)
{
    (void)r;
    if (store) {
        plaid_metrics_add(&store->block->circuit_refused, 1);
    }
}

/* ------------------------------------------------------------------ */
/* Each child's calls in flight, and PlaidMaxInFlight on their sum. */

/* Whether process pid is gone. Only a process that is no more: a child of
 * an old generation that lost its scoreboard slot still finishes its
 * calls, and a pid some other user's process took is left alone. */
static int gone(apr_uint32_t pid)
{
    return kill((pid_t)pid, 0) != 0 && errno == ESRCH;
}

static apr_status_t release_word(void *data)
{
    child_calls *c = data;

    __atomic_store_n(&c->calls, 0, __ATOMIC_SEQ_CST);
    __atomic_store_n(&c->pid, 0, __ATOMIC_RELEASE);
    mine = NULL;
    return APR_SUCCESS;
}

/* A free word, else one of a child that is gone (its exit was not seen);
 * the compare-and-swap on its pid makes it this child's alone. A child
 * that finds none (more live children than twice ServerLimit) counts its
 * calls in its own memory: PlaidMaxInFlight then holds in it alone. */
static void child_init(apr_pool_t *pchild, server_rec *s)
{
    apr_uint32_t me = (apr_uint32_t)getpid(), pid;
    int i, pass;

    (void)s;
    mine = NULL;
    __atomic_store_n(&unshared.calls, 0, __ATOMIC_SEQ_CST);
    for (pass = 0; store && pass < 2 && !mine; pass++) {
        for (i = 0; i < store->n_children && !mine; i++) {
            child_calls *c = &store->children[i];

            pid = __atomic_load_n(&c->pid, __ATOMIC_ACQUIRE);
            if ((pass == 0 ? pid == 0 || pid == me : gone(pid))
                && __atomic_compare_exchange_n(&c->pid, &pid, me, 0,
                                               __ATOMIC_ACQ_REL,
                                               __ATOMIC_RELAXED)) {
                __atomic_store_n(&c->calls, 0, __ATOMIC_SEQ_CST);
                mine = c;
            }
        }
    }
    if (mine) {
        apr_pool_cleanup_register(pchild, mine, release_word,
                                  apr_pool_cleanup_null);
    }
}

/* In the parent, for every child that exits, whatever the way (a crash,
 * kill -9, a hard restart, MaxConnectionsPerChild): its word is free
 * again and its calls no longer count. The pid makes sure the word is
 * still that child's. */
static void child_exited(server_rec *s, pid_t pid, ap_generation_t gen,
                         int slot, mpm_child_status state)
{
    apr_uint32_t was;
    int i;

    (void)s;
    (void)gen;
    (void)slot;
    if (state != MPM_CHILD_EXITED || !store || pid <= 0) {
        return;
    }
    for (i = 0; i < store->n_children; i++) {
        child_calls *c = &store->children[i];

        was = (apr_uint32_t)pid;
        if (__atomic_load_n(&c->pid, __ATOMIC_ACQUIRE) == was) {
            __atomic_store_n(&c->calls, 0, __ATOMIC_SEQ_CST);
            __atomic_compare_exchange_n(&c->pid, &was, 0, 0,
                                        __ATOMIC_ACQ_REL, __ATOMIC_RELAXED);
        }
    }
}

/* A word's calls; a count below zero (a thread of a child that outlived
 * its word) is none. */
static apr_uint32_t calls_of(child_calls *c)
{
    apr_int32_t n = (apr_int32_t)__atomic_load_n(&c->calls,
                                                 __ATOMIC_SEQ_CST);

    return n > 0 ? (apr_uint32_t)n : 0;
}

/* The server's calls in flight: every taken word, this child's own
 * memory if it has no word. */
static apr_uint32_t calls_in_flight(void)
{
    apr_uint32_t sum = mine ? 0 : calls_of(&unshared);
    int i;

    for (i = 0; store && i < store->n_children; i++) {
        if (__atomic_load_n(&store->children[i].pid, __ATOMIC_ACQUIRE)) {
            sum += calls_of(&store->children[i]);
        }
    }
    return sum;
}

/* Count first, then sum: of two children that begin a call at the same
 * time, the later to count sees both (sequentially consistent), so the
 * sum never passes max; at the edge both may be refused. */
int plaid_count_call_begin(request_rec *r, apr_uint32_t max)
{
    child_calls *c = mine ? mine : &unshared;

    apr_uint32_t *bound = store ? &store->refusals->calls_bound : NULL;

    (void)r;
    if (bound && __atomic_add_fetch(bound, 1, __ATOMIC_SEQ_CST) <= max) {
        __atomic_fetch_add(&c->calls, 1, __ATOMIC_SEQ_CST);
        return 1;
    }
    __atomic_fetch_add(&c->calls, 1, __ATOMIC_SEQ_CST);
    if (calls_in_flight() > max) {
        __atomic_fetch_sub(&c->calls, 1, __ATOMIC_SEQ_CST);
        if (bound) {
            __atomic_fetch_sub(bound, 1, __ATOMIC_SEQ_CST);
        }
        return 0;
    }
    return 1;
}

apr_uint32_t plaid_count_refused(apr_uint32_t now, apr_uint32_t *last)
{
    static refusals alone;     /* no shared memory: this child's own */
    refusals *f = store ? store->refusals : &alone;
    apr_uint32_t was = __atomic_load_n(&f->warned_at, __ATOMIC_ACQUIRE);

    __atomic_fetch_add(&f->refused, 1, __ATOMIC_SEQ_CST);
    *last = was;
    if ((was && (apr_int32_t)(now - was) < 60)
        || !__atomic_compare_exchange_n(&f->warned_at, &was, now, 0,
                                        __ATOMIC_ACQ_REL,
                                        __ATOMIC_RELAXED)) {
        return 0;
    }
    return __atomic_exchange_n(&f->refused, 0, __ATOMIC_SEQ_CST);
}

apr_uint64_t plaid_counters_in_flight(apr_pool_t *p)
{
    (void)p;
    return calls_in_flight();
}

/* ------------------------------------------------------------------ */
/* What status.c reads, and SetHandler plaid-metrics. */

const plaid_metrics *plaid_counters_block(void)
{
    return store ? store->block : NULL;
}

const plaid_metrics_labels *plaid_counters_endpoints(int *n)
{
    *n = store ? store->n : 0;
    return store ? store->labels : NULL;
}

/* GET only; no Plaid call, no browser checks, no credentials needed. The
 * counts are the whole server's, every vhost's: only a SetHandler in
 * httpd's own files makes the URL, never an .htaccess file. */
int plaid_serve_metrics(request_rec *r, plaid_request *req)
{
    const plaid_conf *c = req->conf;
    apr_size_t len = 0;
    const char *text;

    if (r->method_number != M_GET) {
        ap_allow_methods(r, REPLACE_ALLOW, "GET", NULL);
        return HTTP_METHOD_NOT_ALLOWED;
    }
    if (!c || !c->handler.endpoint || c->handler.endpoint->handler != req->handler) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, PLLOGNO(0151)
                      "metrics request refused: vhost=%s location=%s "
                      "status=500: the handler was set by %s, not by a "
                      "SetHandler in httpd's own configuration files",
                      plaid_vhost_name(r->pool, r->server),
                      plaid_location_of(r),
                      c && c->handler.htaccess
                      ? ap_escape_logitem(r->pool, c->handler.htaccess)
                      : "AddHandler, a RewriteRule or another module");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if (!store) {
        return HTTP_SERVICE_UNAVAILABLE;
    }
    text = plaid_metrics_text(r->pool, store->block, store->labels,
                              store->n, plaid_counters_in_flight(r->pool),
                              &len);
    /* Not counted: the row says so (the scrapes are no Plaid traffic). */
    return plaid_answer_typed(r, HTTP_OK,
                              "text/plain; version=0.0.4; charset=utf-8",
                              text, len);
}

void plaid_counters_register(apr_pool_t *p)
{
    ap_hook_child_init(child_init, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_child_status(child_exited, NULL, NULL, APR_HOOK_MIDDLE);
    plaid_status_register(p);
}
