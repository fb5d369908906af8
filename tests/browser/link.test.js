// Drives Debian's chromium through examples/link.html, served by an httpd
// that scripts/test-browser.sh starts with mod_plaid_link and the Plaid
// emulator. Plaid's CDN script is answered by a stand-in (page.route) that
// records what the page hands to Plaid.create; the page is the real file.
//
// Environment (set by scripts/test-browser.sh):
//   PLAID_BROWSER_GOOD_URL  the page on the vhost whose endpoint works
//   PLAID_BROWSER_BAD_URL   the page on the vhost whose endpoint has a wrong secret
//   PLAID_BROWSER_ERROR_LOG httpd's error log
//   PLAID_BROWSER_USER, PLAID_BROWSER_PASSWORD  basic auth
//   CHROMIUM                (default /usr/bin/chromium)
// Prints "ok - ..." / "not ok - ..." and closes with "N passed, N failed".
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const { chromium } = require('playwright-core');

const PLAID_SCRIPT = 'https://cdn.plaid.com/link/v2/stable/link-initialize.js';
const artifacts = path.join(__dirname, 'artifacts');
const env = (name) => {
  if (!process.env[name]) throw new Error(`${name} is not set: run scripts/test-browser.sh`);
  return process.env[name];
};

// Stands in for Plaid's link-initialize.js: the API the page uses, no UI.
// open() reports success as Link would after the user picked a bank.
const STAND_IN = `
window.__plaid = { created: [], opened: 0 };
window.Plaid = {
  create: function (config) {
    window.__plaid.created.push({
      token: config.token,
      onSuccess: typeof config.onSuccess,
      onExit: typeof config.onExit
    });
    return {
      open: function () {
        window.__plaid.opened++;
        setTimeout(function () {
          config.onSuccess('public-sandbox-stand-in',
                           { institution: { name: 'Stand-in Bank', institution_id: 'ins_0' } });
        }, 0);
      },
      exit: function () {},
      destroy: function () {}
    };
  }
};`;

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

async function newPage(context, plaidRequests) {
  const page = await context.newPage();
  // Only the test's own httpd and the stand-in: nothing leaves the machine.
  await page.route('**/*', (route) => {
    const url = route.request().url();
    if (url === PLAID_SCRIPT) {
      plaidRequests.push(url);
      return route.fulfill({ status: 200, contentType: 'application/javascript', body: STAND_IN });
    }
    if (url.startsWith('http://127.0.0.1:')) return route.continue();
    return route.abort();
  });
  return page;
}

async function signedInClickGetsToken(context) {
  const plaidRequests = [];
  const page = await newPage(context, plaidRequests);
  await page.goto(env('PLAID_BROWSER_GOOD_URL'));
  check('the page loads Plaid\'s script from cdn.plaid.com', plaidRequests.length === 1, plaidRequests);
  await page.screenshot({ path: path.join(artifacts, '1-page.png') });

  const [res] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/plaid/link-token')),
    page.click('#link-button'),
  ]);
  const req = res.request();
  check('the click POSTs to the endpoint', req.method() === 'POST', req.method());
  check('with Content-Type: application/json',
        /^application\/json/.test(req.headers()['content-type'] || ''), req.headers()['content-type']);
  check('and X-Requested-With', !!req.headers()['x-requested-with'], JSON.stringify(req.headers()));
  check('the signed-in user gets 200 from the module', res.status() === 200, res.status());
  const body = await res.json().catch(() => ({}));

  await page.waitForFunction(() => window.__plaid && window.__plaid.created.length > 0, null,
                             { timeout: 10000 }).catch(() => {});
  const plaid = await page.evaluate(() => window.__plaid);
  const created = plaid && plaid.created[0];
  check('Plaid.create is called once', plaid && plaid.created.length === 1, JSON.stringify(plaid));
  check('with a token from the emulator (link-sandbox-...)',
        created && /^link-sandbox-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/
          .test(created.token), created && created.token);
  check('the token is the one the endpoint answered', created && created.token === body.link_token,
        `${created && created.token} vs ${body.link_token}`);
  check('with onSuccess and onExit functions',
        created && created.onSuccess === 'function' && created.onExit === 'function',
        JSON.stringify(created));
  check('and the handler is opened', plaid && plaid.opened === 1, JSON.stringify(plaid));
  await page.waitForSelector('#status.done', { timeout: 5000 }).catch(() => {});
  const shown = await page.textContent('#status');
  check('onSuccess shows the linked bank', /Stand-in Bank/.test(shown), shown);
  await page.screenshot({ path: path.join(artifacts, '2-token-linked.png') });
  await page.close();
}

async function failingEndpointShowsId(context) {
  const plaidRequests = [];
  const page = await newPage(context, plaidRequests);
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

  // httpd writes the line before it answers; allow the file a moment.
  const logFile = env('PLAID_BROWSER_ERROR_LOG');
  let line;
  for (let i = 0; i < 20 && !line; i++) {
    const log = fs.readFileSync(logFile, 'utf8');
    line = log.split('\n').find((l) => reference && l.includes('PL0100:') && l.includes(` id=${reference} `));
    if (!line) await new Promise((r) => setTimeout(r, 100));
  }
  check('the shown id is the id= of a PL0100 line in the error log', !!line,
        `no PL0100 line with id=${reference} in ${logFile}`);
  check('that line says why: INVALID_API_KEYS with its hint',
        !!line && /error_code="INVALID_API_KEYS"/.test(line) && /hint="the client id and secret/.test(line),
        line);
  check('the secret is in neither the page nor the log line',
        !shown.includes('wrong-secret') && !!line && !line.includes('wrong-secret'), line);
  await page.screenshot({ path: path.join(artifacts, '3-error-correlation-id.png') });
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
      viewport: { width: 900, height: 600 },
    });
    for (const t of [signedInClickGetsToken, failingEndpointShowsId]) {
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
