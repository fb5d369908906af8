/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench/transport.c: the transport alone, without httpd. THREADS threads
 * share one plaid_http (as an httpd child's worker threads do) and call
 * plaid_http_post in a loop for SECONDS; prints calls/s and the process's
 * CPU time per call, the number to watch when changing src/plaid_http.c.
 * bench/transport.sh builds it and points it at the benchmark's upstream.
 *
 *     transport URL CA_FILE THREADS SECONDS
 */
#include <stdio.h>
#include <stdlib.h>

#include <apr_general.h>
#include <apr_thread_proc.h>
#include <apr_time.h>
#include <curl/curl.h>

#include "plaid_http.h"
#include "bench.h"

static plaid_http *http;
static plaid_call call;
static volatile int running = 1;

struct counts {
    long calls, failures;
};

static void *APR_THREAD_FUNC loop(apr_thread_t *t, void *data)
{
    struct counts *n = data;
    apr_pool_t *p;
    plaid_response res;

    apr_pool_create(&p, NULL);
    while (running) {
        plaid_http_post(http, p, &call, &res);
        n->calls++;
        if (res.outcome != PLAID_OK) {
            if (n->failures++ == 0) {
                fprintf(stderr, "transport: failed: %s %s\n",
                        res.curl_error ? res.curl_error : "",
                        res.problem ? res.problem : "");
            }
        }
        apr_pool_clear(p);
    }
    apr_pool_destroy(p);
    apr_thread_exit(t, APR_SUCCESS);
    return NULL;
}

int main(int argc, char **argv)
{
    static const char body[] = BENCH_BODY;
    apr_thread_t **threads;
    struct counts *n, all = { 0, 0 };
    apr_pool_t *pool;
    apr_status_t rv;
    double cpu0, cpu1;
    apr_time_t t0, t1;
    int nthreads, seconds, i;

    if (argc != 5) {
        fprintf(stderr, "usage: transport URL CA_FILE THREADS SECONDS\n");
        return 2;
    }
    nthreads = atoi(argv[3]);
    seconds = atoi(argv[4]);
    apr_initialize();
    curl_global_init(CURL_GLOBAL_DEFAULT);
    apr_pool_create(&pool, NULL);
    if (plaid_http_create(pool, &http) != APR_SUCCESS) {
        return 1;
    }
    call.base_url = argv[1];   /* the whole URL: no path to add */
    call.path = "";
    call.ca_file = argv[2];
    call.client_id = "0123456789abcdef01234567";
    call.secret = "bench-sandbox-secret";
    call.connect_timeout_ms = PLAID_CONNECT_TIMEOUT_MS_DEFAULT;
    call.total_timeout_ms = PLAID_TOTAL_TIMEOUT_MS_DEFAULT;
    call.retries = 0;
    call.body = body;
    call.body_len = sizeof(body) - 1;

    /* A first call outside the count: curl's and OpenSSL's start-up and
     * the first TLS handshake. (valgrind --tool=callgrind
     * --collect-atstart=no --toggle-collect=loop counts the loop only.) */
    {
        plaid_response res;

        plaid_http_post(http, pool, &call, &res);
        if (res.outcome != PLAID_OK) {
            fprintf(stderr, "transport: the first call failed: %s %s\n",
                    res.curl_error ? res.curl_error : "",
                    res.problem ? res.problem : "");
            return 1;
        }
    }
    threads = apr_pcalloc(pool, nthreads * sizeof(*threads));
    n = apr_pcalloc(pool, nthreads * sizeof(*n));
    cpu0 = cpu_us();
    t0 = apr_time_now();
    for (i = 0; i < nthreads; i++) {
        apr_thread_create(&threads[i], NULL, loop, &n[i], pool);
    }
    apr_sleep(apr_time_from_sec(seconds));
    running = 0;
    for (i = 0; i < nthreads; i++) {
        apr_thread_join(&rv, threads[i]);
        all.calls += n[i].calls;
        all.failures += n[i].failures;
    }
    t1 = apr_time_now();
    cpu1 = cpu_us();
    printf("threads=%d calls=%ld failures=%ld calls/s=%.0f cpu_us/call=%.1f\n",
           nthreads, all.calls, all.failures,
           all.calls / ((t1 - t0) / 1e6), (cpu1 - cpu0) / all.calls);
    apr_pool_destroy(pool);
    curl_global_cleanup();
    apr_terminate();
    return all.failures != 0;
}
