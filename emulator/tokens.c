/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Identifiers as Plaid shapes them, and tokens any child can recognise.
 *
 * A token is <kind>-<env>-<uuid>, as Plaid's are (link-sandbox-...,
 * public-production-..., access-sandbox-...). Its 16 bytes are
 *
 *     0..3    when it was issued, seconds since the epoch, big-endian
 *     4..9    random (with the version 4 and RFC 4122 variant bits)
 *     10..15  the first 6 bytes of HMAC-SHA256(key, kind NUL env NUL 0..9)
 *
 * under a key made once per httpd in the parent (state.c), so every child
 * tells the emulator's own tokens from made-up ones, of another kind or
 * environment, or from another run, with no state shared at run time, and
 * knows a token's age without a table.
 */
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "apr_strings.h"

#include "emu.h"

#define TOKEN_BYTES 16
#define TAG_AT      10
#define TAG_BYTES   (TOKEN_BYTES - TAG_AT)

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

static const char *alnum_of(apr_pool_t *p, const unsigned char *raw,
                            apr_size_t n)
{
    static const char alnum[] =
        "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    char *id = apr_palloc(p, n + 1);
    apr_size_t i;

    for (i = 0; i < n; i++) {
        id[i] = alnum[raw[i] % (sizeof(alnum) - 1)];
    }
    id[n] = '\0';
    return id;
}

static const char *alnum_id(request_rec *r, apr_size_t n)
{
    unsigned char *raw = apr_palloc(r->pool, n);

    random_bytes(r, raw, n);
    return alnum_of(r->pool, raw, n);
}

const char *emu_request_id(request_rec *r)
{
    return alnum_id(r, 15);   /* e.g. XQVgFigpGHXkb0b */
}

const char *emu_item_id(request_rec *r)
{
    return alnum_id(r, 37);   /* e.g. eVBnVMp7zdTJLkRNr33Rs6zr7KNJqBFL9DrE6 */
}

/* Derived, not drawn: an Item's accounts are in no record, yet every
 * child must give them the same ids. */
/* 37 letters and digits, e.g. BxBXxLj1m4HMXBm9WZZmCWVbPjX16EHwv99vp, the
 * same for the same kind, item_id and name. */
static const char *derived_id(apr_pool_t *p, const char *kind,
                              const char *item_id, const char *name)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    const char *text = apr_pstrcat(p, kind, "\n", item_id, "\n", name,
                                   NULL);

    if (!EVP_Digest(text, strlen(text), md, &len, EVP_sha512(), NULL)
        || len < 37) {
        memset(md, 0, sizeof(md));
    }
    return alnum_of(p, md, 37);
}

const char *emu_account_id(apr_pool_t *p, const char *item_id,
                           const char *mask)
{
    return derived_id(p, "account", item_id, mask);
}

const char *emu_transaction_id(apr_pool_t *p, const char *item_id, int n)
{
    return derived_id(p, "transaction", item_id, apr_itoa(p, n));
}


const char *emu_iso8601(apr_pool_t *p, apr_time_t when)
{
    apr_time_exp_t t;

    apr_time_exp_gmt(&t, when);
    return apr_psprintf(p, "%04d-%02d-%02dT%02d:%02d:%02dZ",
                        t.tm_year + 1900, t.tm_mon + 1, t.tm_mday,
                        t.tm_hour, t.tm_min, t.tm_sec);
}

/* The tag of u[0..TAG_AT) for kind and env; 0 without a key. */
static int tag(const char *kind, const char *env, const unsigned char *u,
               unsigned char *out)
{
    apr_size_t key_len, klen = strlen(kind) + 1, elen = strlen(env) + 1;
    const unsigned char *key = emu_state_key(&key_len);
    unsigned char msg[64 + TAG_AT], mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;

    if (!key || klen + elen > 64) {
        return 0;
    }
    memcpy(msg, kind, klen);
    memcpy(msg + klen, env, elen);
    memcpy(msg + klen + elen, u, TAG_AT);
    if (!HMAC(EVP_sha256(), key, (int)key_len, msg, klen + elen + TAG_AT,
              mac, &mac_len) || mac_len < TAG_BYTES) {
        return 0;
    }
    memcpy(out, mac, TAG_BYTES);
    return 1;
}

const char *emu_token_issue(request_rec *r, const char *kind,
                            const char *env, apr_time_t *issued)
{
    apr_time_t now = apr_time_now();
    apr_uint32_t sec = (apr_uint32_t)apr_time_sec(now);
    unsigned char u[TOKEN_BYTES];

    u[0] = sec >> 24;
    u[1] = sec >> 16;
    u[2] = sec >> 8;
    u[3] = sec;
    random_bytes(r, u + 4, TAG_AT - 4);
    u[6] = (u[6] & 0x0f) | 0x40;   /* version 4 */
    u[8] = (u[8] & 0x3f) | 0x80;   /* RFC 4122 variant */
    if (!tag(kind, env, u, u + TAG_AT)) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "plaid_emulator: no "
                      "token key (post_config did not run?)");
        return NULL;
    }
    if (issued) {
        *issued = apr_time_from_sec(sec);
    }
    return apr_psprintf(r->pool,
                        "%s-%s-%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
                        "%02x%02x%02x%02x%02x%02x", kind, env,
                        u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7],
                        u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]);
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* A uuid as this file writes it (lowercase, 8-4-4-4-12) into u. */
static int parse_uuid(const char *s, unsigned char *u)
{
    apr_size_t i, n = 0;
    int v;

    if (strlen(s) != 36) {
        return 0;
    }
    for (i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-') {
                return 0;
            }
            continue;
        }
        if ((v = hex_value(s[i])) < 0) {
            return 0;
        }
        if (n % 2 == 0) {
            u[n / 2] = (unsigned char)(v << 4);
        }
        else {
            u[n / 2] |= (unsigned char)v;
        }
        n++;
    }
    return n == 2 * TOKEN_BYTES;
}

/* Plaid's environments: what makes public-<environment>-<identifier>
 * well-formed, whether or not this emulator serves it. */
static int plaid_environment(const char *env, apr_size_t len)
{
    static const char *const envs[] = {
        "sandbox", "development", "production", NULL
    };
    const char *const *e;

    for (e = envs; *e; e++) {
        if (strlen(*e) == len && strncmp(*e, env, len) == 0) {
            return 1;
        }
    }
    return 0;
}

emu_token_state emu_token_check(apr_pool_t *p, const char *token,
                                const char *kind, const char *env,
                                apr_interval_time_t ttl, char *id,
                                const char **why)
{
    apr_size_t klen = strlen(kind), i;
    const char *rest, *dash;
    unsigned char u[TOKEN_BYTES], want[TAG_BYTES];
    apr_int64_t age;

    *why = apr_psprintf(p, "malformed (not %s-<environment>-<identifier>)",
                        kind);
    if (!token || strncmp(token, kind, klen) != 0 || token[klen] != '-') {
        return EMU_TOKEN_MALFORMED;
    }
    rest = token + klen + 1;
    if (!(dash = strchr(rest, '-')) || !dash[1]
        || !plaid_environment(rest, dash - rest)) {
        return EMU_TOKEN_MALFORMED;
    }
    if (strlen(env) != (apr_size_t)(dash - rest)
        || strncmp(rest, env, dash - rest) != 0) {
        *why = apr_psprintf(p, "wrong environment (%.*s, not %s)",
                            (int)(dash - rest), rest, env);
        return EMU_TOKEN_OTHER_ENV;
    }
    *why = "unknown (not issued by this emulator since it started)";
    if (!parse_uuid(dash + 1, u) || !tag(kind, env, u, want)
        || CRYPTO_memcmp(want, u + TAG_AT, TAG_BYTES) != 0) {
        return EMU_TOKEN_UNKNOWN;
    }
    age = apr_time_sec(apr_time_now())
        - ((apr_int64_t)u[0] << 24 | u[1] << 16 | u[2] << 8 | u[3]);
    if (age > apr_time_sec(ttl)) {
        *why = apr_psprintf(p, "expired (issued %" APR_INT64_T_FMT " s ago, "
                            "lives %" APR_INT64_T_FMT " s)", age,
                            (apr_int64_t)apr_time_sec(ttl));
        return EMU_TOKEN_EXPIRED;
    }
    for (i = 0; i < TOKEN_BYTES; i++) {
        apr_snprintf(id + 2 * i, 3, "%02x", u[i]);
    }
    *why = NULL;
    return EMU_TOKEN_GOOD;
}
