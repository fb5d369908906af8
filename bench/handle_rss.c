/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench/handle_rss.c: what a pooled curl handle costs in RSS. THREADS
 * threads wait at a barrier, then each makes one call at the same time, so
 * the pool ends up with THREADS handles (an event child's worker threads
 * at their busiest); prints the growth of RSS over the calls, per handle.
 *
 *     handle_rss URL CA_FILE|system THREADS
 *
 * With "system" the call uses the system's CAs, as a location without
 * PlaidCACertificate does; against the benchmark's self-signed upstream the
 * verification fails, as it must, but the CA store is built all the same:
 * the figure is the store's cost (src/plaid_http.c, set_fixed_options).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_thread_cond.h>
#include <apr_thread_mutex.h>
#include <apr_thread_proc.h>
#include <curl/curl.h>

#include "plaid_http.h"
#include "bench.h"

static plaid_http *http;
static plaid_call call;
static apr_thread_mutex_t *lock;
static apr_thread_cond_t *go_cond;
static int ready, go;

static long rss_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = 0;

    while (f && fgets(line, sizeof(line), f)) {
        if (strncmp(line, "VmRSS:", 6) == 0) {
            kb = atol(line + 6);
        }
    }
    if (f) {
        fclose(f);
    }
    return kb;
}

static void *APR_THREAD_FUNC one_call(apr_thread_t *t, void *data)
{
    plaid_outcome *outcome = data;
    plaid_response res;
    apr_pool_t *p;

    apr_pool_create(&p, NULL);
    apr_thread_mutex_lock(lock);
    ready++;
    while (!go) {
        apr_thread_cond_wait(go_cond, lock);
    }
    apr_thread_mutex_unlock(lock);
    plaid_http_post(http, p, &call, &res);
    *outcome = res.outcome;
    apr_pool_destroy(p);
    apr_thread_exit(t, APR_SUCCESS);
    return NULL;
}

int main(int argc, char **argv)
{
    static const char body[] = BENCH_BODY;
    apr_thread_t **threads;
    plaid_outcome *outcomes;
    apr_pool_t *pool;
    apr_status_t rv;
    long before, after;
    int n, i, ok = 0;

    if (argc != 4 || (n = atoi(argv[3])) < 1) {
        fprintf(stderr, "usage: handle_rss URL CA_FILE|system THREADS\n");
        return 2;
    }
    apr_initialize();
    curl_global_init(CURL_GLOBAL_DEFAULT);
    apr_pool_create(&pool, NULL);
    if (plaid_http_create(pool, &http) != APR_SUCCESS) {
        return 1;
    }
    call.base_url = argv[1];   /* the whole URL: no path to add */
    call.path = "";
    call.ca_file = strcmp(argv[2], "system") == 0 ? NULL : argv[2];
    call.client_id = "0123456789abcdef01234567";
    call.secret = "bench-sandbox-secret";
    call.connect_timeout_ms = PLAID_CONNECT_TIMEOUT_MS_DEFAULT;
    call.total_timeout_ms = PLAID_TOTAL_TIMEOUT_MS_DEFAULT;
    call.body = body;
    call.body_len = sizeof(body) - 1;
    apr_thread_mutex_create(&lock, APR_THREAD_MUTEX_DEFAULT, pool);
    apr_thread_cond_create(&go_cond, pool);
    threads = apr_pcalloc(pool, n * sizeof(*threads));
    outcomes = apr_pcalloc(pool, n * sizeof(*outcomes));
    for (i = 0; i < n; i++) {
        apr_thread_create(&threads[i], NULL, one_call, &outcomes[i], pool);
    }
    /* Every thread (and its stack) exists before the first reading. */
    for (;;) {
        apr_thread_mutex_lock(lock);
        i = ready;
        apr_thread_mutex_unlock(lock);
        if (i == n) {
            break;
        }
        apr_sleep(1000);
    }
    before = rss_kb();
    apr_thread_mutex_lock(lock);
    go = 1;
    apr_thread_cond_broadcast(go_cond);
    apr_thread_mutex_unlock(lock);
    for (i = 0; i < n; i++) {
        apr_thread_join(&rv, threads[i]);
        ok += outcomes[i] == PLAID_OK;
    }
    after = rss_kb();
    printf("handle_rss CA=%s threads=%d succeeded=%d rss_kb=%ld->%ld "
           "per_handle_kb=%.0f\n", argv[2], n, ok, before, after,
           (double)(after - before) / n);
    apr_pool_destroy(pool);
    curl_global_cleanup();
    apr_terminate();
    return 0;
}
