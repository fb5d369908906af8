/* SPDX-License-Identifier: Apache-2.0 */
/*
 * emu.h: what the files of mod_plaid_emulator share. Private to emulator/.
 *
 *   mod_plaid_emulator.c  module record, hooks, dispatch by path suffix
 *   emu_config.c          directives, per-directory and server config
 *   answers.c             answers, PlaidError bodies, reading and parsing
 *                         the request body, the "accepted" log lines
 *   faults.c              fault segments in the path and their answers
 *   validate.c            a request body checked against a property table
 *   tokens.c              request ids, item ids, tokens that carry an HMAC
 *   state.c               what every child must agree on: the token key and
 *                         the directory of exchanged public tokens and of
 *                         the Items
 *   items.c               the Item behind a token: recorded at the
 *                         exchange, found (or refused) for an access_token
 *   keys.c                the webhook signing keys (P-256) and their JWKs
 *   jws.c                 the Plaid-Verification header, signed well or in
 *                         each of the ways a verifier must refuse
 *   link_token_create.c, public_token_exchange.c, sandbox.c,
 *   link_complete.c, webhook_key.c, fire_webhook.c, webhook_sign.c,
 *   item_remove.c, reset_login.c, item_get.c, transactions_sync.c
 *                         one file per endpoint: its property table (the
 *                         spec's request schema) and its answer
 *   accounts.c            /accounts/get and /accounts/balance/get, which
 *                         share their answer (AccountsGetResponse)
 *   institutions.c        /institutions/get_by_id and the sandbox's
 *                         institutions, whose names /item/get shows
 *
 * The emulator is the test oracle for what mod_plaid_link sends, so its
 * checks come from Plaid's OpenAPI description (t/spec_tables.t ties the
 * tables here to it), never from the module's own request builder. The one
 * copy it shares with the module is ../include/plaid_known.h, itself checked
 * against the spec.
 */
#ifndef EMU_H
#define EMU_H

#include "httpd.h"
#include "http_config.h"
#include "http_log.h"

#include "apr_time.h"

#include <jansson.h>

APLOG_USE_MODULE(plaid_emulator);

#define EMU_HANDLER "plaid-emulator"

/* Plaid's own bodies are a few hundred bytes; anything near this is a bug. */
#define EMU_BODY_MAX (64 * 1024)

/* A link_token created for a new Item lives four hours; a public_token
 * thirty minutes (LinkTokenCreateResponse.expiration, Plaid's docs). */
#define EMU_LINK_TOKEN_TTL   apr_time_from_sec(4 * 60 * 60)
#define EMU_PUBLIC_TOKEN_TTL apr_time_from_sec(30 * 60)
/* An access_token does not expire (Plaid's glossary). */
#define EMU_ACCESS_TOKEN_TTL apr_time_from_sec(APR_INT32_MAX)

/* ------------------------------------------------------------------ */
/* Configuration (emu_config.c)                                        */
/* ------------------------------------------------------------------ */

/* Per directory. NULL means "not set here", so a <Location> inherits. */
typedef struct {
    const char *client_id;
    const char *secret;
    const char *env;
} emu_config;

/* Server-wide (main server only). */
typedef struct {
    const char *state_dir;   /* PlaidEmulatorStateDir; NULL: the default */
} emu_server_config;

extern const command_rec emu_cmds[];
void *emu_create_dir_config(apr_pool_t *p, char *dir);
void *emu_merge_dir_config(apr_pool_t *p, void *basev, void *addv);
void *emu_create_server_config(apr_pool_t *p, server_rec *s);

/* ------------------------------------------------------------------ */
/* One request                                                         */
/* ------------------------------------------------------------------ */

typedef struct emu_endpoint emu_endpoint;

typedef struct {
    request_rec *r;
    const emu_config *conf;
    const emu_endpoint *endpoint;   /* NULL: no endpoint at this path */
    const char *env;                /* PlaidEmulatorEnv, sandbox if unset */
    const char *request_id;
} emu_call;

/* One PlaidError: the values of the fields that vary. */
typedef struct {
    int status;
    const char *error_type;
    const char *error_code;
    const char *error_message;
} emu_error;

/* ------------------------------------------------------------------ */
/* Request schemas (validate.c)                                        */
/* ------------------------------------------------------------------ */

typedef enum {
    K_STRING,
    K_LANGUAGE,          /* a string among LinkTokenCreateRequest.language */
    K_COUNTRY_CODES,     /* array of CountryCode */
    K_USER,              /* LinkTokenCreateRequestUser */
    K_PRODUCTS,          /* array of Products */
    K_STRING_ARRAY,
    K_REDIRECT_URI,      /* LinkTokenCreateRequestRedirectUri */
    K_APPEARANCE_MODE,   /* LinkTokenCreateRequestAppearanceMode */
    K_OBJECT,            /* behind a $ref: checked for being an object */
    K_BOOLEAN,
    K_WEBHOOK_CODE,      /* SandboxItemFireWebhookRequest.webhook_code */
    K_REMOVE_REASON,     /* ItemRemoveReasonCode */
    K_STRINGS,           /* a string or an array of strings (emulator only) */
    K_INTEGER            /* a JSON integer; the endpoint checks its range */
} emu_kind;

#define EMU_REQUIRED   0x01u   /* in the schema's required: list */
#define EMU_NULLABLE   0x02u   /* nullable: true (null is then "absent") */
#define EMU_NONEMPTY   0x04u   /* minLength: 1 or minItems: 1 */
#define EMU_NO_BALANCE 0x08u   /* "`balance` is *not* a valid value" */

/* One property of a request schema. t/spec_tables.t reads these tables
 * (one row a line: { "name", K_KIND, FLAGS, "unless" or NULL }) and checks
 * names, required, nullable, minLength/minItems and kinds against the spec
 * for every table whose name ends in _request, e.g.
 * link_token_create_request for LinkTokenCreateRequest. */
typedef struct {
    const char *name;
    emu_kind kind;
    unsigned flags;
    const char *unless;   /* EMU_REQUIRED only when this one is absent */
} emu_property;

/* 0 when the body satisfies the endpoint's schema (and credentials, when
 * it takes them), else 1 with *e: INVALID_API_KEYS, UNKNOWN_FIELDS,
 * MISSING_FIELDS or the first INVALID_FIELD, in that order; then the same
 * for its "options" object when the endpoint has a table for it, the
 * names in the messages written options.<name>. */
int emu_validate(emu_call *c, json_t *body, emu_error *e);

/* ------------------------------------------------------------------ */
/* Endpoints (one file each)                                           */
/* ------------------------------------------------------------------ */

struct emu_endpoint {
    const char *path;                  /* the suffix that selects it */
    const emu_property *properties;    /* its request schema */
    int credentials;                   /* checks PLAID-CLIENT-ID/SECRET */
    int browser;                       /* called by a page: CORS, OPTIONS */
    /* The answer once the body passed emu_validate and was logged;
     * body stays the caller's. */
    int (*handle)(emu_call *c, json_t *body);
    /* The success body for body= faults: without the token it exists to
     * hand out when !with_token, with a "padding" member when padding. */
    const char *(*sample)(emu_call *c, int with_token, const char *padding);
    /* The schema of its "options" object (e.g. AccountsGetRequestOptions),
     * or NULL: options is then checked for being an object only. */
    const emu_property *options;
};

/* link_token_create.c, public_token_exchange.c */
extern const emu_endpoint emu_link_token_create;
extern const emu_endpoint emu_item_public_token_exchange;
extern const emu_endpoint emu_sandbox_public_token_create; /* sandbox.c */
extern const emu_endpoint emu_link_complete;            /* link_complete.c */
extern const emu_endpoint emu_webhook_verification_key_get; /* webhook_key.c */
extern const emu_endpoint emu_sandbox_item_fire_webhook; /* fire_webhook.c */
extern const emu_endpoint emu_webhook_sign;             /* webhook_sign.c */
extern const emu_endpoint emu_accounts_get;             /* accounts.c */
extern const emu_endpoint emu_accounts_balance_get;     /* accounts.c */
extern const emu_endpoint emu_item_remove;              /* item_remove.c */
extern const emu_endpoint emu_sandbox_item_reset_login; /* reset_login.c */
extern const emu_endpoint emu_item_get;                 /* item_get.c */
extern const emu_endpoint emu_transactions_sync;   /* transactions_sync.c */
extern const emu_endpoint emu_institutions_get_by_id;   /* institutions.c */

/* The name of a sandbox institution (First Platypus Bank for ins_109508),
 * or NULL for an id the emulator does not know. */
const char *emu_institution_name(const char *institution_id);

/* In post_config, in the parent: libcurl's global state. */
void emu_fire_webhook_init(void);

/* Whether code is in SandboxItemFireWebhookRequest.webhook_code's enum. */
int emu_webhook_code_known(const char *code);

/* Whether code is in ItemRemoveReasonCode's enum. */
int emu_remove_reason_known(const char *code);

/* The Item's accounts as /accounts/get lists them (AccountBase): a new
 * reference, NULL if out of memory. */
json_t *emu_item_accounts(emu_call *c, const char *item_id);

/* {"public_token","request_id"}: what sandbox.c and link_complete.c give. */

const char *emu_public_token_body(emu_call *c, int with_token,
                                  const char *padding);

/* ------------------------------------------------------------------ */
/* Answers (answers.c)                                                 */
/* ------------------------------------------------------------------ */

int emu_answer(request_rec *r, int status, const char *content_type,
               const char *body, apr_size_t len);
int emu_answer_json(emu_call *c, const char *text);   /* 200 */

/* How every sample body (emu_endpoint.sample) ends: its request_id, the
 * "padding" member when padding, and the closing brace. */
const char *emu_sample_end(emu_call *c, const char *padding);
/* The same for a body built with jansson: request_id and padding added to
 * doc, which is dumped into c's pool and released. */
const char *emu_json_end(emu_call *c, json_t *doc, const char *padding);
int emu_answer_error(emu_call *c, const emu_error *e);
/* The PlaidError as a JSON object with every field of the spec's shape
 * (a new reference; NULL when a string is not UTF-8). */
json_t *emu_error_json(request_rec *r, const emu_error *e,
                       const char *request_id);

void emu_request_error(emu_error *e, const char *code, const char *message);

/* 500 API_ERROR/INTERNAL_SERVER_ERROR, "emulator: <why>": the emulator
 * itself failed (no token key, state directory unusable). */
int emu_answer_internal(emu_call *c, const char *why);

/* Whether host (a name or an address, IPv6 without brackets) is this
 * machine's loopback: localhost, 127.0.0.0/8, ::1 (also v4-mapped). */
int emu_loopback_host(const char *host);

/* The endpoint's path for log lines, or the request's URI when none. */
const char *emu_log_name(const emu_call *c);

/* Compact JSON in pool p; jansson's own buffer would need free(). */
char *emu_json_text(apr_pool_t *p, const json_t *doc, apr_size_t *len);

/* The whole body, at most EMU_BODY_MAX bytes: OK, or an HTTP status for
 * emu_answer_body_error. */
int emu_read_body(request_rec *r, char **buf, apr_size_t *len);
int emu_answer_body_error(emu_call *c, int status);

/* The body as a JSON object, or NULL with *e (INVALID_BODY). */
json_t *emu_parse_body(emu_call *c, const char *buf, apr_size_t len,
                       emu_error *e);

/* The info lines tests read: "<path> headers ..." and "<path> body=<JSON>",
 * without client_id and secret, and with access tokens masked (in the
 * line, not in body). */
void emu_log_accepted(emu_call *c, json_t *body);

/* ------------------------------------------------------------------ */
/* Faults (faults.c)                                                   */
/* ------------------------------------------------------------------ */

/* The answer the path's fault segments ask for, or DECLINED when none. */
int emu_apply_faults(emu_call *c);

/* The PlaidError Plaid gives with an HTTP status. */
void emu_default_error(int status, emu_error *e);

/* The PlaidError Plaid documents for an error_code (ITEM_LOGIN_REQUIRED:
 * 400 ITEM_ERROR and Plaid's message), or NULL for a code it has none
 * for. */
const emu_error *emu_plaid_error(const char *code);

/* Whether the request's path has the segment name (e.g. "mutation"): a
 * fault an endpoint applies itself, at the point of its work it concerns. */
int emu_fault_segment(request_rec *r, const char *name);

/* ------------------------------------------------------------------ */
/* Ids and tokens (tokens.c)                                           */
/* ------------------------------------------------------------------ */

/* Plaid's request_id: 15 letters and digits. */
const char *emu_request_id(request_rec *r);

/* An item_id: 37 letters and digits, as Plaid's. */
const char *emu_item_id(request_rec *r);

/* The account_id of an Item's account (37 letters and digits), the same
 * for the same item_id and mask whichever child asks. */
const char *emu_account_id(apr_pool_t *p, const char *item_id,
                           const char *mask);

/* The transaction_id of an Item's n-th transaction, likewise. */
const char *emu_transaction_id(apr_pool_t *p, const char *item_id, int n);

/* <kind>-<env>-<uuid>, e.g. public-sandbox-...; *issued (may be NULL) is
 * the time written into it. NULL when the emulator has no key. */
const char *emu_token_issue(request_rec *r, const char *kind,
                            const char *env, apr_time_t *issued);

typedef enum {
    EMU_TOKEN_GOOD,
    EMU_TOKEN_MALFORMED,   /* not <kind>-<environment>-<identifier> */
    EMU_TOKEN_OTHER_ENV,   /* another environment's */
    EMU_TOKEN_UNKNOWN,     /* not issued by this emulator */
    EMU_TOKEN_EXPIRED      /* issued longer than ttl ago */
} emu_token_state;

#define EMU_TOKEN_ID_LEN 32   /* hex digits naming one token */

/* Whether token is a <kind> token this emulator issued for env less than
 * ttl ago. *why says why not, for the log; id (EMU_TOKEN_ID_LEN + 1 bytes)
 * receives the token's name for emu_state_mark when it is good. */
emu_token_state emu_token_check(apr_pool_t *p, const char *token,
                                const char *kind, const char *env,
                                apr_interval_time_t ttl, char *id,
                                const char **why);

/* ISO 8601 in UTC without fractions, the form Plaid sends. */
const char *emu_iso8601(apr_pool_t *p, apr_time_t t);

/* ------------------------------------------------------------------ */
/* State shared by every child (state.c)                               */
/* ------------------------------------------------------------------ */

/* In post_config, in the parent: the key (once per httpd) and the state
 * directory. */
int emu_state_init(apr_pool_t *pconf, server_rec *s);

/* The HMAC key of tokens.c, or NULL before emu_state_init. */
const unsigned char *emu_state_key(apr_size_t *len);

/* Record that the token named id was used: APR_SUCCESS the first time,
 * APR_EEXIST after, whichever child asks; another status when the state
 * directory is unusable. */
apr_status_t emu_state_mark(request_rec *r, const char *id);

/* What the emulator knows of an Item, kept in the state directory as the
 * file <id>.<kind> (kind "public": the public token named id, until it is
 * exchanged; "access": the access token named id, until /item/remove;
 * "login": that Item needs its user's login again, until /item/remove;
 * "sync": /transactions/sync's mutation fault fired for that Item, until
 * /item/remove; "update": the link_token named id is Link's update mode
 * for the Item whose access token's name the record holds).
 * Written once, before the token is handed out, so no reader sees half of
 * it: APR_EEXIST, unlogged, when the file is there already. */
apr_status_t emu_state_put(request_rec *r, const char *id, const char *kind,
                           const char *text);
/* APR_ENOENT when there is no such record. */
apr_status_t emu_state_get(request_rec *r, const char *id, const char *kind,
                           char **text);
/* APR_SUCCESS for the one caller that removed the record, whichever
 * child; APR_ENOENT for any other, or when there was none; another status
 * when the state directory is unusable. */
apr_status_t emu_state_remove(request_rec *r, const char *id,
                              const char *kind);

/* ------------------------------------------------------------------ */
/* Items (items.c)                                                     */
/* ------------------------------------------------------------------ */

/* An Item as its access token's record has it; the strings live as long
 * as the request. */
typedef struct {
    char id[EMU_TOKEN_ID_LEN + 1];   /* the access token's name in state.c */
    const char *item_id;
    const char *institution_id;
    const char *webhook;             /* NULL: created without one */
    json_t *products;                /* billed_products (the request's) */
    const char *created_at;          /* ISO 8601: the exchange's time */
} emu_item;

/* /sandbox/public_token/create: what the exchange will make the Item of
 * (institution_id, initial_products, options.webhook), for the token. */
apr_status_t emu_item_prepare(emu_call *c, const char *public_token,
                              json_t *request);

/* /item/public_token/exchange: the Item for the access token, made from
 * the public token's record (public_id), or the defaults of a public
 * token made by /link/complete; its item_id in *item_id. */
apr_status_t emu_item_create(emu_call *c, const char *public_id,
                             const char *access_token, const char **item_id);

/* The Item of the body's access_token: 1, or 0 with *rc the answer that
 * refuses it (400 INVALID_INPUT/INVALID_ACCESS_TOKEN, Plaid's messages, and
 * the info line "<path> refused: access_token <reason>"). */
int emu_item_find(emu_call *c, json_t *body, emu_item *item, int *rc);

/* /item/remove: 1 when this call removed the Item (its record), or 0 with
 * *rc the answer: refused as emu_item_find refuses, when another call
 * removed it first. */
int emu_item_remove_record(emu_call *c, const emu_item *item, int *rc);

/* /sandbox/item/reset_login: 1 when the Item now needs its user's login
 * again (in every child, until /item/remove), whether or not it did
 * before; 0 with *rc the answer when the state directory is unusable. */
int emu_item_reset_login(emu_call *c, const emu_item *item, int *rc);

/* /link/token/create in update mode: 1 when link_token (just issued) is
 * recorded as the Item's, for /link/complete to repair; 0 with *rc the
 * answer when it cannot be. */
int emu_item_update_mode(emu_call *c, const emu_item *item,
                         const char *link_token, int *rc);

/* /link/complete for the link_token named link_id: when it was made in
 * update mode for an Item that needs its user's login, that Item no longer
 * does (in every child), and its item_id is returned; else NULL. */
const char *emu_item_repair(emu_call *c, const char *link_id);

/* Whether /sandbox/item/reset_login was called for the Item (and Link's
 * update mode did not repair it since). */
int emu_item_login_required(emu_call *c, const emu_item *item);

/* 1 the first time it is asked for the Item, whichever child asks; 0
 * after (and when the state directory is unusable, so that the fault
 * then never fires rather than always). */
int emu_item_first_mutation(emu_call *c, const emu_item *item);


/* The Item as answers show it (Plaid's Item schema): a new reference, or
 * NULL if out of memory. item NULL: a made-up Item, for body= faults. */
json_t *emu_item_json(emu_call *c, const emu_item *item);

/* ------------------------------------------------------------------ */
/* Webhook signing keys (keys.c) and tokens (jws.c)                    */
/* ------------------------------------------------------------------ */

typedef enum {
    EMU_KEY_CURRENT,   /* signs every webhook */
    EMU_KEY_OTHER,     /* valid too, as during a key rollover */
    EMU_KEY_EXPIRED,   /* served with expired_at in the past */
    EMU_KEYS
} emu_key_role;

typedef struct {
    const char *kid;            /* a uuid, as Plaid's kids */
    apr_int64_t created_at;     /* unix seconds */
    apr_int64_t expired_at;     /* 0: not expired (null in the JWK) */
    struct evp_pkey_st *pkey;   /* P-256, with its private half */
    unsigned char point[65];    /* the public key, 0x04 || x || y */
} emu_key;

/* In post_config, in the parent: the keys (made once per httpd). */
int emu_keys_init(apr_pool_t *pconf, server_rec *s);

/* NULL before emu_keys_init, or for a kid no key has. */
const emu_key *emu_key_by_role(emu_key_role role);
const emu_key *emu_key_by_kid(const char *kid);

/* A new key with a kid never issued before (/webhook/sign's new-key), and
 * an issued key again by its kid (/webhook_verification_key/get), in any
 * child; allocated from p. NULL: no keys yet, or not an issued kid. */
const emu_key *emu_key_issue(apr_pool_t *p);
const emu_key *emu_key_issued(apr_pool_t *p, const char *kid);

/* The key as a JWKPublicKey (a new reference; NULL if out of memory). */
json_t *emu_key_jwk(apr_pool_t *p, const emu_key *k);

/* RFC 4648 base64url without padding. */
char *emu_base64url(apr_pool_t *p, const unsigned char *data, apr_size_t len);

typedef enum {
    EMU_SIG_RAW,     /* R||S, 64 bytes: RFC 7518 */
    EMU_SIG_DER,     /* ECDSA-Sig-Value, as OpenSSL gives it */
    EMU_SIG_SHORT,   /* R||S without its last byte */
    EMU_SIG_LONG     /* R||S and a zero byte */
} emu_sig_form;

/* How to sign one token; emu_jws_good sets what Plaid does. */
typedef struct {
    const char *alg;          /* ES256; none, HS256, ES384 to forge */
    emu_sig_form sig;
    int parts;                /* 3; 2 or 4 to forge */
    const emu_key *key;       /* signs */
    const char *kid;          /* in the header; NULL: no kid */
    apr_int64_t iat;          /* unix seconds */
    const char *body_sha256;  /* NULL: the body's own */
} emu_jws;

/* ES256, the current key and its kid, three parts, iat now. */
void emu_jws_good(emu_jws *jws);

/* The compact JWS for body, or NULL (no key, OpenSSL failed). */
const char *emu_jws_sign(apr_pool_t *p, const emu_jws *jws, const char *body,
                         apr_size_t len);

#endif
