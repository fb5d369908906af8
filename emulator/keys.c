/* SPDX-License-Identifier: Apache-2.0 */
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
 *            mode signs with it;
 *   issued   one per /webhook/sign in its new-key mode: a key no verifier
 *            has fetched yet, as Plaid's next key after a rotation. Its
 *            kid carries a tag made with this httpd's seed, and its
 *            private half is derived from the seed and the kid, so every
 *            child serves it from then on with nothing shared but the
 *            seed, and no kid that was not issued gets a key.
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
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>

#include "http_core.h"

#include "apr_lib.h"
#include "apr_strings.h"

#include "emu.h"

#define USERDATA_KEY "plaid_emulator_keys"
#define SEED_KEY     "plaid_emulator_key_seed"
#define SEED_BYTES   32
#define KID_RANDOM   9    /* of a kid's 16 bytes; the other 7 are its tag */
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
static const unsigned char *seed;

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

/* The seed of the issued keys, made on the first call of this httpd. */
static const unsigned char *key_seed(apr_pool_t *proc)
{
    void *data = NULL;
    unsigned char *made;

    apr_pool_userdata_get(&data, SEED_KEY, proc);
    if (data) {
        return data;
    }
    made = apr_palloc(proc, SEED_BYTES);
    if (apr_generate_random_bytes(made, SEED_BYTES) != APR_SUCCESS) {
        return NULL;
    }
    apr_pool_userdata_set(made, SEED_KEY, apr_pool_cleanup_null, proc);
    return made;
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
    if (!(sk = stored_keys(s)) || !(seed = key_seed(s->process->pool))) {
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

/* HMAC-SHA256(seed, what || data). */
static int seeded_mac(const char *what, const unsigned char *data,
                      apr_size_t len, unsigned char mac[32])
{
    unsigned char msg[8 + 16];
    apr_size_t n = strlen(what);

    memcpy(msg, what, n);
    memcpy(msg + n, data, len);
    return HMAC(EVP_sha256(), seed, SEED_BYTES, msg, n + len, mac, NULL)
        != NULL;
}

static apr_status_t free_pkey(void *data)
{
    EVP_PKEY_free(data);
    return APR_SUCCESS;
}

/* The P-256 key pair whose private half is scalar mod n, into k. */
static int key_from_scalar(apr_pool_t *p, const unsigned char scalar[32],
                           emu_key *k)
{
    EC_GROUP *group = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
    BIGNUM *d = BN_bin2bn(scalar, 32, NULL);
    BN_CTX *ctx = BN_CTX_new();
    EC_POINT *pub = group ? EC_POINT_new(group) : NULL;
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *pctx = NULL;
    EVP_PKEY *pkey = NULL;

    if (group && d && ctx && pub && bld
        && BN_mod(d, d, EC_GROUP_get0_order(group), ctx)
        && !BN_is_zero(d)
        && EC_POINT_mul(group, pub, d, NULL, NULL, ctx)
        && EC_POINT_point2oct(group, pub, POINT_CONVERSION_UNCOMPRESSED,
                              k->point, sizeof(k->point), ctx)
           == sizeof(k->point)
        && OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
                                           "prime256v1", 0)
        && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, d)
        && OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY,
                                            k->point, sizeof(k->point))
        && (params = OSSL_PARAM_BLD_to_param(bld))
        && (pctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL))
        && EVP_PKEY_fromdata_init(pctx) > 0
        && EVP_PKEY_fromdata(pctx, &pkey, EVP_PKEY_KEYPAIR, params) > 0) {
        k->pkey = pkey;
        apr_pool_cleanup_register(p, pkey, free_pkey, apr_pool_cleanup_null);
    }
    EVP_PKEY_CTX_free(pctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    EC_POINT_free(pub);
    BN_CTX_free(ctx);
    BN_clear_free(d);
    EC_GROUP_free(group);
    return k->pkey != NULL;
}

/* The issued key of the kid's 16 bytes (its tag already checked). */
static const emu_key *issued_key(apr_pool_t *p, const unsigned char u[16])
{
    emu_key *k = apr_pcalloc(p, sizeof(*k));
    unsigned char scalar[32];
    int ok;

    k->kid = apr_psprintf(p, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
                          "%02x%02x%02x%02x%02x%02x", u[0], u[1], u[2], u[3],
                          u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11],
                          u[12], u[13], u[14], u[15]);
    k->created_at = apr_time_sec(apr_time_now());
    ok = seeded_mac("key", u, 16, scalar) && key_from_scalar(p, scalar, k);
    OPENSSL_cleanse(scalar, sizeof(scalar));
    return ok ? k : NULL;
}

const emu_key *emu_key_issue(apr_pool_t *p)
{
    unsigned char u[16], tag[32];

    if (!keys_ready || apr_generate_random_bytes(u, KID_RANDOM)
                       != APR_SUCCESS) {
        return NULL;
    }
    u[6] = (u[6] & 0x0f) | 0x40;
    u[8] = (u[8] & 0x3f) | 0x80;
    if (!seeded_mac("kid", u, KID_RANDOM, tag)) {
        return NULL;
    }
    memcpy(u + KID_RANDOM, tag, 16 - KID_RANDOM);
    return issued_key(p, u);
}

const emu_key *emu_key_issued(apr_pool_t *p, const char *kid)
{
    unsigned char u[16], tag[32];
    int i, n = 0, hi;

    if (!keys_ready || !kid || strlen(kid) != 36) {
        return NULL;
    }
    for (i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (kid[i] != '-') {
                return NULL;
            }
            continue;
        }
        if (!apr_isxdigit(kid[i]) || apr_isupper(kid[i])) {
            return NULL;
        }
        hi = apr_isdigit(kid[i]) ? kid[i] - '0' : kid[i] - 'a' + 10;
        u[n / 2] = (unsigned char)(n % 2 ? (u[n / 2] << 4) | hi : hi);
        n++;
    }
    if (!seeded_mac("kid", u, KID_RANDOM, tag)
        || CRYPTO_memcmp(u + KID_RANDOM, tag, 16 - KID_RANDOM) != 0) {
        return NULL;
    }
    return issued_key(p, u);
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
