/* SPDX-License-Identifier: Apache-2.0 */
/*
 * AES-256-GCM sealing of access_tokens (include/plaid_seal.h).
 */
#include <string.h>

#include <apr_base64.h>
#include <apr_lib.h>
#include <apr_strings.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "plaid_seal.h"

#define NONCE 12
#define TAG   16
#define PREFIX "v1."

static int hex_value(int c)
{
    return c >= '0' && c <= '9' ? c - '0'
         : c >= 'a' && c <= 'f' ? c - 'a' + 10
         : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

const char *plaid_seal_key_parse(const char *text, plaid_seal_key *key)
{
    unsigned char digest[SHA256_DIGEST_LENGTH];
    apr_size_t n = 0;
    const char *s = text;
    int hi, lo;

    while (apr_isspace(*s)) {
        s++;
    }
    for (; n < PLAID_SEAL_KEY_BYTES; n++, s += 2) {
        if ((hi = hex_value(s[0])) < 0 || (lo = hex_value(s[1])) < 0) {
            OPENSSL_cleanse(key->bytes, sizeof(key->bytes));
            return "the key is not 64 hex digits (make one with "
                   "openssl rand -hex 32)";
        }
        key->bytes[n] = (unsigned char)(hi << 4 | lo);
    }
    while (apr_isspace(*s)) {
        s++;
    }
    if (*s) {
        OPENSSL_cleanse(key->bytes, sizeof(key->bytes));
        return "the key is longer than 64 hex digits (make one with "
               "openssl rand -hex 32)";
    }
    SHA256(key->bytes, sizeof(key->bytes), digest);
    plaid_hex(key->id, digest, 4);
    return NULL;
}

/* "v1\0environment\0item_id\0client_user_id": none of them holds a NUL,
 * so no two bindings give the same bytes. */
static const char *aad_of(apr_pool_t *p, const plaid_seal_binding *b,
                          apr_size_t *len)
{
    apr_size_t e = strlen(b->environment), i = strlen(b->item_id),
               u = strlen(b->client_user_id);
    char *aad = apr_palloc(p, 3 + e + 1 + i + 1 + u);

    memcpy(aad, "v1", 3);
    memcpy(aad + 3, b->environment, e + 1);
    memcpy(aad + 3 + e + 1, b->item_id, i + 1);
    memcpy(aad + 3 + e + 1 + i + 1, b->client_user_id, u);
    *len = 3 + e + 1 + i + 1 + u;
    return aad;
}

static int bound(const plaid_seal_binding *b)
{
    return b->environment && *b->environment && b->item_id && *b->item_id
        && b->client_user_id && *b->client_user_id;
}

/* One GCM pass: encrypt (enc 1) or decrypt (enc 0, tag checked) in into
 * out. 1 when it went through. */
static int gcm(int enc, const plaid_seal_key *key, const unsigned char *nonce,
               const char *aad, apr_size_t aad_len, const unsigned char *in,
               int in_len, unsigned char *out, unsigned char *tag)
{
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int len = 0, fin = 0, ok;

    ok = ctx
        && EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL, enc)
        && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, NONCE, NULL)
        && EVP_CipherInit_ex(ctx, NULL, NULL, key->bytes, nonce, enc)
        && EVP_CipherUpdate(ctx, NULL, &len, (const unsigned char *)aad,
                            (int)aad_len)
        && EVP_CipherUpdate(ctx, out, &len, in, in_len)
        && (enc || EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TAG, tag))
        && EVP_CipherFinal_ex(ctx, out + len, &fin) == 1
        && (!enc || EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG, tag));
    EVP_CIPHER_CTX_free(ctx);
    return ok;
}

const char *plaid_seal(apr_pool_t *p, const plaid_seal_key *key,
                       const plaid_seal_binding *b, const char *plain,
                       const char **sealed)
{
    apr_size_t n = plain ? strlen(plain) : 0, aad_len;
    unsigned char *raw;
    const char *aad;
    char *text;

    *sealed = NULL;
    if (!bound(b)) {
        return "the Item has no environment, item_id or client_user_id";
    }
    if (n == 0 || n > PLAID_SEAL_PLAIN_MAX) {
        return "the access_token is empty or longer than 512 bytes";
    }
    raw = apr_palloc(p, NONCE + n + TAG);
    if (RAND_bytes(raw, NONCE) != 1) {
        return "OpenSSL gave no random nonce";
    }
    aad = aad_of(p, b, &aad_len);
    if (!gcm(1, key, raw, aad, aad_len, (const unsigned char *)plain,
             (int)n, raw + NONCE, raw + NONCE + n)) {
        return "OpenSSL could not seal with AES-256-GCM";
    }
    text = apr_palloc(p, apr_base64_encode_len((int)(NONCE + n + TAG)));
    apr_base64_encode_binary(text, raw, (int)(NONCE + n + TAG));
    *sealed = apr_pstrcat(p, PREFIX, key->id, ".", text, NULL);
    return NULL;
}

/* The key whose id the sealed text names, or NULL. */
static const plaid_seal_key *key_named(const plaid_seal_key *const *keys,
                                       int n, const char *id)
{
    int i;

    for (i = 0; i < n; i++) {
        if (keys[i] && strncmp(keys[i]->id, id, 8) == 0) {
            return keys[i];
        }
    }
    return NULL;
}

const char *plaid_unseal(apr_pool_t *p, const plaid_seal_key *const *keys,
                         int n, const plaid_seal_binding *b,
                         const char *sealed, const char **plain,
                         const plaid_seal_key **used)
{
    const plaid_seal_key *key;
    const char *body, *aad;
    unsigned char *raw, *out;
    apr_size_t len, aad_len;
    int raw_len;

    *plain = NULL;
    if (!bound(b)) {
        return "the Item has no environment, item_id or client_user_id";
    }
    len = sealed ? strlen(sealed) : 0;
    if (len < sizeof(PREFIX) + 9 || strncmp(sealed, PREFIX,
                                            sizeof(PREFIX) - 1) != 0
        || sealed[sizeof(PREFIX) - 1 + 8] != '.') {
        return "the sealed token is not v1.<key id>.<data>";
    }
    if (!(key = key_named(keys, n, sealed + sizeof(PREFIX) - 1))) {
        return "no PlaidItemKey has the key id it was sealed with";
    }
    body = sealed + sizeof(PREFIX) + 8;
    raw = apr_palloc(p, apr_base64_decode_len(body));
    raw_len = apr_base64_decode_binary(raw, body);
    if (raw_len < NONCE + TAG + 1
        || raw_len > NONCE + TAG + PLAID_SEAL_PLAIN_MAX) {
        return "the sealed token has the wrong length";
    }
    out = apr_palloc(p, (apr_size_t)raw_len - NONCE - TAG + 1);
    aad = aad_of(p, b, &aad_len);
    if (!gcm(0, key, raw, aad, aad_len, raw + NONCE, raw_len - NONCE - TAG,
             out, raw + raw_len - TAG)) {
        return "it does not open: tampered, or sealed for another Item, "
               "user or environment";
    }
    out[raw_len - NONCE - TAG] = '\0';
    if (strlen((const char *)out) != (apr_size_t)(raw_len - NONCE - TAG)) {
        return "the opened token holds a NUL";
    }
    *plain = (const char *)out;
    if (used) {
        *used = key;
    }
    return NULL;
}
