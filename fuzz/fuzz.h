/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Shared by the fuzz targets: each is a LLVMFuzzerTestOneInput over one
 * parser of untrusted input in the core (src/), built either with libFuzzer
 * (make fuzz) or with replay.c as a plain sanitized program that runs the
 * seed corpus (make fuzz-replay). See fuzz/README.md.
 */
#ifndef PLAID_FUZZ_H
#define PLAID_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>

#include "plaid_error.h"
#include "plaid_http.h"
#include "plaid_known.h"
#include "plaid_link_token.h"
#include "plaid_values.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A fresh pool per input, so that what an input allocates is freed with it
 * and LeakSanitizer sees only what the core leaks outside pools (jansson). */
static inline apr_pool_t *fuzz_pool(void)
{
    static int ready;
    apr_pool_t *p;

    if (!ready) {
        apr_initialize();
        ready = 1;
    }
    if (apr_pool_create(&p, NULL) != APR_SUCCESS) {
        abort();
    }
    return p;
}

/* The input as a C string, as httpd hands directive values and expression
 * results to the core: cut at the first NUL. */
static inline const char *fuzz_cstring(apr_pool_t *p, const uint8_t *data,
                                       size_t size)
{
    return size ? apr_pstrmemdup(p, (const char *)data, size) : "";
}

/* The body fields of a minimal complete configuration, extra unset. */
static inline void fuzz_fields(apr_pool_t *p, plaid_link_fields *f)
{
    apr_array_header_t *cc = apr_array_make(p, 1, sizeof(const char *));
    apr_array_header_t *pr = apr_array_make(p, 1, sizeof(const char *));

    memset(f, 0, sizeof(*f));
    APR_ARRAY_PUSH(cc, const char *) = "US";
    APR_ARRAY_PUSH(pr, const char *) = "auth";
    f->client_name = "fuzz";
    f->language = "en";
    f->country_codes = cc;
    f->products = pr;
}

/* A property the core promises; a broken one is a finding, so crash loudly
 * for libFuzzer (and replay) to report it. */
#define FUZZ_CHECK(cond, what) do {                                         \
        if (!(cond)) {                                                      \
            fprintf(stderr, "fuzz: %s:%d: %s (%s)\n", __FILE__, __LINE__,   \
                    what, #cond);                                           \
            abort();                                                        \
        }                                                                   \
    } while (0)

/* A rendering from plaid_log_quote is one log-safe token: quoted, no byte
 * below 0x20 nor 0x7F, no bare '"' inside, at most 4*max+8 bytes. */
static inline void fuzz_check_quoted(const char *q, apr_size_t max)
{
    apr_size_t n, i;

    FUZZ_CHECK(q != NULL, "plaid_log_quote returned NULL");
    if (strcmp(q, "null") == 0) {
        return;
    }
    n = strlen(q);
    FUZZ_CHECK(n >= 2 && q[0] == '"' && q[n - 1] == '"',
               "log quote is not double-quoted");
    FUZZ_CHECK(n <= 4 * max + 8, "log quote longer than its buffer");
    for (i = 1; i + 1 < n; i++) {
        unsigned char c = (unsigned char)q[i];

        FUZZ_CHECK(c >= 0x20 && c != 0x7F, "control byte in log quote");
        if (c == '\\') {
            i++;   /* the escaped byte: '"', '\\' or the 'x' of \xHH */
            FUZZ_CHECK(i + 1 < n, "log quote ends in a lone backslash");
        }
        else {
            FUZZ_CHECK(c != '"', "unescaped quote inside log quote");
        }
    }
}

#endif
