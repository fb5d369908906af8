/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The credentials' directives: PlaidSecret and PlaidUserIdHashKey (file:,
 * env: or inline), PlaidClientId. A secret never appears where httpd shows
 * configuration (mod_info, DUMP_CONFIG), an env: variable leaves httpd's
 * environment (its value overwritten where the kernel shows it, in
 * /proc/<pid>/environ) before any child, CGI or piped logger can read
 * it, and a value that cannot travel in a header is refused where it is
 * written.
 */
#include "glue.h"

/* The least PlaidUserIdHashKey's key may be: HMAC-SHA256 wants 32 bytes,
 * and a short key is a guessable one. */
#define HASH_KEY_MIN 16

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
static const char *read_secret(cmd_parms *cmd, const char *what,
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

const char *plaid_set_secret(cmd_parms *cmd, void *cv, const char *arg)
{
    plaid_conf *c = cv;
    plaid_secret sec;
    const char *err = read_secret(cmd, "PlaidSecret", arg, &sec);

    if (!err) {
        err = plaid_check_credential(cmd->pool, "PlaidSecret", sec.value);
    }
    if (err) {
        return plaid_cmd_fail(cmd, err);
    }
    c->conn.secret = sec.value;
    if (sec.is_inline) {
        plaid_cmd_show(cmd, "(hidden)");
        plaid_defer_warning(cmd, apr_psprintf(cmd->temp_pool, PLLOGNO(0001)
                      "PlaidSecret is written inline in %s line %d%s: use "
                      "file:/path or env:NAME to keep it out of httpd.conf "
                      "and backups", cmd->directive->filename,
                      cmd->directive->line_num, plaid_cmd_where(cmd)));
    }
    return NULL;
}

const char *plaid_set_client_id(cmd_parms *cmd, void *cv, const char *arg)
{
    plaid_conf *c = cv;
    const char *err = plaid_check_credential(cmd->pool, "PlaidClientId", arg);

    if (err) {
        return plaid_cmd_fail(cmd, err);
    }
    c->conn.client_id = arg;
    plaid_cmd_show(cmd, plaid_mask(cmd->pool, arg));
    return NULL;
}

const char *plaid_set_hash_key(cmd_parms *cmd, void *cv, const char *arg)
{
    plaid_conf *c = cv;
    plaid_secret sec;
    const char *err;

    if (strncmp(arg, "file:", 5) != 0 && strncmp(arg, "env:", 4) != 0) {
        return plaid_cmd_fail(cmd, "PlaidUserIdHashKey takes file:/path or "
                                   "env:NAME; a key written in the "
                                   "configuration is not kept secret");
    }
    if ((err = read_secret(cmd, "PlaidUserIdHashKey", arg, &sec))) {
        return plaid_cmd_fail(cmd, err);
    }
    if (strlen(sec.value) < HASH_KEY_MIN) {
        return plaid_cmd_failf(cmd, "PlaidUserIdHashKey: the "
                               "key is %lu bytes; use at least %d "
                               "random bytes (openssl rand -hex 32)",
                               (unsigned long)strlen(sec.value),
                               HASH_KEY_MIN);
    }
    c->browser.hash_key = sec.value;
    c->browser.hash_key_len = strlen(sec.value);
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
    return read_secret(cmd, what, arg, sec);
}
