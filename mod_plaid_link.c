/*
 * mod_plaid_link: a Plaid /link/token/create endpoint as httpd configuration.
 *
 *     <Location "/plaid/link-token">
 *         SetHandler plaid-link-token
 *         PlaidEnv sandbox
 *         ...
 *     </Location>
 *
 * This file is the httpd glue, read top to bottom: the per-directory
 * configuration and its merge, the directives, the start-up validation, the
 * child's curl handles, and the handler. The core it calls (include/,
 * src/) knows no httpd header.
 */
#include "httpd.h"
#include "http_config.h"
#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"
#include "ap_expr.h"
#include "ap_mpm.h"

#include <stdlib.h>

#include <apr_atomic.h>
#include <apr_env.h>
#include <apr_strings.h>
#include <apr_uri.h>
#include <curl/curl.h>

#include "plaid_known.h"
#include "plaid_link.h"

#define PLAID_HANDLER "plaid-link-token"
#define GENERIC_ERROR "Unable to fetch link_token"

/* The least PlaidUserIdHashKey's key may be: HMAC-SHA256 wants 32 bytes,
 * and a short key is a guessable one. */
#define HASH_KEY_MIN 16

module AP_MODULE_DECLARE_DATA plaid_link_module;
APLOG_USE_MODULE(plaid_link);

/* Log lines carry a number so that they can be searched for and documented
 * (docs/troubleshooting.md). */
#define PLLOGNO(n) "PL" #n ": "

/* ------------------------------------------------------------------ */
/* Server-wide settings, read from the main server's configuration only. */

typedef struct {
    int max_in_flight;         /* PlaidMaxInFlight, 0 unset */
} plaid_server_conf;

static void *create_server_conf(apr_pool_t *p, server_rec *s)
{
    (void)s;
    return apr_pcalloc(p, sizeof(plaid_server_conf));
}

static const char *set_max_in_flight(cmd_parms *cmd, void *cv,
                                     const char *arg)
{
    plaid_server_conf *sc =
        ap_get_module_config(cmd->server->module_config, &plaid_link_module);
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    char *end;
    long n = strtol(arg, &end, 10);

    (void)cv;
    if (err) {
        return err;
    }
    if (end == arg || *end || n < 1 || n > 100000) {
        return apr_psprintf(cmd->pool, "PlaidMaxInFlight takes a whole "
                            "number of calls, at least 1, not '%s'", arg);
    }
    sc->max_in_flight = (int)n;
    return NULL;
}

/* ------------------------------------------------------------------ */
/* Configuration: one struct for server, vhost and location. NULL (or -1)
 * means unset, so that a <Location> inherits from its vhost and the vhost
 * from the main server. */

typedef struct {
    const char *env;           /* PlaidEnv */
    /* The /link/token/create URL, built when the directive is read: from
     * PlaidEnv, and from PlaidBaseURL, which wins when both apply. */
    const char *env_url;
    const char *base_url;
    const char *client_id;
    const char *secret;        /* the value, never the directive's text */
    const char *ca_file;
    const char *proxy;         /* PlaidProxy: NULL unset, "" none */
    ap_expr_info_t *user_id;   /* NULL: REMOTE_USER */
    const char *hash_key;      /* PlaidUserIdHashKey's key, NULL: none */
    apr_size_t hash_key_len;
    /* 1 where a SetHandler of httpd's own configuration files named our
     * handler: only that makes an endpoint (see note_handler). */
    int handler_enabled;       /* -1 unset */
    const char *handler_htaccess; /* an .htaccess that named it */
    long connect_ms;           /* -1 unset */
    long total_ms;             /* -1 unset */
    int retries;               /* -1 unset */
    apr_array_header_t *origins; /* PlaidAllowedOrigins, NULL: any */
    plaid_link_fields fields;
    /* fields serialized at start-up (plaid_post_config), NULL: build the
     * body per request, as for a merge whose fields come from both sides */
    const plaid_body_template *body_template;
} plaid_conf;

static void *create_conf(apr_pool_t *p, char *dir)
{
    plaid_conf *c = apr_pcalloc(p, sizeof(*c));

    (void)dir;
    c->connect_ms = -1;
    c->total_ms = -1;
    c->retries = -1;
    c->handler_enabled = -1;
    return c;
}

#define PICK(field) (add->field ? add->field : base->field)
#define PICK_SET(field) (add->field != -1 ? add->field : base->field)
/* A body field, noting the side it came from: a merge whose body fields all
 * came from one side can use that side's body template. */
#define PICK_FIELD(field) do {                                              \
        c->fields.field = PICK(fields.field);                               \
        from_add |= add->fields.field != NULL;                              \
        from_base |= !add->fields.field && base->fields.field;              \
    } while (0)

static void *merge_conf(apr_pool_t *p, void *basev, void *addv)
{
    plaid_conf *base = basev, *add = addv;
    plaid_conf *c = apr_palloc(p, sizeof(*c));
    int from_add = 0, from_base = 0;

    /* PlaidEnv nearer than a PlaidBaseURL wins: a <Location> that says
     * production must not call the vhost's gateway. A nearer PlaidBaseURL
     * keeps the environment's name, for the log. */
    c->env = PICK(env);
    c->env_url = PICK(env_url);
    c->base_url = add->env ? add->base_url : PICK(base_url);
    c->client_id = PICK(client_id);
    /* The secret goes with the client id when the client id is nearer. */
    c->secret = add->secret || add->client_id ? add->secret : base->secret;
    c->ca_file = PICK(ca_file);
    c->proxy = PICK(proxy);
    c->user_id = PICK(user_id);
    c->hash_key_len = add->hash_key ? add->hash_key_len : base->hash_key_len;
    c->hash_key = PICK(hash_key);
    c->handler_enabled = PICK_SET(handler_enabled);
    c->handler_htaccess = PICK(handler_htaccess);
    c->connect_ms = PICK_SET(connect_ms);
    c->total_ms = PICK_SET(total_ms);
    c->retries = PICK_SET(retries);
    c->origins = PICK(origins);
    PICK_FIELD(client_name);
    PICK_FIELD(language);
    PICK_FIELD(webhook);
    PICK_FIELD(redirect_uri);
    PICK_FIELD(android_package_name);
    PICK_FIELD(link_customization_name);
    PICK_FIELD(country_codes);
    PICK_FIELD(products);
    PICK_FIELD(optional_products);
    PICK_FIELD(required_if_supported_products);
    PICK_FIELD(additional_consented_products);
    PICK_FIELD(extra);
    c->body_template = !from_base ? add->body_template
                     : !from_add ? base->body_template : NULL;
    return c;
}

/* ------------------------------------------------------------------ */
/* Directives. Values are checked here, as they are read, so that an error
 * points at the line; what is missing is checked at start-up. */

static const char *where(cmd_parms *cmd)
{
    if (cmd->path) {
        return apr_psprintf(cmd->temp_pool, " (in %s)", cmd->path);
    }
    if (cmd->server->is_virtual) {
        return apr_psprintf(cmd->temp_pool, " (in the <VirtualHost> of %s "
                            "line %u)", cmd->server->defn_name,
                            cmd->server->defn_line_number);
    }
    return "";
}

static const char *fail(cmd_parms *cmd, const char *msg)
{
    return apr_pstrcat(cmd->pool, msg, where(cmd), NULL);
}

static const char *set_env(cmd_parms *cmd, void *cv, const char *arg)
{
    plaid_conf *c = cv;
    const char *url, *err = plaid_env_url(arg, &url);

    if (err) {
        return fail(cmd, apr_psprintf(cmd->pool, "%s, not '%s'", err, arg));
    }
    c->env = apr_pstrdup(cmd->pool, arg);
    c->env_url = apr_pstrcat(cmd->pool, url, PLAID_LINK_TOKEN_PATH, NULL);
    return NULL;
}

static const char *set_base_url(cmd_parms *cmd, void *cv, const char *arg)
{
    plaid_conf *c = cv;
    const char *base, *err = plaid_check_base_url(cmd->pool, arg, &base);

    if (err) {
        return fail(cmd, err);
    }
    c->base_url = apr_pstrcat(cmd->pool, base, PLAID_LINK_TOKEN_PATH, NULL);
    return NULL;
}

/* Warnings found while the configuration is read, said once it is whole:
 * at `apache2 -t` (plaid_check_config) or at start-up (plaid_post_config).
 * A warning logged as a directive is read would be lost inside a
 * <VirtualHost>, whose error log is not open yet. */
#define WARNINGS_KEY "plaid_link_warnings"

static void defer_warning(cmd_parms *cmd, const char *text)
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

/* mod_info (/server-info?config) and `apache2 -D DUMP_CONFIG` print each
 * directive's arguments from the configuration tree: show them this
 * instead of a secret or a whole client id. */
static void hide_arguments(cmd_parms *cmd, const char *shown)
{
    ((ap_directive_t *)cmd->directive)->args = shown;
}

/* env: values by variable name, kept in the process pool. The variable
 * is removed from httpd's environment as it is read, before any child,
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
        apr_env_delete(sec->env_name, cmd->temp_pool);
    }
    if (sec->others_can_read) {
        defer_warning(cmd, apr_psprintf(cmd->temp_pool, PLLOGNO(0004)
                      "%s %s (%s line %d%s) can be read by every user of "
                      "this machine: chmod 600 it (or 640, group of "
                      "httpd's user)", what, spec, cmd->directive->filename,
                      cmd->directive->line_num, where(cmd)));
    }
    return NULL;
}

static const char *set_secret(cmd_parms *cmd, void *cv, const char *arg)
{
    plaid_conf *c = cv;
    plaid_secret sec;
    const char *err = read_secret(cmd, "PlaidSecret", arg, &sec);

    if (!err) {
        err = plaid_check_credential(cmd->pool, "PlaidSecret", sec.value);
    }
    if (err) {
        return fail(cmd, err);
    }
    c->secret = sec.value;
    if (sec.is_inline) {
        hide_arguments(cmd, "(hidden)");
        defer_warning(cmd, apr_psprintf(cmd->temp_pool, PLLOGNO(0001)
                      "PlaidSecret is written inline in %s line %d%s: use "
                      "file:/path or env:NAME to keep it out of httpd.conf "
                      "and backups", cmd->directive->filename,
                      cmd->directive->line_num, where(cmd)));
    }
    return NULL;
}

static const char *set_client_id(cmd_parms *cmd, void *cv, const char *arg)
{
    plaid_conf *c = cv;
    const char *err = plaid_check_credential(cmd->pool, "PlaidClientId", arg);

    if (err) {
        return fail(cmd, err);
    }
    c->client_id = arg;
    hide_arguments(cmd, plaid_mask(cmd->pool, arg));
    return NULL;
}

static const char *set_hash_key(cmd_parms *cmd, void *cv, const char *arg)
{
    plaid_conf *c = cv;
    plaid_secret sec;
    const char *err;

    if (strncmp(arg, "file:", 5) != 0 && strncmp(arg, "env:", 4) != 0) {
        return fail(cmd, "PlaidUserIdHashKey takes file:/path or env:NAME; "
                         "a key written in the configuration is not kept "
                         "secret");
    }
    if ((err = read_secret(cmd, "PlaidUserIdHashKey", arg, &sec))) {
        return fail(cmd, err);
    }
    if (strlen(sec.value) < HASH_KEY_MIN) {
        return fail(cmd, apr_psprintf(cmd->pool, "PlaidUserIdHashKey: the "
                                      "key is %lu bytes; use at least %d "
                                      "random bytes (openssl rand -hex 32)",
                                      (unsigned long)strlen(sec.value),
                                      HASH_KEY_MIN));
    }
    c->hash_key = sec.value;
    c->hash_key_len = strlen(sec.value);
    return NULL;
}

static const char *set_proxy(cmd_parms *cmd, void *cv, const char *arg)
{
    plaid_conf *c = cv;
    apr_uri_t uri;
    static const char *const schemes[] = {
        "http", "https", "socks5", "socks5h", NULL
    };
    int i;

    if (strcasecmp(arg, "none") == 0) {
        c->proxy = "";
        return NULL;
    }
    if (apr_uri_parse(cmd->temp_pool, arg, &uri) == APR_SUCCESS
        && uri.scheme && uri.hostname && *uri.hostname
        && (!uri.path || !*uri.path || strcmp(uri.path, "/") == 0)) {
        for (i = 0; schemes[i]; i++) {
            if (strcasecmp(uri.scheme, schemes[i]) == 0) {
                c->proxy = arg;
                return NULL;
            }
        }
    }
    return fail(cmd, apr_psprintf(cmd->pool, "PlaidProxy takes none or a "
                                  "proxy's URL (http://proxy.example.com:3128, "
                                  "https://..., socks5h://...), not '%s'",
                                  arg));
}

/* Our handlers: a SetHandler naming one is noted (note_handler). */
static int is_our_handler(const char *name)
{
    return strcmp(name, PLAID_HANDLER) == 0;
}

/* Read before core's SetHandler, which then reads the same line (this
 * declines it). A handler named by httpd's own configuration files makes
 * an endpoint; one named in an .htaccess file (or by AddHandler, or a
 * RewriteRule's H= flag) would let whoever writes that file mint tokens
 * with the server's credentials, so the handler refuses it. */
static const char *note_handler(cmd_parms *cmd, void *cv, const char *args)
{
    plaid_conf *c = cv;
    const char *name = ap_getword_conf(cmd->temp_pool, &args);

    if (is_our_handler(name)) {
        if (ap_check_cmd_context(cmd, NOT_IN_HTACCESS)) {
            c->handler_htaccess = apr_pstrdup(cmd->pool,
                                              cmd->directive->filename);
        }
        else {
            c->handler_enabled = 1;
        }
    }
    return DECLINE_CMD;
}

static const char *set_string(cmd_parms *cmd, void *cv, const char *arg)
{
    int offset = (int)(apr_uintptr_t)cmd->info;

    if (!*arg) {
        return fail(cmd, apr_psprintf(cmd->pool, "%s may not be empty",
                                      cmd->cmd->name));
    }
    *(const char **)((char *)cv + offset) = arg;
    return NULL;
}

/* https, or http to a loopback host: Plaid takes http://localhost redirect
 * URIs in sandbox. */
static const char *set_url_field(cmd_parms *cmd, void *cv, const char *arg)
{
    const char *ignored;

    if (strncasecmp(arg, "https://", 8) != 0
        && plaid_check_base_url(cmd->temp_pool, arg, &ignored)) {
        return fail(cmd, apr_psprintf(cmd->pool, "%s '%s' must be an https "
                                      "URL", cmd->cmd->name, arg));
    }
    return set_string(cmd, cv, arg);
}

/* " a b c": a table's values, for a message. */
static const char *one_line(apr_pool_t *p, const char *const *values)
{
    const char *text = "";
    int i;

    for (i = 0; values[i]; i++) {
        text = apr_pstrcat(p, text, " ", values[i], NULL);
    }
    return text;
}

static const char *set_language(cmd_parms *cmd, void *cv, const char *arg)
{
    if (!plaid_language_known(arg)) {
        return fail(cmd, apr_psprintf(cmd->pool, "PlaidLanguage '%s' is not "
                                      "a language Plaid Link supports:%s", arg,
                                      one_line(cmd->temp_pool,
                                               plaid_languages)));
    }
    ((plaid_conf *)cv)->fields.language = arg;
    return NULL;
}

/* Repeated directives add to the list; the list as a whole is inherited. */
static apr_array_header_t *list_for(cmd_parms *cmd, apr_array_header_t **list)
{
    if (!*list) {
        *list = apr_array_make(cmd->pool, 4, sizeof(const char *));
    }
    return *list;
}

static const char *add_country_code(cmd_parms *cmd, void *cv, const char *arg)
{
    plaid_conf *c = cv;

    if (!plaid_country_code_known(arg)) {
        return fail(cmd, apr_psprintf(cmd->pool, "PlaidCountryCodes: '%s' is "
                                      "not a CountryCode Plaid supports:%s",
                                      arg, one_line(cmd->temp_pool,
                                                    plaid_country_codes)));
    }
    APR_ARRAY_PUSH(list_for(cmd, &c->fields.country_codes),
                   const char *) = arg;
    return NULL;
}

static const char *add_product(cmd_parms *cmd, void *cv, const char *arg)
{
    plaid_conf *c = cv;
    enum plaid_product_field field =
        (enum plaid_product_field)(apr_uintptr_t)cmd->info;
    apr_array_header_t **list;

    switch (field) {
    case PLAID_FIELD_OPTIONAL_PRODUCTS:
        list = &c->fields.optional_products;
        break;
    case PLAID_FIELD_REQUIRED_IF_SUPPORTED:
        list = &c->fields.required_if_supported_products;
        break;
    case PLAID_FIELD_ADDITIONAL_CONSENTED_PRODUCTS:
        list = &c->fields.additional_consented_products;
        break;
    default:
        list = &c->fields.products;
        break;
    }
    if (!plaid_product_allowed(arg, field)) {
        return fail(cmd, apr_psprintf(cmd->pool, "%s: '%s' is not a product "
                                      "Plaid accepts in %s of "
                                      "/link/token/create%s", cmd->cmd->name,
                                      arg, plaid_product_field_name(field),
                                      strcmp(arg, "balance") == 0
                                      ? " (balance needs no initialization)"
                                      : ""));
    }
    APR_ARRAY_PUSH(list_for(cmd, list), const char *) = arg;
    return NULL;
}

static const char *set_extra(cmd_parms *cmd, void *cv, const char *arg)
{
    plaid_conf *c = cv;
    apr_size_t n = strlen(arg);
    const char *err;

    /* Raw arguments: '{"a": 1}' and {"a": 1} both work. */
    if (n >= 2 && arg[0] == '\'' && arg[n - 1] == '\'') {
        arg = apr_pstrmemdup(cmd->temp_pool, arg + 1, n - 2);
    }
    err = plaid_parse_extra(cmd->pool, arg, &c->fields.extra);
    return err ? fail(cmd, err) : NULL;
}

static const char *set_user_id(cmd_parms *cmd, void *cv, const char *arg)
{
    plaid_conf *c = cv;
    const char *err = NULL;

    if (!plaid_expr_has_variable(arg)) {
        return fail(cmd, apr_psprintf(cmd->pool, "PlaidUserId '%s' has no "
                                      "variable part: every user would get "
                                      "the same client_user_id. Use "
                                      "%%{REMOTE_USER}, a header or a "
                                      "variable set per user", arg));
    }
    c->user_id = ap_expr_parse_cmd(cmd, arg, AP_EXPR_FLAG_STRING_RESULT,
                                   &err, NULL);
    if (err) {
        return fail(cmd, apr_pstrcat(cmd->pool, "PlaidUserId: cannot parse "
                                     "expression '", arg, "': ", err, NULL));
    }
    return NULL;
}

static const char *set_timeout(cmd_parms *cmd, void *cv, const char *connect,
                               const char *total)
{
    plaid_conf *c = cv;
    const char *err;

    if ((err = plaid_parse_duration(connect, &c->connect_ms))) {
        return fail(cmd, apr_pstrcat(cmd->pool, "PlaidTimeout: CONNECT ", err,
                                     NULL));
    }
    if ((err = plaid_parse_duration(total, &c->total_ms))) {
        return fail(cmd, apr_pstrcat(cmd->pool, "PlaidTimeout: TOTAL ", err,
                                     NULL));
    }
    if (c->connect_ms > c->total_ms) {
        return fail(cmd, "PlaidTimeout: CONNECT may not exceed TOTAL");
    }
    return NULL;
}

static const char *set_retries(cmd_parms *cmd, void *cv, const char *arg)
{
    plaid_conf *c = cv;
    char *end;
    long n = strtol(arg, &end, 10);

    if (end == arg || *end || n < 0 || n > PLAID_RETRIES_MAX) {
        return fail(cmd, apr_psprintf(cmd->pool, "PlaidRetries takes a whole "
                                      "number from 0 to %d, not '%s'",
                                      PLAID_RETRIES_MAX, arg));
    }
    c->retries = (int)n;
    return NULL;
}

static const char *add_origin(cmd_parms *cmd, void *cv, const char *arg)
{
    plaid_conf *c = cv;
    apr_size_t n = strlen(arg);

    if (strncmp(arg, "https://", 8) != 0 && strncmp(arg, "http://", 7) != 0) {
        return fail(cmd, apr_psprintf(cmd->pool, "PlaidAllowedOrigins: '%s' "
                                      "is not an origin such as "
                                      "https://www.example.com", arg));
    }
    if (arg[n - 1] == '/') {
        return fail(cmd, apr_psprintf(cmd->pool, "PlaidAllowedOrigins: '%s' "
                                      "must not end with '/': browsers send "
                                      "the origin without a path", arg));
    }
    APR_ARRAY_PUSH(list_for(cmd, &c->origins), const char *) = arg;
    return NULL;
}

/* PlaidCACertificate system: set, and meaning the system's CAs, so that a
 * section can leave a private CA it would inherit. */
static const char system_cas[] = "system";

static const char *set_ca_file(cmd_parms *cmd, void *cv, const char *arg)
{
    plaid_conf *c = cv;
    const char *path;
    apr_finfo_t fi;

    if (strcmp(arg, system_cas) == 0) {
        c->ca_file = system_cas;
        return NULL;
    }
    path = ap_server_root_relative(cmd->pool, arg);
    if (!path || apr_stat(&fi, path, APR_FINFO_TYPE, cmd->temp_pool)
                     != APR_SUCCESS || fi.filetype != APR_REG) {
        return fail(cmd, apr_psprintf(cmd->pool, "PlaidCACertificate '%s' is "
                                      "not a readable file", arg));
    }
    c->ca_file = path;
    return NULL;
}

#define FIELD(f) (void *)APR_OFFSETOF(plaid_conf, f)
#define CTX (RSRC_CONF | ACCESS_CONF)

static const command_rec plaid_cmds[] = {
    AP_INIT_TAKE1("PlaidEnv", set_env, NULL, CTX,
        "sandbox or production: the Plaid API host to call"),
    AP_INIT_TAKE1("PlaidBaseURL", set_base_url, NULL, CTX,
        "Another API host (an emulator, an egress gateway); https, or http "
        "to a loopback host"),
    AP_INIT_TAKE1("PlaidClientId", set_client_id, NULL, CTX,
        "The Plaid client_id"),
    AP_INIT_TAKE1("PlaidSecret", set_secret, NULL, CTX,
        "The Plaid secret for PlaidEnv: file:/path, env:NAME, or the value"),
    AP_INIT_TAKE1("PlaidClientName", set_string, FIELD(fields.client_name),
        CTX, "client_name: the application's name shown in Link"),
    AP_INIT_TAKE1("PlaidLanguage", set_language, NULL, CTX,
        "language: the language Link is shown in (en, fr, ...)"),
    AP_INIT_ITERATE("PlaidCountryCodes", add_country_code, NULL, CTX,
        "country_codes: one or more CountryCode values (US GB ...)"),
    AP_INIT_ITERATE("PlaidProducts", add_product,
        (void *)PLAID_FIELD_PRODUCTS, CTX,
        "products: the products the linked Item must support"),
    AP_INIT_ITERATE("PlaidOptionalProducts", add_product,
        (void *)PLAID_FIELD_OPTIONAL_PRODUCTS, CTX,
        "optional_products: products fetched on a best-effort basis"),
    AP_INIT_ITERATE("PlaidRequiredIfSupportedProducts", add_product,
        (void *)PLAID_FIELD_REQUIRED_IF_SUPPORTED, CTX,
        "required_if_supported_products: products required where supported"),
    AP_INIT_ITERATE("PlaidAdditionalConsentedProducts", add_product,
        (void *)PLAID_FIELD_ADDITIONAL_CONSENTED_PRODUCTS, CTX,
        "additional_consented_products: products to collect consent for"),
    AP_INIT_TAKE1("PlaidWebhook", set_url_field, FIELD(fields.webhook), CTX,
        "webhook: the URL Plaid sends webhooks to"),
    AP_INIT_TAKE1("PlaidRedirectURI", set_url_field,
        FIELD(fields.redirect_uri), CTX,
        "redirect_uri: the OAuth redirect URI registered with Plaid"),
    AP_INIT_TAKE1("PlaidAndroidPackageName", set_string,
        FIELD(fields.android_package_name), CTX,
        "android_package_name: the Android app's package name"),
    AP_INIT_TAKE1("PlaidLinkCustomization", set_string,
        FIELD(fields.link_customization_name), CTX,
        "link_customization_name: a Link customization from the dashboard"),
    AP_INIT_RAW_ARGS("PlaidLinkTokenExtra", set_extra, NULL, CTX,
        "A JSON object merged into the request body, for fields without a "
        "directive"),
    AP_INIT_TAKE1("PlaidUserId", set_user_id, NULL, CTX,
        "An expression giving user.client_user_id; default %{REMOTE_USER}"),
    AP_INIT_TAKE1("PlaidUserIdHashKey", set_hash_key, NULL, CTX,
        "file:/path or env:NAME: send the HMAC-SHA256 of the user id under "
        "this key as client_user_id, not the id itself"),
    AP_INIT_TAKE1("PlaidProxy", set_proxy, NULL, CTX,
        "An outbound proxy's URL for the calls to Plaid, or none to ignore "
        "the environment's https_proxy"),
    AP_INIT_TAKE1("PlaidMaxInFlight", set_max_in_flight, NULL, RSRC_CONF,
        "Calls to Plaid at once per child process; more get 503 at once "
        "(default: half of ThreadsPerChild)"),
    AP_INIT_TAKE2("PlaidTimeout", set_timeout, NULL, CTX,
        "CONNECT TOTAL: seconds to connect and for the whole call "
        "(default 3 10)"),
    AP_INIT_TAKE1("PlaidRetries", set_retries, NULL, CTX,
        "Retries after a failed attempt that is safe to retry (no "
        "connection, 5xx, 429), within PlaidTimeout (default 2)"),
    AP_INIT_ITERATE("PlaidAllowedOrigins", add_origin, NULL, CTX,
        "Origins (scheme://host[:port]) allowed to call the endpoint; "
        "a request with another Origin header gets 403"),
    AP_INIT_TAKE1("PlaidCACertificate", set_ca_file, NULL, CTX,
        "A PEM file of CAs to verify the Plaid host with, or 'system' for "
        "the system's CAs (the default)"),
    /* Not ours: read before core's, which it leaves the line to. */
    AP_INIT_RAW_ARGS("SetHandler", note_handler, NULL, OR_FILEINFO,
        "(noted by mod_plaid_link, handled by core)"),
    { NULL, { NULL }, NULL, 0, 0, NULL }
};

/* ------------------------------------------------------------------ */
/* Start-up validation: every place that sets the handler must give Plaid
 * what /link/token/create requires. */

/* What a complete configuration lacks, as a list of directives, or NULL. */
static const char *missing(apr_pool_t *p, const plaid_conf *c)
{
    const char *lack = NULL;

#define LACKS(cond, name) \
    if (cond) lack = lack ? apr_pstrcat(p, lack, ", ", name, NULL) : name
    LACKS(!c->client_id, "PlaidClientId");
    LACKS(!c->secret, "PlaidSecret");
    LACKS(!c->env && !c->base_url, "PlaidEnv (or PlaidBaseURL)");
    LACKS(!c->fields.client_name, "PlaidClientName");
    LACKS(!c->fields.language, "PlaidLanguage");
    LACKS(!c->fields.country_codes, "PlaidCountryCodes");
    LACKS(!c->fields.products, "PlaidProducts");
#undef LACKS
    return lack;
}

static const char *vhost_name(apr_pool_t *p, const server_rec *s)
{
    return apr_psprintf(p, "%s:%u", s->server_hostname ? s->server_hostname
                                                       : "*",
                        s->port ? s->port
                                : (s->addrs ? s->addrs->host_port : 0));
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
            c = c ? merge_conf(p, c, add) : add;
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
                           const ap_directive_t *sethandler)
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
        c = create_conf(v->p, NULL);
    }
    if ((lack = missing(v->p, c))) {
        ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_EMERG, 0, NULL,
                     PLLOGNO(0002)
                     "SetHandler " PLAID_HANDLER " needs %s"
                     " (vhost %s, location %s, %s line %d): Plaid's "
                     "/link/token/create requires them", lack,
                     vhost_name(v->p, s), path ? path : "(server)",
                     sethandler->filename, sethandler->line_num);
        v->errors++;
    }
}

static int sets_our_handler(apr_pool_t *p, const ap_directive_t *d)
{
    const char *args = d->args;

    return strcasecmp(d->directive, "SetHandler") == 0
        && strcmp(ap_getword_conf(p, &args), PLAID_HANDLER) == 0;
}

static void walk(struct validation *v, const ap_directive_t *d, server_rec *s)
{
    for (; d; d = d->next) {
        server_rec *inner = s;

        if (strcasecmp(d->directive, "<VirtualHost") == 0) {
            inner = server_for(v->main_s, d);
            if (!inner) {
                continue;
            }
        }
        if (sets_our_handler(v->p, d)) {
            check_endpoint(v, s, d);
        }
        if (d->first_child) {
            walk(v, d->first_child, inner);
        }
    }
}

/* check_config runs before `apache2 -t` says "Syntax OK", and a failure
 * there stops both the test and the start. */
static int plaid_check_config(apr_pool_t *pconf, apr_pool_t *plog,
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
 * request's merge of them reuses it (merge_conf). */
static void make_template(apr_pool_t *pconf, ap_conf_vector_t *v)
{
    plaid_conf *c = ap_get_module_config(v, &plaid_link_module);

    if (c && !c->body_template) {
        c->body_template = plaid_body_template_make(pconf, &c->fields);
    }
}

static void make_templates(apr_pool_t *pconf, apr_array_header_t *secs)
{
    int i;

    for (i = 0; secs && i < secs->nelts; i++) {
        make_template(pconf, APR_ARRAY_IDX(secs, i, ap_conf_vector_t *));
    }
}

static int plaid_post_config(apr_pool_t *pconf, apr_pool_t *plog,
                             apr_pool_t *ptemp, server_rec *s)
{
    static int curl_ready;

    (void)plog;
    (void)ptemp;
    /* Once, in the error log: not in the first of the two readings of the
     * configuration at start-up. */
    if (ap_state_query(AP_SQ_MAIN_STATE) != AP_SQ_MS_CREATE_PRE_CONFIG) {
        say_warnings(pconf, s);
    }
    for (; s; s = s->next) {
        core_server_config *sconf =
            ap_get_core_module_config(s->module_config);

        make_template(pconf, s->lookup_defaults);
        make_templates(pconf, sconf->sec_url);
        make_templates(pconf, sconf->sec_dir);
    }
    /* Not thread-safe, so done here, in the parent, before any thread. */
    if (!curl_ready && curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK) {
        curl_ready = 1;
    }
    return OK;
}

/* ------------------------------------------------------------------ */
/* Each child keeps its own curl handles, made after the fork. */

static plaid_http *child_http;

/* PlaidMaxInFlight: the calls this child may have in flight, and has. */
static apr_uint32_t max_in_flight;
static apr_uint32_t in_flight;

/* Half the threads of a child, so that a slow Plaid leaves the other half
 * to the rest of the site; prefork's one thread is its own limit. */
static apr_uint32_t default_max_in_flight(void)
{
    int threads = 1;

    if (ap_mpm_query(AP_MPMQ_MAX_THREADS, &threads) != APR_SUCCESS
        || threads < 2) {
        return 1;
    }
    return (apr_uint32_t)(threads / 2);
}

static void plaid_child_init(apr_pool_t *pchild, server_rec *s)
{
    plaid_server_conf *sc = ap_get_module_config(s->module_config,
                                                 &plaid_link_module);

    max_in_flight = sc->max_in_flight > 0 ? (apr_uint32_t)sc->max_in_flight
                                          : default_max_in_flight();
    apr_atomic_set32(&in_flight, 0);
    if (plaid_http_create(pchild, &child_http) != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, PLLOGNO(0003)
                     "cannot set up the curl handle pool");
        child_http = NULL;
    }
}

/* ------------------------------------------------------------------ */
/* The handler. */

/* mod_unique_id's id when it is loaded, else 16 random bytes. */
static const char *correlation_id(request_rec *r)
{
    const char *id = apr_table_get(r->subprocess_env, "UNIQUE_ID");
    unsigned char raw[12];
    char *hex;
    int i;

    if (id && *id) {
        return id;
    }
    if (apr_generate_random_bytes(raw, sizeof(raw)) != APR_SUCCESS) {
        return apr_psprintf(r->pool, "%" APR_TIME_T_FMT, r->request_time);
    }
    hex = apr_palloc(r->pool, sizeof(raw) * 2 + 1);
    for (i = 0; i < (int)sizeof(raw); i++) {
        apr_snprintf(hex + i * 2, 3, "%02x", raw[i]);
    }
    return hex;
}

static int answer(request_rec *r, int status, json_t *body)
{
    apr_size_t len = 0;
    char *text = plaid_json_dump(r->pool, body, &len);

    json_decref(body);
    r->status = status;
    ap_set_content_type(r, "application/json");
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    apr_table_setn(r->headers_out, "X-Content-Type-Options", "nosniff");
    if (text) {
        ap_set_content_length(r, len);
        if (!r->header_only) {
            ap_rwrite(text, (int)len, r);
        }
    }
    return OK;
}

static int answer_error(request_rec *r, int status, const char *msg,
                        const char *id)
{
    return answer(r, status, json_pack("{s:s, s:s}", "error", msg,
                                       "request_id", id));
}

/* Reads an optional JSON-object body of at most PLAID_BROWSER_BODY_MAX
 * bytes. Returns OK or the status to refuse the request with. */
static int read_browser_body(request_rec *r, const char **why)
{
    char *buf = apr_palloc(r->pool, PLAID_BROWSER_BODY_MAX + 1);
    apr_size_t len = 0;
    const char *cl = apr_table_get(r->headers_in, "Content-Length");
    json_error_t err;
    json_t *json;
    long n;
    int rc;

    if (cl && apr_atoi64(cl) > PLAID_BROWSER_BODY_MAX) {
        r->connection->keepalive = AP_CONN_CLOSE;
        return HTTP_REQUEST_ENTITY_TOO_LARGE;
    }
    if ((rc = ap_setup_client_block(r, REQUEST_CHUNKED_DECHUNK)) != OK) {
        *why = "unreadable request body";
        return rc == HTTP_REQUEST_ENTITY_TOO_LARGE ? rc : HTTP_BAD_REQUEST;
    }
    if (ap_should_client_block(r)) {
        while ((n = ap_get_client_block(r, buf + len,
                                        PLAID_BROWSER_BODY_MAX + 1 - len)) > 0) {
            len += (apr_size_t)n;
            if (len > PLAID_BROWSER_BODY_MAX) {
                r->connection->keepalive = AP_CONN_CLOSE;
                return HTTP_REQUEST_ENTITY_TOO_LARGE;
            }
        }
        if (n < 0) {
            *why = "the request body could not be read";
            return HTTP_BAD_REQUEST;
        }
    }
    if (len == 0) {
        return OK;
    }
    json = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &err);
    rc = json_is_object(json) ? OK : HTTP_BAD_REQUEST;
    if (rc != OK) {
        *why = json ? "the body is JSON but not an object"
                    : apr_psprintf(r->pool, "the body is not JSON: %s", err.text);
    }
    json_decref(json);
    return rc;
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

    if (!c->origins || !origin) {
        return 0;
    }
    for (i = 0; i < c->origins->nelts; i++) {
        if (strcasecmp(origin, APR_ARRAY_IDX(c->origins, i, const char *))
            == 0) {
            return 0;
        }
    }
    return 1;
}

static const char *user_id_of(request_rec *r, const plaid_conf *c)
{
    const char *err = NULL, *id;

    if (!c->user_id) {
        return r->user;
    }
    id = ap_expr_str_exec(r, c->user_id, &err);
    if (err) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, PLLOGNO(0104)
                      "PlaidUserId could not be evaluated: %s", err);
        return NULL;
    }
    return id;
}

/* The path the browser called, which the handler's <Location> covers. A
 * section's config only exists where one of our directives was written,
 * so the config cannot say which <Location> set the handler. */
static const char *location_of(request_rec *r)
{
    return ap_escape_logitem(r->pool, r->uri);
}

static void log_failure(request_rec *r, const plaid_conf *c, const char *id,
                        const char *url, int status, const plaid_result *res)
{
    apr_pool_t *p = r->pool;
    const char *hint = plaid_hint(res);

    ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, PLLOGNO(0100)
        "link_token request failed: vhost=%s location=%s id=%s status=%d "
        "plaid_http_status=%ld error_type=%s error_code=%s error_message=%s "
        "display_message=%s request_id=%s documentation_url=%s "
        "suggested_action=%s retry_after=%s curl_error=%s problem=%s "
        "elapsed_ms=%ld attempts=%d env=%s url=%s client_id=%s hint=%s",
        vhost_name(p, r->server), location_of(r), id,
        status, res->http_status,
        plaid_log_quote(p, res->error_type, PLAID_LOG_FIELD_MAX),
        plaid_log_quote(p, res->error_code, PLAID_LOG_FIELD_MAX),
        plaid_log_quote(p, res->error_message, PLAID_LOG_FIELD_MAX),
        plaid_log_quote(p, res->display_message, PLAID_LOG_FIELD_MAX),
        plaid_log_quote(p, res->request_id, PLAID_LOG_FIELD_MAX),
        plaid_log_quote(p, res->documentation_url, PLAID_LOG_FIELD_MAX),
        plaid_log_quote(p, res->suggested_action, PLAID_LOG_FIELD_MAX),
        plaid_log_quote(p, res->retry_after, PLAID_LOG_FIELD_MAX),
        plaid_log_quote(p, res->curl_error, PLAID_LOG_FIELD_MAX),
        plaid_log_quote(p, res->problem, PLAID_LOG_FIELD_MAX),
        res->elapsed_ms, res->attempts, c->env ? c->env : "(PlaidBaseURL)",
        plaid_log_quote(p, url, PLAID_LOG_FIELD_MAX),
        plaid_mask(p, c->client_id),
        plaid_log_quote(p, hint, PLAID_LOG_FIELD_MAX));
}

/* Calls Plaid for one user and answers the browser. */
static int create_link_token(request_rec *r, const plaid_conf *c,
                             const char *id, const char *user)
{
    plaid_result res;
    plaid_call call;
    int status;

    memset(&res, 0, sizeof(res));
    call.url = c->base_url ? c->base_url : c->env_url;
    call.client_id = c->client_id;
    call.secret = c->secret;
    call.ca_file = c->ca_file == system_cas ? NULL : c->ca_file;
    call.proxy = c->proxy;
    call.connect_timeout_ms = c->connect_ms > 0
        ? c->connect_ms : PLAID_CONNECT_TIMEOUT_MS_DEFAULT;
    call.total_timeout_ms = c->total_ms > 0
        ? c->total_ms : PLAID_TOTAL_TIMEOUT_MS_DEFAULT;
    call.retries = c->retries >= 0 ? c->retries : PLAID_RETRIES_DEFAULT;
    call.body = c->body_template
        ? plaid_body_from_template(r->pool, c->body_template, user,
                                   &call.body_len)
        : plaid_link_token_body(r->pool, &c->fields, user, &call.body_len);
    if (!call.body) {
        res.outcome = PLAID_FAIL_UNUSABLE;
        res.problem = "the request body could not be built";
    }
    else {
        ap_log_rerror(APLOG_MARK, APLOG_TRACE1, 0, r, PLLOGNO(0102)
                      "POST %s body=%s", call.url, call.body);
        plaid_http_post(child_http, r->pool, &call, &res);
    }
    apr_atomic_dec32(&in_flight);
    status = plaid_browser_status(res.outcome);
    if (res.outcome != PLAID_OK) {
        long wait_s = plaid_retry_after_s(res.retry_after);

        log_failure(r, c, id, call.url, status, &res);
        if (status == HTTP_SERVICE_UNAVAILABLE && wait_s > 0) {
            apr_table_setn(r->headers_out, "Retry-After",
                           apr_ltoa(r->pool, wait_s));
        }
        return answer_error(r, status, GENERIC_ERROR, id);
    }
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, PLLOGNO(0101)
                  "link_token created: vhost=%s location=%s id=%s "
                  "request_id=%s elapsed_ms=%ld", vhost_name(r->pool, r->server),
                  location_of(r), id,
                  plaid_log_quote(r->pool, res.request_id, PLAID_LOG_FIELD_MAX),
                  res.elapsed_ms);
    return answer(r, 200, json_pack("{s:s, s:s, s:s}", "link_token",
                                    res.link_token, "expiration",
                                    res.expiration, "request_id", id));
}

static int plaid_handler(request_rec *r)
{
    const plaid_conf *c;
    const char *id, *user, *why = NULL, *lack;
    int rc;

    if (!r->handler || strcmp(r->handler, PLAID_HANDLER) != 0) {
        return DECLINED;
    }
    c = ap_get_module_config(r->per_dir_config, &plaid_link_module);
    id = correlation_id(r);

    if (r->method_number != M_POST) {
        r->allowed = AP_METHOD_BIT << M_POST;
        apr_table_setn(r->headers_out, "Allow", "POST");
        return answer_error(r, HTTP_METHOD_NOT_ALLOWED, "Method not allowed",
                            id);
    }
    if (c->handler_enabled != 1) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, PLLOGNO(0111)
                      "link_token request refused: vhost=%s location=%s id=%s: "
                      "the handler was set by %s, not by a SetHandler in "
                      "httpd's own configuration files, so this URL is no "
                      "endpoint; Plaid was not called",
                      vhost_name(r->pool, r->server), location_of(r), id,
                      c->handler_htaccess
                      ? ap_escape_logitem(r->pool, c->handler_htaccess)
                      : "AddHandler, a RewriteRule or another module");
        return answer_error(r, HTTP_INTERNAL_SERVER_ERROR, GENERIC_ERROR, id);
    }
    if ((lack = missing(r->pool, c)) || !child_http) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, PLLOGNO(0103)
                      "link_token request refused: vhost=%s location=%s id=%s: "
                      "%s is not set for this URL", vhost_name(r->pool, r->server),
                      location_of(r), id,
                      lack ? lack : "the curl handle pool");
        return answer_error(r, HTTP_INTERNAL_SERVER_ERROR, GENERIC_ERROR, id);
    }
    if (forgeable(r)) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, PLLOGNO(0107)
                      "browser request refused: id=%s status=415: neither "
                      "Content-Type: application/json nor X-Requested-With",
                      id);
        return answer_error(r, HTTP_UNSUPPORTED_MEDIA_TYPE, "Send "
                            "Content-Type: application/json", id);
    }
    if (origin_refused(r, c)) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, PLLOGNO(0108)
                      "browser request refused: id=%s status=403: Origin %s "
                      "is not in PlaidAllowedOrigins", id,
                      plaid_log_quote(r->pool, apr_table_get(r->headers_in,
                                                             "Origin"), 200));
        return answer_error(r, HTTP_FORBIDDEN, "Origin not allowed", id);
    }
    if ((rc = read_browser_body(r, &why)) != OK) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, PLLOGNO(0105)
                      "browser request refused: id=%s status=%d: %s", id, rc,
                      why ? why : "body too large");
        return answer_error(r, rc, rc == HTTP_REQUEST_ENTITY_TOO_LARGE
                            ? "Request body too large"
                            : "Request body must be a JSON object", id);
    }
    user = user_id_of(r, c);
    if (!user || !*user) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, PLLOGNO(0109)
                      "browser request refused: id=%s status=401: PlaidUserId "
                      "gave no user id (not signed in?)", id);
        return answer_error(r, HTTP_UNAUTHORIZED, "Not signed in", id);
    }
    if ((why = plaid_check_user_id(user))) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, PLLOGNO(0106)
                      "link_token request refused: vhost=%s location=%s id=%s: "
                      "the PlaidUserId value %s", vhost_name(r->pool, r->server),
                      location_of(r), id, why);
        return answer_error(r, HTTP_BAD_REQUEST, "Unusable user id", id);
    }
    if (c->hash_key && !(user = plaid_user_id_hmac(r->pool, c->hash_key,
                                                    c->hash_key_len, user))) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, PLLOGNO(0112)
                      "link_token request failed: vhost=%s location=%s id=%s: "
                      "OpenSSL could not compute the PlaidUserIdHashKey HMAC",
                      vhost_name(r->pool, r->server), location_of(r), id);
        return answer_error(r, HTTP_INTERNAL_SERVER_ERROR, GENERIC_ERROR, id);
    }
    /* Counted here, released after the call (create_link_token). */
    if (apr_atomic_inc32(&in_flight) >= max_in_flight) {
        apr_atomic_dec32(&in_flight);
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, PLLOGNO(0110)
                      "link_token request refused: vhost=%s location=%s id=%s "
                      "status=503: PlaidMaxInFlight: %u calls to Plaid are "
                      "already in flight in this child; Plaid was not called",
                      vhost_name(r->pool, r->server), location_of(r), id,
                      max_in_flight);
        apr_table_setn(r->headers_out, "Retry-After", "1");
        return answer_error(r, HTTP_SERVICE_UNAVAILABLE, GENERIC_ERROR, id);
    }
    return create_link_token(r, c, id, user);
}

static void plaid_register_hooks(apr_pool_t *p)
{
    (void)p;
    ap_hook_check_config(plaid_check_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_post_config(plaid_post_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_child_init(plaid_child_init, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_handler(plaid_handler, NULL, NULL, APR_HOOK_MIDDLE);
}

module AP_MODULE_DECLARE_DATA plaid_link_module = {
    STANDARD20_MODULE_STUFF,
    create_conf,
    merge_conf,
    create_server_conf,
    NULL,
    plaid_cmds,
    plaid_register_hooks,
    AP_MODULE_FLAG_NONE
};
