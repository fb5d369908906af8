/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The sealing of an Item's access_token for the Item store
 * (src/plaid_seal.c): AES-256-GCM under PlaidItemKey, with the Item's
 * environment, item_id and client_user_id as additional authenticated
 * data, so that a sealed token copied to another Item, user or
 * environment does not open. No httpd header; unit-tested in
 * tests/unit/test_seal.c.
 *
 * A sealed token is text, safe in any SQL column:
 *
 *     v1.<key id: 8 hex digits>.<base64: 12-byte nonce, ciphertext, tag>
 *
 * The key id (the first 4 bytes of SHA-256 of the key) says which of the
 * keys opens it, so that a previous key can still open the rows it
 * sealed while the new one seals.
 */
#ifndef PLAID_SEAL_H
#define PLAID_SEAL_H

#include "plaid.h"

#define PLAID_SEAL_KEY_BYTES 32
/* The longest access_token sealed: Plaid's are ~60 bytes. */
#define PLAID_SEAL_PLAIN_MAX 512

typedef struct {
    unsigned char bytes[PLAID_SEAL_KEY_BYTES];
    char id[9];                /* 8 hex digits */
} plaid_seal_key;

/* What a sealed token is bound to. */
typedef struct {
    const char *environment;
    const char *item_id;
    const char *client_user_id;
} plaid_seal_binding;

/* 64 hex digits (openssl rand -hex 32), surrounding white space allowed,
 * into key. NULL, or why not (never quoting the text). */
const char *plaid_seal_key_parse(const char *text, plaid_seal_key *key);

/* plain sealed under key for b, into *sealed (from p). NULL, or why not. */
const char *plaid_seal(apr_pool_t *p, const plaid_seal_key *key,
                       const plaid_seal_binding *b, const char *plain,
                       const char **sealed);

/* sealed opened with whichever of the n keys its key id names, into
 * *plain (from p), with *used the key that opened it. NULL, or why not:
 * no such key, tampered, or sealed for another binding (these two cannot
 * be told apart, by design). */
const char *plaid_unseal(apr_pool_t *p, const plaid_seal_key *const *keys,
                         int n, const plaid_seal_binding *b,
                         const char *sealed, const char **plain,
                         const plaid_seal_key **used);

#endif
