/* SPDX-License-Identifier: Apache-2.0 */
/*
 * plaid-item-seal KEYFILE ENVIRONMENT ITEM_ID CLIENT_USER_ID
 *
 * Seals the access_token read from standard input (one line) as the
 * module does (src/plaid_seal.c) and prints the text for the sealed
 * column of plaid_items: how an application's existing tokens move into
 * PlaidItemStore (docs/items.md). The token is never printed.
 */
#include <stdio.h>
#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>

#include "plaid_seal.h"

#define LINE_MAX_BYTES 1024

static int read_line(FILE *f, char *buf, size_t size)
{
    size_t n;

    if (!fgets(buf, (int)size, f)) {
        return 0;
    }
    n = strlen(buf);
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r')) {
        buf[--n] = '\0';
    }
    return 1;
}

int main(int argc, char **argv)
{
    char key_text[LINE_MAX_BYTES], token[LINE_MAX_BYTES];
    plaid_seal_binding b;
    plaid_seal_key key;
    const char *why, *sealed = NULL;
    apr_pool_t *p;
    FILE *f;
    int rc = 1;

    if (argc != 5) {
        fprintf(stderr, "usage: %s KEYFILE ENVIRONMENT ITEM_ID "
                "CLIENT_USER_ID < access_token\n", argv[0]);
        return 2;
    }
    if (!(f = fopen(argv[1], "r")) || !read_line(f, key_text,
                                                 sizeof(key_text))) {
        fprintf(stderr, "plaid-item-seal: cannot read the key %s\n",
                argv[1]);
        return 1;
    }
    fclose(f);
    if ((why = plaid_seal_key_parse(key_text, &key))) {
        fprintf(stderr, "plaid-item-seal: %s: %s\n", argv[1], why);
        return 1;
    }
    if (!read_line(stdin, token, sizeof(token))) {
        fprintf(stderr, "plaid-item-seal: no access_token on standard "
                "input\n");
        return 1;
    }
    apr_initialize();
    apr_pool_create(&p, NULL);
    b.environment = argv[2];
    b.item_id = argv[3];
    b.client_user_id = argv[4];
    if ((why = plaid_seal(p, &key, &b, token, &sealed))) {
        fprintf(stderr, "plaid-item-seal: %s\n", why);
    }
    else {
        printf("%s\n", sealed);
        rc = 0;
    }
    memset(token, 0, sizeof(token));
    memset(&key, 0, sizeof(key));
    apr_pool_destroy(p);
    apr_terminate();
    return rc;
}
