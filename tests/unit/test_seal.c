/* SPDX-License-Identifier: Apache-2.0 */
/* The sealing of access_tokens: keys, round trips, bindings, tampering. */
#include <apr_strings.h>

#include "plaid_seal.h"
#include "unit.h"

#define KEY_A "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
#define KEY_B "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100"
#define TOKEN "access-sandbox-8ab976e6-64bc-4b38-98f7-731e7a349970"

static const plaid_seal_binding item = {
    "sandbox", "eVBnVMp7zdTJLkRNr33Rs6zr7KNJqBFL9DrE6", "user-1"
};

static void keys(apr_pool_t *p)
{
    plaid_seal_key k, k2;

    (void)p;
    CHECK(plaid_seal_key_parse(KEY_A, &k) == NULL);
    CHECK(k.bytes[0] == 0x00 && k.bytes[1] == 0x11 && k.bytes[31] == 0xff);
    CHECK(strlen(k.id) == 8);
    CHECK(plaid_seal_key_parse("  " KEY_A "\n", &k2) == NULL);
    CHECK_STR(k2.id, k.id);
    CHECK(plaid_seal_key_parse(KEY_B, &k2) == NULL);
    CHECK(strcmp(k2.id, k.id) != 0);
    CHECK_HAS(plaid_seal_key_parse("abc", &k), "64 hex digits");
    CHECK_HAS(plaid_seal_key_parse("", &k), "64 hex digits");
    CHECK_HAS(plaid_seal_key_parse(KEY_A "00", &k), "longer");
    CHECK_HAS(plaid_seal_key_parse("zz" KEY_A, &k), "64 hex digits");
    /* A passphrase is no key. */
    CHECK(plaid_seal_key_parse("correct horse battery staple correct horse "
                               "battery staple 12345", &k) != NULL);
}

static void round_trip(apr_pool_t *p)
{
    plaid_seal_key k;
    const plaid_seal_key *keys[1] = { &k }, *used = NULL;
    const char *sealed = NULL, *sealed2 = NULL, *plain = NULL;

    plaid_seal_key_parse(KEY_A, &k);
    CHECK(plaid_seal(p, &k, &item, TOKEN, &sealed) == NULL);
    CHECK(sealed && strncmp(sealed, "v1.", 3) == 0);
    CHECK(sealed && strncmp(sealed + 3, k.id, 8) == 0);
    CHECK(sealed && !strstr(sealed, "access-sandbox"));
    CHECK(plaid_unseal(p, keys, 1, &item, sealed, &plain, &used) == NULL);
    CHECK_STR(plain, TOKEN);
    CHECK(used == &k);
    /* A fresh nonce each time. */
    CHECK(plaid_seal(p, &k, &item, TOKEN, &sealed2) == NULL);
    CHECK(sealed2 && strcmp(sealed, sealed2) != 0);
    CHECK_HAS(plaid_seal(p, &k, &item, "", &sealed), "empty");
}

static void bindings(apr_pool_t *p)
{
    plaid_seal_key k;
    const plaid_seal_key *keys[1] = { &k };
    const char *sealed = NULL, *plain = "x";
    plaid_seal_binding other = item;

    plaid_seal_key_parse(KEY_A, &k);
    plaid_seal(p, &k, &item, TOKEN, &sealed);
    other.client_user_id = "user-2";
    CHECK_HAS(plaid_unseal(p, keys, 1, &other, sealed, &plain, NULL),
              "does not open");
    CHECK(plain == NULL);
    other = item;
    other.item_id = "another-item";
    CHECK_HAS(plaid_unseal(p, keys, 1, &other, sealed, &plain, NULL),
              "does not open");
    other = item;
    other.environment = "production";
    CHECK_HAS(plaid_unseal(p, keys, 1, &other, sealed, &plain, NULL),
              "does not open");
    /* The separators keep fields from sliding into each other. */
    other.environment = "sandbox";
    other.item_id = "eVBnVMp7zdTJLkRNr33Rs6zr7KNJqBFL9DrE";
    other.client_user_id = "6user-1";
    CHECK(plaid_unseal(p, keys, 1, &other, sealed, &plain, NULL) != NULL);
    other = item;
    other.client_user_id = NULL;
    CHECK(plaid_unseal(p, keys, 1, &other, sealed, &plain, NULL) != NULL);
}

static void tampered(apr_pool_t *p)
{
    plaid_seal_key k;
    const plaid_seal_key *keys[1] = { &k };
    const char *sealed = NULL, *plain = NULL;
    char *bad;
    apr_size_t n;

    plaid_seal_key_parse(KEY_A, &k);
    plaid_seal(p, &k, &item, TOKEN, &sealed);
    bad = apr_pstrdup(p, sealed);
    n = strlen(bad);
    bad[n / 2] = bad[n / 2] == 'A' ? 'B' : 'A';
    CHECK(plaid_unseal(p, keys, 1, &item, bad, &plain, NULL) != NULL);
    CHECK(plain == NULL);
    bad = apr_pstrndup(p, sealed, n - 4);
    CHECK(plaid_unseal(p, keys, 1, &item, bad, &plain, NULL) != NULL);
    CHECK(plaid_unseal(p, keys, 1, &item, "v1.zz", &plain, NULL) != NULL);
    CHECK(plaid_unseal(p, keys, 1, &item, "", &plain, NULL) != NULL);
    CHECK(plaid_unseal(p, keys, 1, &item, NULL, &plain, NULL) != NULL);
    CHECK(plaid_unseal(p, keys, 1, &item, TOKEN, &plain, NULL) != NULL);
}

static void rotation(apr_pool_t *p)
{
    plaid_seal_key a, b;
    const plaid_seal_key *both[2] = { &b, &a }, *only_b[1] = { &b };
    const plaid_seal_key *used = NULL;
    const char *sealed = NULL, *plain = NULL;

    plaid_seal_key_parse(KEY_A, &a);
    plaid_seal_key_parse(KEY_B, &b);
    plaid_seal(p, &a, &item, TOKEN, &sealed);
    /* The previous key still opens what it sealed. */
    CHECK(plaid_unseal(p, both, 2, &item, sealed, &plain, &used) == NULL);
    CHECK_STR(plain, TOKEN);
    CHECK(used == &a);
    /* Without it, the row does not open, and says why. */
    CHECK_HAS(plaid_unseal(p, only_b, 1, &item, sealed, &plain, NULL),
              "key id");
}

int main(void)
{
    static const unit_test tests[] = {
        keys, round_trip, bindings, tampered, rotation, NULL
    };
    return unit_run("test_seal", tests);
}
