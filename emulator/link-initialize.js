// SPDX-License-Identifier: Apache-2.0
//
// The Plaid emulator's Link, for scripts/run.sh's offline demo. The page
// (examples/link.html) asks for it where it would ask for Plaid's
// https://cdn.plaid.com/link/v2/stable/link-initialize.js (the demo's
// httpd.conf swaps the URL) and uses it as it uses Plaid's:
// Plaid.create({token, onSuccess, onExit}).open().
//
// open() shows a small dialog that says plainly it is the emulator's, not
// Plaid's. Its Continue does what Plaid Link does between open() and
// onSuccess, with nothing but the link_token: the emulator's /link/complete
// (emulator/README.md), served on the page's own site beside this file,
// turns the link_token into a public_token, which goes to onSuccess as
// Plaid's would. Cancel (or Escape) is onExit(null), as when the user
// closes Plaid's window. No bank and no network are involved.
(function () {
  'use strict';

  var TITLE = 'Emulated Plaid Link (offline demo) \u2014 no real bank';
  var TEXT = 'This window stands in for Plaid Link. The demo runs against ' +
             'the Plaid emulator in its own httpd: no bank, no password and ' +
             'no network are involved. Continue links the emulator\u2019s ' +
             'test bank, with a checking and a savings account.';
  // The Item the emulator makes for a public_token from /link/complete.
  var INSTITUTION = { name: 'First Platypus Bank (emulated)', institution_id: 'ins_109508' };
  var complete = new URL('link/complete', document.currentScript.src).href;

  function element(tag, props, parent) {
    var e = document.createElement(tag);
    Object.keys(props).forEach(function (k) { e[k] = props[k]; });
    if (parent) {
      parent.appendChild(e);
    }
    return e;
  }

  // Inline styles: the page loads no stylesheet for this.
  function showDialog(onContinue, onCancel) {
    var backdrop = element('div', { id: 'emulated-link' }, document.body);
    backdrop.style.cssText = 'position:fixed;inset:0;background:rgba(0,0,0,.45);' +
      'display:flex;align-items:center;justify-content:center;z-index:2147483647';
    var box = element('div', {}, backdrop);
    box.setAttribute('role', 'dialog');
    box.setAttribute('aria-modal', 'true');
    box.setAttribute('aria-labelledby', 'emulated-link-title');
    box.style.cssText = 'background:#fff;max-width:26rem;margin:1rem;padding:1.5rem 2rem;' +
      'border-radius:8px;font-family:system-ui,sans-serif;color:#1b1f24;' +
      'box-shadow:0 4px 24px rgba(0,0,0,.3)';
    element('h2', { id: 'emulated-link-title', textContent: TITLE }, box)
      .style.cssText = 'font-size:1.15rem;margin:0 0 .75rem';
    element('p', { textContent: TEXT }, box).style.cssText = 'margin:0 0 1.25rem';
    var go = element('button', { id: 'emulated-link-continue', type: 'button',
                                 textContent: 'Continue' }, box);
    var cancel = element('button', { id: 'emulated-link-cancel', type: 'button',
                                     textContent: 'Cancel' }, box);
    go.style.cssText = cancel.style.cssText = 'font-size:1rem;padding:.5rem 1.1rem;' +
      'border-radius:6px;margin-right:.5rem;cursor:pointer';
    function close() {
      document.removeEventListener('keydown', onKey);
      backdrop.remove();
    }
    function onKey(e) {
      if (e.key === 'Escape') {
        close();
        onCancel();
      }
    }
    document.addEventListener('keydown', onKey);
    go.addEventListener('click', function () {
      go.disabled = cancel.disabled = true;
      onContinue(close);
    });
    cancel.addEventListener('click', function () {
      close();
      onCancel();
    });
    go.focus();
    return close;
  }

  function create(config) {
    var session = 'emulated-' + Math.random().toString(36).slice(2);
    var close = null;

    function finish(publicToken) {
      config.onSuccess(publicToken, {
        institution: INSTITUTION, accounts: [], link_session_id: session
      });
    }
    // Plaid's onExit gets a PlaidError (or null) and metadata.
    function exit(error, requestId) {
      if (typeof config.onExit === 'function') {
        config.onExit(error, { link_session_id: session, request_id: requestId || null,
                               institution: null, status: null });
      }
    }
    function ask(done) {
      fetch(complete, {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ link_token: config.token })
      }).then(function (res) {
        return res.json().catch(function () { return {}; }).then(function (body) {
          done();
          if (res.ok && typeof body.public_token === 'string') {
            finish(body.public_token);
          } else {
            exit({ error_type: body.error_type || 'API_ERROR',
                   error_code: body.error_code || 'INTERNAL_SERVER_ERROR',
                   error_message: body.error_message || 'no public_token',
                   display_message: null }, body.request_id);
          }
        });
      }, function () {
        done();
        exit({ error_type: 'API_ERROR', error_code: 'INTERNAL_SERVER_ERROR',
               error_message: 'the emulator did not answer', display_message: null });
      });
    }

    if (typeof config.onLoad === 'function') {
      setTimeout(config.onLoad, 0);
    }
    return {
      open: function () {
        if (!close) {
          close = showDialog(function (done) {
            ask(function () { done(); close = null; });
          }, function () {
            close = null;
            exit(null);
          });
        }
      },
      exit: function () {
        if (close) {
          close();
          close = null;
          exit(null);
        }
      },
      submit: function () {},
      destroy: function () {
        if (close) {
          close();
          close = null;
        }
      }
    };
  }

  window.Plaid = { create: create, version: 'emulated' };
}());
