/* SPDX-License-Identifier: Apache-2.0 */
/*
 * PlaidItemStore: the module keeps the Items, so that no access_token
 * lives in the application. The exchange seals each access_token
 * (src/plaid_seal.c, under PlaidItemKey, bound to the Item's environment,
 * item_id and client_user_id) into the store (item_store.c) and hands the
 * application the item_id; the gateway puts the Item's access_token in
 * place of an item_id; SetHandler plaid-items lists and removes the
 * signed-in user's Items, and asks Plaid how one is (after Link's update
 * mode); the link-token endpoint makes update-mode tokens for them; ITEM
 * webhooks and Plaid's answers by item_id keep their status.
 * docs/items.md.
 *
 * A row that does not open (another key, tampered, copied to another
 * user or Item) is one PL0172 line naming the Item, 502, no call to
 * Plaid, and the row kept.
 */
#include <apr_lib.h>

#include "glue.h"

#define ITEM_ID_MAX 128

/* ------------------------------------------------------------------ */
/* The directives. */

int plaid_items_check(apr_pool_t *p, server_rec *s, const char *path,
                      const plaid_conf *c, const ap_directive_t *sethandler)
{
    if (!c->items.store || c->items.keys) {
        return 0;
    }
    ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_EMERG, 0, NULL,
                 PLLOGNO(0170) "PlaidItemStore is set without PlaidItemKey "
                 "(vhost %s, location %s, %s line %d): the access_tokens "
                 "are sealed under that key; give it file:/path of 64 hex "
                 "digits (openssl rand -hex 32)", plaid_vhost_name(p, s),
                 path ? path : "(server)", sethandler->filename,
                 sethandler->line_num);
    return 1;
}

/* ------------------------------------------------------------------ */
/* Items: found, opened, kept. */

/* The environment an Item belongs to: PlaidEnv's name, else the host. */
static const char *env_of(const plaid_conf *c)
{
    return c->conn.env ? c->conn.env
         : c->conn.base_url ? c->conn.base_url : "unknown";
}

/* Plaid's item_ids are letters, digits, '-' and '_'. */
static int item_id_usable(const char *id)
{
    apr_size_t n = 0;

    for (; id[n]; n++) {
        if (!apr_isalnum(id[n]) && id[n] != '-' && id[n] != '_') {
            return 0;
        }
    }
    return n > 0 && n <= ITEM_ID_MAX;
}

/* The Item item_id of this location's environment, and of user when it
 * is not NULL: OK, or the status with its line written. */
static int find_item(request_rec *r, const plaid_request *req,
                     const char *item_id, const char *user, plaid_item *item)
{
    int rc = HTTP_NOT_FOUND;

    if (item_id_usable(item_id)) {
        rc = plaid_item_get(r, req, env_of(req->conf), item_id, item);
    }
    if (rc == OK && user && strcmp(item->client_user_id, user) != 0) {
        rc = HTTP_NOT_FOUND;
    }
    if (rc == HTTP_NOT_FOUND) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, PLLOGNO(0173)
                      "%s refused: %s status=404: the store holds no Item "
                      "item_id=%s in %s%s; Plaid was not called",
                      req->handler->what, plaid_where(r, req),
                      plaid_log_quote(r->pool, item_id, ITEM_ID_MAX),
                      env_of(req->conf), user ? " of this user" : "");
    }
    return rc;
}

static plaid_seal_binding binding_of(const plaid_item *item)
{
    plaid_seal_binding b;

    b.environment = item->environment;
    b.item_id = item->item_id;
    b.client_user_id = item->client_user_id;
    return b;
}

/* The Item's access_token: OK, or 502 with its PL0172 line. Opened with
 * the previous key, it is sealed again with the current one. */
static int open_item(request_rec *r, const plaid_request *req,
                     const plaid_item *item, const char **token)
{
    const plaid_item_keys *k = req->conf->items.keys;
    plaid_seal_binding b = binding_of(item);
    const plaid_seal_key *used = NULL;
    const char *why, *sealed;

    why = plaid_unseal(r->pool, k->open, k->n, &b, item->sealed, token, &used);
    if (why) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, PLLOGNO(0172)
                      "%s failed: %s status=502: the stored Item item_id=%s "
                      "of %s does not open: %s; the row is kept, Plaid was "
                      "not called", req->handler->what, plaid_where(r, req),
                      plaid_log_quote(r->pool, item->item_id, ITEM_ID_MAX),
                      item->environment, why);
        return HTTP_BAD_GATEWAY;
    }
    if (used != &k->current
        && !plaid_seal(r->pool, &k->current, &b, *token, &sealed)) {
        /* Key rotation: best effort; a failure has its own line. */
        plaid_item_reseal(r, req, item, sealed);
    }
    return OK;
}

/* What the browser said Link picked, when it said (Link's
 * metadata.institution.institution_id): shown, never trusted. */
static const char *institution_of(const plaid_request *req)
{
    const char *id = req->body
        ? json_string_value(json_object_get(req->body, "institution_id"))
        : NULL;

    return id && item_id_usable(id) && strlen(id) <= 64 ? id : "";
}

int plaid_items_exchanged(request_rec *r, const plaid_request *req,
                          const plaid_exchange *got,
                          const char **handoff_token)
{
    const plaid_items_conf *c = &req->conf->items;
    plaid_item item;
    plaid_seal_binding b;
    const char *why;
    int rc;

    *handoff_token = got->access_token;
    if (!c->store) {
        return OK;
    }
    if (c->handoff_access_token != 1) {
        *handoff_token = NULL;
    }
    memset(&item, 0, sizeof(item));
    item.environment = env_of(req->conf);
    item.item_id = got->item_id;
    item.client_user_id = req->user;
    item.institution_id = institution_of(req);
    item.status = "good";
    item.created = item.updated = apr_time_sec(apr_time_now());
    b = binding_of(&item);
    if ((why = plaid_seal(r->pool, &c->keys->current, &b, got->access_token,
                          &item.sealed))) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, PLLOGNO(0174)
                      "%s failed: %s status=500: the Item item_id=%s cannot "
                      "be sealed: %s", req->handler->what,
                      plaid_where(r, req),
                      plaid_log_quote(r->pool, got->item_id, ITEM_ID_MAX),
                      why);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if ((rc = plaid_item_put(r, req, &item)) != OK) {
        return rc;
    }
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, PLLOGNO(0175)
                  "Item kept: %s item_id=%s environment=%s",
                  plaid_where(r, req),
                  plaid_log_quote(r->pool, got->item_id, ITEM_ID_MAX),
                  item.environment);
    return OK;
}

/* ------------------------------------------------------------------ */
/* The gateway. */

static int api_refuse(request_rec *r, const plaid_request *req, int status,
                      const char *error, const char *why)
{
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, PLLOGNO(0176)
                  "api call refused: %s status=%d: %s; Plaid was not called",
                  plaid_where(r, req), status, why);
    plaid_answer_error(r, status, error, req->id);
    return DONE;
}

static int answered(request_rec *r, const plaid_request *req, int status)
{
    plaid_answer_error(r, status, status == HTTP_NOT_FOUND ? "Unknown Item"
                       : req->handler->generic_error, req->id);
    return DONE;
}

int plaid_items_api_body(request_rec *r, const plaid_request *req,
                         json_t *doc, char **body, apr_size_t *len)
{
    json_t *id = json_object_get(doc, "item_id");
    const char *token, *item_id;
    plaid_item item;
    char *text;
    int rc;

    if (json_object_get(doc, "access_token")) {
        if (req->conf->items.api_allow_access_token == 1) {
            return OK;
        }
        return api_refuse(r, req, HTTP_BAD_REQUEST, "Send the item_id, not "
                          "an access_token: this location keeps the Items",
                          "the body carries an access_token, and "
                          "PlaidItemStore keeps them "
                          "(PlaidApiAllowAccessToken is off)");
    }
    if (!id) {
        return OK;
    }
    if (!(item_id = json_string_value(id))) {
        return api_refuse(r, req, HTTP_BAD_REQUEST, "item_id must be a "
                          "string", "the body's item_id is not a string");
    }
    if ((rc = find_item(r, req, item_id, NULL, &item)) != OK
        || (rc = open_item(r, req, &item, &token)) != OK) {
        return answered(r, req, rc);
    }
    apr_table_setn(r->notes, "plaid-item-id", apr_pstrdup(r->pool, item_id));
    apr_table_setn(r->notes, "plaid-item-status", item.status);
    json_object_del(doc, "item_id");
    json_object_set_new(doc, "access_token", json_string(token));
    if (!(text = plaid_json_dump(r->pool, doc, len))) {
        return answered(r, req, HTTP_INTERNAL_SERVER_ERROR);
    }
    *body = text;
    return OK;
}

/* An error_code as a status ("error:<code>"), or NULL when it is not one
 * Plaid's codes could be. */
static const char *error_status(apr_pool_t *p, const char *code)
{
    return code && item_id_usable(code) && strlen(code) <= 64
        ? apr_pstrcat(p, "error:", code, NULL) : NULL;
}

/* What Plaid's answer to path says of the Item's status, or NULL: it
 * says nothing. /item/get's item.error is Plaid's word on the Item (null:
 * nothing wrong); elsewhere only ITEM_LOGIN_REQUIRED, the error Link's
 * update mode repairs, is the Item's rather than the call's. */
static const char *status_in_answer(apr_pool_t *p, const char *path,
                                    const plaid_result *res,
                                    const json_t *answer)
{
    if (res->outcome == PLAID_OK && answer
        && strcmp(path, "/item/get") == 0) {
        json_t *item = json_object_get(answer, "item");
        json_t *error = json_object_get(item, "error");

        if (!json_is_object(item)) {
            return NULL;
        }
        return !error || json_is_null(error) ? "good"
             : error_status(p, json_string_value(json_object_get(
                   error, "error_code")));
    }
    return res->error_type && strcmp(res->error_type, "ITEM_ERROR") == 0
           && res->error_code
           && strcmp(res->error_code, "ITEM_LOGIN_REQUIRED") == 0
        ? "error:ITEM_LOGIN_REQUIRED" : NULL;
}

/* Keep status for the Item, unless old (NULL: not known) is that
 * already; a change is said in a PL0178 line naming what said so. OK, or
 * 503 with its PL0171 line written. */
static int keep_status(request_rec *r, const plaid_request *req,
                       const char *item_id, const char *old,
                       const char *status, const char *source)
{
    int rc;

    if (!status || (old && strcmp(old, status) == 0)) {
        return OK;
    }
    rc = plaid_item_set_status(r, req, env_of(req->conf), item_id, status);
    if (rc == HTTP_SERVICE_UNAVAILABLE) {
        return rc;
    }
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, PLLOGNO(0178)
                  "Item status: %s item_id=%s status=%s from=%s%s",
                  plaid_where(r, req),
                  plaid_log_quote(r->pool, item_id, ITEM_ID_MAX), status,
                  source, rc == OK ? "" : " (not in the store: nothing kept)");
    return OK;
}

/* Plaid removed the Item: the store forgets it, said by PL0177. OK, or
 * the store's status with its line written. */
static int forget_item(request_rec *r, const plaid_request *req,
                       const char *env, const char *item_id)
{
    int rc = plaid_item_delete(r, req, env, item_id);

    if (rc == OK) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, PLLOGNO(0177)
                      "Item removed: %s item_id=%s: Plaid removed it, the "
                      "store forgot it", plaid_where(r, req),
                      plaid_log_quote(r->pool, item_id, ITEM_ID_MAX));
    }
    return rc;
}

void plaid_items_api_done(request_rec *r, const plaid_request *req,
                          const char *path, const plaid_result *res,
                          const json_t *answer)
{
    const char *item_id = apr_table_get(r->notes, "plaid-item-id");
    const char *old = apr_table_get(r->notes, "plaid-item-status");
    const char *status;

    if (!item_id) {
        return;
    }
    if (res->outcome == PLAID_OK && strcmp(path, "/item/remove") == 0) {
        forget_item(r, req, env_of(req->conf), item_id);
        return;
    }
    status = status_in_answer(r->pool, path, res, answer);
    /* Between webhooks, a call's "good" ends an error, and nothing else:
     * a pending expiration or disconnection is not over for it. */
    if (status && strcmp(status, "good") == 0
        && (!old || strncmp(old, "error", 5) != 0)) {
        return;
    }
    keep_status(r, req, item_id, old, status, path);   /* 503: logged */
}

/* ------------------------------------------------------------------ */
/* Link's update mode. */

int plaid_items_link_update(request_rec *r, plaid_request *req,
                            const char **body, apr_size_t *len)
{
    static const char *const products[] = {
        "products", "optional_products", "required_if_supported_products",
        "additional_consented_products", NULL
    };
    json_t *id = req->body ? json_object_get(req->body, "item_id") : NULL;
    const char *token;
    plaid_item item;
    json_t *doc;
    char *text;
    int rc, i;

    if (!id || !req->conf->items.store) {
        return OK;
    }
    if (!json_is_string(id)) {
        plaid_answer_error(r, HTTP_BAD_REQUEST, "item_id must be a string",
                           req->id);
        return DONE;
    }
    if ((rc = find_item(r, req, json_string_value(id), req->user, &item))
        != OK || (rc = open_item(r, req, &item, &token)) != OK) {
        return answered(r, req, rc);
    }
    /* Update mode: the Item's access_token, and no products. */
    if (!(doc = json_loads(*body, 0, NULL))) {
        return answered(r, req, HTTP_INTERNAL_SERVER_ERROR);
    }
    for (i = 0; products[i]; i++) {
        json_object_del(doc, products[i]);
    }
    json_object_set_new(doc, "access_token", json_string(token));
    text = plaid_json_dump(r->pool, doc, len);
    json_decref(doc);
    if (!text) {
        return answered(r, req, HTTP_INTERNAL_SERVER_ERROR);
    }
    *body = text;
    req->body_secret = 1;
    return OK;
}

/* ------------------------------------------------------------------ */
/* ITEM webhooks. */

/* The status an ITEM webhook gives its Item, or NULL: none. */
static const char *status_of(apr_pool_t *p, const json_t *doc)
{
    const char *code = json_string_value(json_object_get(doc, "webhook_code"));
    const char *error;

    if (!code) {
        return NULL;
    }
    if (strcmp(code, "ERROR") == 0) {
        json_t *e = json_object_get(doc, "error");

        error = error_status(p, json_string_value(json_object_get(
                    e, "error_code")));
        return error ? error : "error";
    }
    return strcmp(code, "PENDING_EXPIRATION") == 0 ? "pending_expiration"
         : strcmp(code, "PENDING_DISCONNECT") == 0 ? "pending_disconnect"
         : strcmp(code, "USER_PERMISSION_REVOKED") == 0 ? "revoked"
         : strcmp(code, "LOGIN_REPAIRED") == 0 ? "good" : NULL;
}

int plaid_items_webhook(request_rec *r, const plaid_request *req,
                        const json_t *doc)
{
    const char *type = json_string_value(json_object_get(doc, "webhook_type"));
    const char *item_id = json_string_value(json_object_get(doc, "item_id"));
    const char *status;

    if (!req->conf->items.store || !type || strcmp(type, "ITEM") != 0
        || !item_id || !item_id_usable(item_id)
        || !(status = status_of(r->pool, doc))) {
        return OK;
    }
    if (keep_status(r, req, item_id, NULL, status, "webhook") != OK) {
        /* Plaid sends the webhook again. */
        plaid_answer_error(r, HTTP_SERVICE_UNAVAILABLE,
                           req->handler->generic_error, req->id);
        return DONE;
    }
    return OK;
}

/* ------------------------------------------------------------------ */
/* SetHandler plaid-items: the signed-in user's Items. */

/* An Item as plaid-items shows it: never its token. */
static json_t *item_json(const plaid_item *it)
{
    return json_pack("{s:s, s:s?, s:s, s:I, s:I}", "item_id", it->item_id,
                     "institution_id",
                     *it->institution_id ? it->institution_id : NULL,
                     "status", it->status, "created", (json_int_t)it->created,
                     "updated", (json_int_t)it->updated);
}

/* {"<name>": value, "request_id"} as the answer; takes value. */
static int answer_items(request_rec *r, const plaid_request *req,
                        const char *name, json_t *value)
{
    json_t *doc = json_pack("{s:o, s:s}", name, value, "request_id", req->id);
    apr_size_t len = 0;
    char *text = doc ? plaid_json_dump(r->pool, doc, &len) : NULL;

    json_decref(doc);
    if (!text) {
        return answered(r, req, HTTP_INTERNAL_SERVER_ERROR);
    }
    plaid_answer_body(r, HTTP_OK, text, len);
    return DONE;
}

static int list_items(request_rec *r, const plaid_request *req)
{
    apr_array_header_t *items;
    json_t *list;
    int rc, i;

    if ((rc = plaid_item_list(r, req, env_of(req->conf), req->user, &items))
        != OK) {
        return answered(r, req, rc);
    }
    list = json_array();
    for (i = 0; i < items->nelts; i++) {
        json_array_append_new(list, item_json(&APR_ARRAY_IDX(items, i,
                                                             plaid_item)));
    }
    return answer_items(r, req, "items", list);
}

static void read_item_status(apr_pool_t *p, const json_t *answer,
                             plaid_result *res, void *out)
{
    *(const char **)out = status_in_answer(p, "/item/get", res, answer);
}

/* path called for the signed-in user's Item item_id, with its
 * access_token as the whole body, the success read into out: OK (*item
 * its row), or the status with its line written. */
static int call_for_item(request_rec *r, plaid_request *req,
                         const char *item_id, const char *path,
                         plaid_read_fn *read, void *out, plaid_item *item)
{
    const char *token, *body;
    plaid_result res;
    apr_size_t len = 0;
    json_t *doc;
    int rc;

    if ((rc = find_item(r, req, item_id, req->user, item)) != OK
        || (rc = open_item(r, req, item, &token)) != OK) {
        return rc;
    }
    doc = json_pack("{s:s}", "access_token", token);
    body = doc ? plaid_json_dump(r->pool, doc, &len) : NULL;
    json_decref(doc);
    req->body_secret = 1;
    return plaid_call_endpoint(r, req, path, body, len, read, out, &res);
}

/* POST <location>/<item_id>: Plaid's word on the Item (/item/get), kept
 * as its status, whatever it was: the page asks after Link's update mode,
 * which ends a pending expiration or disconnection as well as an error. */
static int check_item(request_rec *r, plaid_request *req,
                      const char *item_id)
{
    const char *status = NULL;
    plaid_item item;
    int rc;

    if ((rc = call_for_item(r, req, item_id, "/item/get", read_item_status,
                            &status, &item)) != OK) {
        return answered(r, req, rc);
    }
    if (status && strcmp(status, item.status) != 0) {
        if ((rc = keep_status(r, req, item_id, item.status, status,
                              "/item/get")) != OK) {
            return answered(r, req, rc);
        }
        item.status = status;
        item.updated = apr_time_sec(apr_time_now());
    }
    return answer_items(r, req, "item", item_json(&item));
}

static int remove_item(request_rec *r, plaid_request *req,
                       const char *item_id)
{
    const char *const fields[] = {
        "removed", item_id, "request_id", req->id, NULL
    };
    plaid_item item;
    int rc;

    if ((rc = call_for_item(r, req, item_id, "/item/remove", NULL, NULL,
                            &item)) != OK
        || (rc = forget_item(r, req, item.environment, item_id)) != OK) {
        return answered(r, req, rc);
    }
    plaid_answer(r, HTTP_OK, fields);
    return DONE;
}

/* What follows the handler's <Location> in the URL, or NULL. */
static const char *rest_of(request_rec *r, const plaid_conf *c)
{
    const char *at = c->handler.endpoint ? c->handler.endpoint->location
                                         : NULL;
    apr_size_t n;

    if (!at || *at != '/') {
        return NULL;
    }
    n = strlen(at);
    while (n > 1 && at[n - 1] == '/') {
        n--;
    }
    return strncmp(r->uri, at, n) == 0 ? r->uri + n : NULL;
}

int plaid_items_handler(request_rec *r, plaid_request *req)
{
    const char *rest = rest_of(r, req->conf);

    if (rest && r->method_number == M_GET && (!*rest || !strcmp(rest, "/"))) {
        list_items(r, req);
        return OK;
    }
    if (rest && rest[0] == '/' && item_id_usable(rest + 1)) {
        if (r->method_number == M_DELETE) {
            remove_item(r, req, rest + 1);
            return OK;
        }
        if (r->method_number == M_POST) {
            check_item(r, req, rest + 1);
            return OK;
        }
    }
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, PLLOGNO(0179)
                  "items request refused: %s status=404: not GET of the "
                  "location nor POST or DELETE of <location>/<item_id>",
                  plaid_where(r, req));
    plaid_answer_error(r, HTTP_NOT_FOUND, "Not found", req->id);
    return OK;
}
