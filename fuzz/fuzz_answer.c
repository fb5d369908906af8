/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Plaid's answer to /link/token/create, as the transport hands it over: an
 * HTTP status and a body of at most PLAID_ANSWER_MAX bytes, classified by
 * plaid_result_from and read by plaid_link_token_read. The first byte of the input picks the
 * status (statuses[byte % 16]: '0' is 200, '1' 400, '3' 429, ...), the rest
 * is the body. Then everything the handler does with the result: the
 * browser status, the hint, the quoted log fields, the 200 answer.
 */
#include "fuzz.h"

static const long statuses[16] = {
    200, 400, 401, 429, 500, 502, 503, 504,
    201, 404, 0, 302, 418, 299, 100, 599
};

static const char *quote(apr_pool_t *p, const char *field)
{
    const char *q = plaid_log_quote(p, field, PLAID_LOG_FIELD_MAX);

    fuzz_check_quoted(q, PLAID_LOG_FIELD_MAX);
    return q;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    plaid_response resp;
    plaid_link_token token;
    plaid_result res;
    json_t *root;
    long status;
    int browser;

    if (size < 1 || size - 1 > PLAID_ANSWER_MAX) {
        return 0;
    }
    p = fuzz_pool();
    status = statuses[data[0] % 16];
    memset(&resp, 0, sizeof(resp));
    memset(&token, 0, sizeof(token));
    resp.outcome = PLAID_OK;
    resp.status = status;
    resp.body = apr_pstrmemdup(p, (const char *)data + 1, size - 1);
    resp.body_len = size - 1;
    if ((root = plaid_result_from(p, &resp, &res))) {
        FUZZ_CHECK(res.outcome == PLAID_OK, "an answer without success");
        plaid_link_token_read(p, root, &res, &token);
        json_decref(root);
    }

    browser = plaid_browser_status(res.outcome);
    FUZZ_CHECK(browser == 200 || browser == 502 || browser == 503
               || browser == 504, "browser status out of the contract");
    FUZZ_CHECK(res.http_status == status, "http_status not kept");
    if (res.outcome == PLAID_OK) {
        json_t *answer;

        FUZZ_CHECK(status >= 200 && status < 300, "success from a non-2xx");
        FUZZ_CHECK(token.link_token && *token.link_token && token.expiration
                   && res.request_id, "success without its three fields");
        /* What the handler sends the browser must be buildable. */
        answer = json_pack("{s:s, s:s, s:s}", "link_token", token.link_token,
                           "expiration", token.expiration, "request_id", "id");
        FUZZ_CHECK(answer != NULL, "the 200 answer cannot be built");
        json_decref(answer);
    }
    else {
        FUZZ_CHECK(res.problem || res.error_code,
                   "a failure that explains nothing");
        if (status >= 200 && status < 300) {
            FUZZ_CHECK(res.outcome == PLAID_FAIL_UNUSABLE,
                       "a 2xx failure that is not 'unusable'");
        }
    }
    /* log_failure's fields */
    quote(p, res.error_type);
    quote(p, res.error_code);
    quote(p, res.error_message);
    quote(p, res.display_message);
    quote(p, res.request_id);
    quote(p, res.documentation_url);
    quote(p, res.suggested_action);
    quote(p, res.problem);
    quote(p, plaid_hint(&res));
    apr_pool_destroy(p);
    return 0;
}
