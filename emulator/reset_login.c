/* SPDX-License-Identifier: Apache-2.0 */
/*
 * POST /sandbox/item/reset_login: how Plaid's sandbox makes an Item need
 * its user's login again, to try the path an application takes for
 * ITEM_LOGIN_REQUIRED. SandboxItemResetLoginRequest in,
 * SandboxItemResetLoginResponse ({"reset_login": true, "request_id"})
 * out, for an access_token whose Item this emulator made (items.c).
 *
 * From then on, in every child, /accounts/balance/get (a real-time call to
 * the bank) answers Plaid's 400 ITEM_ERROR/ITEM_LOGIN_REQUIRED for that
 * Item, as an error_code=ITEM_LOGIN_REQUIRED fault does; /accounts/get
 * (Plaid's cached data) answers as before. Resetting again changes
 * nothing; the Item stays so until Link's update mode repairs it (a
 * link_token made with its access_token, completed by /link/complete) or
 * /item/remove. The info line names the Item, never the token:
 *
 *     plaid_emulator: /sandbox/item/reset_login reset item_id=<item_id>
 */
#include "apr_strings.h"

#include "emu.h"

/* Every property of SandboxItemResetLoginRequest in the spec. */
static const emu_property sandbox_item_reset_login_request[] = {
    { "client_id",    K_STRING, 0,            NULL },
    { "secret",       K_STRING, 0,            NULL },
    { "access_token", K_STRING, EMU_REQUIRED, NULL },
    { NULL, 0, 0, NULL }
};

/* notoken leaves out reset_login, what the endpoint exists to say. */
static const char *reset_body(emu_call *c, int with_flag, const char *padding)
{
    return apr_pstrcat(c->r->pool, "{",
                       with_flag ? "\"reset_login\":true," : "",
                       emu_sample_end(c, padding), NULL);
}

static int reset_login(emu_call *c, json_t *body)
{
    emu_item item;
    int rc;

    if (!emu_item_find(c, body, &item, &rc)
        || !emu_item_reset_login(c, &item, &rc)) {
        return rc;
    }
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, c->r, "plaid_emulator: %s "
                  "reset item_id=%s", emu_log_name(c), item.item_id);
    return emu_answer_json(c, reset_body(c, 1, NULL));
}

const emu_endpoint emu_sandbox_item_reset_login = {
    "/sandbox/item/reset_login",
    sandbox_item_reset_login_request,
    1,                      /* credentials */
    0,                      /* not called by a browser */
    reset_login,
    reset_body,
    NULL                    /* no options */
};
