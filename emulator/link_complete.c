/* SPDX-License-Identifier: Apache-2.0 */
/*
 * POST /link/complete: emulator only, no Plaid endpoint. It stands for what
 * Plaid Link does in the browser between open() and onSuccess: the page's
 * Link SDK talks to Plaid with nothing but the link_token, and the user
 * ends up with a public_token. Here a test (or a stand-in for the SDK in
 * the browser test) sends {"link_token": "..."} for a link_token this
 * emulator issued for its environment less than four hours ago, and gets
 * {"public_token","request_id"}, the public_token that onSuccess would
 * hand the page. No credentials, as the browser has none; CORS allows
 * any origin, as Plaid's does for Link.
 *
 * A link_token made in update mode (with an access_token) stands for the
 * user signing in to the bank again: its Item's ITEM_LOGIN_REQUIRED
 * (/sandbox/item/reset_login) is repaired, in every child, and the info
 * line names the Item:
 *
 *     plaid_emulator: /link/complete repaired item_id=<item_id>
 */
#include <string.h>

#include "apr_strings.h"

#include "emu.h"

/* No schema in the spec: t/spec_tables.t checks only tables whose name
 * ends in _request. */
static const emu_property link_complete_properties[] = {
    { "link_token", K_STRING, EMU_REQUIRED, NULL },
    { NULL, 0, 0, NULL }
};

static int complete_link(emu_call *c, json_t *body)
{
    const char *token = json_string_value(json_object_get(body,
                                                          "link_token"));
    char id[EMU_TOKEN_ID_LEN + 1];
    const char *why, *text, *repaired;
    emu_token_state state;
    emu_error e;

    state = emu_token_check(c->r->pool, token, "link", c->env,
                            EMU_LINK_TOKEN_TTL, id, &why);
    if (state != EMU_TOKEN_GOOD) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, c->r, "plaid_emulator: "
                      "%s refused link_token: %s", emu_log_name(c), why);
        e.status = 400;
        e.error_type = "INVALID_INPUT";
        e.error_code = "INVALID_LINK_TOKEN";
        e.error_message = state == EMU_TOKEN_MALFORMED
            ? "provided link token is in an invalid format. expected "
              "format: link-<environment>-<identifier>"
            : "invalid link_token provided";
        return emu_answer_error(c, &e);
    }
    if ((repaired = emu_item_repair(c, id))) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, c->r, "plaid_emulator: %s "
                      "repaired item_id=%s", emu_log_name(c), repaired);
    }
    text = emu_public_token_body(c, 1, NULL);
    if (!strstr(text, "\"public_token\"")) {
        return emu_answer_internal(c, "no public_token could be issued");
    }
    return emu_answer_json(c, text);
}

const emu_endpoint emu_link_complete = {
    "/link/complete",
    link_complete_properties,
    0,                      /* no credentials: the browser has none */
    1,                      /* called by a page: CORS, OPTIONS */
    complete_link,
    emu_public_token_body,
    NULL                    /* no options */
};
