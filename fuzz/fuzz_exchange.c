/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The exchange's untrusted inputs: the browser's public_token (checked by
 * plaid_check_public_token before it goes into a body) and Plaid's answer
 * to /item/public_token/exchange (classified, then read). The first byte
 * picks the status (statuses[byte % 8]); the rest is both the token and
 * the answer. A failure never quotes the access_token.
 */
#include "fuzz.h"

#include "plaid_exchange.h"

static const long statuses[8] = { 200, 400, 429, 500, 503, 201, 0, 302 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    plaid_response resp;
    plaid_exchange item;
    plaid_result res;
    const char *text;
    json_t *answer;

    if (size < 1 || size - 1 > PLAID_ANSWER_MAX) {
        return 0;
    }
    p = fuzz_pool();
    text = fuzz_cstring(p, data + 1, size - 1);

    if (!plaid_check_public_token(text)) {
        apr_size_t len = 0;
        char *body = plaid_exchange_body(p, text, &len);
        json_t *back;

        FUZZ_CHECK(strncmp(text, "public-", 7) == 0, "accepted a non-token");
        FUZZ_CHECK(body != NULL, "no body for an accepted token");
        back = json_loadb(body, len, 0, NULL);
        FUZZ_CHECK(back && json_is_string(json_object_get(back,
                                                          "public_token"))
                   && strcmp(json_string_value(json_object_get(
                                 back, "public_token")), text) == 0,
                   "the body does not carry the token");
        json_decref(back);
    }

    memset(&resp, 0, sizeof(resp));
    memset(&item, 0, sizeof(item));
    resp.status = statuses[data[0] % 8];
    resp.body = apr_pstrmemdup(p, (const char *)data + 1, size - 1);
    resp.body_len = size - 1;
    if ((answer = plaid_result_from(p, &resp, &res))) {
        plaid_exchange_read(p, answer, &res, &item);
        json_decref(answer);
    }
    if (res.outcome == PLAID_OK) {
        FUZZ_CHECK(item.access_token && *item.access_token && item.item_id
                   && *item.item_id && res.request_id,
                   "success without its fields");
    }
    else {
        FUZZ_CHECK(res.problem || res.error_code,
                   "a failure that explains nothing");
        FUZZ_CHECK(!item.access_token, "a failure that kept a token");
    }
    if (res.problem) {
        FUZZ_CHECK(!strstr(res.problem, "access-"),
                   "a problem that quotes an access_token");
        fuzz_check_quoted(plaid_log_quote(p, res.problem, PLAID_LOG_FIELD_MAX),
                          PLAID_LOG_FIELD_MAX);
    }
    apr_pool_destroy(p);
    return 0;
}
