/*
 * SetHandler plaid-public-token-exchange: the browser hands in Link's
 * public_token; the module exchanges it with Plaid for the Item's
 * access_token and item_id, and hands them to the site's application by
 * an internal redirect to PlaidExchangeHandoff, in its environment:
 *
 *     PLAID_ACCESS_TOKEN  PLAID_ITEM_ID  PLAID_CLIENT_USER_ID  PLAID_REQUEST_ID
 *
 * The application (PHP, a CGI, a proxied app server) stores the Item and
 * writes the browser's answer. The access_token goes nowhere else: no log
 * line, no answer of the module's. A request straight to a hand-off path
 * finds none of these variables, and is refused.
 */
#include "mod_plaid_link.h"

static const char *const handoff_vars[] = {
    "PLAID_ACCESS_TOKEN", "PLAID_ITEM_ID", "PLAID_CLIENT_USER_ID",
    "PLAID_REQUEST_ID", NULL
};

/* What the exchange hands over, kept in the exchanging request's
 * request_config; the redirected request finds it through r->prev. */
typedef struct {
    const char *values[4];     /* in the order of handoff_vars */
} plaid_handoff;

/* The hand-off paths of the configuration, set at start-up (in the parent,
 * before any child) and read-only after. */
static apr_array_header_t *handoff_paths;

static apr_status_t forget_handoff_paths(void *data)
{
    (void)data;
    handoff_paths = NULL;
    return APR_SUCCESS;
}

void plaid_note_handoff(apr_pool_t *pconf, const char *path)
{
    if (!handoff_paths) {
        handoff_paths = apr_array_make(pconf, 4, sizeof(const char *));
        apr_pool_cleanup_register(pconf, NULL, forget_handoff_paths,
                                  apr_pool_cleanup_null);
    }
    APR_ARRAY_PUSH(handoff_paths, const char *) = path;
}

/* Whether r's path is a hand-off path, or below one. */
static int is_handoff_path(const request_rec *r)
{
    int i;

    for (i = 0; handoff_paths && r->uri && i < handoff_paths->nelts; i++) {
        const char *path = APR_ARRAY_IDX(handoff_paths, i, const char *);
        apr_size_t n = strlen(path);

        if (strncmp(r->uri, path, n) == 0
            && (r->uri[n] == '\0' || r->uri[n] == '/')) {
            return 1;
        }
    }
    return 0;
}

int plaid_handoff_fixups(request_rec *r)
{
    const plaid_handoff *h = NULL;
    const request_rec *q;
    int i;

    /* The exchange, or a redirect after it (an application's front
     * controller): the variables keep their names along the chain. */
    for (q = r->main ? NULL : r->prev; q && !h; q = q->prev) {
        h = ap_get_module_config(q->request_config, &plaid_link_module);
    }
    if (h) {
        for (i = 0; handoff_vars[i]; i++) {
            apr_table_setn(r->subprocess_env, handoff_vars[i], h->values[i]);
        }
        return DECLINED;
    }
    /* Only the exchange sets these: never a configuration, never the
     * renamed copies of an earlier redirect. */
    for (i = 0; handoff_vars[i]; i++) {
        apr_table_unset(r->subprocess_env, handoff_vars[i]);
        apr_table_unset(r->subprocess_env,
                        apr_pstrcat(r->pool, "REDIRECT_", handoff_vars[i],
                                    NULL));
    }
    if (!r->main && is_handoff_path(r)) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, PLLOGNO(0114)
                      "request refused: %s is a PlaidExchangeHandoff path, "
                      "which answers only the exchange's hand-off",
                      plaid_location_of(r));
        return HTTP_NOT_FOUND;
    }
    return DECLINED;
}

static void read_exchange(apr_pool_t *p, const json_t *answer,
                          plaid_result *res, void *out)
{
    plaid_exchange_read(p, answer, res, out);
}

/* The browser's {"public_token": "public-..."}, or NULL and why not. */
static const char *public_token_of(const plaid_browser_request *req,
                                   const char **why)
{
    json_t *v = req->body ? json_object_get(req->body, "public_token") : NULL;
    const char *token;

    if (!v) {
        *why = "the body has no public_token";
        return NULL;
    }
    if (!json_is_string(v)) {
        *why = "the public_token is not a string";
        return NULL;
    }
    token = json_string_value(v);
    if ((*why = plaid_check_public_token(token))) {
        return NULL;
    }
    return token;
}

int plaid_exchange_handler(request_rec *r, plaid_browser_request *req)
{
    const char *token, *why = NULL, *body;
    plaid_handoff *h;
    plaid_exchange item;
    plaid_result res;
    apr_size_t len = 0;
    int status;

    if (!(token = public_token_of(req, &why))) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, PLLOGNO(0113)
                      "browser request refused: id=%s status=400: %s; Plaid "
                      "was not called", req->id, why);
        return plaid_answer_error(r, HTTP_BAD_REQUEST,
                                  "Request body must carry a public_token",
                                  req->id);
    }
    body = plaid_exchange_body(r->pool, token, &len);
    status = plaid_call_endpoint(r, req, PLAID_EXCHANGE_PATH, body, len,
                                 read_exchange, &item, &res);
    if (status != OK) {
        return plaid_answer_error(r, status, req->handler->generic_error,
                                  req->id);
    }
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, PLLOGNO(0115)
                  "public_token exchanged: vhost=%s location=%s id=%s "
                  "item_id=%s request_id=%s elapsed_ms=%ld handoff=%s",
                  plaid_vhost_name(r->pool, r->server), plaid_location_of(r),
                  req->id, plaid_log_quote(r->pool, item.item_id,
                                           PLAID_LOG_FIELD_MAX),
                  plaid_log_quote(r->pool, res.request_id,
                                  PLAID_LOG_FIELD_MAX),
                  res.elapsed_ms, req->conf->exchange.handoff);
    h = apr_palloc(r->pool, sizeof(*h));
    h->values[0] = item.access_token;
    h->values[1] = item.item_id;
    h->values[2] = req->user;
    h->values[3] = res.request_id;
    ap_set_module_config(r->request_config, &plaid_link_module, h);
    ap_internal_redirect(req->conf->exchange.handoff, r);
    return OK;
}
