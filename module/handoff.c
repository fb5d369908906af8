/*
 * The hand-off to the site's application: a handler that has done its
 * part (the exchange, a verified webhook) redirects internally to the
 * application's URL-path with what it found in the environment, and, for
 * a webhook, the request body as it came, for the application to read as
 * it reads any body. The variables exist on that redirected request (and
 * along a further redirect, such as a front controller) and on no other:
 * the module removes them, and their REDIRECT_ copies, everywhere else;
 * and a request straight to a hand-off path is refused.
 */
#include "mod_plaid_link.h"

#define BODY_FILTER "PLAID_HANDOFF_BODY"

/* Every variable a hand-off may set, and the names httpd gives their
 * copies on an internal redirect: removed from every other request. */
static const char *const handoff_vars[] = {
    "PLAID_ACCESS_TOKEN", "PLAID_ITEM_ID", "PLAID_CLIENT_USER_ID",
    "PLAID_REQUEST_ID", "PLAID_WEBHOOK_TYPE", "PLAID_WEBHOOK_CODE",
    "REDIRECT_PLAID_ACCESS_TOKEN", "REDIRECT_PLAID_ITEM_ID",
    "REDIRECT_PLAID_CLIENT_USER_ID", "REDIRECT_PLAID_REQUEST_ID",
    "REDIRECT_PLAID_WEBHOOK_TYPE", "REDIRECT_PLAID_WEBHOOK_CODE", NULL
};

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

void plaid_handoff_to(request_rec *r, const char *path, plaid_handoff *h)
{
    /* The application answers; the module's part ended well. */
    plaid_metrics_answer(r, HTTP_OK);
    ap_set_module_config(r->request_config, &plaid_link_module, h);
    ap_internal_redirect(path, r);
}

/* The body the handler read, again, for the redirected request. */
struct body_ctx {
    const char *data;
    apr_size_t len, sent;
};

static apr_status_t body_filter(ap_filter_t *f, apr_bucket_brigade *bb,
                                ap_input_mode_t mode, apr_read_type_e block,
                                apr_off_t readbytes)
{
    struct body_ctx *ctx = f->ctx;
    apr_bucket_alloc_t *ba = f->c->bucket_alloc;
    apr_size_t n = ctx->len - ctx->sent;

    (void)block;
    if (mode != AP_MODE_READBYTES && mode != AP_MODE_SPECULATIVE) {
        return APR_ENOTIMPL;
    }
    if (readbytes > 0 && (apr_off_t)n > readbytes) {
        n = (apr_size_t)readbytes;
    }
    if (n) {
        APR_BRIGADE_INSERT_TAIL(bb, apr_bucket_transient_create(
                                    ctx->data + ctx->sent, n, ba));
        if (mode == AP_MODE_READBYTES) {
            ctx->sent += n;
        }
    }
    if (ctx->sent == ctx->len) {
        APR_BRIGADE_INSERT_TAIL(bb, apr_bucket_eos_create(ba));
    }
    return APR_SUCCESS;
}

void plaid_handoff_register(apr_pool_t *p)
{
    (void)p;
    ap_register_input_filter(BODY_FILTER, body_filter, NULL,
                             AP_FTYPE_RESOURCE);
}

int plaid_handoff_fixups(request_rec *r)
{
    const plaid_handoff *h = NULL;
    const request_rec *q;
    int i;

    /* No hand-off configured: nothing to set, nothing to guard. */
    if (!handoff_paths) {
        return DECLINED;
    }

    /* The hand-off, or a redirect after it (an application's front
     * controller): the variables keep their names along the chain. */
    for (q = r->main ? NULL : r->prev; q && !h; q = q->prev) {
        h = ap_get_module_config(q->request_config, &plaid_link_module);
    }
    for (i = 0; handoff_vars[i]; i++) {
        apr_table_unset(r->subprocess_env, handoff_vars[i]);
    }
    if (h) {
        for (i = 0; i < h->n; i++) {
            if (h->values[i]) {
                apr_table_setn(r->subprocess_env, h->names[i], h->values[i]);
            }
        }
        if (h->body) {
            struct body_ctx *ctx = apr_pcalloc(r->pool, sizeof(*ctx));

            ctx->data = h->body;
            ctx->len = h->body_len;
            apr_table_setn(r->headers_in, "Content-Length",
                           apr_psprintf(r->pool, "%" APR_SIZE_T_FMT,
                                        h->body_len));
            apr_table_unset(r->headers_in, "Transfer-Encoding");
            ap_add_input_filter(BODY_FILTER, ctx, r, r->connection);
        }
        return DECLINED;
    }
    if (!r->main && is_handoff_path(r)) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, PLLOGNO(0114)
                      "request refused: %s is a hand-off path "
                      "(PlaidExchangeHandoff or PlaidWebhookHandoff), which "
                      "answers only the module's hand-off",
                      plaid_location_of(r));
        return HTTP_NOT_FOUND;
    }
    return DECLINED;
}
