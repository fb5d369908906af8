/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mod_plaid_emulator: the part of Plaid's API that mod_plaid_link calls,
 * emulated inside httpd so that the module can be tested, demonstrated and
 * benchmarked without the internet.
 *
 * Each endpoint validates its request as Plaid's OpenAPI description
 * (2020-09-14) states the request schema, answers errors in the PlaidError
 * shape, and lets a test steer faults through the path in front of it:
 *
 *     POST /status=429/retry_after=3/link/token/create
 *
 * This file is the module record, its hooks and the dispatch by path
 * suffix; emu.h says what the other files hold. The contract is in
 * docs/design.md ("Emulator contract") and emulator/README.md.
 */
#include <string.h>

#include "http_protocol.h"
#include "http_request.h"

#include "apr_strings.h"

#include "emu.h"

static const emu_endpoint *const endpoints[] = {
    &emu_link_token_create,
    &emu_item_public_token_exchange,
    &emu_sandbox_public_token_create,
    &emu_link_complete,
    &emu_webhook_verification_key_get,
    &emu_sandbox_item_fire_webhook,
    &emu_webhook_sign,
    &emu_accounts_get,
    &emu_accounts_balance_get,
    &emu_item_remove,
    &emu_sandbox_item_reset_login,
    &emu_item_get,
    &emu_transactions_sync,
    &emu_institutions_get_by_id,
    NULL
};

static const emu_endpoint *find_endpoint(const char *uri)
{
    const emu_endpoint *const *ep;
    apr_size_t n = strlen(uri), m;

    for (ep = endpoints; *ep; ep++) {
        m = strlen((*ep)->path);
        if (n >= m && strcmp(uri + n - m, (*ep)->path) == 0) {
            return *ep;
        }
    }
    return NULL;
}

/* A Plaid path the emulator has no endpoint for: said as such, so that a
 * test against it fails with a reason rather than a bare 404. */
static int answer_not_emulated(emu_call *c)
{
    emu_error e;

    emu_default_error(HTTP_NOT_FOUND, &e);
    /* Escaped: the path is the client's, and json_pack wants UTF-8. */
    e.error_message = apr_pstrcat(c->r->pool, "not emulated: ",
                                  ap_escape_logitem(c->r->pool, c->r->uri),
                                  " is no endpoint of mod_plaid_emulator "
                                  "(see its README.md for those it has)",
                                  NULL);
    return emu_answer_error(c, &e);
}

/* A page's fetch() with Content-Type: application/json asks first. */
static int answer_preflight(emu_call *c)
{
    apr_table_t *h = c->r->headers_out;

    apr_table_setn(h, "Access-Control-Allow-Methods", "POST");
    apr_table_setn(h, "Access-Control-Allow-Headers", "Content-Type");
    apr_table_setn(h, "Access-Control-Max-Age", "600");
    c->r->status = HTTP_NO_CONTENT;
    return OK;
}

/* Method, body, schema, then the endpoint's own answer. */
static int serve(emu_call *c, const char *buf, apr_size_t len)
{
    request_rec *r = c->r;
    emu_error e;
    json_t *body;
    int rc;

    if (c->endpoint->browser && r->method_number == M_OPTIONS) {
        return answer_preflight(c);
    }
    if (r->method_number != M_POST) {
        apr_table_setn(r->headers_out, "Allow", c->endpoint->browser
                                                ? "POST, OPTIONS" : "POST");
        emu_request_error(&e, "METHOD_NOT_ALLOWED", "only POST is supported");
        e.status = HTTP_METHOD_NOT_ALLOWED;
        return emu_answer_error(c, &e);
    }
    if (!(body = emu_parse_body(c, buf, len, &e))) {
        return emu_answer_error(c, &e);
    }
    if (emu_validate(c, body, &e)) {
        json_decref(body);
        return emu_answer_error(c, &e);
    }
    emu_log_accepted(c, body);
    rc = c->endpoint->handle(c, body);
    json_decref(body);
    return rc;
}

static int emulator_handler(request_rec *r)
{
    emu_call call;
    char *buf;
    apr_size_t len;
    int rc;

    if (!r->handler || strcmp(r->handler, EMU_HANDLER) != 0) {
        return DECLINED;
    }
    call.r = r;
    call.conf = ap_get_module_config(r->per_dir_config,
                                     &plaid_emulator_module);
    call.env = call.conf->env ? call.conf->env : "sandbox";
    call.request_id = emu_request_id(r);
    call.endpoint = find_endpoint(r->uri);
    if (!call.endpoint) {
        return answer_not_emulated(&call);
    }

    if (call.endpoint->browser) {
        apr_table_setn(r->headers_out, "Access-Control-Allow-Origin", "*");
    }
    /* Read first even when a fault follows: closing a socket with unread
     * input makes the kernel send a reset, which would hide a truncated
     * body from the client. */
    if ((rc = emu_read_body(r, &buf, &len)) != OK) {
        return emu_answer_body_error(&call, rc);
    }
    if ((rc = emu_apply_faults(&call)) != DECLINED) {
        return rc;
    }
    return serve(&call, buf, len);
}

static int emulator_post_config(apr_pool_t *pconf, apr_pool_t *plog,
                                apr_pool_t *ptemp, server_rec *s)
{
    int rc;

    (void)plog;
    (void)ptemp;
    if ((rc = emu_state_init(pconf, s)) != OK) {
        return rc;
    }
    emu_fire_webhook_init();
    return emu_keys_init(pconf, s);
}

static void register_hooks(apr_pool_t *p)
{
    (void)p;
    ap_hook_post_config(emulator_post_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_handler(emulator_handler, NULL, NULL, APR_HOOK_MIDDLE);
}

/* Not AP_DECLARE_MODULE: emu.h already says APLOG_USE_MODULE for every
 * file of the emulator, this one included. */
module AP_MODULE_DECLARE_DATA plaid_emulator_module = {
    STANDARD20_MODULE_STUFF,
    emu_create_dir_config,      /* credentials and environment */
    emu_merge_dir_config,
    emu_create_server_config,   /* PlaidEmulatorStateDir */
    NULL,                       /* main server only: nothing to merge */
    emu_cmds,
    register_hooks,
    AP_MODULE_FLAG_NONE
};
