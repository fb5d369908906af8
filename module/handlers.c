/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The handlers, one row each: the table that dispatch (mod_plaid_link.c),
 * the request intake (request.c), the start-up checks (check.c), the
 * metrics' labels (metrics.c) and t/docs.t read. A new handler is its
 * own file and a row here.
 */
#include <stddef.h>

#include "glue.h"

#define NEEDS(directive, field) { directive, offsetof(plaid_conf, field), 0 }

/* Every handler that calls Plaid needs the connection. */
#define CONNECTION                                                          \
    NEEDS("PlaidClientId", conn.client_id),                                 \
    NEEDS("PlaidSecret", conn.secret),                                      \
    { "PlaidEnv (or PlaidBaseURL)", offsetof(plaid_conf, conn.env),         \
      offsetof(plaid_conf, conn.base_url) }

#define END { NULL, 0, 0 }

static const plaid_requirement link_token_needs[] = {
    CONNECTION,
    NEEDS("PlaidClientName", link.fields.client_name),
    NEEDS("PlaidLanguage", link.fields.language),
    NEEDS("PlaidCountryCodes", link.fields.country_codes),
    NEEDS("PlaidProducts", link.fields.products),
    END
};

static const plaid_requirement exchange_needs[] = {
    CONNECTION, NEEDS("PlaidExchangeHandoff", exchange.handoff), END
};

static const plaid_requirement webhook_needs[] = {
    CONNECTION, NEEDS("PlaidWebhookHandoff", webhook.handoff), END
};

static const plaid_requirement api_needs[] = {
    CONNECTION,
    NEEDS("PlaidApiPaths (in the <Location> itself)", api.paths),
    END
};

static const plaid_requirement items_needs[] = {
    CONNECTION,
    NEEDS("PlaidItemStore", items.store),
    NEEDS("PlaidItemKey", items.keys),
    END
};

static const plaid_requirement no_needs[] = { END };

static const plaid_handler handlers[] = {
    { .name = "plaid-link-token",
      .what = "link_token request",
      .generic_error = "Unable to fetch link_token",
      .intake = PLAID_INTAKE_BROWSER,
      .needs = link_token_needs,
      .needs_why = "Plaid's /link/token/create requires them",
      .log_body = 1,
      .run = plaid_link_token_handler },
    { .name = "plaid-public-token-exchange",
      .what = "public_token exchange",
      .generic_error = "Unable to link the account",
      .intake = PLAID_INTAKE_BROWSER,
      .needs = exchange_needs,
      .needs_why = "the exchange needs credentials, a Plaid host and the "
                   "application to hand the Item to",
      .handoff_at = offsetof(plaid_conf, exchange.handoff),
      .log_body = 1,
      .run = plaid_exchange_handler },
    { .name = "plaid-webhook",
      .what = "webhook",
      .generic_error = "Webhook not accepted",
      .intake = PLAID_INTAKE_SERVER,
      .needs = webhook_needs,
      .needs_why = "verifying a webhook needs credentials, a Plaid host "
                   "and the application to hand it to",
      .handoff_at = offsetof(plaid_conf, webhook.handoff),
      .needs_store = 1,
      .log_body = 1,
      .run = plaid_webhook_handler },
    { .name = "plaid-api",
      .what = "api call",
      .generic_error = "Unable to call Plaid",
      .intake = PLAID_INTAKE_SERVER,
      .needs = api_needs,
      .needs_why = "the gateway needs credentials, a Plaid host and the "
                   "paths it may call",
      .refuse_caller = plaid_api_refuse_caller,
      .check = plaid_api_check,
      /* A page of /transactions/sync is far larger than a link token; its
       * bodies carry access_tokens, never logged. */
      .answer_max = PLAID_API_ANSWER_MAX,
      .run = plaid_api_handler },
    { .name = "plaid-items",
      .what = "items request",
      .generic_error = "Unable to manage the Items",
      .intake = PLAID_INTAKE_BROWSER,
      /* GET lists the user's Items, POST <location>/<item_id> asks Plaid
       * how one is, DELETE <location>/<item_id> removes it; its bodies to
       * Plaid carry access_tokens, never logged. */
      .methods = "GET, POST, DELETE",
      .needs = items_needs,
      .needs_why = "the Items are kept in the store, sealed under the key, "
                   "and removed at Plaid",
      .run = plaid_items_handler },
    { .name = "plaid-metrics",
      .what = "metrics request",
      .generic_error = "Metrics unavailable",
      .intake = PLAID_INTAKE_OWN,
      .needs = no_needs,
      .needs_why = "it needs none",
      .uncounted = 1,
      .run = plaid_serve_metrics },
};

const plaid_handler *plaid_handler_named(const char *name)
{
    apr_size_t i;

    for (i = 0; name && i < sizeof(handlers) / sizeof(handlers[0]); i++) {
        if (strcmp(name, handlers[i].name) == 0) {
            return &handlers[i];
        }
    }
    return NULL;
}

const char *plaid_missing(apr_pool_t *p, const plaid_conf *c,
                          const plaid_handler *h)
{
    const plaid_requirement *n;
    const char *lack = NULL;

    for (n = h->needs; n->directive; n++) {
        if (!plaid_conf_field(c, n->at)
            && !(n->or_at && plaid_conf_field(c, n->or_at))) {
            lack = lack ? apr_pstrcat(p, lack, ", ", n->directive, NULL)
                        : n->directive;
        }
    }
    return lack;
}

const char *plaid_handoff_of(const plaid_conf *c, const plaid_handler *h)
{
    return h->handoff_at ? plaid_conf_field(c, h->handoff_at) : NULL;
}

void plaid_note_handoffs(apr_pool_t *pconf, const plaid_conf *c)
{
    apr_size_t i;
    const char *path;

    for (i = 0; c && i < sizeof(handlers) / sizeof(handlers[0]); i++) {
        if ((path = plaid_handoff_of(c, &handlers[i]))) {
            plaid_note_handoff(pconf, path);
        }
    }
}
