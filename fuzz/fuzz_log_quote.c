/* SPDX-License-Identifier: Apache-2.0 */
/*
 * plaid_log_quote: every Plaid field and some browser headers reach the
 * error log through it. The first byte is the cut (max), the rest the text.
 * Also plaid_mask, which logs the client id.
 */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    apr_size_t max;
    const char *mask;

    if (size < 1) {
        return 0;
    }
    p = fuzz_pool();
    max = data[0];
    fuzz_check_quoted(plaid_log_quote(p, fuzz_cstring(p, data + 1, size - 1),
                                      max), max);
    fuzz_check_quoted(plaid_log_quote(p, fuzz_cstring(p, data + 1, size - 1),
                                      PLAID_LOG_FIELD_MAX),
                      PLAID_LOG_FIELD_MAX);
    /* plaid_mask shows at most the last four bytes of a client id. */
    mask = plaid_mask(p, fuzz_cstring(p, data + 1, size - 1));
    FUZZ_CHECK(mask && strncmp(mask, "...", 3) == 0 && strlen(mask) <= 7,
               "plaid_mask shows more than four bytes");
    apr_pool_destroy(p);
    return 0;
}
