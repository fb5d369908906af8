/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The way in and the way out of every handler's request. In: the intake
 * its row of handlers.c names (the caller, the method, an endpoint the
 * server's configuration made, nothing missing; for a browser, CSRF,
 * Origin, a JSON body, the signed-in user, PlaidRateLimit), the
 * correlation id, and the connection resolved once. Out: the answers,
 * each counted in the metrics.
 */
#include "glue.h"

static apr_status_t release_json(void *data)
{
    json_decref((json_t *)data);
    return APR_SUCCESS;
}

/* mod_unique_id's id when it is loaded, else 12 random bytes in hex. */
static const char *correlation_id(request_rec *r)
{
    const char *id = apr_table_get(r->subprocess_env, "UNIQUE_ID");
    unsigned char raw[12];
    char *hex;

    if (id && *id) {
        return id;
    }
    if (apr_generate_random_bytes(raw, sizeof(raw)) != APR_SUCCESS) {
        return apr_psprintf(r->pool, "%" APR_TIME_T_FMT, r->request_time);
    }
    hex = apr_palloc(r->pool, sizeof(raw) * 2 + 1);
    plaid_hex(hex, raw, sizeof(raw));
    return hex;
}

int plaid_answer_typed(request_rec *r, int status, const char *type,
                       const char *body, apr_size_t len)
{
    plaid_count_answer(r, status);
    r->status = status;
    ap_set_content_type(r, type);
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    apr_table_setn(r->headers_out, "X-Content-Type-Options", "nosniff");
    ap_set_content_length(r, len);
    if (!r->header_only) {
        ap_rwrite(body, (int)len, r);
    }
    return OK;
}

int plaid_answer_body(request_rec *r, int status, const char *body,
                      apr_size_t len)
{
    return plaid_answer_typed(r, status, "application/json", body, len);
}

int plaid_answer(request_rec *r, int status, const char *const *fields)
{
    apr_size_t len = 0;
    char *text = plaid_json_flat(r->pool, fields, &len);

    return plaid_answer_body(r, status, text, len);
}

int plaid_answer_error(request_rec *r, int status, const char *msg,
                       const char *id)
{
    const char *const fields[] = { "error", msg, "request_id", id, NULL };

    return plaid_answer(r, status, fields);
}

int plaid_read_body(request_rec *r, apr_size_t max, char **data,
                    apr_size_t *len, const char **why)
{
    const char *cl = apr_table_get(r->headers_in, "Content-Length");
    apr_size_t cap = max < 4096 ? max + 1 : 4096, n = 0;
    char *buf = apr_palloc(r->pool, cap);
    long got = 0;
    int rc;

    if (cl && apr_atoi64(cl) > (apr_int64_t)max) {
        r->connection->keepalive = AP_CONN_CLOSE;
        return HTTP_REQUEST_ENTITY_TOO_LARGE;
    }
    if ((rc = ap_setup_client_block(r, REQUEST_CHUNKED_DECHUNK)) != OK) {
        *why = "unreadable request body";
        return rc == HTTP_REQUEST_ENTITY_TOO_LARGE ? rc : HTTP_BAD_REQUEST;
    }
    if (ap_should_client_block(r)) {
        for (;;) {
            plaid_reserve(r->pool, &buf, n, &cap, 1024);
            if ((got = ap_get_client_block(r, buf + n, cap - n - 1)) <= 0) {
                break;
            }
            n += (apr_size_t)got;
            if (n > max) {
                r->connection->keepalive = AP_CONN_CLOSE;
                return HTTP_REQUEST_ENTITY_TOO_LARGE;
            }
        }
        if (got < 0) {
            *why = "the request body could not be read";
            return HTTP_BAD_REQUEST;
        }
    }
    buf[n] = '\0';
    *data = buf;
    *len = n;
    return OK;
}

/* Reads an optional JSON-object body of at most PLAID_BROWSER_BODY_MAX
 * bytes into *body (NULL when there is none; released with r's pool).
 * Returns OK or the status to refuse the request with. */
static int read_browser_body(request_rec *r, json_t **body, const char **why)
{
    char *buf;
    apr_size_t len;
    json_error_t err;
    json_t *json;
    int rc;

    *body = NULL;
    if ((rc = plaid_read_body(r, PLAID_BROWSER_BODY_MAX, &buf, &len, why))
        != OK || len == 0) {
        return rc;
    }
    json = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &err);
    if (!json_is_object(json)) {
        *why = json ? "the body is JSON but not an object"
                    : apr_psprintf(r->pool, "the body is not JSON: %s", err.text);
        json_decref(json);
        return HTTP_BAD_REQUEST;
    }
    apr_pool_cleanup_register(r->pool, json, release_json,
                              apr_pool_cleanup_null);
    *body = json;
    return OK;
}

/* A cross-site HTML form can POST text/plain or form data, never
 * application/json nor a custom header without a CORS preflight: demanding
 * one of them keeps other sites from minting tokens for our users. */
static int forgeable(request_rec *r)
{
    const char *ct = apr_table_get(r->headers_in, "Content-Type");
    apr_size_t n = sizeof("application/json") - 1;

    if (apr_table_get(r->headers_in, "X-Requested-With")) {
        return 0;
    }
    return !(ct && strncasecmp(ct, "application/json", n) == 0
             && (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' '));
}

static int origin_refused(request_rec *r, const plaid_conf *c)
{
    const char *origin = apr_table_get(r->headers_in, "Origin");
    int i;

    if (!c->browser.origins || !origin) {
        return 0;
    }
    for (i = 0; i < c->browser.origins->nelts; i++) {
        if (strcasecmp(origin, APR_ARRAY_IDX(c->browser.origins, i, const char *))
            == 0) {
            return 0;
        }
    }
    return 1;
}

static const char *user_id_of(request_rec *r, const plaid_conf *c)
{
    const char *err = NULL, *id;

    if (!c->browser.user_id) {
        return r->user;
    }
    id = ap_expr_str_exec(r, c->browser.user_id, &err);
    if (err) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, PLLOGNO(0104)
                      "PlaidUserId could not be evaluated: %s", err);
        return NULL;
    }
    return id;
}

/* The refusal answered: DONE, so that the handler does not go on. */
static int answer_refusal(request_rec *r, int status, const char *msg,
                          const char *id)
{
    plaid_answer_error(r, status, msg, id);
    return DONE;
}


/* POST, or one of the row's methods; r->allowed says which. */
static int method_taken(request_rec *r, const plaid_handler *h)
{
    char *copy, *state = NULL;
    const char *word;
    int taken = 0;

    if (!h->methods) {
        r->allowed = AP_METHOD_BIT << M_POST;
        return r->method_number == M_POST;
    }
    copy = apr_pstrdup(r->pool, h->methods);
    r->allowed = 0;
    for (word = apr_strtok(copy, ", ", &state); word;
         word = apr_strtok(NULL, ", ", &state)) {
        int m = ap_method_number_of(word);

        r->allowed |= AP_METHOD_BIT << m;
        taken |= m == r->method_number;
    }
    return taken;
}

/* The checks every handler that calls Plaid shares: a caller the handler
 * admits (told nothing, not even which methods it would take), POST, an
 * endpoint the server's configuration made, nothing missing. */
static int accept_endpoint(request_rec *r, const plaid_handler *h,
                           plaid_request *req)
{
    const plaid_conf *c = req->conf;
    const char *id = req->id, *lack;

    if (h->refuse_caller && h->refuse_caller(r, req)) {
        return DONE;
    }
    if (!method_taken(r, h)) {
        apr_table_setn(r->headers_out, "Allow",
                       h->methods ? h->methods : "POST");
        return answer_refusal(r, HTTP_METHOD_NOT_ALLOWED,
                              "Method not allowed", id);
    }
    if (c->handler.enabled != 1) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, PLLOGNO(0111)
                      "%s refused: %s: the handler was set by %s, "
                      "not by a SetHandler in httpd's own configuration "
                      "files, so this URL is no endpoint; Plaid was not "
                      "called", h->what, plaid_where(r, req),
                      c->handler.htaccess
                      ? ap_escape_logitem(r->pool, c->handler.htaccess)
                      : "AddHandler, a RewriteRule or another module");
        return answer_refusal(r, HTTP_INTERNAL_SERVER_ERROR,
                              h->generic_error, id);
    }
    if ((lack = plaid_missing(r->pool, c, h))) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, PLLOGNO(0103)
                      "%s refused: %s: %s is not set for this URL",
                      h->what, plaid_where(r, req), lack);
        return answer_refusal(r, HTTP_INTERNAL_SERVER_ERROR,
                              h->generic_error, id);
    }
    return OK;
}

/* Then the browser's: CSRF, Origin, a JSON body, the signed-in user. */
static int accept_browser(request_rec *r, const plaid_handler *h,
                          plaid_request *req)
{
    const plaid_conf *c = req->conf;
    const char *id = req->id, *user, *why = NULL;
    int rc;

    if (forgeable(r)) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, PLLOGNO(0107)
                      "browser request refused: id=%s status=415: neither "
                      "Content-Type: application/json nor X-Requested-With",
                      id);
        return answer_refusal(r, HTTP_UNSUPPORTED_MEDIA_TYPE, "Send "
                              "Content-Type: application/json", id);
    }
    if (origin_refused(r, c)) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, PLLOGNO(0108)
                      "browser request refused: id=%s status=403: Origin %s "
                      "is not in PlaidAllowedOrigins", id,
                      plaid_log_quote(r->pool, apr_table_get(r->headers_in,
                                                             "Origin"), 200));
        return answer_refusal(r, HTTP_FORBIDDEN, "Origin not allowed", id);
    }
    if ((rc = read_browser_body(r, &req->body, &why)) != OK) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, PLLOGNO(0105)
                      "browser request refused: id=%s status=%d: %s", id, rc,
                      why ? why : "body too large");
        return answer_refusal(r, rc, rc == HTTP_REQUEST_ENTITY_TOO_LARGE
                              ? "Request body too large"
                              : "Request body must be a JSON object", id);
    }
    user = user_id_of(r, c);
    if (!user || !*user) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, PLLOGNO(0109)
                      "browser request refused: id=%s status=401: PlaidUserId "
                      "gave no user id (not signed in?)", id);
        return answer_refusal(r, HTTP_UNAUTHORIZED, "Not signed in", id);
    }
    if ((why = plaid_check_user_id(user))) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, PLLOGNO(0106)
                      "%s refused: %s: the PlaidUserId value %s",
                      h->what, plaid_where(r, req), why);
        return answer_refusal(r, HTTP_BAD_REQUEST, "Unusable user id", id);
    }
    if (c->browser.hash_key
        && !(user = plaid_user_id_hmac(r->pool, c->browser.hash_key,
                                       c->browser.hash_key_len, user))) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, PLLOGNO(0112)
                      "%s failed: %s: OpenSSL could not compute "
                      "the PlaidUserIdHashKey HMAC", h->what,
                      plaid_where(r, req));
        return answer_refusal(r, HTTP_INTERNAL_SERVER_ERROR,
                              h->generic_error, id);
    }
    req->user = user;
    return OK;
}

static void resolve_conn(const plaid_conn_conf *c, const plaid_handler *h,
                         plaid_call *call)
{
    call->base_url = c->base_url ? c->base_url : c->env_url;
    call->client_id = c->client_id;
    call->secret = c->secret;
    call->ca_file = c->ca_file == plaid_system_cas ? NULL : c->ca_file;
    call->proxy = c->proxy;
    call->connect_timeout_ms = c->connect_ms > 0
        ? c->connect_ms : PLAID_CONNECT_TIMEOUT_MS_DEFAULT;
    call->total_timeout_ms = c->total_ms > 0
        ? c->total_ms : PLAID_TOTAL_TIMEOUT_MS_DEFAULT;
    call->retries = c->retries >= 0 ? c->retries : PLAID_RETRIES_DEFAULT;
    call->answer_max = h->answer_max;
}

int plaid_request_accept(request_rec *r, const plaid_handler *h,
                         plaid_request *req)
{
    int rc;

    memset(req, 0, sizeof(*req));
    req->handler = h;
    req->conf = ap_get_module_config(r->per_dir_config, &plaid_link_module);
    if (h->intake == PLAID_INTAKE_OWN) {
        return OK;
    }
    req->id = correlation_id(r);
    resolve_conn(&req->conf->conn, h, &req->conn);
    if ((rc = accept_endpoint(r, h, req)) != OK
        || h->intake != PLAID_INTAKE_BROWSER) {
        return rc;
    }
    if ((rc = accept_browser(r, h, req)) != OK) {
        return rc;
    }
    return plaid_limits_check(r, req);
}
