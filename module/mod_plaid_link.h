/*
 * The glue's private header: what the files of module/ share. The glue
 * knows httpd and the core's API (include/), never curl.h.
 *
 *   mod_plaid_link.c   module record, hooks, handler dispatch
 *   config.c           the configuration, its parts and their merge
 *   cmds.c             the directives (the command table)
 *   secrets.c          the credentials' directives
 *   check.c            start-up: warnings, required directives, templates
 *   browser.c          what every browser-facing handler shares
 *   call.c             the child's transport, PlaidMaxInFlight, the call
 *   log.c              the one failure line, names of vhosts and locations
 *   link_token.c       SetHandler plaid-link-token
 *   exchange.c         SetHandler plaid-public-token-exchange
 *   webhook.c          SetHandler plaid-webhook
 *   handoff.c          the hand-off of a result to the site's application
 *   cache.c            the shared store (PlaidCache, mod_socache)
 *   api.c              SetHandler plaid-api: the gateway for the site's code
 *   limits.c           PlaidRateLimit(Total), PlaidCircuitBreaker
 *   metrics.c          counters in shared memory, SetHandler plaid-metrics
 *   status.c           the module's section of mod_status's page
 */
#ifndef MOD_PLAID_LINK_H
#define MOD_PLAID_LINK_H

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
#include "plaid_values.h"
#include "plaid_webhook.h"

extern module AP_MODULE_DECLARE_DATA plaid_link_module;
APLOG_USE_MODULE(plaid_link);

/* Log lines carry a number so that they can be searched for and documented
 * (docs/troubleshooting.md). */
#define PLLOGNO(n) "PL" #n ": "

/* ------------------------------------------------------------------ */
/* The handlers. */

typedef enum {
    PLAID_H_NONE = 0,
    PLAID_H_LINK_TOKEN,
    PLAID_H_EXCHANGE,
    PLAID_H_WEBHOOK,
    PLAID_H_API,
    PLAID_H_METRICS            /* no Plaid call, no browser: metrics.c */
} plaid_handler_kind;

/* Each handler: its SetHandler name, what its log lines call a request,
 * the generic error the browser gets, and its own required directives. */
typedef struct {
    plaid_handler_kind kind;
    const char *name;
    const char *what;
    const char *generic_error;
    const char *needs_why;     /* why its required directives are */
} plaid_handler_info;

/* The handler called name, or NULL. */
const plaid_handler_info *plaid_handler_named(const char *name);

/* ------------------------------------------------------------------ */
/* Configuration (config.c). NULL (or -1) means unset, so that a
 * <Location> inherits from its vhost and the vhost from the main server. */

/* What every handler needs to call Plaid. */
typedef struct {
    const char *env;           /* PlaidEnv */
    const char *env_url;       /* its API host */
    const char *base_url;      /* PlaidBaseURL: wins over env_url */
    const char *client_id;
    const char *secret;        /* the value, never the directive's text */
    const char *ca_file;       /* plaid_system_cas: the system's */
    const char *proxy;         /* PlaidProxy: "" none */
    long connect_ms;           /* -1 unset */
    long total_ms;             /* -1 unset */
    int retries;               /* -1 unset */
} plaid_conn_conf;

/* What every browser-facing handler needs: who the user is, who may call. */
typedef struct {
    ap_expr_info_t *user_id;   /* NULL: REMOTE_USER */
    const char *hash_key;      /* PlaidUserIdHashKey's key, NULL: none */
    apr_size_t hash_key_len;
    apr_array_header_t *origins; /* PlaidAllowedOrigins, NULL: any */
} plaid_browser_conf;

/* plaid-link-token's own part. */
typedef struct {
    plaid_link_fields fields;
    /* fields serialized at start-up (check.c), NULL: build the body per
     * request, as for a merge whose fields come from both sides */
    const plaid_body_template *body_template;
} plaid_link_conf;

/* plaid-public-token-exchange's own part. */
typedef struct {
    const char *handoff;       /* PlaidExchangeHandoff: a URL-path */
} plaid_exchange_conf;

/* plaid-webhook's own part. */
typedef struct {
    const char *handoff;       /* PlaidWebhookHandoff: a URL-path */
    int max_age_s;             /* PlaidWebhookMaxAge, -1 unset */
} plaid_webhook_conf;

/* plaid-api's own part. */
typedef struct {
    const char *prefix;        /* the <Location> PlaidApiPaths is in */
    apr_array_header_t *paths; /* PlaidApiPaths: const char * */
    apr_array_header_t *allow; /* PlaidApiAllowFrom: apr_ipsubnet_t *;
                                * NULL: loopback only */
} plaid_api_conf;

/* Limits (limits.c): -1 unset. */
typedef struct {
    const char *scope;         /* the section PlaidRateLimit was set in */
    int user_count, user_seconds;       /* PlaidRateLimit */
    int total_count, total_seconds;     /* PlaidRateLimitTotal */
    int breaker_failures, breaker_seconds;  /* PlaidCircuitBreaker */
} plaid_limits_conf;

typedef struct {
    plaid_conn_conf conn;
    plaid_browser_conf browser;
    plaid_limits_conf limits;
    plaid_link_conf link;
    plaid_exchange_conf exchange;
    plaid_webhook_conf webhook;
    plaid_api_conf api;
    /* 1 where a SetHandler of httpd's own configuration files named one of
     * our handlers: only that makes an endpoint (cmds.c, note_handler). */
    int handler_enabled;       /* -1 unset */
    const char *handler_htaccess; /* an .htaccess that named it */
    /* That SetHandler's handler and section, for the metrics (metrics.c);
     * a nested section inherits it. */
    const struct plaid_endpoint *endpoint;
} plaid_conf;

/* Server-wide settings, read from the main server's configuration only. */
typedef struct {
    int max_in_flight;         /* PlaidMaxInFlight, 0 unset */
    const struct ap_socache_provider_t *cache;   /* PlaidCache, NULL unset */
    const char *cache_args;
    const char *cache_text;    /* as written, for messages */
} plaid_server_conf;

/* PlaidCACertificate system: set, and meaning the system's CAs. */
extern const char plaid_system_cas[];

void *plaid_create_conf(apr_pool_t *p, char *dir);
void *plaid_merge_conf(apr_pool_t *p, void *basev, void *addv);
void *plaid_create_server_conf(apr_pool_t *p, server_rec *s);

extern const command_rec plaid_cmds[];

/* A directive's error, naming the section it is in (cmds.c). */
const char *plaid_cmd_fail(cmd_parms *cmd, const char *msg);
const char *plaid_cmd_where(cmd_parms *cmd);

/* Their short names, in the files that read directives. */
#define fail(cmd, msg) plaid_cmd_fail(cmd, msg)
#define where(cmd) plaid_cmd_where(cmd)

/* The credentials' directives (secrets.c). */
const char *plaid_set_secret(cmd_parms *cmd, void *cv, const char *arg);
const char *plaid_set_client_id(cmd_parms *cmd, void *cv, const char *arg);
const char *plaid_set_hash_key(cmd_parms *cmd, void *cv, const char *arg);

/* ------------------------------------------------------------------ */
/* Start-up (check.c). */

/* A warning found while the configuration is read, said once it is whole
 * (at `apache2 -t`, or at start-up in the error log). */
void plaid_defer_warning(cmd_parms *cmd, const char *text);

/* Which directives a complete configuration for handler h lacks, or NULL. */
const char *plaid_missing(apr_pool_t *p, const plaid_conf *c,
                          const plaid_handler_info *h);

int plaid_check_config(apr_pool_t *pconf, apr_pool_t *plog,
                       apr_pool_t *ptemp, server_rec *s);
int plaid_post_config(apr_pool_t *pconf, apr_pool_t *plog,
                      apr_pool_t *ptemp, server_rec *s);

/* ------------------------------------------------------------------ */
/* The browser side (browser.c). */

/* A request to one of the handlers, past the checks every handler shares. */
typedef struct {
    const plaid_handler_info *handler;
    const plaid_conf *conf;
    const char *id;            /* correlation id: the answer's request_id */
    const char *user;          /* client_user_id (hashed when so set) */
    json_t *body;              /* the browser's JSON object, or NULL */
} plaid_browser_request;

/* The checks every handler shares (POST, an endpoint the server's
 * configuration made, nothing missing): OK with req's handler, conf and
 * id set, or DONE when the request was refused (answered, and logged
 * where the admin needs to know). */
int plaid_endpoint_accept(request_rec *r, const plaid_handler_info *h,
                          plaid_browser_request *req);

/* Then the browser's (CSRF, Origin, a JSON body, the signed-in user). */
int plaid_browser_accept(request_rec *r, const plaid_handler_info *h,
                         plaid_browser_request *req);

/* The request body, at most max bytes, NUL-terminated, in r's pool: OK,
 * or 413 (over max: the connection is closed) or 400 and why. */
int plaid_read_body(request_rec *r, apr_size_t max, char **data,
                    apr_size_t *len, const char **why);

/* The JSON answer, never cached nor sniffed: an object of the name, value
 * pairs in fields, ended by a NULL name (plaid_json_flat). */
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
int plaid_call_raw(request_rec *r, const plaid_browser_request *req,
                   const char *path, const char *body, apr_size_t body_len,
                   int no_resend, plaid_response *resp, plaid_result *res,
                   json_t **answer);

/* The call alone: OK when Plaid answered a success read into out, else
 * res says why, nothing logged; 0 with nothing done when PlaidMaxInFlight
 * is spent (logged). */
int plaid_call_quietly(request_rec *r, const plaid_browser_request *req,
                       const char *path, const char *body,
                       apr_size_t body_len, plaid_read_fn *read, void *out,
                       plaid_result *res);

/* POST body to path with the request's connection settings, within
 * PlaidMaxInFlight, and read the success into out. OK, or the browser's
 * status with the failure logged (one PL0100 line) and Retry-After set. */
int plaid_call_endpoint(request_rec *r, const plaid_browser_request *req,
                        const char *path, const char *body,
                        apr_size_t body_len,
                        plaid_read_fn *read, void *out, plaid_result *res);

/* ------------------------------------------------------------------ */
/* Names for the log (log.c). */

const char *plaid_vhost_name(apr_pool_t *p, const server_rec *s);
const char *plaid_location_of(request_rec *r);

/* The one line that says everything about a failed call. */
void plaid_log_failure(request_rec *r, const plaid_browser_request *req,
                       int status, const plaid_result *res);

/* ------------------------------------------------------------------ */
/* The handlers' own work. */

int plaid_link_token_handler(request_rec *r, plaid_browser_request *req);
int plaid_exchange_handler(request_rec *r, plaid_browser_request *req);
int plaid_webhook_handler(request_rec *r, plaid_browser_request *req);
int plaid_api_handler(request_rec *r, plaid_browser_request *req);
/* 1 when the caller is neither loopback nor in PlaidApiAllowFrom: it has
 * had its 403 (checked before the method, so it learns nothing). */
int plaid_api_refuse_caller(request_rec *r, const plaid_browser_request *req);

/* The gateway's directives (api.c). */
const char *plaid_set_api_paths(cmd_parms *cmd, void *cv, const char *arg);
const char *plaid_set_api_allow(cmd_parms *cmd, void *cv, const char *arg);

/* At start-up: warn when a gateway is reachable on a public address
 * without PlaidApiAllowFrom. */
void plaid_api_check(apr_pool_t *p, server_rec *s, const char *path,
                     const plaid_conf *c);

/* ------------------------------------------------------------------ */
/* The hand-off to the application (handoff.c). */

typedef struct {
    const char *const *names;  /* the variables, n of them */
    const char *values[6];     /* NULL: not set */
    int n;
    const char *body;          /* the request body again, or NULL */
    apr_size_t body_len;
} plaid_handoff;

/* Redirect r internally to path, handing h over. */
void plaid_handoff_to(request_rec *r, const char *path, plaid_handoff *h);

/* Every hand-off path of the configuration (check.c, at start-up), so
 * that a request straight to one can be refused. */
void plaid_note_handoff(apr_pool_t *pconf, const char *path);

/* fixups: the hand-off's variables (and body) for the application, on the
 * redirected request, and on no other. */
int plaid_handoff_fixups(request_rec *r);
void plaid_handoff_register(apr_pool_t *p);

/* ------------------------------------------------------------------ */
/* Limits (limits.c). */

/* PlaidRateLimit and PlaidRateLimitTotal for a browser request: OK, or
 * DONE when refused (429 answered, logged). */
int plaid_limits_check(request_rec *r, const plaid_browser_request *req);

/* The circuit breaker: 0 when the call may go, else the seconds to wait
 * (logged); and what the call came to. */
long plaid_breaker_admit(request_rec *r, const plaid_browser_request *req);
void plaid_breaker_record(request_rec *r, const plaid_browser_request *req,
                          const plaid_result *res);

/* ------------------------------------------------------------------ */
/* Metrics (metrics.c, status.c): counters shared by every child and
 * kept across restarts; adding to one takes no lock. */

/* Where a SetHandler of httpd's own files named one of our handlers: the
 * handler, and the path of its section ("(server)" outside any). */
typedef struct plaid_endpoint {
    const plaid_handler_info *handler;
    const char *location;
} plaid_endpoint;

/* For note_handler (cmds.c), as the SetHandler is read. */
const plaid_endpoint *plaid_metrics_endpoint(cmd_parms *cmd,
                                             const plaid_handler_info *h);

/* Start-up, in the parent (check.c): the shared memory, made once; then
 * each section of each server, so that every endpoint has its number. */
int plaid_metrics_post_config(apr_pool_t *pconf, server_rec *s);
void plaid_metrics_note(apr_pool_t *pconf, server_rec *s,
                        const plaid_conf *c);
void plaid_metrics_register(apr_pool_t *p);

/* One answer of a Plaid handler: the status it gave the browser (the
 * JSON answers, browser.c; a hand-off counts as 200, handoff.c). */
void plaid_metrics_answer(request_rec *r, int status);

/* Around each call to Plaid (call.c): in flight, if fewer than max calls
 * are in flight in all the server's children together (0, nothing
 * counted, when not); then what it came to. */
int plaid_metrics_call_begin(request_rec *r, apr_uint32_t max);
void plaid_metrics_call_end(request_rec *r, const plaid_result *res);

/* A call refused by PlaidMaxInFlight, at now (seconds). When no warning
 * was given in the last minute, server-wide: the refusals since the last
 * one, and *last when it was (0: never); else 0. */
apr_uint32_t plaid_metrics_refused(apr_uint32_t now, apr_uint32_t *last);

/* Requests refused without a call (limits.c). */
void plaid_metrics_rate_limited(request_rec *r);
void plaid_metrics_circuit_refused(request_rec *r);

/* SetHandler plaid-metrics: the Prometheus text. */
int plaid_metrics_handler(request_rec *r);

/* What status.c shows: the block, the endpoints' labels, the gauge. */
const plaid_metrics *plaid_metrics_block(void);
const plaid_metrics_labels *plaid_metrics_endpoints(int *n);
apr_uint64_t plaid_metrics_in_flight(apr_pool_t *p);

/* mod_status's hook, when mod_status is loaded (status.c). */
void plaid_status_register(apr_pool_t *p);

/* ------------------------------------------------------------------ */
/* The shared store (cache.c). */

const char *plaid_cache_set(cmd_parms *cmd, void *cv, const char *arg);
void plaid_cache_need(void);
void plaid_cache_pre_config(apr_pool_t *pconf);
int plaid_cache_post_config(apr_pool_t *pconf, apr_pool_t *ptemp,
                            server_rec *s);
void plaid_cache_child_init(apr_pool_t *p, server_rec *s);
int plaid_cache_ready(void);
apr_status_t plaid_cache_lock(void);
void plaid_cache_unlock(void);
apr_status_t plaid_cache_get(request_rec *r, const char *key,
                             unsigned char *data, unsigned int *len);
apr_status_t plaid_cache_put(request_rec *r, const char *key,
                             apr_time_t expiry, const void *data,
                             unsigned int len);

#endif
