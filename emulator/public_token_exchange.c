/* SPDX-License-Identifier: Apache-2.0 */
/*
 * POST /item/public_token/exchange: ItemPublicTokenExchangeRequest in,
 * ItemPublicTokenExchangeResponse ({"access_token","item_id","request_id"})
 * out, for a public_token this emulator issued (/sandbox/public_token/create
 * or /link/complete) for its environment, less than thirty minutes ago, and
 * not exchanged before, whichever child issued it or saw it (state.c).
 *
 * Anything else is Plaid's 400 INVALID_INPUT/INVALID_PUBLIC_TOKEN: the
 * "invalid format" message for what is not public-<environment>-<id>,
 * and for the rest (another environment, unknown, expired, already
 * exchanged) the "expired" one, as Plaid does not tell these apart. The
 * info line "<path> refused public_token: <reason>" does, for the tests.
 *
 * The Item is recorded for the access_token (items.c), made of what
 * /sandbox/public_token/create recorded for the public_token, for
 * /accounts/get, /sandbox/item/fire_webhook and the others, until
 * /item/remove.
 *
 * The access_token goes into the answer and nowhere else: never a log line.
 */
#include <string.h>

#include "apr_strings.h"

#include "emu.h"

/* Every property of ItemPublicTokenExchangeRequest in the spec. */
static const emu_property item_public_token_exchange_request[] = {
    { "client_id",    K_STRING, 0,            NULL },
    { "secret",       K_STRING, 0,            NULL },
    { "public_token", K_STRING, EMU_REQUIRED, NULL },
    { NULL, 0, 0, NULL }
};

#define MALFORMED_MESSAGE                                                   \
    "provided public token is in an invalid format. expected format: "      \
    "public-<environment>-<identifier>"
#define EXPIRED_MESSAGE                                                     \
    "provided public token is expired. Public tokens expire 30 minutes "    \
    "after creation at which point they can no longer be exchanged"

static const char *exchange_body(emu_call *c, int with_token,
                                 const char *padding)
{
    const char *token = with_token
        ? emu_token_issue(c->r, "access", c->env, NULL) : NULL;

    return apr_pstrcat(c->r->pool, "{",
                       token ? "\"access_token\":\"" : "", token ? token : "",
                       token ? "\"," : "",
                       "\"item_id\":\"", emu_item_id(c->r), "\",",
                       emu_sample_end(c, padding), NULL);
}

static int refuse(emu_call *c, emu_token_state state, const char *why)
{
    emu_error e;

    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, c->r, "plaid_emulator: %s "
                  "refused public_token: %s", emu_log_name(c), why);
    e.status = 400;
    e.error_type = "INVALID_INPUT";
    e.error_code = "INVALID_PUBLIC_TOKEN";
    e.error_message = state == EMU_TOKEN_MALFORMED ? MALFORMED_MESSAGE
                                                   : EXPIRED_MESSAGE;
    return emu_answer_error(c, &e);
}

static int exchange_public_token(emu_call *c, json_t *body)
{
    const char *token = json_string_value(json_object_get(body,
                                                          "public_token"));
    char id[EMU_TOKEN_ID_LEN + 1];
    emu_token_state state;
    const char *why, *access_token, *item_id;
    apr_status_t rv;

    state = emu_token_check(c->r->pool, token, "public", c->env,
                            EMU_PUBLIC_TOKEN_TTL, id, &why);
    if (state != EMU_TOKEN_GOOD) {
        return refuse(c, state, why);
    }
    access_token = emu_token_issue(c->r, "access", c->env, NULL);
    if (!access_token) {
        return emu_answer_internal(c, "no access_token could be issued");
    }
    /* Last, so that a token is used up only by an answer that succeeds. */
    rv = emu_state_mark(c->r, id);
    if (rv == APR_EEXIST) {
        return refuse(c, EMU_TOKEN_EXPIRED, "already exchanged");
    }
    if (rv != APR_SUCCESS) {
        return emu_answer_internal(c, "cannot record the exchange (see "
                                   "PlaidEmulatorStateDir)");
    }
    if (emu_item_create(c, id, access_token, &item_id) != APR_SUCCESS) {
        return emu_answer_internal(c, "cannot record the Item "
                                   "(see PlaidEmulatorStateDir)");
    }
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, c->r, "plaid_emulator: %s "
                  "exchanged public_token for item_id=%s", emu_log_name(c),
                  item_id);
    return emu_answer_json(c, apr_pstrcat(c->r->pool,
                           "{\"access_token\":\"", access_token, "\","
                           "\"item_id\":\"", item_id, "\","
                           "\"request_id\":\"", c->request_id, "\"}", NULL));
}

const emu_endpoint emu_item_public_token_exchange = {
    "/item/public_token/exchange",
    item_public_token_exchange_request,
    1,                      /* credentials */
    0,                      /* not called by a browser */
    exchange_public_token,
    exchange_body,
    NULL                    /* no options */
};
