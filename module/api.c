/*
 * SetHandler plaid-api: a gateway for the site's own server-side code
 * (PHP on the same machine, typically). The caller POSTs
 * <location>/<Plaid path> with Plaid's JSON body and no credentials; the
 * module sends it to Plaid with the location's credentials over its kept
 * connections, and gives back Plaid's status and body unchanged, success
 * and PlaidError alike (the caller needs Plaid's error codes). Never to
 * browsers: loopback callers only, unless PlaidApiAllowFrom says more.
 * Plaid paths outside PlaidApiPaths: 404, no call. A read is retried as
 * any call is; a write only when none of it was sent. The bodies carry
 * access_tokens: they are never logged.
 */
#include <apr_network_io.h>

#include "ap_listen.h"

#include "mod_plaid_link.h"

/* The caller's body, at most this: Plaid's requests are small. */
#define API_BODY_MAX (64 * 1024)

const char *plaid_set_api_paths(cmd_parms *cmd, void *cv, const char *arg)
{
    plaid_conf *c = cv;
    const ap_directive_t *sec = cmd->directive->parent;
    apr_size_t n;

    if (!sec || strcasecmp(sec->directive, "<Location") != 0 || !cmd->path) {
        return plaid_cmd_fail(cmd, "PlaidApiPaths belongs in the <Location> "
                                   "that sets plaid-api (not <LocationMatch>"
                                   ", <Directory> or a vhost): the Plaid "
                                   "path is what follows that location");
    }
    if (!plaid_api_path_known(arg)) {
        return plaid_cmd_fail(cmd, apr_psprintf(cmd->pool, "PlaidApiPaths: "
                                                "'%s' is not a POST path of "
                                                "Plaid's API (such as "
                                                "/accounts/balance/get)",
                                                arg));
    }
    if (!c->api.paths) {
        c->api.paths = apr_array_make(cmd->pool, 8, sizeof(const char *));
    }
    APR_ARRAY_PUSH(c->api.paths, const char *) = arg;
    n = strlen(cmd->path);
    while (n > 1 && cmd->path[n - 1] == '/') {
        n--;
    }
    c->api.prefix = apr_pstrmemdup(cmd->pool, cmd->path, n);
    return NULL;
}

const char *plaid_set_api_allow(cmd_parms *cmd, void *cv, const char *arg)
{
    plaid_conf *c = cv;
    char *ip = apr_pstrdup(cmd->temp_pool, arg), *mask = strchr(ip, '/');
    apr_ipsubnet_t *subnet;

    if (mask) {
        *mask++ = '\0';
    }
    if (apr_ipsubnet_create(&subnet, ip, mask, cmd->pool) != APR_SUCCESS) {
        return plaid_cmd_fail(cmd, apr_psprintf(cmd->pool, "PlaidApiAllowFrom"
                                                ": '%s' is not an address or "
                                                "CIDR range", arg));
    }
    if (!c->api.allow) {
        c->api.allow = apr_array_make(cmd->pool, 4, sizeof(apr_ipsubnet_t *));
    }
    APR_ARRAY_PUSH(c->api.allow, apr_ipsubnet_t *) = subnet;
    return NULL;
}

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

static int refuse(request_rec *r, const plaid_request *req,
                  int status, const char *error, const char *why)
{
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, PLLOGNO(0140)
                  "api call refused: vhost=%s location=%s id=%s status=%d: "
                  "%s; Plaid was not called",
                  plaid_vhost_name(r->pool, r->server), plaid_location_of(r),
                  req->id, status, why);
    return plaid_answer_error(r, status, error, req->id);
}

int plaid_api_refuse_caller(request_rec *r, const plaid_request *req)
{
    apr_table_setn(r->headers_out, "X-Plaid-Link-Id", req->id);
    if (caller_allowed(r, &req->conf->api)) {
        return 0;
    }
    refuse(r, req, HTTP_FORBIDDEN, "Forbidden",
           apr_psprintf(r->pool, "the caller %s is not loopback nor in "
                        "PlaidApiAllowFrom", r->connection->client_ip));
    return 1;
}

int plaid_api_handler(request_rec *r, plaid_request *req)
{
    const plaid_api_conf *c = &req->conf->api;
    const char *path, *why = NULL;
    plaid_response resp;
    plaid_result res;
    json_t *doc, *answer;
    char *body;
    apr_size_t len;
    int status, has_credentials;

    if (!(path = plaid_path_of(r, c))) {
        return refuse(r, req, HTTP_NOT_FOUND, "Not a Plaid path of this "
                      "location", "the path is not in PlaidApiPaths");
    }
    if ((status = plaid_read_body(r, API_BODY_MAX, &body, &len, &why))
        != OK) {
        return refuse(r, req, status, "Unusable request body",
                      why ? why : "the body is larger than 64 KiB");
    }
    doc = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
    has_credentials = doc && (json_object_get(doc, "client_id")
                              || json_object_get(doc, "secret"));
    if (!json_is_object(doc) || has_credentials) {
        json_decref(doc);
        return refuse(r, req, HTTP_BAD_REQUEST, has_credentials
                      ? "Remove client_id and secret: the gateway adds them"
                      : "The body must be a JSON object",
                      has_credentials ? "the body carries client_id or "
                                        "secret" : "the body is not a JSON "
                                                   "object");
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
    json_decref(answer);
    if (status == OK) {
        /* Plaid answered: its status and body, as they are. */
        long wait_s = plaid_retry_after_s(resp.retry_after);

        if (res.outcome != PLAID_OK) {
            plaid_log_failure(r, req, (int)resp.status, &res);
        }
        if (req->conf->items.store) {
            plaid_items_api_done(r, req, path, resp.status);
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
