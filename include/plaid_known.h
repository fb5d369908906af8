/* SPDX-License-Identifier: Apache-2.0 */
/*
 * plaid_known.h: the values Plaid's /link/token/create accepts, taken from
 * Plaid's OpenAPI description (2020-09-14). One table per fact; the test
 * t/spec_tables.t checks them against the spec itself.
 *
 * Core header: APR-free, httpd-free.
 */
#ifndef PLAID_KNOWN_H
#define PLAID_KNOWN_H

/* Which array of LinkTokenCreateRequest a product may appear in: the spec's
 * x-override-enum-values-shown list for that field. */
enum plaid_product_field {
    PLAID_FIELD_PRODUCTS                      = 1 << 0,
    PLAID_FIELD_OPTIONAL_PRODUCTS             = 1 << 1,
    PLAID_FIELD_REQUIRED_IF_SUPPORTED         = 1 << 2,
    PLAID_FIELD_ADDITIONAL_CONSENTED_PRODUCTS = 1 << 3,
    /* Member of the Products enum itself (the schema's item type). */
    PLAID_PRODUCTS_ENUM                       = 1 << 4
};

struct plaid_product {
    const char *name;
    unsigned fields;   /* enum plaid_product_field bits */
};

/* NULL-terminated tables. */
extern const struct plaid_product plaid_products[];
extern const char *const plaid_country_codes[];   /* CountryCode enum */
extern const char *const plaid_languages[];       /* LinkTokenCreateRequest.language */
extern const char *const plaid_error_types[];     /* PlaidErrorType enum */

/* The JSON name of a product field, e.g. "optional_products". */
const char *plaid_product_field_name(enum plaid_product_field field);

/* 1 when name may appear in the given field, else 0. */
int plaid_product_allowed(const char *name, enum plaid_product_field field);
int plaid_country_code_known(const char *code);
int plaid_language_known(const char *language);
int plaid_error_type_known(const char *error_type);

/* Every POST path of Plaid's API (src/plaid_paths.c), sorted. */
extern const char *const plaid_api_paths[];

int plaid_api_path_known(const char *path);

/* Whether a call to path only reads (".../get", "/transactions/sync"): it
 * may be sent again after a failure; a write is retried only when no
 * byte of it was sent. */
int plaid_api_path_is_read(const char *path);

#endif
