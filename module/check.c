/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Start-up: every place that sets one of the handlers must give Plaid what
 * that handler's call requires, or `apache2 -t` and the start fail naming
 * the vhost, the location and what is missing. Warnings found while the
 * directives were read are said here, once the configuration is whole;
 * and each section's /link/token/create body is serialized once.
 */
#include "glue.h"

/* Warnings found while the configuration is read, said once it is whole:
 * at `apache2 -t` (plaid_check_config) or at start-up (plaid_post_config).
 * A warning logged as a directive is read would be lost inside a
 * <VirtualHost>, whose error log is not open yet. */
#define WARNINGS_KEY "plaid_link_warnings"

void plaid_defer_warning(cmd_parms *cmd, const char *text)
{
    void *list = NULL;

    apr_pool_userdata_get(&list, WARNINGS_KEY, cmd->pool);
    if (!list) {
        list = apr_array_make(cmd->pool, 4, sizeof(const char *));
        apr_pool_userdata_set(list, WARNINGS_KEY, apr_pool_cleanup_null,
                              cmd->pool);
    }
    APR_ARRAY_PUSH((apr_array_header_t *)list, const char *) =
        apr_pstrdup(cmd->pool, text);
}

static void say_warnings(apr_pool_t *pconf, server_rec *s)
{
    void *list = NULL;
    apr_array_header_t *warnings;
    int i;

    apr_pool_userdata_get(&list, WARNINGS_KEY, pconf);
    for (warnings = list, i = 0; warnings && i < warnings->nelts; i++) {
        ap_log_error(APLOG_MARK, APLOG_WARNING | (s ? 0 : APLOG_STARTUP), 0,
                     s, "%s", APR_ARRAY_IDX(warnings, i, const char *));
    }
}

/* The server a <VirtualHost> node of the config tree made. */
static server_rec *server_for(server_rec *main_s, const ap_directive_t *vh)
{
    server_rec *s;

    for (s = main_s->next; s; s = s->next) {
        if (s->defn_name && strcmp(s->defn_name, vh->filename) == 0
            && s->defn_line_number == (unsigned)vh->line_num) {
            return s;
        }
    }
    return NULL;
}

/* The <Location> path as httpd stored it: unquoted, without '>'. */
static const char *section_path(apr_pool_t *p, const ap_directive_t *sec)
{
    char *args = apr_pstrdup(p, sec->args);
    const char *word;
    apr_size_t n = strlen(args);

    if (n && args[n - 1] == '>') {
        args[n - 1] = '\0';
    }
    word = ap_getword_conf(p, (const char **)&args);
    return word;
}

/* Does a <Location> prefix apply to path, on a segment boundary? */
static int location_covers(const char *prefix, const char *path)
{
    apr_size_t n = strlen(prefix);

    return strncmp(prefix, path, n) == 0
        && (path[n] == '\0' || path[n] == '/' || (n && prefix[n - 1] == '/'));
}

/* The configuration a request to the <Location path> of s will see: the
 * vhost's, then each literal <Location> that covers path, in file order. */
static plaid_conf *location_conf(apr_pool_t *p, server_rec *s,
                                 const char *path)
{
    core_server_config *sconf = ap_get_core_module_config(s->module_config);
    plaid_conf *c = ap_get_module_config(s->lookup_defaults,
                                         &plaid_link_module);
    ap_conf_vector_t **secs = (ap_conf_vector_t **)sconf->sec_url->elts;
    int i;

    for (i = 0; i < sconf->sec_url->nelts; i++) {
        core_dir_config *d = ap_get_core_module_config(secs[i]);

        plaid_conf *add = ap_get_module_config(secs[i], &plaid_link_module);

        /* A section read before LoadModule has no config of ours. */
        if (add && !d->r && d->d && location_covers(d->d, path)) {
            c = c ? plaid_merge_conf(p, c, add) : add;
        }
    }
    return c;
}

struct validation {
    apr_pool_t *p;
    server_rec *main_s;
    int errors;
};

static void check_endpoint(struct validation *v, server_rec *s,
                           const ap_directive_t *sethandler,
                           const plaid_handler *h)
{
    const ap_directive_t *sec = sethandler->parent;
    const char *path = NULL, *lack;
    plaid_conf *c;

    if (sec && strcasecmp(sec->directive, "<Location") == 0) {
        path = section_path(v->p, sec);
        c = location_conf(v->p, s, path);
    }
    else if (!sec || strcasecmp(sec->directive, "<VirtualHost") == 0) {
        c = ap_get_module_config(s->lookup_defaults, &plaid_link_module);
    }
    else {
        /* <Directory>, <Files>, <If>, <LocationMatch>: checked per request. */
        return;
    }
    if (!c) {
        c = plaid_create_conf(v->p, NULL);
    }
    if ((lack = plaid_missing(v->p, c, h))) {
        ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_EMERG, 0, NULL,
                     PLLOGNO(0002)
                     "SetHandler %s needs %s (vhost %s, location %s, %s line "
                     "%d): %s", h->name, lack, plaid_vhost_name(v->p, s),
                     path ? path : "(server)", sethandler->filename,
                     sethandler->line_num, h->needs_why);
        v->errors++;
    }
    else if (h->check) {
        h->check(v->p, s, path, c);
    }
    v->errors += plaid_items_check(v->p, s, path, c, sethandler);
}

/* The handler a SetHandler line names, when it is one of ours. */
static const plaid_handler *our_handler(apr_pool_t *p,
                                             const ap_directive_t *d)
{
    const char *args = d->args;

    return strcasecmp(d->directive, "SetHandler") == 0
        ? plaid_handler_named(ap_getword_conf(p, &args)) : NULL;
}

static void walk(struct validation *v, const ap_directive_t *d, server_rec *s)
{
    const plaid_handler *h;

    for (; d; d = d->next) {
        server_rec *inner = s;

        if (strcasecmp(d->directive, "<VirtualHost") == 0) {
            inner = server_for(v->main_s, d);
            if (!inner) {
                continue;
            }
        }
        if ((h = our_handler(v->p, d))) {
            check_endpoint(v, s, d, h);
            if (h->needs_store) {
                plaid_cache_need();
                plaid_keep_need();
            }
        }
        if (d->first_child) {
            walk(v, d->first_child, inner);
        }
    }
}

/* check_config runs before `apache2 -t` says "Syntax OK", and a failure
 * there stops both the test and the start. */
int plaid_check_config(apr_pool_t *pconf, apr_pool_t *plog,
                       apr_pool_t *ptemp, server_rec *s)
{
    struct validation v = { ptemp, s, 0 };

    (void)plog;
    walk(&v, ap_conftree, s);
    if (ap_state_query(AP_SQ_RUN_MODE) == AP_SQ_RM_CONFIG_TEST) {
        say_warnings(pconf, NULL);
    }
    return v.errors ? HTTP_INTERNAL_SERVER_ERROR : OK;
}

/* Serialize the body of every configuration read from the files once
 * (each vhost's, each <Location>'s and <Directory>'s); a
 * request's merge of them reuses it (plaid_merge_conf). And note each
 * hand-off path, and each endpoint of server s for the metrics. */
static void make_template(apr_pool_t *pconf, server_rec *s,
                          ap_conf_vector_t *v)
{
    plaid_conf *c = ap_get_module_config(v, &plaid_link_module);

    plaid_counters_note(pconf, s, c);

    plaid_note_handoffs(pconf, c);
    if (c && !c->link.body_template) {
        c->link.body_template = plaid_body_template_make(pconf,
                                                         &c->link.fields);
    }
}

static void make_templates(apr_pool_t *pconf, server_rec *s,
                           apr_array_header_t *secs)
{
    int i;

    for (i = 0; secs && i < secs->nelts; i++) {
        make_template(pconf, s, APR_ARRAY_IDX(secs, i, ap_conf_vector_t *));
    }
}

int plaid_post_config(apr_pool_t *pconf, apr_pool_t *plog,
                      apr_pool_t *ptemp, server_rec *s)
{
    server_rec *main_s = s;
    int rc;

    (void)plog;
    /* Once, in the error log: not in the first of the two readings of the
     * configuration at start-up. */
    if (ap_state_query(AP_SQ_MAIN_STATE) != AP_SQ_MS_CREATE_PRE_CONFIG) {
        say_warnings(pconf, s);
    }
    if ((rc = plaid_counters_post_config(pconf, s)) != OK) {
        return rc;
    }
    for (; s; s = s->next) {
        core_server_config *sconf =
            ap_get_core_module_config(s->module_config);

        make_template(pconf, s, s->lookup_defaults);
        make_templates(pconf, s, sconf->sec_url);
        make_templates(pconf, s, sconf->sec_dir);
    }
    /* Not thread-safe, so done here, in the parent, before any thread. */
    plaid_http_global_init();
    if ((rc = plaid_cache_post_config(pconf, ptemp, main_s)) != OK) {
        return rc;
    }
    return plaid_keep_post_config(pconf, main_s);
}
