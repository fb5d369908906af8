/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The emulator's directives: the credentials and environment of a location
 * (per directory, so that /sandbox and /production can differ in one vhost)
 * and, server-wide, where the state every child shares is kept.
 */
#include <string.h>

#include "apr_strings.h"

#include "emu.h"

void *emu_create_dir_config(apr_pool_t *p, char *dir)
{
    (void)dir;
    return apr_pcalloc(p, sizeof(emu_config));
}

void *emu_merge_dir_config(apr_pool_t *p, void *basev, void *addv)
{
    const emu_config *base = basev, *add = addv;
    emu_config *conf = apr_pcalloc(p, sizeof(*conf));

    /* The pair travels together: half of one and half of another is never
     * what an administrator meant. */
    conf->client_id = add->client_id ? add->client_id : base->client_id;
    conf->secret = add->client_id ? add->secret : base->secret;
    conf->env = add->env ? add->env : base->env;
    return conf;
}

void *emu_create_server_config(apr_pool_t *p, server_rec *s)
{
    (void)s;
    return apr_pcalloc(p, sizeof(emu_server_config));
}

static const char *set_credentials(cmd_parms *cmd, void *dirconf,
                                   const char *client_id, const char *secret)
{
    emu_config *conf = dirconf;

    if (!*client_id || !*secret) {
        return apr_pstrcat(cmd->pool, cmd->cmd->name,
                           ": CLIENT_ID and SECRET must not be empty", NULL);
    }
    conf->client_id = client_id;
    conf->secret = secret;
    return NULL;
}

static const char *set_env(cmd_parms *cmd, void *dirconf, const char *env)
{
    emu_config *conf = dirconf;

    if (strcmp(env, "sandbox") != 0 && strcmp(env, "production") != 0) {
        return apr_pstrcat(cmd->pool, cmd->cmd->name,
                           ": expected sandbox or production, not ", env, NULL);
    }
    conf->env = env;
    return NULL;
}

static const char *set_state_dir(cmd_parms *cmd, void *dirconf,
                                 const char *dir)
{
    emu_server_config *sconf =
        ap_get_module_config(cmd->server->module_config,
                             &plaid_emulator_module);
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);

    (void)dirconf;
    if (err) {
        return err;
    }
    if (!*dir) {
        return apr_pstrcat(cmd->pool, cmd->cmd->name,
                           ": DIRECTORY must not be empty", NULL);
    }
    sconf->state_dir = ap_server_root_relative(cmd->pool, dir);
    return sconf->state_dir ? NULL : apr_pstrcat(cmd->pool, cmd->cmd->name,
                                                 ": invalid path ", dir, NULL);
}

const command_rec emu_cmds[] = {
    AP_INIT_TAKE2("PlaidEmulatorCredentials", set_credentials, NULL,
                  RSRC_CONF | ACCESS_CONF,
                  "CLIENT_ID SECRET: the only pair the emulator accepts, in "
                  "the PLAID-CLIENT-ID/PLAID-SECRET headers or the body"),
    AP_INIT_TAKE1("PlaidEmulatorEnv", set_env, NULL, RSRC_CONF | ACCESS_CONF,
                  "sandbox (default) or production: the <env> in "
                  "link-<env>-<uuid> and the other tokens"),
    AP_INIT_TAKE1("PlaidEmulatorStateDir", set_state_dir, NULL, RSRC_CONF,
                  "DIRECTORY (server-wide): where every child records the "
                  "public tokens already exchanged; default "
                  "plaid_emulator.<pid> in the runtime directory, removed "
                  "when httpd stops"),
    { NULL }
};
