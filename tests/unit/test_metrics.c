/* SPDX-License-Identifier: Apache-2.0 */
/* The metrics' label sets, what a call and an answer add, and the
 * Prometheus text. */
#include <apr_strings.h>

#include "plaid_known.h"
#include "plaid_metrics.h"
#include "unit.h"

static int count(const char *const *list)
{
    int n = 0;

    while (list[n]) {
        n++;
    }
    return n;
}

static void label_sets(apr_pool_t *p)
{
    int i, j, types = count(plaid_error_types);
    int codes = count(plaid_error_codes);

    (void)p;
    /* Each known value has its own index, below "other". */
    CHECK(types < PLAID_METRICS_ERROR_TYPES);
    CHECK(codes < PLAID_METRICS_ERROR_CODES);
    for (i = 0; i < codes; i++) {
        CHECK(plaid_metrics_error_code_index(plaid_error_codes[i]) == i);
        for (j = 0; j < i; j++) {
            CHECK(strcmp(plaid_error_codes[i], plaid_error_codes[j]) != 0);
        }
    }
    for (i = 0; i < types; i++) {
        CHECK(plaid_metrics_error_type_index(plaid_error_types[i]) == i);
    }
    CHECK_STR(plaid_metrics_error_type_name(
                  plaid_metrics_error_type_index("API_ERROR")), "API_ERROR");
    CHECK_STR(plaid_metrics_error_code_name(
                  plaid_metrics_error_code_index("INVALID_API_KEYS")),
              "INVALID_API_KEYS");
    /* What the lists do not know, and nothing at all, is "other". */
    CHECK(plaid_metrics_error_type_index("NOT_A_TYPE")
          == PLAID_METRICS_ERROR_TYPES - 1);
    CHECK(plaid_metrics_error_code_index("NOT_A_CODE")
          == PLAID_METRICS_ERROR_CODES - 1);
    CHECK(plaid_metrics_error_code_index(NULL)
          == PLAID_METRICS_ERROR_CODES - 1);
    CHECK_STR(plaid_metrics_error_code_name(PLAID_METRICS_ERROR_CODES - 1),
              "other");
    CHECK_STR(plaid_metrics_error_type_name(PLAID_METRICS_ERROR_TYPES - 1),
              "other");
    CHECK(plaid_metrics_error_code_name(codes) == NULL);
    CHECK(plaid_metrics_error_type_name(types) == NULL);

    CHECK_STR(plaid_metrics_status_name(plaid_metrics_status_index(200)),
              "200");
    CHECK_STR(plaid_metrics_status_name(plaid_metrics_status_index(504)),
              "504");
    CHECK_STR(plaid_metrics_status_name(plaid_metrics_status_index(418)),
              "other");
    CHECK_STR(plaid_metrics_status_name(plaid_metrics_status_index(0)),
              "other");
    CHECK(plaid_metrics_status_name(PLAID_METRICS_STATUSES) == NULL);

    /* le is inclusive, as Prometheus reads it. */
    CHECK(plaid_metrics_bucket_index(0) == 0);
    CHECK(plaid_metrics_bucket_index(25) == 0);
    CHECK(plaid_metrics_bucket_index(26) == 1);
    CHECK(plaid_metrics_bucket_index(1000) == 5);
    CHECK(plaid_metrics_bucket_index(10000) == 8);
    CHECK(plaid_metrics_bucket_index(10001) == 9);
    CHECK_STR(plaid_metrics_bucket_le[PLAID_METRICS_BUCKETS - 1], "+Inf");
}

static void label_values(apr_pool_t *p)
{
    CHECK_STR(plaid_metrics_label_value(p, "/plaid/link-token"),
              "/plaid/link-token");
    CHECK_STR(plaid_metrics_label_value(p, "a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    CHECK_STR(plaid_metrics_label_value(p, "caf\xc3\xa9"), "caf\xc3\xa9");
    CHECK_STR(plaid_metrics_label_value(p, "caf\xe9!"), "caf?!");
    CHECK_STR(plaid_metrics_label_value(p, ""), "");
}

static plaid_result call(long ms, int attempts, const char *type,
                         const char *code)
{
    plaid_result res;

    memset(&res, 0, sizeof(res));
    res.elapsed_ms = ms;
    res.attempts = attempts;
    res.error_type = type;
    res.error_code = code;
    return res;
}

static void counting(apr_pool_t *p)
{
    plaid_metrics *m = apr_pcalloc(p, sizeof(*m));
    plaid_metrics_totals t;
    plaid_result res;

    res = call(20, 1, NULL, NULL);
    plaid_metrics_count_call(m, &res);
    res = call(230, 3, "API_ERROR", "INTERNAL_SERVER_ERROR");
    plaid_metrics_count_call(m, &res);
    res = call(4, 1, "NOT_A_TYPE", "NOT_A_CODE");
    plaid_metrics_count_call(m, &res);
    /* Held back (after a 429 with Retry-After): no call, nothing. */
    res = call(0, 0, NULL, NULL);
    plaid_metrics_count_call(m, &res);
    res = call(12000, 1, NULL, NULL);
    plaid_metrics_count_call(m, &res);
    plaid_metrics_count_answer(m, 3, 200);
    plaid_metrics_count_answer(m, 3, 200);
    plaid_metrics_count_answer(m, 3, 502);
    plaid_metrics_count_answer(m, 5, 418);
    plaid_metrics_count_answer(m, PLAID_METRICS_ENDPOINTS, 200);

    CHECK(m->calls[0] == 2);
    CHECK(m->calls[3] == 1);
    CHECK(m->calls[PLAID_METRICS_BUCKETS - 1] == 1);
    CHECK(m->call_ms == 20 + 230 + 4 + 12000);
    CHECK(m->retries == 2);
    CHECK(m->errors[plaid_metrics_error_type_index("API_ERROR")]
                   [plaid_metrics_error_code_index("INTERNAL_SERVER_ERROR")]
          == 1);
    CHECK(m->errors[PLAID_METRICS_ERROR_TYPES - 1]
                   [PLAID_METRICS_ERROR_CODES - 1] == 1);
    CHECK(m->requests[3][plaid_metrics_status_index(200)] == 2);
    CHECK(m->requests[5][PLAID_METRICS_STATUSES - 1] == 1);
    /* Out of range: the "other" endpoint. */
    CHECK(m->requests[0][plaid_metrics_status_index(200)] == 1);

    plaid_metrics_sum(m, &t);
    CHECK(t.requests == 5);
    CHECK(t.by_status[plaid_metrics_status_index(200)] == 3);
    CHECK(t.errors == 2);
    CHECK(t.calls == 4);
    CHECK(t.retries == 2);
}

static void text(apr_pool_t *p)
{
    plaid_metrics *m = apr_pcalloc(p, sizeof(*m));
    plaid_metrics_labels labels[3] = {
        { "other", "other", "other" },
        { "www.example.com:443", "/plaid/link-token", "plaid-link-token" },
        { "www.example.com:443", "/odd\"path", "plaid-webhook" },
    };
    plaid_result res = call(1234, 2, "INVALID_INPUT", "INVALID_API_KEYS");
    apr_size_t len = 0;
    const char *out;

    plaid_metrics_count_answer(m, 1, 200);
    plaid_metrics_count_answer(m, 1, 200);
    plaid_metrics_count_answer(m, 1, 502);
    plaid_metrics_count_answer(m, 2, 401);
    plaid_metrics_count_call(m, &res);
    plaid_metrics_add(&m->rate_limited, 4);
    out = plaid_metrics_text(p, m, labels, 3, 2, &len);

    CHECK(len == strlen(out));
    CHECK_HAS(out, "# TYPE plaid_link_requests_total counter\n");
    CHECK_HAS(out, "\nplaid_link_requests_total{vhost=\"www.example.com:443\","
              "location=\"/plaid/link-token\",handler=\"plaid-link-token\","
              "status=\"200\"} 2\n");
    CHECK_HAS(out, "status=\"502\"} 1\n");
    CHECK_HAS(out, "location=\"/odd\\\"path\",handler=\"plaid-webhook\","
              "status=\"401\"} 1\n");
    /* Not counted yet: not shown. */
    CHECK(strstr(out, "status=\"503\"") == NULL);
    CHECK(strstr(out, "vhost=\"other\"") == NULL);
    CHECK_HAS(out, "\nplaid_link_plaid_errors_total{error_type=\"INVALID_INPUT\","
              "error_code=\"INVALID_API_KEYS\"} 1\n");
    CHECK_HAS(out, "\nplaid_link_retries_total 1\n");
    CHECK_HAS(out, "\nplaid_link_rate_limited_total 4\n");
    CHECK_HAS(out, "\nplaid_link_circuit_refused_total 0\n");
    CHECK_HAS(out, "# TYPE plaid_link_calls_in_flight gauge\n"
              "plaid_link_calls_in_flight 2\n");
    CHECK_HAS(out, "# TYPE plaid_link_plaid_call_duration_seconds histogram\n");
    CHECK_HAS(out, "_bucket{le=\"1\"} 0\n"
              "plaid_link_plaid_call_duration_seconds_bucket{le=\"2.5\"} 1\n");
    CHECK_HAS(out, "_bucket{le=\"+Inf\"} 1\n"
              "plaid_link_plaid_call_duration_seconds_sum 1.234\n"
              "plaid_link_plaid_call_duration_seconds_count 1\n");
    CHECK(out[len - 1] == '\n');
}

int main(void)
{
    static const unit_test tests[] = { label_sets, label_values, counting,
                                       text, NULL };

    return unit_run("test_metrics", tests);
}
