/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What libcurl hands the transport from Plaid's side of the wire, through
 * the transport's callbacks, reached through the core's internal header
 * (src/plaid_http_int.h): header lines into plaid_on_header (Retry-After,
 * a Content-Length over the cap), the body in chunks into plaid_on_body
 * (the 64 KiB cap), and the Retry-After found into the retry wait,
 * plaid_backoff_ms, which must stay within
 * 0 .. PLAID_RETRY_AFTER_MAX_S seconds (or the exponential ceiling) for
 * every retry number.
 *
 * Input: the bytes are both a run of header lines (split after each '\n',
 * as curl delivers them) and a body; the first byte picks the chunk size.
 */
#include "plaid_http_int.h"

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    struct plaid_answer a;
    char *copy;
    size_t start, i, chunk, fed;
    int n;

    if (size < 1) {
        return 0;
    }
    p = fuzz_pool();
    memset(&a, 0, sizeof(a));
    a.p = p;
    a.cap = 1024;
    a.data = apr_palloc(p, a.cap);

    /* Header lines: curl passes each with its line end, not terminated. */
    copy = apr_pmemdup(p, data, size);
    for (start = 0, i = 0; i < size; i++) {
        if (copy[i] == '\n' || i == size - 1) {
            size_t len = i - start + 1;
            char *line = apr_pmemdup(p, copy + start, len);

            FUZZ_CHECK(plaid_on_header(line, 1, len, &a) == len, "header refused");
            start = i + 1;
        }
    }

    /* The body, in chunks; repeated to cross the 64 KiB cap sometimes. */
    chunk = (size_t)(data[0] % 64) + 1;
    for (fed = 0, n = 0; n < 1 + (data[0] >> 6) * 500 && !a.too_large; n++) {
        for (i = 0; i < size && !a.too_large; i += chunk) {
            size_t len = size - i < chunk ? size - i : chunk;
            size_t took = plaid_on_body(copy + i, 1, len, &a);

            if (took == len) {
                fed += len;
            }
            else {
                FUZZ_CHECK(took == 0 && a.too_large, "short write without cap");
            }
        }
    }
    FUZZ_CHECK(a.len == fed && a.len <= PLAID_ANSWER_MAX, "body length");
    FUZZ_CHECK(a.len == 0 || memcmp(a.data, copy, a.len < size ? a.len : size)
               == 0, "body bytes");

    /* The waits this answer would cause. */
    for (n = 1; n <= PLAID_RETRIES_MAX; n++) {
        long ceiling = PLAID_RETRY_BASE_MS << (n - 1);
        long wait = plaid_backoff_ms(a.retry_after, n);

        FUZZ_CHECK(wait >= 0, "negative retry wait");
        /* A Retry-After above PLAID_RETRY_AFTER_CAP_MS is returned as
         * given, for the caller to give up on rather than sleep; it is
         * still capped, so it cannot overflow. */
        FUZZ_CHECK(wait <= (ceiling > PLAID_RETRY_AFTER_MAX_S * 1000
                            ? ceiling : PLAID_RETRY_AFTER_MAX_S * 1000),
                   "retry wait above its cap");
        FUZZ_CHECK(a.retry_after || wait <= ceiling,
                   "backoff above its ceiling without a Retry-After");
    }
    apr_pool_destroy(p);
    return 0;
}
