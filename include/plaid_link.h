/*
 * plaid_link.h: the core of mod_plaid_link. It knows APR, libcurl and
 * jansson and nothing of httpd, so every function here is unit-tested in
 * tests/unit/ without a server.
 */
#ifndef PLAID_LINK_H
#define PLAID_LINK_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <jansson.h>

#define PLAID_LINK_VERSION   "0.1.0"
#define PLAID_API_VERSION    "2020-09-14"
#define PLAID_USER_AGENT     "mod_plaid_link/" PLAID_LINK_VERSION
#define PLAID_SANDBOX_URL    "https://sandbox.plaid.com"
#define PLAID_PRODUCTION_URL "https://production.plaid.com"
#define PLAID_LINK_TOKEN_PATH "/link/token/create"

/* Limits, documented in the README. */
#define PLAID_USER_ID_MAX      256          /* bytes of user.client_user_id */
#define PLAID_BROWSER_BODY_MAX 4096         /* bytes of the browser's body */
#define PLAID_ANSWER_MAX       (64 * 1024)  /* bytes of Plaid's answer */
#define PLAID_LOG_FIELD_MAX    512          /* bytes of one logged Plaid field */

#define PLAID_CONNECT_TIMEOUT_MS_DEFAULT  3000
#define PLAID_TOTAL_TIMEOUT_MS_DEFAULT   10000
#define PLAID_RETRIES_DEFAULT             2
#define PLAID_RETRIES_MAX                 5
#define PLAID_RETRY_BASE_MS             100L   /* first backoff ceiling */
#define PLAID_RETRY_AFTER_CAP_MS       2000L   /* longest Retry-After we wait */
#define PLAID_RETRY_AFTER_MAX_S        3600L   /* longest we hold calls back */

/* ------------------------------------------------------------------ */
/* Directive values (src/plaid_values.c). Each returns NULL when the
 * value is good, else a message for the admin that never quotes a
 * secret. */

/* "sandbox" or "production" to its API host. */
const char *plaid_env_url(const char *env, const char **url);

/* https, or http to a loopback host; *normalized loses a trailing '/'. */
const char *plaid_check_base_url(apr_pool_t *p, const char *url,
                                 const char **normalized);

/* A secret (PlaidSecret) or key (PlaidUserIdHashKey) and where it came
 * from. */
typedef struct {
    const char *value;
    const char *env_name;   /* env:NAME: the variable the glue removes */
    int is_inline;          /* written in the configuration itself */
    int others_can_read;    /* file: readable by users other than its owner */
} plaid_secret;

/* "file:/path", "env:NAME" or the value itself; what names the directive
 * in messages. For env:NAME, env_value (when not NULL) is the value read
 * before the variable was removed from the environment; otherwise the
 * environment is read. A relative file path is taken as given; the glue
 * makes it absolute. */
const char *plaid_resolve_secret(apr_pool_t *p, const char *what,
                                 const char *spec, const char *env_value,
                                 plaid_secret *out);

/* NULL when value can travel in an HTTP header: visible ASCII only, no
 * space, CR, LF or other control. The message never quotes the value. */
const char *plaid_check_credential(apr_pool_t *p, const char *what,
                                   const char *value);

/* A Retry-After in seconds (capped at PLAID_RETRY_AFTER_MAX_S), 0 when it
 * is absent or not a number of seconds (an HTTP-date is not honoured). */
long plaid_retry_after_s(const char *value);

/* Whether an ap_expr string has a part that varies (%{...}, $1): one
 * without gives every user the same client_user_id. */
int plaid_expr_has_variable(const char *expr);

/* The lowercase hex HMAC-SHA256 of id under key (PlaidUserIdHashKey);
 * NULL when OpenSSL fails. */
const char *plaid_user_id_hmac(apr_pool_t *p, const char *key,
                               apr_size_t key_len, const char *id);

/* "2", "0.5", "1500ms" to milliseconds, > 0 and at most 10 minutes. */
const char *plaid_parse_duration(const char *text, long *ms);

/* A JSON object for PlaidLinkTokenExtra. The object is released with p. */
const char *plaid_parse_extra(apr_pool_t *p, const char *text, json_t **extra);

/* NULL when id may be sent as user.client_user_id. */
const char *plaid_check_user_id(const char *id);

/* "...4567": enough to tell client ids apart in a log. */
const char *plaid_mask(apr_pool_t *p, const char *id);

/* A log-safe, double-quoted rendering of untrusted text, cut at max bytes. */
const char *plaid_log_quote(apr_pool_t *p, const char *text, apr_size_t max);

/* ------------------------------------------------------------------ */
/* The /link/token/create body (src/plaid_request.c). */

typedef struct {
    const char *client_name;
    const char *language;
    const char *webhook;
    const char *redirect_uri;
    const char *android_package_name;
    const char *link_customization_name;
    /* arrays of const char *; NULL when unset */
    apr_array_header_t *country_codes;
    apr_array_header_t *products;
    apr_array_header_t *optional_products;
    apr_array_header_t *required_if_supported_products;
    apr_array_header_t *additional_consented_products;
    json_t *extra;  /* PlaidLinkTokenExtra, read-only, may be NULL */
} plaid_link_fields;

/* The JSON body, allocated from p. Credentials travel in headers, never in
 * the body, so the body may be logged. NULL only when jansson fails. */
char *plaid_link_token_body(apr_pool_t *p, const plaid_link_fields *f,
                            const char *client_user_id, apr_size_t *len);

/* The same body serialized once, at start-up, but for the user id: the
 * text before the id's JSON string and the text after it. A request only
 * quotes its id between them. */
typedef struct {
    const char *head, *tail;
    apr_size_t head_len, tail_len;
} plaid_body_template;

/* The template for f, allocated from p; NULL when jansson fails (or, in a
 * PlaidLinkTokenExtra that spells the placeholder, when the id's place is
 * not unique): then build each body with plaid_link_token_body. */
plaid_body_template *plaid_body_template_make(apr_pool_t *p,
                                              const plaid_link_fields *f);

/* Byte for byte what plaid_link_token_body makes for the template's
 * fields, NULL when it would be NULL (an id that is not UTF-8). */
char *plaid_body_from_template(apr_pool_t *p, const plaid_body_template *t,
                               const char *client_user_id, apr_size_t *len);

/* Length of the well-formed UTF-8 sequence at s (1 to 4), 0 when it is
 * not: no overlong forms, surrogates or code points past U+10FFFF. */
int plaid_utf8_len(const unsigned char *s);

/* Room for need more bytes after the len bytes of a buffer in pool p,
 * doubling it when it grows; the bytes held are kept. */
void plaid_reserve(apr_pool_t *p, char **data, apr_size_t len,
                   apr_size_t *cap, apr_size_t need);

/* Compact JSON text of json, allocated from p; NULL when jansson fails. */
char *plaid_json_dump(apr_pool_t *p, const json_t *json, apr_size_t *len);

/* ------------------------------------------------------------------ */
/* The outcome of one call (src/plaid_answer.c, src/plaid_http.c). */

typedef enum {
    PLAID_OK = 0,
    PLAID_FAIL_REFUSED,      /* Plaid answered with an error: 502 */
    PLAID_FAIL_UNUSABLE,     /* an answer we cannot use: 502 */
    PLAID_FAIL_TLS,          /* TLS failed: 502 */
    PLAID_FAIL_UNREACHABLE,  /* no connection, or Plaid unavailable: 503 */
    PLAID_FAIL_RATE_LIMITED, /* 429 or RATE_LIMIT_EXCEEDED: 503 */
    PLAID_FAIL_TIMEOUT       /* PlaidTimeout ran out: 504 */
} plaid_outcome;

typedef struct {
    plaid_outcome outcome;
    long http_status;          /* Plaid's, 0 when there was no answer */
    /* success */
    const char *link_token;
    const char *expiration;
    /* both */
    const char *request_id;
    /* PlaidError */
    const char *error_type;
    const char *error_code;
    const char *error_message;
    const char *display_message;
    const char *documentation_url;
    const char *suggested_action;
    const char *retry_after;
    /* transport and our own findings */
    const char *curl_error;
    const char *problem;
    long elapsed_ms;
    int attempts;
} plaid_result;

/* Classify Plaid's answer: fills res from status and body. */
void plaid_parse_answer(apr_pool_t *p, long http_status, const char *body,
                        apr_size_t len, plaid_result *res);

/* The browser's status for an outcome: 200, 502, 503 or 504. */
int plaid_browser_status(plaid_outcome outcome);

/* A hint for the admin, or NULL. */
const char *plaid_hint(const plaid_result *res);

/* ------------------------------------------------------------------ */
/* The transport (src/plaid_http.c). */

typedef struct plaid_http plaid_http;  /* a process's pool of curl handles */

typedef struct {
    const char *url;         /* full URL of /link/token/create */
    const char *client_id;
    const char *secret;
    const char *ca_file;     /* NULL: the system's CAs */
    const char *proxy;       /* NULL: the environment's (https only);
                              * "": none; else the proxy's URL */
    long connect_timeout_ms;
    long total_timeout_ms;   /* for all attempts together */
    int retries;             /* attempts after the first */
    const char *body;
    apr_size_t body_len;
} plaid_call;

/* Once per process that will make calls (httpd: child-init); handles are
 * closed when p is cleared. */
apr_status_t plaid_http_create(apr_pool_t *p, plaid_http **http);

/* POST the call, retrying what is safe to retry within total_timeout_ms;
 * fills res. Never fails otherwise: everything goes in res. */
void plaid_http_post(plaid_http *http, apr_pool_t *p, const plaid_call *call,
                     plaid_result *res);

#endif
