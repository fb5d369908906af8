/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The metrics' block, its label sets and its Prometheus text. The glue
 * (module/metrics.c) places the block in shared memory and says which
 * endpoint a request is; everything else is here, tested in plain C
 * (tests/unit/test_metrics.c).
 */
#include <string.h>

#include <apr_strings.h>

#include "plaid_known.h"
#include "plaid_metrics.h"

/* Children of several processes add to the same words: an atomic that
 * needs a lock would take a lock of one process only. */
_Static_assert(__atomic_always_lock_free(sizeof(apr_uint64_t), 0),
               "64-bit atomics must be lock-free for shared memory");

/* What the module answers (docs/reference.md, "What the browser gets"),
 * and 429 for PlaidRateLimit and 404 for a hand-off path; the rest is
 * "other". */
static const struct {
    int status;
    const char *name;
} statuses[PLAID_METRICS_STATUSES] = {
    { 200, "200" }, { 400, "400" }, { 401, "401" }, { 403, "403" },
    { 404, "404" }, { 405, "405" }, { 413, "413" }, { 415, "415" },
    { 429, "429" }, { 500, "500" }, { 502, "502" }, { 503, "503" },
    { 504, "504" }, { 0, "other" }
};

/* From Plaid's error reference (https://plaid.com/docs/errors/): the codes
 * /link/token/create, /item/public_token/exchange and
 * /webhook_verification_key/get answer, and those of any endpoint. Every
 * code of the hints table in plaid_error.c is here (t/metrics.t checks),
 * and docs/metrics.md lists them. At most PLAID_METRICS_ERROR_CODES - 1. */
const char *const plaid_error_codes[] = {
    /* INVALID_REQUEST */
    "MISSING_FIELDS", "UNKNOWN_FIELDS", "INVALID_FIELD", "INVALID_BODY",
    "INVALID_HEADERS", "INVALID_CONFIGURATION", "INCOMPATIBLE_API_VERSION",
    "NOT_FOUND", "NO_LONGER_AVAILABLE", "SANDBOX_ONLY",
    /* INVALID_INPUT */
    "INVALID_API_KEYS", "UNAUTHORIZED_ENVIRONMENT",
    "UNAUTHORIZED_ROUTE_ACCESS", "DIRECT_INTEGRATION_NOT_ENABLED",
    "INVALID_PRODUCT", "INVALID_PUBLIC_TOKEN", "INVALID_LINK_TOKEN",
    "INVALID_ACCESS_TOKEN", "INVALID_INSTITUTION",
    "INVALID_LINK_CUSTOMIZATION", "INVALID_WEBHOOK_VERIFICATION_KEY_ID",
    "INVALID_USER_TOKEN", "TOO_MANY_VERIFICATION_ATTEMPTS",
    "USER_PERMISSION_REVOKED",
    /* RATE_LIMIT_EXCEEDED */
    "RATE_LIMIT", "ADDITION_LIMIT", "ACCOUNTS_LIMIT", "ITEM_GET_LIMIT",
    /* API_ERROR */
    "INTERNAL_SERVER_ERROR", "PLANNED_MAINTENANCE",
    /* ITEM_ERROR */
    "PRODUCTS_NOT_SUPPORTED", "PRODUCT_NOT_ENABLED", "PRODUCT_NOT_READY",
    "ITEM_NOT_FOUND", "ITEM_LOGIN_REQUIRED", "INVALID_CREDENTIALS",
    "NO_ACCOUNTS", "USER_SETUP_REQUIRED",
    /* INSTITUTION_ERROR */
    "INSTITUTION_DOWN", "INSTITUTION_NOT_RESPONDING",
    "INSTITUTION_NOT_AVAILABLE", "INSTITUTION_NO_LONGER_SUPPORTED",
    /* OAUTH_ERROR */
    "INCORRECT_OAUTH_NONCE", "OAUTH_STATE_ID_ALREADY_PROCESSED",
    /* SANDBOX_ERROR */
    "SANDBOX_PRODUCT_NOT_ENABLED", "SANDBOX_WEBHOOK_INVALID",
    NULL
};

const long plaid_metrics_bucket_ms[PLAID_METRICS_BUCKETS - 1] = {
    25, 50, 100, 250, 500, 1000, 2500, 5000, 10000
};

const char *const plaid_metrics_bucket_le[PLAID_METRICS_BUCKETS] = {
    "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf"
};

int plaid_metrics_status_index(int status)
{
    int i;

    for (i = 0; i < PLAID_METRICS_STATUSES - 1; i++) {
        if (statuses[i].status == status) {
            return i;
        }
    }
    return PLAID_METRICS_STATUSES - 1;
}

const char *plaid_metrics_status_name(int index)
{
    return index >= 0 && index < PLAID_METRICS_STATUSES
        ? statuses[index].name : NULL;
}

/* The index of value in a NULL-terminated list, when below other; else
 * other. */
static int index_in(const char *const *list, const char *value, int other)
{
    int i;

    for (i = 0; value && list[i] && i < other; i++) {
        if (strcmp(list[i], value) == 0) {
            return i;
        }
    }
    return other;
}

static const char *name_in(const char *const *list, int index, int other)
{
    int i;

    if (index == other) {
        return "other";
    }
    for (i = 0; list[i] && i < other; i++) {
        if (i == index) {
            return list[i];
        }
    }
    return NULL;
}

int plaid_metrics_error_type_index(const char *error_type)
{
    return index_in(plaid_error_types, error_type,
                    PLAID_METRICS_ERROR_TYPES - 1);
}

int plaid_metrics_error_code_index(const char *error_code)
{
    return index_in(plaid_error_codes, error_code,
                    PLAID_METRICS_ERROR_CODES - 1);
}

const char *plaid_metrics_error_type_name(int index)
{
    return name_in(plaid_error_types, index, PLAID_METRICS_ERROR_TYPES - 1);
}

const char *plaid_metrics_error_code_name(int index)
{
    return name_in(plaid_error_codes, index, PLAID_METRICS_ERROR_CODES - 1);
}

int plaid_metrics_bucket_index(long ms)
{
    int i;

    for (i = 0; i < PLAID_METRICS_BUCKETS - 1; i++) {
        if (ms <= plaid_metrics_bucket_ms[i]) {
            return i;
        }
    }
    return PLAID_METRICS_BUCKETS - 1;
}

void plaid_metrics_count_answer(plaid_metrics *m, int endpoint, int status)
{
    if (endpoint < 0 || endpoint >= PLAID_METRICS_ENDPOINTS) {
        endpoint = 0;
    }
    plaid_metrics_add(&m->requests[endpoint]
                                  [plaid_metrics_status_index(status)], 1);
}

void plaid_metrics_count_call(plaid_metrics *m, const plaid_result *res)
{
    long ms = res->elapsed_ms > 0 ? res->elapsed_ms : 0;

    if (res->attempts > 0) {
        plaid_metrics_add(&m->calls[plaid_metrics_bucket_index(ms)], 1);
        plaid_metrics_add(&m->call_ms, (apr_uint64_t)ms);
        plaid_metrics_add(&m->retries, (apr_uint64_t)(res->attempts - 1));
    }
    if (res->error_type || res->error_code) {
        plaid_metrics_add(&m->errors
                          [plaid_metrics_error_type_index(res->error_type)]
                          [plaid_metrics_error_code_index(res->error_code)],
                          1);
    }
}

void plaid_metrics_sum(const plaid_metrics *m, plaid_metrics_totals *t)
{
    int i, j;

    memset(t, 0, sizeof(*t));
    for (i = 0; i < PLAID_METRICS_ENDPOINTS; i++) {
        for (j = 0; j < PLAID_METRICS_STATUSES; j++) {
            t->by_status[j] += plaid_metrics_read(&m->requests[i][j]);
        }
    }
    for (j = 0; j < PLAID_METRICS_STATUSES; j++) {
        t->requests += t->by_status[j];
    }
    for (i = 0; i < PLAID_METRICS_ERROR_TYPES; i++) {
        for (j = 0; j < PLAID_METRICS_ERROR_CODES; j++) {
            t->errors += plaid_metrics_read(&m->errors[i][j]);
        }
    }
    for (i = 0; i < PLAID_METRICS_BUCKETS; i++) {
        t->bucket[i] = plaid_metrics_read(&m->calls[i]);
        t->calls += t->bucket[i];
    }
    t->call_ms = plaid_metrics_read(&m->call_ms);
    t->retries = plaid_metrics_read(&m->retries);
    t->rate_limited = plaid_metrics_read(&m->rate_limited);
    t->circuit_refused = plaid_metrics_read(&m->circuit_refused);
}

const char *plaid_metrics_label_value(apr_pool_t *p, const char *s)
{
    apr_size_t n = strlen(s);
    char *out = apr_palloc(p, 2 * n + 1), *o = out;
    int len;

    while (*s) {
        if (*s == '\\' || *s == '"' || *s == '\n') {
            *o++ = '\\';
            *o++ = *s == '\n' ? 'n' : *s;
            s++;
        }
        else if ((len = plaid_utf8_len((const unsigned char *)s)) > 0) {
            memcpy(o, s, (apr_size_t)len);
            o += len;
            s += len;
        }
        else {
            *o++ = '?';
            s++;
        }
    }
    *o = '\0';
    return out;
}

/* The text, a piece at a time. */
struct text {
    apr_pool_t *p;
    char *data;
    apr_size_t len, cap;
};

static void put(struct text *t, const char *s)
{
    apr_size_t n = strlen(s);

    plaid_reserve(t->p, &t->data, t->len, &t->cap, n + 1);
    memcpy(t->data + t->len, s, n + 1);
    t->len += n;
}

static void head(struct text *t, const char *name, const char *type,
                 const char *help)
{
    put(t, apr_pstrcat(t->p, "# HELP ", name, " ", help, "\n# TYPE ", name,
                       " ", type, "\n", NULL));
}

static void value(struct text *t, const char *series, apr_uint64_t v)
{
    put(t, apr_psprintf(t->p, "%s %" APR_UINT64_T_FMT "\n", series, v));
}

static void requests(struct text *t, const plaid_metrics *m,
                     const plaid_metrics_labels *labels, int n)
{
    apr_pool_t *p = t->p;
    int i, j;

    head(t, "plaid_link_requests_total", "counter",
         "Answers of the module's handlers, by vhost, location (of the "
         "SetHandler), handler and HTTP status.");
    for (i = 0; i < n && i < PLAID_METRICS_ENDPOINTS; i++) {
        const char *where = NULL;

        for (j = 0; j < PLAID_METRICS_STATUSES; j++) {
            apr_uint64_t v = plaid_metrics_read(&m->requests[i][j]);

            if (!v || !labels[i].vhost) {
                continue;
            }
            if (!where) {
                where = apr_pstrcat(p, "plaid_link_requests_total{vhost=\"",
                    plaid_metrics_label_value(p, labels[i].vhost),
                    "\",location=\"",
                    plaid_metrics_label_value(p, labels[i].location),
                    "\",handler=\"",
                    plaid_metrics_label_value(p, labels[i].handler),
                    "\",status=\"", NULL);
            }
            value(t, apr_pstrcat(p, where, plaid_metrics_status_name(j),
                                 "\"}", NULL), v);
        }
    }
}

static void errors(struct text *t, const plaid_metrics *m)
{
    int i, j;

    head(t, "plaid_link_plaid_errors_total", "counter",
         "PlaidError answers from Plaid, by error_type and error_code "
         "(\"other\": one the module does not list).");
    for (i = 0; i < PLAID_METRICS_ERROR_TYPES; i++) {
        for (j = 0; j < PLAID_METRICS_ERROR_CODES; j++) {
            apr_uint64_t v = plaid_metrics_read(&m->errors[i][j]);

            if (v) {
                value(t, apr_pstrcat(t->p,
                    "plaid_link_plaid_errors_total{error_type=\"",
                    plaid_metrics_error_type_name(i), "\",error_code=\"",
                    plaid_metrics_error_code_name(j), "\"}", NULL), v);
            }
        }
    }
}

static void histogram(struct text *t, const plaid_metrics *m)
{
    apr_uint64_t below = 0, ms = plaid_metrics_read(&m->call_ms);
    int i;

    head(t, "plaid_link_plaid_call_duration_seconds", "histogram",
         "Duration of each call to Plaid, its retries included.");
    for (i = 0; i < PLAID_METRICS_BUCKETS; i++) {
        below += plaid_metrics_read(&m->calls[i]);
        value(t, apr_pstrcat(t->p,
                             "plaid_link_plaid_call_duration_seconds_bucket"
                             "{le=\"", plaid_metrics_bucket_le[i], "\"}",
                             NULL), below);
    }
    put(t, apr_psprintf(t->p, "plaid_link_plaid_call_duration_seconds_sum "
                        "%" APR_UINT64_T_FMT ".%03u\n", ms / 1000,
                        (unsigned)(ms % 1000)));
    value(t, "plaid_link_plaid_call_duration_seconds_count", below);
}

char *plaid_metrics_text(apr_pool_t *p, const plaid_metrics *m,
                         const plaid_metrics_labels *labels, int n,
                         apr_uint64_t in_flight, apr_size_t *len)
{
    struct text t = { p, NULL, 0, 0 };

    requests(&t, m, labels, n);
    errors(&t, m);
    head(&t, "plaid_link_retries_total", "counter",
         "Attempts after the first, over all calls to Plaid.");
    value(&t, "plaid_link_retries_total", plaid_metrics_read(&m->retries));
    head(&t, "plaid_link_rate_limited_total", "counter",
         "Requests refused by PlaidRateLimit or PlaidRateLimitTotal.");
    value(&t, "plaid_link_rate_limited_total",
          plaid_metrics_read(&m->rate_limited));
    head(&t, "plaid_link_circuit_refused_total", "counter",
         "Requests refused by an open PlaidCircuitBreaker.");
    value(&t, "plaid_link_circuit_refused_total",
          plaid_metrics_read(&m->circuit_refused));
    head(&t, "plaid_link_calls_in_flight", "gauge",
         "Calls to Plaid under way, in all children.");
    value(&t, "plaid_link_calls_in_flight", in_flight);
    histogram(&t, m);
    *len = t.len;
    return t.data;
}
