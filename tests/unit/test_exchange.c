/* SPDX-License-Identifier: Apache-2.0 */
/* /item/public_token/exchange: the public_token check, the body, the
 * answer. */
#include <apr_strings.h>

#include "plaid_error.h"
#include "plaid_exchange.h"
#include "unit.h"

static void public_tokens(apr_pool_t *p)
{
    char *longest = apr_palloc(p, PLAID_PUBLIC_TOKEN_MAX + 2);

    (void)p;
    CHECK(plaid_check_public_token(
              "public-sandbox-b0e2c4ee-a763-4df5-bfe9-46a46bce993d") == NULL);
    CHECK(plaid_check_public_token("public-production-X1") == NULL);
    CHECK_HAS(plaid_check_public_token(""), "public-");
    CHECK_HAS(plaid_check_public_token("access-sandbox-1"), "public-");
    CHECK_HAS(plaid_check_public_token("public-"), "prefix");
    CHECK_HAS(plaid_check_public_token("public-sandbox-1\"}"), "character");
    CHECK_HAS(plaid_check_public_token("public-sandbox 1"), "character");
    CHECK_HAS(plaid_check_public_token("public-sandbox-\n"), "character");
    memset(longest, 'a', PLAID_PUBLIC_TOKEN_MAX + 1);
    memcpy(longest, "public-", 7);
    longest[PLAID_PUBLIC_TOKEN_MAX + 1] = '\0';
    CHECK_HAS(plaid_check_public_token(longest), "longer");
    longest[PLAID_PUBLIC_TOKEN_MAX] = '\0';
    CHECK(plaid_check_public_token(longest) == NULL);
}

static void body(apr_pool_t *p)
{
    apr_size_t len = 0;

    CHECK_STR(plaid_exchange_body(p, "public-sandbox-1", &len),
              "{\"public_token\":\"public-sandbox-1\"}");
    CHECK(len == strlen("{\"public_token\":\"public-sandbox-1\"}"));
}

static plaid_result exchange(apr_pool_t *p, long status, const char *text,
                             plaid_exchange *item)
{
    plaid_response resp;
    plaid_result res;
    json_t *answer;

    memset(&resp, 0, sizeof(resp));
    memset(item, 0, sizeof(*item));
    resp.status = status;
    resp.body = text;
    resp.body_len = strlen(text);
    if ((answer = plaid_result_from(p, &resp, &res))) {
        plaid_exchange_read(p, answer, &res, item);
        json_decref(answer);
    }
    return res;
}

static void answers(apr_pool_t *p)
{
    plaid_exchange item;
    plaid_result res;

    res = exchange(p, 200, "{\"access_token\":\"access-sandbox-de3ce8ef\","
                   "\"item_id\":\"M5eVJqLnv3tbzdngLDp9FL5OlDNxlNhlE55op\","
                   "\"request_id\":\"Aim3b\"}", &item);
    CHECK(res.outcome == PLAID_OK);
    CHECK_STR(item.access_token, "access-sandbox-de3ce8ef");
    CHECK_STR(item.item_id, "M5eVJqLnv3tbzdngLDp9FL5OlDNxlNhlE55op");
    CHECK_STR(res.request_id, "Aim3b");

    res = exchange(p, 200, "{\"access_token\":\"access-sandbox-de3ce8ef\","
                   "\"request_id\":\"Aim3b\"}", &item);
    CHECK(res.outcome == PLAID_FAIL_UNUSABLE);
    CHECK_HAS(res.problem, "item_id");
    /* the problem never quotes the access_token */
    CHECK(strstr(res.problem, "access-sandbox") == NULL);

    res = exchange(p, 200, "{\"access_token\":\"\",\"item_id\":\"i\","
                   "\"request_id\":\"r\"}", &item);
    CHECK(res.outcome == PLAID_FAIL_UNUSABLE);
    CHECK_HAS(res.problem, "empty");

    res = exchange(p, 400, "{\"error_type\":\"INVALID_INPUT\",\"error_code\":"
                   "\"INVALID_PUBLIC_TOKEN\",\"error_message\":\"provided "
                   "public token is expired\",\"display_message\":null,"
                   "\"request_id\":\"R2\"}", &item);
    CHECK(res.outcome == PLAID_FAIL_REFUSED);
    CHECK(plaid_browser_status(res.outcome) == 502);
    CHECK_STR(res.error_code, "INVALID_PUBLIC_TOKEN");
    CHECK_HAS(plaid_hint(&res), "another environment");
    CHECK(item.access_token == NULL);
}

int main(void)
{
    static const unit_test tests[] = {
        public_tokens, body, answers, NULL
    };
    return unit_run("test_exchange", tests);
}
