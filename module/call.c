/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The call to Plaid from a handler: the child's pool of curl handles, the
 * server's PlaidMaxInFlight budget, the call itself and what its failure
 * logs and answers.
 */
#include "ap_mpm.h"

#include "glue.h"

/* Each child keeps its own curl handles, made after the fork. */
static plaid_http *child_http;

/* PlaidMaxInFlight: the calls all the server's children together may have
 * in flight (metrics.c keeps the count, one word per child). */
static apr_uint32_t max_in_flight;

/* Each refusal has its info line (PL0110); the admin's warning comes at
 * most once a minute for the whole server, with the count: a flood of
 * requests must not become a flood of warnings, nor prefork's hundreds of
 * children a warning each. */
static void warn_refusals(request_rec *r)
{
    apr_uint32_t last = 0;
    apr_uint32_t n = plaid_count_refused(
        (apr_uint32_t)apr_time_sec(r->request_time), &last);

    if (!n) {
        return;
    }
    ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, PLLOGNO(0116)
                  "PlaidMaxInFlight (%u) refused %u requests %s: Plaid is "
                  "slow, or the limit is low for the load", max_in_flight, n,
                  last ? "in the last minute" : "since httpd started");
}

/* A quarter of MaxRequestWorkers (the MPM's processes times their
 * threads; prefork's processes), at least 1: a slow Plaid then holds at
 * most a quarter of the server's workers, in whatever children they are,
 * and the rest of the site keeps three quarters. */
static apr_uint32_t default_max_in_flight(void)
{
    int daemons = 0, threads = 1;

    ap_mpm_query(AP_MPMQ_MAX_DAEMONS, &daemons);
    if (ap_mpm_query(AP_MPMQ_MAX_THREADS, &threads) != APR_SUCCESS
        || threads < 1) {
        threads = 1;
    }
    return daemons * threads >= 8 ? (apr_uint32_t)(daemons * threads / 4)
                                  : 1;
}

void plaid_child_init(apr_pool_t *pchild, server_rec *s)
{
    plaid_server_conf *sc = ap_get_module_config(s->module_config,
                                                 &plaid_link_module);

    max_in_flight = sc->max_in_flight > 0 ? (apr_uint32_t)sc->max_in_flight
                                          : default_max_in_flight();
    plaid_cache_child_init(pchild, s);
    if (plaid_http_create(pchild, &child_http) != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, PLLOGNO(0003)
                     "cannot set up the curl handle pool");
        child_http = NULL;
    }
}

/* POST within the server's budget; 0 when it is spent (no call made).
 * The gateway's bodies carry access_tokens: their trace line says only
 * the length. */
static int post(request_rec *r, const plaid_request *req,
                const plaid_call *call, plaid_response *resp,
                plaid_result *res, json_t **answer)
{
    if (!plaid_count_call_begin(r, max_in_flight)) {
        return 0;
    }
    if (!req->handler->log_body || req->body_secret) {
        ap_log_rerror(APLOG_MARK, APLOG_TRACE1, 0, r, PLLOGNO(0102)
                      "POST %s%s body=(%" APR_SIZE_T_FMT " bytes, not "
                      "logged)", call->base_url, call->path, call->body_len);
    }
    else {
        ap_log_rerror(APLOG_MARK, APLOG_TRACE1, 0, r, PLLOGNO(0102)
                      "POST %s%s body=%s", call->base_url, call->path,
                      call->body);
    }
    plaid_http_post(child_http, r->pool, call, resp);
    *answer = plaid_result_from(r->pool, resp, res);
    plaid_count_call_end(r, res);
    return 1;
}

int plaid_call_raw(request_rec *r, const plaid_request *req,
                   const char *path, const char *body, apr_size_t body_len,
                   int no_resend, plaid_response *resp, plaid_result *res,
                   json_t **answer)
{
    const plaid_handler *h = req->handler;
    plaid_call call;
    long wait_s;

    memset(res, 0, sizeof(*res));
    memset(resp, 0, sizeof(*resp));
    *answer = NULL;
    if (!child_http) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, PLLOGNO(0103)
                      "%s refused: %s: the curl "
                      "handle pool is not set for this URL", h->what,
                      plaid_where(r, req));
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    call = req->conn;
    call.path = path;
    call.body = body;
    call.body_len = body_len;
    call.no_resend = no_resend;
    if (!body) {
        res->outcome = PLAID_FAIL_UNUSABLE;
        res->problem = "the request body could not be built";
        return DONE;
    }
    if ((wait_s = plaid_breaker_admit(r, req)) > 0) {
        apr_table_setn(r->headers_out, "Retry-After",
                       apr_ltoa(r->pool, wait_s));
        return HTTP_SERVICE_UNAVAILABLE;
    }
    if (!post(r, req, &call, resp, res, answer)) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, PLLOGNO(0110)
                      "%s refused: %s status=503: "
                      "PlaidMaxInFlight: %u calls to Plaid are already in "
                      "flight in this server; Plaid was not called", h->what,
                      plaid_where(r, req), max_in_flight);
        warn_refusals(r);
        apr_table_setn(r->headers_out, "Retry-After", "1");
        return HTTP_SERVICE_UNAVAILABLE;
    }
    plaid_breaker_record(r, req, res);
    return resp->outcome == PLAID_OK ? OK : DONE;
}

int plaid_call_quietly(request_rec *r, const plaid_request *req,
                       const char *path, const char *body,
                       apr_size_t body_len, plaid_read_fn *read, void *out,
                       plaid_result *res)
{
    plaid_response resp;
    json_t *answer;
    int status = plaid_call_raw(r, req, path, body, body_len, 0, &resp, res,
                                &answer);

    if (status != OK && status != DONE) {
        return status;
    }
    if (answer && read) {
        read(r->pool, answer, res, out);
    }
    json_decref(answer);
    return res->outcome == PLAID_OK ? OK : DONE;
}

int plaid_call_failed(request_rec *r, const plaid_request *req,
                      const plaid_result *res)
{
    int status = plaid_browser_status(res->outcome);
    long wait_s = plaid_retry_after_s(res->retry_after);

    plaid_log_failure(r, req, status, res);
    if (status == HTTP_SERVICE_UNAVAILABLE && wait_s > 0) {
        apr_table_setn(r->headers_out, "Retry-After",
                       apr_ltoa(r->pool, wait_s));
    }
    return status;
}

int plaid_call_endpoint(request_rec *r, const plaid_request *req,
                        const char *path, const char *body,
                        apr_size_t body_len,
                        plaid_read_fn *read, void *out, plaid_result *res)
{
    int status = plaid_call_quietly(r, req, path, body, body_len, read, out,
                                    res);

    return status == DONE ? plaid_call_failed(r, req, res) : status;
}
