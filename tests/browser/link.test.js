/* SPDX-License-Identifier: Apache-2.0 */
// Drives Debian's chromium through examples/link.html, served by an httpd
// that scripts/test-browser.sh starts (prefork, mod_php) with
// mod_plaid_link, the Plaid emulator, and examples/app/plaid-item.php
// behind the exchange's hand-off, examples/app/plaid-balances.php behind
// /balances and the module's gateway it calls. Plaid's CDN script is
// answered by a stand-in (page.route) that records what the page hands to
// Plaid.create and finishes Link as Plaid's would, with a public_token from
// the emulator; the page and the application are the real files.
//
// Environment (set by scripts/test-browser.sh):
//   PLAID_BROWSER_GOOD_URL  the page on the vhost whose endpoints work
//   PLAID_BROWSER_BAD_URL   the page on the vhost whose endpoint has a wrong secret
//   PLAID_BROWSER_ERROR_LOG httpd's error log
//   PLAID_BROWSER_EMULATOR_URL  the emulator (https://localhost:PORT)
//   PLAID_BROWSER_DB        the application's SQLite database (item_ids)
//   PLAID_BROWSER_ITEMS_DB  the module's (PlaidItemStore dbd: sealed Items)
//   PLAID_BROWSER_DEMO_URL  the page of the demo as scripts/run.sh starts it,
//                           with the emulator (its own httpd: event MPM,
//                           the CGI application, the emulated Link)
//   PLAID_BROWSER_DEMO_KEYS_URL  the same with (made-up) keys
//   PLAID_BROWSER_USER, PLAID_BROWSER_PASSWORD  basic auth
//   CHROMIUM                (default /usr/bin/chromium)
// Prints "ok - ..." / "not ok - ..." and closes with "N passed, N failed".
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFileSync } = require('child_process');
const { chromium } = require('playwright-core');

const PLAID_SCRIPT = 'https://cdn.plaid.com/link/v2/stable/link-initialize.js';
const artifacts = path.join(__dirname, 'artifacts');
const env = (name) => {
  if (!process.env[name]) throw new Error(`${name} is not set: run scripts/test-browser.sh`);
  return process.env[name];
};
const UUID4 = '[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}';
const LINK_TOKEN = new RegExp(`^link-sandbox-${UUID4}$`);
const PUBLIC_TOKEN = new RegExp(`^public-sandbox-${UUID4}$`);
const SEALED = /^v1\.[0-9a-f]{8}\./;
// Every emulated Item's accounts (emulator/accounts.c), as
// plaid-balances.php answers them and as the page shows them.
const EMULATOR_ACCOUNTS = [
  { name: 'Plaid Checking', mask: '0000', type: 'depository', subtype: 'checking',
    current: 110, available: 100, iso_currency_code: 'USD' },
  { name: 'Plaid Saving', mask: '1111', type: 'depository', subtype: 'savings',
    current: 210, available: 200, iso_currency_code: 'USD' },
];
const SHOWN_ACCOUNTS = [
  ['Plaid Checking \u2022\u20220000', 'depository / checking', '$100.00', '$110.00'],
  ['Plaid Saving \u2022\u20221111', 'depository / savings', '$200.00', '$210.00'],
];

// Stands in for Plaid's link-initialize.js: the API the page uses, no UI.
// open() finishes as Link does once the user has picked a bank and signed
// in: Link's own call to Plaid, with nothing but the link_token, ends in a
// public_token (the emulator's /link/complete stands for that call), and
// onSuccess gets it. With oauthBank, the bank signs its users in on its own
// site: an open() without receivedRedirectUri goes no further (the user is
// away at the bank, which sends the browser back to the page's URL with
// ?oauth_state_id=). With forgedPublicToken, onSuccess gets that instead
// of the emulator's (well-formed, but Plaid never issued it).
function standIn({ oauthBank, forgedPublicToken }) {
  const complete = JSON.stringify(`${env('PLAID_BROWSER_EMULATOR_URL')}/link/complete`);
  return `
window.__plaid = { created: [], opened: 0, completed: [] };
window.Plaid = {
  create: function (config) {
    window.__plaid.created.push({
      token: config.token,
      receivedRedirectUri: config.receivedRedirectUri === undefined ? null : config.receivedRedirectUri,
      onSuccess: typeof config.onSuccess,
      onExit: typeof config.onExit
    });
    return {
      open: function () {
        window.__plaid.opened++;
        if (${!!oauthBank} && !config.receivedRedirectUri) return;
        fetch(${complete}, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ link_token: config.token })
        }).then(function (res) {
          return res.json().then(function (body) { return { status: res.status, body: body }; });
        }).then(function (answer) {
          window.__plaid.completed.push(answer);
          if (answer.status === 200 && answer.body.public_token) {
            config.onSuccess(${JSON.stringify(forgedPublicToken || null)} || answer.body.public_token, {
              institution: { name: 'Stand-in Bank', institution_id: 'ins_0' },
              link_session_id: 'stand-in-session'
            });
          } else {
            config.onExit({ error_code: answer.body.error_code, display_message: null },
                          { link_session_id: 'stand-in-session' });
          }
        }, function (e) {
          window.__plaid.completed.push({ error: String(e) });
          config.onExit({ error_code: 'STAND_IN_FETCH', display_message: null },
                        { link_session_id: 'stand-in-session' });
        });
      },
      exit: function () {},
      destroy: function () {}
    };
  }
};`;
}

let passed = 0;
let failed = 0;
function check(name, cond, detail) {
  if (cond) {
    passed++;
    console.log(`ok - ${name}`);
  } else {
    failed++;
    console.log(`not ok - ${name}`);
    if (detail !== undefined) console.log(`#   ${String(detail).split('\n').join('\n#   ')}`);
  }
}

// Rows of an SQLite file, read with php-cli (read-only: a reader must not
// create the file httpd's user writes).
function sqliteRows(name, query) {
  if (!fs.existsSync(env(name))) return [];
  const out = execFileSync('php', ['-r', `
    $db = new PDO('sqlite:' . getenv('${name}'), null, null,
                  [PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION,
                   PDO::SQLITE_ATTR_OPEN_FLAGS => PDO::SQLITE_OPEN_READONLY]);
    echo json_encode($db->query(getenv('QUERY'))->fetchAll(PDO::FETCH_ASSOC));
  `], { encoding: 'utf8', env: { ...process.env, QUERY: query } });
  return JSON.parse(out);
}

// The application's rows: item_ids and users, no access_token.
const storedItems = () => sqliteRows('PLAID_BROWSER_DB', 'SELECT * FROM plaid_items ORDER BY rowid');
// The module's: each Item's access_token sealed.
const keptItems = () => sqliteRows('PLAID_BROWSER_ITEMS_DB',
  'SELECT item_id, client_user_id, institution_id, status, sealed FROM plaid_items ORDER BY created, rowid');

// Files that must hold no access_token (grep): both databases, their
// journals too.
function filesWithToken() {
  const files = [env('PLAID_BROWSER_DB'), env('PLAID_BROWSER_ITEMS_DB')]
    .flatMap((f) => [f, `${f}-journal`, `${f}-wal`]).filter((f) => fs.existsSync(f));
  return files.filter((f) => fs.readFileSync(f).includes('access-sandbox-'))
    .concat(files.length >= 2 ? [] : ['(a database is missing)']);
}

// Every request the page makes is listed in `seen`.
async function newPage(context, seen, options = {}) {
  const page = await context.newPage();
  const complete = `${env('PLAID_BROWSER_EMULATOR_URL')}/link/complete`;
  // Only the test's own httpd, the emulator's /link/complete (for the
  // stand-in) and the stand-in itself: nothing leaves the machine.
  await page.route('**/*', (route) => {
    const url = route.request().url();
    seen.push(`${route.request().method()} ${url}`);
    if (url === PLAID_SCRIPT) {
      return route.fulfill({ status: 200, contentType: 'application/javascript', body: standIn(options) });
    }
    if (url.startsWith('http://127.0.0.1:') || url === complete) return route.continue();
    return route.abort();
  });
  return page;
}

// Every answer the page receives, with its body: a value that must never
// reach the browser is looked for in all of them.
function recordAnswers(page) {
  const answers = [];
  page.on('response', (res) => {
    answers.push(res.text().then((text) => ({ url: res.url(), text }),
                                 () => ({ url: res.url(), text: '' })));
  });
  return () => Promise.all(answers);
}

// The access tokens in the database that reach the page's HTML or any
// answer it received, by URL; also anything of their form.
async function tokensShown(page, allAnswers, tokens) {
  const html = await page.content();
  const where = (text) => tokens.some((t) => t && text.includes(t)) || /access-sandbox-/.test(text);
  return (where(html) ? ['the page\'s HTML'] : [])
    .concat((await allAnswers()).filter((a) => where(a.text)).map((a) => a.url));
}

// The balances page's answer, parsed.
async function balancesOf(res) {
  const text = await res.text().catch(() => '');
  let body = {};
  try { body = JSON.parse(text) || {}; } catch (e) { /* checked by the caller */ }
  return { text, items: Array.isArray(body.items) ? body.items : [] };
}

// The rows of the page's accounts table, as the user reads them.
async function shownAccounts(page) {
  await page.waitForSelector('#balances:not([hidden]) #accounts tr', { timeout: 10000 }).catch(() => {});
  return page.$$eval('#accounts tr', (trs) => trs.map(
    (tr) => Array.from(tr.cells).map((td) => td.innerText.trim())));
}

const isBalances = (r) => new URL(r.url()).pathname === '/balances';

// A promise the test may never await (a step before it failed): its
// rejection is then no crash of the whole run.
function awaitable(promise) {
  promise.catch(() => {});
  return promise;
}

// The page's "Linked accounts", as the user reads it.
async function linkedItems(page) {
  await page.waitForSelector('#linked:not([hidden]) #items li[data-item-id]', { timeout: 10000 })
    .catch(() => {});
  return page.$$eval('#items li[data-item-id]', (lis) => lis.map((li) => ({
    id: li.dataset.itemId, status: li.dataset.status, text: li.innerText,
    fix: !!li.querySelector('button.fix'), remove: !!li.querySelector('button.remove') })));
}

const plaidState = (page) => page.evaluate(() => window.__plaid);
const storedValues = (page) => page.evaluate(
  () => Object.keys(sessionStorage).map((k) => sessionStorage.getItem(k)));

async function waitForStatus(page, kind) {
  await page.waitForSelector(`#status.${kind}`, { timeout: 10000 }).catch(() => {});
  return (await page.textContent('#status')) || '';
}

// The exchange's answer, its request's body and its text, parsed.
async function exchangeOf(res) {
  const text = await res.text().catch(() => '');
  let body = {};
  let sent = null;
  try { body = JSON.parse(text); } catch (e) { /* checked by the caller */ }
  try { sent = JSON.parse(res.request().postData() || 'null'); } catch (e) { /* idem */ }
  return { text, body: body || {}, sent };
}

async function signedInLinksAccount(context) {
  const seen = [];
  const page = await newPage(context, seen);
  const url = env('PLAID_BROWSER_GOOD_URL');
  await page.goto(url);
  check('the page loads Plaid\'s script from cdn.plaid.com',
        seen.filter((s) => s === `GET ${PLAID_SCRIPT}`).length === 1, seen.join('\n'));
  await page.screenshot({ path: path.join(artifacts, '1-page.png') });

  const allAnswers = recordAnswers(page);
  const tokenAnswer = page.waitForResponse((r) => r.url().endsWith('/plaid/link-token'));
  const completeAnswer = page.waitForResponse(
    (r) => r.url().endsWith('/link/complete') && r.request().method() === 'POST');
  const exchangeAnswer = page.waitForResponse((r) => r.url().endsWith('/plaid/exchange'));
  const balancesAnswer = page.waitForResponse(isBalances);
  const mark = logMark();
  await page.click('#link-button');
  const res = await tokenAnswer;
  const req = res.request();
  check('the click POSTs to the endpoint', req.method() === 'POST', req.method());
  check('with Content-Type: application/json',
        /^application\/json/.test(req.headers()['content-type'] || ''), req.headers()['content-type']);
  check('and X-Requested-With', !!req.headers()['x-requested-with'], JSON.stringify(req.headers()));
  check('the signed-in user gets 200 from the module', res.status() === 200, res.status());
  const body = await res.json().catch(() => ({}));

  await page.waitForFunction(() => window.__plaid && window.__plaid.created.length > 0, null,
                             { timeout: 10000 }).catch(() => {});
  const plaid = await plaidState(page);
  const created = plaid && plaid.created[0];
  check('Plaid.create is called once', plaid && plaid.created.length === 1, JSON.stringify(plaid));
  check('with a token from the emulator (link-sandbox-...)',
        created && LINK_TOKEN.test(created.token), created && created.token);
  check('the token is the one the endpoint answered', created && created.token === body.link_token,
        `${created && created.token} vs ${body.link_token}`);
  check('with onSuccess and onExit functions, and no receivedRedirectUri',
        created && created.onSuccess === 'function' && created.onExit === 'function'
          && created.receivedRedirectUri === null, JSON.stringify(created));
  check('and the handler is opened', plaid && plaid.opened === 1, JSON.stringify(plaid));

  // Link finishes: the link_token becomes a public_token.
  const done = await completeAnswer;
  const doneBody = await done.json().catch(() => ({}));
  let asked = {};
  try { asked = JSON.parse(done.request().postData() || '{}'); } catch (e) { /* below */ }
  check('Link (the stand-in) turns that link_token into a public_token at the emulator',
        done.status() === 200 && asked.link_token === body.link_token
          && PUBLIC_TOKEN.test(doneBody.public_token || ''),
        `${done.status()} ${JSON.stringify(asked)} -> ${JSON.stringify(doneBody)}`);

  // onSuccess: the page hands the public_token to the exchange.
  const ex = await exchangeAnswer;
  const exReq = ex.request();
  const { text, body: item, sent } = await exchangeOf(ex);
  check('onSuccess POSTs to the exchange location (data-exchange)',
        exReq.method() === 'POST' && new URL(exReq.url()).pathname === '/plaid/exchange',
        `${exReq.method()} ${exReq.url()}`);
  check('with Content-Type: application/json',
        /^application\/json/.test(exReq.headers()['content-type'] || ''), exReq.headers()['content-type']);
  check('its body is {"public_token", "institution_id"}: Link\'s public_token and institution',
        JSON.stringify(sent) === JSON.stringify({ public_token: doneBody.public_token,
                                                  institution_id: 'ins_0' }),
        exReq.postData());
  check('the exchange for the signed-in user gets 200 from the application', ex.status() === 200,
        `${ex.status()} ${text}`);
  check('whose answer is {"item_id"} alone: no access_token reaches the browser',
        Object.keys(item).join() === 'item_id' && /^[A-Za-z0-9]{37}$/.test(item.item_id)
          && !text.includes('access-'), text);

  const shown = await waitForStatus(page, 'done');
  const itemShown = await page.textContent('#item-id').catch(() => null);
  check('the page says the account is linked, at the bank Link named',
        shown.includes('Account linked at Stand-in Bank.'), shown);
  check('and shows the item_id the application answered', !!item.item_id && itemShown === item.item_id,
        `shown "${itemShown}", answered "${item.item_id}"`);
  check('and no token of any kind', !/-sandbox-/.test(shown), shown);

  const rows = storedItems();
  check('the application\'s database holds exactly that item_id, for user demo, and no access_token',
        rows.length === 1 && rows[0].client_user_id === 'demo' && rows[0].item_id === item.item_id
          && Object.keys(rows[0]).sort().join() === 'client_user_id,created_at,item_id',
        JSON.stringify(rows));
  const kept = keptItems();
  check('the module keeps the Item: its status good, the institution Link named, the token sealed',
        kept.length === 1 && kept[0].item_id === item.item_id && kept[0].client_user_id === 'demo'
          && kept[0].status === 'good' && kept[0].institution_id === 'ins_0'
          && SEALED.test(kept[0].sealed || ''),
        JSON.stringify(kept.map((r) => ({ ...r, sealed: r.sealed && r.sealed.slice(0, 12) }))));
  check('no access_token in either SQLite file (grep)', filesWithToken().length === 0,
        filesWithToken().join('\n'));
  const age = rows.length === 1 ? Date.now() - Date.parse(rows[0].created_at) : NaN;
  check('and a created_at of now (UTC)',
        rows.length === 1 && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/.test(rows[0].created_at)
          && age >= -5000 && age < 120000, rows.length === 1 && rows[0].created_at);
  check('a finished Link leaves its token in no sessionStorage',
        !(await storedValues(page)).includes(body.link_token));

  // Linked: the page asks the application for the user's balances, which
  // asks Plaid (the emulator) through the module's gateway with the
  // item_id it stored (the gateway puts the Item's access_token in).
  const bal = await balancesAnswer;
  const { text: balText, items } = await balancesOf(bal);
  check('then the page GETs the application\'s balances page (data-balances), 200',
        bal.request().method() === 'GET' && bal.status() === 200,
        `${bal.request().method()} ${bal.status()} ${balText}`);
  check('which answers the stored Item (its item_id) with the emulator\'s accounts and balances',
        rows.length === 1 && items.length === 1 && items[0].item_id === rows[0].item_id
          && JSON.stringify(items[0].accounts) === JSON.stringify(EMULATOR_ACCOUNTS), balText);
  const called = logSince(mark).filter((l) => l.includes('plaid_emulator: /accounts/balance/get headers'));
  check('asked through the gateway: the emulator got /accounts/balance/get from the module',
        called.length === 1 && /user-agent=mod_plaid_link\//.test(called[0]), called.join('\n'));
  const table = await shownAccounts(page);
  check('the page shows each account: name and mask, type, available and current balance',
        JSON.stringify(table) === JSON.stringify(SHOWN_ACCOUNTS), JSON.stringify(table));
  const listed = await linkedItems(page);
  check('"Linked accounts" lists the new Item, connected, with Fix hidden and Remove shown',
        listed.length === 1 && listed[0].id === item.item_id && listed[0].status === 'good'
          && listed[0].text.includes('Bank ins_0') && listed[0].text.includes('Connected')
          && !listed[0].fix && listed[0].remove, JSON.stringify(listed));
  const leaks = await tokensShown(page, allAnswers, []);
  check('no access_token is in the page\'s HTML nor any answer the browser received',
        rows.length === 1 && leaks.length === 0, leaks.join('\n'));
  await page.screenshot({ path: path.join(artifacts, '2-linked-balances.png') });

  // The application answers only the exchange's hand-off.
  const direct = await page.evaluate(async () => {
    const handoff = await fetch('/plaid/item', {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}'
    });
    const file = await fetch('/app/plaid-item.php');
    return { handoff: handoff.status, file: file.status };
  });
  check('the hand-off path asked directly is 404, the application\'s file 403',
        direct.handoff === 404 && direct.file === 403, JSON.stringify(direct));
  check('and nothing more was stored', storedItems().length === 1);
  await page.close();
}

// A bank with OAuth: Link sends the user to the bank's site, which sends
// the browser back to PlaidRedirectURI (the page) with ?oauth_state_id=.
async function oauthReturnResumesLink(context) {
  const seen = [];
  const page = await newPage(context, seen, { oauthBank: true });
  const url = env('PLAID_BROWSER_GOOD_URL');
  await page.goto(url);
  const [res] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/plaid/link-token')),
    page.click('#link-button'),
  ]);
  const body = await res.json().catch(() => ({}));
  await page.waitForFunction(() => window.__plaid && window.__plaid.opened > 0, null,
                             { timeout: 10000 }).catch(() => {});
  check('before Link opens, the page keeps the link_token in sessionStorage',
        !!body.link_token && (await storedValues(page)).includes(body.link_token),
        JSON.stringify(await storedValues(page)));

  const back = `${url}?oauth_state_id=abc`;
  const from = seen.length;
  const exchangeAnswer = page.waitForResponse((r) => r.url().endsWith('/plaid/exchange'));
  await page.goto(back);
  await page.waitForFunction(() => window.__plaid && window.__plaid.created.length > 0, null,
                             { timeout: 10000 }).catch(() => {});
  const plaid = await plaidState(page);
  const created = plaid && plaid.created[0];
  check('back from the bank (?oauth_state_id=abc), the page re-opens Link at once',
        plaid && plaid.created.length === 1 && plaid.opened === 1, JSON.stringify(plaid));
  check('with the same link_token, from sessionStorage',
        created && created.token === body.link_token, `${created && created.token} vs ${body.link_token}`);
  check('not a new one: no request to the link-token endpoint',
        !seen.slice(from).some((s) => s.endsWith('/plaid/link-token')), seen.slice(from).join('\n'));
  check('and receivedRedirectUri is the URL the page was loaded with',
        created && created.receivedRedirectUri === back, created && created.receivedRedirectUri);

  const ex = await exchangeAnswer;
  const { text, body: item } = await exchangeOf(ex);
  check('Link finishes, and the exchange gets 200 and an item_id',
        ex.status() === 200 && /^[A-Za-z0-9]{37}$/.test(item.item_id || ''), `${ex.status()} ${text}`);
  const shown = await waitForStatus(page, 'done');
  const itemShown = await page.textContent('#item-id').catch(() => null);
  check('the page shows "Account linked" with that item_id',
        shown.includes('Account linked') && !!item.item_id && itemShown === item.item_id,
        `"${shown}", item "${itemShown}"`);
  const rows = storedItems();
  const last = rows[rows.length - 1] || {};
  check('the database now holds that item_id too, for user demo',
        rows.length === 2 && last.item_id === item.item_id && last.client_user_id === 'demo'
          && rows[0].item_id !== last.item_id, JSON.stringify(rows));
  check('Link done: the token is forgotten and the address loses ?oauth_state_id',
        !(await storedValues(page)).includes(body.link_token) && page.url() === url, page.url());
  await page.screenshot({ path: path.join(artifacts, '3-oauth-return-linked.png') });
  await page.close();
}

// Back from the bank in a tab that holds no token (another tab, storage
// cleared): the page cannot resume Link, and says so.
async function oauthReturnWithoutToken(context) {
  const seen = [];
  const page = await newPage(context, seen);
  await page.goto(`${env('PLAID_BROWSER_GOOD_URL')}?oauth_state_id=abc`);
  const shown = await waitForStatus(page, 'error');
  check('back from the bank with no token kept, the page says so plainly',
        shown.includes('couldn\u2019t continue linking your account')
          && shown.includes('to start again'), shown);
  const plaid = await plaidState(page);
  check('and neither opens Link nor asks for a new token',
        plaid && plaid.created.length === 0 && !seen.some((s) => s.endsWith('/plaid/link-token')),
        `${JSON.stringify(plaid)}\n${seen.join('\n')}`);
  await page.screenshot({ path: path.join(artifacts, '4-oauth-return-no-token.png') });
  await page.close();
}

// Plaid refuses the public_token: the application is not called, and the
// page shows the customer's message with the reference of the PL0100 line.
async function refusedExchangeShowsId(context) {
  const seen = [];
  const forged = 'public-sandbox-00000000-0000-4000-8000-000000000000';
  const page = await newPage(context, seen, { forgedPublicToken: forged });
  const stored = storedItems().length;
  await page.goto(env('PLAID_BROWSER_GOOD_URL'));
  const exchangeAnswer = page.waitForResponse((r) => r.url().endsWith('/plaid/exchange'));
  await page.click('#link-button');
  const ex = await exchangeAnswer;
  const { text, body, sent } = await exchangeOf(ex);
  check('a public_token Plaid did not issue is sent to the exchange',
        sent && sent.public_token === forged, JSON.stringify(sent));
  check('and gets 502 with the exchange\'s generic error and a request_id',
        ex.status() === 502 && body.error === 'Unable to link the account'
          && typeof body.request_id === 'string' && body.request_id.length > 0, `${ex.status()} ${text}`);
  const shown = await waitForStatus(page, 'error');
  const reference = (await page.textContent('#reference').catch(() => null)) || '';
  check('the page says, in a customer\'s words, that it could not link the account',
        shown.includes('couldn\u2019t link your account right now')
          && !shown.includes('Unable to link'), shown);
  check('with the answer\'s request_id as the reference for support',
        !!body.request_id && reference === body.request_id, `shown "${reference}", answered "${body.request_id}"`);
  const line = await logLine(reference);
  check('the shown id is the id= of a PL0100 line saying INVALID_PUBLIC_TOKEN',
        !!line && /error_code="INVALID_PUBLIC_TOKEN"/.test(line), line || `no PL0100 line with id=${reference}`);
  check('and the application stored nothing', storedItems().length === stored);
  await page.screenshot({ path: path.join(artifacts, '5-exchange-refused.png') });
  await page.close();
}

// The PL0100 line with id=ID; httpd writes it before it answers, but
// allow the file a moment.
function logLine(id) {
  return id ? logLineWith(` id=${id} `) : Promise.resolve(undefined);
}

async function logLineWith(text) {
  const logFile = env('PLAID_BROWSER_ERROR_LOG');
  for (let i = 0; i < 20; i++) {
    const line = fs.readFileSync(logFile, 'utf8').split('\n')
      .find((l) => l.includes('PL0100:') && l.includes(text));
    if (line) return line;
    await new Promise((r) => setTimeout(r, 100));
  }
  return undefined;
}

// Where the error log ends now, and its lines after such a mark.
const logMark = () => fs.statSync(env('PLAID_BROWSER_ERROR_LOG')).size;
function logSince(mark) {
  const all = fs.readFileSync(env('PLAID_BROWSER_ERROR_LOG'));
  return all.subarray(mark).toString('utf8').split('\n');
}

async function failingEndpointShowsId(context) {
  const seen = [];
  const page = await newPage(context, seen);
  await page.goto(env('PLAID_BROWSER_BAD_URL'));
  const [res] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/plaid/link-token')),
    page.click('#link-button'),
  ]);
  check('the endpoint with a wrong secret answers 502', res.status() === 502, res.status());
  const body = await res.json().catch(() => ({}));
  check('with the generic error and a request_id',
        body.error === 'Unable to fetch link_token' && typeof body.request_id === 'string'
          && body.request_id.length > 0, JSON.stringify(body));

  await page.waitForSelector('#status.error', { timeout: 5000 }).catch(() => {});
  const shown = (await page.textContent('#status')) || '';
  const reference = (await page.textContent('#reference').catch(() => null)) || '';
  // The answer's "error" is for developers; the customer reads plain words
  // and a reference labelled for support.
  check('the page says, in a customer\'s words, that it could not connect',
        shown.includes('couldn\u2019t connect to your bank right now')
          && shown.includes('Please try again in a few minutes.'), shown);
  check('and not the developer\'s message', !shown.includes('link_token'), shown);
  check('the correlation id from the answer is shown as the reference for support',
        reference === body.request_id
          && shown.includes(`contact support and quote this reference: ${body.request_id}`),
        `shown "${shown}", answered "${body.request_id}"`);
  const plaid = await page.evaluate(() => window.__plaid);
  check('Plaid.create is not called', plaid && plaid.created.length === 0, JSON.stringify(plaid));

  const line = await logLine(reference);
  check('the shown id is the id= of a PL0100 line in the error log', !!line,
        `no PL0100 line with id=${reference} in ${env('PLAID_BROWSER_ERROR_LOG')}`);
  check('that line says why: INVALID_API_KEYS with its hint',
        !!line && /error_code="INVALID_API_KEYS"/.test(line) && /hint="the client id and secret/.test(line),
        line);
  check('the secret is in neither the page nor the log line',
        !shown.includes('wrong-secret') && !!line && !line.includes('wrong-secret'), line);
  await page.screenshot({ path: path.join(artifacts, '6-error-correlation-id.png') });
  await page.close();
}

// The bank wants the user to sign in again: Plaid's sandbox call
// /sandbox/item/reset_login (the emulator's), made through the module's
// gateway by the first stored Item's item_id (nobody here holds its
// access_token), puts that Item into ITEM_LOGIN_REQUIRED. Linking another
// account then shows the others' balances and, for that Item, the
// customer's message; the application got Plaid's own error through the
// gateway.
async function loginRequiredShowsMessage(context) {
  const before = storedItems();
  const reset = before[0] || {};
  const answer = await context.request.post(
    `${env('PLAID_BROWSER_GOOD_URL')}plaid-api/sandbox/item/reset_login`,
    { data: { item_id: reset.item_id || '' } });
  const resetText = await answer.text().catch(() => '');
  let resetBody = {};
  try { resetBody = JSON.parse(resetText); } catch (e) { /* checked below */ }
  check('the gateway, by item_id, has the emulator reset the first stored Item\'s login',
        before.length >= 2 && answer.status() === 200 && resetBody.reset_login === true
          && !resetText.includes('access-'),
        `${before.length} Items; ${answer.status()} ${resetText}`);

  const seen = [];
  const page = await newPage(context, seen);
  const allAnswers = recordAnswers(page);
  await page.goto(env('PLAID_BROWSER_GOOD_URL'));
  const balancesAnswer = page.waitForResponse(isBalances);
  await page.click('#link-button');
  const { text, items } = await balancesOf(await balancesAnswer);
  const rows = storedItems();
  check('after the next link, the balances page answers every stored Item in order, the new one too',
        rows.length === before.length + 1
          && JSON.stringify(items.map((i) => i.item_id)) === JSON.stringify(rows.map((r) => r.item_id)),
        text);
  const failed = items[0] || {};
  check('the others with their accounts',
        items.length > 1 && items.slice(1).every(
          (i) => JSON.stringify(i.accounts) === JSON.stringify(EMULATOR_ACCOUNTS)), text);
  check('the reset Item with Plaid\'s ITEM_LOGIN_REQUIRED, the customer\'s message and update_mode, no accounts',
        failed.error_code === 'ITEM_LOGIN_REQUIRED' && failed.update_mode === true
          && failed.message === 'Your bank needs you to sign in again.' && !('accounts' in failed), text);
  const line = failed.request_id ? await logLineWith(`request_id="${failed.request_id}"`) : undefined;
  check('its request_id is Plaid\'s, from the gateway call\'s PL0100 line for ITEM_LOGIN_REQUIRED',
        !!line && / location=\/plaid-api\/accounts\/balance\/get /.test(line)
          && /error_code="ITEM_LOGIN_REQUIRED"/.test(line),
        line || `no PL0100 line with request_id="${failed.request_id}"`);

  const table = await shownAccounts(page);
  const notice = await page.$eval('#accounts tr.item-error', (tr) => ({
    code: tr.dataset.errorCode, text: tr.innerText })).catch(() => null);
  check('the page shows the message, that the bank will ask again (update mode), and the other accounts',
        !!notice && notice.code === 'ITEM_LOGIN_REQUIRED'
          && notice.text.includes('Your bank needs you to sign in again.')
          && notice.text.includes('update mode')
          && table.length === 1 + 2 * (items.length - 1),
        `${JSON.stringify(notice)}\n${JSON.stringify(table)}`);
  const leaks = await tokensShown(page, allAnswers, []);
  check('and no access_token in the page\'s HTML or any answer it received', leaks.length === 0,
        leaks.join('\n'));
  await page.screenshot({ path: path.join(artifacts, '7-item-login-required.png'), fullPage: true });
  await page.close();
}

// The repair of the Item the last step reset. Its balances call, which
// Plaid answered ITEM_LOGIN_REQUIRED, already made its status
// error:ITEM_LOGIN_REQUIRED; Plaid's ITEM ERROR webhook for it (signed by
// the emulator, as Plaid signs it, POSTed to the site's plaid-webhook
// location) is taken too. "Linked accounts" shows it with "Fix". Fix
// opens Link in update mode (a link_token for the item_id); Link finishes
// (the emulator repairs the Item's login), the page exchanges nothing and
// POSTs /plaid/items/<item_id>: the module asks Plaid and the Item is good
// again, in the list, in the store and in the balances. Remove removes it:
// gone from the list, from the module's store (Plaid's /item/remove
// called), from the balances.
async function itemFixAndRemove(context) {
  const reset = storedItems()[0] || {};
  const early = keptItems().find((r) => r.item_id === reset.item_id) || {};
  check('the reset Item\'s balances call (Plaid\'s ITEM_LOGIN_REQUIRED) made its status '
        + 'error:ITEM_LOGIN_REQUIRED, before any webhook',
        early.status === 'error:ITEM_LOGIN_REQUIRED', JSON.stringify(early.status));
  const emulator = env('PLAID_BROWSER_EMULATOR_URL');
  const base = env('PLAID_BROWSER_GOOD_URL');
  const hook = JSON.stringify({
    webhook_type: 'ITEM', webhook_code: 'ERROR', item_id: reset.item_id || '',
    error: { error_type: 'ITEM_ERROR', error_code: 'ITEM_LOGIN_REQUIRED',
             error_message: 'the login details of this item have changed',
             display_message: null },
    environment: 'sandbox' });
  const signed = await context.request.post(`${emulator}/webhook/sign`,
                                            { data: { body: hook, mode: 'good' } });
  const jwt = (await signed.json().catch(() => ({}))).jwt || '';
  const delivered = await context.request.post(`${base}plaid/webhook`, {
    headers: { 'Content-Type': 'application/json', 'Plaid-Verification': jwt }, data: hook });
  check('Plaid\'s ITEM ERROR webhook (ITEM_LOGIN_REQUIRED) for that Item is accepted',
        !!jwt && delivered.status() === 200, `${delivered.status()} ${await delivered.text()}`);
  const kept = keptItems().find((r) => r.item_id === reset.item_id) || {};
  check('the module keeps its status: error:ITEM_LOGIN_REQUIRED',
        kept.status === 'error:ITEM_LOGIN_REQUIRED', JSON.stringify(kept.status));

  const seen = [];
  const page = await newPage(context, seen);
  const allAnswers = recordAnswers(page);
  await page.goto(base);
  let listed = await linkedItems(page);
  const row = listed.find((i) => i.id === reset.item_id) || {};
  check('"Linked accounts" shows that Item\'s error status, and "Fix" for it alone',
        row.status === 'error:ITEM_LOGIN_REQUIRED' && row.text.includes('sign in again')
          && row.fix && listed.filter((i) => i.fix).length === 1, JSON.stringify(listed));
  await page.screenshot({ path: path.join(artifacts, '7b-linked-accounts-error.png'), fullPage: true });

  const tokenAnswer = awaitable(page.waitForResponse((r) => r.url().endsWith('/plaid/link-token')));
  const checked = awaitable(page.waitForResponse((r) => r.request().method() === 'POST'
    && new URL(r.url()).pathname === `/plaid/items/${reset.item_id}`));
  await page.click(`#items li[data-item-id="${reset.item_id}"] button.fix`);
  const res = await tokenAnswer;
  let sent = null;
  try { sent = JSON.parse(res.request().postData() || 'null'); } catch (e) { /* below */ }
  const body = await res.json().catch(() => ({}));
  check('Fix POSTs {"item_id"} to the link-token endpoint, which answers a link_token (update mode)',
        JSON.stringify(sent) === JSON.stringify({ item_id: reset.item_id }) && res.status() === 200
          && LINK_TOKEN.test(body.link_token || ''), `${res.status()} ${JSON.stringify(body)}`);
  const shown = await waitForStatus(page, 'done');
  const plaid = await plaidState(page);
  check('Link opens with that token and finishes through the emulator\'s /link/complete',
        plaid && plaid.created.length === 1 && plaid.created[0].token === body.link_token
          && plaid.completed.length === 1 && plaid.completed[0].status === 200,
        JSON.stringify(plaid));
  check('the page says the account is connected again, and exchanges nothing',
        shown.includes('is connected again') && !seen.some((u) => u.endsWith('/plaid/exchange')),
        `${shown}\n${seen.join('\n')}`);
  const asked = await checked;
  const askedBody = await asked.json().catch(() => ({}));
  check('then the page POSTs /plaid/items/<item_id>: the module asks Plaid, and the Item is good',
        asked.status() === 200 && (askedBody.item || {}).status === 'good'
          && (askedBody.item || {}).item_id === reset.item_id,
        `${asked.status()} ${JSON.stringify(askedBody)}`);
  const askedLine = logSince(0).find((l) => l.includes('PL0178') && l.includes(reset.item_id)
                                     && l.includes('status=good from=/item/get'));
  check('Plaid\'s /item/get said so (PL0178 from=/item/get)', !!askedLine, askedLine);
  await page.waitForFunction((id) => {
    const li = document.querySelector(`#items li[data-item-id="${id}"]`);
    return li && li.dataset.status === 'good';
  }, reset.item_id, { timeout: 10000 }).catch(() => {});
  listed = await linkedItems(page);
  const fixed = listed.find((i) => i.id === reset.item_id) || {};
  check('"Linked accounts" shows it Connected, without "Fix"',
        fixed.status === 'good' && fixed.text.includes('Connected') && !fixed.fix,
        JSON.stringify(listed));
  const keptNow = keptItems().find((r) => r.item_id === reset.item_id) || {};
  check('the module keeps its status: good', keptNow.status === 'good',
        JSON.stringify(keptNow.status));
  const repairedAnswer = awaitable(page.waitForResponse(isBalances));
  await page.evaluate(() => fetch('/balances').then((r) => r.text()));
  const repaired = await balancesOf(await repairedAnswer);
  const again = repaired.items.find((i) => i.item_id === reset.item_id) || {};
  check('and the balances page has its accounts again',
        JSON.stringify(again.accounts) === JSON.stringify(EMULATOR_ACCOUNTS) && !again.error_code,
        repaired.text);
  await page.screenshot({ path: path.join(artifacts, '7b2-linked-accounts-repaired.png'), fullPage: true });

  const before = keptItems().length;
  const removed = awaitable(page.waitForResponse((r) => r.request().method() === 'DELETE'));
  const relisted = awaitable(page.waitForResponse(
    (r) => r.request().method() === 'GET' && new URL(r.url()).pathname === '/plaid/items'));
  await page.click(`#items li[data-item-id="${reset.item_id}"] button.remove`);
  const del = await removed;
  check('Remove sends DELETE /plaid/items/<item_id>, 200',
        new URL(del.url()).pathname === `/plaid/items/${reset.item_id}` && del.status() === 200,
        `${del.url()} ${del.status()} ${await del.text().catch(() => '')}`);
  await relisted;
  await page.waitForFunction((id) => !document.querySelector(`#items li[data-item-id="${id}"]`),
                             reset.item_id, { timeout: 10000 }).catch(() => {});
  listed = await linkedItems(page);
  check('the Item is gone from "Linked accounts", the others stay',
        !listed.some((i) => i.id === reset.item_id) && listed.length === before - 1,
        JSON.stringify(listed));
  check('and from the module\'s store', !keptItems().some((r) => r.item_id === reset.item_id)
        && keptItems().length === before - 1, JSON.stringify(keptItems().map((r) => r.item_id)));
  const line = logSince(0).find((l) => l.includes('PL0177') && l.includes(reset.item_id));
  check('Plaid was asked to remove it (/item/remove; PL0177)', !!line, line);

  const balancesAnswer = awaitable(page.waitForResponse(isBalances));
  await page.evaluate(() => fetch('/balances').then((r) => r.text()));
  const { text, items } = await balancesOf(await balancesAnswer);
  check('the balances page leaves the removed Item out (the gateway no longer knows it)',
        items.length === before - 1 && !items.some((i) => i.item_id === reset.item_id), text);
  const leaks = await tokensShown(page, allAnswers, []);
  check('no access_token in the page\'s HTML or any answer it received', leaks.length === 0,
        leaks.join('\n'));
  check('nor in either SQLite file (grep)', filesWithToken().length === 0,
        filesWithToken().join('\n'));
  await page.screenshot({ path: path.join(artifacts, '7c-linked-accounts-removed.png'), fullPage: true });
  await page.close();
}

// mod_status's page has the module's section: outcomes per location in a
// table, and the Plaid call's latency histogram drawn as bars (no script,
// no external asset). The earlier steps gave it something to show.
async function statusPageShowsSection(context) {
  const page = await context.newPage();
  const external = [];
  page.on('request', (req) => {
    if (!req.url().startsWith('http://127.0.0.1:')) external.push(req.url());
  });
  const res = await page.goto(env('PLAID_BROWSER_GOOD_URL') + 'server-status');
  check('the status page answers', res && res.status() === 200, res && res.status());
  check('it has the module\'s section', await page.$('#plaid-link') !== null);
  const rows = await page.$$eval('#plaid-link-outcomes tr', (trs) => trs.map((tr) => tr.innerText));
  check('a table of outcomes per location, with the link-token endpoint',
        rows.some((r) => r.includes('/plaid/link-token')), rows);
  const bars = await page.$$eval('#plaid-link-latency .plaid-link-bar',
                                 (els) => els.map((e) => e.style.width));
  check('the latency histogram as ten bars', bars.length === 10, bars);
  check('at least one bar is drawn', bars.some((w) => parseFloat(w) > 0), bars);
  check('no script on the page', (await page.$$('script')).length === 0);
  check('no external asset', external.length === 0, external);
  // The section's heading down to the last bar.
  const box = await page.evaluate(() => {
    const top = document.getElementById('plaid-link');
    const end = document.getElementById('plaid-link-latency');
    if (!top || !end) return null;
    const a = top.getBoundingClientRect(), b = end.getBoundingClientRect();
    return { x: 0, y: a.top + window.scrollY, width: 900,
             height: b.bottom - a.top + 8 };
  });
  await page.screenshot({ path: path.join(artifacts, '8-server-status.png'),
                          fullPage: true, ...(box ? { clip: box } : {}) });
  await page.close();
}

// Accounts compared whatever the order of their keys (the CGI
// application's JSON sorts them).
const sameAccounts = (a, b) => JSON.stringify((a || []).map(sortedKeys))
  === JSON.stringify((b || []).map(sortedKeys));
function sortedKeys(o) {
  return Object.keys(o).sort().reduce((out, k) => { out[k] = o[k]; return out; }, {});
}

// A page of the demo (scripts/run.sh's own httpd): every request is listed
// in `seen`; the test's answer stands for Plaid's script; nothing leaves
// the machine.
async function demoPage(context, seen) {
  const page = await context.newPage();
  await page.route('**/*', (route) => {
    const url = route.request().url();
    seen.push(url);
    if (url === PLAID_SCRIPT) {
      return route.fulfill({ status: 200, contentType: 'application/javascript',
                             body: 'window.__plaidScript = true;' });
    }
    if (url.startsWith('http://127.0.0.1:')) return route.continue();
    return route.abort();
  });
  return page;
}

// The demo with the emulator: the page loads the emulator's Link, which
// says plainly in its dialog that it is not Plaid's, and finishes Link
// offline: the exchange, the application (CGI) and the balances it gets
// through the gateway.
async function demoFinishesLinkOffline(context) {
  const seen = [];
  const page = await demoPage(context, seen);
  const base = env('PLAID_BROWSER_DEMO_URL');
  const allAnswers = recordAnswers(page);
  await page.goto(base);
  check('the demo with the emulator: the page loads the emulator\'s Link from the demo\'s site',
        seen.includes(`${base}emulated-link/link-initialize.js`), seen.join('\n'));
  check('and asks no other host for anything, Plaid\'s script included',
        seen.every((u) => u.startsWith(base)), seen.join('\n'));

  await page.click('#link-button');
  const dialog = await page.waitForSelector('[role=dialog]', { timeout: 10000 }).catch(() => null);
  const text = dialog ? await dialog.innerText() : '';
  check('the button opens a dialog that says it is the emulator\'s Link, with no real bank',
        text.includes('Emulated Plaid Link (offline demo)') && text.includes('no real bank'), text);
  await page.screenshot({ path: path.join(artifacts, '9-demo-emulated-link.png') });
  await page.click('#emulated-link-cancel');
  await page.waitForFunction(() => /cancelled/.test(document.getElementById('status').textContent),
                             null, { timeout: 10000 }).catch(() => {});
  const cancelled = (await page.textContent('#status')) || '';
  check('Cancel closes it, and the page says linking was cancelled (Link\'s onExit)',
        cancelled === 'Linking was cancelled.' && await page.$('[role=dialog]') === null, cancelled);

  const exchangeAnswer = page.waitForResponse((r) => r.url().endsWith('/plaid/exchange'));
  const balancesAnswer = page.waitForResponse(isBalances);
  await page.click('#link-button');
  await page.click('#emulated-link-continue', { timeout: 10000 }).catch(() => {});
  const ex = await exchangeAnswer;
  const { text: exText, body: item, sent } = await exchangeOf(ex);
  check('Continue: the emulator\'s public_token goes to the exchange (Link\'s onSuccess)',
        PUBLIC_TOKEN.test((sent && sent.public_token) || ''), JSON.stringify(sent));
  check('whose application, plaid-item.cgi, answers 200 and the item_id alone',
        ex.status() === 200 && Object.keys(item).join() === 'item_id'
          && /^[A-Za-z0-9]{37}$/.test(item.item_id), `${ex.status()} ${exText}`);
  const shown = await waitForStatus(page, 'done');
  check('the page says "Account linked" at the emulator\'s bank, with that item_id',
        shown.includes('Account linked at First Platypus Bank (emulated).')
          && !!item.item_id && shown.includes(item.item_id), shown);
  const { text: balText, items } = await balancesOf(await balancesAnswer);
  // run.sh linked an Item for user demo at start-up (for its printed
  // gateway line): it comes first.
  check('plaid-balances.cgi answers run.sh\'s Item and that one with the emulator\'s accounts, '
        + 'through the gateway by item_id',
        items.length === 2 && items[1].item_id === item.item_id
          && items.every((i) => sameAccounts(i.accounts, EMULATOR_ACCOUNTS)), balText);
  const table = await shownAccounts(page);
  check('and the page shows the accounts and their balances',
        JSON.stringify(table) === JSON.stringify(SHOWN_ACCOUNTS.concat(SHOWN_ACCOUNTS)),
        JSON.stringify(table));
  const listed = await linkedItems(page);
  check('"Linked accounts" lists both, connected, at the emulator\'s bank (ins_109508)',
        listed.length === 2 && listed[1].id === item.item_id
          && listed.every((i) => i.status === 'good' && i.text.includes('ins_109508')),
        JSON.stringify(listed));
  const leaks = await tokensShown(page, allAnswers, []);
  check('no access_token in the demo\'s page or any answer it received', leaks.length === 0,
        leaks.join('\n'));
  await page.screenshot({ path: path.join(artifacts, '10-demo-linked.png'), fullPage: true });
  await page.close();
}

// The demo with keys: the page asks for Plaid's own Link script (the test
// answers it: nothing is loaded from Plaid), not the emulator's.
async function demoWithKeysAsksForPlaidScript(context) {
  const seen = [];
  const page = await demoPage(context, seen);
  await page.goto(env('PLAID_BROWSER_DEMO_KEYS_URL'));
  const ran = await page.evaluate(() => window.__plaidScript === true);
  check('the demo with keys: the page asks for Plaid\'s Link script, ' + PLAID_SCRIPT,
        seen.filter((u) => u === PLAID_SCRIPT).length === 1 && ran, seen.join('\n'));
  check('and not the emulator\'s', !seen.some((u) => u.includes('/emulated-link/')),
        seen.join('\n'));
  await page.close();
}

async function main() {
  fs.mkdirSync(artifacts, { recursive: true });
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'plaid-browser-profile-'));
  let context;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
             '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      httpCredentials: { username: env('PLAID_BROWSER_USER'), password: env('PLAID_BROWSER_PASSWORD') },
      // The emulator's certificate is the run's own: only the stand-in's
      // call to /link/complete meets it.
      ignoreHTTPSErrors: true,
      viewport: { width: 900, height: 600 },
    });
    for (const t of [signedInLinksAccount, oauthReturnResumesLink, oauthReturnWithoutToken,
                     refusedExchangeShowsId, failingEndpointShowsId,
                     loginRequiredShowsMessage, itemFixAndRemove, statusPageShowsSection,
                     demoFinishesLinkOffline, demoWithKeysAsksForPlaidScript]) {
      try {
        await t(context);
      } catch (e) {
        check(`${t.name} ran to the end`, false, e.stack || e);
      }
    }
  } catch (e) {
    check('chromium starts', false, e.stack || e);
  } finally {
    if (context) await context.close().catch(() => {});
    fs.rmSync(profile, { recursive: true, force: true });
  }
  console.log(`# screenshots in ${artifacts}`);
  console.log(`${passed} passed, ${failed} failed`);
  process.exitCode = failed === 0 && passed > 0 ? 0 : 1;
}

main();
