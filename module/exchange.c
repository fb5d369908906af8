/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SetHandler plaid-public-token-exchange: the browser hands in Link's
 * public_token; the module exchanges it with Plaid for the Item's
 * access_token and item_id, and hands them to the site's application by
 * an internal redirect to PlaidExchangeHandoff, in its environment:
 *
 *     PLAID_ACCESS_TOKEN  PLAID_ITEM_ID  PLAID_CLIENT_USER_ID  PLAID_REQUEST_ID
 *
 * The application (PHP, a CGI, a proxied app server) stores the Item and
 * writes the browser's answer. The access_token goes nowhere else: no log
 * line, no answer of the module's. (The hand-off itself: handoff.c.)
 */
#include "glue.h"

static void read_exchange(apr_pool_t *p, const json_t *answer,
                          plaid_result *res, void *out)
{
    plaid_exchange_read(p, answer, res, out);
}

/* The browser's {"public_token": "public-..."}, or NULL and why not. */
static const char *public_token_of(const plaid_request *req,
                                   const char **why)
{
    json_t *v = req->body ? json_object_get(req->body, "public_token") : NULL;
    const char *token;

    if (!v) {
        *why = "the body has no public_token";
        return NULL;
    }
    if (!json_is_string(v)) {
        *why = "the public_token is not a string";
        return NULL;
    }
    token = json_string_value(v);
    if ((*why = plaid_check_public_token(token))) {
        return NULL;
    }
    return token;
}

int plaid_exchange_handler(request_rec *r, plaid_request *req)
{
    const char *token, *why = NULL, *body, *handoff_token;
    plaid_handoff *h;
    plaid_exchange item;
    plaid_result res;
    apr_size_t len = 0;
    int status;

    if (!(token = public_token_of(req, &why))) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, PLLOGNO(0113)
                      "browser request refused: id=%s status=400: %s; Plaid "
                      "was not called", req->id, why);
        return plaid_answer_error(r, HTTP_BAD_REQUEST,
                                  "Request body must carry a public_token",
                                  req->id);
    }
    body = plaid_exchange_body(r->pool, token, &len);
    status = plaid_call_endpoint(r, req, PLAID_EXCHANGE_PATH, body, len,
                                 read_exchange, &item, &res);
    if (status != OK) {
        return plaid_answer_error(r, status, req->handler->generic_error,
                                  req->id);
    }
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, PLLOGNO(0115)
                  "public_token exchanged: %s "
                  "item_id=%s request_id=%s elapsed_ms=%ld handoff=%s",
                  plaid_where(r, req), plaid_log_quote(r->pool, item.item_id,
                                           PLAID_LOG_FIELD_MAX),
                  plaid_log_quote(r->pool, res.request_id,
                                  PLAID_LOG_FIELD_MAX),
                  res.elapsed_ms, req->conf->exchange.handoff);
    /* PlaidItemStore: the Item kept, its access_token not handed off. */
    if ((status = plaid_items_exchanged(r, req, &item, &handoff_token))
        != OK) {
        return plaid_answer_error(r, status, req->handler->generic_error,
                                  req->id);
    }
    h = apr_pcalloc(r->pool, sizeof(*h));
    h->values[PLAID_VAR_ACCESS_TOKEN] = handoff_token;
    h->values[PLAID_VAR_ITEM_ID] = item.item_id;
    h->values[PLAID_VAR_CLIENT_USER_ID] = req->user;
    h->values[PLAID_VAR_REQUEST_ID] = res.request_id;
    plaid_handoff_to(r, req->conf->exchange.handoff, h);
    return OK;
}
