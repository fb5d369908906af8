/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SetHandler plaid-link-token: a link_token for the signed-in user, from
 * the body the directives describe (serialized at start-up but for the
 * user id).
 */
#include "glue.h"

static void read_link_token(apr_pool_t *p, const json_t *answer,
                            plaid_result *res, void *out)
{
    plaid_link_token_read(p, answer, res, out);
}

int plaid_link_token_handler(request_rec *r, plaid_request *req)
{
    const plaid_link_conf *c = &req->conf->link;
    plaid_link_token token;
    plaid_result res;
    apr_size_t len = 0;
    const char *body;
    int status;

    body = c->body_template
        ? plaid_body_from_template(r->pool, c->body_template, req->user, &len)
        : plaid_link_token_body(r->pool, &c->fields, req->user, &len);
    /* PlaidItemStore and {"item_id"}: Link's update mode for that Item. */
    if (body && plaid_items_link_update(r, req, &body, &len) != OK) {
        return OK;   /* answered */
    }
    status = plaid_call_endpoint(r, req, PLAID_LINK_TOKEN_PATH, body, len,
                        read_link_token, &token, &res);
    if (status != OK) {
        return plaid_answer_error(r, status, req->handler->generic_error,
                                  req->id);
    }
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, PLLOGNO(0101)
                  "link_token created: %s "
                  "request_id=%s elapsed_ms=%ld",
                  plaid_where(r, req), plaid_log_quote(r->pool, res.request_id,
                                           PLAID_LOG_FIELD_MAX),
                  res.elapsed_ms);
    {
        const char *const fields[] = {
            "link_token", token.link_token, "expiration", token.expiration,
            "request_id", req->id, NULL
        };

        return plaid_answer(r, 200, fields);
    }
}
