/* SPDX-License-Identifier: Apache-2.0 */
/*
 * POST /institutions/get_by_id: InstitutionsGetByIdRequest in (options:
 * InstitutionsGetByIdRequestOptions), InstitutionsGetByIdResponse
 * ({"institution","request_id"}) out, for the sandbox's own
 * institutions, which Plaid documents: First Platypus Bank (ins_109508,
 * the Item of every /link/complete), and a few others a test may pass to
 * /sandbox/public_token/create. Any other institution_id, or one outside
 * the asked country_codes: Plaid's 400 INVALID_INPUT/INVALID_INSTITUTION,
 * "invalid institution_id provided".
 *
 * options.include_optional_metadata fills url and primary_color (logo
 * stays null: the emulator has no image); the other options are taken
 * and change nothing (no status, auth_metadata or
 * payment_initiation_metadata).
 */
#include <string.h>

#include "apr_strings.h"

#include "emu.h"

/* Every property of InstitutionsGetByIdRequest in the spec. */
static const emu_property institutions_get_by_id_request[] = {
    { "client_id",      K_STRING,        0,                           NULL },
    { "secret",         K_STRING,        0,                           NULL },
    { "institution_id", K_STRING,        EMU_REQUIRED | EMU_NONEMPTY, NULL },
    { "country_codes",  K_COUNTRY_CODES, EMU_REQUIRED,                NULL },
    { "options",        K_OBJECT,        0,                           NULL },
    { NULL, 0, 0, NULL }
};

static const emu_property institutions_get_by_id_request_options[] = {
    { "include_optional_metadata",           K_BOOLEAN, 0, NULL },
    { "include_status",                      K_BOOLEAN, 0, NULL },
    { "include_auth_metadata",               K_BOOLEAN, 0, NULL },
    { "include_payment_initiation_metadata", K_BOOLEAN, 0, NULL },
    { NULL, 0, 0, NULL }
};

/* Plaid's sandbox institutions ("Sandbox institutions" in its docs). */
static const struct {
    const char *id;
    const char *name;
    const char *country_code;
    int oauth;
    const char *url;
    const char *primary_color;
} institutions[] = {
    { "ins_109508", "First Platypus Bank", "US", 0,
      "https://www.platypus.com", "#1f1f1f" },
    { "ins_109509", "First Gingham Credit Union", "US", 0,
      "https://www.gingham.com", "#1f3b70" },
    { "ins_109510", "Tattersall Federal Credit Union", "US", 0,
      "https://www.tattersall.com", "#0f4c81" },
    { "ins_109511", "Tartan Bank", "US", 0,
      "https://www.tartan.com", "#8b0000" },
    { "ins_109512", "Houndstooth Bank", "US", 0,
      "https://www.houndstooth.com", "#333333" },
    { "ins_127287", "Platypus OAuth Bank", "US", 1,
      "https://www.platypus-oauth.com", "#1f1f1f" },
    { "ins_43", "Tartan-Dominion Bank of Canada", "CA", 0,
      "https://www.tartan-dominion.com", "#8b0000" },
};

#define INSTITUTIONS (sizeof(institutions) / sizeof(institutions[0]))

/* What each of them offers: values of Products (t/spec_tables.t). */
static const char *const institution_products[] = {
    "assets", "auth", "balance", "identity", "investments", "liabilities",
    "transactions", NULL
};

static int institution_index(const char *id)
{
    size_t i;

    for (i = 0; id && i < INSTITUTIONS; i++) {
        if (strcmp(institutions[i].id, id) == 0) {
            return (int)i;
        }
    }
    return -1;
}

const char *emu_institution_name(const char *institution_id)
{
    int i = institution_index(institution_id);

    return i < 0 ? NULL : institutions[i].name;
}

static int asked_country(json_t *codes, const char *code)
{
    json_t *v;
    size_t i;

    json_array_foreach(codes, i, v) {
        if (strcmp(json_string_value(v), code) == 0) {
            return 1;
        }
    }
    return 0;
}

/* Plaid's Institution: a new reference, NULL if out of memory. */
static json_t *institution_json(int i, int metadata)
{
    json_t *products = json_array(), *doc;
    const char *const *p;

    for (p = institution_products; products && *p; p++) {
        json_array_append_new(products, json_string(*p));
    }
    doc = products
        ? json_pack("{s:s, s:s, s:O, s:[s], s:s?, s:s?, s:n, s:[], s:b}",
                    "institution_id", institutions[i].id,
                    "name", institutions[i].name,
                    "products", products,
                    "country_codes", institutions[i].country_code,
                    "url", metadata ? institutions[i].url : NULL,
                    "primary_color",
                    metadata ? institutions[i].primary_color : NULL,
                    "logo",
                    "routing_numbers",
                    "oauth", institutions[i].oauth)
        : NULL;
    json_decref(products);
    return doc;
}

static const char *institution_body_of(emu_call *c, json_t *institution,
                                       const char *padding)
{
    json_t *doc = json_object();

    if (institution) {
        json_object_set(doc, "institution", institution);
    }
    return emu_json_end(c, doc, padding);
}

/* body= faults: First Platypus Bank; notoken leaves it out. */
static const char *institution_body(emu_call *c, int with_institution,
                                    const char *padding)
{
    json_t *institution = with_institution ? institution_json(0, 0) : NULL;
    const char *text = institution_body_of(c, institution, padding);

    json_decref(institution);
    return text;
}

static int get_institution(emu_call *c, json_t *body)
{
    const char *id = json_string_value(json_object_get(body,
                                                       "institution_id"));
    json_t *options = json_object_get(body, "options");
    int i = institution_index(id);
    json_t *doc;
    const char *text;
    emu_error e;

    if (i < 0 || !asked_country(json_object_get(body, "country_codes"),
                                institutions[i].country_code)) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, c->r, "plaid_emulator: %s "
                      "refused: institution_id %s", emu_log_name(c),
                      i < 0 ? "unknown" : "not in country_codes");
        e.status = 400;
        e.error_type = "INVALID_INPUT";
        e.error_code = "INVALID_INSTITUTION";
        e.error_message = "invalid institution_id provided";
        return emu_answer_error(c, &e);
    }
    doc = institution_json(i, json_is_true(json_object_get(options,
                                         "include_optional_metadata")));
    if (!doc) {
        return emu_answer_internal(c, "out of memory");
    }
    text = institution_body_of(c, doc, NULL);
    json_decref(doc);
    return emu_answer_json(c, text);
}

const emu_endpoint emu_institutions_get_by_id = {
    "/institutions/get_by_id",
    institutions_get_by_id_request,
    1,                      /* credentials */
    0,                      /* not called by a browser */
    get_institution,
    institution_body,
    institutions_get_by_id_request_options
};
