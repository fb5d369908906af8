/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Plaid-Verification header, untrusted: plaid_jws_parse (base64url,
 * the header's alg and kid, the payload's claims), then the steps that
 * follow it with a fixed key, the time and a body. A token is accepted
 * only when every step passes, and no step reads past what it was given.
 */
#include "fuzz.h"

#include "plaid_webhook.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char body[] = "{\"webhook_code\":\"DEFAULT_UPDATE\"}";
    apr_pool_t *p = fuzz_pool();
    const char *value = fuzz_cstring(p, data, size), *why;
    plaid_webhook_key key;
    plaid_webhook_step step;
    plaid_jws jws;
    int malformed;

    memset(key.xy, 0x42, sizeof(key.xy));   /* not on the curve */
    why = plaid_jws_parse(p, value, &jws, &step, &malformed);
    if (why) {
        FUZZ_CHECK(*why, "empty refusal");
        FUZZ_CHECK(step == PLAID_WH_STEP_FORMAT || step == PLAID_WH_STEP_HEADER,
                   "parse refused at a later step");
        FUZZ_CHECK(!malformed || step == PLAID_WH_STEP_FORMAT,
                   "a bad header called malformed");
        fuzz_check_quoted(plaid_log_quote(p, why, PLAID_LOG_FIELD_MAX),
                          PLAID_LOG_FIELD_MAX);
    }
    else {
        FUZZ_CHECK(jws.kid && *jws.kid, "accepted without a kid");
        FUZZ_CHECK(jws.signing_input_len <= strlen(value), "input overrun");
        FUZZ_CHECK(plaid_jws_verify(&jws, &key) != NULL,
                   "verified with a key that is no point");
        plaid_jws_check_age(&jws, 1764750000, 300);
        plaid_jws_check_body(&jws, body, sizeof(body) - 1);
    }
    apr_pool_destroy(p);
    return 0;
}
