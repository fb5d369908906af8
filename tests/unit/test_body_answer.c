/* SPDX-License-Identifier: Apache-2.0 */
/* The /link/token/create body, Plaid's answers, status mapping and hints. */
#include <apr_strings.h>

#include "plaid_error.h"
#include "plaid_http.h"
#include "plaid_link_token.h"
#include "plaid_values.h"
#include "unit.h"

static apr_array_header_t *list(apr_pool_t *p, const char *a, const char *b)
{
    apr_array_header_t *arr = apr_array_make(p, 2, sizeof(const char *));

    APR_ARRAY_PUSH(arr, const char *) = a;
    if (b) {
        APR_ARRAY_PUSH(arr, const char *) = b;
    }
    return arr;
}

static void body_from_fields(apr_pool_t *p)
{
    plaid_link_fields f;
    apr_size_t len = 0;
    json_error_t err;
    json_t *body, *extra = NULL;
    char *text;
    const char *user = NULL, *name = NULL, *lang = NULL;
    int days = 0;

    memset(&f, 0, sizeof(f));
    f.client_name = "Acme \"Bank\"";
    f.language = "en";
    f.country_codes = list(p, "US", "CA");
    f.products = list(p, "auth", "transactions");
    f.redirect_uri = "https://acme.example/oauth";
    CHECK(plaid_parse_extra(p, "{\"transactions\":{\"days_requested\":730}}",
                            &extra) == NULL);
    f.extra = extra;

    text = plaid_link_token_body(p, &f, "user-42", &len);
    CHECK(text != NULL);
    CHECK(len == strlen(text));
    body = json_loads(text, 0, &err);
    CHECK(body != NULL);
    CHECK(json_unpack(body, "{s:s, s:s, s:{s:s}, s:{s:i}}",
                      "client_name", &name, "language", &lang,
                      "user", "client_user_id", &user,
                      "transactions", "days_requested", &days) == 0);
    CHECK_STR(name, "Acme \"Bank\"");
    CHECK_STR(user, "user-42");
    CHECK(days == 730);
    CHECK(json_array_size(json_object_get(body, "country_codes")) == 2);
    CHECK(json_array_size(json_object_get(body, "products")) == 2);
    CHECK_STR(json_string_value(json_object_get(body, "redirect_uri")),
              "https://acme.example/oauth");
    /* never credentials in the body; unset fields stay out */
    CHECK(json_object_get(body, "secret") == NULL);
    CHECK(json_object_get(body, "client_id") == NULL);
    CHECK(json_object_get(body, "webhook") == NULL);
    CHECK(json_object_get(body, "optional_products") == NULL);
    json_decref(body);
    /* the shared config tree is not modified by building a body */
    CHECK(json_object_size(extra) == 1);
}

static void body_escapes_user(apr_pool_t *p)
{
    plaid_link_fields f;
    json_t *body;
    const char *text;

    memset(&f, 0, sizeof(f));
    f.client_name = "x";
    text = plaid_link_token_body(p, &f, "a\",\"secret\":\"x", NULL);
    body = json_loads(text, 0, NULL);
    CHECK(body != NULL);
    CHECK(json_object_get(body, "secret") == NULL);
    json_decref(body);
}

/* The template's body is byte for byte jansson's, for every id. */
static void body_template_matches(apr_pool_t *p)
{
    static const char *const ids[] = {
        "user-42", "", "a\"b", "back\\slash", "tab\there", "cr\rlf\n",
        "\x01\x1f\x7f", "/slash/", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
        "\xc3", "\xed\xa0\x80", "\xc0\xaf", "\xff", "\x01plaid-user\x02",
        NULL   /* then a 256-byte id */
    };
    plaid_link_fields sets[3];
    json_t *extra = NULL;
    char long_id[PLAID_USER_ID_MAX + 1];
    int i, j;

    memset(sets, 0, sizeof(sets));
    sets[1].client_name = "Acme \"Bank\"";
    sets[1].language = "en";
    sets[1].country_codes = list(p, "US", "CA");
    sets[1].products = list(p, "auth", NULL);
    sets[1].webhook = "https://acme.example/hook";
    CHECK(plaid_parse_extra(p, "{\"transactions\":{\"days_requested\":730},"
                            "\"z\":\"\\u00e9\"}", &extra) == NULL);
    sets[2] = sets[1];
    sets[2].extra = extra;
    memset(long_id, 'x', PLAID_USER_ID_MAX);
    long_id[PLAID_USER_ID_MAX] = '\0';

    for (j = 0; j < 3; j++) {
        plaid_body_template *t = plaid_body_template_make(p, &sets[j]);

        CHECK(t != NULL);
        if (!t) {
            continue;
        }
        for (i = 0; i == 0 || ids[i - 1]; i++) {
            const char *id = ids[i] ? ids[i] : long_id;
            apr_size_t want_len = 0, got_len = 0;
            char *want = plaid_link_token_body(p, &sets[j], id, &want_len);
            char *got = plaid_body_from_template(p, t, id, &got_len);

            CHECK_STR(got, want);
            CHECK(got_len == want_len);
        }
    }
}

/* The browser's flat answers are what jansson's dump made of the same
 * values (valid UTF-8: link tokens and expirations come through jansson),
 * and a NULL value is null. */
static void flat_answer_matches(apr_pool_t *p)
{
    static const char *const values[] = {
        "link-sandbox-af1a0311-da53-4636-b754-dd15cc058176", "",
        "a\"b", "back\\slash", "tab\there", "cr\rlf\n", "\x01\x1f\x7f",
        "/slash/", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", NULL
    };
    int i;

    for (i = 0; values[i]; i++) {
        const char *const fields[] = {
            "link_token", values[i], "expiration", "2020-03-27T12:56:34Z",
            "request_id", "r\"1", NULL
        };
        json_t *want = json_pack("{s:s, s:s, s:s}", "link_token", values[i],
                                 "expiration", "2020-03-27T12:56:34Z",
                                 "request_id", "r\"1");
        json_t *back;
        apr_size_t len = 0;
        char *got = plaid_json_flat(p, fields, &len);

        CHECK(len == strlen(got));
        back = json_loads(got, JSON_REJECT_DUPLICATES, NULL);
        CHECK(back != NULL && json_equal(back, want));
        json_decref(back);
        json_decref(want);
    }
    {
        const char *const fields[] = { "error", NULL, NULL };
        apr_size_t len = 0;

        CHECK_STR(plaid_json_flat(p, fields, &len), "{\"error\":null}");
    }
    {
        const char *const fields[] = { NULL };
        apr_size_t len = 0;

        CHECK_STR(plaid_json_flat(p, fields, &len), "{}");
        CHECK(len == 2);
    }
}

/* An extra that spells the stand-in twice leaves the id's place ambiguous:
 * no template, and the body is built per request. */
static void body_template_refuses_ambiguity(apr_pool_t *p)
{
    plaid_link_fields f;
    json_t *extra = NULL;

    memset(&f, 0, sizeof(f));
    CHECK(plaid_parse_extra(p, "{\"a\":\"\\u0001plaid-user\\u0002\"}",
                            &extra) == NULL);
    f.extra = extra;
    CHECK(plaid_body_template_make(p, &f) == NULL);
}

/* What the glue does with the transport's response to /link/token/create:
 * classify it, and read a success. */
static plaid_result parse_token(apr_pool_t *p, long status, const char *body,
                                plaid_link_token *token)
{
    plaid_response resp;
    plaid_result res;
    json_t *answer;

    memset(&resp, 0, sizeof(resp));
    memset(token, 0, sizeof(*token));
    resp.outcome = PLAID_OK;
    resp.status = status;
    resp.body = body;
    resp.body_len = strlen(body);
    resp.attempts = 1;
    if ((answer = plaid_result_from(p, &resp, &res))) {
        plaid_link_token_read(p, answer, &res, token);
        json_decref(answer);
    }
    return res;
}

static plaid_result parse(apr_pool_t *p, long status, const char *body)
{
    plaid_link_token token;

    return parse_token(p, status, body, &token);
}

static void success_answer(apr_pool_t *p)
{
    plaid_link_token token;
    plaid_result res;
    const char *ok = "{\"link_token\":\"link-sandbox-af1a0311-da53-4636-b754-"
                     "dd15cc058176\",\"expiration\":\"2020-03-27T12:56:34Z\","
                     "\"request_id\":\"XQVgFigpGHXkb0b\"}";

    res = parse_token(p, 200, ok, &token);
    CHECK(res.outcome == PLAID_OK);
    CHECK_STR(token.link_token,
              "link-sandbox-af1a0311-da53-4636-b754-dd15cc058176");
    CHECK_STR(token.expiration, "2020-03-27T12:56:34Z");
    CHECK_STR(res.request_id, "XQVgFigpGHXkb0b");
    CHECK(res.attempts == 1 && res.http_status == 200);
    CHECK(plaid_browser_status(res.outcome) == 200);
}

static void unusable_answers(apr_pool_t *p)
{
    plaid_result res;

    res = parse(p, 200, "<html>gateway</html>");
    CHECK(res.outcome == PLAID_FAIL_UNUSABLE);
    CHECK_HAS(res.problem, "not JSON");
    CHECK(plaid_browser_status(res.outcome) == 502);

    res = parse(p, 200, "{\"request_id\":\"R1\"}");
    CHECK(res.outcome == PLAID_FAIL_UNUSABLE);
    CHECK_HAS(res.problem, "link_token");
    CHECK_STR(res.request_id, "R1");

    res = parse(p, 200, "{\"link_token\":\"link-sandbox-1\",\"expiration\":"
                        "\"x\"}");
    CHECK(res.outcome == PLAID_FAIL_UNUSABLE);
    CHECK_HAS(res.problem, "request_id");

    res = parse(p, 200, "{\"link_token\":\"\",\"expiration\":\"x\","
                        "\"request_id\":\"r\"}");
    CHECK(res.outcome == PLAID_FAIL_UNUSABLE);
    CHECK_HAS(res.problem, "empty");

    res = parse(p, 200, "{\"link_token\":\"link-sandbox-1\",\"expira");
    CHECK(res.outcome == PLAID_FAIL_UNUSABLE);

    res = parse(p, 200, "[]");
    CHECK(res.outcome == PLAID_FAIL_UNUSABLE);

    res = parse(p, 200, "{\"link_token\":1,\"expiration\":\"x\","
                        "\"request_id\":\"r\"}");
    CHECK(res.outcome == PLAID_FAIL_UNUSABLE);

    res = parse(p, 200, "");
    CHECK(res.outcome == PLAID_FAIL_UNUSABLE);

    res = parse(p, 302, "");
    CHECK(res.outcome == PLAID_FAIL_UNUSABLE);
}

static const char *plaid_error(apr_pool_t *p, const char *type,
                               const char *code, const char *message)
{
    return apr_psprintf(p, "{\"error_type\":\"%s\",\"error_code\":\"%s\","
                        "\"error_code_reason\":null,\"error_message\":\"%s\","
                        "\"display_message\":null,\"request_id\":\"REQ9\","
                        "\"causes\":[],\"status\":null,\"documentation_url\":"
                        "\"https://plaid.com/docs/errors/\","
                        "\"suggested_action\":null}", type, code, message);
}

static void error_answers(apr_pool_t *p)
{
    plaid_result res;

    res = parse(p, 400, plaid_error(p, "INVALID_INPUT", "INVALID_API_KEYS",
                                    "invalid client_id or secret provided"));
    CHECK(res.outcome == PLAID_FAIL_REFUSED);
    CHECK(plaid_browser_status(res.outcome) == 502);
    CHECK(res.http_status == 400);
    CHECK_STR(res.error_type, "INVALID_INPUT");
    CHECK_STR(res.error_code, "INVALID_API_KEYS");
    CHECK_STR(res.error_message, "invalid client_id or secret provided");
    CHECK_STR(res.display_message, NULL);
    CHECK_STR(res.request_id, "REQ9");
    CHECK_STR(res.documentation_url, "https://plaid.com/docs/errors/");
    CHECK_HAS(plaid_hint(&res), "PlaidEnv");

    res = parse(p, 429, plaid_error(p, "RATE_LIMIT_EXCEEDED", "RATE_LIMIT",
                                    "rate limit exceeded"));
    CHECK(res.outcome == PLAID_FAIL_RATE_LIMITED);
    CHECK(plaid_browser_status(res.outcome) == 503);

    res = parse(p, 400, plaid_error(p, "RATE_LIMIT_EXCEEDED", "RATE_LIMIT",
                                    "x"));
    CHECK(res.outcome == PLAID_FAIL_RATE_LIMITED);

    res = parse(p, 500, plaid_error(p, "API_ERROR", "INTERNAL_SERVER_ERROR",
                                    "x"));
    CHECK(res.outcome == PLAID_FAIL_REFUSED);
    CHECK(plaid_browser_status(res.outcome) == 502);

    res = parse(p, 503, "Service Unavailable");
    CHECK(res.outcome == PLAID_FAIL_UNREACHABLE);
    CHECK(plaid_browser_status(res.outcome) == 503);
    CHECK_HAS(res.problem, "not JSON");

    res = parse(p, 400, "{\"unexpected\":true}");
    CHECK(res.outcome == PLAID_FAIL_REFUSED);
    CHECK_HAS(res.problem, "PlaidError");

    /* a wrongly typed field is dropped, not trusted */
    res = parse(p, 400, "{\"error_code\":42,\"error_type\":\"INVALID_INPUT\"}");
    CHECK(res.error_code == NULL);
    CHECK_STR(res.error_type, "INVALID_INPUT");
}

static void hints(apr_pool_t *p)
{
    plaid_result res;

    res = parse(p, 400, plaid_error(p, "INVALID_REQUEST", "INVALID_FIELD",
                                    "OAuth redirect URI must be configured in "
                                    "the developer dashboard"));
    CHECK_HAS(plaid_hint(&res), "PlaidRedirectURI");

    res = parse(p, 400, plaid_error(p, "INVALID_REQUEST", "INVALID_FIELD",
                                    "language must be a supported language"));
    CHECK_HAS(plaid_hint(&res), "field is invalid");

    res = parse(p, 400, plaid_error(p, "INVALID_REQUEST", "MISSING_FIELDS",
                                    "the following required fields are "
                                    "missing: client_name"));
    CHECK_HAS(plaid_hint(&res), "missing");

    res = parse(p, 400, plaid_error(p, "INVALID_INPUT", "INVALID_PRODUCT",
                                    "client is not authorized to access the "
                                    "following products: income"));
    CHECK_HAS(plaid_hint(&res), "not enabled for this client id");

    memset(&res, 0, sizeof(res));
    res.outcome = PLAID_FAIL_TIMEOUT;
    CHECK(plaid_browser_status(res.outcome) == 504);
    CHECK_HAS(plaid_hint(&res), "PlaidTimeout");
    res.outcome = PLAID_FAIL_TLS;
    CHECK(plaid_browser_status(res.outcome) == 502);
    CHECK_HAS(plaid_hint(&res), "PlaidCACertificate");
    res.outcome = PLAID_FAIL_UNREACHABLE;
    CHECK_HAS(plaid_hint(&res), "DNS");
    res.outcome = PLAID_FAIL_REFUSED;
    res.error_code = "SOMETHING_NEW";
    CHECK(plaid_hint(&res) == NULL);
}

/* A transport failure reaches the result as it is. */
static void transport_failure(apr_pool_t *p)
{
    plaid_response resp;
    plaid_result res;

    memset(&resp, 0, sizeof(resp));
    resp.outcome = PLAID_FAIL_TIMEOUT;
    resp.curl_error = "Operation timed out";
    resp.url = "https://sandbox.plaid.com/link/token/create";
    resp.attempts = 2;
    resp.elapsed_ms = 1234;
    CHECK(plaid_result_from(p, &resp, &res) == NULL);
    CHECK(res.outcome == PLAID_FAIL_TIMEOUT);
    CHECK_STR(res.curl_error, "Operation timed out");
    CHECK_STR(res.url, "https://sandbox.plaid.com/link/token/create");
    CHECK(res.attempts == 2 && res.elapsed_ms == 1234);
    CHECK(plaid_browser_status(res.outcome) == 504);
}

static void transport_unreachable(apr_pool_t *p)
{
    plaid_http *http = NULL;
    plaid_response res;
    plaid_call call;

    memset(&res, 0, sizeof(res));
    memset(&call, 0, sizeof(call));
    CHECK(plaid_http_create(p, &http) == APR_SUCCESS);
    call.base_url = "http://127.0.0.1:1";
    call.path = "/link/token/create";
    call.client_id = "id";
    call.secret = "secret";
    call.connect_timeout_ms = 1000;
    call.total_timeout_ms = 2000;
    call.body = "{}";
    call.body_len = 2;
    plaid_http_post(http, p, &call, &res);
    CHECK(res.outcome == PLAID_FAIL_UNREACHABLE);
    CHECK(res.attempts == 1);
    CHECK(res.curl_error != NULL);
    CHECK(res.status == 0);
    CHECK_STR(res.url, "http://127.0.0.1:1/link/token/create");
}

int main(void)
{
    static const unit_test tests[] = {
        body_from_fields, body_escapes_user, body_template_matches,
        body_template_refuses_ambiguity, flat_answer_matches, success_answer, unusable_answers,
        error_answers, hints, transport_failure, transport_unreachable, NULL
    };
    return unit_run("test_body_answer", tests);
}
