/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The libcurl transport. Each process keeps a stack of easy handles; a
 * handle keeps its own open connection to Plaid, so a request reuses it
 * instead of paying a TCP and TLS handshake every time. The handles of a
 * process share one curl share object holding the DNS cache and the TLS
 * sessions, so a handle that does open a connection (the first one of a
 * thread, or after the connection aged out) resumes a session instead of a
 * full handshake. Handles and share are made in the child that uses them
 * and closed with its pool: a forked child never touches its parent's
 * sockets. A process's first connection to a Plaid host goes alone (see
 * await_first): the calls that come with it wait for its TLS session
 * instead of each negotiating one of their own. Connections are not
 * shared between handles: libcurl does not support sharing them between
 * threads.
 *
 * A handle keeps the request headers for the last credentials it sent and
 * its other options, so a call sets only what every call sets anew (URL,
 * body, timeouts); a reset (see give_back and set_options) comes only after
 * a call that opened a connection or failed, or before a call with another
 * CA file, proxy or scheme. Locations may use other URLs, credentials or
 * CAs: libcurl reuses a connection or a TLS session only for a matching
 * host and TLS configuration.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <apr_hash.h>
#include <apr_strings.h>
#include <apr_thread_cond.h>
#include <apr_thread_mutex.h>
#include <apr_time.h>
#include <curl/curl.h>

#include "plaid_http_int.h"
#include "plaid_values.h"

/* Idle connections older than this are not trusted: a middlebox may have
 * dropped them silently. */
#define PLAID_MAX_CONN_AGE_S 60L

/* No connection lives longer than this, so a change of Plaid's addresses
 * in DNS is picked up; its successor resumes the TLS session. */
#define PLAID_MAX_CONN_LIFE_S 300L

#if APR_HAS_THREADS
#define LOCK(m) apr_thread_mutex_lock(m)
#define UNLOCK(m) apr_thread_mutex_unlock(m)
#else
#define LOCK(m) ((void)0)
#define UNLOCK(m) ((void)0)
#endif

/* A pooled easy handle and what it was last set up with. */
typedef struct {
    CURL *curl;
    struct curl_slist *headers;   /* built for client_id and secret */
    char *client_id, *secret;
    char errbuf[CURL_ERROR_SIZE];
    int used;                     /* has made a call */
    /* What the options set since the last reset were set for: a call with
     * another CA file, proxy or scheme resets them first (set_options). */
    int set_up;                   /* 0 right after a reset */
    char *ca_file, *proxy;        /* copies, NULL when the call had none */
    int https;
} plaid_handle;

/* Where a process's first connection to an origin stands (await_first). */
enum { FIRST_NONE = 0 /* a new slot's */, FIRST_OPENING, FIRST_DONE };

struct plaid_http {
#if APR_HAS_THREADS
    apr_thread_mutex_t *lock;                      /* guards idle */
    apr_thread_mutex_t *share_lock[CURL_LOCK_DATA_LAST];
    apr_thread_cond_t *first_done;    /* an opener finished (with lock) */
#endif
    /* base URL, CA file and proxy to its FIRST_ state */
    apr_hash_t *firsts;         /* guarded by lock */
    apr_array_header_t *idle;   /* plaid_handle * */
    /* URL and client id to the time Plaid's 429 asked us to wait until */
    apr_hash_t *holds;          /* guarded by lock */
    apr_pool_t *pool;
    CURLSH *share;              /* DNS cache and TLS sessions */
    int proxy_from_env;         /* a *_proxy variable was set at start */
    int lazy_system_cas;        /* libcurl has a default CA directory */
};

static void forget_handle(plaid_handle *h)
{
    curl_easy_cleanup(h->curl);
    curl_slist_free_all(h->headers);
    free(h->client_id);
    free(h->secret);
    free(h->ca_file);
    free(h->proxy);
    free(h);
}

static apr_status_t close_handles(void *data)
{
    plaid_http *http = data;

    while (http->idle->nelts) {
        forget_handle(*(plaid_handle **)apr_array_pop(http->idle));
    }
    /* Last: every handle using it is gone. */
    if (http->share) {
        curl_share_cleanup(http->share);
        http->share = NULL;
    }
    return APR_SUCCESS;
}

#if APR_HAS_THREADS
/* libcurl asks for one kind of data at a time; a mutex per kind keeps DNS
 * look-ups and TLS session look-ups from waiting on each other. */
static void share_lock(CURL *h, curl_lock_data data, curl_lock_access access,
                       void *userp)
{
    plaid_http *http = userp;

    (void)h;
    (void)access;
    apr_thread_mutex_lock(http->share_lock[data]);
}

static void share_unlock(CURL *h, curl_lock_data data, void *userp)
{
    plaid_http *http = userp;

    (void)h;
    apr_thread_mutex_unlock(http->share_lock[data]);
}
#endif

/* libcurl looks these up for every transfer; when none is set (the usual
 * case) telling it so once spares each call the environment scan. */
static int proxy_in_environment(void)
{
    static const char *const names[] = {
        "http_proxy", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY",
        NULL
    };
    int i;

    for (i = 0; names[i]; i++) {
        const char *v = getenv(names[i]);

        if (v && *v) {
            return 1;
        }
    }
    return 0;
}

/* Whether libcurl was built with a default CA directory (Debian's:
 * /etc/ssl/certs, hashed by update-ca-certificates) besides its default
 * bundle. See set_options. */
static int has_default_ca_path(void)
{
    CURL *c = curl_easy_init();
    char *path = NULL;
    int has;

    if (!c) {
        return 0;
    }
    has = curl_easy_getinfo(c, CURLINFO_CAPATH, &path) == CURLE_OK
        && path && *path;
    curl_easy_cleanup(c);
    return has;
}

static apr_status_t make_share(plaid_http *http, apr_pool_t *p)
{
#if APR_HAS_THREADS
    int i;

    for (i = 0; i < CURL_LOCK_DATA_LAST; i++) {
        apr_status_t rv = apr_thread_mutex_create(&http->share_lock[i],
                                                  APR_THREAD_MUTEX_DEFAULT, p);
        if (rv != APR_SUCCESS) {
            return rv;
        }
    }
#else
    (void)p;
#endif
    http->share = curl_share_init();
    if (!http->share) {
        return APR_ENOMEM;
    }
#if APR_HAS_THREADS
    curl_share_setopt(http->share, CURLSHOPT_LOCKFUNC, share_lock);
    curl_share_setopt(http->share, CURLSHOPT_UNLOCKFUNC, share_unlock);
    curl_share_setopt(http->share, CURLSHOPT_USERDATA, http);
#endif
    if (curl_share_setopt(http->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS)
        != CURLSHE_OK
        || curl_share_setopt(http->share, CURLSHOPT_SHARE,
                             CURL_LOCK_DATA_SSL_SESSION) != CURLSHE_OK) {
        curl_share_cleanup(http->share);
        http->share = NULL;
        return APR_ENOTIMPL;
    }
    return APR_SUCCESS;
}

void plaid_http_global_init(void)
{
    static int ready;

    if (!ready && curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK) {
        ready = 1;
    }
}

apr_status_t plaid_http_create(apr_pool_t *p, plaid_http **out)
{
    plaid_http *http = apr_pcalloc(p, sizeof(*http));
    apr_status_t rv;

#if APR_HAS_THREADS
    rv = apr_thread_mutex_create(&http->lock, APR_THREAD_MUTEX_DEFAULT, p);
    if (rv == APR_SUCCESS) {
        rv = apr_thread_cond_create(&http->first_done, p);
    }
    if (rv != APR_SUCCESS) {
        return rv;
    }
#endif
    if ((rv = make_share(http, p)) != APR_SUCCESS) {
        return rv;
    }
    http->proxy_from_env = proxy_in_environment();
    http->lazy_system_cas = has_default_ca_path();
    http->idle = apr_array_make(p, 16, sizeof(plaid_handle *));
    http->holds = apr_hash_make(p);
    http->firsts = apr_hash_make(p);
    http->pool = p;
    apr_pool_cleanup_register(p, http, close_handles, apr_pool_cleanup_null);
    *out = http;
    return APR_SUCCESS;
}


/* A CGI or piped program that the same child starts must not inherit the
 * connection to Plaid; libcurl opens its sockets without close-on-exec. */
static int on_socket(void *data, curl_socket_t fd, curlsocktype purpose)
{
    int flags = fcntl(fd, F_GETFD);

    (void)data;
    (void)purpose;
    if (flags == -1 || fcntl(fd, F_SETFD, flags | FD_CLOEXEC) == -1) {
        return CURL_SOCKOPT_ERROR;
    }
    return CURL_SOCKOPT_OK;
}

/* The options every call shares, on a new handle and again after each
 * call's curl_easy_reset. */
static void set_fixed_options(plaid_http *http, plaid_handle *h)
{
    CURL *c = h->curl;

    curl_easy_setopt(c, CURLOPT_SHARE, http->share);
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, plaid_on_body);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, plaid_on_header);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, h->errbuf);
    /* httpd threads: no SIGALRM-based DNS timeouts. */
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https,http");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "https");
    curl_easy_setopt(c, CURLOPT_SOCKOPTFUNCTION, on_socket);
    /* One request at a time per connection: HTTP/2 would add framing and
     * header compression work and multiplex nothing. */
    curl_easy_setopt(c, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(c, CURLOPT_MAXAGE_CONN, PLAID_MAX_CONN_AGE_S);
    curl_easy_setopt(c, CURLOPT_MAXLIFETIME_CONN, PLAID_MAX_CONN_LIFE_S);
    /* The system's CAs, unless a call names a file (set_options). libcurl's
     * defaults name both the bundle and the hashed directory, and OpenSSL
     * parses the whole bundle, ~140 certificates, into every connection's
     * store: 800 to 970 KB per pooled handle, 50 to 60 MB in an event child
     * of 64 threads. The directory alone is looked up lazily: only the
     * certificates a handshake needs are read; ~100 KB per handle
     * (bench/handle_rss.c, run by bench/transport.sh). Same CAs, same
     * verification. */
    if (http->lazy_system_cas) {
        curl_easy_setopt(c, CURLOPT_CAINFO, NULL);
    }
}

/* libcurl's first call on a handle makes the handle's own multi handle,
 * which holds a socketpair to wake itself (libcurl 7.x opens it without
 * close-on-exec, and offers no hook for it): once per new handle, every
 * socket of the process that lacks close-on-exec gets it. httpd and APR
 * open theirs with it already; a program that a child starts gets its
 * sockets by dup2, which clears the flag on the copy. */
static void close_sockets_on_exec(void)
{
    DIR *dir = opendir("/proc/self/fd");
    struct dirent *e;
    struct stat st;
    int fd, flags;

    if (!dir) {
        return;
    }
    while ((e = readdir(dir))) {
        fd = atoi(e->d_name);
        if (fd > 2 && fd != dirfd(dir) && fstat(fd, &st) == 0
            && S_ISSOCK(st.st_mode) && (flags = fcntl(fd, F_GETFD)) != -1
            && !(flags & FD_CLOEXEC)) {
            fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
        }
    }
    closedir(dir);
}

/* Allocated with malloc: worker threads make handles at any time, and the
 * child's pool is not theirs to allocate from; close_handles frees them. */
static plaid_handle *new_handle(plaid_http *http)
{
    plaid_handle *h = calloc(1, sizeof(*h));

    if (!h || !(h->curl = curl_easy_init())) {
        free(h);
        return NULL;
    }
    set_fixed_options(http, h);
    return h;
}

static plaid_handle *take_handle(plaid_http *http)
{
    plaid_handle *h = NULL;

    LOCK(http->lock);
    if (http->idle->nelts) {
        h = *(plaid_handle **)apr_array_pop(http->idle);
    }
    UNLOCK(http->lock);
    return h ? h : new_handle(http);
}

/* The options back to set_fixed_options'. The reset keeps the
 * connection, the DNS cache and the TLS sessions. */
static void reset_handle(plaid_http *http, plaid_handle *h)
{
    curl_easy_reset(h->curl);
    set_fixed_options(http, h);
    h->set_up = 0;
}

/* Last in, first out: the busiest handles keep their connections warm and
 * the rarely needed ones age out. A call that opened a connection or
 * failed is followed by a reset: libcurl counts, per handle and until a
 * reset, the requests it re-sent after finding a reused connection dead
 * (each re-send opens a connection), and past five it fails the request
 * ("Connection died, tried 5 times"): without the reset, every connection
 * Plaid closes while it sits idle would bring a handle nearer to failing a
 * request (t/keepalive.t). A call over a kept connection needs none: the
 * next call sets anew all that differs. */
static void give_back(plaid_http *http, plaid_handle *h, CURLcode rc)
{
    long connects = 1;

    curl_easy_getinfo(h->curl, CURLINFO_NUM_CONNECTS, &connects);
    if (rc != CURLE_OK || connects > 0) {
        reset_handle(http, h);
    }
    LOCK(http->lock);
    APR_ARRAY_PUSH(http->idle, plaid_handle *) = h;
    UNLOCK(http->lock);
}

/* The same string, both may be NULL. */
static int same(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

/* Copies of what the handle is now set up with; 0 when out of memory. */
static int remember(char **slot, const char *value)
{
    char *copy = NULL;

    if (value && !(copy = strdup(value))) {
        return 0;
    }
    free(*slot);
    *slot = copy;
    return 1;
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

/* The request headers for the call's credentials: built once per handle
 * and kept while the credentials stay the same (one set per location).
 * The list holds the secret, as the configuration does. */
static int set_headers(plaid_handle *h, apr_pool_t *p, const plaid_call *call)
{
    const char *lines[6];
    struct curl_slist *l = NULL, *more;
    apr_size_t i;

    if (!h->headers || !same(h->client_id, call->client_id)
        || !same(h->secret, call->secret)) {
        lines[0] = "Content-Type: application/json";
        lines[1] = "Plaid-Version: " PLAID_API_VERSION;
        lines[2] = apr_pstrcat(p, "PLAID-CLIENT-ID: ", call->client_id, NULL);
        lines[3] = apr_pstrcat(p, "PLAID-SECRET: ", call->secret, NULL);
        /* No 100-continue round trip for a body we send whole anyway. */
        lines[4] = "Expect:";
        /* Here rather than CURLOPT_USERAGENT: libcurl formats that one
         * into a header of its own on every call, then copies it again. */
        lines[5] = "User-Agent: " PLAID_USER_AGENT;
        for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
            if (!(more = curl_slist_append(l, lines[i]))) {
                curl_slist_free_all(l);
                return 0;
            }
            l = more;
        }
        if (!remember(&h->client_id, call->client_id)
            || !remember(&h->secret, call->secret)) {
            curl_slist_free_all(l);
            return 0;
        }
        curl_slist_free_all(h->headers);
        h->headers = l;
    }
    curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, h->headers);
    return 1;
}

/* PlaidProxy's proxy, or none; the environment's (http_proxy, ...) only
 * for https: plain http goes only to a loopback host, and a proxy on the
 * way would read the secret in clear. */
static void set_proxy(plaid_http *http, CURL *c, const plaid_call *call,
                      int https)
{
    if (call->proxy && *call->proxy && https) {
        curl_easy_setopt(c, CURLOPT_PROXY, call->proxy);
        curl_easy_setopt(c, CURLOPT_NOPROXY, "");
    }
    else if (call->proxy || !https || !http->proxy_from_env) {
        curl_easy_setopt(c, CURLOPT_PROXY, "");
        curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    }
}

/* What a call may differ in from the handle's previous one: the CA file,
 * proxy and scheme (set after a reset, when they differ from what the
 * handle was set up for), and what every call sets anew. */
static int set_options(plaid_http *http, plaid_handle *h, apr_pool_t *p,
                       const plaid_call *call, const char *url,
                       struct plaid_answer *a, long remaining_ms)
{
    CURL *c = h->curl;
    int https = strncasecmp(url, "https://", 8) == 0;

    if (h->set_up && (!same(h->ca_file, call->ca_file)
                      || !same(h->proxy, call->proxy) || h->https != https)) {
        reset_handle(http, h);
    }
    if (!set_headers(h, p, call)) {
        return 0;
    }
    if (!h->set_up) {
        /* A CA file replaces the system's CAs: libcurl would otherwise
         * still look in its default directory, and trust every public CA
         * there. */
        if (call->ca_file) {
            curl_easy_setopt(c, CURLOPT_CAINFO, call->ca_file);
            curl_easy_setopt(c, CURLOPT_CAPATH, NULL);
        }
        set_proxy(http, c, call, https);
        if (!remember(&h->ca_file, call->ca_file)
            || !remember(&h->proxy, call->proxy)) {
            return 0;
        }
        h->https = https;
        h->set_up = 1;
    }
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, call->body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)call->body_len);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, a);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, a);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                     call->connect_timeout_ms < remaining_ms
                     ? call->connect_timeout_ms : remaining_ms);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, remaining_ms);
    h->errbuf[0] = '\0';
    return 1;
}

/* The slot of key in table, made (size bytes, zeroed, from the process's
 * pool) when the key is new. Keys come from the configuration (a URL, an
 * origin), so the table is bounded. The caller holds lock. */
static void *slot_of(plaid_http *http, apr_hash_t *table, const char *key,
                     apr_size_t size)
{
    void *slot = apr_hash_get(table, key, APR_HASH_KEY_STRING);

    if (!slot) {
        slot = apr_pcalloc(http->pool, size);
        apr_hash_set(table, apr_pstrdup(http->pool, key), APR_HASH_KEY_STRING,
                     slot);
    }
    return slot;
}

/* A new handle has no connection. While the process has no TLS session
 * for the call's origin (its first connection to it, typically a child's
 * first burst of requests), one call opens a connection and the others
 * wait, at most wait_ms, until its call has an answer: libcurl then holds
 * its session (with TLS 1.3, Plaid's ticket arrives only after the
 * handshake) and their connections resume it instead of each negotiating
 * anew. Returns the state to pass to first_finished when this call is the
 * one that opens, else NULL. */
static int *await_first(plaid_http *http, apr_pool_t *p,
                        const plaid_call *call, long wait_ms)
{
#if APR_HAS_THREADS
    const char *key = apr_pstrcat(p, call->base_url, " ",
                                  call->ca_file ? call->ca_file : "", " ",
                                  call->proxy ? call->proxy : "-", NULL);
    apr_time_t until = apr_time_now() + apr_time_from_msec(wait_ms), now;
    int *state;

    apr_thread_mutex_lock(http->lock);
    state = slot_of(http, http->firsts, key, sizeof(*state)); /* FIRST_NONE */
    while (*state == FIRST_OPENING && (now = apr_time_now()) < until) {
        apr_thread_cond_timedwait(http->first_done, http->lock, until - now);
    }
    if (*state == FIRST_NONE) {
        *state = FIRST_OPENING;
    }
    else {
        state = NULL;
    }
    apr_thread_mutex_unlock(http->lock);
    return state;
#else
    (void)http, (void)p, (void)call, (void)wait_ms;
    return NULL;
#endif
}

/* The opener's call is over: answered (its session is kept), or not (the
 * next new handle opens again). Wakes the calls waiting for it. */
static void first_finished(plaid_http *http, int *state, int answered)
{
#if APR_HAS_THREADS
    apr_thread_mutex_lock(http->lock);
    *state = answered ? FIRST_DONE : FIRST_NONE;
    apr_thread_cond_broadcast(http->first_done);
    apr_thread_mutex_unlock(http->lock);
#else
    (void)http, (void)state, (void)answered;
#endif
}

/* One POST; resp holds what came of it. */
static void attempt(plaid_http *http, apr_pool_t *p, const plaid_call *call,
                    plaid_response *resp, long remaining_ms)
{
    struct plaid_answer a = { p, NULL, 0, 0, 0, NULL, 0 };
    CURLcode rc;
    long status = 0;
    plaid_handle *h;
    int *first = NULL;

    resp->outcome = PLAID_OK;
    resp->status = 0;
    resp->retry_after = resp->curl_error = resp->problem = NULL;
    resp->body = "";
    resp->body_len = 0;
    h = take_handle(http);
    if (!h) {
        resp->outcome = PLAID_FAIL_UNUSABLE;
        resp->problem = "curl_easy_init failed";
        return;
    }
    if (!h->used) {
        apr_time_t start = apr_time_now();

        first = await_first(http, p, call, call->connect_timeout_ms
                            < remaining_ms ? call->connect_timeout_ms
                                           : remaining_ms);
        /* The wait counts against PlaidTimeout. */
        remaining_ms -= (long)apr_time_as_msec(apr_time_now() - start);
        if (remaining_ms < 1) {
            remaining_ms = 1;
        }
    }
    a.cap = 1024;
    a.data = apr_palloc(p, a.cap);
    a.max = call->answer_max;
    if (!set_options(http, h, p, call, resp->url, &a, remaining_ms)) {
        /* Out of memory: this handle's set-up is in doubt. */
        forget_handle(h);
        if (first) {
            first_finished(http, first, 0);
        }
        resp->outcome = PLAID_FAIL_UNUSABLE;
        resp->problem = "out of memory setting up the call";
        return;
    }
    rc = curl_easy_perform(h->curl);
    if (!h->used) {
        h->used = 1;
        close_sockets_on_exec();
    }
    curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &status);
    if (first) {
        first_finished(http, first, status > 0);
    }
    resp->status = status;
    resp->retry_after = a.retry_after;
    if (rc != CURLE_OK) {
        resp->outcome = outcome_for_curl(rc);
        resp->curl_error = apr_pstrdup(p, *h->errbuf ? h->errbuf
                                                     : curl_easy_strerror(rc));
        if (a.too_large) {
            resp->outcome = PLAID_FAIL_UNUSABLE;
            resp->problem = apr_psprintf(p, "the answer is larger than "
                                         "%" APR_SIZE_T_FMT " KiB",
                                         plaid_answer_max(&a) / 1024);
        }
    }
    else {
        plaid_reserve(p, &a.data, a.len, &a.cap, 1);
        a.data[a.len] = '\0';
        resp->body = a.data;
        resp->body_len = a.len;
    }
    give_back(http, h, rc);
}

/* Retry only what a retry can mend: no connection, Plaid unavailable or
 * erring (5xx), or rate-limited (429); a write only the first. */
static int worth_retrying(const plaid_call *call, const plaid_response *resp)
{
    /* Unreachable without a status: no connection was made, nothing of
     * the request was sent; safe for any call. */
    if (resp->outcome == PLAID_FAIL_UNREACHABLE && resp->status == 0) {
        return 1;
    }
    return !call->no_resend && (resp->status == 429 || resp->status >= 500);
}

/* After a 429 with Retry-After, the process holds calls with the same URL
 * and client id back until then: the key of the hold. */
static const char *hold_key(apr_pool_t *p, const plaid_call *call,
                            const char *url)
{
    return apr_pstrcat(p, url, " ", call->client_id ? call->client_id : "",
                       NULL);
}

/* The seconds left of a hold on call, 0 when there is none. */
static long held_for(plaid_http *http, apr_pool_t *p, const plaid_call *call,
                     const char *url, apr_time_t now)
{
    const apr_time_t *until;
    long left = 0;

    LOCK(http->lock);
    if (apr_hash_count(http->holds)
        && (until = apr_hash_get(http->holds, hold_key(p, call, url),
                                 APR_HASH_KEY_STRING)) && *until > now) {
        left = (long)apr_time_sec(*until - now + apr_time_from_sec(1) - 1);
    }
    UNLOCK(http->lock);
    return left;
}

static void hold(plaid_http *http, apr_pool_t *p, const plaid_call *call,
                 const char *url, apr_time_t until)
{
    const char *key = hold_key(p, call, url);
    apr_time_t *slot;

    LOCK(http->lock);
    slot = slot_of(http, http->holds, key, sizeof(*slot));
    *slot = until;
    UNLOCK(http->lock);
}

void plaid_http_post(plaid_http *http, apr_pool_t *p, const plaid_call *call,
                     plaid_response *resp)
{
    apr_time_t start = apr_time_now();
    apr_time_t deadline = start + apr_time_from_msec(call->total_timeout_ms);
    long remaining_ms = call->total_timeout_ms, wait_ms, held;
    int attempts = 0;

    memset(resp, 0, sizeof(*resp));
    resp->url = apr_pstrcat(p, call->base_url, call->path, NULL);
    if ((held = held_for(http, p, call, resp->url, start)) > 0) {
        resp->outcome = PLAID_FAIL_RATE_LIMITED;
        resp->retry_after = apr_ltoa(p, held);
        resp->problem = "Plaid answered 429 with Retry-After: no call until "
                        "then";
        resp->body = "";
        return;
    }
    for (;;) {
        attempt(http, p, call, resp, remaining_ms);
        resp->attempts = ++attempts;
        if (attempts > call->retries || !worth_retrying(call, resp)) {
            break;
        }
        wait_ms = plaid_backoff_ms(resp->retry_after, attempts);
        remaining_ms = (long)apr_time_as_msec(deadline - apr_time_now());
        /* Never outlive PlaidTimeout, nor sleep on a long Retry-After: give
         * up at once, and the browser is told when to come back. */
        if (remaining_ms - wait_ms < 50 || wait_ms > PLAID_RETRY_AFTER_CAP_MS) {
            break;
        }
        apr_sleep(apr_time_from_msec(wait_ms));
        remaining_ms -= wait_ms;
    }
    if (resp->status == 429 && plaid_retry_after_s(resp->retry_after) > 0) {
        hold(http, p, call, resp->url, apr_time_now() + apr_time_from_sec(
                 plaid_retry_after_s(resp->retry_after)));
    }
    resp->elapsed_ms = (long)apr_time_as_msec(apr_time_now() - start);
}
