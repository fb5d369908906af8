/*
 * The keys the emulator signs webhooks with, as Plaid's are: ECDSA on
 * P-256 (ES256), each named by a kid and served as a JWK by
 * /webhook_verification_key/get.
 *
 *   current  signs every webhook /sandbox/item/fire_webhook sends and the
 *            tokens /webhook/sign makes in its good mode;
 *   other    a second valid key, as Plaid serves several during a key
 *            rollover: /webhook/sign's other-kid mode names it in the
 *            header of a token the current key signed;
 *   expired  served with expired_at in the past; /webhook/sign's expired
 *            mode signs with it.
 *
 * They are made once per httpd in the parent before it forks and kept in
 * the process pool across restarts, as the token key of state.c is, so
 * every child signs with the same keys and serves the same JWKs. The
 * process pool holds them as DER only: an EVP_PKEY there would need a
 * cleanup in this module's code, which is unloaded with pconf before the
 * process pool's cleanups run. Each configuration cycle loads them into
 * EVP_PKEYs that live and die with pconf.
 */
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "http_core.h"

#include "apr_strings.h"

#include "emu.h"

#define USERDATA_KEY "plaid_emulator_keys"
#define DAY_S        (24 * 60 * 60)

/* What survives a restart: the key as DER and what the JWK says of it. */
typedef struct {
    char kid[37];
    apr_int64_t created_at;
    apr_int64_t expired_at;
    unsigned char *der;
    apr_size_t der_len;
} stored_key;

/* Set in the parent's post_config; children inherit them. */
static emu_key keys[EMU_KEYS];
static int keys_ready;

/* A version 4 uuid, the form of Plaid's kids. */
static apr_status_t make_kid(char *kid)
{
    unsigned char u[16];
    apr_status_t rv = apr_generate_random_bytes(u, sizeof(u));

    u[6] = (u[6] & 0x0f) | 0x40;
    u[8] = (u[8] & 0x3f) | 0x80;
    apr_snprintf(kid, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
                 "%02x%02x%02x%02x%02x%02x", u[0], u[1], u[2], u[3], u[4],
                 u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13],
                 u[14], u[15]);
    return rv;
}

static int generate(apr_pool_t *proc, stored_key *sk, apr_int64_t created_at,
                    apr_int64_t expired_at)
{
    EVP_PKEY *pkey = EVP_EC_gen("P-256");
    unsigned char *der = NULL;
    int len;

    if (!pkey) {
        return 0;
    }
    len = i2d_PrivateKey(pkey, &der);
    EVP_PKEY_free(pkey);
    if (len <= 0 || make_kid(sk->kid) != APR_SUCCESS) {
        OPENSSL_free(der);
        return 0;
    }
    sk->der = apr_pmemdup(proc, der, len);
    sk->der_len = len;
    OPENSSL_clear_free(der, len);
    sk->created_at = created_at;
    sk->expired_at = expired_at;
    return 1;
}

/* The stored keys, made on the first call of this httpd. */
static stored_key *stored_keys(server_rec *s)
{
    apr_pool_t *proc = s->process->pool;
    apr_int64_t now = apr_time_sec(apr_time_now());
    stored_key *sk;
    void *data = NULL;

    apr_pool_userdata_get(&data, USERDATA_KEY, proc);
    if (data) {
        return data;
    }
    sk = apr_pcalloc(proc, EMU_KEYS * sizeof(*sk));
    if (!generate(proc, &sk[EMU_KEY_CURRENT], now, 0)
        || !generate(proc, &sk[EMU_KEY_OTHER], now, 0)
        || !generate(proc, &sk[EMU_KEY_EXPIRED], now - 30 * DAY_S,
                     now - DAY_S)) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s, "plaid_emulator: cannot "
                     "make the webhook signing keys (OpenSSL's P-256)");
        return NULL;
    }
    apr_pool_userdata_set(sk, USERDATA_KEY, apr_pool_cleanup_null, proc);
    return sk;
}

static apr_status_t free_keys(void *data)
{
    int i;

    (void)data;
    keys_ready = 0;
    for (i = 0; i < EMU_KEYS; i++) {
        EVP_PKEY_free(keys[i].pkey);
        keys[i].pkey = NULL;
    }
    return APR_SUCCESS;
}

static int load(apr_pool_t *pconf, const stored_key *sk, emu_key *k)
{
    const unsigned char *der = sk->der;
    size_t len = 0;

    k->pkey = d2i_AutoPrivateKey(NULL, &der, (long)sk->der_len);
    if (!k->pkey
        || !EVP_PKEY_get_octet_string_param(k->pkey,
                                            OSSL_PKEY_PARAM_PUB_KEY,
                                            k->point, sizeof(k->point), &len)
        || len != sizeof(k->point) || k->point[0] != 0x04) {
        return 0;
    }
    k->kid = apr_pstrdup(pconf, sk->kid);
    k->created_at = sk->created_at;
    k->expired_at = sk->expired_at;
    return 1;
}

int emu_keys_init(apr_pool_t *pconf, server_rec *s)
{
    stored_key *sk;
    int i;

    if (ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG) {
        return OK;
    }
    if (!(sk = stored_keys(s))) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    apr_pool_cleanup_register(pconf, NULL, free_keys, apr_pool_cleanup_null);
    for (i = 0; i < EMU_KEYS; i++) {
        if (!load(pconf, &sk[i], &keys[i])) {
            ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s, "plaid_emulator: "
                         "cannot load the webhook signing keys");
            return HTTP_INTERNAL_SERVER_ERROR;
        }
    }
    keys_ready = 1;
    return OK;
}

const emu_key *emu_key_by_role(emu_key_role role)
{
    return keys_ready ? &keys[role] : NULL;
}

const emu_key *emu_key_by_kid(const char *kid)
{
    int i;

    for (i = 0; keys_ready && kid && i < EMU_KEYS; i++) {
        if (strcmp(keys[i].kid, kid) == 0) {
            return &keys[i];
        }
    }
    return NULL;
}

json_t *emu_key_jwk(apr_pool_t *p, const emu_key *k)
{
    /* JWKPublicKey: the coordinates are the point's two 32-byte halves. */
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:o}",
                     "alg", "ES256",
                     "crv", "P-256",
                     "kid", k->kid,
                     "kty", "EC",
                     "use", "sig",
                     "x", emu_base64url(p, k->point + 1, 32),
                     "y", emu_base64url(p, k->point + 33, 32),
                     "created_at", (json_int_t)k->created_at,
                     "expired_at", k->expired_at
                                   ? json_integer(k->expired_at)
                                   : json_null());
}

char *emu_base64url(apr_pool_t *p, const unsigned char *data, apr_size_t len)
{
    static const char abc[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    char *out = apr_palloc(p, (len + 2) / 3 * 4 + 1), *o = out;
    apr_size_t i;
    unsigned long v;

    for (i = 0; i + 2 < len; i += 3) {
        v = (unsigned long)data[i] << 16 | data[i + 1] << 8 | data[i + 2];
        *o++ = abc[v >> 18];
        *o++ = abc[(v >> 12) & 63];
        *o++ = abc[(v >> 6) & 63];
        *o++ = abc[v & 63];
    }
    if (i < len) {   /* one or two bytes left: no padding */
        v = (unsigned long)data[i] << 16
            | (i + 1 < len ? data[i + 1] << 8 : 0);
        *o++ = abc[v >> 18];
        *o++ = abc[(v >> 12) & 63];
        if (i + 1 < len) {
            *o++ = abc[(v >> 6) & 63];
        }
    }
    *o = '\0';
    return out;
}
