/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the error log says: the one line with everything about a failed
 * call (PL0100), and the names of the vhost and location lines carry.
 */
#include "glue.h"

const char *plaid_vhost_name(apr_pool_t *p, const server_rec *s)
{
    return apr_psprintf(p, "%s:%u", s->server_hostname ? s->server_hostname
                                                       : "*",
                        s->port ? s->port
                                : (s->addrs ? s->addrs->host_port : 0));
}

/* The path the browser called, which the handler's <Location> covers. A
 * section's config only exists where one of our directives was written,
 * so the config cannot say which <Location> set the handler. */
const char *plaid_location_of(request_rec *r)
{
    return ap_escape_logitem(r->pool, r->uri);
}

const char *plaid_where(request_rec *r, const plaid_request *req)
{
    return apr_pstrcat(r->pool, "vhost=", plaid_vhost_name(r->pool, r->server),
                       " location=", plaid_location_of(r), " id=", req->id,
                       NULL);
}

void plaid_log_failure(request_rec *r, const plaid_request *req,
                       int status, const plaid_result *res)
{
    apr_pool_t *p = r->pool;
    const plaid_conn_conf *c = &req->conf->conn;
    const char *hint = plaid_hint(res);

    ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, PLLOGNO(0100)
        "%s failed: %s status=%d "
        "plaid_http_status=%ld error_type=%s error_code=%s error_message=%s "
        "display_message=%s request_id=%s documentation_url=%s "
        "suggested_action=%s retry_after=%s curl_error=%s problem=%s "
        "elapsed_ms=%ld attempts=%d env=%s url=%s client_id=%s hint=%s",
        req->handler->what, plaid_where(r, req), status, res->http_status,
        plaid_log_quote(p, res->error_type, PLAID_LOG_FIELD_MAX),
        plaid_log_quote(p, res->error_code, PLAID_LOG_FIELD_MAX),
        plaid_log_quote(p, res->error_message, PLAID_LOG_FIELD_MAX),
        plaid_log_quote(p, res->display_message, PLAID_LOG_FIELD_MAX),
        plaid_log_quote(p, res->request_id, PLAID_LOG_FIELD_MAX),
        plaid_log_quote(p, res->documentation_url, PLAID_LOG_FIELD_MAX),
        plaid_log_quote(p, res->suggested_action, PLAID_LOG_FIELD_MAX),
        plaid_log_quote(p, res->retry_after, PLAID_LOG_FIELD_MAX),
        plaid_log_quote(p, res->curl_error, PLAID_LOG_FIELD_MAX),
        plaid_log_quote(p, res->problem, PLAID_LOG_FIELD_MAX),
        res->elapsed_ms, res->attempts, c->env ? c->env : "(PlaidBaseURL)",
        plaid_log_quote(p, res->url, PLAID_LOG_FIELD_MAX),
        plaid_mask(p, c->client_id),
        plaid_log_quote(p, hint, PLAID_LOG_FIELD_MAX));
}
