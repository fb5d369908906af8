/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The transport (src/plaid_http.c): POST a body to a path of a Plaid host
 * and hand back what came back. It knows no endpoint: each endpoint builds
 * its own body and parses its own success (plaid_link_token.h,
 * plaid_exchange.h); PlaidError and the outcome are plaid_error.h's.
 */
#ifndef PLAID_HTTP_H
#define PLAID_HTTP_H

#include "plaid.h"

typedef struct plaid_http plaid_http;  /* a process's pool of curl handles */

typedef struct {
    const char *base_url;    /* the API host, with any path prefix */
    const char *path;        /* the endpoint: "/link/token/create" */
    const char *client_id;
    const char *secret;
    const char *ca_file;     /* NULL: the system's CAs */
    const char *proxy;       /* NULL: the environment's (https only);
                              * "": none; else the proxy's URL */
    long connect_timeout_ms;
    long total_timeout_ms;   /* for all attempts together */
    int retries;             /* attempts after the first */
    int no_resend;           /* a write: retried only when none of it was
                              * sent (no connection); reads also after a
                              * 5xx or a 429 */
    const char *body;
    apr_size_t body_len;
    apr_size_t answer_max;   /* bytes of answer accepted; 0: PLAID_ANSWER_MAX */
} plaid_call;

typedef struct {
    /* PLAID_OK when Plaid answered, whatever the status; otherwise why
     * there is no answer (timeout, no connection, TLS, too large, ...) */
    plaid_outcome outcome;
    long status;             /* Plaid's HTTP status, 0 without an answer */
    const char *retry_after; /* the Retry-After header, as sent */
    const char *body;        /* the answer, NUL-terminated */
    apr_size_t body_len;
    const char *url;         /* base_url and path */
    const char *curl_error;
    const char *problem;     /* what the transport itself found */
    long elapsed_ms;
    int attempts;            /* 0 when the call was held back */
} plaid_response;

/* libcurl's global set-up: once, before any thread (httpd: post-config,
 * in the parent). */
void plaid_http_global_init(void);

/* Once per process that will make calls (httpd: child-init); handles are
 * closed when p is cleared. */
apr_status_t plaid_http_create(apr_pool_t *p, plaid_http **http);

/* POST the call, retrying what is safe to retry within total_timeout_ms
 * (no connection, 5xx, 429): fills resp, allocated from p. After a 429
 * with Retry-After, calls with the same URL and client id are held back
 * until then (outcome PLAID_FAIL_RATE_LIMITED, attempts 0). */
void plaid_http_post(plaid_http *http, apr_pool_t *p, const plaid_call *call,
                     plaid_response *resp);

#endif
