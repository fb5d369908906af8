/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The spec's tables as directive values see them (src/plaid_known.c):
 * PlaidProducts & co., PlaidCountryCodes, PlaidLanguage, and the
 * error_type of a PlaidError; plus PlaidEnv. A known value is one of the
 * table's entries, byte for byte.
 */
#include "plaid_known.h"
#include "fuzz.h"

static const enum plaid_product_field fields[] = {
    PLAID_FIELD_PRODUCTS, PLAID_FIELD_OPTIONAL_PRODUCTS,
    PLAID_FIELD_REQUIRED_IF_SUPPORTED,
    PLAID_FIELD_ADDITIONAL_CONSENTED_PRODUCTS, PLAID_PRODUCTS_ENUM
};

static int listed(const char *const *list, const char *v)
{
    for (; *list; list++) {
        if (strcmp(*list, v) == 0) {
            return 1;
        }
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_pool();
    const char *v = fuzz_cstring(p, data, size);
    const char *url = NULL;
    apr_size_t i;

    for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        if (plaid_product_allowed(v, fields[i])) {
            FUZZ_CHECK(plaid_product_allowed(v, PLAID_PRODUCTS_ENUM),
                       "allowed product not in the Products enum");
        }
        FUZZ_CHECK(plaid_product_field_name(fields[i]) != NULL, "field name");
    }
    FUZZ_CHECK(plaid_country_code_known(v) == listed(plaid_country_codes, v),
               "country code lookup");
    FUZZ_CHECK(plaid_language_known(v) == listed(plaid_languages, v),
               "language lookup");
    FUZZ_CHECK(plaid_error_type_known(v) == listed(plaid_error_types, v),
               "error type lookup");
    if (!plaid_env_url(v, &url)) {
        FUZZ_CHECK(url && strncmp(url, "https://", 8) == 0, "env URL");
    }
    apr_pool_destroy(p);
    return 0;
}
