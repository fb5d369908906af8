/*
 * The emulator's directives: the credentials and environment of a location
 * (per directory, so that /sandbox and /production can differ in one vhost).
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

const command_rec emu_cmds[] = {
    AP_INIT_TAKE2("PlaidEmulatorCredentials", set_credentials, NULL,
                  RSRC_CONF | ACCESS_CONF,
                  "CLIENT_ID SECRET: the only pair the emulator accepts, in "
                  "the PLAID-CLIENT-ID/PLAID-SECRET headers or the body"),
    AP_INIT_TAKE1("PlaidEmulatorEnv", set_env, NULL, RSRC_CONF | ACCESS_CONF,
                  "sandbox (default) or production: the <env> in "
                  "link-<env>-<uuid> tokens"),
    { NULL }
};
