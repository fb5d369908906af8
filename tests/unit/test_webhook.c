/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Webhook verification, step by step, with two fixed P-256 keys (test
 * keys made for this file, nothing else): tokens are signed here as
 * Plaid signs them, then forged in each way the module must refuse.
 */
#include <apr_strings.h>

#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "plaid_webhook.h"
#include "unit.h"

static const char key_pem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgkvGQpI9AouP9e1SI\n"
    "VjIvFsVDUnNlwwdaGtDXLCOIS6ehRANCAASmoXxXM3zdzk/M7xopqm+HQFvvxxue\n"
    "p2zxHt6LEWtuuITN+IsM9O3OzlTxj3Gfe60MPjFXJ8Ac0eLluhYueBt5\n"
    "-----END PRIVATE KEY-----\n";
static const char other_pem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgBxk1NQsHf/Iq5dUt\n"
    "/Cg3aPDs9PRfzO70OzzwFacLAUShRANCAAToEdjnAwMO+0UBvae1xNZqjcLylH8Q\n"
    "9/rh/BKFtozvYlirbqzREazHAp3MfTDm47W+jMs60KQ7ta1lmfoSKcpp\n"
    "-----END PRIVATE KEY-----\n";

static const char body[] = "{\"webhook_type\":\"TRANSACTIONS\",\"webhook_code\":"
                           "\"SYNC_UPDATES_AVAILABLE\",\"item_id\":\"wz666\"}";
static const long long now = 1764750000;

static EVP_PKEY *load(const char *pem)
{
    BIO *bio = BIO_new_mem_buf(pem, -1);
    EVP_PKEY *k = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);

    BIO_free(bio);
    return k;
}

static const char *b64url(apr_pool_t *p, const unsigned char *data,
                          apr_size_t len)
{
    static const char a[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    char *out = apr_palloc(p, len * 4 / 3 + 4), *o = out;
    apr_size_t i;

    for (i = 0; i + 2 < len; i += 3) {
        *o++ = a[data[i] >> 2];
        *o++ = a[((data[i] & 3) << 4) | (data[i + 1] >> 4)];
        *o++ = a[((data[i + 1] & 15) << 2) | (data[i + 2] >> 6)];
        *o++ = a[data[i + 2] & 63];
    }
    if (len - i == 1) {
        *o++ = a[data[i] >> 2];
        *o++ = a[(data[i] & 3) << 4];
    }
    else if (len - i == 2) {
        *o++ = a[data[i] >> 2];
        *o++ = a[((data[i] & 3) << 4) | (data[i + 1] >> 4)];
        *o++ = a[(data[i + 1] & 15) << 2];
    }
    *o = '\0';
    return out;
}

/* The key's x||y, as Plaid's JWK gives it. */
static void public_xy(EVP_PKEY *k, plaid_webhook_key *key)
{
    unsigned char point[65];
    size_t len = 0;

    EVP_PKEY_get_octet_string_param(k, OSSL_PKEY_PARAM_PUB_KEY, point,
                                    sizeof(point), &len);
    memcpy(key->xy, point + 1, 64);
}

/* R||S (raw = 1) or DER of an ES256 signature over input. */
static const char *sign(apr_pool_t *p, EVP_PKEY *k, const char *input,
                        int raw)
{
    unsigned char der[80], rs[64];
    const unsigned char *d = der;
    size_t len = sizeof(der);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    ECDSA_SIG *sig;

    EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, k);
    EVP_DigestSign(md, der, &len, (const unsigned char *)input,
                   strlen(input));
    EVP_MD_CTX_free(md);
    if (!raw) {
        return b64url(p, der, len);
    }
    sig = d2i_ECDSA_SIG(NULL, &d, (long)len);
    BN_bn2binpad(ECDSA_SIG_get0_r(sig), rs, 32);
    BN_bn2binpad(ECDSA_SIG_get0_s(sig), rs + 32, 32);
    ECDSA_SIG_free(sig);
    return b64url(p, rs, 64);
}

static const char *part(apr_pool_t *p, const char *json)
{
    return b64url(p, (const unsigned char *)json, strlen(json));
}

/* A token with this header and payload JSON, signed by k. */
static const char *token(apr_pool_t *p, EVP_PKEY *k, const char *header,
                         const char *payload, int raw)
{
    const char *input = apr_pstrcat(p, part(p, header), ".",
                                    part(p, payload), NULL);

    return apr_pstrcat(p, input, ".", sign(p, k, input, raw), NULL);
}

static const char *claims(apr_pool_t *p, long long iat, const char *b)
{
    char hex[65];

    plaid_sha256_hex(b, strlen(b), hex);
    return apr_psprintf(p, "{\"iat\":%" APR_INT64_T_FMT ",\"request_body_"
                        "sha256\":\"%s\"}", (apr_int64_t)iat, hex);
}

static const char good_header[] =
    "{\"alg\":\"ES256\",\"kid\":\"k1\",\"typ\":\"JWT\"}";

/* The steps: which one refuses the token, 0 when none does. */
static int refused_at(apr_pool_t *p, const char *jwt,
                      const plaid_webhook_key *key, const char *b)
{
    plaid_webhook_step step;
    plaid_jws jws;
    int malformed;

    if (plaid_jws_parse(p, jwt, &jws, &step, &malformed)) {
        return (int)step;
    }
    if (plaid_jws_verify(&jws, key)) {
        return PLAID_WH_STEP_SIGNATURE;
    }
    if (plaid_jws_check_age(&jws, now, PLAID_WEBHOOK_MAX_AGE_S_DEFAULT)) {
        return PLAID_WH_STEP_AGE;
    }
    if (plaid_jws_check_body(&jws, b, strlen(b))) {
        return PLAID_WH_STEP_BODY;
    }
    return 0;
}

static void steps(apr_pool_t *p)
{
    EVP_PKEY *k = load(key_pem), *other = load(other_pem);
    plaid_webhook_key key, other_key;
    const char *c = claims(p, now - 10, body), *good, *input;
    char *changed;

    CHECK(k && other);
    public_xy(k, &key);
    public_xy(other, &other_key);
    good = token(p, k, good_header, c, 1);

    CHECK(refused_at(p, good, &key, body) == 0);
    /* step 1 */
    CHECK(refused_at(p, NULL, &key, body) == PLAID_WH_STEP_FORMAT);
    CHECK(refused_at(p, "", &key, body) == PLAID_WH_STEP_FORMAT);
    CHECK(refused_at(p, apr_pstrcat(p, part(p, good_header), ".",
                                    part(p, c), NULL), &key, body)
          == PLAID_WH_STEP_FORMAT);
    CHECK(refused_at(p, apr_pstrcat(p, good, ".x", NULL), &key, body)
          == PLAID_WH_STEP_FORMAT);
    CHECK(refused_at(p, apr_pstrcat(p, "!", good, NULL), &key, body)
          == PLAID_WH_STEP_FORMAT);
    /* step 2: the token's alg is never trusted */
    CHECK(refused_at(p, token(p, k, "{\"alg\":\"none\",\"kid\":\"k1\"}", c, 1),
                     &key, body) == PLAID_WH_STEP_HEADER);
    CHECK(refused_at(p, token(p, k, "{\"alg\":\"HS256\",\"kid\":\"k1\"}", c, 1),
                     &key, body) == PLAID_WH_STEP_HEADER);
    CHECK(refused_at(p, token(p, k, "{\"alg\":\"ES384\",\"kid\":\"k1\"}", c, 1),
                     &key, body) == PLAID_WH_STEP_HEADER);
    CHECK(refused_at(p, token(p, k, "{\"alg\":\"es256\",\"kid\":\"k1\"}", c, 1),
                     &key, body) == PLAID_WH_STEP_HEADER);
    CHECK(refused_at(p, token(p, k, "{\"alg\":\"ES256\"}", c, 1),
                     &key, body) == PLAID_WH_STEP_HEADER);
    /* step 4: R||S only, by the right key, over header.payload */
    CHECK(refused_at(p, token(p, k, good_header, c, 0), &key, body)
          == PLAID_WH_STEP_SIGNATURE);
    CHECK(refused_at(p, good, &other_key, body) == PLAID_WH_STEP_SIGNATURE);
    CHECK(refused_at(p, token(p, other, good_header, c, 1), &key, body)
          == PLAID_WH_STEP_SIGNATURE);
    input = apr_pstrcat(p, part(p, good_header), ".", part(p, c), NULL);
    {
        unsigned char rs[66];
        long n = plaid_base64url_decode(strrchr(good, '.') + 1,
                                        strlen(strrchr(good, '.') + 1), rs);

        CHECK(n == 64);
        CHECK(refused_at(p, apr_pstrcat(p, input, ".", b64url(p, rs, 63),
                                        NULL), &key, body)
              == PLAID_WH_STEP_SIGNATURE);
        rs[64] = 0;
        CHECK(refused_at(p, apr_pstrcat(p, input, ".", b64url(p, rs, 65),
                                        NULL), &key, body)
              == PLAID_WH_STEP_SIGNATURE);
    }
    /* the payload changed after signing */
    CHECK(refused_at(p, apr_pstrcat(p, part(p, good_header), ".",
                                    part(p, claims(p, now, body)), ".",
                                    strrchr(good, '.') + 1, NULL),
                     &key, body) == PLAID_WH_STEP_SIGNATURE);
    /* step 5 */
    CHECK(refused_at(p, token(p, k, good_header, claims(p, now - 301, body), 1),
                     &key, body) == PLAID_WH_STEP_AGE);
    CHECK(refused_at(p, token(p, k, good_header, claims(p, now + 31, body), 1),
                     &key, body) == PLAID_WH_STEP_AGE);
    CHECK(refused_at(p, token(p, k, good_header, claims(p, now + 30, body), 1),
                     &key, body) == 0);
    CHECK(refused_at(p, token(p, k, good_header,
                              "{\"request_body_sha256\":\"x\"}", 1),
                     &key, body) == PLAID_WH_STEP_AGE);
    /* step 6: the raw body, byte for byte */
    changed = apr_pstrdup(p, body);
    changed[10] ^= 1;
    CHECK(refused_at(p, good, &key, changed) == PLAID_WH_STEP_BODY);
    CHECK(refused_at(p, good, &key, apr_pstrcat(p, body, "\n", NULL))
          == PLAID_WH_STEP_BODY);
    CHECK(refused_at(p, good, &key, apr_pstrcat(p, " ", body, NULL))
          == PLAID_WH_STEP_BODY);
    EVP_PKEY_free(k);
    EVP_PKEY_free(other);
}

static void jwk(apr_pool_t *p)
{
    plaid_webhook_key key;
    json_t *j;
    const char *x = "pqF8VzN83c5PzO8aKapvh0Bb78cbnqds8R7eixFrbrg";
    const char *y = "hM34iwz07c7OVPGPcZ97rQw-MVcnwBzR4uW6Fi54G3k";

    j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:n}", "alg",
                  "ES256", "crv", "P-256", "kid", "k1", "kty", "EC", "use",
                  "sig", "x", x, "y", y, "created_at", 1560000000,
                  "expired_at");
    CHECK(plaid_webhook_key_read(p, j, "k1", &key) == NULL);
    CHECK_HAS(plaid_webhook_key_read(p, j, "k2", &key), "kid");
    json_object_set_new(j, "expired_at", json_integer(1600000000));
    CHECK_HAS(plaid_webhook_key_read(p, j, "k1", &key), "expired");
    json_object_set_new(j, "expired_at", json_null());
    json_object_set_new(j, "crv", json_string("P-384"));
    CHECK_HAS(plaid_webhook_key_read(p, j, "k1", &key), "P-256");
    json_object_set_new(j, "crv", json_string("P-256"));
    json_object_set_new(j, "kty", json_string("RSA"));
    CHECK_HAS(plaid_webhook_key_read(p, j, "k1", &key), "EC");
    json_object_set_new(j, "kty", json_string("EC"));
    json_object_set_new(j, "alg", json_string("HS256"));
    CHECK_HAS(plaid_webhook_key_read(p, j, "k1", &key), "ES256");
    json_object_set_new(j, "alg", json_string("ES256"));
    json_object_set_new(j, "x", json_string("AAAA"));
    CHECK_HAS(plaid_webhook_key_read(p, j, "k1", &key), "32 bytes");
    json_decref(j);
    CHECK_STR(plaid_webhook_key_body(p, "k1", NULL), "{\"key_id\":\"k1\"}");
}

static void base64url(apr_pool_t *p)
{
    unsigned char out[16];

    (void)p;
    CHECK(plaid_base64url_decode("", 0, out) == 0);
    CHECK(plaid_base64url_decode("YQ", 2, out) == 1 && out[0] == 'a');
    CHECK(plaid_base64url_decode("YR", 2, out) == -1);  /* stray bits */
    CHECK(plaid_base64url_decode("YQ==", 4, out) == -1); /* padding */
    CHECK(plaid_base64url_decode("Y", 1, out) == -1);
    CHECK(plaid_base64url_decode("_-8", 3, out) == 2 && out[0] == 0xff);
    CHECK(plaid_base64url_decode("a+b/", 4, out) == -1);
}

int main(void)
{
    static const unit_test tests[] = { steps, jwk, base64url, NULL };
    return unit_run("test_webhook", tests);
}
