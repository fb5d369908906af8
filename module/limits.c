/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Limits that hold across children, and across servers sharing a redis or
 * memcache PlaidCache: per user and per client id request windows
 * (PlaidRateLimit, PlaidRateLimitTotal), and a circuit breaker per Plaid
 * host (PlaidCircuitBreaker), so that a Plaid that is down is not called
 * by every child in turn.
 *
 * mod_socache has no atomic increment: a count is read and written back
 * under the server's global mutex, which makes it exact among the
 * children of one server. Between servers a read and a write can cross,
 * so each can count only its own requests in the worst case: at most
 * COUNT per server and window (docs/directives.md says so).
 *
 * The store unreachable never becomes an error for the browser: the limit
 * is not applied (fail open). Each child says so (PL0132) for each of
 * the three when a new outage begins, then at most once a minute while
 * it lasts; cache.c says when the store is back (PL0137) and when a key
 * is refused (PL0136). Keys hash the parts that can be long (location,
 * user, client id, Plaid host), so that every store takes them.
 */
#include <apr_atomic.h>
#include <apr_uri.h>

#include "glue.h"

typedef enum {
    LIMIT_USER,
    LIMIT_TOTAL,
    LIMIT_BREAKER,
    LIMIT_KINDS
} limit_kind;

static const char *const limit_name[LIMIT_KINDS] = {
    "PlaidRateLimit", "PlaidRateLimitTotal", "PlaidCircuitBreaker"
};

/* When this child last said that each could not be applied, and the
 * server's count of ended outages then (cache.c). */
static apr_uint32_t said_at[LIMIT_KINDS];
static apr_uint32_t said_in[LIMIT_KINDS];

/* The store failed for kind: said at the first failure of an outage (a
 * line said in an earlier outage, or for another limit, hides nothing),
 * then once a minute. A refused key was said by cache.c as what it is. */
static void store_failed(request_rec *r, limit_kind kind, apr_status_t rv)
{
    apr_uint32_t now = (apr_uint32_t)apr_time_sec(apr_time_now());
    apr_uint32_t outage = plaid_cache_recoveries();
    apr_uint32_t last = apr_atomic_read32(&said_at[kind]);

    if (rv == APR_EINVAL) {
        return;
    }
    if (last && apr_atomic_read32(&said_in[kind]) == outage
        && now - last < 60) {
        return;
    }
    if (apr_atomic_cas32(&said_at[kind], now ? now : 1, last) != last) {
        return;
    }
    apr_atomic_set32(&said_in[kind], outage);
    ap_log_rerror(APLOG_MARK, APLOG_WARNING, rv, r, PLLOGNO(0132)
                  "PlaidCache unreachable: %s not applied (said when the "
                  "store starts failing and once a minute while it does, "
                  "per child)", limit_name[kind]);
}

/* Count one request in the window of key; *wait: the seconds to wait
 * when the count was already limit, 0 when it is counted. */
static apr_status_t count_in_window(request_rec *r, const char *key,
                                    int limit, int seconds, long *wait)
{
    apr_int64_t now = apr_time_sec(apr_time_now());
    apr_int64_t window = now / seconds;
    const char *ck = apr_psprintf(r->pool, "%s:%" APR_INT64_T_FMT, key,
                                  window);
    apr_uint32_t count = 0;
    unsigned int len = sizeof(count);
    apr_status_t rv;

    *wait = 0;
    if (!plaid_cache_ready()) {
        return APR_EGENERAL;
    }
    if ((rv = plaid_cache_lock()) != APR_SUCCESS) {
        return rv;
    }
    rv = plaid_cache_get(r, ck, (unsigned char *)&count, &len);
    if (rv == APR_NOTFOUND || (rv == APR_SUCCESS && len != sizeof(count))) {
        count = 0;
        rv = APR_SUCCESS;
    }
    if (rv == APR_SUCCESS) {
        if (count >= (apr_uint32_t)limit) {
            *wait = (long)((window + 1) * seconds - now);
        }
        else {
            count++;
            rv = plaid_cache_put(r, ck, apr_time_from_sec((window + 1)
                                                          * seconds + 1),
                                 &count, sizeof(count));
        }
    }
    plaid_cache_unlock();
    return rv;
}

int plaid_limits_check(request_rec *r, const plaid_request *req)
{
    const plaid_limits_conf *c = &req->conf->limits;
    const char *scope = c->scope ? c->scope : "/";
    limit_kind kind = LIMIT_USER;
    apr_status_t rv = APR_SUCCESS;
    const char *key;
    long wait = 0;

    if (c->user_count > 0) {
        key = plaid_cache_key(r->pool, "plaid-rl:u:", scope,
                              req->user);
        rv = count_in_window(r, key, c->user_count, c->user_seconds, &wait);
    }
    if (rv == APR_SUCCESS && wait == 0 && c->total_count > 0) {
        kind = LIMIT_TOTAL;
        key = plaid_cache_key(r->pool, "plaid-rl:t:",
                              req->conf->conn.client_id, "");
        rv = count_in_window(r, key, c->total_count, c->total_seconds,
                             &wait);
    }
    if (rv != APR_SUCCESS) {
        store_failed(r, kind, rv);
        return OK;
    }
    if (wait == 0) {
        return OK;
    }
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, PLLOGNO(0130)
                  "%s refused: %s status=429: %s "
                  "reached; Plaid was not called", req->handler->what,
                  plaid_where(r, req), limit_name[kind]);
    plaid_count_rate_limited(r);
    apr_table_setn(r->headers_out, "Retry-After", apr_ltoa(r->pool, wait));
    plaid_answer_error(r, HTTP_TOO_MANY_REQUESTS, "Too many requests",
                       req->id);
    return DONE;
}

/* ------------------------------------------------------------------ */
/* The circuit breaker, per Plaid host, shared through PlaidCache. */

typedef struct {
    apr_uint32_t failures;     /* in a row */
    apr_uint32_t open;         /* 1 while refusing */
    apr_int64_t until;         /* open: refuse until then (seconds) */
    apr_int64_t probe_at;      /* half-open: when the probe was let go */
} breaker_state;

/* The Plaid host a breaker is for (scheme://host:port), as logged, and
 * its key in the store. */
typedef struct {
    const char *host;
    const char *key;
} breaker_id;

static breaker_id breaker_of(request_rec *r, const plaid_request *req)
{
    apr_uri_t uri;
    const char *base = req->conn.base_url;
    breaker_id b;

    b.host = base;
    if (apr_uri_parse(r->pool, base, &uri) == APR_SUCCESS && uri.hostinfo) {
        b.host = apr_pstrcat(r->pool, uri.scheme, "://", uri.hostinfo,
                             NULL);
    }
    b.key = plaid_cache_key(r->pool, "plaid-cb:", b.host, "");
    return b;
}

static apr_status_t read_state(request_rec *r, const char *key,
                               breaker_state *st)
{
    unsigned int len = sizeof(*st);
    apr_status_t rv = plaid_cache_get(r, key, (unsigned char *)st, &len);

    if (rv == APR_NOTFOUND || (rv == APR_SUCCESS && len != sizeof(*st))) {
        memset(st, 0, sizeof(*st));
        return APR_SUCCESS;
    }
    return rv;
}

static apr_status_t write_state(request_rec *r, const char *key,
                                breaker_state *st)
{
    return plaid_cache_put(r, key, apr_time_now()
                                   + apr_time_from_sec(86400), st,
                           sizeof(*st));
}

/* The open breaker's wait for this call, 0 to let it go (it may be the
 * probe, which is written down so that the others wait for it). */
static apr_status_t breaker_wait(request_rec *r, const plaid_request *req,
                                 const char *key, long *wait)
{
    apr_int64_t now = apr_time_sec(apr_time_now());
    long probe_ttl = req->conn.total_timeout_ms / 1000 + 1;
    breaker_state st;
    apr_status_t rv = read_state(r, key, &st);

    *wait = 0;
    if (rv != APR_SUCCESS || !st.open) {
        return rv;
    }
    if (now < st.until) {
        *wait = (long)(st.until - now);
    }
    else if (st.probe_at && now - st.probe_at < probe_ttl) {
        /* One call is on its way: the others wait for it. */
        *wait = 1;
    }
    else {
        st.probe_at = now;
        rv = write_state(r, key, &st);
    }
    return rv;
}

long plaid_breaker_admit(request_rec *r, const plaid_request *req)
{
    const plaid_limits_conf *c = &req->conf->limits;
    breaker_id b;
    apr_status_t rv;
    long wait = 0;

    if (c->breaker_failures <= 0 || !plaid_cache_ready()) {
        return 0;
    }
    b = breaker_of(r, req);
    if ((rv = plaid_cache_lock()) == APR_SUCCESS) {
        rv = breaker_wait(r, req, b.key, &wait);
        plaid_cache_unlock();
    }
    if (rv != APR_SUCCESS) {
        store_failed(r, LIMIT_BREAKER, rv);
    }
    if (wait) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, PLLOGNO(0133)
                      "%s refused: %s status=503: "
                      "the circuit breaker for %s is open; Plaid was not "
                      "called", req->handler->what,
                      plaid_where(r, req), b.host);
        plaid_count_circuit_refused(r);
    }
    return wait;
}

/* Count the call's outcome in st; *opened, *closed: it changed. */
static apr_status_t breaker_count(request_rec *r,
                                  const plaid_limits_conf *c,
                                  const char *key, int failed,
                                  breaker_state *st, int *opened,
                                  int *closed)
{
    apr_status_t rv = read_state(r, key, st);

    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (!failed) {
        *closed = st->open;
        if (st->failures || st->open) {
            memset(st, 0, sizeof(*st));
            rv = write_state(r, key, st);
        }
        return rv;
    }
    st->failures++;
    if (st->open || st->failures >= (apr_uint32_t)c->breaker_failures) {
        *opened = !st->open;
        st->open = 1;
        st->until = apr_time_sec(apr_time_now()) + c->breaker_seconds;
        st->probe_at = 0;
    }
    return write_state(r, key, st);
}

void plaid_breaker_record(request_rec *r, const plaid_request *req,
                          const plaid_result *res)
{
    const plaid_limits_conf *c = &req->conf->limits;
    int failed = res->outcome == PLAID_FAIL_UNREACHABLE
              || res->outcome == PLAID_FAIL_TIMEOUT
              || res->http_status >= 500;
    breaker_id b;
    breaker_state st;
    apr_status_t rv;
    int opened = 0, closed = 0;

    if (c->breaker_failures <= 0 || !plaid_cache_ready() || !res->attempts) {
        return;
    }
    b = breaker_of(r, req);
    if ((rv = plaid_cache_lock()) == APR_SUCCESS) {
        rv = breaker_count(r, c, b.key, failed, &st, &opened, &closed);
        plaid_cache_unlock();
    }
    if (rv != APR_SUCCESS) {
        /* The outcome is lost: the breaker cannot open on it. */
        store_failed(r, LIMIT_BREAKER, rv);
        return;
    }
    if (opened) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, PLLOGNO(0134)
                      "circuit breaker opened for %s after %u failures in a "
                      "row: calls refused for %d s; the last: "
                      "plaid_http_status=%ld curl_error=%s error_code=%s",
                      b.host, st.failures, c->breaker_seconds,
                      res->http_status,
                      plaid_log_quote(r->pool, res->curl_error, 200),
                      plaid_log_quote(r->pool, res->error_code, 64));
    }
    if (closed) {
        ap_log_rerror(APLOG_MARK, APLOG_NOTICE, 0, r, PLLOGNO(0135)
                      "circuit breaker closed for %s: a call succeeded",
                      b.host);
    }
}
