/* SPDX-License-Identifier: Apache-2.0 */
/*
 * POST /webhook/sign: emulator only, no Plaid endpoint. A test's way to a
 * Plaid-Verification header for a body of its choosing, signed as Plaid
 * signs or in one of the ways a verifier must refuse, so that it can POST
 * a genuine or a forged webhook straight to the module:
 *
 *     {"body": "<the raw webhook body>", "mode": "good"}
 *     -> {"jwt": "<compact JWS>", "kid": "<its header's kid>", "request_id"}
 *
 * "mode" is one mode or an array of them, applied in order to what Plaid
 * does (the modes are listed below and in emulator/README.md). No
 * credentials, as Plaid's own test tools take none; but only a client on
 * the loopback gets an answer: whoever can ask can forge a webhook that
 * verifies against this emulator's keys.
 */
#include <string.h>

#include "apr_strings.h"

#include "emu.h"

#define SKEW_S (10 * 60)   /* old and future: ten minutes off */

/* No schema in the spec: t/spec_tables.t checks only tables whose name
 * ends in _request. */
static const emu_property webhook_sign_properties[] = {
    { "body", K_STRING,  EMU_REQUIRED, NULL },
    { "mode", K_STRINGS, 0,            NULL },
    { NULL, 0, 0, NULL }
};

typedef enum {
    M_GOOD, M_TWO_PARTS, M_FOUR_PARTS, M_ALG_NONE, M_HS256, M_ES384, M_DER,
    M_SIG63, M_SIG65, M_OTHER_KID, M_UNKNOWN_KID, M_KID, M_NO_KID, M_EXPIRED,
    M_NEW_KEY, M_OLD, M_FUTURE, M_IAT, M_BODY_SHA
} mode_id;

/* A name ending in '=' takes a value: kid=abc. */
static const struct {
    const char *name;
    mode_id id;
} modes[] = {
    { "good",        M_GOOD },
    { "two-parts",   M_TWO_PARTS },
    { "four-parts",  M_FOUR_PARTS },
    { "alg-none",    M_ALG_NONE },
    { "hs256",       M_HS256 },
    { "es384",       M_ES384 },
    { "der",         M_DER },
    { "sig63",       M_SIG63 },
    { "sig65",       M_SIG65 },
    { "other-kid",   M_OTHER_KID },
    { "unknown-kid", M_UNKNOWN_KID },
    { "kid=",        M_KID },
    { "no-kid",      M_NO_KID },
    { "expired",     M_EXPIRED },
    { "new-key",     M_NEW_KEY },
    { "old",         M_OLD },
    { "future",      M_FUTURE },
    { "iat=",        M_IAT },
    { "body-sha=",   M_BODY_SHA },
    { NULL,          M_GOOD }
};

#define MODES_EXPECTED                                                      \
    "good, two-parts, four-parts, alg-none, hs256, es384, der, sig63, "     \
    "sig65, other-kid, unknown-kid, kid=<kid>, no-kid, expired, new-key, "  \
    "old, future, iat=<unix seconds>, body-sha=<hex>"

/* A kid no key has: a fresh version 4 uuid, the form of Plaid's. */
static const char *unknown_kid(apr_pool_t *p)
{
    unsigned char u[16];

    if (apr_generate_random_bytes(u, sizeof(u)) != APR_SUCCESS) {
        return "00000000-0000-4000-8000-000000000000";
    }
    u[6] = (u[6] & 0x0f) | 0x40;
    u[8] = (u[8] & 0x3f) | 0x80;
    return apr_psprintf(p, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
                        "%02x%02x%02x%02x%02x%02x", u[0], u[1], u[2], u[3],
                        u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11],
                        u[12], u[13], u[14], u[15]);
}

static int find_mode(const char *mode, const char **value)
{
    apr_size_t n;
    int i;

    for (i = 0; modes[i].name; i++) {
        n = strlen(modes[i].name);
        if (modes[i].name[n - 1] == '='
            ? strncmp(mode, modes[i].name, n) == 0
            : strcmp(mode, modes[i].name) == 0) {
            *value = mode + n;
            return i;
        }
    }
    return -1;
}

/* NULL when mode was applied to jws, else why not. */
static const char *apply_mode(apr_pool_t *p, emu_jws *jws, const char *mode)
{
    apr_int64_t now = apr_time_sec(apr_time_now());
    const char *value = NULL;
    char *end;
    int i = find_mode(mode, &value);

    if (i < 0) {
        return apr_pstrcat(p, "mode is not one of " MODES_EXPECTED ": ",
                           mode, NULL);
    }
    switch (modes[i].id) {
    case M_GOOD:        break;
    case M_TWO_PARTS:   jws->parts = 2; break;
    case M_FOUR_PARTS:  jws->parts = 4; break;
    case M_ALG_NONE:    jws->alg = "none"; break;
    case M_HS256:       jws->alg = "HS256"; break;
    case M_ES384:       jws->alg = "ES384"; break;
    case M_DER:         jws->sig = EMU_SIG_DER; break;
    case M_SIG63:       jws->sig = EMU_SIG_SHORT; break;
    case M_SIG65:       jws->sig = EMU_SIG_LONG; break;
    case M_OTHER_KID:   jws->kid = emu_key_by_role(EMU_KEY_OTHER)->kid; break;
    case M_UNKNOWN_KID: jws->kid = unknown_kid(p); break;
    case M_KID:         jws->kid = value; break;
    case M_NO_KID:      jws->kid = NULL; break;
    case M_EXPIRED:
        jws->key = emu_key_by_role(EMU_KEY_EXPIRED);
        jws->kid = jws->key->kid;
        break;
    case M_NEW_KEY:
        if (!(jws->key = emu_key_issue(p))) {
            return "mode new-key: no key could be made";
        }
        jws->kid = jws->key->kid;
        break;
    case M_OLD:         jws->iat = now - SKEW_S; break;
    case M_FUTURE:      jws->iat = now + SKEW_S; break;
    case M_IAT:
        jws->iat = apr_strtoi64(value, &end, 10);
        if (!*value || *end) {
            return apr_pstrcat(p, "mode iat= needs unix seconds: ", mode,
                               NULL);
        }
        break;
    case M_BODY_SHA:    jws->body_sha256 = value; break;
    }
    return NULL;
}

static const char *apply_modes(apr_pool_t *p, emu_jws *jws, json_t *mode)
{
    const char *why = NULL;
    json_t *item;
    size_t i;

    if (json_is_string(mode)) {
        return apply_mode(p, jws, json_string_value(mode));
    }
    json_array_foreach(mode, i, item) {
        if ((why = apply_mode(p, jws, json_string_value(item))) != NULL) {
            break;
        }
    }
    return why;
}

static const char *sign_body(emu_call *c, const emu_jws *jws,
                             const char *jwt, const char *padding)
{
    json_t *doc = json_object();

    if (jwt) {
        json_object_set_new(doc, "jwt", json_string(jwt));
    }
    json_object_set_new(doc, "kid", jws->kid ? json_string(jws->kid)
                                             : json_null());
    return emu_json_end(c, doc, padding);
}

/* body= faults: a good token for an empty body. */
static const char *sample(emu_call *c, int with_token, const char *padding)
{
    emu_jws jws;

    emu_jws_good(&jws);
    return sign_body(c, &jws, with_token ? emu_jws_sign(c->r->pool, &jws,
                                                        "", 0)
                                         : NULL, padding);
}

static int sign(emu_call *c, json_t *body)
{
    json_t *text = json_object_get(body, "body");
    const char *why, *jwt;
    emu_jws jws;
    emu_error e;

    if (!emu_loopback_host(c->r->connection->client_ip)) {
        emu_request_error(&e, "EMULATOR_NOT_LOOPBACK", "emulator: "
                          "/webhook/sign answers loopback clients only");
        e.status = HTTP_FORBIDDEN;
        return emu_answer_error(c, &e);
    }
    emu_jws_good(&jws);
    if (!jws.key) {
        return emu_answer_internal(c, "no webhook signing key");
    }
    why = apply_modes(c->r->pool, &jws, json_object_get(body, "mode"));
    if (why) {
        emu_request_error(&e, "INVALID_FIELD", why);
        return emu_answer_error(c, &e);
    }
    jwt = emu_jws_sign(c->r->pool, &jws, json_string_value(text),
                       json_string_length(text));
    if (!jwt) {
        return emu_answer_internal(c, "the token could not be signed");
    }
    return emu_answer_json(c, sign_body(c, &jws, jwt, NULL));
}

const emu_endpoint emu_webhook_sign = {
    "/webhook/sign",
    webhook_sign_properties,
    0,                      /* no credentials: a test tool */
    0,                      /* not called by a browser */
    sign,
    sample,
    NULL                    /* no options */
};
