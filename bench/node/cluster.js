/* SPDX-License-Identifier: Apache-2.0 */
// server.js in NODE_WORKERS processes (2) sharing one port through Node's
// cluster module: what a quickstart user would add to use more than one
// core. Not the quickstart itself; bench/run.sh's "node x2" rows.
const cluster = require('cluster');
const path = require('path');

const workers = parseInt(process.env.NODE_WORKERS || '2', 10);
cluster.setupPrimary({ exec: path.join(__dirname, 'server.js') });
for (let i = 0; i < workers; i++) {
  cluster.fork();
}
cluster.on('exit', function (worker, code, signal) {
  console.error('worker ' + worker.process.pid + ' ended: ' + (signal || code));
});
