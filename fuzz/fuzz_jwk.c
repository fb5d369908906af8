/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The key Plaid's /webhook_verification_key/get answers, untrusted: the
 * answer classified, then plaid_webhook_key_answer on its "key" (kty, crv,
 * alg, kid, expired_at, x and y in base64url). A key is accepted only as
 * an EC P-256 ES256 key for the kid asked, not expired; verifying with it
 * never crashes, whatever point it names.
 */
#include "fuzz.h"

#include "plaid_webhook.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    plaid_response resp;
    plaid_result res;
    plaid_webhook_key key;
    plaid_jws jws;
    json_t *answer;

    if (size > PLAID_ANSWER_MAX) {
        return 0;
    }
    p = fuzz_pool();
    memset(&resp, 0, sizeof(resp));
    resp.status = 200;
    resp.body = apr_pstrmemdup(p, (const char *)data, size);
    resp.body_len = size;
    if ((answer = plaid_result_from(p, &resp, &res))) {
        plaid_webhook_key_answer(p, answer, &res, "k1", &key);
        if (res.outcome == PLAID_OK) {
            const json_t *jwk = json_object_get(answer, "key");
            const json_t *exp = json_object_get(jwk, "expired_at");

            FUZZ_CHECK(!exp || json_is_null(exp), "accepted an expired key");
            FUZZ_CHECK(strcmp(json_string_value(json_object_get(jwk, "kty")),
                              "EC") == 0, "accepted a non-EC key");
            memset(&jws, 0, sizeof(jws));
            jws.signing_input = "a.b";
            jws.signing_input_len = 3;
            FUZZ_CHECK(plaid_jws_verify(&jws, &key) != NULL,
                       "a zero signature verified");
        }
        else {
            FUZZ_CHECK(res.problem != NULL, "a refusal without a reason");
        }
        json_decref(answer);
    }
    apr_pool_destroy(p);
    return 0;
}
