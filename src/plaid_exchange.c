/* SPDX-License-Identifier: Apache-2.0 */
/*
 * POST /item/public_token/exchange: the body and the answer.
 */
#include <string.h>

#include <apr_lib.h>
#include <apr_strings.h>

#include "plaid_exchange.h"

const char *plaid_check_public_token(const char *token)
{
    static const char prefix[] = "public-";
    apr_size_t n = strlen(token), i;

    if (n > PLAID_PUBLIC_TOKEN_MAX) {
        return "the public_token is longer than 256 bytes";
    }
    if (strncmp(token, prefix, sizeof(prefix) - 1) != 0) {
        return "the public_token does not start with public-";
    }
    for (i = sizeof(prefix) - 1; i < n; i++) {
        if (!apr_isalnum(token[i]) && token[i] != '-') {
            return "the public_token has a character other than letters, "
                   "digits and -";
        }
    }
    if (n == sizeof(prefix) - 1) {
        return "the public_token is only its prefix";
    }
    return NULL;
}

char *plaid_exchange_body(apr_pool_t *p, const char *public_token,
                          apr_size_t *len)
{
    json_t *body = json_pack("{s:s}", "public_token", public_token);
    char *out = body ? plaid_json_dump(p, body, len) : NULL;

    json_decref(body);
    return out;
}

void plaid_exchange_read(apr_pool_t *p, const json_t *answer,
                         plaid_result *res, plaid_exchange *out)
{
    json_error_t err;
    const char *access_token, *item_id;

    if (json_unpack_ex((json_t *)answer, &err, 0, "{s:s, s:s}",
                       "access_token", &access_token, "item_id",
                       &item_id) != 0) {
        plaid_result_unusable(res, apr_psprintf(p, "the answer is not an "
                                                "ItemPublicTokenExchange"
                                                "Response: %s", err.text));
        return;
    }
    if (!*access_token || !*item_id) {
        plaid_result_unusable(res, "the answer's access_token or item_id is "
                                   "empty");
        return;
    }
    out->access_token = apr_pstrdup(p, access_token);
    out->item_id = apr_pstrdup(p, item_id);
}
