/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What a call came to (src/plaid_error.c): Plaid's answer classified, its
 * PlaidError read, the browser's status and a hint for the admin. Shared
 * by every endpoint; each endpoint parses its own success body.
 */
#ifndef PLAID_ERROR_H
#define PLAID_ERROR_H

#include "plaid.h"
#include "plaid_http.h"

typedef struct {
    plaid_outcome outcome;
    long http_status;          /* Plaid's, 0 when there was no answer */
    const char *request_id;    /* Plaid's, on success and failure */
    /* PlaidError */
    const char *error_type;
    const char *error_code;
    const char *error_message;
    const char *display_message;
    const char *documentation_url;
    const char *suggested_action;
    /* the transport's, and our own findings */
    const char *retry_after;
    const char *curl_error;
    const char *problem;
    const char *url;
    long elapsed_ms;
    int attempts;
} plaid_result;

/* Classify resp into res. A 2xx answer that is a JSON object gives
 * outcome PLAID_OK and returns the object, for the endpoint to read its
 * fields (plaid_link_token_read, ...; json_decref it then); anything else
 * is a failure that res explains, and NULL. */
json_t *plaid_result_from(apr_pool_t *p, const plaid_response *resp,
                          plaid_result *res);

/* A success the endpoint found unusable: why, for the log. */
void plaid_result_unusable(plaid_result *res, const char *problem);

/* The browser's status for an outcome: 200, 502, 503 or 504. */
int plaid_browser_status(plaid_outcome outcome);

/* A hint for the admin, or NULL. */
const char *plaid_hint(const plaid_result *res);

#endif
