/* SPDX-License-Identifier: Apache-2.0 */
/*
 * plaid.h: what every part of mod_plaid_link's core shares: versions, the
 * API hosts, the limits docs/reference.md documents, the outcome of a call, and
 * the JSON and buffer helpers. The core (include/, src/) knows APR,
 * jansson and (src/plaid_http.c alone) libcurl, and no httpd header, so
 * every function is unit-tested in tests/unit/ without a server.
 */
#ifndef PLAID_H
#define PLAID_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <jansson.h>

#define PLAID_LINK_VERSION   "0.1.0"
#define PLAID_API_VERSION    "2020-09-14"
#define PLAID_USER_AGENT     "mod_plaid_link/" PLAID_LINK_VERSION
#define PLAID_SANDBOX_URL    "https://sandbox.plaid.com"
#define PLAID_PRODUCTION_URL "https://production.plaid.com"

/* Limits, documented in docs/reference.md. */
#define PLAID_USER_ID_MAX      256          /* bytes of user.client_user_id */
#define PLAID_BROWSER_BODY_MAX 4096         /* bytes of the browser's body */
#define PLAID_ANSWER_MAX       (64 * 1024)  /* bytes of Plaid's answer */
#define PLAID_API_ANSWER_MAX   (16 * 1024 * 1024) /* the same through
                                     * plaid-api: /transactions/sync pages */
#define PLAID_LOG_FIELD_MAX    512          /* bytes of one logged Plaid field */

#define PLAID_CONNECT_TIMEOUT_MS_DEFAULT  3000
#define PLAID_TOTAL_TIMEOUT_MS_DEFAULT   10000
#define PLAID_RETRIES_DEFAULT             2
#define PLAID_RETRIES_MAX                 5
#define PLAID_RETRY_BASE_MS             100L   /* first backoff ceiling */
#define PLAID_RETRY_AFTER_CAP_MS       2000L   /* longest Retry-After we wait */
#define PLAID_RETRY_AFTER_MAX_S        3600L   /* longest we hold calls back */

/* How a call ended, and so what the browser is told (plaid_error.h). */
typedef enum {
    PLAID_OK = 0,
    PLAID_FAIL_REFUSED,      /* Plaid answered with an error: 502 */
    PLAID_FAIL_UNUSABLE,     /* an answer we cannot use: 502 */
    PLAID_FAIL_TLS,          /* TLS failed: 502 */
    PLAID_FAIL_UNREACHABLE,  /* no connection, or Plaid unavailable: 503 */
    PLAID_FAIL_RATE_LIMITED, /* 429 or RATE_LIMIT_EXCEEDED: 503 */
    PLAID_FAIL_TIMEOUT       /* PlaidTimeout ran out: 504 */
} plaid_outcome;

/* ------------------------------------------------------------------ */
/* JSON and buffers (src/plaid_json.c). */

/* Length of the well-formed UTF-8 sequence at s (1 to 4), 0 when it is
 * not: no overlong forms, surrogates or code points past U+10FFFF. */
int plaid_utf8_len(const unsigned char *s);

/* Room for need more bytes after the len bytes of a buffer in pool p,
 * doubling it when it grows; the bytes held are kept. */
void plaid_reserve(apr_pool_t *p, char **data, apr_size_t len,
                   apr_size_t *cap, apr_size_t need);

/* The n bytes at in as 2 * n lowercase hex digits and a NUL at out. */
void plaid_hex(char *out, const unsigned char *in, apr_size_t n);

/* Compact JSON text of json, allocated from p; NULL when jansson fails. */
char *plaid_json_dump(apr_pool_t *p, const json_t *json, apr_size_t *len);

/* s (UTF-8, checked by the caller) as a JSON string, escaped byte for byte
 * as jansson's dump escapes it, written to out (room for 6 * strlen(s) + 2
 * bytes); returns the bytes written. */
apr_size_t plaid_json_quote(char *out, const char *s);

/* The JSON object {"name":"value",...} of the name, value pairs in
 * fields, ended by a NULL name; a NULL value is written as null. Names and
 * values are UTF-8, checked by the caller. Allocated from p, with its
 * length in *len. For the browser's small answers, where building jansson
 * objects to dump them cost more than the rest of the answer. */
char *plaid_json_flat(apr_pool_t *p, const char *const *fields,
                      apr_size_t *len);

/* A string member of obj copied into p, or NULL when it is absent, null or
 * not a string. */
const char *plaid_json_string(apr_pool_t *p, const json_t *obj,
                              const char *key);

#endif
