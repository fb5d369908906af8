/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The glue's private header: what the files of module/ share. The glue
 * knows httpd and the core's API (include/), never curl.h.
 *
 *   mod_plaid_link.c   module record and hooks
 *   handlers.c         the table of handlers, one row each
 *   request.c          the intake of every request, and the answers
 *   config.c           the configuration's parts and their merge
 *   cmds.c             the directives (the command table, the setters)
 *   secrets.c          the credentials' values: read, checked, hidden
 *   check.c            start-up: warnings, required directives, templates
 *   call.c             the child's transport, PlaidMaxInFlight, the call
 *   log.c              the one failure line, names of vhosts and locations
 *   link_token.c       SetHandler plaid-link-token
 *   exchange.c         SetHandler plaid-public-token-exchange
 *   webhook.c          SetHandler plaid-webhook
 *   api.c              SetHandler plaid-api: the gateway for the site's code
 *   items.c            SetHandler plaid-items, PlaidItemStore: Items kept
 *   item_store.c       the Items' table, through mod_dbd
 *   metrics.c          counters in shared memory, SetHandler plaid-metrics
 *   status.c           the module's section of mod_status's page
 *   handoff.c          the hand-off of a result to the site's application
 *   cache.c            the shared store (PlaidCache, mod_socache)
 *   keep.c             what webhooks keep across restarts (a file)
 *   limits.c           PlaidRateLimit(Total), PlaidCircuitBreaker
 */
#ifndef PLAID_GLUE_H
#define PLAID_GLUE_H

#include "httpd.h"
#include "http_config.h"
#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"
#include "ap_expr.h"

#include <apr_strings.h>

#include "plaid.h"
#include "plaid_error.h"
#include "plaid_exchange.h"
#include "plaid_http.h"
#include "plaid_known.h"
#include "plaid_link_token.h"
#include "plaid_metrics.h"
#include "plaid_seal.h"
#include "plaid_values.h"
#include "plaid_webhook.h"

extern module AP_MODULE_DECLARE_DATA plaid_link_module;
APLOG_USE_MODULE(plaid_link);

/* Log lines carry a number so that they can be searched for and documented
 * (docs/troubleshooting.md). */
#define PLLOGNO(n) "PL" #n ": "

/* ------------------------------------------------------------------ */
/* Configuration (config.c). NULL (or -1) means unset, so that a
 * <Location> inherits from its vhost and the vhost from the main server. */

/* The Item store's keys (PlaidItemKey), the current first; the previous
 * one, when given, only opens. */
typedef struct plaid_item_keys {
    plaid_seal_key current, previous;
    const plaid_seal_key *open[2];
    int n;
} plaid_item_keys;

/* The fields, each once: the structs below, plaid_create_conf and
 * plaid_merge_conf (config.c) are made from these lists, so that a field
 * cannot be forgotten in the merge. X(part, merge, type, name), merge
 * being how a nearer section's value wins:
 *   PTR  when set (not NULL);
 *   NUM  when set (not -1, which plaid_create_conf writes);
 *   OWN  by a rule of its own, in plaid_merge_conf, which says why. */

/* What every handler needs to call Plaid. */
#define PLAID_CONN_FIELDS(X, P)                                             \
    X(P, PTR, const char *, env)        /* PlaidEnv */                      \
    X(P, PTR, const char *, env_url)    /* its API host */                  \
    X(P, OWN, const char *, base_url)   /* PlaidBaseURL: wins over env_url */ \
    X(P, PTR, const char *, client_id)                                      \
    X(P, OWN, const char *, secret)     /* the value, never the text */     \
    X(P, PTR, const char *, ca_file)    /* plaid_system_cas: the system's */ \
    X(P, PTR, const char *, proxy)      /* PlaidProxy: "" none */           \
    X(P, NUM, long, connect_ms)                                             \
    X(P, NUM, long, total_ms)                                               \
    X(P, NUM, int, retries)

/* What every browser-facing handler needs: who the user is, who may call. */
#define PLAID_BROWSER_FIELDS(X, P)                                          \
    X(P, PTR, ap_expr_info_t *, user_id)   /* NULL: REMOTE_USER */          \
    X(P, OWN, const char *, hash_key)      /* PlaidUserIdHashKey's key */   \
    X(P, OWN, apr_size_t, hash_key_len)                                     \
    X(P, PTR, apr_array_header_t *, origins) /* PlaidAllowedOrigins */

/* Limits (limits.c). */
#define PLAID_LIMITS_FIELDS(X, P)                                           \
    X(P, PTR, const char *, scope)  /* the section PlaidRateLimit is in */  \
    X(P, NUM, int, user_count)      /* PlaidRateLimit */                    \
    X(P, NUM, int, user_seconds)                                            \
    X(P, NUM, int, total_count)     /* PlaidRateLimitTotal */               \
    X(P, NUM, int, total_seconds)                                           \
    X(P, NUM, int, breaker_failures) /* PlaidCircuitBreaker */              \
    X(P, NUM, int, breaker_seconds)

/* plaid-link-token's own part: the body's fields (their list is the
 * core's, PLAID_LINK_FIELD_LIST) and, serialized at start-up (check.c),
 * its template; NULL: build the body per request, as for a merge whose
 * fields come from both sides. */
#define PLAID_LINK_FIELDS(X, P)                                             \
    X(P, OWN, plaid_link_fields, fields)                                    \
    X(P, OWN, const plaid_body_template *, body_template)

/* plaid-public-token-exchange's own part. */
#define PLAID_EXCHANGE_FIELDS(X, P)                                         \
    X(P, PTR, const char *, handoff)    /* PlaidExchangeHandoff */

/* plaid-webhook's own part. */
#define PLAID_WEBHOOK_FIELDS(X, P)                                          \
    X(P, PTR, const char *, handoff)    /* PlaidWebhookHandoff */           \
    X(P, NUM, int, max_age_s)           /* PlaidWebhookMaxAge */

/* plaid-api's own part. */
#define PLAID_API_FIELDS(X, P)                                              \
    X(P, PTR, const char *, prefix)   /* the <Location> of PlaidApiPaths */ \
    X(P, PTR, apr_array_header_t *, paths) /* PlaidApiPaths */              \
    X(P, PTR, apr_array_header_t *, allow) /* PlaidApiAllowFrom:            \
                                            * apr_ipsubnet_t *, NULL:       \
                                            * loopback only */

/* Where the handler was set (cmds.c, note_handler): 1 where a SetHandler
 * of httpd's own configuration files named one of ours, which alone makes
 * an endpoint; an .htaccess file that named it; that SetHandler's handler
 * and section, for the metrics (a nested section inherits it). */
#define PLAID_HANDLER_FIELDS(X, P)                                          \
    X(P, NUM, int, enabled)                                                 \
    X(P, PTR, const char *, htaccess)                                       \
    X(P, PTR, const struct plaid_endpoint *, endpoint)

/* The Item store's own part (items.c): PlaidItemStore ("dbd"),
 * PlaidItemKey's keys, PlaidExchangeHandoffAccessToken,
 * PlaidApiAllowAccessToken. */
#define PLAID_ITEMS_FIELDS(X, P)                                            \
    X(P, PTR, const char *, store)                                          \
    X(P, PTR, const plaid_item_keys *, keys)                                \
    X(P, NUM, int, handoff_access_token)                                    \
    X(P, NUM, int, api_allow_access_token)

/* The parts of the configuration, each its list. */
#define PLAID_CONF_PARTS(X)                                                 \
    X(conn, PLAID_CONN_FIELDS)                                              \
    X(browser, PLAID_BROWSER_FIELDS)                                        \
    X(limits, PLAID_LIMITS_FIELDS)                                          \
    X(link, PLAID_LINK_FIELDS)                                              \
    X(exchange, PLAID_EXCHANGE_FIELDS)                                      \
    X(webhook, PLAID_WEBHOOK_FIELDS)                                        \
    X(api, PLAID_API_FIELDS)                                                \
    X(items, PLAID_ITEMS_FIELDS)                                            \
    X(handler, PLAID_HANDLER_FIELDS)

/* Each part a struct (plaid_conn_conf, ...), and one struct of the parts
 * for server, vhost and location: conf->conn.env, ... */
#define PLAID_DECLARE_FIELD(part, merge, type, name) type name;
#define PLAID_DECLARE_TYPE(part, fields)                                    \
    typedef struct { fields(PLAID_DECLARE_FIELD, part) } plaid_##part##_conf;
#define PLAID_DECLARE_PART(part, fields) plaid_##part##_conf part;

PLAID_CONF_PARTS(PLAID_DECLARE_TYPE)

typedef struct {
    PLAID_CONF_PARTS(PLAID_DECLARE_PART)
} plaid_conf;

/* Server-wide settings, read from the main server's configuration only. */
typedef struct {
    int max_in_flight;         /* PlaidMaxInFlight, 0 unset */
    const struct ap_socache_provider_t *cache;   /* PlaidCache, NULL unset */
    const char *cache_args;
    const char *cache_text;    /* as written, for messages */
} plaid_server_conf;

/* A pointer field of a configuration, by its offset in plaid_conf. */
static APR_INLINE const void *plaid_conf_field(const plaid_conf *c,
                                               apr_size_t at)
{
    return *(const void *const *)((const char *)c + at);
}

/* ------------------------------------------------------------------ */
/* The handlers (handlers.c): one row each. */

/* What a request passes before its handler runs (request.c). */
typedef enum {
    PLAID_INTAKE_OWN,          /* none: the handler checks its own */
    PLAID_INTAKE_SERVER,       /* POST, an endpoint of httpd's own files,
                                * nothing missing; for Plaid's webhooks and
                                * the site's code */
    PLAID_INTAKE_BROWSER       /* and CSRF, Origin, a JSON body, the
                                * signed-in user, PlaidRateLimit */
} plaid_intake;

/* A directive a handler requires: set when the pointer field at `at` (or,
 * when or_at is not 0, the one at or_at) is set. */
typedef struct {
    const char *directive;
    apr_size_t at, or_at;
} plaid_requirement;

typedef struct plaid_handler plaid_handler;
typedef struct plaid_request plaid_request;

struct plaid_handler {
    const char *name;          /* SetHandler's */
    const char *what;          /* its log lines' word for a request */
    const char *generic_error; /* what the browser gets on a failure */
    plaid_intake intake;
    const char *methods;       /* "GET, DELETE": those it takes; NULL: POST */
    const plaid_requirement *needs;  /* ended by a NULL directive */
    const char *needs_why;     /* why its required directives are */
    apr_size_t handoff_at;     /* its hand-off path in plaid_conf, 0 none */
    int needs_store;           /* PlaidCache's store (cache.c) */
    int log_body;              /* PL0102 may show what is sent to Plaid */
    int uncounted;             /* its answers are no metric */
    apr_size_t answer_max;     /* Plaid's answer at most, 0 the default */
    /* Before the method is checked: 1 when the caller is refused (and
     * answered), so that it learns nothing of the endpoint. */
    int (*refuse_caller)(request_rec *r, const plaid_request *req);
    /* At start-up, for each section that sets it, complete. */
    void (*check)(apr_pool_t *p, server_rec *s, const char *path,
                  const plaid_conf *c);
    int (*run)(request_rec *r, plaid_request *req);
};

/* The handler called name, or NULL. */
const plaid_handler *plaid_handler_named(const char *name);

/* Which directives a complete configuration for handler h lacks, or NULL. */
const char *plaid_missing(apr_pool_t *p, const plaid_conf *c,
                          const plaid_handler *h);

/* The hand-off path c gives handler h, or NULL; and every hand-off path
 * of c noted (plaid_note_handoff). */
const char *plaid_handoff_of(const plaid_conf *c, const plaid_handler *h);
void plaid_note_handoffs(apr_pool_t *pconf, const plaid_conf *c);

/* PlaidCACertificate system: set, and meaning the system's CAs. */
extern const char plaid_system_cas[];

void *plaid_create_conf(apr_pool_t *p, char *dir);
void *plaid_merge_conf(apr_pool_t *p, void *basev, void *addv);
void *plaid_create_server_conf(apr_pool_t *p, server_rec *s);

extern const command_rec plaid_cmds[];

/* A directive's error, naming the section it is in (cmds.c). */
const char *plaid_cmd_fail(cmd_parms *cmd, const char *msg);
const char *plaid_cmd_where(cmd_parms *cmd);
/* The same, printf-style. */
const char *plaid_cmd_failf(cmd_parms *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* mod_info (/server-info?config) and `apache2 -D DUMP_CONFIG` print each
 * directive's arguments from the configuration tree: a directive that
 * holds a secret (PlaidSecret, PlaidProxy's password) or a whole client
 * id has them show this instead (cmds.c). */
void plaid_cmd_show(cmd_parms *cmd, const char *shown);

/* NULL, or the error for a list directive written with commas (arg, one of
 * its values, has one): values names what it lists ("country codes"). */
const char *plaid_cmd_commas(cmd_parms *cmd, const char *arg,
                             const char *values);

/* The credentials' values (secrets.c): a secret read from file:, env: or
 * inline as PlaidSecret's is (a file others can read: PL0004; env: wiped
 * from the environment), or the error. */
const char *plaid_read_secret(cmd_parms *cmd, const char *what,
                              const char *arg, plaid_secret *sec);
/* A file:/path secret read as PlaidSecret's is (PL0004 when others can
 * read it), and the directive's arguments hidden from mod_info. */
const char *plaid_read_secret_file(cmd_parms *cmd, const char *what,
                                   const char *arg, plaid_secret *sec);

/* ------------------------------------------------------------------ */
/* Start-up (check.c). */

/* A warning found while the configuration is read, said once it is whole
 * (at `apache2 -t`, or at start-up in the error log). */
void plaid_defer_warning(cmd_parms *cmd, const char *text);

int plaid_check_config(apr_pool_t *pconf, apr_pool_t *plog,
                       apr_pool_t *ptemp, server_rec *s);
int plaid_post_config(apr_pool_t *pconf, apr_pool_t *plog,
                      apr_pool_t *ptemp, server_rec *s);

/* ------------------------------------------------------------------ */
/* The intake of every request and the answers (request.c). */

/* A request to one of the handlers (a browser's, Plaid's webhook, the
 * site's own code through the gateway), past its handler's intake. */
struct plaid_request {
    const plaid_handler *handler;
    const plaid_conf *conf;
    const char *id;            /* correlation id: the answer's request_id */
    const char *user;          /* client_user_id (hashed when so set);
                                * PLAID_INTAKE_BROWSER only */
    json_t *body;              /* the browser's JSON object, or NULL */
    int body_secret;           /* what is sent to Plaid holds an
                                * access_token: PL0102 gives its length */
    /* The connection, resolved once: the Plaid host (PlaidBaseURL, else
     * PlaidEnv's), the credentials, CA, proxy, timeouts and retries with
     * their defaults; each call adds its path and body. */
    plaid_call conn;
};

/* What a request's log lines name: "vhost=... location=... id=...". */
const char *plaid_where(request_rec *r, const plaid_request *req);

/* The intake h->intake names: OK with req set, or DONE when the request
 * was refused (answered, and logged where the admin needs to know), or a
 * status for httpd to answer. */
int plaid_request_accept(request_rec *r, const plaid_handler *h,
                         plaid_request *req);

/* The request body, at most max bytes, NUL-terminated, in r's pool: OK,
 * or 413 (over max: the connection is closed) or 400 and why. */
int plaid_read_body(request_rec *r, apr_size_t max, char **data,
                    apr_size_t *len, const char **why);

/* The one way a handler answers with a body (a hand-off aside:
 * plaid_handoff_to): JSON, never cached nor sniffed, counted in the
 * metrics. body is JSON already (Plaid's answer, passed through). */
int plaid_answer_body(request_rec *r, int status, const char *body,
                      apr_size_t len);

/* The same with another Content-Type (the Prometheus text). */
int plaid_answer_typed(request_rec *r, int status, const char *type,
                       const char *body, apr_size_t len);

/* The same for an object of the name, value pairs in fields, ended by a
 * NULL name (plaid_json_flat). */
int plaid_answer(request_rec *r, int status, const char *const *fields);

/* {"error": msg, "request_id": id} */
int plaid_answer_error(request_rec *r, int status, const char *msg,
                       const char *id);

/* ------------------------------------------------------------------ */
/* The call (call.c). */

void plaid_child_init(apr_pool_t *pchild, server_rec *s);

/* Reads an endpoint's success answer into out; on a missing field it
 * makes res PLAID_FAIL_UNUSABLE (plaid_result_unusable). */
typedef void plaid_read_fn(apr_pool_t *p, const json_t *answer,
                           plaid_result *res, void *out);

/* The call itself: OK when Plaid answered (whatever its status: resp has
 * it, res classifies it, *answer is the success's JSON or NULL, for the
 * caller to release), DONE when there is no answer (res says why), both
 * unlogged; or a status when the call was refused before it went
 * (logged). no_resend: a write, sent again only when none of it was. */
int plaid_call_raw(request_rec *r, const plaid_request *req,
                   const char *path, const char *body, apr_size_t body_len,
                   int no_resend, plaid_response *resp, plaid_result *res,
                   json_t **answer);

/* The call alone: OK when Plaid answered a success read into out (read
 * NULL: a success whose body says nothing the caller needs), DONE
 * when it did not (res says why, nothing logged); or, with nothing sent,
 * the status of a refusal before the call (logged): 503 when
 * PlaidMaxInFlight is spent or the breaker is open, 500 without a
 * transport. */
int plaid_call_quietly(request_rec *r, const plaid_request *req,
                       const char *path, const char *body,
                       apr_size_t body_len, plaid_read_fn *read, void *out,
                       plaid_result *res);

/* A call that got no usable answer (DONE from plaid_call_raw or
 * plaid_call_quietly): its one PL0100 line, Retry-After where Plaid asked
 * to wait, and the browser's status. */
int plaid_call_failed(request_rec *r, const plaid_request *req,
                      const plaid_result *res);

/* POST body to path with the request's connection settings, within
 * PlaidMaxInFlight, and read the success into out. OK, or the browser's
 * status with the failure logged (one PL0100 line) and Retry-After set. */
int plaid_call_endpoint(request_rec *r, const plaid_request *req,
                        const char *path, const char *body,
                        apr_size_t body_len,
                        plaid_read_fn *read, void *out, plaid_result *res);

/* ------------------------------------------------------------------ */
/* Names for the log (log.c). */

const char *plaid_vhost_name(apr_pool_t *p, const server_rec *s);
const char *plaid_location_of(request_rec *r);

/* The one line that says everything about a failed call. */
void plaid_log_failure(request_rec *r, const plaid_request *req,
                       int status, const plaid_result *res);

/* ------------------------------------------------------------------ */
/* The handlers' own work. */

int plaid_link_token_handler(request_rec *r, plaid_request *req);
int plaid_exchange_handler(request_rec *r, plaid_request *req);
int plaid_webhook_handler(request_rec *r, plaid_request *req);
int plaid_api_handler(request_rec *r, plaid_request *req);
/* 1 when the caller is neither loopback nor in PlaidApiAllowFrom: it has
 * had its 403 (checked before the method, so it learns nothing). */
int plaid_api_refuse_caller(request_rec *r, const plaid_request *req);

/* At start-up: warn when a gateway is reachable on a public address
 * without PlaidApiAllowFrom. */
void plaid_api_check(apr_pool_t *p, server_rec *s, const char *path,
                     const plaid_conf *c);

/* ------------------------------------------------------------------ */
/* The hand-off to the application (handoff.c). */

/* Every variable a hand-off may set, once: the enum below and handoff.c's
 * names (and the REDIRECT_ copies it removes) are made from this list. */
#define PLAID_HANDOFF_VAR_LIST(X)                                           \
    X(PLAID_VAR_ACCESS_TOKEN, "PLAID_ACCESS_TOKEN")                         \
    X(PLAID_VAR_ITEM_ID, "PLAID_ITEM_ID")                                   \
    X(PLAID_VAR_CLIENT_USER_ID, "PLAID_CLIENT_USER_ID")                     \
    X(PLAID_VAR_REQUEST_ID, "PLAID_REQUEST_ID")                             \
    X(PLAID_VAR_WEBHOOK_TYPE, "PLAID_WEBHOOK_TYPE")                         \
    X(PLAID_VAR_WEBHOOK_CODE, "PLAID_WEBHOOK_CODE")

typedef enum {
#define PLAID_VAR_ENUM(e, name) e,
    PLAID_HANDOFF_VAR_LIST(PLAID_VAR_ENUM)
#undef PLAID_VAR_ENUM
    PLAID_HANDOFF_VARS
} plaid_handoff_var;

typedef struct {
    const char *values[PLAID_HANDOFF_VARS];  /* NULL: not set */
    const char *body;          /* the request body again, or NULL */
    apr_size_t body_len;
} plaid_handoff;

/* Redirect r internally to path, handing h over. */
void plaid_handoff_to(request_rec *r, const char *path, plaid_handoff *h);

/* Every hand-off path of the configuration (check.c, at start-up), so
 * that a request straight to one can be refused. */
void plaid_note_handoff(apr_pool_t *pconf, const char *path);

/* fixups: the hand-off's variables (and body) for the application, on the
 * redirected request (and a further redirect that is no error page), and
 * on no other; and 404 (PL0114) for any other request, main, subrequest
 * or redirect, whose URL is a hand-off path or whose mapped file is the
 * one a hand-off path maps to. */
int plaid_handoff_fixups(request_rec *r);
void plaid_handoff_register(apr_pool_t *p);

/* ------------------------------------------------------------------ */
/* Limits (limits.c). */

/* PlaidRateLimit and PlaidRateLimitTotal for a browser request: OK, or
 * DONE when refused (429 answered, logged). */
int plaid_limits_check(request_rec *r, const plaid_request *req);

/* The circuit breaker: 0 when the call may go, else the seconds to wait
 * (logged); and what the call came to. */
long plaid_breaker_admit(request_rec *r, const plaid_request *req);
void plaid_breaker_record(request_rec *r, const plaid_request *req,
                          const plaid_result *res);

/* ------------------------------------------------------------------ */
/* Metrics (metrics.c, status.c): counters shared by every child and
 * kept across restarts; adding to one takes no lock. */

/* Where a SetHandler of httpd's own files named one of our handlers: the
 * handler, and the path of its section ("(server)" outside any). */
typedef struct plaid_endpoint {
    const plaid_handler *handler;
    const char *location;
} plaid_endpoint;

/* For note_handler (cmds.c), as the SetHandler is read. */
const plaid_endpoint *plaid_counted_endpoint(cmd_parms *cmd,
                                             const plaid_handler *h);

/* Start-up, in the parent (check.c): the shared memory, made once; then
 * each section of each server, so that every endpoint has its number. */
int plaid_counters_post_config(apr_pool_t *pconf, server_rec *s);
void plaid_counters_note(apr_pool_t *pconf, server_rec *s,
                         const plaid_conf *c);
void plaid_counters_register(apr_pool_t *p);

/* One answer of a Plaid handler: the status it gave the browser (the
 * JSON answers, request.c; a hand-off counts as 200, handoff.c). */
void plaid_count_answer(request_rec *r, int status);

/* Around each call to Plaid (call.c): in flight, if fewer than max calls
 * are in flight in all the server's children together (0, nothing
 * counted, when not); then what it came to. */
int plaid_count_call_begin(request_rec *r, apr_uint32_t max);
void plaid_count_call_end(request_rec *r, const plaid_result *res);

/* A call refused by PlaidMaxInFlight, at now (seconds). When no warning
 * was given in the last minute, server-wide: the refusals since the last
 * one, and *last when it was (0: never); else 0. */
apr_uint32_t plaid_count_refused(apr_uint32_t now, apr_uint32_t *last);

/* Requests refused without a call (limits.c). */
void plaid_count_rate_limited(request_rec *r);
void plaid_count_circuit_refused(request_rec *r);

/* SetHandler plaid-metrics: the Prometheus text. */
int plaid_serve_metrics(request_rec *r, plaid_request *req);

/* What status.c shows: the block, the endpoints' labels, the gauge. */
const plaid_metrics *plaid_counters_block(void);
const plaid_metrics_labels *plaid_counters_endpoints(int *n);
apr_uint64_t plaid_counters_in_flight(apr_pool_t *p);

/* mod_status's hook, when mod_status is loaded (status.c). */
void plaid_status_register(apr_pool_t *p);

/* ------------------------------------------------------------------ */
/* The shared store (cache.c). */

/* The longest key every provider httpd ships takes: mod_socache_redis
 * and mod_socache_memcache write "mod_plaid_link:" (16 bytes with its
 * NUL) and the key in hex into 254 bytes. Longer keys are refused with
 * every provider (PL0136); hash the parts that can be long. */
#define PLAID_CACHE_KEY_MAX 118


void plaid_cache_need(void);
void plaid_cache_pre_config(apr_pool_t *pconf);
int plaid_cache_post_config(apr_pool_t *pconf, apr_pool_t *ptemp,
                            server_rec *s);
void plaid_cache_child_init(apr_pool_t *p, server_rec *s);
int plaid_cache_ready(void);
apr_status_t plaid_cache_lock(void);
void plaid_cache_unlock(void);
/* A key for the store: prefix and the SHA-256 in hex of the two parts,
 * unambiguous whatever they hold (a user's id, a kid the sender chose):
 * prefix plus 64 bytes, within what every provider takes. */
const char *plaid_cache_key(apr_pool_t *p, const char *prefix,
                            const char *a, const char *b);
apr_status_t plaid_cache_get(request_rec *r, const char *key,
                             unsigned char *data, unsigned int *len);
apr_status_t plaid_cache_put(request_rec *r, const char *key,
                             apr_time_t expiry, const void *data,
                             unsigned int len);
/* How many outages of the store have ended in this server (a write that
 * succeeded after failed calls, in any child): a line said while it had
 * one value was said in an earlier outage once it has another. */
apr_uint32_t plaid_cache_recoveries(void);

/* ------------------------------------------------------------------ */
/* What webhook verification keeps across restarts (keep.c): entries by
 * name, each until its expiry (unix seconds). The caller holds the
 * store's lock (plaid_cache_lock). */

#define PLAID_KEEP_DATA_MAX 80

void plaid_keep_need(void);
int plaid_keep_post_config(apr_pool_t *pconf, server_rec *s);
int plaid_keep_ready(void);
/* APR_SUCCESS with the data, APR_NOTFOUND, or an error. */
apr_status_t plaid_keep_get(const char *name, void *data, unsigned int *len);
/* expiry 0 removes the entry. */
apr_status_t plaid_keep_put(const char *name, apr_int64_t expiry,
                            const void *data, unsigned int len);
/* Marks name until expiry unless it is marked already (*seen). */
apr_status_t plaid_keep_mark(const char *name, apr_int64_t expiry, int *seen);

/* ------------------------------------------------------------------ */
/* The Item store (items.c, item_store.c): with PlaidItemStore, the module
 * keeps each Item's access_token sealed (src/plaid_seal.c) in the
 * database of the server's mod_dbd connection, and the application works
 * by item_id. Each function that fails has logged its one line. */

/* At start-up, for a section that sets one of the handlers: 1 (logged)
 * when PlaidItemStore is set there without PlaidItemKey. */
int plaid_items_check(apr_pool_t *p, server_rec *s, const char *path,
                      const plaid_conf *c, const ap_directive_t *sethandler);

/* After the exchange: the Item kept (with a store), and the token to hand
 * off (NULL unless there is no store or PlaidExchangeHandoffAccessToken
 * is on). OK, or the browser's status. */
int plaid_items_exchanged(request_rec *r, const plaid_request *req,
                          const plaid_exchange *item,
                          const char **handoff_token);

/* The gateway's body at a location with a store: an item_id without an
 * access_token becomes that Item's access_token; a raw access_token is
 * refused unless PlaidApiAllowAccessToken is on. OK (*body, *len maybe
 * replaced), or DONE: answered. */
int plaid_items_api_body(request_rec *r, const plaid_request *req,
                         json_t *doc, char **body, apr_size_t *len);

/* After the gateway's call of path by item_id, which Plaid answered
 * (res; answer its 2xx object, or NULL): an /item/remove that Plaid took
 * forgets the Item; an ITEM_LOGIN_REQUIRED answer, or /item/get's
 * item.error, keeps the Item's status. */
void plaid_items_api_done(request_rec *r, const plaid_request *req,
                          const char *path, const plaid_result *res,
                          const json_t *answer);

/* plaid-link-token with a store and a body {"item_id"}: *body becomes the
 * update-mode body for the user's Item. OK, or DONE: answered. */
int plaid_items_link_update(request_rec *r, plaid_request *req,
                            const char **body, apr_size_t *len);

/* plaid-webhook with a store: an ITEM webhook's status kept. OK, or
 * DONE: answered (503). */
int plaid_items_webhook(request_rec *r, const plaid_request *req,
                        const json_t *doc);

int plaid_items_handler(request_rec *r, plaid_request *req);

/* One Item's row (item_store.c). Times are seconds since the epoch. */
typedef struct {
    const char *environment, *item_id, *client_user_id, *institution_id;
    const char *status, *sealed;
    apr_int64_t created, updated;
} plaid_item;

/* Each gives OK, HTTP_NOT_FOUND where it says so, or 503 with its PL0171
 * line written (the database unreachable, locked, or failing). */
int plaid_item_get(request_rec *r, const plaid_request *req,
                   const char *env, const char *item_id, plaid_item *out);
int plaid_item_list(request_rec *r, const plaid_request *req,
                    const char *env, const char *user,
                    apr_array_header_t **items);
int plaid_item_put(request_rec *r, const plaid_request *req,
                   const plaid_item *item);
/* HTTP_NOT_FOUND: no such row. */
int plaid_item_set_status(request_rec *r, const plaid_request *req,
                          const char *env, const char *item_id,
                          const char *status);
int plaid_item_reseal(request_rec *r, const plaid_request *req,
                      const plaid_item *item, const char *sealed);
int plaid_item_delete(request_rec *r, const plaid_request *req,
                      const char *env, const char *item_id);
/* Whether mod_dbd is loaded (its optional functions found). */
int plaid_item_store_available(void);

#endif
