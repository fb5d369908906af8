/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mod_plaid_link: Plaid's Link integration as httpd configuration.
 *
 *     <Location "/plaid/link-token">
 *         SetHandler plaid-link-token
 *         PlaidEnv sandbox
 *         ...
 *     </Location>
 *
 * This file is the module record and its hooks, in the order httpd runs
 * them. The glue lives in module/ (its header says which file does what;
 * module/handlers.c has a row for each handler); the core it calls
 * (include/, src/) knows no httpd header.
 */
#include "module/glue.h"

/* r->filename of a URL a handler answers (plaid_translate_name). */
#define PLAID_NO_FILE "plaid:"

/* The module's URLs are no files. As mod_proxy does for its URLs,
 * translate_name claims a URL whose <Location> (or <If>: both are walked
 * before it) sets one of the handlers, naming it "plaid:" and the handler
 * instead of a path below the DocumentRoot, and map_to_storage then skips
 * the directory and file walks: no stat() of a path that is no file, and
 * <Directory>, <Files> and .htaccess do not apply to these URLs; <Location>
 * and <If> do (httpd walks them again after map_to_storage). Should a
 * SetHandler expression name another handler by fixups, no file answers:
 * "plaid:..." is none. */
static int plaid_translate_name(request_rec *r)
{
    core_dir_config *d = ap_get_core_module_config(r->per_dir_config);
    const char *err = NULL, *name;

    if (!d->expr_handler) {
        return DECLINED;
    }
    name = ap_expr_str_exec(r, d->expr_handler, &err);
    if (err || !plaid_handler_named(name)) {
        return DECLINED;
    }
    r->filename = apr_pstrcat(r->pool, PLAID_NO_FILE, name, NULL);
    return OK;
}

static int plaid_map_to_storage(request_rec *r)
{
    return r->filename && strncmp(r->filename, PLAID_NO_FILE,
                                  sizeof(PLAID_NO_FILE) - 1) == 0
        ? OK : DECLINED;
}

/* The row of the table (module/handlers.c) that r's handler names takes
 * the request through its intake, then runs. */
static int plaid_run_handler(request_rec *r)
{
    const plaid_handler *h = plaid_handler_named(r->handler);
    plaid_request req;
    int rc;

    if (!h) {
        return DECLINED;
    }
    if ((rc = plaid_request_accept(r, h, &req)) != OK) {
        return rc == DONE ? OK : rc;
    }
    return h->run(r, &req);
}

static int plaid_pre_config(apr_pool_t *pconf, apr_pool_t *plog,
                            apr_pool_t *ptemp)
{
    (void)plog;
    (void)ptemp;
    plaid_cache_pre_config(pconf);
    return OK;
}

static void plaid_register_hooks(apr_pool_t *p)
{
    plaid_handoff_register(p);
    plaid_counters_register(p);
    ap_hook_pre_config(plaid_pre_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_check_config(plaid_check_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_post_config(plaid_post_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_child_init(plaid_child_init, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_translate_name(plaid_translate_name, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_map_to_storage(plaid_map_to_storage, NULL, NULL, APR_HOOK_FIRST);
    ap_hook_fixups(plaid_handoff_fixups, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_handler(plaid_run_handler, NULL, NULL, APR_HOOK_MIDDLE);
}

module AP_MODULE_DECLARE_DATA plaid_link_module = {
    STANDARD20_MODULE_STUFF,
    plaid_create_conf,
    plaid_merge_conf,
    plaid_create_server_conf,
    NULL,
    plaid_cmds,
    plaid_register_hooks,
    AP_MODULE_FLAG_NONE
};
