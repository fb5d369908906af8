/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Plaid-Verification header: a compact JWS (RFC 7515) over
 *
 *     header  {"alg":"ES256","kid":"<kid>","typ":"JWT"}
 *     payload {"iat":<unix seconds>,"request_body_sha256":"<hex>"}
 *
 * signed with ECDSA P-256 and SHA-256, the signature being R||S, 32 bytes
 * each (RFC 7518 3.4), not DER. Plaid signs each webhook so; the emulator
 * does too, and can sign wrongly in each way a verifier must refuse
 * (emu_jws's fields, steered by /webhook/sign).
 */
#include <string.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "apr_strings.h"

#include "emu.h"

#define COORD_BYTES 32

void emu_jws_good(emu_jws *jws)
{
    memset(jws, 0, sizeof(*jws));
    jws->alg = "ES256";
    jws->sig = EMU_SIG_RAW;
    jws->parts = 3;
    jws->key = emu_key_by_role(EMU_KEY_CURRENT);
    jws->kid = jws->key ? jws->key->kid : NULL;
    jws->iat = apr_time_sec(apr_time_now());
}

static char *hex(apr_pool_t *p, const unsigned char *data, apr_size_t len)
{
    char *out = apr_palloc(p, 2 * len + 1);
    apr_size_t i;

    for (i = 0; i < len; i++) {
        apr_snprintf(out + 2 * i, 3, "%02x", data[i]);
    }
    return out;
}

/* base64url of the compact JSON of doc (a new reference, released). */
static char *encode_json(apr_pool_t *p, json_t *doc)
{
    apr_size_t len;
    char *text;

    if (!doc) {
        return NULL;
    }
    text = emu_json_text(p, doc, &len);
    json_decref(doc);
    return emu_base64url(p, (const unsigned char *)text, len);
}

/* DER ECDSA-Sig-Value to R||S; 0 when it is not one. */
static int der_to_raw(const unsigned char *der, size_t len,
                      unsigned char *raw)
{
    ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &der, (long)len);
    const BIGNUM *r, *s;
    int ok;

    if (!sig) {
        return 0;
    }
    ECDSA_SIG_get0(sig, &r, &s);
    ok = BN_bn2binpad(r, raw, COORD_BYTES) == COORD_BYTES
         && BN_bn2binpad(s, raw + COORD_BYTES, COORD_BYTES) == COORD_BYTES;
    ECDSA_SIG_free(sig);
    return ok;
}

/* ECDSA over input with the key and md: DER into *der. */
static int ecdsa(apr_pool_t *p, const emu_key *key, const EVP_MD *md,
                 const char *input, unsigned char **der, size_t *len)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok;

    ok = ctx && EVP_DigestSignInit(ctx, NULL, md, NULL, key->pkey) == 1
         && EVP_DigestSign(ctx, NULL, len, (const unsigned char *)input,
                           strlen(input)) == 1
         && (*der = apr_palloc(p, *len)) != NULL
         && EVP_DigestSign(ctx, *der, len, (const unsigned char *)input,
                           strlen(input)) == 1;
    EVP_MD_CTX_free(ctx);
    return ok;
}

/* The signature part of the token (base64url), "" for alg none. */
static const char *signature(apr_pool_t *p, const emu_jws *jws,
                             const char *input)
{
    unsigned char raw[2 * COORD_BYTES + 1], mac[EVP_MAX_MD_SIZE], *der;
    unsigned int mac_len = 0;
    size_t der_len = 0;
    apr_size_t len = 2 * COORD_BYTES;

    if (strcmp(jws->alg, "none") == 0) {
        return "";
    }
    if (strcmp(jws->alg, "HS256") == 0) {
        /* The classic confusion: the public key's bytes as an HMAC
         * secret, here the uncompressed point 0x04||x||y. */
        if (!HMAC(EVP_sha256(), jws->key->point, sizeof(jws->key->point),
                  (const unsigned char *)input, strlen(input), mac,
                  &mac_len)) {
            return NULL;
        }
        return emu_base64url(p, mac, mac_len);
    }
    if (!ecdsa(p, jws->key, strcmp(jws->alg, "ES384") == 0 ? EVP_sha384()
                                                           : EVP_sha256(),
               input, &der, &der_len)) {
        return NULL;
    }
    if (jws->sig == EMU_SIG_DER) {
        return emu_base64url(p, der, der_len);
    }
    if (!der_to_raw(der, der_len, raw)) {
        return NULL;
    }
    if (jws->sig == EMU_SIG_SHORT) {
        len--;
    }
    else if (jws->sig == EMU_SIG_LONG) {
        raw[len++] = 0;
    }
    return emu_base64url(p, raw, len);
}

const char *emu_jws_sign(apr_pool_t *p, const emu_jws *jws, const char *body,
                         apr_size_t len)
{
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int digest_len = 0;
    const char *sha = jws->body_sha256, *header, *payload, *input, *sig;
    json_t *h;

    if (!jws->key) {
        return NULL;
    }
    if (!sha) {
        if (!EVP_Digest(body, len, digest, &digest_len, EVP_sha256(), NULL)) {
            return NULL;
        }
        sha = hex(p, digest, digest_len);
    }
    h = jws->kid ? json_pack("{s:s, s:s, s:s}", "alg", jws->alg,
                             "kid", jws->kid, "typ", "JWT")
                 : json_pack("{s:s, s:s}", "alg", jws->alg, "typ", "JWT");
    header = encode_json(p, h);
    payload = encode_json(p, json_pack("{s:I, s:s}",
                                       "iat", (json_int_t)jws->iat,
                                       "request_body_sha256", sha));
    if (!header || !payload) {
        return NULL;
    }
    input = apr_pstrcat(p, header, ".", payload, NULL);
    if (jws->parts == 2) {
        return input;
    }
    if (!(sig = signature(p, jws, input))) {
        return NULL;
    }
    if (jws->parts == 4) {   /* a whole token, its signature once more */
        return apr_pstrcat(p, input, ".", sig, ".", sig, NULL);
    }
    return apr_pstrcat(p, input, ".", sig, NULL);
}
