/* SPDX-License-Identifier: Apache-2.0 */
/*
 * POST /webhook_verification_key/get: WebhookVerificationKeyGetRequest in,
 * WebhookVerificationKeyGetResponse ({"key": JWKPublicKey, "request_id"})
 * out, for the kid of any of the emulator's keys (keys.c): the current
 * one, the other valid one, the expired one, whose expired_at is set,
 * and each one /webhook/sign's new-key mode issued.
 * Any other key_id is Plaid's 400 INVALID_INPUT/
 * INVALID_WEBHOOK_VERIFICATION_KEY_ID.
 *
 * Each request that gets this far is one info line, found or not, so that
 * a test can count how often a verifier asked (a flood of made-up kids
 * must not become a flood of key requests):
 *
 *     plaid_emulator: /webhook_verification_key/get key_id=<kid> found
 */
#include "emu.h"

/* Every property of WebhookVerificationKeyGetRequest in the spec. */
static const emu_property webhook_verification_key_get_request[] = {
    { "client_id", K_STRING, 0,            NULL },
    { "secret",    K_STRING, 0,            NULL },
    { "key_id",    K_STRING, EMU_REQUIRED, NULL },
    { NULL, 0, 0, NULL }
};

/* {"key","request_id"}; without "key" when k is NULL. */
static const char *key_body_of(emu_call *c, const emu_key *k,
                               const char *padding)
{
    json_t *doc = json_object();

    if (k) {
        json_object_set_new(doc, "key", emu_key_jwk(c->r->pool, k));
    }
    return emu_json_end(c, doc, padding);
}

/* body= faults answer the current key, whatever key_id was asked for. */
static const char *key_body(emu_call *c, int with_token, const char *padding)
{
    return key_body_of(c, with_token ? emu_key_by_role(EMU_KEY_CURRENT)
                                     : NULL, padding);
}

static int get_key(emu_call *c, json_t *body)
{
    const char *kid = json_string_value(json_object_get(body, "key_id"));
    const emu_key *k = emu_key_by_kid(kid);
    emu_error e;

    if (!k) {
        k = emu_key_issued(c->r->pool, kid);   /* /webhook/sign's new-key */
    }

    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, c->r, "plaid_emulator: %s "
                  "key_id=%s %s", emu_log_name(c),
                  ap_escape_logitem(c->r->pool, kid), k ? "found" : "unknown");
    if (!k) {
        e.status = 400;
        e.error_type = "INVALID_INPUT";
        e.error_code = "INVALID_WEBHOOK_VERIFICATION_KEY_ID";
        e.error_message = "invalid key_id provided";
        return emu_answer_error(c, &e);
    }
    return emu_answer_json(c, key_body_of(c, k, NULL));
}

const emu_endpoint emu_webhook_verification_key_get = {
    "/webhook_verification_key/get",
    webhook_verification_key_get_request,
    1,                      /* credentials */
    0,                      /* not called by a browser */
    get_key,
    key_body,
    NULL                    /* no options */
};
