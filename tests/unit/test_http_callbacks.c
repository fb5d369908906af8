/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The transport's callbacks for what libcurl hands it from Plaid's side:
 * plaid_on_header and plaid_on_body, and the retry wait they lead to,
 * reached through the core's internal header (src/plaid_http_int.h), as
 * the fuzz target fuzz/fuzz_http_callbacks.c does.
 */
#include <apr_strings.h>

#include "plaid_http_int.h"
#include "unit.h"

static struct plaid_answer fresh(apr_pool_t *p)
{
    struct plaid_answer a;

    memset(&a, 0, sizeof(a));
    a.p = p;
    a.cap = 1024;
    a.data = apr_palloc(p, a.cap);
    return a;
}

/* A header line as libcurl passes it: with its line end, no terminator. */
static size_t header(struct plaid_answer *a, const char *line)
{
    apr_size_t n = strlen(line);

    return plaid_on_header(apr_pmemdup(a->p, line, n), 1, n, a);
}

static size_t body(struct plaid_answer *a, const char *chunk)
{
    apr_size_t n = strlen(chunk);

    return plaid_on_body(apr_pmemdup(a->p, chunk, n), 1, n, a);
}

/* An answer announced over the cap is refused before its first byte. */
static void content_length_over_cap(apr_pool_t *p)
{
    struct plaid_answer a = fresh(p);

    CHECK(header(&a, "Content-Length: 65537\r\n") == 23);
    CHECK(a.too_large);
    CHECK(body(&a, "{\"link_token\":\"x\"}") == 0);
    CHECK(a.len == 0);

    a = fresh(p);
    CHECK(header(&a, "content-length:   65536\r\n") == 25);
    CHECK(!a.too_large);
    CHECK(body(&a, "{}") == 2);
    CHECK(a.len == 2);
}

/* A Content-Length line too long for the parse buffer is left to libcurl,
 * which refuses a malformed length itself; under ASan (make unit-asan) this
 * is also the overflow check for the buffer. */
static void content_length_long_line(apr_pool_t *p)
{
    struct plaid_answer a = fresh(p);
    const char *line =
        "content-length:          000000000000000000000000070000\r\n";

    CHECK(header(&a, line) == strlen(line));
    CHECK(!a.too_large);
}

/* A streamed answer is cut at the cap. */
static void body_over_cap(apr_pool_t *p)
{
    struct plaid_answer a = fresh(p);
    char *chunk = apr_palloc(p, 4097);
    int i;

    memset(chunk, 'x', 4096);
    chunk[4096] = '\0';
    for (i = 0; i < PLAID_ANSWER_MAX / 4096; i++) {
        CHECK(body(&a, chunk) == 4096);
    }
    CHECK(a.len == PLAID_ANSWER_MAX);
    CHECK(!a.too_large);
    CHECK(body(&a, "x") == 0);
    CHECK(a.too_large);
}

/* The gateway's larger cap (plaid-api: /transactions/sync pages). */
static void own_cap(apr_pool_t *p)
{
    struct plaid_answer a = fresh(p);
    char *chunk = apr_palloc(p, 4097);
    int i;

    a.max = PLAID_API_ANSWER_MAX;
    CHECK(header(&a, "Content-Length: 1048576\r\n") == 25);
    CHECK(!a.too_large);
    memset(chunk, 'x', 4096);
    chunk[4096] = '\0';
    for (i = 0; i < 256; i++) {
        CHECK(body(&a, chunk) == 4096);
    }
    CHECK(a.len == 1048576 && !a.too_large);
    CHECK(header(&a, "Content-Length: 16777217\r\n") == 26);
    CHECK(a.too_large);
}

static void retry_after(apr_pool_t *p)
{
    struct plaid_answer a = fresh(p);
    long wait;

    CHECK(header(&a, "Retry-After: \t7 \r\n") == 18);
    CHECK_STR(a.retry_after, "7");
    /* as given: the caller gives up on a wait over its cap */
    CHECK(plaid_backoff_ms(a.retry_after, 1) == 7000);
    CHECK(plaid_backoff_ms("18446744073709551", 1)
          == PLAID_RETRY_AFTER_MAX_S * 1000);
    /* without one: 50 to 100 ms, then 100 to 200 ms */
    wait = plaid_backoff_ms(NULL, 1);
    CHECK(wait >= 50 && wait <= 100);
    wait = plaid_backoff_ms("Wed, 21 Oct 2015 07:28:00 GMT", 2);
    CHECK(wait >= 100 && wait <= 200);
}

int main(void)
{
    static const unit_test tests[] = {
        content_length_over_cap, content_length_long_line, body_over_cap,
        own_cap, retry_after, NULL
    };
    return unit_run("test_http_callbacks", tests);
}
