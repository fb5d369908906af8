/* SPDX-License-Identifier: Apache-2.0 */
/*
 * POST /link/token/create: LinkTokenCreateRequest in, LinkTokenCreateResponse
 * ({"link_token","expiration","request_id"}) out. The link_token carries the
 * emulator's HMAC (tokens.c), so /link/complete can tell it from a made-up
 * one. With an access_token (Link's update mode) the Item must be one this
 * emulator made (items.c), and the link_token is recorded as that Item's:
 * /link/complete with it repairs the Item's login, as the user signing in
 * again in Link does on Plaid.
 */
#include <string.h>

#include "apr_strings.h"

#include "emu.h"

#define REQ  EMU_REQUIRED
#define NUL  EMU_NULLABLE
#define NE   EMU_NONEMPTY
#define NOB  EMU_NO_BALANCE

/* Every property of LinkTokenCreateRequest in the spec, in its order; a
 * top-level field not listed here is UNKNOWN_FIELDS. Objects behind a $ref
 * are checked for being objects only. "user" is required unless "user_id"
 * is given (LinkTokenCreateRequestUser's description). */
static const emu_property link_token_create_request[] = {
    { "client_id",                           K_STRING, 0, NULL },
    { "secret",                              K_STRING, 0, NULL },
    { "client_name",                         K_STRING, REQ | NE, NULL },
    { "language",                            K_LANGUAGE, REQ | NE, NULL },
    { "country_codes",                       K_COUNTRY_CODES, REQ | NE, NULL },
    { "user",                                K_USER, REQ, "user_id" },
    { "user_id",                             K_STRING, 0, NULL },
    { "products",                            K_PRODUCTS, NUL | NOB, NULL },
    { "required_if_supported_products",      K_PRODUCTS, NUL, NULL },
    { "optional_products",                   K_PRODUCTS, NUL, NULL },
    { "additional_consented_products",       K_PRODUCTS, NUL | NOB, NULL },
    { "webhook",                             K_STRING, 0, NULL },
    { "access_token",                        K_STRING, NUL | NE, NULL },
    { "access_tokens",                       K_STRING_ARRAY, 0, NULL },
    { "link_customization_name",             K_STRING, 0, NULL },
    { "appearance_mode",                     K_APPEARANCE_MODE, NUL, NULL },
    { "redirect_uri",                        K_REDIRECT_URI, 0, NULL },
    { "android_package_name",                K_STRING, 0, NULL },
    { "institution_data",                    K_OBJECT, 0, NULL },
    { "card_switch",                         K_OBJECT, 0, NULL },
    { "account_filters",                     K_OBJECT, 0, NULL },
    { "eu_config",                           K_OBJECT, 0, NULL },
    { "institution_id",                      K_STRING, 0, NULL },
    { "payment_configuration",               K_OBJECT, 0, NULL },
    { "payment_initiation",                  K_OBJECT, 0, NULL },
    { "employment",                          K_OBJECT, 0, NULL },
    { "income_verification",                 K_OBJECT, 0, NULL },
    { "base_report",                         K_OBJECT, 0, NULL },
    { "credit_partner_insights",             K_OBJECT, 0, NULL },
    { "cra_options",                         K_OBJECT, 0, NULL },
    { "consumer_report_permissible_purpose", K_STRING, 0, NULL },
    { "auth",                                K_OBJECT, 0, NULL },
    { "transfer",                            K_OBJECT, 0, NULL },
    { "update",                              K_OBJECT, 0, NULL },
    { "identity_verification",               K_OBJECT, 0, NULL },
    { "statements",                          K_OBJECT, 0, NULL },
    { "third_party_user_token",              K_STRING, 0, NULL },
    { "investments",                         K_OBJECT, 0, NULL },
    { "investments_auth",                    K_OBJECT, 0, NULL },
    { "hosted_link",                         K_OBJECT, 0, NULL },
    { "transactions",                        K_OBJECT, 0, NULL },
    { "cashflow_report",                     K_OBJECT, 0, NULL },
    { "cra_enabled",                         K_BOOLEAN, 0, NULL },
    { "identity",                            K_OBJECT, 0, NULL },
    { "financekit_supported",                K_BOOLEAN, 0, NULL },
    { "enable_multi_item_link",              K_BOOLEAN, 0, NULL },
    { "user_token",                          K_STRING, 0, NULL },
    { NULL, 0, 0, NULL }
};

/* Everything in this body is generated here and needs no escaping, so
 * plain formatting is both safe and the fastest path for benchmarks. */
static const char *link_token_body(emu_call *c, int with_token,
                                   const char *padding)
{
    apr_pool_t *p = c->r->pool;
    apr_time_t issued = apr_time_now();
    const char *token = with_token
        ? emu_token_issue(c->r, "link", c->env, &issued) : NULL;

    return apr_pstrcat(p, "{",
                       token ? "\"link_token\":\"" : "", token ? token : "",
                       token ? "\"," : "",
                       "\"expiration\":\"",
                       emu_iso8601(p, issued + EMU_LINK_TOKEN_TTL), "\",",
                       emu_sample_end(c, padding), NULL);
}

/* The link_token in a body link_token_body wrote, or NULL. */
static const char *token_in(apr_pool_t *p, const char *text)
{
    const char *at = strstr(text, "\"link_token\":\""), *end;

    if (!at) {
        return NULL;
    }
    at += sizeof("\"link_token\":\"") - 1;
    end = strchr(at, '"');
    return end ? apr_pstrmemdup(p, at, end - at) : NULL;
}

static int create_link_token(emu_call *c, json_t *body)
{
    int update = json_is_string(json_object_get(body, "access_token"));
    const char *text, *token;
    emu_item item;
    int rc;

    /* Update mode: the Item must be one of this emulator's, as on Plaid
     * (the same refusals as every Item endpoint's). */
    if (update && !emu_item_find(c, body, &item, &rc)) {
        return rc;
    }
    text = link_token_body(c, 1, NULL);
    if (!(token = token_in(c->r->pool, text))) {
        return emu_answer_internal(c, "no link_token could be issued");
    }
    if (update && !emu_item_update_mode(c, &item, token, &rc)) {
        return rc;
    }
    return emu_answer_json(c, text);
}

const emu_endpoint emu_link_token_create = {
    "/link/token/create",
    link_token_create_request,
    1,                      /* credentials */
    0,                      /* not called by a browser */
    create_link_token,
    link_token_body,
    NULL                    /* no options */
};
