// sdk_faults.js: every fault mode of rv-ots-server, observed through the official JS SDK. The
// scenario rewrites the fault file (a new file renamed over the old: the server re-reads it on
// the next request) and checks what the SDK saw and what the server logged.
// Note on SDK 5.6.5: it does not decode Error bodies, so its error.code is the HTTP status and
// its code-based retry rules never fire; it retries only 500/502/503 and network errors, and
// only for read operations (GetRow, GetRange, ListTable, DescribeTable...).
'use strict';
const fs = require('fs');
const { TableStore, Long, client, call, callFails, check, eq, expectError, plain, log, main } = require('./common');
const IGNORE = TableStore.RowExistenceExpectation.IGNORE;
const T = 'faulty';
const FAULTS = process.env.OTS_FAULT_FILE;
const LOG = process.env.OTS_LOG;
let seq = 0;

function faults(text) {
  const tmp = FAULTS + '.new' + ++seq;
  fs.writeFileSync(tmp, text + '\n');
  fs.renameSync(tmp, FAULTS);
}
// log lines written since mark(), matching re
let mark = 0;
function since() { const all = fs.readFileSync(LOG, 'utf8').split('\n'); const out = all.slice(mark); mark = all.length - 1; return out; }
function countLines(lines, re) { return lines.filter((l) => re.test(l)).length; }
const pk = (i) => [{ id: Long.fromNumber(i) }];
const put = (c, i, v) => call(c, 'putRow', { tableName: T, condition: new TableStore.Condition(IGNORE, null), primaryKey: pk(i), attributeColumns: [{ v }] });
const get = async (c, i) => plain((await call(c, 'getRow', { tableName: T, primaryKey: pk(i), maxVersions: 1 })).row);

main(async () => {
  const c = client();
  faults('# none');
  await call(c, 'createTable', { tableMeta: { tableName: T, primaryKey: [{ name: 'id', type: 'INTEGER' }] },
    reservedThroughput: { capacityUnit: { read: 0, write: 0 } }, tableOptions: { timeToLive: -1, maxVersions: 1 } });
  await put(c, 1, 'one');
  since();

  // 503 OTSServerBusy twice on a read: the SDK retries and succeeds on the third attempt
  faults('busy 2 action=GetRow');
  eq(await get(c, 1), { pk: { id: 1 }, attrs: { v: 'one' } }, 'GetRow through two ServerBusy');
  let l = since();
  eq(countLines(l, / GetRow 503 OTSServerBusy .*fault=busy/), 2, 'two ServerBusy answers logged');
  eq(countLines(l, / GetRow 200 OK/), 1, 'then one success');
  log('busy (count) retried by the SDK');

  // busy for every PutRow: a write is not retried by the SDK; it sees the 503
  faults('busy 100% action=PutRow');
  expectError(await callFails(c, 'putRow', { tableName: T, condition: new TableStore.Condition(IGNORE, null), primaryKey: pk(2), attributeColumns: [{ v: 'x' }] }),
    'OTSServerBusy', 'Server is busy.', 'PutRow under busy 100%');
  eq(await get(c, 2), null, 'the refused write did not happen');
  log('busy (percentage) seen by the SDK');

  faults('partition 1 action=GetRange');
  const r = await call(c, 'getRange', { tableName: T, direction: TableStore.Direction.FORWARD, maxVersions: 1,
    inclusiveStartPrimaryKey: [{ id: TableStore.INF_MIN }], exclusiveEndPrimaryKey: [{ id: TableStore.INF_MAX }] });
  eq(r.rows.map((x) => plain(x).pk.id), [1], 'GetRange after PartitionUnavailable');
  eq(countLines(since(), / GetRange 503 OTSPartitionUnavailable/), 1, 'one PartitionUnavailable logged');
  faults('partition 1 action=UpdateRow');
  expectError(await callFails(c, 'updateRow', { tableName: T, condition: new TableStore.Condition(IGNORE, null), primaryKey: pk(1), updateOfAttributeColumns: [{ PUT: [{ w: 'x' }] }] }),
    'OTSPartitionUnavailable', 'The partition is not available.', 'UpdateRow under partition');
  log('partition unavailable seen');

  faults('timeout 1 action=PutRow\nunavailable 1 action=DeleteRow\nconflict 1 action=BatchWriteRow\nquota 1 action=DescribeTable');
  expectError(await callFails(c, 'putRow', { tableName: T, condition: new TableStore.Condition(IGNORE, null), primaryKey: pk(3), attributeColumns: [{ v: 'x' }] }),
    'OTSTimeout', 'Operation timeout.', 'PutRow under timeout');
  expectError(await callFails(c, 'deleteRow', { tableName: T, condition: new TableStore.Condition(IGNORE, null), primaryKey: pk(1) }),
    'OTSServerUnavailable', 'Server is not available.', 'DeleteRow under unavailable');
  expectError(await callFails(c, 'batchWriteRow', { tables: [{ tableName: T, rows: [{ type: 'PUT', condition: new TableStore.Condition(IGNORE, null), primaryKey: pk(4), attributeColumns: [{ v: 'x' }] }] }] }),
    'OTSRowOperationConflict', 'Data is being modified by the other request.', 'BatchWriteRow under conflict');
  expectError(await callFails(c, 'describeTable', { tableName: T }), 'OTSQuotaExhausted', 'Too frequent table operations.', 'DescribeTable under quota');
  eq(await get(c, 1), { pk: { id: 1 }, attrs: { v: 'one' } }, 'row 1 survived the refused delete');
  log('timeout, unavailable, conflict, quota seen');

  // per-row failures inside one BatchWriteRow: rows 1 and 3 fail, 0, 2, 4 are written
  faults('rowfail 1 1,3');
  const rows = [10, 11, 12, 13, 14].map((i) => ({ type: 'PUT', condition: new TableStore.Condition(IGNORE, null), primaryKey: pk(i), attributeColumns: [{ v: 'b' + i }] }));
  const b = await call(c, 'batchWriteRow', { tables: [{ tableName: T, rows }] });
  eq(b.tables.map((x) => [x.isOk, x.errorCode || null]),
    [[true, null], [false, 'OTSPartitionUnavailable'], [true, null], [false, 'OTSPartitionUnavailable'], [true, null]], 'per-row results');
  for (const i of [10, 11, 12, 13, 14]) eq(await get(c, i), i === 11 || i === 13 ? null : { pk: { id: i }, attrs: { v: 'b' + i } }, 'row ' + i);
  const again = await call(c, 'batchWriteRow', { tables: [{ tableName: T, rows: [rows[1], rows[3]] }] });
  check(again.tables.every((x) => x.isOk), 'rowfail 1 applied to one request only');
  log('per-row batch failures seen');

  // a slow answer
  since();
  faults('delay 400 1 action=GetRow');
  let t0 = Date.now();
  eq(await get(c, 1), { pk: { id: 1 }, attrs: { v: 'one' } }, 'slow GetRow');
  check(Date.now() - t0 >= 400, 'GetRow took >= 400 ms, took ' + (Date.now() - t0));
  await get(c, 1);
  l = since(); // judged by the server's log, not by a clock on a loaded machine
  eq(countLines(l, / GetRow 200 OK .* fault=delay/), 1, 'the first GetRow was delayed');
  eq(countLines(l, / GetRow 200 OK \d+B->\d+B \d+ms$/), 1, 'the next GetRow was not');
  log('delay seen');

  // a dropped connection: a read is retried by the SDK; a write surfaces the network error
  since();
  faults('drop 1 action=GetRow');
  eq(await get(c, 1), { pk: { id: 1 }, attrs: { v: 'one' } }, 'GetRow through a dropped connection');
  eq(countLines(since(), /GetRow dropped \(fault\)/), 1, 'one dropped connection logged');
  faults('drop 1 action=PutRow');
  const dropped = await callFails(c, 'putRow', { tableName: T, condition: new TableStore.Condition(IGNORE, null), primaryKey: pk(5), attributeColumns: [{ v: 'x' }] });
  eq(dropped.code, 'NetworkingError', 'PutRow on a dropped connection (' + dropped.message + ')');
  log('dropped connection seen');

  // a blackhole: the request is read and never answered; the SDK's own timeout ends it
  faults('blackhole action=ListTable');
  const saved = TableStore.DefaultRetryPolicy.maxRetryTimes;
  TableStore.DefaultRetryPolicy.maxRetryTimes = 0;
  const slow = new TableStore.Client({ ...c.config, httpOptions: { timeout: 700 } });
  t0 = Date.now();
  const bh = await callFails(slow, 'listTable', {});
  TableStore.DefaultRetryPolicy.maxRetryTimes = saved;
  check(/timed out/i.test(bh.message), 'ListTable into the blackhole times out: ' + bh.message);
  check(Date.now() - t0 >= 700, 'the blackhole held the request');
  eq(await get(c, 1), { pk: { id: 1 }, attrs: { v: 'one' } }, 'other actions are answered meanwhile');
  faults('# cleared');
  eq((await call(c, 'listTable', {})).tableNames, [T], 'ListTable answered once the blackhole is gone');
  log('blackhole seen');

  // a fault file that does not parse fails every request loudly
  faults('bussy 1');
  // (a write: the SDK would retry a read's 500 twenty times)
  const bad = await callFails(c, 'putRow', { tableName: T, condition: new TableStore.Condition(IGNORE, null), primaryKey: pk(6), attributeColumns: [{ v: 'x' }] });
  eq(bad.code, 500, 'bad fault file: 500');
  check(String(bad.message).includes("unknown directive 'bussy'"), 'bad fault file named: ' + bad.message);
  faults('');
  await put(c, 6, 'six');
  eq(await get(c, 6), { pk: { id: 6 }, attrs: { v: 'six' } }, 'an empty fault file: no faults');
  log('bad fault file refused every request');
});
