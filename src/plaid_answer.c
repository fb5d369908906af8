/*
 * Plaid's answer: a LinkTokenCreateResponse or a PlaidError. Everything
 * found is copied into the request's pool, so the caller can log it after
 * the jansson tree is gone.
 */
#include <string.h>

#include <apr_strings.h>

#include "plaid_link.h"

/* A string member, or NULL when it is absent, null or not a string. */
static const char *member(apr_pool_t *p, const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);

    return json_is_string(v) ? apr_pstrmemdup(p, json_string_value(v),
                                              json_string_length(v))
                             : NULL;
}

static plaid_outcome outcome_for_error(long status, const char *error_type)
{
    if (status == 429
        || (error_type && strcmp(error_type, "RATE_LIMIT_EXCEEDED") == 0)) {
        return PLAID_FAIL_RATE_LIMITED;
    }
    if (status == 502 || status == 503 || status == 504) {
        return PLAID_FAIL_UNREACHABLE;
    }
    if (status >= 400) {
        return PLAID_FAIL_REFUSED;
    }
    return PLAID_FAIL_UNUSABLE;
}

static void parse_success(apr_pool_t *p, json_t *root, plaid_result *res)
{
    json_error_t err;
    const char *token, *expiration, *request_id;

    if (json_unpack_ex(root, &err, 0, "{s:s, s:s, s:s}", "link_token", &token,
                       "expiration", &expiration, "request_id",
                       &request_id) != 0) {
        res->outcome = PLAID_FAIL_UNUSABLE;
        res->problem = apr_psprintf(p, "the answer is not a "
                                    "LinkTokenCreateResponse: %s", err.text);
        res->request_id = member(p, root, "request_id");
        return;
    }
    if (!*token) {
        res->outcome = PLAID_FAIL_UNUSABLE;
        res->problem = "the answer's link_token is empty";
        return;
    }
    res->outcome = PLAID_OK;
    res->link_token = apr_pstrdup(p, token);
    res->expiration = apr_pstrdup(p, expiration);
    res->request_id = apr_pstrdup(p, request_id);
}

static void parse_error(apr_pool_t *p, long status, json_t *root,
                        plaid_result *res)
{
    res->error_type = member(p, root, "error_type");
    res->error_code = member(p, root, "error_code");
    res->error_message = member(p, root, "error_message");
    res->display_message = member(p, root, "display_message");
    res->request_id = member(p, root, "request_id");
    res->documentation_url = member(p, root, "documentation_url");
    res->suggested_action = member(p, root, "suggested_action");
    res->outcome = outcome_for_error(status, res->error_type);
    if (!res->error_code) {
        res->problem = "the error answer is not a PlaidError (no error_code)";
    }
}

void plaid_parse_answer(apr_pool_t *p, long http_status, const char *body,
                        apr_size_t len, plaid_result *res)
{
    json_error_t err;
    json_t *root;
    int ok = http_status >= 200 && http_status < 300;

    res->http_status = http_status;
    root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &err);
    if (!root || !json_is_object(root)) {
        res->outcome = ok ? PLAID_FAIL_UNUSABLE
                          : outcome_for_error(http_status, NULL);
        res->problem = root ? "the answer is JSON but not an object"
                            : apr_psprintf(p, "the answer is not JSON: %s "
                                           "(position %d of %lu bytes)",
                                           err.text, err.position,
                                           (unsigned long)len);
        json_decref(root);
        return;
    }
    if (ok) {
        parse_success(p, root, res);
    }
    else {
        parse_error(p, http_status, root, res);
    }
    json_decref(root);
}

int plaid_browser_status(plaid_outcome outcome)
{
    switch (outcome) {
    case PLAID_OK:                return 200;
    case PLAID_FAIL_UNREACHABLE:
    case PLAID_FAIL_RATE_LIMITED: return 503;
    case PLAID_FAIL_TIMEOUT:      return 504;
    case PLAID_FAIL_REFUSED:
    case PLAID_FAIL_UNUSABLE:
    case PLAID_FAIL_TLS:          break;
    }
    return 502;
}

#define PRODUCT_NOT_ENABLED_HINT                                            \
    "a product in PlaidProducts is not enabled for this client id in this "  \
    "environment: enable it in the Plaid dashboard or remove it"

/* The known causes, by Plaid error_code (and a word of error_message where
 * one code covers several causes). First match wins. */
static const struct {
    const char *error_code;
    const char *message_word;   /* NULL: any message */
    const char *hint;
} error_hints[] = {
    { "INVALID_API_KEYS", NULL,
      "the client id and secret do not match this environment: PlaidSecret "
      "must be the PlaidEnv environment's secret for PlaidClientId "
      "(sandbox and production secrets differ)" },
    { "UNAUTHORIZED_ENVIRONMENT", NULL,
      "this client id is not enabled for the PlaidEnv environment; request "
      "access in the Plaid dashboard or use sandbox" },
    { "INVALID_FIELD", "redirect",
      "PlaidRedirectURI must be registered, exactly, under Allowed redirect "
      "URIs in the Plaid dashboard" },
    { "INVALID_PRODUCT", NULL, PRODUCT_NOT_ENABLED_HINT },
    { "PRODUCTS_NOT_SUPPORTED", NULL, PRODUCT_NOT_ENABLED_HINT },
    { "PRODUCT_NOT_ENABLED", NULL, PRODUCT_NOT_ENABLED_HINT },
    { "MISSING_FIELDS", NULL,
      "a required field is missing: check the Plaid* directives and "
      "PlaidLinkTokenExtra" },
    { "INVALID_FIELD", NULL,
      "a field is invalid: check the Plaid* directives and "
      "PlaidLinkTokenExtra against Plaid's /link/token/create reference" },
    { "UNKNOWN_FIELDS", NULL,
      "a field is unknown to Plaid: check PlaidLinkTokenExtra" },
    { "INVALID_BODY", NULL,
      "Plaid could not read the request body: check PlaidLinkTokenExtra" },
    { "INVALID_CONFIGURATION", NULL,
      "Plaid rejected the configuration of this Link session: check the "
      "Plaid* directives and PlaidLinkTokenExtra" },
    { "RATE_LIMIT", NULL,
      "Plaid rate-limited this client id: too many link tokens in a short "
      "time; retry later" },
    { "INTERNAL_SERVER_ERROR", NULL,
      "Plaid had an internal error: retry later, and check Plaid's status "
      "page" },
    { "PLANNED_MAINTENANCE", NULL,
      "Plaid is in planned maintenance: retry later" },
};

static const char *outcome_hint(plaid_outcome outcome)
{
    switch (outcome) {
    case PLAID_FAIL_TIMEOUT:
        return "no answer within PlaidTimeout: check egress to the Plaid "
               "host (firewall, proxy), or raise PlaidTimeout";
    case PLAID_FAIL_UNREACHABLE:
        return "Plaid could not be reached or is unavailable: check DNS, "
               "firewall and egress proxy for the PlaidEnv or PlaidBaseURL "
               "host";
    case PLAID_FAIL_TLS:
        return "TLS verification of the Plaid host failed: check "
               "PlaidCACertificate and the host name in PlaidBaseURL";
    case PLAID_FAIL_RATE_LIMITED:
        return "Plaid rate-limited this client id: retry later";
    case PLAID_FAIL_UNUSABLE:
        return "the answer was not Plaid's: does PlaidBaseURL point at Plaid, "
               "or does a proxy on the way rewrite answers?";
    case PLAID_FAIL_REFUSED:
    case PLAID_OK:
        break;
    }
    return NULL;
}

const char *plaid_hint(const plaid_result *res)
{
    apr_size_t i;

    if (res->error_code) {
        for (i = 0; i < sizeof(error_hints) / sizeof(error_hints[0]); i++) {
            if (strcmp(error_hints[i].error_code, res->error_code) != 0) {
                continue;
            }
            if (error_hints[i].message_word
                && !(res->error_message
                     && strstr(res->error_message,
                               error_hints[i].message_word))) {
                continue;
            }
            return error_hints[i].hint;
        }
    }
    return outcome_hint(res->outcome);
}
