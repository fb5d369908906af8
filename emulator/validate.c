/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A request body checked as Plaid checks it, driven by the endpoint's
 * property table (its request schema in Plaid's OpenAPI description):
 * credentials, then unknown fields, then missing fields, then the first
 * field of the wrong type or value. Plaid's messages, Plaid's codes.
 *
 * The values themselves (products, country codes, languages) come from
 * ../include/plaid_known.h, the one copy the module also uses, which
 * t/spec_tables.t checks against the spec.
 */
#include <string.h>

#include "apr_strings.h"

#include "plaid_known.h"

#include "emu.h"

static const emu_property *find_property(const emu_property *props,
                                         const char *name)
{
    for (; props->name; props++) {
        if (strcmp(props->name, name) == 0) {
            return props;
        }
    }
    return NULL;
}

/* null counts as absent, as Plaid counts it. */
static int present(const json_t *obj, const char *name)
{
    const json_t *v = json_object_get(obj, name);

    return v && !json_is_null(v);
}

static int nonempty_string(const json_t *v)
{
    return json_is_string(v) && json_string_length(v) > 0;
}

static const char *check_products(apr_pool_t *p, const emu_property *prop,
                                  const json_t *v)
{
    int no_balance = (prop->flags & EMU_NO_BALANCE) != 0;
    const json_t *item;
    size_t i;

    if (!json_is_array(v)) {
        return apr_psprintf(p, "%s must be an array of products", prop->name);
    }
    if ((prop->flags & EMU_NONEMPTY) && json_array_size(v) == 0) {
        return apr_psprintf(p, "%s must be a non-empty array of products",
                            prop->name);
    }
    json_array_foreach(v, i, item) {
        const char *name = json_string_value(item);

        if (!plaid_product_allowed(name, PLAID_PRODUCTS_ENUM)
            || (no_balance && strcmp(name, "balance") == 0)) {
            return apr_psprintf(p, "%s[%lu] is not a valid product: %s",
                                prop->name, (unsigned long)i,
                                name ? name : "(not a string)");
        }
    }
    return NULL;
}

static const char *check_country_codes(apr_pool_t *p,
                                       const emu_property *prop,
                                       const json_t *v)
{
    const json_t *item;
    size_t i;

    if (!json_is_array(v)
        || ((prop->flags & EMU_NONEMPTY) && json_array_size(v) == 0)) {
        return apr_psprintf(p, "%s must be a non-empty array of country "
                            "codes", prop->name);
    }
    json_array_foreach(v, i, item) {
        const char *code = json_string_value(item);

        if (!plaid_country_code_known(code)) {
            return apr_psprintf(p, "%s[%lu] is not a supported country "
                                "code: %s", prop->name, (unsigned long)i,
                                code ? code : "(not a string)");
        }
    }
    return NULL;
}

static const char *check_string_array(apr_pool_t *p, const char *field,
                                      const json_t *v)
{
    const json_t *item;
    size_t i;

    if (!json_is_array(v)) {
        return apr_psprintf(p, "%s must be an array of strings", field);
    }
    json_array_foreach(v, i, item) {
        if (!json_is_string(item)) {
            return apr_psprintf(p, "%s[%lu] must be a string", field,
                                (unsigned long)i);
        }
    }
    return NULL;
}

/* LinkTokenCreateRequestRedirectUri: https, no query. A host containing
 * "unregistered" stands for a URI missing from the dashboard's allow list,
 * so that tests can provoke the error Plaid gives for it. */
static const char *check_redirect_uri(apr_pool_t *p, const json_t *v)
{
    const char *uri = json_string_value(v);
    const char *host;

    if (!uri || strncmp(uri, "https://", 8) != 0) {
        return "redirect_uri must be an https URI";
    }
    if (strchr(uri, '?')) {
        return "redirect_uri must not contain query parameters";
    }
    host = apr_pstrmemdup(p, uri + 8, strcspn(uri + 8, "/#"));
    if (strstr(host, "unregistered")) {
        return "OAuth redirect URI must be configured in the developer "
               "dashboard. See https://dashboard.plaid.com/team/api";
    }
    return NULL;
}

static const char *check_user(const json_t *v)
{
    if (!json_is_object(v)) {
        return "user must be an object";
    }
    if (json_object_get(v, "client_user_id")
        && !nonempty_string(json_object_get(v, "client_user_id"))) {
        return "user.client_user_id must be a non-empty string";
    }
    return NULL;
}

static const char *check_scalar(apr_pool_t *p, const emu_property *prop,
                                const json_t *v)
{
    const char *s = json_string_value(v);

    switch (prop->kind) {
    case K_STRING:
        if (prop->flags & EMU_NONEMPTY) {
            return nonempty_string(v) ? NULL
                : apr_psprintf(p, "%s must be a non-empty string",
                               prop->name);
        }
        return s ? NULL : apr_psprintf(p, "%s must be a string", prop->name);
    case K_LANGUAGE:
        return plaid_language_known(s) ? NULL
            : apr_psprintf(p, "%s is not supported: %s", prop->name,
                           s ? s : "(not a string)");
    case K_APPEARANCE_MODE:
        return s && (!strcmp(s, "LIGHT") || !strcmp(s, "DARK")
                     || !strcmp(s, "SYSTEM")) ? NULL
            : apr_psprintf(p, "%s must be one of LIGHT, DARK, SYSTEM",
                           prop->name);
    case K_OBJECT:
        return json_is_object(v) ? NULL
            : apr_psprintf(p, "%s must be an object", prop->name);
    case K_BOOLEAN:
        return json_is_boolean(v) ? NULL
            : apr_psprintf(p, "%s must be a boolean", prop->name);
    case K_INTEGER:
        return json_is_integer(v) ? NULL
            : apr_psprintf(p, "%s must be an integer", prop->name);

    case K_WEBHOOK_CODE:
        return emu_webhook_code_known(s) ? NULL
            : apr_psprintf(p, "%s is not a webhook code this endpoint can "
                           "fire: %s", prop->name, s ? s : "(not a string)");
    case K_REMOVE_REASON:
        return emu_remove_reason_known(s) ? NULL
            : apr_psprintf(p, "%s is not a valid reason code: %s",
                           prop->name, s ? s : "(not a string)");
    default:
        return NULL;
    }
}

/* NULL when the value has the property's type, else Plaid's message. */
static const char *check_property(apr_pool_t *p, const emu_property *prop,
                                  const json_t *v)
{
    if (json_is_null(v) && (prop->flags & EMU_NULLABLE)) {
        return NULL;
    }
    switch (prop->kind) {
    case K_COUNTRY_CODES:
        return check_country_codes(p, prop, v);
    case K_USER:
        return check_user(v);
    case K_PRODUCTS:
        return check_products(p, prop, v);
    case K_STRING_ARRAY:
        return check_string_array(p, prop->name, v);
    case K_STRINGS:
        if (json_is_string(v)) {
            return NULL;
        }
        return json_is_array(v) ? check_string_array(p, prop->name, v)
            : apr_psprintf(p, "%s must be a string or an array of strings",
                           prop->name);
    case K_REDIRECT_URI:
        return check_redirect_uri(p, v);
    default:
        return check_scalar(p, prop, v);
    }
}

/* Headers first, as Plaid's client libraries send them; then the body. */
static const char *credential(request_rec *r, json_t *body,
                              const char *header, const char *field)
{
    const char *v = apr_table_get(r->headers_in, header);

    return v ? v : json_string_value(json_object_get(body, field));
}

static int check_credentials(emu_call *c, json_t *body, emu_error *e)
{
    const emu_config *conf = c->conf;
    const char *id = credential(c->r, body, "PLAID-CLIENT-ID", "client_id");
    const char *secret = credential(c->r, body, "PLAID-SECRET", "secret");

    if (!conf->client_id) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, c->r, "plaid_emulator: "
                      "PlaidEmulatorCredentials is not set; refusing all");
    }
    if (conf->client_id && id && secret && strcmp(id, conf->client_id) == 0
        && strcmp(secret, conf->secret) == 0) {
        return 0;
    }
    e->status = 400;
    e->error_type = "INVALID_INPUT";
    e->error_code = "INVALID_API_KEYS";
    e->error_message = "invalid client_id or secret provided";
    return 1;
}

static const char *join(apr_pool_t *p, const char *names, const char *name)
{
    return names ? apr_pstrcat(p, names, ", ", name, NULL) : name;
}

/* The names are joined in one message, as Plaid does; prefix is "" for
 * the body, "options." for its options. */
static int check_unknown_fields(apr_pool_t *p, const char *prefix,
                                const emu_property *props, json_t *body,
                                emu_error *e)
{
    const char *key, *names = NULL;
    json_t *v;

    json_object_foreach(body, key, v) {
        if (!find_property(props, key)) {
            names = join(p, names, apr_pstrcat(p, prefix, key, NULL));
        }
    }
    if (names) {
        emu_request_error(e, "UNKNOWN_FIELDS", apr_pstrcat(p,
                          "the following fields are not recognized by this "
                          "endpoint: ", names, NULL));
    }
    return names != NULL;
}

static int check_missing_fields(apr_pool_t *p, const char *prefix,
                                const emu_property *props, json_t *body,
                                emu_error *e)
{
    const emu_property *prop;
    const char *names = NULL;
    const json_t *v;

    for (prop = props; prop->name; prop++) {
        if (!(prop->flags & EMU_REQUIRED)
            || (prop->unless && present(body, prop->unless))) {
            continue;
        }
        v = json_object_get(body, prop->name);
        if (!present(body, prop->name)) {
            names = join(p, names, apr_pstrcat(p, prefix, prop->name, NULL));
        }
        /* LinkTokenCreateRequestUser requires client_user_id. */
        else if (prop->kind == K_USER && json_is_object(v)
                 && !present(v, "client_user_id")) {
            names = join(p, names, apr_pstrcat(p, prop->name,
                                               ".client_user_id", NULL));
        }
    }
    if (names) {
        emu_request_error(e, "MISSING_FIELDS", apr_pstrcat(p,
                          "the following required fields are missing: ",
                          names, NULL));
    }
    return names != NULL;
}

static int check_fields(apr_pool_t *p, const char *prefix,
                        const emu_property *props, json_t *body,
                        emu_error *e)
{
    const char *key, *why;
    emu_property named;
    json_t *v;

    json_object_foreach(body, key, v) {
        /* The messages name the property as the body has it. */
        named = *find_property(props, key);
        if (*prefix) {
            named.name = apr_pstrcat(p, prefix, named.name, NULL);
        }
        why = check_property(p, &named, v);
        if (why) {
            emu_request_error(e, "INVALID_FIELD", why);
            return 1;
        }
    }
    return 0;
}

static int check_object(apr_pool_t *p, const char *prefix,
                        const emu_property *props, json_t *obj, emu_error *e)
{
    return check_unknown_fields(p, prefix, props, obj, e)
        || check_missing_fields(p, prefix, props, obj, e)
        || check_fields(p, prefix, props, obj, e);
}

int emu_validate(emu_call *c, json_t *body, emu_error *e)
{
    const emu_endpoint *ep = c->endpoint;
    apr_pool_t *p = c->r->pool;
    /* An object by now (K_OBJECT), or absent, or null. */
    json_t *options = json_object_get(body, "options");

    return (ep->credentials && check_credentials(c, body, e))
        || check_object(p, "", ep->properties, body, e)
        || (ep->options && json_is_object(options)
            && check_object(p, "options.", ep->options, options, e));
}
