/*
 * Identifiers as Plaid shapes them.
 */
#include <string.h>

#include "apr_strings.h"

#include "emu.h"

/* The kernel's generator (getrandom) needs no lock shared between threads,
 * which matters when the emulator is the far end of a benchmark. */
static void random_bytes(request_rec *r, unsigned char *buf, apr_size_t n)
{
    apr_status_t rv = apr_generate_random_bytes(buf, n);

    if (rv != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r,
                      "plaid_emulator: no random bytes; ids will repeat");
        memset(buf, 0, n);
    }
}

static const char *alnum_id(request_rec *r, apr_size_t n)
{
    static const char alnum[] =
        "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    unsigned char *raw = apr_palloc(r->pool, n);
    char *id = apr_palloc(r->pool, n + 1);
    apr_size_t i;

    random_bytes(r, raw, n);
    for (i = 0; i < n; i++) {
        id[i] = alnum[raw[i] % (sizeof(alnum) - 1)];
    }
    id[n] = '\0';
    return id;
}

const char *emu_request_id(request_rec *r)
{
    return alnum_id(r, 15);   /* e.g. XQVgFigpGHXkb0b */
}

const char *emu_iso8601(apr_pool_t *p, apr_time_t when)
{
    apr_time_exp_t t;

    apr_time_exp_gmt(&t, when);
    return apr_psprintf(p, "%04d-%02d-%02dT%02d:%02d:%02dZ",
                        t.tm_year + 1900, t.tm_mon + 1, t.tm_mday,
                        t.tm_hour, t.tm_min, t.tm_sec);
}

const char *emu_token_issue(request_rec *r, const char *kind,
                            const char *env)
{
    unsigned char u[16];

    random_bytes(r, u, sizeof(u));
    u[6] = (u[6] & 0x0f) | 0x40;   /* version 4 */
    u[8] = (u[8] & 0x3f) | 0x80;   /* RFC 4122 variant */
    return apr_psprintf(r->pool,
                        "%s-%s-%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
                        "%02x%02x%02x%02x%02x%02x", kind, env,
                        u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7],
                        u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]);
}
