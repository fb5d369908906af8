/*
 * The libcurl transport. Each process keeps a stack of easy handles, so a
 * request reuses a handle's open connection, DNS cache and TLS session
 * instead of paying a handshake with Plaid every time. Handles are made in
 * the child that uses them and closed with its pool: a forked child never
 * touches its parent's sockets.
 */
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>
#include <apr_thread_mutex.h>
#include <apr_time.h>
#include <curl/curl.h>

#include "plaid_link.h"

/* Idle connections older than this are not trusted: a middlebox may have
 * dropped them silently. */
#define PLAID_MAX_CONN_AGE_S 60L

struct plaid_http {
#if APR_HAS_THREADS
    apr_thread_mutex_t *lock;
#endif
    apr_array_header_t *idle;   /* CURL * */
};

static apr_status_t close_handles(void *data)
{
    plaid_http *http = data;

    while (http->idle->nelts) {
        curl_easy_cleanup(*(CURL **)apr_array_pop(http->idle));
    }
    return APR_SUCCESS;
}

apr_status_t plaid_http_create(apr_pool_t *p, plaid_http **out)
{
    plaid_http *http = apr_pcalloc(p, sizeof(*http));

#if APR_HAS_THREADS
    apr_status_t rv = apr_thread_mutex_create(&http->lock,
                                              APR_THREAD_MUTEX_DEFAULT, p);
    if (rv != APR_SUCCESS) {
        return rv;
    }
#endif
    http->idle = apr_array_make(p, 16, sizeof(CURL *));
    apr_pool_cleanup_register(p, http, close_handles, apr_pool_cleanup_null);
    *out = http;
    return APR_SUCCESS;
}

static CURL *take_handle(plaid_http *http)
{
    CURL *h = NULL;

#if APR_HAS_THREADS
    apr_thread_mutex_lock(http->lock);
#endif
    if (http->idle->nelts) {
        h = *(CURL **)apr_array_pop(http->idle);
    }
#if APR_HAS_THREADS
    apr_thread_mutex_unlock(http->lock);
#endif
    return h ? h : curl_easy_init();
}

static void give_back(plaid_http *http, CURL *h)
{
    /* Forget the options, keep the connection and the caches. */
    curl_easy_reset(h);
#if APR_HAS_THREADS
    apr_thread_mutex_lock(http->lock);
#endif
    APR_ARRAY_PUSH(http->idle, CURL *) = h;
#if APR_HAS_THREADS
    apr_thread_mutex_unlock(http->lock);
#endif
}

struct answer {
    apr_pool_t *p;
    char *data;
    apr_size_t len, cap;
    int too_large;
    const char *retry_after;
};

static size_t on_body(char *chunk, size_t size, size_t n, void *data)
{
    struct answer *a = data;
    size_t bytes = size * n;
    char *grown;

    if (a->len + bytes > PLAID_ANSWER_MAX) {
        a->too_large = 1;
        return 0;   /* curl stops with CURLE_WRITE_ERROR */
    }
    if (a->len + bytes > a->cap) {
        /* A link token answer is ~150 bytes; grow only for the odd one. */
        a->cap = a->len + bytes > 2 * a->cap ? a->len + bytes : 2 * a->cap;
        grown = apr_palloc(a->p, a->cap);
        if (a->len) {
            memcpy(grown, a->data, a->len);
        }
        a->data = grown;
    }
    memcpy(a->data + a->len, chunk, bytes);
    a->len += bytes;
    return bytes;
}

static size_t on_header(char *line, size_t size, size_t n, void *data)
{
    struct answer *a = data;
    size_t bytes = size * n;
    static const char name[] = "retry-after:";

    if (bytes > sizeof(name) - 1 && bytes < 128
        && strncasecmp(line, name, sizeof(name) - 1) == 0) {
        const char *v = line + sizeof(name) - 1;
        apr_size_t len = bytes - (sizeof(name) - 1);

        while (len && (*v == ' ' || *v == '\t')) {
            v++, len--;
        }
        while (len && (v[len - 1] == '\r' || v[len - 1] == '\n'
                       || v[len - 1] == ' ')) {
            len--;
        }
        a->retry_after = apr_pstrmemdup(a->p, v, len);
    }
    return bytes;
}

static plaid_outcome outcome_for_curl(CURLcode rc)
{
    switch (rc) {
    case CURLE_OPERATION_TIMEDOUT:
        return PLAID_FAIL_TIMEOUT;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
        return PLAID_FAIL_UNREACHABLE;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
        return PLAID_FAIL_TLS;
    default:
        return PLAID_FAIL_UNUSABLE;
    }
}

static struct curl_slist *call_headers(apr_pool_t *p, const plaid_call *call)
{
    struct curl_slist *h = NULL;

    h = curl_slist_append(h, "Content-Type: application/json");
    h = curl_slist_append(h, "Plaid-Version: " PLAID_API_VERSION);
    h = curl_slist_append(h, apr_pstrcat(p, "PLAID-CLIENT-ID: ",
                                         call->client_id, NULL));
    h = curl_slist_append(h, apr_pstrcat(p, "PLAID-SECRET: ", call->secret,
                                         NULL));
    /* No 100-continue round trip for a body we send whole anyway. */
    h = curl_slist_append(h, "Expect:");
    return h;
}

static void set_options(CURL *h, const plaid_call *call,
                        struct curl_slist *headers, struct answer *a,
                        char *errbuf, long remaining_ms)
{
    curl_easy_setopt(h, CURLOPT_URL, call->url);
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, call->body);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)call->body_len);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_USERAGENT, PLAID_USER_AGENT);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, a);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, a);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    /* httpd threads: no SIGALRM-based DNS timeouts. */
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                     call->connect_timeout_ms < remaining_ms
                     ? call->connect_timeout_ms : remaining_ms);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, remaining_ms);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
    if (call->ca_file) {
        curl_easy_setopt(h, CURLOPT_CAINFO, call->ca_file);
    }
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https,http");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_MAXAGE_CONN, PLAID_MAX_CONN_AGE_S);
}

/* One POST; res holds its outcome. */
static void attempt(plaid_http *http, apr_pool_t *p, const plaid_call *call,
                    plaid_result *res, long remaining_ms)
{
    char errbuf[CURL_ERROR_SIZE] = "";
    struct answer a = { p, NULL, 0, 0, 0, NULL };
    struct curl_slist *headers;
    CURLcode rc;
    long status = 0;
    CURL *h;

    memset(res, 0, sizeof(*res));
    h = take_handle(http);
    if (!h) {
        res->outcome = PLAID_FAIL_UNUSABLE;
        res->problem = "curl_easy_init failed";
        return;
    }
    a.cap = 1024;
    a.data = apr_palloc(p, a.cap);
    headers = call_headers(p, call);
    set_options(h, call, headers, &a, errbuf, remaining_ms);
    rc = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(headers);
    give_back(http, h);
    res->retry_after = a.retry_after;

    if (rc != CURLE_OK) {
        res->http_status = status;
        res->outcome = outcome_for_curl(rc);
        res->curl_error = apr_pstrdup(p, *errbuf ? errbuf
                                                 : curl_easy_strerror(rc));
        if (a.too_large) {
            res->outcome = PLAID_FAIL_UNUSABLE;
            res->problem = "the answer is larger than 64 KiB";
        }
        return;
    }
    plaid_parse_answer(p, status, a.data, a.len, res);
}

/* Retry only what a retry can mend and cannot harm: no connection, Plaid
 * unavailable or erring (5xx), or rate-limited. A spare link_token from a
 * request that did reach Plaid costs nothing. */
static int worth_retrying(const plaid_result *res)
{
    if (res->outcome == PLAID_FAIL_RATE_LIMITED) {
        return 1;
    }
    if (res->http_status >= 500) {
        return 1;
    }
    return res->outcome == PLAID_FAIL_UNREACHABLE && res->http_status == 0;
}

/* The wait before retry n (1, 2, ...): exponential with full jitter, or
 * Retry-After when Plaid gave one, capped. */
static long backoff_ms(const plaid_result *res, int n)
{
    long ceiling = PLAID_RETRY_BASE_MS << (n < 8 ? n - 1 : 7);
    unsigned char r[2];
    long secs;

    if (res->retry_after && (secs = atol(res->retry_after)) > 0) {
        return secs * 1000 > PLAID_RETRY_AFTER_CAP_MS
            ? PLAID_RETRY_AFTER_CAP_MS : secs * 1000;
    }
    if (apr_generate_random_bytes(r, sizeof(r)) != APR_SUCCESS) {
        return ceiling / 2;
    }
    return ceiling / 2 + (long)((r[0] << 8 | r[1]) % (ceiling / 2 + 1));
}

void plaid_http_post(plaid_http *http, apr_pool_t *p, const plaid_call *call,
                     plaid_result *res)
{
    apr_time_t start = apr_time_now();
    apr_time_t deadline = start + apr_time_from_msec(call->total_timeout_ms);
    long remaining_ms = call->total_timeout_ms, wait_ms;
    int attempts = 0;

    for (;;) {
        attempt(http, p, call, res, remaining_ms);
        res->attempts = ++attempts;
        if (res->outcome == PLAID_OK || attempts > call->retries
            || !worth_retrying(res)) {
            break;
        }
        wait_ms = backoff_ms(res, attempts);
        remaining_ms = (long)apr_time_as_msec(deadline - apr_time_now());
        /* Never outlive PlaidTimeout: give up rather than wait past it. */
        if (remaining_ms - wait_ms < 50) {
            break;
        }
        apr_sleep(apr_time_from_msec(wait_ms));
        remaining_ms -= wait_ms;
    }
    res->elapsed_ms = (long)apr_time_as_msec(apr_time_now() - start);
}
