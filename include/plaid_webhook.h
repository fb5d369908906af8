/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Plaid's webhooks (src/plaid_webhook.c): the Plaid-Verification header, a
 * compact JWS signed with ES256, checked step by step; the verification
 * key Plaid serves at /webhook_verification_key/get. Each step's failure
 * names the step, for the log; none quotes the token's signature.
 */
#ifndef PLAID_WEBHOOK_H
#define PLAID_WEBHOOK_H

#include "plaid.h"
#include "plaid_error.h"

#define PLAID_WEBHOOK_KEY_PATH "/webhook_verification_key/get"

/* The largest webhook body read: Plaid's are a few hundred bytes. */
#define PLAID_WEBHOOK_BODY_MAX  (64 * 1024)
/* The largest Plaid-Verification header looked at. */
#define PLAID_WEBHOOK_JWS_MAX   4096
/* PlaidWebhookMaxAge's default, as Plaid advises: 5 minutes. */
#define PLAID_WEBHOOK_MAX_AGE_S_DEFAULT 300
/* How far in the future an iat may be: clocks differ a little. */
#define PLAID_WEBHOOK_SKEW_S    30

/* The steps of the verification, in the order they are taken. */
typedef enum {
    PLAID_WH_STEP_FORMAT = 1,   /* present, three base64url parts */
    PLAID_WH_STEP_HEADER,       /* alg exactly ES256, a kid */
    PLAID_WH_STEP_KEY,          /* Plaid's key for the kid: EC P-256, live */
    PLAID_WH_STEP_SIGNATURE,    /* 64-byte R||S over header.payload */
    PLAID_WH_STEP_AGE,          /* iat within PlaidWebhookMaxAge */
    PLAID_WH_STEP_BODY,         /* SHA-256 of the raw body */
    PLAID_WH_STEP_REPLAY        /* the same token not seen before */
} plaid_webhook_step;

/* The step's name, for the log: "format", "header", ... */
const char *plaid_webhook_step_name(plaid_webhook_step step);

/* A Plaid-Verification header taken apart (steps 1 and 2), and its
 * payload's claims (read, not yet checked: steps 5 and 6 do). */
typedef struct {
    const char *signing_input;     /* header.payload, as sent */
    apr_size_t signing_input_len;
    unsigned char signature[64];   /* R||S */
    const char *kid;
    long long iat;                 /* -1 when absent */
    const char *body_sha256;       /* NULL when absent */
} plaid_jws;

/* Steps 1 and 2, and the payload read. NULL, or why not; *malformed is 1
 * when the request itself is broken (400) rather than refused (401). */
const char *plaid_jws_parse(apr_pool_t *p, const char *header_value,
                            plaid_jws *out, plaid_webhook_step *step,
                            int *malformed);

/* A verification key: the P-256 point, raw. */
typedef struct {
    unsigned char xy[64];          /* x || y, big-endian */
} plaid_webhook_key;

/* A JWKPublicKey (the "key" of Plaid's answer) for kid: EC, P-256, ES256
 * when alg is given, the same kid, x and y of 32 bytes, not expired. */
const char *plaid_webhook_key_read(apr_pool_t *p, const json_t *jwk,
                                   const char *kid, plaid_webhook_key *key);

/* The answer of /webhook_verification_key/get, as plaid_result_from hands
 * it over; on a bad key, res becomes PLAID_FAIL_UNUSABLE. */
void plaid_webhook_key_answer(apr_pool_t *p, const json_t *answer,
                              plaid_result *res, const char *kid,
                              plaid_webhook_key *key);

/* {"key_id": kid}, allocated from p. */
char *plaid_webhook_key_body(apr_pool_t *p, const char *kid,
                             apr_size_t *len);

/* Step 4: the signature over the signing input, with key. */
const char *plaid_jws_verify(const plaid_jws *jws,
                             const plaid_webhook_key *key);

/* Step 5: iat no older than max_age_s before now, and not ahead of it by
 * more than PLAID_WEBHOOK_SKEW_S. */
const char *plaid_jws_check_age(const plaid_jws *jws, long long now,
                                long max_age_s);

/* Step 6: the lowercase hex SHA-256 of the raw body equals the claim,
 * compared in constant time. */
const char *plaid_jws_check_body(const plaid_jws *jws, const char *body,
                                 apr_size_t len);

/* base64url (RFC 4648 section 5, no padding) into out (room for
 * 3 * len / 4 + 3 bytes); -1 when text is not base64url. */
long plaid_base64url_decode(const char *text, apr_size_t len,
                            unsigned char *out);

/* The lowercase hex SHA-256 of data into hex[65]. */
void plaid_sha256_hex(const void *data, apr_size_t len, char hex[65]);

#endif
