/*
 * The configuration: one struct for server, vhost and location, in parts
 * (the connection every handler needs, the browser side, each handler's
 * own), and its merge. The plain fields are listed once, below, and that
 * list makes the merge: a new field added to the list cannot be forgotten
 * there. The few that merge otherwise say why.
 */
#include "mod_plaid_link.h"

const char plaid_system_cas[] = "system";

/* Fields a nearer section's value replaces: pointers (NULL unset). */
#define PLAID_POINTER_FIELDS(X)                                             \
    X(conn.env) X(conn.env_url) X(conn.client_id) X(conn.ca_file)           \
    X(conn.proxy)                                                           \
    X(browser.user_id) X(browser.origins) X(limits.scope)                   \
    X(exchange.handoff) X(webhook.handoff) X(handler_htaccess)             \
    X(api.prefix) X(api.paths) X(api.allow)             \
    X(items.store) X(items.keys)                                            \
    X(endpoint)

/* The same for numbers, -1 unset. */
#define PLAID_NUMBER_FIELDS(X)                                              \
    X(conn.connect_ms) X(conn.total_ms) X(conn.retries)                     \
    X(webhook.max_age_s) X(handler_enabled)                                 \
    X(limits.user_count) X(limits.user_seconds) X(limits.total_count)       \
    X(limits.total_seconds) X(limits.breaker_failures)                      \
    X(limits.breaker_seconds)                                               \
    X(items.handoff_access_token) X(items.api_allow_access_token)

/* The fields of the /link/token/create body: merged alike, and noted by
 * the side they come from, so that a merge whose fields all came from one
 * side can use that side's body template. */
#define PLAID_LINK_FIELDS(X)                                                \
    X(client_name) X(language) X(webhook) X(redirect_uri)                   \
    X(android_package_name) X(link_customization_name) X(country_codes)     \
    X(products) X(optional_products) X(required_if_supported_products)      \
    X(additional_consented_products) X(extra)

void *plaid_create_conf(apr_pool_t *p, char *dir)
{
    plaid_conf *c = apr_pcalloc(p, sizeof(*c));

#define UNSET(f) c->f = -1;
    PLAID_NUMBER_FIELDS(UNSET)
#undef UNSET
    (void)dir;
    return c;
}

void *plaid_merge_conf(apr_pool_t *p, void *basev, void *addv)
{
    const plaid_conf *base = basev, *add = addv;
    plaid_conf *c = apr_pcalloc(p, sizeof(*c));
    int from_add = 0, from_base = 0;

#define PICK(f) c->f = add->f ? add->f : base->f;
#define PICK_SET(f) c->f = add->f != -1 ? add->f : base->f;
#define PICK_FIELD(f)                                                       \
    c->link.fields.f = add->link.fields.f ? add->link.fields.f              \
                                          : base->link.fields.f;           \
    from_add |= add->link.fields.f != NULL;                                 \
    from_base |= !add->link.fields.f && base->link.fields.f;
    PLAID_POINTER_FIELDS(PICK)
    PLAID_NUMBER_FIELDS(PICK_SET)
    PLAID_LINK_FIELDS(PICK_FIELD)
#undef PICK
#undef PICK_SET
#undef PICK_FIELD

    /* PlaidEnv nearer than a PlaidBaseURL wins: a <Location> that says
     * production must not call the vhost's gateway. A nearer PlaidBaseURL
     * keeps the environment's name, for the log. */
    c->conn.base_url = add->conn.env ? add->conn.base_url
                     : add->conn.base_url ? add->conn.base_url
                     : base->conn.base_url;
    /* The secret goes with the client id when the client id is nearer:
     * sandbox keys against a production id never mix. */
    c->conn.secret = add->conn.secret || add->conn.client_id
                   ? add->conn.secret : base->conn.secret;
    /* The key and its length travel together. */
    c->browser.hash_key = add->browser.hash_key ? add->browser.hash_key
                                                : base->browser.hash_key;
    c->browser.hash_key_len = add->browser.hash_key
                            ? add->browser.hash_key_len
                            : base->browser.hash_key_len;
    c->link.body_template = !from_base ? add->link.body_template
                          : !from_add ? base->link.body_template : NULL;
    return c;
}

void *plaid_create_server_conf(apr_pool_t *p, server_rec *s)
{
    (void)s;
    return apr_pcalloc(p, sizeof(plaid_server_conf));
}
