/* SPDX-License-Identifier: Apache-2.0 */
// bench/run.sh's Node peer: the link-token route of Plaid's quickstart
// (node/index.js there) as its users run it: express, the official plaid
// client with the credentials in baseOptions' headers, one process. Two
// changes, both for the bench: basePath comes from PLAID_BASE_PATH (the
// bench's upstream, trusted through NODE_EXTRA_CA_CERTS) instead of
// PlaidEnvironments[PLAID_ENV], and the route answers only the
// link_token, with a 502 when the call fails (the quickstart answers 200
// with the error, which wrk would count as a success). The quickstart's
// prettyPrintResponse (a console.log of every answer) is left out: it
// would only add to Node's cost.
const { Configuration, PlaidApi } = require('plaid');
const express = require('express');

const APP_PORT = process.env.APP_PORT || 8000;
const PLAID_CLIENT_ID = process.env.PLAID_CLIENT_ID;
const PLAID_SECRET = process.env.PLAID_SECRET;
const PLAID_PRODUCTS = (process.env.PLAID_PRODUCTS || 'auth').split(',');
const PLAID_COUNTRY_CODES = (process.env.PLAID_COUNTRY_CODES || 'US').split(',');

const configuration = new Configuration({
  basePath: process.env.PLAID_BASE_PATH,
  baseOptions: {
    headers: {
      'PLAID-CLIENT-ID': PLAID_CLIENT_ID,
      'PLAID-SECRET': PLAID_SECRET,
      'Plaid-Version': '2020-09-14',
    },
  },
});

const client = new PlaidApi(configuration);

const app = express();
app.use(express.json());
app.use(express.urlencoded({ extended: true }));

// The same fields as the module's bench location sends.
app.post('/api/create_link_token', async function (request, response) {
  const configs = {
    user: {
      client_user_id: process.env.PLAID_USER_ID || 'user-id',
    },
    client_name: process.env.PLAID_CLIENT_NAME || 'Plaid Quickstart',
    products: PLAID_PRODUCTS,
    country_codes: PLAID_COUNTRY_CODES,
    language: 'en',
  };
  try {
    const createTokenResponse = await client.linkTokenCreate(configs);
    response.json({ link_token: createTokenResponse.data.link_token });
  } catch (error) {
    response.status(502).json({
      error: error.response ? error.response.data : String(error),
    });
  }
});

app.listen(APP_PORT, '127.0.0.1', function () {
  console.log('plaid-quickstart server listening on port ' + APP_PORT);
});
