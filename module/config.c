/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The configuration: one struct for server, vhost and location, in parts
 * (the connection every handler needs, the browser side, each handler's
 * own), and its merge. The fields are listed once, in glue.h,
 * and those lists make the structs, create and merge: a new field cannot
 * be forgotten here. The few that merge otherwise say why.
 */
#include "glue.h"

const char plaid_system_cas[] = "system";

void *plaid_create_conf(apr_pool_t *p, char *dir)
{
    plaid_conf *c = apr_pcalloc(p, sizeof(*c));

#define UNSET_PTR(f)
#define UNSET_OWN(f)
#define UNSET_NUM(f) c->f = -1;
#define UNSET(part, merge, type, name) UNSET_##merge(part.name)
#define UNSET_PART(part, fields) fields(UNSET, part)
    PLAID_CONF_PARTS(UNSET_PART)
#undef UNSET_PART
#undef UNSET
    (void)dir;
    return c;
}

/* The fields of the /link/token/create body (the core's list) merge as
 * pointers, and are noted by the side they come from, so that a merge
 * whose fields all came from one side can use that side's body template. */
static const plaid_body_template *
merge_link_fields(const plaid_link_conf *base, const plaid_link_conf *add,
                  plaid_link_conf *c)
{
    int from_add = 0, from_base = 0;

#define PICK_FIELD(type, f)                                                 \
    c->fields.f = add->fields.f ? add->fields.f : base->fields.f;           \
    from_add |= add->fields.f != NULL;                                      \
    from_base |= !add->fields.f && base->fields.f;
    PLAID_LINK_FIELD_LIST(PICK_FIELD)
#undef PICK_FIELD
    return !from_base ? add->body_template
         : !from_add ? base->body_template : NULL;
}

void *plaid_merge_conf(apr_pool_t *p, void *basev, void *addv)
{
    const plaid_conf *base = basev, *add = addv;
    plaid_conf *c = apr_pcalloc(p, sizeof(*c));

#define MERGE_PTR(f) c->f = add->f ? add->f : base->f;
#define MERGE_NUM(f) c->f = add->f != -1 ? add->f : base->f;
#define MERGE_OWN(f)
#define MERGE(part, merge, type, name) MERGE_##merge(part.name)
#define MERGE_PART(part, fields) fields(MERGE, part)
    PLAID_CONF_PARTS(MERGE_PART)
#undef MERGE_PART
#undef MERGE

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
    c->link.body_template = merge_link_fields(&base->link, &add->link,
                                              &c->link);
    return c;
}

void *plaid_create_server_conf(apr_pool_t *p, server_rec *s)
{
    (void)s;
    return apr_pcalloc(p, sizeof(plaid_server_conf));
}
