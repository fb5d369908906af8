/*
 * The libcurl transport. Each process keeps a stack of easy handles, so a
 * request reuses a handle's open connection, DNS cache and TLS session
 * instead of paying a handshake with Plaid every time. Handles are made in
 * the child that uses them and closed with its pool: a forked child never
 * touches its parent's sockets.
 */
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
    apr_size_t len;
    int too_large;
    const char *retry_after;
};

static size_t on_body(char *chunk, size_t size, size_t n, void *data)
{
    struct answer *a = data;
    size_t bytes = size * n;

    if (a->len + bytes > PLAID_ANSWER_MAX) {
        a->too_large = 1;
        return 0;   /* curl stops with CURLE_WRITE_ERROR */
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
                        char *errbuf)
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
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, call->connect_timeout_ms);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, call->total_timeout_ms);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
    if (call->ca_file) {
        curl_easy_setopt(h, CURLOPT_CAINFO, call->ca_file);
    }
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https,http");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_MAXAGE_CONN, PLAID_MAX_CONN_AGE_S);
}

void plaid_http_post(plaid_http *http, apr_pool_t *p, const plaid_call *call,
                     plaid_result *res)
{
    char errbuf[CURL_ERROR_SIZE] = "";
    struct answer a = { p, NULL, 0, 0, NULL };
    struct curl_slist *headers;
    apr_time_t start = apr_time_now();
    CURLcode rc;
    long status = 0;
    CURL *h;

    res->attempts++;
    h = take_handle(http);
    if (!h) {
        res->outcome = PLAID_FAIL_UNUSABLE;
        res->problem = "curl_easy_init failed";
        return;
    }
    a.data = apr_palloc(p, PLAID_ANSWER_MAX);
    headers = call_headers(p, call);
    set_options(h, call, headers, &a, errbuf);
    rc = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(headers);
    give_back(http, h);
    res->elapsed_ms = (long)apr_time_as_msec(apr_time_now() - start);
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
