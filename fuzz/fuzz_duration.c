/* SPDX-License-Identifier: Apache-2.0 */
/*
 * PlaidTimeout's values: plaid_parse_duration. Accepted: 1 ms .. 600 s.
 */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_pool();
    const char *text = fuzz_cstring(p, data, size);
    long ms = -1;
    const char *err = plaid_parse_duration(text, &ms);

    if (err) {
        FUZZ_CHECK(*err, "empty error message");
    }
    else {
        FUZZ_CHECK(ms >= 1 && ms <= 600000, "duration out of range");
    }
    apr_pool_destroy(p);
    return 0;
}
