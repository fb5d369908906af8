/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The hand-off to the site's application: a handler that has done its
 * part (the exchange, a verified webhook) redirects internally to the
 * application's URL-path with what it found in the environment, and, for
 * a webhook, the request body as it came, for the application to read as
 * it reads any body. The variables exist on that redirected request (and
 * along a further redirect that is no error page, such as a front
 * controller's) and on no other: the module removes them, and their
 * REDIRECT_ copies, everywhere else. And the application runs only as the
 * module's hand-off: any other request (main, subrequest or redirect)
 * whose URL is a hand-off path, or below one, or whose mapped file is the
 * file a hand-off path maps to (reached through an Alias, a RewriteRule,
 * a DirectoryIndex...), is refused.
 */
#include "glue.h"

#define BODY_FILTER "PLAID_HANDOFF_BODY"
#define PROXY_TARGET "proxy:"

/* The variables' names (glue.h lists them), and the names httpd
 * gives their copies on an internal redirect: removed from every other
 * request. */
#define VAR_NAME(e, name) [e] = name,
#define REDIRECT_NAME(e, name) [e] = "REDIRECT_" name,
static const char *const handoff_vars[PLAID_HANDOFF_VARS] = {
    PLAID_HANDOFF_VAR_LIST(VAR_NAME)
};
static const char *const redirect_vars[PLAID_HANDOFF_VARS] = {
    PLAID_HANDOFF_VAR_LIST(REDIRECT_NAME)
};
#undef VAR_NAME
#undef REDIRECT_NAME

/* The hand-off paths of the configuration, each once, set at start-up (in
 * the parent, before any child) and read-only after. */
static apr_array_header_t *handoff_paths;

/* The file a hand-off path maps to, for one request and the requests it
 * leads to: a regular file, compared by device and inode when stat() gave
 * them (a symbolic or hard link to it is the same file), else by name; or
 * a mod_proxy target ("proxy:..."), compared as text. */
typedef struct {
    const char *path;          /* the hand-off path */
    const char *filename;
    int identified;            /* device and inode known */
    apr_dev_t device;
    apr_ino_t inode;
} handoff_file;

/* What the module keeps on a request (its request_config slot). */
typedef struct {
    /* On the request the module redirected from: what it hands over. Set
     * by plaid_handoff_to only: no header or URL of the client's can. */
    const plaid_handoff *handoff;
    /* On the first request of a tree (the one httpd read from the client):
     * the files the hand-off paths map to, found once, and whether the
     * lookups that find them are under way. */
    apr_array_header_t *files;
    int mapping;
} request_state;

static request_state *state_of(request_rec *r)
{
    request_state *st = ap_get_module_config(r->request_config,
                                             &plaid_link_module);

    if (!st) {
        st = apr_pcalloc(r->pool, sizeof(*st));
        ap_set_module_config(r->request_config, &plaid_link_module, st);
    }
    return st;
}

static apr_status_t forget_handoff_paths(void *data)
{
    (void)data;
    handoff_paths = NULL;
    return APR_SUCCESS;
}

void plaid_note_handoff(apr_pool_t *pconf, const char *path)
{
    int i;

    if (!handoff_paths) {
        handoff_paths = apr_array_make(pconf, 4, sizeof(const char *));
        apr_pool_cleanup_register(pconf, NULL, forget_handoff_paths,
                                  apr_pool_cleanup_null);
    }
    for (i = 0; i < handoff_paths->nelts; i++) {
        if (strcmp(APR_ARRAY_IDX(handoff_paths, i, const char *), path) == 0) {
            return;
        }
    }
    APR_ARRAY_PUSH(handoff_paths, const char *) = path;
}

/* The hand-off path r's URL is, or is below; NULL if none. */
static const char *handoff_path_of(const request_rec *r)
{
    int i;

    for (i = 0; handoff_paths && r->uri && i < handoff_paths->nelts; i++) {
        const char *path = APR_ARRAY_IDX(handoff_paths, i, const char *);
        apr_size_t n = strlen(path);

        if (strncmp(r->uri, path, n) == 0
            && (r->uri[n] == '\0' || r->uri[n] == '/')) {
            return path;
        }
    }
    return NULL;
}

void plaid_handoff_to(request_rec *r, const char *path, plaid_handoff *h)
{
    /* The application answers; the module's part ended well. */
    plaid_count_answer(r, HTTP_OK);
    state_of(r)->handoff = h;
    ap_internal_redirect(path, r);
}

/* The hand-off r was redirected to, directly or along further internal
 * redirects; NULL if none. An ErrorDocument's redirect (httpd's, from a
 * request whose status is no longer 200, as ap_die tells an error) ends
 * the chain: an error page is no hand-off. */
static const plaid_handoff *handoff_of(const request_rec *r)
{
    const request_rec *q;

    for (q = r; q->prev; q = q->prev) {
        const request_state *st;

        if (q->prev->status != HTTP_OK) {
            return NULL;
        }
        st = ap_get_module_config(q->prev->request_config,
                                  &plaid_link_module);
        if (st && st->handoff) {
            return st->handoff;
        }
    }
    return NULL;
}

/* Whether r is the hand-off or part of serving it: a subrequest of the
 * hand-off (mod_dir's lookup of an index, an include) is. */
static int serves_handoff(const request_rec *r)
{
    for (; r; r = r->main) {
        if (handoff_of(r)) {
            return 1;
        }
    }
    return 0;
}

/* The request httpd read from the client, that r descends from by
 * subrequests and internal redirects. */
static request_rec *first_request(request_rec *r)
{
    while (r->main || r->prev) {
        r = r->main ? r->main : r->prev;
    }
    return r;
}

/* Whether r could run an application: a regular file, or a mod_proxy
 * target (an application server, PHP-FPM by ProxyPassMatch). */
static int runnable(const request_rec *r)
{
    return r->filename
        && (r->finfo.filetype == APR_REG
            || strncmp(r->filename, PROXY_TARGET,
                       sizeof(PROXY_TARGET) - 1) == 0);
}

static int identified(const apr_finfo_t *finfo)
{
    const apr_int32_t ident = APR_FINFO_DEV | APR_FINFO_INODE;

    return finfo->filetype == APR_REG && (finfo->valid & ident) == ident;
}

/* Where path leads, in r's server, with r's headers: a lookup, as mod_dir
 * makes one for an index. Kept when it is a file or a proxy target. */
static void map_handoff_path(request_rec *r, apr_pool_t *p, const char *path,
                             apr_array_header_t *files)
{
    request_rec *rr = ap_sub_req_lookup_uri(path, r, NULL);

    if (runnable(rr)) {
        handoff_file *f = apr_array_push(files);

        f->path = path;
        f->filename = apr_pstrdup(p, rr->filename);
        f->identified = identified(&rr->finfo);
        f->device = rr->finfo.device;
        f->inode = rr->finfo.inode;
    }
    ap_destroy_sub_req(rr);
}

/* The files the hand-off paths map to, found once for the request tree r
 * belongs to. The lookups are requests themselves, whose fixups come back
 * here: while they run, the guard stands aside (mapping). */
static const apr_array_header_t *handoff_files(request_rec *r)
{
    request_rec *first = first_request(r);
    request_state *st = state_of(first);
    int i;

    if (!st->files) {
        st->files = apr_array_make(first->pool, handoff_paths->nelts,
                                   sizeof(handoff_file));
        st->mapping = 1;
        for (i = 0; i < handoff_paths->nelts; i++) {
            map_handoff_path(r, first->pool,
                             APR_ARRAY_IDX(handoff_paths, i, const char *),
                             st->files);
        }
        st->mapping = 0;
    }
    return st->files;
}

static int same_file(const request_rec *r, const handoff_file *f)
{
    if (f->identified && identified(&r->finfo)) {
        return r->finfo.device == f->device && r->finfo.inode == f->inode;
    }
    return strcmp(r->filename, f->filename) == 0;
}

/* The hand-off path whose file r is mapped to; NULL if none. Only a
 * request that can run an application costs the lookups. */
static const char *handoff_file_of(request_rec *r)
{
    const apr_array_header_t *files;
    int i;

    if (!runnable(r)) {
        return NULL;
    }
    files = handoff_files(r);
    for (i = 0; i < files->nelts; i++) {
        const handoff_file *f = &APR_ARRAY_IDX(files, i, handoff_file);

        if (same_file(r, f)) {
            return f->path;
        }
    }
    return NULL;
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

/* The hand-off's variables, and its body, on the redirected request. */
static void give_handoff(request_rec *r, const plaid_handoff *h)
{
    int i;

    for (i = 0; i < PLAID_HANDOFF_VARS; i++) {
        if (h->values[i]) {
            apr_table_setn(r->subprocess_env, handoff_vars[i], h->values[i]);
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
}

/* 404, and the line that says which hand-off r leads to, and, when a
 * subrequest or a redirect got there, the URL the client asked for. */
static int refuse(request_rec *r, const char *path)
{
    const request_rec *first = first_request(r);
    const char *asked = "";

    if (first->uri && r->uri && strcmp(first->uri, r->uri) != 0) {
        asked = apr_pstrcat(r->pool, " (asked for ",
                            ap_escape_logitem(r->pool, first->uri), ")",
                            NULL);
    }
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, PLLOGNO(0114)
                  "request refused: %s leads to the hand-off path %s "
                  "(PlaidExchangeHandoff or PlaidWebhookHandoff), which "
                  "answers only the module's hand-off%s",
                  plaid_location_of(r), path, asked);
    return HTTP_NOT_FOUND;
}

int plaid_handoff_fixups(request_rec *r)
{
    const plaid_handoff *h;
    const request_state *tree;
    const char *path;
    int i;

    /* No hand-off configured: nothing to set, nothing to guard. */
    if (!handoff_paths) {
        return DECLINED;
    }
    for (i = 0; i < PLAID_HANDOFF_VARS; i++) {
        apr_table_unset(r->subprocess_env, handoff_vars[i]);
        apr_table_unset(r->subprocess_env, redirect_vars[i]);
    }
    if (!r->main && (h = handoff_of(r)) != NULL) {
        give_handoff(r, h);
        return DECLINED;
    }
    /* The module's own lookups of the hand-off paths, and the hand-off
     * with what serves it, pass. */
    tree = ap_get_module_config(first_request(r)->request_config,
                                &plaid_link_module);
    if ((tree && tree->mapping) || serves_handoff(r)) {
        return DECLINED;
    }
    if ((path = handoff_path_of(r)) != NULL
        || (path = handoff_file_of(r)) != NULL) {
        return refuse(r, path);
    }
    return DECLINED;
}
