/*
 * The transport's callbacks for what libcurl hands it from Plaid's side:
 * on_header and on_body (src/plaid_http.c is included, as the fuzz target
 * fuzz/fuzz_http_callbacks.c does, its two public functions renamed so they
 * do not clash with the core linked beside).
 */
#define plaid_http_create unit_plaid_http_create
#define plaid_http_post   unit_plaid_http_post
#include "../../src/plaid_http.c"
#undef plaid_http_create
#undef plaid_http_post

#include "unit.h"

static struct answer fresh(apr_pool_t *p)
{
    struct answer a;

    memset(&a, 0, sizeof(a));
    a.p = p;
    a.cap = 1024;
    a.data = apr_palloc(p, a.cap);
    return a;
}

/* A header line as libcurl passes it: with its line end, no terminator. */
static size_t header(struct answer *a, const char *line)
{
    apr_size_t n = strlen(line);

    return on_header(apr_pmemdup(a->p, line, n), 1, n, a);
}

static size_t body(struct answer *a, const char *chunk)
{
    apr_size_t n = strlen(chunk);

    return on_body(apr_pmemdup(a->p, chunk, n), 1, n, a);
}

/* An answer announced over the cap is refused before its first byte. */
static void content_length_over_cap(apr_pool_t *p)
{
    struct answer a = fresh(p);

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
    struct answer a = fresh(p);
    const char *line =
        "content-length:          000000000000000000000000070000\r\n";

    CHECK(header(&a, line) == strlen(line));
    CHECK(!a.too_large);
}

/* A streamed answer is cut at the cap. */
static void body_over_cap(apr_pool_t *p)
{
    struct answer a = fresh(p);
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

static void retry_after(apr_pool_t *p)
{
    struct answer a = fresh(p);

    CHECK(header(&a, "Retry-After: \t7 \r\n") == 18);
    CHECK_STR(a.retry_after, "7");
}

int main(void)
{
    static const unit_test tests[] = {
        content_length_over_cap, content_length_long_line, body_over_cap,
        retry_after, NULL
    };
    return unit_run("test_http_callbacks", tests);
}
