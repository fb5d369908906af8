/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The credentials' values, for the setters of PlaidSecret,
 * PlaidUserIdHashKey and PlaidItemKey (cmds.c): read from file:, env: or
 * inline. A secret never appears where httpd shows configuration
 * (mod_info, DUMP_CONFIG), an env: variable leaves httpd's
 * environment (its value overwritten where the kernel shows it, in
 * /proc/<pid>/environ) before any child, CGI or piped logger can read
 * it, and a value that cannot travel in a header is refused where it is
 * written.
 */
#include "glue.h"

/* env: values by variable name, kept in the process pool. The variable
 * is erased from httpd's environment as it is read, before any child,
 * CGI or piped logger inherits it; the next read of the configuration
 * (the second pass at start-up, each graceful restart) finds the value
 * here. */
static apr_table_t *env_values(process_rec *process)
{
    static const char key[] = "plaid_link_env_values";
    void *t = NULL;

    apr_pool_userdata_get(&t, key, process->pool);
    if (!t) {
        t = apr_table_make(process->pool, 4);
        apr_pool_userdata_set(t, key, apr_pool_cleanup_null, process->pool);
    }
    return t;
}

/* PlaidSecret's and PlaidUserIdHashKey's file:, env: or inline value. */
const char *plaid_read_secret(cmd_parms *cmd, const char *what,
                               const char *arg, plaid_secret *sec)
{
    apr_table_t *kept = env_values(cmd->server->process);
    const char *spec = arg, *err;

    if (strncmp(arg, "file:", 5) == 0 && arg[5]) {
        spec = apr_pstrcat(cmd->temp_pool, "file:",
                           ap_server_root_relative(cmd->temp_pool, arg + 5),
                           NULL);
    }
    err = plaid_resolve_secret(cmd->pool, what, spec,
                               strncmp(arg, "env:", 4) == 0
                               ? apr_table_get(kept, arg + 4) : NULL, sec);
    if (err) {
        return err;
    }
    if (sec->env_name) {
        apr_table_set(kept, sec->env_name, sec->value);
        plaid_env_erase(sec->env_name);
    }
    if (sec->others_can_read) {
        plaid_defer_warning(cmd, apr_psprintf(cmd->temp_pool, PLLOGNO(0004)
                      "%s %s (%s line %d%s) can be read by every user of "
                      "this machine: chmod 600 it (or 640, group of "
                      "httpd's user)", what, spec, cmd->directive->filename,
                      cmd->directive->line_num, plaid_cmd_where(cmd)));
    }
    return NULL;
}

const char *plaid_read_secret_file(cmd_parms *cmd, const char *what,
                                   const char *arg, plaid_secret *sec)
{
    if (strncmp(arg, "file:", 5) != 0 || !arg[5]) {
        return apr_psprintf(cmd->pool, "%s takes file:/path, not a value "
                            "or env:NAME", what);
    }
    plaid_cmd_show(cmd, "(hidden)");
    return plaid_read_secret(cmd, what, arg, sec);
}
