/* SPDX-License-Identifier: Apache-2.0 */
/*
 * POST /sandbox/public_token/create: how Plaid's sandbox hands a test a
 * public_token without Link. SandboxPublicTokenCreateRequest in,
 * SandboxPublicTokenCreateResponse ({"public_token","request_id"}) out. The
 * public_token carries the emulator's HMAC and its time of issue
 * (tokens.c), so /item/public_token/exchange, in any child, takes it for
 * thirty minutes, once. What the Item will be (institution_id,
 * initial_products, options.webhook) is recorded for the token (items.c);
 * the exchange makes the Item of it, for /accounts/get and the others.
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
                       emu_sample_end(c, padding), NULL);
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
    if (emu_item_prepare(c, token, body) != APR_SUCCESS) {
        return emu_answer_internal(c, "cannot record the Item "
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
