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
    const char *secret = NULL, *err;
    int is_inline = -1;

    if (strncmp(spec, "file:", 5) != 0) {
        err = plaid_resolve_secret(p, spec, &secret, &is_inline);
        if (err) {
            FUZZ_CHECK(*err, "empty error message");
        }
        else {
            FUZZ_CHECK(secret && *secret, "accepted an empty secret");
            FUZZ_CHECK(is_inline == (strncmp(spec, "env:", 4) != 0),
                       "is_inline wrong");
            if (is_inline) {
                FUZZ_CHECK(strcmp(secret, spec) == 0, "inline secret changed");
            }
        }
    }
    apr_pool_destroy(p);
    return 0;
}
