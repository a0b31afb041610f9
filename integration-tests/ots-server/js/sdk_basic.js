// sdk_basic.js: the official JS SDK drives rv-ots-server through tables, single-row writes and
// reads with conditions, a 150-row BatchWriteRow, GetRange with paging in both directions and
// local transactions (commit, abort, isolation, conflicts). Every answer is checked.
'use strict';
const { TableStore, Long, client, call, callFails, check, eq, expectError, plain, log, main } = require('./common');
const IGNORE = TableStore.RowExistenceExpectation.IGNORE;
const EXIST = TableStore.RowExistenceExpectation.EXPECT_EXIST;
const NOT_EXIST = TableStore.RowExistenceExpectation.EXPECT_NOT_EXIST;
const T = 'files';
const pk = (parent, name) => [{ parent: Long.fromNumber(parent) }, { name: name }];

async function tables(c) {
  await call(c, 'createTable', {
    tableMeta: { tableName: T, primaryKey: [{ name: 'parent', type: 'INTEGER' }, { name: 'name', type: 'STRING' }] },
    reservedThroughput: { capacityUnit: { read: 0, write: 0 } },
    tableOptions: { timeToLive: -1, maxVersions: 1 },
  });
  const again = await callFails(c, 'createTable', {
    tableMeta: { tableName: T, primaryKey: [{ name: 'parent', type: 'INTEGER' }] },
    reservedThroughput: { capacityUnit: { read: 0, write: 0 } },
    tableOptions: { timeToLive: -1, maxVersions: 1 },
  });
  expectError(again, 'OTSObjectAlreadyExist', 'Requested table already exists.', 'second CreateTable');
  const d = await call(c, 'describeTable', { tableName: T });
  eq(d.tableMeta.tableName, T, 'DescribeTable name');
  eq(d.tableMeta.primaryKey.map((p) => [p.name, p.type]), [['parent', 1], ['name', 2]], 'DescribeTable primary key');
  eq(d.tableOptions.maxVersions, 1, 'DescribeTable max_versions');
  const l = await call(c, 'listTable', {});
  check(l.tableNames.includes(T), 'ListTable lists ' + T + ': ' + JSON.stringify(l.tableNames));
  const missing = await callFails(c, 'describeTable', { tableName: 'nope' });
  expectError(missing, 'OTSObjectNotExist', 'Requested table does not exist.', 'DescribeTable of a missing table');
  // DeleteTable takes the rows with it: a table created again under the name is empty
  const tmp = { tableMeta: { tableName: 'tmp', primaryKey: [{ name: 'k', type: 'STRING' }] },
    reservedThroughput: { capacityUnit: { read: 0, write: 0 } }, tableOptions: { timeToLive: -1, maxVersions: 1 } };
  await call(c, 'createTable', tmp);
  await call(c, 'putRow', { tableName: 'tmp', condition: new TableStore.Condition(IGNORE, null), primaryKey: [{ k: 'x' }], attributeColumns: [{ v: 'x' }] });
  await call(c, 'deleteTable', { tableName: 'tmp' });
  expectError(await callFails(c, 'describeTable', { tableName: 'tmp' }), 'OTSObjectNotExist', 'Requested table does not exist.', 'DescribeTable after DeleteTable');
  expectError(await callFails(c, 'deleteTable', { tableName: 'tmp' }), 'OTSObjectNotExist', 'Requested table does not exist.', 'DeleteTable twice');
  await call(c, 'createTable', tmp);
  const empty = await call(c, 'getRow', { tableName: 'tmp', primaryKey: [{ k: 'x' }], maxVersions: 1 });
  eq(plain(empty.row), null, 'a recreated table is empty');
  await call(c, 'deleteTable', { tableName: 'tmp' });
  const bad = await callFails(c, 'createTable', { ...tmp, tableMeta: { tableName: '9bad', primaryKey: [{ name: 'k', type: 'STRING' }] } });
  expectError(bad, 'OTSParameterInvalid', "Invalid table name: '9bad'.", 'CreateTable with a bad name');
  const fivePk = await callFails(c, 'createTable', { ...tmp, tableMeta: { tableName: 'five', primaryKey: ['a', 'b', 'c', 'd', 'e'].map((n) => ({ name: n, type: 'INTEGER' })) } });
  expectError(fivePk, 'OTSParameterInvalid', 'The number of primary key columns must be in range: [1, 4].', 'CreateTable with 5 key columns');
  eq((await call(c, 'listTable', {})).tableNames, [T], 'ListTable after the deletes');
  log('tables ok');
}

async function rows(c) {
  const put = await call(c, 'putRow', {
    tableName: T, condition: new TableStore.Condition(NOT_EXIST, null), primaryKey: pk(1, 'a.txt'),
    attributeColumns: [{ size: Long.fromNumber(42) }, { owner: 'alice' }, { ratio: 0.5 }, { dir: false }],
    returnContent: { returnType: TableStore.ReturnType.Primarykey },
  });
  eq(plain(put.row).pk, { parent: 1, name: 'a.txt' }, 'PutRow RT_PK row');
  const dup = await callFails(c, 'putRow', {
    tableName: T, condition: new TableStore.Condition(NOT_EXIST, null), primaryKey: pk(1, 'a.txt'), attributeColumns: [{ size: Long.fromNumber(1) }],
  });
  expectError(dup, 'OTSConditionCheckFail', 'Condition check failed.', 'PutRow EXPECT_NOT_EXIST on an existing row');
  const got = await call(c, 'getRow', { tableName: T, primaryKey: pk(1, 'a.txt'), maxVersions: 1 });
  eq(plain(got.row), { pk: { parent: 1, name: 'a.txt' }, attrs: { size: 42, owner: 'alice', ratio: 0.5, dir: false } }, 'GetRow');
  const cols = await call(c, 'getRow', { tableName: T, primaryKey: pk(1, 'a.txt'), maxVersions: 1, columnsToGet: ['owner'] });
  eq(plain(cols.row).attrs, { owner: 'alice' }, 'GetRow columns_to_get');
  const none = await call(c, 'getRow', { tableName: T, primaryKey: pk(1, 'missing'), maxVersions: 1 });
  eq(plain(none.row), null, 'GetRow of a missing row');

  // column conditions: single and composite
  const sizeIs = (n) => new TableStore.SingleColumnCondition('size', Long.fromNumber(n), TableStore.ComparatorType.EQUAL);
  await call(c, 'updateRow', {
    tableName: T, primaryKey: pk(1, 'a.txt'), condition: new TableStore.Condition(EXIST, sizeIs(42)),
    updateOfAttributeColumns: [{ PUT: [{ owner: 'bob' }] }, { DELETE_ALL: ['ratio'] }, { INCREMENT: [{ size: Long.fromNumber(8) }] }],
  });
  const wrong = await callFails(c, 'updateRow', {
    tableName: T, primaryKey: pk(1, 'a.txt'), condition: new TableStore.Condition(EXIST, sizeIs(42)),
    updateOfAttributeColumns: [{ PUT: [{ owner: 'eve' }] }],
  });
  expectError(wrong, 'OTSConditionCheckFail', 'Condition check failed.', 'UpdateRow with a false column condition');
  const both = new TableStore.CompositeCondition(TableStore.LogicalOperator.AND);
  both.addSubCondition(sizeIs(50));
  both.addSubCondition(new TableStore.SingleColumnCondition('owner', 'bob', TableStore.ComparatorType.EQUAL));
  await call(c, 'updateRow', {
    tableName: T, primaryKey: pk(1, 'a.txt'), condition: new TableStore.Condition(IGNORE, both),
    updateOfAttributeColumns: [{ PUT: [{ mode: Long.fromNumber(644) }] }],
  });
  const either = new TableStore.CompositeCondition(TableStore.LogicalOperator.OR);
  either.addSubCondition(sizeIs(1));
  either.addSubCondition(new TableStore.SingleColumnCondition('owner', 'carol', TableStore.ComparatorType.EQUAL));
  const orFails = await callFails(c, 'updateRow', {
    tableName: T, primaryKey: pk(1, 'a.txt'), condition: new TableStore.Condition(IGNORE, either),
    updateOfAttributeColumns: [{ PUT: [{ mode: Long.fromNumber(600) }] }],
  });
  expectError(orFails, 'OTSConditionCheckFail', 'Condition check failed.', 'UpdateRow with a false OR condition');
  const after = await call(c, 'getRow', { tableName: T, primaryKey: pk(1, 'a.txt'), maxVersions: 1 });
  eq(plain(after.row).attrs, { size: 50, owner: 'bob', dir: false, mode: 644 }, 'row after updates');

  const badPk = await callFails(c, 'getRow', { tableName: T, primaryKey: [{ parent: 'x' }, { name: 'a' }], maxVersions: 1 });
  expectError(badPk, 'OTSInvalidPK', 'Validate PK type fail. Input: VT_STRING, Meta: VT_INTEGER.', 'GetRow with a wrong PK type');

  await call(c, 'deleteRow', { tableName: T, primaryKey: pk(1, 'a.txt'), condition: new TableStore.Condition(EXIST, null) });
  const gone = await call(c, 'getRow', { tableName: T, primaryKey: pk(1, 'a.txt'), maxVersions: 1 });
  eq(plain(gone.row), null, 'GetRow after DeleteRow');
  const delAgain = await callFails(c, 'deleteRow', { tableName: T, primaryKey: pk(1, 'a.txt'), condition: new TableStore.Condition(EXIST, null) });
  expectError(delAgain, 'OTSConditionCheckFail', 'Condition check failed.', 'DeleteRow EXPECT_EXIST of a missing row');
  log('rows ok');
}

const fname = (i) => 'f' + String(i).padStart(4, '0');

async function batch(c) {
  const rowsOf = (from, to) => {
    const r = [];
    for (let i = from; i < to; i++)
      r.push({ type: 'PUT', condition: new TableStore.Condition(IGNORE, null), primaryKey: pk(7, fname(i)), attributeColumns: [{ i: Long.fromNumber(i) }] });
    return r;
  };
  for (const [from, to] of [[0, 150], [150, 200]]) {
    const res = await call(c, 'batchWriteRow', { tables: [{ tableName: T, rows: rowsOf(from, to) }] });
    eq(res.tables.length, to - from, 'BatchWriteRow results');
    check(res.tables.every((r) => r.isOk && r.tableName === T), 'every BatchWriteRow row ok');
  }
  // one row fails its condition, the others are written: positional per-row results
  const mixed = await call(c, 'batchWriteRow', {
    tables: [{ tableName: T, rows: [
      { type: 'PUT', condition: new TableStore.Condition(NOT_EXIST, null), primaryKey: pk(7, fname(3)), attributeColumns: [{ i: Long.fromNumber(-1) }] },
      { type: 'PUT', condition: new TableStore.Condition(IGNORE, null), primaryKey: pk(8, 'x'), attributeColumns: [{ i: Long.fromNumber(1) }] },
      { type: 'DELETE', condition: new TableStore.Condition(IGNORE, null), primaryKey: pk(8, 'y') },
    ] }],
  });
  eq(mixed.tables.map((r) => [r.isOk, r.errorCode || null]), [[false, 'OTSConditionCheckFail'], [true, null], [true, null]], 'mixed BatchWriteRow');
  log('batch ok');
}

async function range(c, direction, limit, start, end) {
  const all = [];
  let pages = 0;
  for (;;) {
    const d = await call(c, 'getRange', { tableName: T, direction, maxVersions: 1, limit, inclusiveStartPrimaryKey: start, exclusiveEndPrimaryKey: end });
    pages++;
    for (const r of d.rows) all.push(plain(r));
    check(d.rows.length <= limit, 'page within limit');
    if (!d.nextStartPrimaryKey) break;
    start = d.nextStartPrimaryKey.map((p) => ({ [p.name]: p.value }));
  }
  return { all, pages };
}

async function ranges(c) {
  const F = TableStore.Direction.FORWARD, B = TableStore.Direction.BACKWARD;
  const fw = await range(c, F, 37, [{ parent: Long.fromNumber(7) }, { name: TableStore.INF_MIN }], [{ parent: Long.fromNumber(7) }, { name: TableStore.INF_MAX }]);
  eq(fw.all.length, 200, 'forward range row count');
  eq(fw.pages, 6, 'forward range pages of 37');
  fw.all.forEach((r, i) => { eq(r.pk, { parent: 7, name: fname(i) }, 'forward row ' + i); eq(r.attrs.i, i, 'forward row value ' + i); });
  const bw = await range(c, B, 50, [{ parent: Long.fromNumber(7) }, { name: TableStore.INF_MAX }], [{ parent: Long.fromNumber(7) }, { name: TableStore.INF_MIN }]);
  eq(bw.all.map((r) => r.pk.name), fw.all.map((r) => r.pk.name).reverse(), 'backward range is the forward one reversed');
  eq(bw.pages, 4, 'backward pages of 50 (exactly 200 rows: no fifth page)');
  const part = await range(c, F, 1000, pk(7, fname(10)), pk(7, fname(20)));
  eq(part.all.map((r) => r.pk.name), Array.from({ length: 10 }, (_, i) => fname(10 + i)), 'inclusive start, exclusive end');
  const back = await range(c, B, 1000, pk(7, fname(20)), pk(7, fname(10)));
  eq(back.all.map((r) => r.pk.name), Array.from({ length: 10 }, (_, i) => fname(20 - i)), 'backward: inclusive start, exclusive end');
  const whole = await range(c, F, 5000, [{ parent: TableStore.INF_MIN }, { name: TableStore.INF_MIN }], [{ parent: TableStore.INF_MAX }, { name: TableStore.INF_MAX }]);
  eq(whole.all.length, 201, 'whole table (INF_MIN..INF_MAX): 200 under parent 7 and (8, x)');
  eq(whole.all[200].pk, { parent: 8, name: 'x' }, 'last row of the whole table');
  // read filters: GetRange keeps rows with 50 <= i < 60 or i == 7; NOT excludes one row
  const i = (cmp, n) => new TableStore.SingleColumnCondition('i', Long.fromNumber(n), cmp);
  const window = new TableStore.CompositeCondition(TableStore.LogicalOperator.AND);
  window.addSubCondition(i(TableStore.ComparatorType.GREATER_EQUAL, 50));
  window.addSubCondition(i(TableStore.ComparatorType.LESS_THAN, 60));
  const any = new TableStore.CompositeCondition(TableStore.LogicalOperator.OR);
  any.addSubCondition(window);
  any.addSubCondition(i(TableStore.ComparatorType.EQUAL, 7));
  const filtered = await call(c, 'getRange', { tableName: T, direction: F, maxVersions: 1, columnFilter: any,
    inclusiveStartPrimaryKey: [{ parent: Long.fromNumber(7) }, { name: TableStore.INF_MIN }], exclusiveEndPrimaryKey: [{ parent: Long.fromNumber(7) }, { name: TableStore.INF_MAX }] });
  eq(filtered.rows.map((r) => plain(r).attrs.i), [7, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59], 'GetRange with an OR/AND filter');
  const not7 = new TableStore.CompositeCondition(TableStore.LogicalOperator.NOT);
  not7.addSubCondition(i(TableStore.ComparatorType.EQUAL, 7));
  const g7 = await call(c, 'getRow', { tableName: T, primaryKey: pk(7, fname(7)), maxVersions: 1, columnFilter: not7 });
  eq(plain(g7.row), null, 'GetRow whose filter (NOT i == 7) rejects the row');
  const g8 = await call(c, 'getRow', { tableName: T, primaryKey: pk(7, fname(8)), maxVersions: 1, columnFilter: not7 });
  eq(plain(g8.row).attrs, { i: 8 }, 'GetRow whose filter (NOT i == 7) passes the row');
  const inverted = await callFails(c, 'getRange', { tableName: T, direction: F, maxVersions: 1, inclusiveStartPrimaryKey: pk(7, fname(20)), exclusiveEndPrimaryKey: pk(7, fname(10)) });
  expectError(inverted, 'OTSParameterInvalid', 'Begin key must less than end key in FORWARD', 'inverted forward range');
  log('ranges ok');
}

async function transactions(c) {
  const key = [{ parent: Long.fromNumber(9) }];
  const t = await call(c, 'startLocalTransaction', { tableName: T, primaryKey: key });
  const id = t.transactionId;
  check(typeof id === 'string' && id.length > 0, 'StartLocalTransaction gives an id');
  await call(c, 'putRow', { tableName: T, condition: new TableStore.Condition(IGNORE, null), primaryKey: pk(9, 'in-txn'), attributeColumns: [{ v: 'one' }], transactionId: id });
  const outside = await call(c, 'getRow', { tableName: T, primaryKey: pk(9, 'in-txn'), maxVersions: 1 });
  eq(plain(outside.row), null, 'uncommitted write invisible outside the transaction');
  const inside = await call(c, 'getRow', { tableName: T, primaryKey: pk(9, 'in-txn'), maxVersions: 1, transactionId: id });
  eq(plain(inside.row).attrs, { v: 'one' }, 'own write visible inside the transaction');
  const wrongPartition = await callFails(c, 'putRow', { tableName: T, condition: new TableStore.Condition(IGNORE, null), primaryKey: pk(10, 'x'), attributeColumns: [{ v: 'x' }], transactionId: id });
  expectError(wrongPartition, 'OTSParameterInvalid', undefined, 'write outside the transaction partition');
  const saved = TableStore.DefaultRetryPolicy.maxRetryTimes;
  TableStore.DefaultRetryPolicy.maxRetryTimes = 0; // the SDK retries conflicts; see the first answer
  const conflict = await callFails(c, 'putRow', { tableName: T, condition: new TableStore.Condition(IGNORE, null), primaryKey: pk(9, 'other'), attributeColumns: [{ v: 'x' }] });
  TableStore.DefaultRetryPolicy.maxRetryTimes = saved;
  expectError(conflict, 'OTSRowOperationConflict', 'Data is being modified by the other request.', 'non-transactional write to a locked partition');
  const rangeIn = await call(c, 'getRange', { tableName: T, direction: TableStore.Direction.FORWARD, maxVersions: 1, transactionId: id,
    inclusiveStartPrimaryKey: [{ parent: Long.fromNumber(9) }, { name: TableStore.INF_MIN }], exclusiveEndPrimaryKey: [{ parent: Long.fromNumber(9) }, { name: TableStore.INF_MAX }] });
  eq(rangeIn.rows.map((r) => plain(r).pk.name), ['in-txn'], 'GetRange inside the transaction sees its write');
  await call(c, 'commitTransaction', { transactionId: id });
  const committed = await call(c, 'getRow', { tableName: T, primaryKey: pk(9, 'in-txn'), maxVersions: 1 });
  eq(plain(committed.row).attrs, { v: 'one' }, 'committed write visible');
  const reuse = await callFails(c, 'commitTransaction', { transactionId: id });
  expectError(reuse, 'OTSParameterInvalid', 'TransactionID is invalid.', 'commit of a finished transaction');

  const t2 = await call(c, 'startLocalTransaction', { tableName: T, primaryKey: key });
  await call(c, 'batchWriteRow', { transactionId: t2.transactionId, tables: [{ tableName: T, rows: [
    { type: 'PUT', condition: new TableStore.Condition(IGNORE, null), primaryKey: pk(9, 'aborted'), attributeColumns: [{ v: 'no' }] }] }] });
  // SDK 5.6.5 bug: decodeAbortTransaction parses the (empty, as from the real service)
  // AbortTransactionResponse as an AbortTransactionRequest, whose transaction_id is required, so
  // the call reports a ProtocolError after the server has aborted. Check exactly that, then that
  // the abort took effect.
  const abortErr = await callFails(c, 'abortTransaction', { transactionId: t2.transactionId });
  check(/missing required 'transactionId'/.test(String(abortErr.message)), 'AbortTransaction: the known SDK decode bug, got ' + abortErr.message);
  const afterAbort = await callFails(c, 'commitTransaction', { transactionId: t2.transactionId });
  expectError(afterAbort, 'OTSParameterInvalid', 'TransactionID is invalid.', 'commit of an aborted transaction');
  const aborted = await call(c, 'getRow', { tableName: T, primaryKey: pk(9, 'aborted'), maxVersions: 1 });
  eq(plain(aborted.row), null, 'aborted write never visible');
  const twoCols = await callFails(c, 'startLocalTransaction', { tableName: T, primaryKey: pk(9, 'x') });
  expectError(twoCols, 'OTSParameterInvalid', 'StartLocalTransaction support only one primary key.', 'transaction on two key columns');
  log('transactions ok');
}

main(async () => {
  const c = client();
  await tables(c);
  await rows(c);
  await batch(c);
  await ranges(c);
  await transactions(c);
});
