// sdk_restart.js write G | verify G: generation G writes 100 rows (two batches) under gen=G,
// creating the table at G=1; verify G reads every generation 1..G back through the SDK.
'use strict';
const { TableStore, Long, client, call, check, eq, plain, log, main } = require('./common');
const IGNORE = TableStore.RowExistenceExpectation.IGNORE;
const T = 'keep';
const [mode, genArg] = process.argv.slice(2);
const G = Number(genArg);
if (!['write', 'verify'].includes(mode) || !(G >= 1)) throw new Error('usage: sdk_restart.js write|verify GENERATION');
const key = (g, i) => [{ gen: Long.fromNumber(g) }, { id: 'row' + String(i).padStart(3, '0') }];
const value = (g, i) => 'g' + g + '-' + i;

async function write(c) {
  if (G === 1)
    await call(c, 'createTable', {
      tableMeta: { tableName: T, primaryKey: [{ name: 'gen', type: 'INTEGER' }, { name: 'id', type: 'STRING' }] },
      reservedThroughput: { capacityUnit: { read: 0, write: 0 } }, tableOptions: { timeToLive: -1, maxVersions: 1 },
    });
  for (const [from, to] of [[0, 60], [60, 100]]) {
    const rows = [];
    for (let i = from; i < to; i++)
      rows.push({ type: 'PUT', condition: new TableStore.Condition(IGNORE, null), primaryKey: key(G, i), attributeColumns: [{ v: value(G, i) }] });
    const r = await call(c, 'batchWriteRow', { tables: [{ tableName: T, rows }] });
    check(r.tables.length === to - from && r.tables.every((x) => x.isOk), 'batch written');
  }
  log('generation ' + G + ' written');
}

async function verify(c) {
  const l = await call(c, 'listTable', {});
  eq(l.tableNames, [T], 'tables after restart');
  const d = await call(c, 'describeTable', { tableName: T });
  eq(d.tableMeta.primaryKey.map((p) => p.name), ['gen', 'id'], 'schema after restart');
  let start = [{ gen: TableStore.INF_MIN }, { id: TableStore.INF_MIN }];
  const rows = [];
  for (;;) {
    const r = await call(c, 'getRange', { tableName: T, direction: TableStore.Direction.FORWARD, maxVersions: 1, limit: 70,
      inclusiveStartPrimaryKey: start, exclusiveEndPrimaryKey: [{ gen: TableStore.INF_MAX }, { id: TableStore.INF_MAX }] });
    rows.push(...r.rows.map(plain));
    if (!r.nextStartPrimaryKey) break;
    start = r.nextStartPrimaryKey.map((p) => ({ [p.name]: p.value }));
  }
  eq(rows.length, 100 * G, 'rows after restart');
  let k = 0;
  for (let g = 1; g <= G; g++)
    for (let i = 0; i < 100; i++, k++) {
      eq(rows[k].pk, { gen: g, id: 'row' + String(i).padStart(3, '0') }, 'key ' + k);
      eq(rows[k].attrs.v, value(g, i), 'value ' + k);
    }
  log('generations 1..' + G + ' read back');
}

main(async () => {
  const c = client();
  if (mode === 'write') await write(c);
  else await verify(c);
});
