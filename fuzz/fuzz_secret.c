/* SPDX-License-Identifier: Apache-2.0 */
/*
 * PlaidSecret's value: plaid_resolve_secret for inline values and env:NAME
 * (NAME is fuzzed; a lookup in this process's environment). file: is left
 * out: it would read whatever file the fuzzer names. The message never
 * quotes an inline secret.
 */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_pool();
    const char *spec = fuzz_cstring(p, data, size);
    plaid_secret sec;
    const char *err;

    if (strncmp(spec, "file:", 5) != 0) {
        err = plaid_resolve_secret(p, "PlaidSecret", spec, NULL, &sec);
        if (err) {
            FUZZ_CHECK(*err, "empty error message");
        }
        else {
            FUZZ_CHECK(sec.value && *sec.value, "accepted an empty secret");
            FUZZ_CHECK(sec.is_inline == (strncmp(spec, "env:", 4) != 0),
                       "is_inline wrong");
            if (sec.is_inline) {
                FUZZ_CHECK(strcmp(sec.value, spec) == 0,
                           "inline secret changed");
            }
        }
        /* A credential's refusal never quotes it. */
        err = plaid_check_credential(p, "PlaidSecret", spec);
        FUZZ_CHECK(!err || !*spec || !strstr(err, spec)
                   || strlen(spec) < 4, "credential quoted in a message");
    }
    apr_pool_destroy(p);
    return 0;
}
