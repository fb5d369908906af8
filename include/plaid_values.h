/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Directive values and the per-request user id (src/plaid_values.c). Each
 * check returns NULL when the value is good, else a message for the admin
 * that never quotes a secret.
 */
#ifndef PLAID_VALUES_H
#define PLAID_VALUES_H

#include "plaid.h"

/* "sandbox" or "production" to its API host. */
const char *plaid_env_url(const char *env, const char **url);

/* Whether ip (text) is a loopback address: 127.0.0.0/8, ::1, or 127/8
 * mapped into IPv6. */
int plaid_is_loopback_ip(const char *ip);

/* https, or http to a loopback host; *normalized loses a trailing '/'. */
const char *plaid_check_base_url(apr_pool_t *p, const char *url,
                                 const char **normalized);

/* A secret (PlaidSecret) or key (PlaidUserIdHashKey) and where it came
 * from. */
typedef struct {
    const char *value;
    const char *env_name;   /* env:NAME: the variable the glue removes */
    int is_inline;          /* written in the configuration itself */
    int others_can_read;    /* file: readable by users other than its owner */
} plaid_secret;

/* "file:/path", "env:NAME" or the value itself; what names the directive
 * in messages. For env:NAME, env_value (when not NULL) is the value read
 * before the variable was removed from the environment; otherwise the
 * environment is read. A relative file path is taken as given; the glue
 * makes it absolute. */
const char *plaid_resolve_secret(apr_pool_t *p, const char *what,
                                 const char *spec, const char *env_value,
                                 plaid_secret *out);

/* Removes the variable name from this process's environment after
 * overwriting its value, in place, with as many zero bytes: what a child
 * forked later (or /proc/<pid>/environ) shows holds no trace of it. */
void plaid_env_erase(const char *name);

/* NULL when value can travel in an HTTP header: visible ASCII only, no
 * space, CR, LF or other control. The message never quotes the value. */
const char *plaid_check_credential(apr_pool_t *p, const char *what,
                                   const char *value);

/* A Retry-After in seconds (capped at PLAID_RETRY_AFTER_MAX_S), 0 when it
 * is absent or not a number of seconds (an HTTP-date is not honoured). */
long plaid_retry_after_s(const char *value);

/* Whether an ap_expr string has a part that varies (%{...}, $1): one
 * without gives every user the same client_user_id. */
int plaid_expr_has_variable(const char *expr);

/* "2", "0.5", "1500ms" to milliseconds, > 0 and at most 10 minutes. */
const char *plaid_parse_duration(const char *text, long *ms);

/* A JSON object for PlaidLinkTokenExtra. The object is released with p. */
const char *plaid_parse_extra(apr_pool_t *p, const char *text, json_t **extra);

/* NULL when id may be sent as user.client_user_id. */
const char *plaid_check_user_id(const char *id);

/* The lowercase hex HMAC-SHA256 of id under key (PlaidUserIdHashKey);
 * NULL when OpenSSL fails. */
const char *plaid_user_id_hmac(apr_pool_t *p, const char *key,
                               apr_size_t key_len, const char *id);

/* A list directive's arguments written with commas ("US,CA", "US, CA"),
 * as they would be with spaces ("US CA"); NULL when args has no comma. */
const char *plaid_spaced_list(apr_pool_t *p, const char *args);

/* "...4567": enough to tell client ids apart in a log. */
const char *plaid_mask(apr_pool_t *p, const char *id);

/* url with its userinfo (user:password@) shown as "(hidden)@", for
 * PlaidProxy in mod_info and in messages; url itself when it has none. */
const char *plaid_hide_userinfo(apr_pool_t *p, const char *url);

/* A log-safe, double-quoted rendering of untrusted text, cut at max bytes. */
const char *plaid_log_quote(apr_pool_t *p, const char *text, apr_size_t max);

#endif
