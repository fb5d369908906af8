/* SPDX-License-Identifier: Apache-2.0 */
/*
 * POST /item/public_token/exchange (src/plaid_exchange.c): Link's
 * public_token for the Item's access_token and item_id.
 */
#ifndef PLAID_EXCHANGE_H
#define PLAID_EXCHANGE_H

#include "plaid.h"
#include "plaid_error.h"

#define PLAID_EXCHANGE_PATH "/item/public_token/exchange"

/* The longest public_token sent on: Plaid's are ~60 bytes. */
#define PLAID_PUBLIC_TOKEN_MAX 256

/* NULL when token looks like a public_token ("public-<env>-<id>": letters,
 * digits and '-'), else why not; the message never quotes the token. */
const char *plaid_check_public_token(const char *token);

/* {"public_token": token}, allocated from p. */
char *plaid_exchange_body(apr_pool_t *p, const char *public_token,
                          apr_size_t *len);

/* An ItemPublicTokenExchangeResponse. The access_token is the Item's
 * credential: it goes to the application, never to a log or a browser. */
typedef struct {
    const char *access_token;
    const char *item_id;
} plaid_exchange;

/* Reads the success answer of plaid_result_from; on a missing or empty
 * field, res becomes PLAID_FAIL_UNUSABLE and says why. */
void plaid_exchange_read(apr_pool_t *p, const json_t *answer,
                         plaid_result *res, plaid_exchange *out);

#endif
