/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The transport's internals, for src/plaid_http.c and for the unit tests
 * and fuzz targets that feed its libcurl callbacks directly
 * (tests/unit/test_http_callbacks.c, fuzz/fuzz_http_callbacks.c).
 */
#ifndef PLAID_HTTP_INT_H
#define PLAID_HTTP_INT_H

#include <stddef.h>

#include "plaid_http.h"

/* Plaid's answer as libcurl hands it over. */
struct plaid_answer {
    apr_pool_t *p;
    char *data;
    apr_size_t len, cap;
    int too_large;            /* over max: refused */
    const char *retry_after;
    apr_size_t max;           /* 0: PLAID_ANSWER_MAX */
};

/* The bytes of answer a accepts: its max, or PLAID_ANSWER_MAX. */
apr_size_t plaid_answer_max(const struct plaid_answer *a);

/* CURLOPT_WRITEFUNCTION: the body, up to max bytes. */
size_t plaid_on_body(char *chunk, size_t size, size_t n, void *data);

/* CURLOPT_HEADERFUNCTION: Retry-After, and a Content-Length over the cap. */
size_t plaid_on_header(char *line, size_t size, size_t n, void *data);

/* The wait before retry n (1, 2, ...): exponential with full jitter, or
 * the Retry-After given (at most PLAID_RETRY_AFTER_MAX_S seconds). */
long plaid_backoff_ms(const char *retry_after, int n);

#endif
