// raw_hostile.js: hostile requests against rv-ots-server, each refused with the right status,
// code and message. A raw HTTP client signs requests itself (reference 2.1) with request bodies
// from the reference's known-answer vectors (3.9); it first proves it is right by getting a
// valid request accepted and by checking the server's response signature (2.2) and MD5. Over-limit
// batches and a wrong key schema also go through the official SDK.
'use strict';
const http = require('http');
const crypto = require('crypto');
const fs = require('fs');
const { TableStore, Long, client, call, callFails, check, eq, expectError, log, main } = require('./common');

const PORT = Number(new URL(process.env.OTS_ENDPOINT).port);
const AKID = process.env.OTS_AKID, INSTANCE = process.env.OTS_INSTANCE;
const SECRET = fs.readFileSync(process.env.OTS_SECRET_FILE, 'utf8').trim();
const hex = (h) => Buffer.from(h, 'hex');
const md5 = (b) => crypto.createHash('md5').update(b).digest('base64');
const hmac = (s) => crypto.createHmac('sha1', SECRET).update(s).digest('base64');

// KAT-B1 PutRow {table "meta", pk ("pk","k1"), s="v", IGNORE}; KAT-B2 GetRow (max_versions 1)
const B1 = hex('0a046d65746112327500000001030402000000706b050700000003020000006b310a4c020304010000007305060000000301000000760a0d09951a020800');
const B2 = hex('0a046d657461121d7500000001030402000000706b050700000003020000006b310a4c09a72801');

function headersFor(action, body, over = {}) {
  const h = { 'x-ots-date': new Date().toISOString(), 'x-ots-apiversion': '2015-12-31', 'x-ots-accesskeyid': AKID,
    'x-ots-instancename': INSTANCE, 'x-ots-contentmd5': md5(body), ...over };
  for (const k of Object.keys(h)) if (h[k] === null) delete h[k];
  const names = Object.keys(h).filter((k) => k.startsWith('x-ots-') && k !== 'x-ots-signature').sort();
  const sts = '/' + action + '\nPOST\n\n' + names.map((k) => k + ':' + String(h[k]).trim() + '\n').join('');
  if (!('x-ots-signature' in over)) h['x-ots-signature'] = hmac(sts);
  return h;
}

function send(method, action, body, headers) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: PORT, method, path: '/' + action, headers: { ...headers, 'Content-Length': body.length } }, (res) => {
      const parts = [];
      res.on('data', (d) => parts.push(d));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(parts) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

// Error { required string code = 1; optional string message = 2; }
function decodeError(b) {
  const out = {};
  for (let i = 0; i < b.length;) {
    const tag = b[i++];
    let len = 0, shift = 0, x;
    do { x = b[i++]; len |= (x & 0x7f) << shift; shift += 7; } while (x & 0x80);
    const s = b.slice(i, i + len).toString('utf8');
    i += len;
    if (tag === 0x0a) out.code = s; else if (tag === 0x12) out.message = s;
  }
  return out;
}

// the answer is signed and its MD5 right (reference 1.3, 2.2)
function checkSigned(r, action) {
  eq(r.headers['x-ots-contentmd5'], md5(r.body), action + ': x-ots-contentmd5');
  eq(r.headers['x-ots-contenttype'], 'protocol buffer', action + ': x-ots-contenttype');
  check(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/.test(r.headers['x-ots-date']), action + ': x-ots-date in microseconds');
  check(r.headers['x-ots-requestid'], action + ': x-ots-requestid');
  const names = Object.keys(r.headers).filter((k) => k.startsWith('x-ots-')).sort();
  const sts = names.map((k) => k + ':' + r.headers[k] + '\n').join('') + '/' + action;
  eq(r.headers['authorization'], 'OTS ' + AKID + ':' + hmac(sts), action + ': response Authorization');
}

async function refused(what, method, action, body, headers, status, code, message) {
  const r = await send(method, action, body, headers);
  checkSigned(r, action);
  const e = decodeError(r.body);
  eq([r.status, e.code], [status, code], what);
  if (message instanceof RegExp) check(message.test(e.message), what + ': message ' + JSON.stringify(e.message));
  else eq(e.message, message, what + ': message');
}

main(async () => {
  const c = client();
  await call(c, 'createTable', { tableMeta: { tableName: 'meta', primaryKey: [{ name: 'pk', type: 'STRING' }] },
    reservedThroughput: { capacityUnit: { read: 0, write: 0 } }, tableOptions: { timeToLive: -1, maxVersions: 1 } });

  // the raw client is right: KAT-B1 is accepted, the answer is signed, KAT-B2 reads it back
  const ok = await send('POST', 'PutRow', B1, headersFor('PutRow', B1));
  eq(ok.status, 200, 'valid raw PutRow');
  checkSigned(ok, 'PutRow');
  const got = await send('POST', 'GetRow', B2, headersFor('GetRow', B2));
  eq(got.status, 200, 'valid raw GetRow');
  check(got.body.includes(hex('7500000001030402000000706b050700000003020000006b310a4c02')), 'GetRow returns the row of k1');
  log('raw client accepted');

  const AUTH = 'OTSAuthFailed', PARAM = 'OTSParameterInvalid';
  await refused('bad signature', 'POST', 'PutRow', B1, headersFor('PutRow', B1, { 'x-ots-signature': 'AAAAAAAAAAAAAAAAAAAAAAAAAAA=' }), 403, AUTH, 'Signature mismatch.');
  const signedOther = headersFor('GetRow', B1); // signed for another action
  await refused('signature of another action', 'POST', 'PutRow', B1, signedOther, 403, AUTH, 'Signature mismatch.');
  const tampered = headersFor('PutRow', B1);
  tampered['x-ots-date'] = new Date(Date.now() + 1000).toISOString(); // a signed header changed after signing
  await refused('signed header changed', 'POST', 'PutRow', B1, tampered, 403, AUTH, 'Signature mismatch.');
  await refused('bad MD5', 'POST', 'PutRow', B1, headersFor('PutRow', B1, { 'x-ots-contentmd5': md5(B2) }), 403, AUTH,
    'Mismatch between MD5 value of request body and x-ots-contentmd5 in header.');
  for (const h of ['x-ots-date', 'x-ots-apiversion', 'x-ots-accesskeyid', 'x-ots-instancename', 'x-ots-contentmd5', 'x-ots-signature'])
    await refused('missing ' + h, 'POST', 'PutRow', B1, headersFor('PutRow', B1, { [h]: null }), 400, PARAM, 'Missing header: ' + h + '.');
  await refused('old API version', 'POST', 'PutRow', B1, headersFor('PutRow', B1, { 'x-ots-apiversion': '2014-08-08' }), 400, PARAM, 'Unsupported API version: 2014-08-08.');
  const old = new Date(Date.now() - 3600e3).toISOString();
  await refused('date an hour old', 'POST', 'PutRow', B1, headersFor('PutRow', B1, { 'x-ots-date': old }), 403, AUTH, 'Mismatch between system time and x-ots-date: ' + old + '.');
  await refused('bad date', 'POST', 'PutRow', B1, headersFor('PutRow', B1, { 'x-ots-date': 'yesterday' }), 400, PARAM, 'Invalid date format: yesterday.');
  await refused('other instance', 'POST', 'PutRow', B1, headersFor('PutRow', B1, { 'x-ots-instancename': 'other' }), 403, AUTH, /instance/);
  await refused('other access key', 'POST', 'PutRow', B1, headersFor('PutRow', B1, { 'x-ots-accesskeyid': 'someone' }), 403, AUTH, /AccessKeyID/);
  await refused('GET', 'GET', 'ListTable', Buffer.alloc(0), headersFor('ListTable', Buffer.alloc(0)), 405, 'OTSMethodNotAllowed', 'Only POST method for requests is supported.');
  await refused('unknown action', 'POST', 'DropEverything', Buffer.alloc(0), headersFor('DropEverything', Buffer.alloc(0)), 400, PARAM, "Unsupported operation: 'DropEverything'.");
  log('framing and authentication refusals ok');

  // PlainBuffer: a flipped row checksum, a flipped cell checksum
  const badRow = Buffer.from(B1); badRow[badRow.length - 5] ^= 1; // the row CRC just before the condition
  await refused('bad row CRC', 'POST', 'PutRow', badRow, headersFor('PutRow', badRow), 400, PARAM, /row checksum mismatch/);
  const badCell = Buffer.from(B1); badCell[34] ^= 1; // cell CRC of pk (row starts at byte 8)
  await refused('bad cell CRC', 'POST', 'PutRow', badCell, headersFor('PutRow', badCell), 400, PARAM, /cell 'pk' checksum mismatch/);
  // proto2: PutRowRequest without its required condition (field 3)
  const noCond = B1.slice(0, B1.length - 4);
  await refused('missing required field', 'POST', 'PutRow', noCond, headersFor('PutRow', noCond), 400, PARAM, /Malformed PutRowRequest/);
  // GetRow without max_versions or time_range (KAT-B2 without its 28 01)
  const noVer = B2.slice(0, B2.length - 2);
  await refused('no version condition', 'POST', 'GetRow', noVer, headersFor('GetRow', noVer), 400, PARAM, 'No version condition is specified while querying row.');
  // wrong primary-key schema: ("id", 42) into a table keyed by ("pk" STRING)
  const k2 = hex('750000000103040200000069640509000000002a000000000000000ac90950');
  const wrongPk = Buffer.concat([hex('0a046d657461'), Buffer.from([0x12, k2.length]), k2, hex('2801')]);
  await refused('wrong PK name', 'POST', 'GetRow', wrongPk, headersFor('GetRow', wrongPk), 400, 'OTSInvalidPK', 'Validate PK name fail. Input: id, Meta: pk.');
  const big = Buffer.alloc(5 * 1024 * 1024 + 1, 0x41);
  await refused('body over 5 MiB', 'POST', 'PutRow', big, headersFor('PutRow', big), 413, 'OTSRequestBodyTooLarge', 'The size of POST data is too large.');
  log('body refusals ok');

  // through the SDK: wrong key schema and over-limit batches
  const IGN = new TableStore.Condition(TableStore.RowExistenceExpectation.IGNORE, null);
  expectError(await callFails(c, 'putRow', { tableName: 'meta', condition: IGN, primaryKey: [{ pk: 'a' }, { extra: 'b' }], attributeColumns: [{ v: 'x' }] }),
    'OTSInvalidPK', 'Validate PK size fail. Input: 2, Meta: 1.', 'PutRow with two key columns');
  const rows = (n, size) => Array.from({ length: n }, (_, i) => ({ type: 'PUT', condition: IGN, primaryKey: [{ pk: 'r' + i }], attributeColumns: [{ v: 'x'.repeat(size) }] }));
  expectError(await callFails(c, 'batchWriteRow', { tables: [{ tableName: 'meta', rows: rows(201, 1) }] }),
    'OTSParameterInvalid', 'Rows count exceeds the upper limit: 200.', 'BatchWriteRow of 201 rows');
  expectError(await callFails(c, 'batchWriteRow', { tables: [{ tableName: 'meta', rows: rows(3, 1500000) }] }),
    'OTSParameterInvalid', 'The total data size of BatchWriteRow request exceeds the limit, limit size: 4194304', 'BatchWriteRow of 4.5 MB');
  const r200 = await call(c, 'batchWriteRow', { tables: [{ tableName: 'meta', rows: rows(200, 1) }] });
  check(r200.tables.length === 200 && r200.tables.every((x) => x.isOk), 'exactly 200 rows are accepted');
  log('SDK refusals ok');
});
