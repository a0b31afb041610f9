// common.js: what the SDK scenarios share: a client of the official Tablestore SDK for
// JavaScript (npm `tablestore`, resolved through NODE_PATH) pointed at rv-ots-server by the
// environment, promise wrappers, and checks that fail with context.
'use strict';
const TableStore = require('tablestore');
const fs = require('fs');

function env(name) {
  const v = process.env[name];
  if (!v) throw new Error('environment variable ' + name + ' is not set');
  return v;
}

function client() {
  return new TableStore.Client({
    accessKeyId: env('OTS_AKID'),
    secretAccessKey: fs.readFileSync(env('OTS_SECRET_FILE'), 'utf8').trim(),
    endpoint: env('OTS_ENDPOINT'),
    instancename: env('OTS_INSTANCE'),
    httpOptions: { timeout: Number(process.env.OTS_HTTP_TIMEOUT_MS || 10000) },
  });
}

// c.op(params) as a promise resolving to data, rejecting with the SDK's error
function call(c, op, params) {
  return new Promise((resolve, reject) => {
    c[op](params, (err, data) => (err ? reject(err) : resolve(data)));
  });
}

// resolves to the SDK error of a call that must fail
async function callFails(c, op, params) {
  try {
    await call(c, op, params);
  } catch (e) {
    return e;
  }
  throw new Error(op + ' succeeded but was expected to fail');
}

function check(cond, what) {
  if (!cond) throw new Error('check failed: ' + what);
}

function eq(got, want, what) {
  const g = JSON.stringify(got), w = JSON.stringify(want);
  if (g !== w) throw new Error(what + ': expected ' + w + ', got ' + g);
}

// HTTP status of each Tablestore error code the scenarios expect (reference 5.1)
const STATUS = {
  OTSObjectAlreadyExist: 409, OTSObjectNotExist: 404, OTSConditionCheckFail: 403, OTSParameterInvalid: 400,
  OTSInvalidPK: 400, OTSRowOperationConflict: 409, OTSAuthFailed: 403, OTSServerBusy: 503,
  OTSPartitionUnavailable: 503, OTSTimeout: 503, OTSServerUnavailable: 503, OTSQuotaExhausted: 403,
};

// The SDK (5.6.5) does not decode the protobuf Error body: its error.code is the HTTP status and
// its message the raw body (which holds the Tablestore code and message as protobuf strings)
// plus " requestId:...". So an expected error is checked as: status, then code and message
// inside the raw body.
function expectError(e, code, msg, what) {
  eq(e.code, STATUS[code], what + ' (HTTP status; message "' + e.message + '")');
  check(String(e.message).includes(code), what + ': body holds code ' + code + ': ' + JSON.stringify(e.message));
  if (msg !== undefined) check(String(e.message).includes(msg), what + ': body holds message "' + msg + '": ' + JSON.stringify(e.message));
  check(/requestId:[0-9a-f]+-[0-9a-f]+/.test(String(e.message)), what + ': the SDK saw x-ots-requestid');
}

// a row of the SDK as {pk: {name: value}, attrs: {name: value}}, Longs as numbers
function plain(row) {
  const v = (x) => (x && typeof x.toNumber === 'function' ? x.toNumber() : Buffer.isBuffer(x) ? 'hex:' + x.toString('hex') : x);
  const out = { pk: {}, attrs: {} };
  if (!row || !row.primaryKey) return null;
  for (const p of row.primaryKey) out.pk[p.name] = v(p.value);
  for (const a of row.attributes || []) out.attrs[a.columnName] = v(a.columnValue);
  return out;
}

const T0 = Date.now();
function log(msg) {
  process.stdout.write('[sdk +' + (Date.now() - T0) + 'ms] ' + msg + '\n');
}

async function main(fn) {
  try {
    await fn();
    log('PASS');
  } catch (e) {
    process.stdout.write('[sdk] FAIL: ' + (e.stack || e) + '\n');
    if (e.code) process.stdout.write('[sdk] error code ' + e.code + ' message ' + e.message + '\n');
    process.exit(1);
  }
}

module.exports = { TableStore, Long: TableStore.Long, client, call, callFails, check, eq, expectError, plain, log, main };
