// sdk_txn_timeout.js: against a server started with a short --txn-timeout-ms, an abandoned
// local transaction is aborted by the server: its partition is locked (conflict) until then,
// writable afterwards, its write never appears, and its id is no longer valid.
'use strict';
const { TableStore, Long, client, call, callFails, check, eq, expectError, plain, log, main } = require('./common');
const IGNORE = TableStore.RowExistenceExpectation.IGNORE;
const T = 'txnt';
const TIMEOUT_MS = Number(process.argv[2]);

main(async () => {
  const c = client();
  await call(c, 'createTable', { tableMeta: { tableName: T, primaryKey: [{ name: 'p', type: 'STRING' }, { name: 'n', type: 'INTEGER' }] },
    reservedThroughput: { capacityUnit: { read: 0, write: 0 } }, tableOptions: { timeToLive: -1, maxVersions: 1 } });
  const t0 = Date.now();
  const { transactionId } = await call(c, 'startLocalTransaction', { tableName: T, primaryKey: [{ p: 'a' }] });
  await call(c, 'putRow', { tableName: T, condition: new TableStore.Condition(IGNORE, null), primaryKey: [{ p: 'a' }, { n: Long.fromNumber(1) }], attributeColumns: [{ v: 'txn' }], transactionId });
  // poll a plain write to the locked partition until the server has expired the transaction
  const deadline = Date.now() + TIMEOUT_MS + 5000;
  let conflicts = 0;
  for (;;) {
    try {
      await call(c, 'putRow', { tableName: T, condition: new TableStore.Condition(IGNORE, null), primaryKey: [{ p: 'a' }, { n: Long.fromNumber(2) }], attributeColumns: [{ v: 'plain' }] });
      break;
    } catch (e) {
      expectError(e, 'OTSRowOperationConflict', 'Data is being modified by the other request.', 'write to the locked partition');
      conflicts++;
      check(Date.now() < deadline, 'transaction still holds the partition ' + (Date.now() - t0) + ' ms after its start');
      await new Promise((r) => setTimeout(r, 20)); // poll interval, not a synchronisation
    }
  }
  check(conflicts > 0, 'the partition was locked before the timeout');
  check(Date.now() - t0 >= TIMEOUT_MS, 'the lock lasted the transaction timeout, ' + (Date.now() - t0) + ' ms');
  eq(plain((await call(c, 'getRow', { tableName: T, primaryKey: [{ p: 'a' }, { n: Long.fromNumber(1) }], maxVersions: 1 })).row), null, 'the expired write never appears');
  expectError(await callFails(c, 'commitTransaction', { transactionId }), 'OTSParameterInvalid', 'TransactionID is invalid.', 'commit after expiry');
  log('transaction expired after ' + (Date.now() - t0) + ' ms, ' + conflicts + ' conflicts before');
});
