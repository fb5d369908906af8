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
 * is not applied (fail open), with one log line a minute per child.
 */
#include <apr_atomic.h>
#include <apr_uri.h>

#include "mod_plaid_link.h"

/* A failure of the store, said at most once a minute per child. */
static apr_uint32_t store_warned_at;

static void store_failed(request_rec *r, const char *what)
{
    apr_uint32_t now = (apr_uint32_t)apr_time_sec(r->request_time);
    apr_uint32_t last = apr_atomic_read32(&store_warned_at);

    if ((last && now - last < 60)
        || apr_atomic_cas32(&store_warned_at, now, last) != last) {
        return;
    }
    ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, PLLOGNO(0132)
                  "PlaidCache unreachable: %s not applied (said once a "
                  "minute per child)", what);
}

/* Count one request in window key of the given length; returns the
 * seconds to wait when the count was already limit, 0 when it is
 * counted, -1 when the store failed. */
static long count_in_window(request_rec *r, const char *key, int limit,
                            int seconds)
{
    apr_int64_t now = apr_time_sec(apr_time_now());
    apr_int64_t window = now / seconds;
    const char *ck = apr_psprintf(r->pool, "%s:%" APR_INT64_T_FMT, key,
                                  window);
    apr_uint32_t count = 0;
    unsigned int len = sizeof(count);
    apr_status_t rv;
    long wait = 0;

    if (!plaid_cache_ready() || plaid_cache_lock() != APR_SUCCESS) {
        return -1;
    }
    rv = plaid_cache_get(r, ck, (unsigned char *)&count, &len);
    if (rv == APR_NOTFOUND || (rv == APR_SUCCESS && len != sizeof(count))) {
        count = 0;
        rv = APR_SUCCESS;
    }
    if (rv == APR_SUCCESS) {
        if (count >= (apr_uint32_t)limit) {
            wait = (long)((window + 1) * seconds - now);
        }
        else {
            count++;
            rv = plaid_cache_put(r, ck, apr_time_from_sec((window + 1)
                                                          * seconds + 1),
                                 &count, sizeof(count));
        }
    }
    plaid_cache_unlock();
    return rv == APR_SUCCESS ? wait : -1;
}

int plaid_limits_check(request_rec *r, const plaid_request *req)
{
    const plaid_limits_conf *c = &req->conf->limits;
    const char *scope = c->scope ? c->scope : "/";
    const char *what = NULL, *key;
    long wait = 0;

    if (c->user_count > 0) {
        key = apr_pstrcat(r->pool, "plaid-rl:u:", scope, ":", req->user,
                          NULL);
        wait = count_in_window(r, key, c->user_count, c->user_seconds);
        what = "PlaidRateLimit";
    }
    if (wait == 0 && c->total_count > 0) {
        key = apr_pstrcat(r->pool, "plaid-rl:t:", req->conf->conn.client_id,
                          NULL);
        wait = count_in_window(r, key, c->total_count, c->total_seconds);
        what = "PlaidRateLimitTotal";
    }
    if (wait < 0) {
        store_failed(r, what);
        return OK;
    }
    if (wait == 0) {
        return OK;
    }
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, PLLOGNO(0130)
                  "%s refused: vhost=%s location=%s id=%s status=429: %s "
                  "reached; Plaid was not called", req->handler->what,
                  plaid_vhost_name(r->pool, r->server), plaid_location_of(r),
                  req->id, what);
    plaid_metrics_rate_limited(r);
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

static const char *breaker_key(request_rec *r, const plaid_conn_conf *c)
{
    apr_uri_t uri;
    const char *base = c->base_url ? c->base_url : c->env_url;

    if (apr_uri_parse(r->pool, base, &uri) == APR_SUCCESS && uri.hostinfo) {
        return apr_pstrcat(r->pool, "plaid-cb:", uri.scheme, "://",
                           uri.hostinfo, NULL);
    }
    return apr_pstrcat(r->pool, "plaid-cb:", base, NULL);
}

static int read_state(request_rec *r, const char *key, breaker_state *st)
{
    unsigned int len = sizeof(*st);
    apr_status_t rv = plaid_cache_get(r, key, (unsigned char *)st, &len);

    if (rv == APR_NOTFOUND || (rv == APR_SUCCESS && len != sizeof(*st))) {
        memset(st, 0, sizeof(*st));
        return 1;
    }
    return rv == APR_SUCCESS;
}

static void write_state(request_rec *r, const char *key,
                        breaker_state *st)
{
    plaid_cache_put(r, key, apr_time_now() + apr_time_from_sec(86400), st,
                    sizeof(*st));
}

long plaid_breaker_admit(request_rec *r, const plaid_request *req)
{
    const plaid_limits_conf *c = &req->conf->limits;
    const char *key;
    apr_int64_t now = apr_time_sec(apr_time_now());
    breaker_state st;
    long wait = 0;

    if (c->breaker_failures <= 0 || !plaid_cache_ready()) {
        return 0;
    }
    key = breaker_key(r, &req->conf->conn);
    if (plaid_cache_lock() != APR_SUCCESS) {
        return 0;
    }
    if (read_state(r, key, &st) && st.open) {
        long probe_ttl = (req->conf->conn.total_ms > 0
                          ? req->conf->conn.total_ms
                          : PLAID_TOTAL_TIMEOUT_MS_DEFAULT) / 1000 + 1;

        if (now < st.until) {
            wait = (long)(st.until - now);
        }
        else if (st.probe_at && now - st.probe_at < probe_ttl) {
            /* One call is on its way: the others wait for it. */
            wait = 1;
        }
        else {
            st.probe_at = now;
            write_state(r, key, &st);
        }
    }
    plaid_cache_unlock();
    if (wait) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, PLLOGNO(0133)
                      "%s refused: vhost=%s location=%s id=%s status=503: "
                      "the circuit breaker for %s is open; Plaid was not "
                      "called", req->handler->what,
                      plaid_vhost_name(r->pool, r->server),
                      plaid_location_of(r), req->id, key + 9);
        plaid_metrics_circuit_refused(r);
    }
    return wait;
}

void plaid_breaker_record(request_rec *r, const plaid_request *req,
                          const plaid_result *res)
{
    const plaid_limits_conf *c = &req->conf->limits;
    int failed = res->outcome == PLAID_FAIL_UNREACHABLE
              || res->outcome == PLAID_FAIL_TIMEOUT
              || res->http_status >= 500;
    const char *key;
    breaker_state st;
    int opened = 0, closed = 0;

    if (c->breaker_failures <= 0 || !plaid_cache_ready() || !res->attempts) {
        return;
    }
    key = breaker_key(r, &req->conf->conn);
    if (plaid_cache_lock() != APR_SUCCESS) {
        return;
    }
    if (read_state(r, key, &st)) {
        if (!failed) {
            closed = st.open;
            if (st.failures || st.open) {
                memset(&st, 0, sizeof(st));
                write_state(r, key, &st);
            }
        }
        else {
            st.failures++;
            if (st.open || st.failures >= (apr_uint32_t)c->breaker_failures) {
                opened = !st.open;
                st.open = 1;
                st.until = apr_time_sec(apr_time_now())
                         + c->breaker_seconds;
                st.probe_at = 0;
            }
            write_state(r, key, &st);
        }
    }
    plaid_cache_unlock();
    if (opened) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, PLLOGNO(0134)
                      "circuit breaker opened for %s after %u failures in a "
                      "row: calls refused for %d s; the last: "
                      "plaid_http_status=%ld curl_error=%s error_code=%s",
                      key + 9, st.failures, c->breaker_seconds,
                      res->http_status,
                      plaid_log_quote(r->pool, res->curl_error, 200),
                      plaid_log_quote(r->pool, res->error_code, 64));
    }
    if (closed) {
        ap_log_rerror(APLOG_MARK, APLOG_NOTICE, 0, r, PLLOGNO(0135)
                      "circuit breaker closed for %s: a call succeeded",
                      key + 9);
    }
}
