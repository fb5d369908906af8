/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the transport takes from Plaid's side of the wire: the libcurl
 * callbacks that collect the answer (capped at its max) and its
 * Retry-After, and the wait before a retry. Reached by the transport
 * (src/plaid_http.c) and, through src/plaid_http_int.h, by the unit tests
 * and the fuzz target that feed them bytes directly.
 */
#include <string.h>

#include <apr_general.h>
#include <apr_strings.h>

#include "plaid_http_int.h"
#include "plaid_values.h"

apr_size_t plaid_answer_max(const struct plaid_answer *a)
{
    return a->max ? a->max : PLAID_ANSWER_MAX;
}

size_t plaid_on_body(char *chunk, size_t size, size_t n, void *data)
{
    struct plaid_answer *a = data;
    size_t bytes = size * n;

    if (a->too_large || a->len + bytes > plaid_answer_max(a)) {
        a->too_large = 1;
        return 0;   /* curl stops with CURLE_WRITE_ERROR */
    }
    /* A link token answer is ~150 bytes; this grows only for the odd one. */
    plaid_reserve(a->p, &a->data, a->len, &a->cap, bytes);
    memcpy(a->data + a->len, chunk, bytes);
    a->len += bytes;
    return bytes;
}

size_t plaid_on_header(char *line, size_t size, size_t n, void *data)
{
    struct plaid_answer *a = data;
    size_t bytes = size * n;
    static const char name[] = "retry-after:";
    static const char length[] = "content-length:";

    /* An answer announced over the cap is refused before its first byte:
     * none of it is read into the request's pool for nothing. */
    if (bytes > sizeof(length) - 1 && bytes < sizeof(length) - 1 + 32
        && strncasecmp(line, length, sizeof(length) - 1) == 0) {
        char digits[32];
        apr_size_t len = bytes - (sizeof(length) - 1);   /* < 32 */

        memcpy(digits, line + sizeof(length) - 1, len);
        digits[len] = '\0';
        if (apr_atoi64(digits) > (apr_int64_t)plaid_answer_max(a)) {
            a->too_large = 1;
        }
        return bytes;
    }

    if (bytes > sizeof(name) - 1 && bytes < 128
        && strncasecmp(line, name, sizeof(name) - 1) == 0) {
        const char *v = line + sizeof(name) - 1;
        apr_size_t len = bytes - (sizeof(name) - 1);

        while (len && (*v == ' ' || *v == '\t')) {
            v++, len--;
        }
        while (len && (v[len - 1] == '\r' || v[len - 1] == '\n'
                       || v[len - 1] == ' ')) {
            len--;
        }
        a->retry_after = apr_pstrmemdup(a->p, v, len);
    }
    return bytes;
}

/* The wait before retry n (1, 2, ...): exponential with full jitter, or
 * the Retry-After Plaid gave (at most PLAID_RETRY_AFTER_MAX_S, so the
 * product cannot overflow); the caller does not wait past its cap. */
long plaid_backoff_ms(const char *retry_after, int n)
{
    long ceiling = PLAID_RETRY_BASE_MS << (n < 8 ? n - 1 : 7);
    unsigned char r[2];
    long secs = plaid_retry_after_s(retry_after);

    if (secs > 0) {
        return secs * 1000;
    }
    if (apr_generate_random_bytes(r, sizeof(r)) != APR_SUCCESS) {
        return ceiling / 2;
    }
    return ceiling / 2 + (long)((r[0] << 8 | r[1]) % (ceiling / 2 + 1));
}
