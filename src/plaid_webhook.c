/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Plaid's webhook verification, by the book (Plaid's "Webhook
 * verification" guide, RFC 7515 and RFC 7518), every step required:
 * a compact JWS of three base64url parts; alg exactly ES256 (no "none",
 * no HS256 keyed with the public key) and a kid, before any key is looked
 * at; an EC P-256 key that has not expired; the signature as the raw
 * 64-byte R||S, verified over header.payload; iat within the max age; the
 * SHA-256 of the raw body. Replays are the glue's: they need the shared
 * cache.
 */
#include <string.h>

#include <apr_strings.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/sha.h>

#include "plaid_values.h"
#include "plaid_webhook.h"

const char *plaid_webhook_step_name(plaid_webhook_step step)
{
    switch (step) {
    case PLAID_WH_STEP_FORMAT:    return "format";
    case PLAID_WH_STEP_HEADER:    return "header";
    case PLAID_WH_STEP_KEY:       return "key";
    case PLAID_WH_STEP_SIGNATURE: return "signature";
    case PLAID_WH_STEP_AGE:       return "iat";
    case PLAID_WH_STEP_BODY:      return "body";
    case PLAID_WH_STEP_REPLAY:    return "replay";
    }
    return "unknown";
}

static int b64url_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '-') return 62;
    if (c == '_') return 63;
    return -1;
}

long plaid_base64url_decode(const char *text, apr_size_t len,
                            unsigned char *out)
{
    unsigned long acc = 0;
    int bits = 0, v;
    long n = 0;
    apr_size_t i;

    /* A lone leftover character carries fewer than 8 bits. */
    if (len % 4 == 1) {
        return -1;
    }
    for (i = 0; i < len; i++) {
        if ((v = b64url_value((unsigned char)text[i])) < 0) {
            return -1;
        }
        acc = (acc << 6) | (unsigned long)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[n++] = (unsigned char)(acc >> bits);
            acc &= (1UL << bits) - 1;
        }
    }
    /* The unused bits of the last character must be zero: one text per
     * value, so no two tokens differ only there. */
    return acc ? -1 : n;
}

/* A base64url part that must be a JSON object. */
static json_t *json_part(apr_pool_t *p, const char *text, apr_size_t len)
{
    unsigned char *raw = apr_palloc(p, len * 3 / 4 + 3);
    long n = plaid_base64url_decode(text, len, raw);
    json_t *obj;

    if (n < 0) {
        return NULL;
    }
    obj = json_loadb((const char *)raw, (size_t)n, JSON_REJECT_DUPLICATES,
                     NULL);
    if (obj && !json_is_object(obj)) {
        json_decref(obj);
        return NULL;
    }
    return obj;
}

const char *plaid_jws_parse(apr_pool_t *p, const char *value, plaid_jws *out,
                            plaid_webhook_step *step, int *malformed)
{
    const char *dot1, *dot2, *alg;
    unsigned char sig[PLAID_WEBHOOK_JWS_MAX];
    json_t *header, *payload, *v;
    apr_size_t len;
    long n;

    memset(out, 0, sizeof(*out));
    out->iat = -1;
    *step = PLAID_WH_STEP_FORMAT;
    *malformed = 1;
    if (!value || !*value) {
        return "no Plaid-Verification header";
    }
    len = strlen(value);
    if (len > PLAID_WEBHOOK_JWS_MAX) {
        return "the Plaid-Verification header is longer than 4096 bytes";
    }
    if (!(dot1 = strchr(value, '.')) || !(dot2 = strchr(dot1 + 1, '.'))
        || strchr(dot2 + 1, '.')) {
        return "Plaid-Verification is not a compact JWS of three parts";
    }
    if (!(header = json_part(p, value, (apr_size_t)(dot1 - value)))) {
        return "the JWS header is not base64url of a JSON object";
    }
    payload = json_part(p, dot1 + 1, (apr_size_t)(dot2 - dot1 - 1));
    n = plaid_base64url_decode(dot2 + 1, strlen(dot2 + 1), sig);
    if (!payload || n < 0) {
        json_decref(header);
        json_decref(payload);
        return payload ? "the JWS signature is not base64url"
                       : "the JWS payload is not base64url of a JSON object";
    }

    /* Step 2, before any key is looked at: the algorithm is ours to pick,
     * never the token's. */
    *step = PLAID_WH_STEP_HEADER;
    *malformed = 0;
    v = json_object_get(header, "alg");
    alg = json_is_string(v) ? json_string_value(v) : NULL;
    if (!alg || strcmp(alg, "ES256") != 0) {
        const char *why = alg ? apr_psprintf(p, "the JWS alg is %s, not "
                                             "ES256",
                                             plaid_log_quote(p, alg, 32))
                              : "the JWS header has no alg";

        /* alg points into header: the message is made before it goes */
        json_decref(header);
        json_decref(payload);
        return why;
    }
    v = json_object_get(header, "kid");
    if (!json_is_string(v) || !json_string_length(v)
        || json_string_length(v) > 128) {
        json_decref(header);
        json_decref(payload);
        return "the JWS header has no usable kid";
    }
    out->kid = apr_pstrdup(p, json_string_value(v));
    json_decref(header);

    /* The signature's length is step 4's, but known now. */
    out->signing_input = value;
    out->signing_input_len = (apr_size_t)(dot2 - value);
    if (n == 64) {
        memcpy(out->signature, sig, 64);
    }
    else {
        memset(out->signature, 0, 64);
        out->signing_input_len = 0;  /* step 4 refuses it */
    }
    v = json_object_get(payload, "iat");
    if (json_is_integer(v)) {
        out->iat = (long long)json_integer_value(v);
    }
    v = json_object_get(payload, "request_body_sha256");
    if (json_is_string(v)) {
        out->body_sha256 = apr_pstrdup(p, json_string_value(v));
    }
    json_decref(payload);
    return NULL;
}

/* A base64url coordinate of exactly 32 bytes. */
static int coordinate(const json_t *jwk, const char *name, unsigned char *out)
{
    const json_t *v = json_object_get(jwk, name);
    unsigned char buf[48];

    return json_is_string(v) && json_string_length(v) <= 44
        && plaid_base64url_decode(json_string_value(v), json_string_length(v),
                                  buf) == 32
        && memcpy(out, buf, 32) != NULL;
}

static int string_is(const json_t *obj, const char *key, const char *want)
{
    const json_t *v = json_object_get(obj, key);

    return json_is_string(v) && strcmp(json_string_value(v), want) == 0;
}

const char *plaid_webhook_key_read(apr_pool_t *p, const json_t *jwk,
                                   const char *kid, plaid_webhook_key *key)
{
    const json_t *v;

    (void)p;
    if (!json_is_object(jwk)) {
        return "the answer has no key object";
    }
    if (!string_is(jwk, "kid", kid)) {
        return "the key's kid is not the one asked for";
    }
    if (!string_is(jwk, "kty", "EC") || !string_is(jwk, "crv", "P-256")) {
        return "the key is not an EC key on P-256";
    }
    if (json_object_get(jwk, "alg") && !string_is(jwk, "alg", "ES256")) {
        return "the key is not for ES256";
    }
    v = json_object_get(jwk, "expired_at");
    if (v && !json_is_null(v)) {
        return "the key has expired (expired_at is set)";
    }
    if (!coordinate(jwk, "x", key->xy) || !coordinate(jwk, "y", key->xy + 32)) {
        return "the key's x or y is not 32 bytes of base64url";
    }
    return NULL;
}

void plaid_webhook_key_answer(apr_pool_t *p, const json_t *answer,
                              plaid_result *res, const char *kid,
                              plaid_webhook_key *key)
{
    const char *why = plaid_webhook_key_read(p, json_object_get(answer, "key"),
                                             kid, key);

    if (why) {
        plaid_result_unusable(res, why);
    }
}

char *plaid_webhook_key_body(apr_pool_t *p, const char *kid, apr_size_t *len)
{
    json_t *body = json_pack("{s:s}", "key_id", kid);
    char *out = body ? plaid_json_dump(p, body, len) : NULL;

    json_decref(body);
    return out;
}

/* The P-256 public key at x||y, or NULL when it is not a point on the
 * curve. */
static EVP_PKEY *public_key(const plaid_webhook_key *key)
{
    unsigned char point[65];
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    EVP_PKEY *pkey = NULL;

    point[0] = 0x04;   /* uncompressed */
    memcpy(point + 1, key->xy, 64);
    if (bld
        && OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
                                           "prime256v1", 0)
        && OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY,
                                            point, sizeof(point))
        && (params = OSSL_PARAM_BLD_to_param(bld))
        && (ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL))
        && EVP_PKEY_fromdata_init(ctx) > 0) {
        if (EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0) {
            pkey = NULL;
        }
    }
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    return pkey;
}

/* R||S as the DER ECDSA-Sig-Value OpenSSL verifies; its length, or 0. */
static int der_signature(const unsigned char rs[64], unsigned char **der)
{
    ECDSA_SIG *sig = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(rs, 32, NULL), *s = BN_bin2bn(rs + 32, 32, NULL);
    int len = 0;

    if (sig && r && s && ECDSA_SIG_set0(sig, r, s)) {
        r = s = NULL;   /* owned by sig now */
        len = i2d_ECDSA_SIG(sig, der);
    }
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(sig);
    return len > 0 ? len : 0;
}

const char *plaid_jws_verify(const plaid_jws *jws,
                             const plaid_webhook_key *key)
{
    EVP_PKEY *pkey;
    EVP_MD_CTX *md;
    unsigned char *der = NULL;
    int der_len, ok = 0;

    if (!jws->signing_input_len) {
        return "the JWS signature is not 64 bytes (R||S)";
    }
    if (!(pkey = public_key(key))) {
        return "the key is not a point on P-256";
    }
    der_len = der_signature(jws->signature, &der);
    md = EVP_MD_CTX_new();
    if (der_len && md
        && EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pkey) == 1) {
        ok = EVP_DigestVerify(md, der, (size_t)der_len,
                              (const unsigned char *)jws->signing_input,
                              jws->signing_input_len) == 1;
    }
    EVP_MD_CTX_free(md);
    OPENSSL_free(der);
    EVP_PKEY_free(pkey);
    return ok ? NULL : "the JWS signature does not verify with Plaid's key";
}

const char *plaid_jws_check_age(const plaid_jws *jws, long long now,
                                long max_age_s)
{
    if (jws->iat < 0) {
        return "the JWS payload has no iat";
    }
    if (jws->iat > now + PLAID_WEBHOOK_SKEW_S) {
        return "the JWS iat is in the future";
    }
    if (now - jws->iat > max_age_s) {
        return "the JWS iat is older than PlaidWebhookMaxAge";
    }
    return NULL;
}

void plaid_sha256_hex(const void *data, apr_size_t len, char hex[65])
{
    unsigned char md[SHA256_DIGEST_LENGTH];

    SHA256(data, len, md);
    plaid_hex(hex, md, sizeof(md));
}

const char *plaid_jws_check_body(const plaid_jws *jws, const char *body,
                                 apr_size_t len)
{
    char hex[65];

    if (!jws->body_sha256 || strlen(jws->body_sha256) != 64) {
        return "the JWS payload has no request_body_sha256 of 64 hex digits";
    }
    plaid_sha256_hex(body, len, hex);
    if (CRYPTO_memcmp(hex, jws->body_sha256, 64) != 0) {
        return "the body's SHA-256 is not the JWS's request_body_sha256";
    }
    return NULL;
}
