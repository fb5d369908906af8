/*
 * mod_plaid_emulator: Plaid's POST /link/token/create, emulated inside httpd
 * so that mod_plaid_link can be tested and benchmarked without the internet.
 *
 * It validates a request as Plaid's OpenAPI description (2020-09-14) states
 * LinkTokenCreateRequest, answers errors in the PlaidError shape, and lets a
 * test steer faults through the path in front of /link/token/create, e.g.
 *
 *     POST /status=429/retry_after=3/link/token/create
 *
 * The contract is in docs/design.md ("Emulator contract").
 */
#include <string.h>

#include "httpd.h"
#include "http_config.h"
#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"

#include "apr_lib.h"
#include "apr_strings.h"
#include "apr_time.h"

#include <jansson.h>

#include "plaid_known.h"

module AP_MODULE_DECLARE_DATA plaid_emulator_module;

#define EMU_HANDLER   "plaid-emulator"
#define EMU_ENDPOINT  "/link/token/create"
/* Plaid's own bodies are a few hundred bytes; anything near this is a bug. */
#define EMU_BODY_MAX  (64 * 1024)
/* body=huge: big enough to overflow any sane client buffer, still valid. */
#define EMU_HUGE_PAD  (200 * 1024)
/* A link_token created for a new Item lives four hours. */
#define EMU_TOKEN_TTL apr_time_from_sec(4 * 60 * 60)
/* body=stall: how long the body stops halfway. */
#define EMU_STALL_MS 3000

/* delay=MS: longer than any client timeout worth testing. */
#define EMU_DELAY_MAX_MS 600000

/* ------------------------------------------------------------------ */
/* Configuration                                                       */
/* ------------------------------------------------------------------ */

/* NULL means "not set here", so a <Location> inherits from its vhost. */
typedef struct {
    const char *client_id;
    const char *secret;
    const char *env;
} emu_config;

static void *create_config(apr_pool_t *p, char *dir)
{
    (void)dir;
    return apr_pcalloc(p, sizeof(emu_config));
}

static void *merge_config(apr_pool_t *p, void *basev, void *addv)
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

static const command_rec emu_cmds[] = {
    AP_INIT_TAKE2("PlaidEmulatorCredentials", set_credentials, NULL,
                  RSRC_CONF | ACCESS_CONF,
                  "CLIENT_ID SECRET: the only pair the emulator accepts, in "
                  "the PLAID-CLIENT-ID/PLAID-SECRET headers or the body"),
    AP_INIT_TAKE1("PlaidEmulatorEnv", set_env, NULL, RSRC_CONF | ACCESS_CONF,
                  "sandbox (default) or production: the <env> in "
                  "link-<env>-<uuid> tokens"),
    { NULL }
};

/* ------------------------------------------------------------------ */
/* Identifiers                                                         */
/* ------------------------------------------------------------------ */

/* The kernel's generator (getrandom) needs no lock shared between threads,
 * which matters when the emulator is the far end of a benchmark. */
static void random_bytes(request_rec *r, unsigned char *buf, apr_size_t n)
{
    apr_status_t rv = apr_generate_random_bytes(buf, n);

    if (rv != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r,
                      "plaid_emulator: no random bytes; ids will repeat");
        memset(buf, 0, n);
    }
}

/* Plaid's request_id: 15 letters and digits, e.g. XQVgFigpGHXkb0b. */
static const char *new_request_id(request_rec *r)
{
    static const char alnum[] =
        "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    unsigned char raw[15];
    char *id = apr_palloc(r->pool, sizeof(raw) + 1);
    apr_size_t i;

    random_bytes(r, raw, sizeof(raw));
    for (i = 0; i < sizeof(raw); i++) {
        id[i] = alnum[raw[i] % (sizeof(alnum) - 1)];
    }
    id[sizeof(raw)] = '\0';
    return id;
}

/* link-<env>-<uuid v4>, as in the spec's example response. */
static const char *new_link_token(request_rec *r, const char *env)
{
    unsigned char u[16];

    random_bytes(r, u, sizeof(u));
    u[6] = (u[6] & 0x0f) | 0x40;   /* version 4 */
    u[8] = (u[8] & 0x3f) | 0x80;   /* RFC 4122 variant */
    return apr_psprintf(r->pool,
                        "link-%s-%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
                        "%02x%02x%02x%02x%02x%02x", env,
                        u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7],
                        u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]);
}

/* ISO 8601 in UTC without fractions, the form Plaid sends. */
static const char *expiration_time(request_rec *r)
{
    apr_time_exp_t t;

    apr_time_exp_gmt(&t, apr_time_now() + EMU_TOKEN_TTL);
    return apr_psprintf(r->pool, "%04d-%02d-%02dT%02d:%02d:%02dZ",
                        t.tm_year + 1900, t.tm_mon + 1, t.tm_mday,
                        t.tm_hour, t.tm_min, t.tm_sec);
}

/* ------------------------------------------------------------------ */
/* Answers                                                             */
/* ------------------------------------------------------------------ */

/* One PlaidError: the values of the fields that vary. */
typedef struct {
    int status;
    const char *error_type;
    const char *error_code;
    const char *error_message;
} emu_error;

static int answer(request_rec *r, int status, const char *content_type,
                  const char *body, apr_size_t len)
{
    r->status = status;
    /* Spell unknown codes (e.g. 599) as themselves, not as 500. */
    r->status_line = ap_get_status_line_ex(r->pool, status);
    ap_set_content_type(r, content_type);
    ap_set_content_length(r, len);
    if (!r->header_only) {
        ap_rwrite(body, len, r);
    }
    return OK;
}

/* Plaid's pages are /docs/errors/<type without _ERROR, kebab-case>/#<code>,
 * e.g. https://plaid.com/docs/errors/invalid-request/#missing_fields. */
static const char *documentation_url(apr_pool_t *p, const emu_error *e)
{
    char *type = apr_pstrdup(p, e->error_type);
    char *code = apr_pstrdup(p, e->error_code);
    apr_size_t n = strlen(type);
    char *c;

    if (n > 6 && strcmp(type + n - 6, "_ERROR") == 0) {
        type[n - 6] = '\0';
    }
    for (c = type; *c; c++) {
        *c = *c == '_' ? '-' : apr_tolower(*c);
    }
    ap_str_tolower(code);
    return apr_pstrcat(p, "https://plaid.com/docs/errors/", type, "/#", code,
                       NULL);
}

/* Serialise into the request pool; jansson's own buffer would need free(). */
static char *json_text(apr_pool_t *p, const json_t *doc, apr_size_t *len)
{
    apr_size_t n = json_dumpb(doc, NULL, 0, JSON_COMPACT);
    char *text = apr_palloc(p, n + 1);

    *len = json_dumpb(doc, text, n, JSON_COMPACT);
    text[*len] = '\0';
    return text;
}

static json_t *plaid_error_doc(request_rec *r, const emu_error *e,
                               const char *request_id)
{
    return json_pack("{s:s, s:s, s:n, s:s, s:n, s:s, s:[], s:n, s:s, s:n}",
                     "error_type", e->error_type,
                     "error_code", e->error_code,
                     "error_code_reason",
                     "error_message", e->error_message,
                     "display_message",
                     "request_id", request_id,
                     "causes",
                     "status",
                     "documentation_url", documentation_url(r->pool, e),
                     "suggested_action");
}

static int answer_plaid_error(request_rec *r, const emu_error *e,
                              const char *request_id)
{
    json_t *doc = plaid_error_doc(r, e, request_id);
    apr_size_t len;
    char *text;

    /* json_pack refuses text that is not UTF-8, which a test can put in
     * the error_* segments; answer something rather than nothing. */
    if (!doc) {
        static const emu_error not_utf8 = {
            500, "API_ERROR", "EMULATOR_BAD_FAULT",
            "emulator: an error_* segment is not UTF-8"
        };

        e = &not_utf8;
        doc = plaid_error_doc(r, e, request_id);
    }
    text = json_text(r->pool, doc, &len);
    json_decref(doc);
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                  "plaid_emulator: " EMU_ENDPOINT " answered %d %s/%s: %s",
                  e->status, e->error_type, e->error_code, e->error_message);
    return answer(r, e->status, "application/json", text, len);
}

/* Everything in these bodies is generated here and needs no escaping, so
 * plain formatting is both safe and the fastest path for benchmarks. */
static const char *token_json(request_rec *r, const char *env,
                              const char *request_id, int with_token,
                              const char *padding)
{
    const char *token = with_token
        ? apr_pstrcat(r->pool, "\"link_token\":\"",
                      new_link_token(r, env), "\",", NULL)
        : "";

    return apr_pstrcat(r->pool, "{", token,
                       "\"expiration\":\"", expiration_time(r), "\","
                       "\"request_id\":\"", request_id, "\"",
                       padding ? ",\"padding\":\"" : "",
                       padding ? padding : "", padding ? "\"" : "", "}",
                       NULL);
}

/* ------------------------------------------------------------------ */
/* Faults steered by the path                                          */
/* ------------------------------------------------------------------ */

typedef struct {
    int status;                  /* 0: not asked for */
    const char *error_type;
    const char *error_code;
    const char *error_message;
    const char *retry_after;
    apr_interval_time_t delay;
    const char *body;            /* nonjson, nolinktoken, truncated, ... */
    int close;
    int stale;                   /* close a kept-alive connection unanswered */
} emu_faults;

static int has_answer_fault(const emu_faults *f)
{
    return f->close || f->body || f->status || f->error_type
        || f->error_code || f->error_message;
}

static const char *parse_int(const char *value, int min, int max, int *out)
{
    char *end;
    apr_int64_t n = apr_strtoi64(value, &end, 10);

    if (!*value || *end || n < min || n > max) {
        return "not a number in range";
    }
    *out = (int)n;
    return NULL;
}

static int printable(const char *s)
{
    for (; *s; s++) {
        if (!apr_isprint(*s)) {
            return 0;
        }
    }
    return 1;
}

static const char *parse_body_kind(const char *value, const char **out)
{
    static const char *const kinds[] = {
        "nonjson", "nolinktoken", "truncated", "stall", "huge",
        "hugechunked", "plain", NULL
    };
    const char *const *k;

    for (k = kinds; *k; k++) {
        if (strcmp(*k, value) == 0) {
            *out = *k;
            return NULL;
        }
    }
    return "expected nonjson, nolinktoken, truncated, stall, huge, "
           "hugechunked or plain";
}

/* key=value (value still percent-encoded). NULL when usable, else why not.
 * Unknown keys are ordinary path segments of the prefix. */
static const char *parse_fault(emu_faults *f, const char *key, char *value)
{
    int ms = 0;
    const char *why;

    if (ap_unescape_url_keep2f(value, 1) != OK) {
        return "bad percent-encoding";
    }
    if (strcmp(key, "status") == 0) {
        return parse_int(value, 200, 599, &f->status);
    }
    if (strcmp(key, "delay") == 0) {
        why = parse_int(value, 0, EMU_DELAY_MAX_MS, &ms);
        f->delay = apr_time_from_msec(ms);
        return why;
    }
    if (strcmp(key, "retry_after") == 0) {
        f->retry_after = value;
        return printable(value) ? NULL : "not printable";
    }
    if (strcmp(key, "body") == 0) {
        return parse_body_kind(value, &f->body);
    }
    if (strcmp(key, "error_type") == 0) {
        f->error_type = value;
    }
    else if (strcmp(key, "error_code") == 0) {
        f->error_code = value;
    }
    else if (strcmp(key, "error_message") == 0) {
        f->error_message = value;
    }
    return NULL;
}

/* Read the raw path, not r->uri, so that an encoded "/" (with
 * AllowEncodedSlashes NoDecode) can sit inside an error_message. */
static const char *parse_faults(request_rec *r, emu_faults *f)
{
    char *path = apr_pstrdup(r->pool, r->parsed_uri.path ? r->parsed_uri.path
                                                         : r->uri);
    char *state, *seg, *value;
    const char *why;

    memset(f, 0, sizeof(*f));
    for (seg = apr_strtok(path, "/", &state); seg;
         seg = apr_strtok(NULL, "/", &state)) {
        value = strchr(seg, '=');
        if (!value) {
            f->close |= strcmp(seg, "close") == 0;
            f->stale |= strcmp(seg, "stale") == 0;
            continue;
        }
        *value++ = '\0';
        if ((why = parse_fault(f, seg, value)) != NULL) {
            return apr_psprintf(r->pool, "emulator: unusable fault segment "
                                "%s=%s: %s", seg, value, why);
        }
    }
    return NULL;
}

/* The defaults for a status, as Plaid answers them. */
static void default_error(int status, emu_error *e)
{
    e->status = status;
    e->error_type = "INVALID_REQUEST";
    if (status == 401 || status == 403) {
        e->error_type = "INVALID_INPUT";
        e->error_code = "INVALID_API_KEYS";
        e->error_message = "invalid client_id or secret provided";
    }
    else if (status == 404) {
        e->error_code = "NOT_FOUND";
        e->error_message = "not found";
    }
    else if (status == 429) {
        e->error_type = "RATE_LIMIT_EXCEEDED";
        e->error_code = "RATE_LIMIT";
        e->error_message = "rate limit exceeded for attempts to access this "
                           "endpoint; try again later";
    }
    else if (status >= 400 && status < 500) {
        e->error_code = "INVALID_FIELD";
        e->error_message = "a field is invalid";
    }
    else {
        e->error_type = "API_ERROR";
        e->error_code = "INTERNAL_SERVER_ERROR";
        e->error_message = "an unexpected error occurred";
    }
}

/* Without status=, the error_type says which status Plaid would use. */
static int status_for_type(const char *error_type)
{
    if (!error_type) {
        return 400;
    }
    if (strcmp(error_type, "RATE_LIMIT_EXCEEDED") == 0) {
        return 429;
    }
    return strcmp(error_type, "API_ERROR") == 0 ? 500 : 400;
}

static void fault_error(apr_pool_t *p, const emu_faults *f, emu_error *e)
{
    default_error(f->status ? f->status : status_for_type(f->error_type), e);
    e->error_type = f->error_type ? f->error_type : e->error_type;
    e->error_code = f->error_code ? f->error_code : e->error_code;
    if (f->error_message) {
        e->error_message = f->error_message;
    }
    else if (f->error_type || f->error_code) {
        /* The status's own text would describe another error. */
        e->error_message = apr_pstrcat(p, "emulated ", e->error_type, "/",
                                       e->error_code, NULL);
    }
}

/* No answer at all, or the rest of one: shut the socket itself so that the
 * client sees the end now, over TLS too (no close_notify is sent), and mark
 * the connection aborted so httpd writes nothing more on it. */
static int abort_connection(request_rec *r)
{
    conn_rec *c = r->connection;
    apr_socket_t *sock = ap_get_conn_socket(c);

    c->keepalive = AP_CONN_CLOSE;
    if (sock) {
        apr_socket_shutdown(sock, APR_SHUTDOWN_READWRITE);
    }
    c->aborted = 1;
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                  "plaid_emulator: " EMU_ENDPOINT " connection closed on "
                  "purpose");
    return DONE;
}

/* A success body sent in two halves with a flush between. body=truncated
 * ends the connection after the first half, under a Content-Length that
 * promised the whole; body=stall pauses EMU_STALL_MS, then sends the rest. */
static int answer_in_halves(request_rec *r, const char *env,
                            const char *request_id, int stall)
{
    const char *body = token_json(r, env, request_id, 1, NULL);
    apr_size_t len = strlen(body);

    ap_set_content_type(r, "application/json");
    ap_set_content_length(r, len);
    ap_rwrite(body, len / 2, r);
    ap_rflush(r);
    if (!stall) {
        return abort_connection(r);
    }
    apr_sleep(apr_time_from_msec(EMU_STALL_MS));
    ap_rwrite(body + len / 2, len - len / 2, r);
    return OK;
}

static int answer_body_fault(request_rec *r, const emu_faults *f,
                             const char *env, const char *request_id)
{
    int status = f->status ? f->status : 200;
    const char *text;
    char *pad;

    if (strcmp(f->body, "truncated") == 0 || strcmp(f->body, "stall") == 0) {
        return answer_in_halves(r, env, request_id,
                                strcmp(f->body, "stall") == 0);
    }
    if (strcmp(f->body, "nonjson") == 0) {
        text = "<!DOCTYPE html>\n<html><head><title>Emulated</title></head>"
               "<body><h1>Not JSON</h1></body></html>\n";
        return answer(r, status, "text/html", text, strlen(text));
    }
    if (strcmp(f->body, "plain") == 0) {
        emu_error e;

        fault_error(r->pool, f, &e);
        text = apr_pstrcat(r->pool, e.error_message, "\n", NULL);
        return answer(r, e.status, "text/plain", text, strlen(text));
    }
    if (strcmp(f->body, "huge") == 0 || strcmp(f->body, "hugechunked") == 0) {
        pad = apr_palloc(r->pool, EMU_HUGE_PAD + 1);
        memset(pad, 'x', EMU_HUGE_PAD);
        pad[EMU_HUGE_PAD] = '\0';
        text = token_json(r, env, request_id, 1, pad);
        if (strcmp(f->body, "hugechunked") == 0) {   /* no Content-Length */
            apr_size_t len = strlen(text), off;

            r->status = status;
            ap_set_content_type(r, "application/json");
            for (off = 0; off < len && !r->header_only; off += 8192) {
                ap_rwrite(text + off, len - off < 8192 ? (int)(len - off) : 8192,
                          r);
                ap_rflush(r);
            }
            return OK;
        }
    }
    else {   /* nolinktoken */
        text = token_json(r, env, request_id, 0, NULL);
    }
    return answer(r, status, "application/json", text, strlen(text));
}

/* DECLINED when the path asks for no fault answer. */
static int apply_faults(request_rec *r, const emu_faults *f, const char *env,
                        const char *request_id)
{
    emu_error e;

    if (f->delay) {
        apr_sleep(f->delay);
    }
    if (f->retry_after) {
        apr_table_setn(r->headers_out, "Retry-After", f->retry_after);
    }
    if (f->close) {
        return abort_connection(r);
    }
    /* What a server that closed an idle connection looks like to a client
     * that sends on it anyway: no answer on a reused connection, a normal
     * one on a fresh connection. */
    if (f->stale && r->connection->keepalives > 0) {
        return abort_connection(r);
    }
    if (f->body) {
        return answer_body_fault(r, f, env, request_id);
    }
    if (!has_answer_fault(f)) {
        return DECLINED;
    }
    fault_error(r->pool, f, &e);
    return answer_plaid_error(r, &e, request_id);
}

/* ------------------------------------------------------------------ */
/* LinkTokenCreateRequest                                              */
/* ------------------------------------------------------------------ */

enum emu_kind {
    K_STRING,
    K_NONEMPTY_STRING,
    K_LANGUAGE,
    K_COUNTRY_CODES,
    K_USER,
    K_PRODUCTS,              /* array of Products */
    K_PRODUCTS_NO_BALANCE,   /* ... where the spec says balance is invalid */
    K_STRING_ARRAY,
    K_REDIRECT_URI,
    K_APPEARANCE_MODE,
    K_OBJECT,
    K_BOOLEAN
};

struct emu_property {
    const char *name;
    enum emu_kind kind;
    int nullable;
};

/* Every property of LinkTokenCreateRequest in the spec, in its order; a
 * top-level field not listed here is UNKNOWN_FIELDS. Objects behind a $ref
 * are checked for being objects only. */
static const struct emu_property link_token_create_properties[] = {
    { "client_id",                           K_STRING,              0 },
    { "secret",                              K_STRING,              0 },
    { "client_name",                         K_NONEMPTY_STRING,     0 },
    { "language",                            K_LANGUAGE,            0 },
    { "country_codes",                       K_COUNTRY_CODES,       0 },
    { "user",                                K_USER,                0 },
    { "user_id",                             K_STRING,              0 },
    { "products",                            K_PRODUCTS_NO_BALANCE, 1 },
    { "required_if_supported_products",      K_PRODUCTS,            1 },
    { "optional_products",                   K_PRODUCTS,            1 },
    { "additional_consented_products",       K_PRODUCTS_NO_BALANCE, 1 },
    { "webhook",                             K_STRING,              0 },
    { "access_token",                        K_NONEMPTY_STRING,     1 },
    { "access_tokens",                       K_STRING_ARRAY,        0 },
    { "link_customization_name",             K_STRING,              0 },
    { "appearance_mode",                     K_APPEARANCE_MODE,     1 },
    { "redirect_uri",                        K_REDIRECT_URI,        0 },
    { "android_package_name",                K_STRING,              0 },
    { "institution_data",                    K_OBJECT,              0 },
    { "card_switch",                         K_OBJECT,              0 },
    { "account_filters",                     K_OBJECT,              0 },
    { "eu_config",                           K_OBJECT,              0 },
    { "institution_id",                      K_STRING,              0 },
    { "payment_configuration",               K_OBJECT,              0 },
    { "payment_initiation",                  K_OBJECT,              0 },
    { "employment",                          K_OBJECT,              0 },
    { "income_verification",                 K_OBJECT,              0 },
    { "base_report",                         K_OBJECT,              0 },
    { "credit_partner_insights",             K_OBJECT,              0 },
    { "cra_options",                         K_OBJECT,              0 },
    { "consumer_report_permissible_purpose", K_STRING,              0 },
    { "auth",                                K_OBJECT,              0 },
    { "transfer",                            K_OBJECT,              0 },
    { "update",                              K_OBJECT,              0 },
    { "identity_verification",               K_OBJECT,              0 },
    { "statements",                          K_OBJECT,              0 },
    { "third_party_user_token",              K_STRING,              0 },
    { "investments",                         K_OBJECT,              0 },
    { "investments_auth",                    K_OBJECT,              0 },
    { "hosted_link",                         K_OBJECT,              0 },
    { "transactions",                        K_OBJECT,              0 },
    { "cashflow_report",                     K_OBJECT,              0 },
    { "cra_enabled",                         K_BOOLEAN,             0 },
    { "identity",                            K_OBJECT,              0 },
    { "financekit_supported",                K_BOOLEAN,             0 },
    { "enable_multi_item_link",              K_BOOLEAN,             0 },
    { "user_token",                          K_STRING,              0 },
    { NULL, 0, 0 }
};

static const struct emu_property *find_property(const char *name)
{
    const struct emu_property *p;

    for (p = link_token_create_properties; p->name; p++) {
        if (strcmp(p->name, name) == 0) {
            return p;
        }
    }
    return NULL;
}

static int nonempty_string(const json_t *v)
{
    return json_is_string(v) && json_string_length(v) > 0;
}

static const char *check_products(apr_pool_t *p, const char *field,
                                  const json_t *v, int no_balance)
{
    const json_t *item;
    size_t i;

    if (!json_is_array(v)) {
        return apr_psprintf(p, "%s must be an array of products", field);
    }
    json_array_foreach(v, i, item) {
        const char *name = json_string_value(item);

        if (!plaid_product_allowed(name, PLAID_PRODUCTS_ENUM)
            || (no_balance && strcmp(name, "balance") == 0)) {
            return apr_psprintf(p, "%s[%lu] is not a valid product: %s",
                                field, (unsigned long)i,
                                name ? name : "(not a string)");
        }
    }
    return NULL;
}

static const char *check_country_codes(apr_pool_t *p, const json_t *v)
{
    const json_t *item;
    size_t i;

    if (!json_is_array(v) || json_array_size(v) == 0) {
        return "country_codes must be a non-empty array of country codes";
    }
    json_array_foreach(v, i, item) {
        const char *code = json_string_value(item);

        if (!plaid_country_code_known(code)) {
            return apr_psprintf(p, "country_codes[%lu] is not a supported "
                                "country code: %s", (unsigned long)i,
                                code ? code : "(not a string)");
        }
    }
    return NULL;
}

static const char *check_string_array(apr_pool_t *p, const char *field,
                                      const json_t *v)
{
    const json_t *item;
    size_t i;

    if (!json_is_array(v)) {
        return apr_psprintf(p, "%s must be an array of strings", field);
    }
    json_array_foreach(v, i, item) {
        if (!json_is_string(item)) {
            return apr_psprintf(p, "%s[%lu] must be a string", field,
                                (unsigned long)i);
        }
    }
    return NULL;
}

/* LinkTokenCreateRequestRedirectUri: https, no query. A host containing
 * "unregistered" stands for a URI missing from the dashboard's allow list,
 * so that tests can provoke the error Plaid gives for it. */
static const char *check_redirect_uri(apr_pool_t *p, const json_t *v)
{
    const char *uri = json_string_value(v);
    const char *host;

    if (!uri || strncmp(uri, "https://", 8) != 0) {
        return "redirect_uri must be an https URI";
    }
    if (strchr(uri, '?')) {
        return "redirect_uri must not contain query parameters";
    }
    host = apr_pstrmemdup(p, uri + 8, strcspn(uri + 8, "/#"));
    if (strstr(host, "unregistered")) {
        return "OAuth redirect URI must be configured in the developer "
               "dashboard. See https://dashboard.plaid.com/team/api";
    }
    return NULL;
}

static const char *check_user(const json_t *v)
{
    if (!json_is_object(v)) {
        return "user must be an object";
    }
    if (json_object_get(v, "client_user_id")
        && !nonempty_string(json_object_get(v, "client_user_id"))) {
        return "user.client_user_id must be a non-empty string";
    }
    return NULL;
}

static const char *check_scalar(apr_pool_t *p, const struct emu_property *prop,
                                const json_t *v)
{
    const char *s = json_string_value(v);

    switch (prop->kind) {
    case K_STRING:
        return s ? NULL : apr_psprintf(p, "%s must be a string", prop->name);
    case K_NONEMPTY_STRING:
        return nonempty_string(v) ? NULL
            : apr_psprintf(p, "%s must be a non-empty string", prop->name);
    case K_LANGUAGE:
        return plaid_language_known(s) ? NULL
            : apr_psprintf(p, "language is not supported: %s",
                           s ? s : "(not a string)");
    case K_APPEARANCE_MODE:
        return s && (!strcmp(s, "LIGHT") || !strcmp(s, "DARK")
                     || !strcmp(s, "SYSTEM")) ? NULL
            : "appearance_mode must be one of LIGHT, DARK, SYSTEM";
    case K_OBJECT:
        return json_is_object(v) ? NULL
            : apr_psprintf(p, "%s must be an object", prop->name);
    case K_BOOLEAN:
        return json_is_boolean(v) ? NULL
            : apr_psprintf(p, "%s must be a boolean", prop->name);
    default:
        return NULL;
    }
}

/* NULL when the value has the property's type, else Plaid's message. */
static const char *check_property(apr_pool_t *p,
                                  const struct emu_property *prop,
                                  const json_t *v)
{
    if (json_is_null(v) && prop->nullable) {
        return NULL;
    }
    switch (prop->kind) {
    case K_COUNTRY_CODES:
        return check_country_codes(p, v);
    case K_USER:
        return check_user(v);
    case K_PRODUCTS:
    case K_PRODUCTS_NO_BALANCE:
        return check_products(p, prop->name, v,
                              prop->kind == K_PRODUCTS_NO_BALANCE);
    case K_STRING_ARRAY:
        return check_string_array(p, prop->name, v);
    case K_REDIRECT_URI:
        return check_redirect_uri(p, v);
    default:
        return check_scalar(p, prop, v);
    }
}

static void request_error(emu_error *e, const char *code, const char *message)
{
    e->status = 400;
    e->error_type = "INVALID_REQUEST";
    e->error_code = code;
    e->error_message = message;
}

static int present(const json_t *body, const char *name)
{
    const json_t *v = json_object_get(body, name);

    return v && !json_is_null(v);
}

/* The names are joined in one message, as Plaid does. */
static int check_unknown_fields(apr_pool_t *p, json_t *body, emu_error *e)
{
    const char *key, *names = NULL;
    json_t *v;

    json_object_foreach(body, key, v) {
        if (!find_property(key)) {
            names = names ? apr_pstrcat(p, names, ", ", key, NULL) : key;
        }
    }
    if (names) {
        request_error(e, "UNKNOWN_FIELDS", apr_pstrcat(p,
                      "the following fields are not recognized by this "
                      "endpoint: ", names, NULL));
    }
    return names != NULL;
}

static int check_missing_fields(apr_pool_t *p, json_t *body, emu_error *e)
{
    static const char *const required[] = {
        "client_name", "language", "country_codes", NULL
    };
    const char *const *name;
    const char *names = NULL;
    const json_t *user = json_object_get(body, "user");

    for (name = required; *name; name++) {
        if (!present(body, *name)) {
            names = names ? apr_pstrcat(p, names, ", ", *name, NULL) : *name;
        }
    }
    /* LinkTokenCreateRequestUser: "Required if user_id isn't included". */
    if (!present(body, "user_id")) {
        const char *missing = !present(body, "user") ? "user"
            : json_is_object(user) && !present(user, "client_user_id")
                ? "user.client_user_id" : NULL;

        if (missing) {
            names = names ? apr_pstrcat(p, names, ", ", missing, NULL)
                          : missing;
        }
    }
    if (names) {
        request_error(e, "MISSING_FIELDS", apr_pstrcat(p,
                      "the following required fields are missing: ", names,
                      NULL));
    }
    return names != NULL;
}

static int check_fields(apr_pool_t *p, json_t *body, emu_error *e)
{
    const char *key, *why;
    json_t *v;

    json_object_foreach(body, key, v) {
        why = check_property(p, find_property(key), v);
        if (why) {
            request_error(e, "INVALID_FIELD", why);
            return 1;
        }
    }
    return 0;
}

/* Headers first, as Plaid's client libraries send them; then the body. */
static const char *credential(request_rec *r, json_t *body,
                              const char *header, const char *field)
{
    const char *v = apr_table_get(r->headers_in, header);

    return v ? v : json_string_value(json_object_get(body, field));
}

static int check_credentials(request_rec *r, const emu_config *conf,
                             json_t *body, emu_error *e)
{
    const char *id = credential(r, body, "PLAID-CLIENT-ID", "client_id");
    const char *secret = credential(r, body, "PLAID-SECRET", "secret");

    if (!conf->client_id) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "plaid_emulator: "
                      "PlaidEmulatorCredentials is not set; refusing all");
    }
    if (conf->client_id && id && secret && strcmp(id, conf->client_id) == 0
        && strcmp(secret, conf->secret) == 0) {
        return 0;
    }
    e->status = 400;
    e->error_type = "INVALID_INPUT";
    e->error_code = "INVALID_API_KEYS";
    e->error_message = "invalid client_id or secret provided";
    return 1;
}

static int is_json_content_type(const char *ct)
{
    apr_size_t n = strlen("application/json");

    return ct && strncasecmp(ct, "application/json", n) == 0
        && (ct[n] == '\0' || ct[n] == ';' || apr_isspace(ct[n]));
}

/* The parsed body, or NULL with *e filled in. */
static json_t *parse_body(request_rec *r, const char *buf, apr_size_t len,
                          emu_error *e)
{
    json_error_t jerr;
    json_t *body = NULL;
    const char *why = "Content-Type is not application/json";

    if (is_json_content_type(apr_table_get(r->headers_in, "Content-Type"))) {
        body = json_loadb(buf, len, 0, &jerr);
        why = body ? "not an object" : jerr.text;
    }
    if (json_is_object(body)) {
        return body;
    }
    json_decref(body);
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                  "plaid_emulator: " EMU_ENDPOINT " body refused: %s", why);
    request_error(e, "INVALID_BODY", "body could not be parsed as JSON");
    return NULL;
}

/* 0 when the request is a valid LinkTokenCreateRequest, else 1 with *e. */
static int validate(request_rec *r, const emu_config *conf, json_t *body,
                    emu_error *e)
{
    return check_credentials(r, conf, body, e)
        || check_unknown_fields(r->pool, body, e)
        || check_missing_fields(r->pool, body, e)
        || check_fields(r->pool, body, e);
}

/* ------------------------------------------------------------------ */
/* The handler                                                         */
/* ------------------------------------------------------------------ */

/* Read the whole body into the request pool, at most EMU_BODY_MAX bytes.
 * OK, or an HTTP status. */
static int read_body(request_rec *r, char **buf, apr_size_t *len)
{
    apr_size_t cap = EMU_BODY_MAX + 1;
    long n = 0;
    int rc;

    *len = 0;
    *buf = "";
    if ((rc = ap_setup_client_block(r, REQUEST_CHUNKED_DECHUNK)) != OK) {
        return rc;
    }
    if (r->remaining > EMU_BODY_MAX) {
        return HTTP_REQUEST_ENTITY_TOO_LARGE;
    }
    if (!ap_should_client_block(r)) {
        return OK;
    }
    /* A Content-Length says how much to expect; chunked gets the cap. */
    cap = r->remaining > 0 ? (apr_size_t)r->remaining + 1 : cap;
    *buf = apr_palloc(r->pool, cap);
    while (*len < cap
           && (n = ap_get_client_block(r, *buf + *len, cap - *len)) > 0) {
        *len += n;
    }
    if (n < 0) {
        return HTTP_BAD_REQUEST;
    }
    return *len > EMU_BODY_MAX ? HTTP_REQUEST_ENTITY_TOO_LARGE : OK;
}

static int answer_body_error(request_rec *r, int status,
                             const char *request_id)
{
    emu_error e;

    /* Do not read the rest of an oversized body just to throw it away. */
    r->connection->keepalive = AP_CONN_CLOSE;
    request_error(&e, "INVALID_BODY", status == HTTP_REQUEST_ENTITY_TOO_LARGE
                  ? "request body is too large" : "request body could not "
                  "be read");
    e.status = status;
    return answer_plaid_error(r, &e, request_id);
}

/* The accepted body, minus the credentials, for the test log. */
static void log_accepted(request_rec *r, json_t *body)
{
    apr_size_t len;

    if (!APLOGrinfo(r)) {
        return;
    }
    json_object_del(body, "client_id");
    json_object_del(body, "secret");
    /* The headers a client must send besides the credentials. */
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                  "plaid_emulator: " EMU_ENDPOINT " headers plaid-version=%s "
                  "user-agent=%s content-type=%s",
                  ap_escape_logitem(r->pool, apr_table_get(r->headers_in,
                                                           "Plaid-Version")),
                  ap_escape_logitem(r->pool, apr_table_get(r->headers_in,
                                                           "User-Agent")),
                  ap_escape_logitem(r->pool, apr_table_get(r->headers_in,
                                                           "Content-Type")));
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                  "plaid_emulator: " EMU_ENDPOINT " body=%s",
                  json_text(r->pool, body, &len));
}

static int create_link_token(request_rec *r, const emu_config *conf,
                             const char *buf, apr_size_t len,
                             const char *request_id)
{
    emu_error e;
    json_t *body;
    const char *text;

    if (r->method_number != M_POST) {
        apr_table_setn(r->headers_out, "Allow", "POST");
        request_error(&e, "METHOD_NOT_ALLOWED", "only POST is supported");
        e.status = HTTP_METHOD_NOT_ALLOWED;
        return answer_plaid_error(r, &e, request_id);
    }
    if (!(body = parse_body(r, buf, len, &e))) {
        return answer_plaid_error(r, &e, request_id);
    }
    if (validate(r, conf, body, &e)) {
        json_decref(body);
        return answer_plaid_error(r, &e, request_id);
    }
    log_accepted(r, body);
    json_decref(body);
    text = token_json(r, conf->env ? conf->env : "sandbox", request_id, 1,
                      NULL);
    return answer(r, HTTP_OK, "application/json", text, strlen(text));
}

static int ends_with(const char *s, const char *suffix)
{
    apr_size_t n = strlen(s), m = strlen(suffix);

    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static int emulator_handler(request_rec *r)
{
    const emu_config *conf;
    const char *request_id, *why;
    emu_faults faults;
    emu_error e;
    char *buf;
    apr_size_t len;
    int rc;

    if (!r->handler || strcmp(r->handler, EMU_HANDLER) != 0) {
        return DECLINED;
    }
    conf = ap_get_module_config(r->per_dir_config, &plaid_emulator_module);
    request_id = new_request_id(r);
    if (!ends_with(r->uri, EMU_ENDPOINT)) {
        default_error(HTTP_NOT_FOUND, &e);
        return answer_plaid_error(r, &e, request_id);
    }
    /* Read first even when a fault follows: closing a socket with unread
     * input makes the kernel send a reset, which would hide a truncated
     * body from the client. */
    if ((rc = read_body(r, &buf, &len)) != OK) {
        return answer_body_error(r, rc, request_id);
    }
    if ((why = parse_faults(r, &faults)) != NULL) {
        request_error(&e, "EMULATOR_BAD_FAULT", why);
        return answer_plaid_error(r, &e, request_id);
    }
    rc = apply_faults(r, &faults, conf->env ? conf->env : "sandbox",
                      request_id);
    if (rc != DECLINED) {
        return rc;
    }
    return create_link_token(r, conf, buf, len, request_id);
}

static void register_hooks(apr_pool_t *p)
{
    (void)p;
    ap_hook_handler(emulator_handler, NULL, NULL, APR_HOOK_MIDDLE);
}

AP_DECLARE_MODULE(plaid_emulator) = {
    STANDARD20_MODULE_STUFF,
    create_config,          /* per-directory: every directive lives here */
    merge_config,
    NULL,
    NULL,
    emu_cmds,
    register_hooks,
    AP_MODULE_FLAG_NONE
};
