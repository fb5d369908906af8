/*
 * POST /sandbox/public_token/create: how Plaid's sandbox hands a test a
 * public_token without Link. SandboxPublicTokenCreateRequest in,
 * SandboxPublicTokenCreateResponse ({"public_token","request_id"}) out. The
 * public_token carries the emulator's HMAC and its time of issue
 * (tokens.c), so /item/public_token/exchange, in any child, takes it for
 * thirty minutes, once. The Item's webhook (options.webhook) is recorded
 * for the token (state.c); the exchange hands it on to the access_token,
 * for /sandbox/item/fire_webhook.
 */
#include <string.h>

#include "apr_strings.h"

#include "emu.h"

/* Every property of SandboxPublicTokenCreateRequest in the spec. Objects
 * behind a $ref are checked for being objects only; user_token (UserToken)
 * and user_id (NewUserID) are strings. */
static const emu_property sandbox_public_token_create_request[] = {
    { "client_id",        K_STRING,   0,                           NULL },
    { "secret",           K_STRING,   0,                           NULL },
    { "institution_id",   K_STRING,   EMU_REQUIRED,                NULL },
    { "initial_products", K_PRODUCTS, EMU_REQUIRED | EMU_NONEMPTY, NULL },
    { "options",          K_OBJECT,   0,                           NULL },
    { "user_token",       K_STRING,   0,                           NULL },
    { "user_id",          K_STRING,   0,                           NULL },
    { NULL, 0, 0, NULL }
};

const char *emu_public_token_body(emu_call *c, int with_token,
                                  const char *padding)
{
    const char *token = with_token
        ? emu_token_issue(c->r, "public", c->env, NULL) : NULL;

    return apr_pstrcat(c->r->pool, "{",
                       token ? "\"public_token\":\"" : "", token ? token : "",
                       token ? "\"," : "",
                       "\"request_id\":\"", c->request_id, "\"",
                       padding ? ",\"padding\":\"" : "",
                       padding ? padding : "", padding ? "\"" : "", "}",
                       NULL);
}

/* The record the exchange hands on to the Item's access_token. */
static apr_status_t remember_webhook(emu_call *c, const char *token,
                                     const char *webhook)
{
    char id[EMU_TOKEN_ID_LEN + 1];
    const char *why, *text;
    json_t *record;
    apr_size_t len;

    if (emu_token_check(c->r->pool, token, "public", c->env,
                        EMU_PUBLIC_TOKEN_TTL, id, &why) != EMU_TOKEN_GOOD
        || !(record = json_pack("{s:s}", "webhook", webhook))) {
        return APR_EGENERAL;
    }
    text = emu_json_text(c->r->pool, record, &len);
    json_decref(record);
    return emu_state_put(c->r, id, "public", text);
}

static int create_public_token(emu_call *c, json_t *body)
{
    json_t *webhook = json_object_get(json_object_get(body, "options"),
                                      "webhook");
    const char *token;
    emu_error e;

    /* SandboxPublicTokenCreateRequestOptions.webhook is a string. */
    if (webhook && !json_is_null(webhook) && !json_is_string(webhook)) {
        emu_request_error(&e, "INVALID_FIELD",
                          "options.webhook must be a string");
        return emu_answer_error(c, &e);
    }
    if (!(token = emu_token_issue(c->r, "public", c->env, NULL))) {
        return emu_answer_internal(c, "no public_token could be issued");
    }
    if (json_is_string(webhook)
        && remember_webhook(c, token, json_string_value(webhook))
           != APR_SUCCESS) {
        return emu_answer_internal(c, "cannot record the Item's webhook "
                                   "(see PlaidEmulatorStateDir)");
    }
    return emu_answer_json(c, apr_pstrcat(c->r->pool,
                           "{\"public_token\":\"", token, "\","
                           "\"request_id\":\"", c->request_id, "\"}", NULL));
}

const emu_endpoint emu_sandbox_public_token_create = {
    "/sandbox/public_token/create",
    sandbox_public_token_create_request,
    1,                      /* credentials */
    0,                      /* not called by a browser */
    create_public_token,
    emu_public_token_body,
    NULL                    /* options: checked for being an object */
};
