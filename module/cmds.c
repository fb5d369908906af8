/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The directives. Values are checked here, as they are read, so that an
 * error points at the line; what is missing is checked at start-up
 * (check.c). The help strings read like the documentation: t/docs.t keeps
 * docs/directives.md in step with this table.
 */
#include <stdlib.h>

#include <apr_env.h>
#include <apr_network_io.h>
#include <apr_uri.h>

#include "ap_provider.h"
#include "ap_socache.h"

#include "glue.h"

/* The least PlaidUserIdHashKey's key may be: HMAC-SHA256 wants 32 bytes,
 * and a short key is a guessable one. */
#define HASH_KEY_MIN 16

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

const char *plaid_cmd_where(cmd_parms *cmd)
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

const char *plaid_cmd_fail(cmd_parms *cmd, const char *msg)
{
    return apr_pstrcat(cmd->pool, msg, plaid_cmd_where(cmd), NULL);
}

const char *plaid_cmd_failf(cmd_parms *cmd, const char *fmt, ...)
{
    va_list ap;
    const char *msg;

    va_start(ap, fmt);
    msg = apr_pvsprintf(cmd->pool, fmt, ap);
    va_end(ap);
    return plaid_cmd_fail(cmd, msg);
}

void plaid_cmd_show(cmd_parms *cmd, const char *shown)
{
    ((ap_directive_t *)cmd->directive)->args = shown;
}

static const char *set_env(cmd_parms *cmd, void *cv, const char *arg)
{
    plaid_conf *c = cv;
    const char *url, *err = plaid_env_url(arg, &url);

    if (err) {
        return plaid_cmd_failf(cmd, "%s, not '%s'", err, arg);
    }
    c->conn.env = apr_pstrdup(cmd->pool, arg);
    c->conn.env_url = url;
    return NULL;
}

static const char *set_base_url(cmd_parms *cmd, void *cv, const char *arg)
{
    plaid_conf *c = cv;
    const char *base, *err = plaid_check_base_url(cmd->pool, arg, &base);

    if (err) {
        return plaid_cmd_fail(cmd, err);
    }
    c->conn.base_url = base;
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
        c->conn.proxy = "";
        return NULL;
    }
    if (apr_uri_parse(cmd->temp_pool, arg, &uri) == APR_SUCCESS
        && uri.scheme && uri.hostname && *uri.hostname
        && (!uri.path || !*uri.path || strcmp(uri.path, "/") == 0)) {
        for (i = 0; schemes[i]; i++) {
            if (strcasecmp(uri.scheme, schemes[i]) == 0) {
                c->conn.proxy = arg;
                plaid_cmd_show(cmd, plaid_hide_userinfo(cmd->pool, arg));
                return NULL;
            }
        }
    }
    return plaid_cmd_failf(cmd, "PlaidProxy takes none or a "
                           "proxy's URL (http://proxy.example.com:3128, "
                           "https://..., socks5h://...), not '%s'",
                           plaid_hide_userinfo(cmd->pool, arg));
}

/* PlaidApiPaths and PlaidApiAllowFrom: the gateway's (api.c). */
static const char *set_api_paths(cmd_parms *cmd, void *cv, const char *arg)
{
    plaid_conf *c = cv;
    const ap_directive_t *sec = cmd->directive->parent;
    apr_size_t n;
    const char *err = plaid_cmd_commas(cmd, arg, "paths");

    if (err) {
        return err;
    }

    if (!sec || strcasecmp(sec->directive, "<Location") != 0 || !cmd->path) {
        return plaid_cmd_fail(cmd, "PlaidApiPaths belongs in the <Location> "
                                   "that sets plaid-api (not <LocationMatch>"
                                   ", <Directory> or a vhost): the Plaid "
                                   "path is what follows that location");
    }
    if (!plaid_api_path_known(arg)) {
        return plaid_cmd_fail(cmd, apr_psprintf(cmd->pool, "PlaidApiPaths: "
                                                "'%s' is not a POST path of "
                                                "Plaid's API (such as "
                                                "/accounts/balance/get)",
                                                arg));
    }
    if (!c->api.paths) {
        c->api.paths = apr_array_make(cmd->pool, 8, sizeof(const char *));
    }
    APR_ARRAY_PUSH(c->api.paths, const char *) = arg;
    n = strlen(cmd->path);
    while (n > 1 && cmd->path[n - 1] == '/') {
        n--;
    }
    c->api.prefix = apr_pstrmemdup(cmd->pool, cmd->path, n);
    return NULL;
}

static const char *set_api_allow(cmd_parms *cmd, void *cv, const char *arg)
{
    plaid_conf *c = cv;
    char *ip = apr_pstrdup(cmd->temp_pool, arg), *mask = strchr(ip, '/');
    apr_ipsubnet_t *subnet;
    const char *err = plaid_cmd_commas(cmd, arg, "addresses");

    if (err) {
        return err;
    }
    if (mask) {
        *mask++ = '\0';
    }
    if (apr_ipsubnet_create(&subnet, ip, mask, cmd->pool) != APR_SUCCESS) {
        return plaid_cmd_fail(cmd, apr_psprintf(cmd->pool, "PlaidApiAllowFrom"
                                                ": '%s' is not an address or "
                                                "CIDR range", arg));
    }
    if (!c->api.allow) {
        c->api.allow = apr_array_make(cmd->pool, 4, sizeof(apr_ipsubnet_t *));
    }
    APR_ARRAY_PUSH(c->api.allow, apr_ipsubnet_t *) = subnet;
    return NULL;
}

/* The credentials (their values are read, checked and hidden by
 * secrets.c). */
static const char *set_secret(cmd_parms *cmd, void *cv, const char *arg)
{
    plaid_conf *c = cv;
    plaid_secret sec;
    const char *err = plaid_read_secret(cmd, "PlaidSecret", arg, &sec);

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

static const char *set_client_id(cmd_parms *cmd, void *cv, const char *arg)
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

static const char *set_hash_key(cmd_parms *cmd, void *cv, const char *arg)
{
    plaid_conf *c = cv;
    plaid_secret sec;
    const char *err;

    if (strncmp(arg, "file:", 5) != 0 && strncmp(arg, "env:", 4) != 0) {
        return plaid_cmd_fail(cmd, "PlaidUserIdHashKey takes file:/path or "
                                   "env:NAME; a key written in the "
                                   "configuration is not kept secret");
    }
    if ((err = plaid_read_secret(cmd, "PlaidUserIdHashKey", arg, &sec))) {
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

/* PlaidItemStore and PlaidItemKey (items.c keeps the Items). */
static const char *set_item_store(cmd_parms *cmd, void *cv, const char *arg)
{
    plaid_conf *c = cv;

    if (strcmp(arg, "dbd") != 0) {
        return plaid_cmd_failf(cmd, "PlaidItemStore takes dbd "
                               "(the database of mod_dbd's DBDriver "
                               "and DBDParams), not '%s'", arg);
    }
    if (!plaid_item_store_available()) {
        return plaid_cmd_fail(cmd, "PlaidItemStore dbd needs mod_dbd: "
                                   "LoadModule dbd_module before it, and "
                                   "DBDriver and DBDParams in the server or "
                                   "the vhost");
    }
    c->items.store = "dbd";
    return NULL;
}

static const char *read_key(cmd_parms *cmd, const char *arg,
                            plaid_seal_key *key)
{
    plaid_secret sec;
    const char *err = plaid_read_secret_file(cmd, "PlaidItemKey", arg, &sec);

    if (!err && (err = plaid_seal_key_parse(sec.value, key))) {
        err = apr_psprintf(cmd->pool, "PlaidItemKey %s: %s", arg, err);
    }
    return err;
}

static const char *set_item_key(cmd_parms *cmd, void *cv, const char *cur,
                                const char *prev)
{
    plaid_conf *c = cv;
    plaid_item_keys *k = apr_pcalloc(cmd->pool, sizeof(*k));
    const char *err;

    if ((err = read_key(cmd, cur, &k->current))
        || (prev && (err = read_key(cmd, prev, &k->previous)))) {
        return plaid_cmd_fail(cmd, err);
    }
    k->open[k->n++] = &k->current;
    if (prev) {
        k->open[k->n++] = &k->previous;
    }
    c->items.keys = k;
    return NULL;
}

/* PlaidCache: the provider looked up as the directive is read, as
 * mod_authn_socache does (cache.c makes and opens it). */
static const char *set_cache(cmd_parms *cmd, void *cv, const char *arg)
{
    plaid_server_conf *sc = ap_get_module_config(cmd->server->module_config,
                                                 &plaid_link_module);
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY), *colon;
    const char *name;

    (void)cv;
    if (err) {
        return err;
    }
    colon = ap_strchr_c(arg, ':');
    name = colon ? apr_pstrmemdup(cmd->pool, arg, (apr_size_t)(colon - arg))
                 : arg;
    sc->cache = ap_lookup_provider(AP_SOCACHE_PROVIDER_GROUP, name,
                                   AP_SOCACHE_PROVIDER_VERSION);
    if (!sc->cache) {
        return apr_psprintf(cmd->pool, "PlaidCache: no socache provider "
                            "'%s': LoadModule socache_%s_module first (shmcb "
                            "for one server, redis or memcache for several)",
                            name, name);
    }
    sc->cache_args = colon ? colon + 1 : NULL;
    sc->cache_text = arg;
    return NULL;
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
    const plaid_handler *h = plaid_handler_named(name);

    if (h) {
        if (ap_check_cmd_context(cmd, NOT_IN_HTACCESS)) {
            c->handler.htaccess = apr_pstrdup(cmd->pool,
                                              cmd->directive->filename);
        }
        else {
            c->handler.enabled = 1;
            c->handler.endpoint = plaid_counted_endpoint(cmd, h);
        }
    }
    return DECLINE_CMD;
}

static const char *set_string(cmd_parms *cmd, void *cv, const char *arg)
{
    int offset = (int)(apr_uintptr_t)cmd->info;

    if (!*arg) {
        return plaid_cmd_failf(cmd, "%s may not be empty",
                               cmd->cmd->name);
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
        return plaid_cmd_failf(cmd, "%s '%s' must be an https "
                               "URL", cmd->cmd->name, arg);
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
        return plaid_cmd_failf(cmd, "PlaidLanguage '%s' is not "
                               "a language Plaid Link supports:%s", arg,
                               one_line(cmd->temp_pool,
                                        plaid_languages));
    }
    ((plaid_conf *)cv)->link.fields.language = arg;
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

const char *plaid_cmd_commas(cmd_parms *cmd, const char *arg,
                             const char *values)
{
    const char *spaced;

    if (!strchr(arg, ',')) {
        return NULL;
    }
    /* The whole line, as it would read with spaces: httpd hands the values
     * over one by one, and "US, CA" is two of them. */
    spaced = plaid_spaced_list(cmd->temp_pool, cmd->directive
                               ? cmd->directive->args : arg);
    return plaid_cmd_failf(cmd, "%s: %s are separated by "
                           "spaces, not commas: %s %s",
                           cmd->cmd->name, values, cmd->cmd->name,
                           spaced ? spaced : arg);
}

static const char *add_country_code(cmd_parms *cmd, void *cv, const char *arg)
{
    plaid_conf *c = cv;
    const char *err = plaid_cmd_commas(cmd, arg, "country codes");

    if (err) {
        return err;
    }
    if (!plaid_country_code_known(arg)) {
        return plaid_cmd_failf(cmd, "PlaidCountryCodes: '%s' is "
                               "not a CountryCode Plaid supports:%s",
                               arg, one_line(cmd->temp_pool,
                                             plaid_country_codes));
    }
    APR_ARRAY_PUSH(list_for(cmd, &c->link.fields.country_codes),
                   const char *) = arg;
    return NULL;
}

static const char *add_product(cmd_parms *cmd, void *cv, const char *arg)
{
    plaid_conf *c = cv;
    enum plaid_product_field field =
        (enum plaid_product_field)(apr_uintptr_t)cmd->info;
    apr_array_header_t **list;
    const char *err = plaid_cmd_commas(cmd, arg, "products");

    if (err) {
        return err;
    }

    switch (field) {
    case PLAID_FIELD_OPTIONAL_PRODUCTS:
        list = &c->link.fields.optional_products;
        break;
    case PLAID_FIELD_REQUIRED_IF_SUPPORTED:
        list = &c->link.fields.required_if_supported_products;
        break;
    case PLAID_FIELD_ADDITIONAL_CONSENTED_PRODUCTS:
        list = &c->link.fields.additional_consented_products;
        break;
    default:
        list = &c->link.fields.products;
        break;
    }
    if (!plaid_product_allowed(arg, field)) {
        return plaid_cmd_failf(cmd, "%s: '%s' is not a product "
                               "Plaid accepts in %s of "
                               "/link/token/create%s", cmd->cmd->name,
                               arg, plaid_product_field_name(field),
                               strcmp(arg, "balance") == 0
                               ? " (balance needs no initialization)"
                               : "");
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
    err = plaid_parse_extra(cmd->pool, arg, &c->link.fields.extra);
    return err ? plaid_cmd_fail(cmd, err) : NULL;
}

static const char *set_user_id(cmd_parms *cmd, void *cv, const char *arg)
{
    plaid_conf *c = cv;
    const char *err = NULL;

    if (!plaid_expr_has_variable(arg)) {
        return plaid_cmd_failf(cmd, "PlaidUserId '%s' has no "
                               "variable part: every user would get "
                               "the same client_user_id. Use "
                               "%%{REMOTE_USER}, a header or a "
                               "variable set per user", arg);
    }
    c->browser.user_id = ap_expr_parse_cmd(cmd, arg, AP_EXPR_FLAG_STRING_RESULT,
                                   &err, NULL);
    if (err) {
        return plaid_cmd_failf(cmd, "PlaidUserId: cannot parse expression "
                               "'%s': %s", arg, err);
    }
    return NULL;
}

static const char *set_timeout(cmd_parms *cmd, void *cv, const char *connect,
                               const char *total)
{
    plaid_conf *c = cv;
    const char *err;

    if ((err = plaid_parse_duration(connect, &c->conn.connect_ms))) {
        return plaid_cmd_failf(cmd, "PlaidTimeout: CONNECT %s", err);
    }
    if ((err = plaid_parse_duration(total, &c->conn.total_ms))) {
        return plaid_cmd_failf(cmd, "PlaidTimeout: TOTAL %s", err);
    }
    if (c->conn.connect_ms > c->conn.total_ms) {
        return plaid_cmd_fail(cmd, "PlaidTimeout: CONNECT may not exceed "
                                   "TOTAL");
    }
    return NULL;
}

static const char *set_retries(cmd_parms *cmd, void *cv, const char *arg)
{
    plaid_conf *c = cv;
    char *end;
    long n = strtol(arg, &end, 10);

    if (end == arg || *end || n < 0 || n > PLAID_RETRIES_MAX) {
        return plaid_cmd_failf(cmd, "PlaidRetries takes a whole "
                               "number from 0 to %d, not '%s'",
                               PLAID_RETRIES_MAX, arg);
    }
    c->conn.retries = (int)n;
    return NULL;
}

static const char *add_origin(cmd_parms *cmd, void *cv, const char *arg)
{
    plaid_conf *c = cv;
    apr_size_t n = strlen(arg);
    const char *err = plaid_cmd_commas(cmd, arg, "origins");

    if (err) {
        return err;
    }
    if (strncmp(arg, "https://", 8) != 0 && strncmp(arg, "http://", 7) != 0) {
        return plaid_cmd_failf(cmd, "PlaidAllowedOrigins: '%s' "
                               "is not an origin such as "
                               "https://www.example.com", arg);
    }
    if (arg[n - 1] == '/') {
        return plaid_cmd_failf(cmd, "PlaidAllowedOrigins: '%s' "
                               "must not end with '/': browsers send "
                               "the origin without a path", arg);
    }
    APR_ARRAY_PUSH(list_for(cmd, &c->browser.origins), const char *) = arg;
    return NULL;
}

/* A URL-path of this server, as ap_internal_redirect takes it. */
static const char *check_handoff(cmd_parms *cmd, const char *arg)
{
    if (arg[0] != '/' || strchr(arg, '?') || strchr(arg, '#')
        || ap_strchr_c(arg, '%') || strstr(arg, "/../")) {
        return plaid_cmd_failf(cmd, "%s takes a URL-path of "
                               "this server such as /app/plaid.php, "
                               "without query or escapes, not '%s'",
                               cmd->cmd->name, arg);
    }
    return NULL;
}

/* PlaidExchangeHandoff and PlaidWebhookHandoff: the field is cmd->info. */
static const char *set_handoff(cmd_parms *cmd, void *cv, const char *arg)
{
    const char *err = check_handoff(cmd, arg);

    if (!err) {
        *(const char **)((char *)cv + (apr_uintptr_t)cmd->info) = arg;
    }
    return err;
}

static const char *set_webhook_max_age(cmd_parms *cmd, void *cv,
                                       const char *arg)
{
    long ms;
    const char *err = plaid_parse_duration(arg, &ms);

    if (err || ms < 1000) {
        return plaid_cmd_failf(cmd, "PlaidWebhookMaxAge takes "
                               "1 to 600 seconds, not '%s'", arg);
    }
    ((plaid_conf *)cv)->webhook.max_age_s = (int)(ms / 1000);
    return NULL;
}

/* COUNT SECONDS: whole numbers, at least 1. */
static const char *count_and_seconds(cmd_parms *cmd, const char *count,
                                     const char *seconds, int *n, int *s)
{
    char *end1, *end2;
    long a = strtol(count, &end1, 10), b = strtol(seconds, &end2, 10);

    if (end1 == count || *end1 || end2 == seconds || *end2 || a < 1
        || a > 1000000 || b < 1 || b > 86400) {
        return plaid_cmd_failf(cmd, "%s takes a count and a "
                               "number of seconds (1 to 86400), "
                               "such as 5 60, not '%s %s'",
                               cmd->cmd->name, count, seconds);
    }
    *n = (int)a;
    *s = (int)b;
    plaid_cache_need();
    return NULL;
}

static const char *set_rate_limit(cmd_parms *cmd, void *cv, const char *count,
                                  const char *seconds)
{
    plaid_conf *c = cv;

    c->limits.scope = cmd->path ? cmd->path : "/";
    return count_and_seconds(cmd, count, seconds, &c->limits.user_count,
                             &c->limits.user_seconds);
}

static const char *set_rate_limit_total(cmd_parms *cmd, void *cv,
                                        const char *count,
                                        const char *seconds)
{
    plaid_conf *c = cv;

    return count_and_seconds(cmd, count, seconds, &c->limits.total_count,
                             &c->limits.total_seconds);
}

static const char *set_breaker(cmd_parms *cmd, void *cv,
                               const char *failures, const char *seconds)
{
    plaid_conf *c = cv;

    return count_and_seconds(cmd, failures, seconds,
                             &c->limits.breaker_failures,
                             &c->limits.breaker_seconds);
}

/* PlaidCACertificate system: set, and meaning the system's CAs, so that a
 * section can leave a private CA it would inherit. */

static const char *set_ca_file(cmd_parms *cmd, void *cv, const char *arg)
{
    plaid_conf *c = cv;
    const char *path;
    apr_finfo_t fi;

    if (strcmp(arg, plaid_system_cas) == 0) {
        c->conn.ca_file = plaid_system_cas;
        return NULL;
    }
    path = ap_server_root_relative(cmd->pool, arg);
    if (!path || apr_stat(&fi, path, APR_FINFO_TYPE, cmd->temp_pool)
                     != APR_SUCCESS || fi.filetype != APR_REG) {
        return plaid_cmd_failf(cmd, "PlaidCACertificate '%s' is "
                               "not a readable file", arg);
    }
    c->conn.ca_file = path;
    return NULL;
}

#define FIELD(f) (void *)APR_OFFSETOF(plaid_conf, f)
#define CTX (RSRC_CONF | ACCESS_CONF)

const command_rec plaid_cmds[] = {
    AP_INIT_TAKE1("PlaidEnv", set_env, NULL, CTX,
        "sandbox or production: the Plaid API host to call"),
    AP_INIT_TAKE1("PlaidBaseURL", set_base_url, NULL, CTX,
        "Another API host (an emulator, an egress gateway); https, or http "
        "to a loopback host"),
    AP_INIT_TAKE1("PlaidClientId", set_client_id, NULL, CTX,
        "The Plaid client_id"),
    AP_INIT_TAKE1("PlaidSecret", set_secret, NULL, CTX,
        "The Plaid secret for PlaidEnv: file:/path, env:NAME, or the value"),
    AP_INIT_TAKE1("PlaidClientName", set_string, FIELD(link.fields.client_name),
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
    AP_INIT_TAKE1("PlaidWebhook", set_url_field, FIELD(link.fields.webhook), CTX,
        "webhook: the URL Plaid sends webhooks to"),
    AP_INIT_TAKE1("PlaidRedirectURI", set_url_field,
        FIELD(link.fields.redirect_uri), CTX,
        "redirect_uri: the OAuth redirect URI registered with Plaid"),
    AP_INIT_TAKE1("PlaidAndroidPackageName", set_string,
        FIELD(link.fields.android_package_name), CTX,
        "android_package_name: the Android app's package name"),
    AP_INIT_TAKE1("PlaidLinkCustomization", set_string,
        FIELD(link.fields.link_customization_name), CTX,
        "link_customization_name: a Link customization from the dashboard"),
    AP_INIT_RAW_ARGS("PlaidLinkTokenExtra", set_extra, NULL, CTX,
        "A JSON object merged into the request body, for fields without a "
        "directive"),
    AP_INIT_TAKE1("PlaidExchangeHandoff", set_handoff, FIELD(exchange.handoff),
        CTX,
        "The URL-path of the application that receives the exchanged Item "
        "(PLAID_ACCESS_TOKEN, PLAID_ITEM_ID, ...) by internal redirect"),
    AP_INIT_TAKE1("PlaidWebhookHandoff", set_handoff, FIELD(webhook.handoff),
        CTX,
        "The URL-path of the application that receives a verified webhook "
        "(its body, PLAID_WEBHOOK_TYPE, PLAID_WEBHOOK_CODE, PLAID_ITEM_ID) "
        "by internal redirect"),
    AP_INIT_TAKE1("PlaidWebhookMaxAge", set_webhook_max_age, NULL, CTX,
        "Seconds a webhook's signature (its iat) stays acceptable, and a "
        "replay is remembered (default 300)"),
    AP_INIT_ITERATE("PlaidApiPaths", set_api_paths, NULL, ACCESS_CONF,
        "The Plaid paths (/accounts/balance/get ...) this plaid-api "
        "<Location> may call; anything else gets 404"),
    AP_INIT_ITERATE("PlaidApiAllowFrom", set_api_allow, NULL, CTX,
        "Addresses or CIDR ranges allowed to call a plaid-api location "
        "(default: loopback only)"),
    AP_INIT_TAKE2("PlaidRateLimit", set_rate_limit, NULL, CTX,
        "COUNT SECONDS: at most COUNT calls per user in SECONDS, for this "
        "location; more get 429 without a call"),
    AP_INIT_TAKE2("PlaidRateLimitTotal", set_rate_limit_total, NULL, CTX,
        "COUNT SECONDS: at most COUNT calls for all users of the client id "
        "in SECONDS"),
    AP_INIT_TAKE2("PlaidCircuitBreaker", set_breaker, NULL, CTX,
        "FAILURES SECONDS: after FAILURES failed calls in a row to a Plaid "
        "host, refuse calls to it for SECONDS, then let one through"),
    AP_INIT_TAKE1("PlaidCache", set_cache, NULL, RSRC_CONF,
        "provider[:args]: the mod_socache store the children (and, with "
        "redis or memcache, several servers) share; default shmcb"),
    AP_INIT_TAKE1("PlaidUserId", set_user_id, NULL, CTX,
        "An expression giving user.client_user_id; default %{REMOTE_USER}"),
    AP_INIT_TAKE1("PlaidUserIdHashKey", set_hash_key, NULL, CTX,
        "file:/path or env:NAME: send the HMAC-SHA256 of the user id under "
        "this key as client_user_id, not the id itself"),
    AP_INIT_TAKE1("PlaidProxy", set_proxy, NULL, CTX,
        "An outbound proxy's URL for the calls to Plaid, or none to ignore "
        "the environment's https_proxy"),
    AP_INIT_TAKE1("PlaidMaxInFlight", set_max_in_flight, NULL, RSRC_CONF,
        "Calls to Plaid at once in all the server's children together; "
        "more get 503 at once (default: a quarter of MaxRequestWorkers)"),
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
    AP_INIT_TAKE1("PlaidItemStore", set_item_store, NULL, CTX,
        "dbd: keep the Items (their access_tokens sealed) in the database "
        "of mod_dbd's DBDriver and DBDParams; the application gets item_ids"),
    AP_INIT_TAKE12("PlaidItemKey", set_item_key, NULL, CTX,
        "file:/path [file:/previous]: the 64 hex digits the access_tokens "
        "are sealed under; a second key, the previous one, only opens"),
    AP_INIT_FLAG("PlaidExchangeHandoffAccessToken", ap_set_flag_slot,
        FIELD(items.handoff_access_token), CTX,
        "On: with PlaidItemStore, hand PLAID_ACCESS_TOKEN to the "
        "application still (a migration); default off"),
    AP_INIT_FLAG("PlaidApiAllowAccessToken", ap_set_flag_slot,
        FIELD(items.api_allow_access_token), CTX,
        "On: with PlaidItemStore, the gateway still takes a raw "
        "access_token in the body (a migration); default off"),
    /* Not ours: read before core's, which it leaves the line to. */
    AP_INIT_RAW_ARGS("SetHandler", note_handler, NULL, OR_FILEINFO,
        "(noted by mod_plaid_link, handled by core)"),
    { NULL, { NULL }, NULL, 0, 0, NULL }
};
