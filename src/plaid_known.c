/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The values Plaid accepts in /link/token/create, transcribed from
 * ../shared/plaid-openapi/2020-09-14.yml. t/spec_tables.t reads the spec and
 * fails when this file and the spec disagree, so edit both together.
 */
#include <string.h>

#include "plaid_known.h"

#define P  PLAID_FIELD_PRODUCTS
#define O  PLAID_FIELD_OPTIONAL_PRODUCTS
#define R  PLAID_FIELD_REQUIRED_IF_SUPPORTED
#define A  PLAID_FIELD_ADDITIONAL_CONSENTED_PRODUCTS
#define E  PLAID_PRODUCTS_ENUM

const struct plaid_product plaid_products[] = {
    { "assets",                 E | P },
    { "auth",                   E | P | O | R | A },
    { "balance",                E },
    { "balance_plus",           E | A },
    { "beacon",                 E | P },
    { "identity",               E | P | O | R | A },
    { "identity_match",         E },
    { "investments",            E | P | O | R | A },
    { "investments_auth",       E | P | A },
    { "liabilities",            E | P | O | R | A },
    { "payment_initiation",     E | P },
    { "identity_verification",  E | P },
    { "transactions",           E | P | O | R | A },
    { "credit_details",         E },
    { "income",                 E },
    { "income_verification",    E | P },
    { "standing_orders",        E | P },
    { "transfer",               E | P },
    { "employment",             E | P },
    { "recurring_transactions", E },
    { "transactions_refresh",   E },
    { "signal",                 E | P | O | R | A },
    { "statements",             E | P | O | R },
    { "processor_payments",     E },
    { "processor_identity",     E },
    { "profile",                E },
    { "cra_base_report",        E | P | O },
    { "cra_income_insights",    E | P | O },
    { "cra_partner_insights",   E | P | O },
    { "cra_network_insights",   E | P | O },
    { "cra_cashflow_insights",  E | P | O },
    { "cra_monitoring",         E | P | O },
    { "cra_lend_score",         E | P | O },
    { "cra_plaid_credit_score", E },
    { "layer",                  E | P },
    { "pay_by_bank",            E },
    { "protect_linked_bank",    E | P | R },
    { "protect_transactions",   E | P | R },
    { NULL, 0 }
};

#undef P
#undef O
#undef R
#undef A
#undef E

const char *const plaid_country_codes[] = {
    "US", "GB", "ES", "NL", "FR", "IE", "CA", "DE", "IT", "PL", "DK",
    "NO", "SE", "EE", "LT", "LV", "PT", "BE", "AT", "FI", NULL
};

const char *const plaid_languages[] = {
    "da", "nl", "en", "et", "fr", "de", "hi", "it", "lv", "lt", "no",
    "pl", "pt", "ro", "es", "sv", "vi", NULL
};

const char *const plaid_error_types[] = {
    "INVALID_REQUEST", "INVALID_RESULT", "INVALID_INPUT", "INSTITUTION_ERROR",
    "RATE_LIMIT_EXCEEDED", "API_ERROR", "ITEM_ERROR", "ASSET_REPORT_ERROR",
    "BASE_REPORT_ERROR", "RECAPTCHA_ERROR", "OAUTH_ERROR", "PAYMENT_ERROR",
    "BANK_TRANSFER_ERROR", "INCOME_VERIFICATION_ERROR", "MICRODEPOSITS_ERROR",
    "SANDBOX_ERROR", "PARTNER_ERROR", "SIGNAL_ERROR", "TRANSACTIONS_ERROR",
    "TRANSACTION_ERROR", "TRANSFER_ERROR", "CHECK_REPORT_ERROR",
    "CONSUMER_REPORT_ERROR", "USER_ERROR", NULL
};

const char *plaid_product_field_name(enum plaid_product_field field)
{
    switch (field) {
    case PLAID_FIELD_PRODUCTS:                      return "products";
    case PLAID_FIELD_OPTIONAL_PRODUCTS:             return "optional_products";
    case PLAID_FIELD_REQUIRED_IF_SUPPORTED:         return "required_if_supported_products";
    case PLAID_FIELD_ADDITIONAL_CONSENTED_PRODUCTS: return "additional_consented_products";
    case PLAID_PRODUCTS_ENUM:                       return "Products";
    }
    return "?";
}

static int in_list(const char *const *list, const char *value)
{
    for (; value && *list; list++) {
        if (strcmp(*list, value) == 0) {
            return 1;
        }
    }
    return 0;
}

int plaid_product_allowed(const char *name, enum plaid_product_field field)
{
    const struct plaid_product *p;

    for (p = plaid_products; name && p->name; p++) {
        if (strcmp(p->name, name) == 0) {
            return (p->fields & field) != 0;
        }
    }
    return 0;
}

int plaid_country_code_known(const char *code)
{
    return in_list(plaid_country_codes, code);
}

int plaid_language_known(const char *language)
{
    return in_list(plaid_languages, language);
}

int plaid_error_type_known(const char *error_type)
{
    return in_list(plaid_error_types, error_type);
}
