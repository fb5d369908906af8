/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SetHandler plaid-api: a gateway for the site's own server-side code
 * (PHP on the same machine, typically). The caller POSTs
 * <location>/<Plaid path> with Plaid's JSON body and no credentials; the
 * module sends it to Plaid with the location's credentials over its kept
 * connections, and gives back Plaid's status and body unchanged, success
 * and PlaidError alike (the caller needs Plaid's error codes). Never to
 * browsers: loopback callers only, unless PlaidApiAllowFrom says more.
 * Plaid paths outside PlaidApiPaths: 404, no call; credentials in the
 * body or in PLAID-CLIENT-ID / PLAID-SECRET headers: 400, no call (their
 * values are never logged). A read is retried as any call is; a write
 * only when none of it was sent. The bodies carry access_tokens: they are
 * never logged.
 */
#include <apr_network_io.h>

#include "ap_listen.h"

#include "glue.h"

/* The caller's body, at most this: Plaid's requests are small. */
#define API_BODY_MAX (64 * 1024)

void plaid_api_check(apr_pool_t *p, server_rec *s, const char *path,
                     const plaid_conf *c)
{
    server_addr_rec *a;
    char *ip;

    if (c->api.allow) {
        return;
    }
    /* The main server answers on every Listen; a vhost on its addresses. */
    if (!s->is_virtual) {
        ap_listen_rec *lr;

        for (lr = ap_listeners; lr; lr = lr->next) {
            if (apr_sockaddr_ip_get(&ip, lr->bind_addr) != APR_SUCCESS
                || !plaid_is_loopback_ip(ip)) {
                ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_WARNING, 0,
                             NULL, PLLOGNO(0006) "SetHandler plaid-api at %s "
                             "is in the main server, which listens on %s: "
                             "only loopback callers are admitted; say so "
                             "with PlaidApiAllowFrom 127.0.0.1 ::1, or move "
                             "it to a loopback vhost",
                             path ? path : "(server)", ip ? ip : "?");
                return;
            }
        }
        return;
    }
    for (a = s->addrs; a; a = a->next) {
        if (apr_sockaddr_ip_get(&ip, a->host_addr) != APR_SUCCESS
            || !plaid_is_loopback_ip(ip)) {
            ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_WARNING, 0, NULL,
                         PLLOGNO(0006) "SetHandler plaid-api at %s is in a "
                         "vhost (%s) that listens on a public address "
                         "(%s): only loopback callers are admitted, say "
                         "so with PlaidApiAllowFrom 127.0.0.1 ::1, or move "
                         "it to a loopback vhost", path ? path : "(server)",
                         plaid_vhost_name(p, s), a->virthost);
            return;
        }
    }
}

/* Loopback, or PlaidApiAllowFrom. */
static int caller_allowed(request_rec *r, const plaid_api_conf *c)
{
    apr_sockaddr_t *peer = r->connection->client_addr;
    char *ip = NULL;
    int i;

    if (!c->allow) {
        return apr_sockaddr_ip_get(&ip, peer) == APR_SUCCESS
            && plaid_is_loopback_ip(ip);
    }
    for (i = 0; i < c->allow->nelts; i++) {
        if (apr_ipsubnet_test(APR_ARRAY_IDX(c->allow, i, apr_ipsubnet_t *),
                              peer)) {
            return 1;
        }
    }
    return 0;
}

/* The Plaid path the caller asked for, when the location allows it. */
static const char *plaid_path_of(request_rec *r, const plaid_api_conf *c)
{
    apr_size_t n = c->prefix ? strlen(c->prefix) : 0;
    const char *path;
    int i;

    if (!c->prefix || strncmp(r->uri, c->prefix, n) != 0) {
        return NULL;
    }
    path = r->uri + n;
    for (i = 0; c->paths && i < c->paths->nelts; i++) {
        if (strcmp(path, APR_ARRAY_IDX(c->paths, i, const char *)) == 0) {
            return path;
        }
    }
    return NULL;
}

static int refuse_call(request_rec *r, const plaid_request *req,
                  int status, const char *error, const char *why)
{
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, PLLOGNO(0140)
                  "api call refused: %s status=%d: "
                  "%s; Plaid was not called",
                  plaid_where(r, req), status, why);
    return plaid_answer_error(r, status, error, req->id);
}

int plaid_api_refuse_caller(request_rec *r, const plaid_request *req)
{
    apr_table_setn(r->headers_out, "X-Plaid-Link-Id", req->id);
    if (caller_allowed(r, &req->conf->api)) {
        return 0;
    }
    refuse_call(r, req, HTTP_FORBIDDEN, "Forbidden",
                apr_psprintf(r->pool, "the caller %s is not loopback nor "
                             "in PlaidApiAllowFrom",
                             r->connection->client_ip));
    return 1;
}

/* The credential header the caller sent, if any. Plaid's own client
 * libraries send PLAID-CLIENT-ID and PLAID-SECRET when configured with
 * credentials: refused, as credentials in the body are, so that a secret
 * left in the caller's code is found rather than silently dropped. */
static const char *credential_header(request_rec *r)
{
    static const char *const names[] = { "PLAID-CLIENT-ID", "PLAID-SECRET",
                                         NULL };
    int i;

    for (i = 0; names[i]; i++) {
        if (apr_table_get(r->headers_in, names[i])) {
            return names[i];
        }
    }
    return NULL;
}

int plaid_api_handler(request_rec *r, plaid_request *req)
{
    const plaid_api_conf *c = &req->conf->api;
    const char *path, *header, *why = NULL;
    plaid_response resp;
    plaid_result res;
    json_t *doc, *answer;
    char *body;
    apr_size_t len;
    int status, has_credentials;

    if (!(path = plaid_path_of(r, c))) {
        return refuse_call(r, req, HTTP_NOT_FOUND, "Not a Plaid path of this "
                           "location", "the path is not in PlaidApiPaths");
    }
    if ((header = credential_header(r))) {
        return refuse_call(r, req, HTTP_BAD_REQUEST, "Remove the "
                           "PLAID-CLIENT-ID and PLAID-SECRET headers: the "
                           "gateway adds the credentials",
                           apr_pstrcat(r->pool, "the request carries a ",
                                       header, " header", NULL));
    }
    if ((status = plaid_read_body(r, API_BODY_MAX, &body, &len, &why))
        != OK) {
        return refuse_call(r, req, status, "Unusable request body",
                           why ? why : "the body is larger than 64 KiB");
    }
    doc = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
    has_credentials = doc && (json_object_get(doc, "client_id")
                              || json_object_get(doc, "secret"));
    if (!json_is_object(doc) || has_credentials) {
        json_decref(doc);
        return refuse_call(r, req, HTTP_BAD_REQUEST, has_credentials
                           ? "Remove client_id and secret: the gateway adds "
                             "them"
                           : "The body must be a JSON object",
                           has_credentials
                           ? "the body carries client_id or secret"
                           : "the body is not a JSON object");
    }
    /* PlaidItemStore: by item_id, the Item's access_token put in. */
    if (req->conf->items.store
        && plaid_items_api_body(r, req, doc, &body, &len) != OK) {
        json_decref(doc);
        return OK;   /* answered */
    }
    json_decref(doc);

    status = plaid_call_raw(r, req, path, body, len,
                            !plaid_api_path_is_read(path), &resp, &res,
                            &answer);
    if (status == OK && req->conf->items.store) {
        plaid_items_api_done(r, req, path, &res, answer);
    }
    json_decref(answer);
    if (status == OK) {
        /* Plaid answered: its status and body, as they are. */
        long wait_s = plaid_retry_after_s(resp.retry_after);

        if (res.outcome != PLAID_OK) {
            plaid_log_failure(r, req, (int)resp.status, &res);
        }
        if (wait_s > 0) {
            apr_table_setn(r->headers_out, "Retry-After",
                           apr_ltoa(r->pool, wait_s));
        }
        return plaid_answer_body(r, (int)resp.status, resp.body,
                                 resp.body_len);
    }
    if (status == DONE) {
        status = plaid_call_failed(r, req, &res);
    }
    return plaid_answer_error(r, status, req->handler->generic_error,
                              req->id);
}
