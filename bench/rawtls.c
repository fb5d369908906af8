/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench/rawtls.c: what a call to Plaid costs without libcurl. Not the
 * module's transport: a measuring stick for bench/RESULTS.md, "what would
 * close the gap". THREADS threads each keep one TLS connection (OpenSSL
 * directly, the CA and host name verified, the TLS session kept for a
 * reconnect) and send the same POST that bench/transport.c sends through
 * src/plaid_http.c: one SSL_write of the request, SSL_read until the
 * Content-Length is in, then plaid_result_from and plaid_link_token_read,
 * as the module does with what plaid_http_post hands it.
 * Prints calls/s and CPU µs per call in transport.c's format, so
 * bench/transport.sh shows both side by side.
 *
 *     rawtls HOST PORT CA_FILE THREADS SECONDS
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <apr_general.h>
#include <apr_strings.h>
#include <apr_thread_proc.h>
#include <apr_time.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "plaid_error.h"
#include "plaid_link_token.h"
#include "bench.h"

static SSL_CTX *ctx;
static const char *host, *port;
static char request[1024];
static int request_len;
static volatile int running = 1;

struct conn {
    int fd;
    SSL *ssl;
    SSL_SESSION *session;   /* the last one, for a resumed reconnect */
    long calls, failures, connects;
    char buf[16384];
};

static void hang_up(struct conn *c)
{
    if (c->ssl) {
        SSL_SESSION_free(c->session);
        c->session = SSL_get1_session(c->ssl);
        SSL_free(c->ssl);
        c->ssl = NULL;
    }
    if (c->fd >= 0) {
        close(c->fd);
        c->fd = -1;
    }
}

static int dial(struct conn *c)
{
    struct addrinfo hints = { 0 }, *ai;
    int one = 1;

    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(host, port, &hints, &ai) != 0) {
        return -1;
    }
    c->fd = socket(ai->ai_family, SOCK_STREAM, 0);
    if (c->fd < 0 || connect(c->fd, ai->ai_addr, ai->ai_addrlen) != 0) {
        freeaddrinfo(ai);
        hang_up(c);
        return -1;
    }
    freeaddrinfo(ai);
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    c->ssl = SSL_new(ctx);
    SSL_set_fd(c->ssl, c->fd);
    SSL_set_tlsext_host_name(c->ssl, host);
    SSL_set1_host(c->ssl, host);
    if (c->session) {
        SSL_set_session(c->ssl, c->session);
    }
    if (SSL_connect(c->ssl) != 1) {
        hang_up(c);
        return -1;
    }
    c->connects++;
    return 0;
}

/* One POST on c's connection; the answer's status and body. */
static int call(struct conn *c, long *status, const char **body,
                apr_size_t *body_len)
{
    int have = 0, n, close_after = 0;
    long want = -1;
    char *end = NULL, *cl;

    if (!c->ssl && dial(c) != 0) {
        return -1;
    }
    if (SSL_write(c->ssl, request, request_len) != request_len) {
        hang_up(c);
        return -1;
    }
    for (;;) {
        n = SSL_read(c->ssl, c->buf + have, (int)sizeof(c->buf) - 1 - have);
        if (n <= 0) {
            hang_up(c);
            return -1;
        }
        have += n;
        c->buf[have] = '\0';
        if (!end && (end = strstr(c->buf, "\r\n\r\n"))) {
            *status = strtol(c->buf + 9, NULL, 10);
            cl = strcasestr(c->buf, "\r\ncontent-length:");
            if (!cl || cl > end) {
                hang_up(c);
                return -1;
            }
            want = strtol(cl + 17, NULL, 10);
            close_after = strcasestr(c->buf, "\r\nconnection: close") != NULL;
            end += 4;
        }
        if (end && have - (end - c->buf) >= want) {
            break;
        }
        if (have == (int)sizeof(c->buf) - 1) {
            hang_up(c);
            return -1;
        }
    }
    *body = end;
    *body_len = (apr_size_t)want;
    if (close_after) {
        hang_up(c);   /* the answer stays in c->buf */
    }
    return 0;
}

static void *APR_THREAD_FUNC loop(apr_thread_t *t, void *data)
{
    struct conn *c = data;
    apr_pool_t *p;
    plaid_result res;
    const char *body;
    apr_size_t len;
    long status;

    apr_pool_create(&p, NULL);
    while (running) {
        c->calls++;
        memset(&res, 0, sizeof(res));
        if (call(c, &status, &body, &len) != 0) {
            c->failures++;
        } else {
            plaid_response resp;
            plaid_link_token token;
            json_t *answer;

            memset(&resp, 0, sizeof(resp));
            resp.status = status;
            resp.body = body;
            resp.body_len = len;
            if ((answer = plaid_result_from(p, &resp, &res))) {
                plaid_link_token_read(p, answer, &res, &token);
                json_decref(answer);
            }
            if (res.outcome != PLAID_OK) {
                c->failures++;
            }
        }
        apr_pool_clear(p);
    }
    hang_up(c);
    SSL_SESSION_free(c->session);
    apr_pool_destroy(p);
    apr_thread_exit(t, APR_SUCCESS);
    return NULL;
}

int main(int argc, char **argv)
{
    static const char body[] = BENCH_BODY;
    apr_thread_t **threads;
    struct conn *conns;
    long calls = 0, failures = 0, connects = 0;
    apr_pool_t *pool;
    apr_status_t rv;
    double cpu0, cpu1;
    apr_time_t t0, t1;
    int nthreads, seconds, i;

    if (argc != 6) {
        fprintf(stderr, "usage: rawtls HOST PORT CA_FILE THREADS SECONDS\n");
        return 2;
    }
    host = argv[1];
    port = argv[2];
    nthreads = atoi(argv[4]);
    seconds = atoi(argv[5]);
    apr_initialize();
    apr_pool_create(&pool, NULL);
    ctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    if (SSL_CTX_load_verify_locations(ctx, argv[3], NULL) != 1) {
        fprintf(stderr, "rawtls: cannot load %s\n", argv[3]);
        return 1;
    }
    /* The same headers libcurl sends for src/plaid_http.c. */
    request_len = snprintf(request, sizeof(request),
        "POST /link/token/create HTTP/1.1\r\nHost: %s:%s\r\n"
        "User-Agent: " PLAID_USER_AGENT "\r\nAccept: */*\r\n"
        "Content-Type: application/json\r\nPlaid-Version: 2020-09-14\r\n"
        "PLAID-CLIENT-ID: 0123456789abcdef01234567\r\n"
        "PLAID-SECRET: bench-sandbox-secret\r\n"
        "Content-Length: %d\r\n\r\n%s",
        host, port, (int)sizeof(body) - 1, body);

    threads = apr_pcalloc(pool, nthreads * sizeof(*threads));
    conns = apr_pcalloc(pool, nthreads * sizeof(*conns));
    for (i = 0; i < nthreads; i++) {
        conns[i].fd = -1;
        if (dial(&conns[i]) != 0) {   /* outside the count, like transport.c */
            fprintf(stderr, "rawtls: cannot connect to %s:%s\n", host, port);
            ERR_print_errors_fp(stderr);
            return 1;
        }
    }
    cpu0 = cpu_us();
    t0 = apr_time_now();
    for (i = 0; i < nthreads; i++) {
        apr_thread_create(&threads[i], NULL, loop, &conns[i], pool);
    }
    apr_sleep(apr_time_from_sec(seconds));
    running = 0;
    for (i = 0; i < nthreads; i++) {
        apr_thread_join(&rv, threads[i]);
        calls += conns[i].calls;
        failures += conns[i].failures;
        connects += conns[i].connects;
    }
    t1 = apr_time_now();
    cpu1 = cpu_us();
    printf("rawtls threads=%d calls=%ld failures=%ld connects=%ld calls/s=%.0f "
           "cpu_us/call=%.1f\n", nthreads, calls, failures, connects,
           calls / ((t1 - t0) / 1e6), (cpu1 - cpu0) / calls);
    SSL_CTX_free(ctx);
    apr_pool_destroy(pool);
    apr_terminate();
    return failures != 0;
}
