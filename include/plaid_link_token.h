/* SPDX-License-Identifier: Apache-2.0 */
/*
 * POST /link/token/create (src/plaid_link_token.c): the body from the
 * directives and the user id, serialized once at start-up but for the id;
 * and the LinkTokenCreateResponse.
 */
#ifndef PLAID_LINK_TOKEN_H
#define PLAID_LINK_TOKEN_H

#include "plaid.h"
#include "plaid_error.h"

#define PLAID_LINK_TOKEN_PATH "/link/token/create"

/* The body's fields, each once: the struct, and the glue's merge, are
 * made from this list. Arrays are of const char *; NULL when unset. */
#define PLAID_LINK_FIELD_LIST(X)                                            \
    X(const char *, client_name)                                            \
    X(const char *, language)                                               \
    X(const char *, webhook)                                                \
    X(const char *, redirect_uri)                                           \
    X(const char *, android_package_name)                                   \
    X(const char *, link_customization_name)                                \
    X(apr_array_header_t *, country_codes)                                  \
    X(apr_array_header_t *, products)                                       \
    X(apr_array_header_t *, optional_products)                              \
    X(apr_array_header_t *, required_if_supported_products)                 \
    X(apr_array_header_t *, additional_consented_products)                  \
    X(json_t *, extra)      /* PlaidLinkTokenExtra, read-only */

typedef struct {
#define PLAID_LINK_FIELD_DECLARE(type, name) type name;
    PLAID_LINK_FIELD_LIST(PLAID_LINK_FIELD_DECLARE)
#undef PLAID_LINK_FIELD_DECLARE
} plaid_link_fields;

/* The JSON body, allocated from p. Credentials travel in headers, never in
 * the body, so the body may be logged. NULL only when jansson fails. */
char *plaid_link_token_body(apr_pool_t *p, const plaid_link_fields *f,
                            const char *client_user_id, apr_size_t *len);

/* The same body serialized once, at start-up, but for the user id: the
 * text before the id's JSON string and the text after it. A request only
 * quotes its id between them. */
typedef struct {
    const char *head, *tail;
    apr_size_t head_len, tail_len;
} plaid_body_template;

/* The template for f, allocated from p; NULL when jansson fails (or, in a
 * PlaidLinkTokenExtra that spells the placeholder, when the id's place is
 * not unique): then build each body with plaid_link_token_body. */
plaid_body_template *plaid_body_template_make(apr_pool_t *p,
                                              const plaid_link_fields *f);

/* Byte for byte what plaid_link_token_body makes for the template's
 * fields, NULL when it would be NULL (an id that is not UTF-8). */
char *plaid_body_from_template(apr_pool_t *p, const plaid_body_template *t,
                               const char *client_user_id, apr_size_t *len);

/* A LinkTokenCreateResponse. */
typedef struct {
    const char *link_token;
    const char *expiration;
} plaid_link_token;

/* Reads the success answer of plaid_result_from; on a missing or empty
 * field, res becomes PLAID_FAIL_UNUSABLE and says why. */
void plaid_link_token_read(apr_pool_t *p, const json_t *answer,
                           plaid_result *res, plaid_link_token *out);

#endif
