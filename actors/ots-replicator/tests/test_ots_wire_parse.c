/* Unit tests of ots_wire_parse.c (the response parsers): the real-server error body KAT-E1, and
 * bodies packed here with the generated code (as a server would) and hostile ones: truncated,
 * changed byte by byte, missing required fields, not matching their request. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "ots_table_store.pb-c.h"
#include "ots_testutil.h"
#include "ots_wire.h"

static uint8_t *s_pack(const ProtobufCMessage *m, size_t *n) {
  *n = protobuf_c_message_get_packed_size(m);
  uint8_t *b = malloc(*n + 1);
  protobuf_c_message_pack(m, b);
  return b;
}

/* KAT-E1: a real server's 403 body. */
static void test_kat_e1_error_body(void **state) {
  size_t n;
  uint8_t *b = ots_hex_decode("0a154f5453436f6e646974696f6e436865636b4661696c1217436f6e64697469"
                              "6f6e20636865636b206661696c65642e", &n);
  ots_error_t e;
  assert_int_equal(ots_wire_parse_error(b, n, &e, NULL), RV_OK);
  assert_string_equal(e.code, "OTSConditionCheckFail");
  assert_string_equal(e.message, "Condition check failed.");
  /* every truncation is refused (the first field's length runs past the end, or the required
   * code is missing) */
  for (size_t cut = 0; cut < n; cut++) {
    rv_err_t err;
    if (cut == 23) continue; /* exactly the code field: a valid Error without message */
    assert_int_equal(ots_wire_parse_error(b, cut, &e, &err), RV_EDECODE);
    assert_non_null(strstr(err.msg, "Error: body of"));
  }
  assert_int_equal(ots_wire_parse_error(b, 23, &e, NULL), RV_OK);
  assert_string_equal(e.message, "");
  free(b);
}

static void test_row_responses(void **state) {
  Otsproto__CapacityUnit cu = OTSPROTO__CAPACITY_UNIT__INIT;
  cu.has_write = 1;
  cu.write = 1;
  Otsproto__ConsumedCapacity cc = OTSPROTO__CONSUMED_CAPACITY__INIT;
  cc.capacity_unit = &cu;
  Otsproto__GetRowResponse g = OTSPROTO__GET_ROW_RESPONSE__INIT;
  g.consumed = &cc;
  g.row.len = 3;
  g.row.data = (uint8_t *)"\x75\x00\x00";
  size_t n;
  uint8_t *b = s_pack(&g.base, &n);
  ots_row_result_t r;
  ots_row_result_init(&r);
  assert_int_equal(ots_wire_parse_row_response("GetRow", b, n, &r, NULL), RV_OK);
  assert_int_equal(r.consumed.read, 0);
  assert_int_equal(r.consumed.write, 1);
  assert_int_equal(r.row.len, 3);
  free(b);
  /* a missing row: present but empty */
  g.row.len = 0;
  b = s_pack(&g.base, &n);
  assert_int_equal(ots_wire_parse_row_response("GetRow", b, n, &r, NULL), RV_OK);
  assert_int_equal(r.row.len, 0);
  free(b);
  /* PutRow without a returned row; then one without `consumed` (required) */
  Otsproto__PutRowResponse p = OTSPROTO__PUT_ROW_RESPONSE__INIT;
  p.consumed = &cc;
  b = s_pack(&p.base, &n);
  assert_int_equal(ots_wire_parse_row_response("PutRow", b, n, &r, NULL), RV_OK);
  assert_int_equal(r.row.len, 0);
  assert_int_equal(ots_wire_parse_row_response("DeleteRow", b, n, &r, NULL), RV_OK);
  free(b);
  rv_err_t err;
  assert_int_equal(ots_wire_parse_row_response("UpdateRow", NULL, 0, &r, &err), RV_EDECODE);
  assert_non_null(strstr(err.msg, "UpdateRowResponse: body of 0 bytes"));
  ots_row_result_close(&r);
}

static void test_get_range_response(void **state) {
  Otsproto__CapacityUnit cu = OTSPROTO__CAPACITY_UNIT__INIT;
  cu.has_read = 1;
  cu.read = 2;
  Otsproto__ConsumedCapacity cc = OTSPROTO__CONSUMED_CAPACITY__INIT;
  cc.capacity_unit = &cu;
  Otsproto__GetRangeResponse m = OTSPROTO__GET_RANGE_RESPONSE__INIT;
  m.consumed = &cc;
  m.rows.len = 4;
  m.rows.data = (uint8_t *)"\x75\0\0\0";
  m.has_next_start_primary_key = 1;
  m.next_start_primary_key.len = 2;
  m.next_start_primary_key.data = (uint8_t *)"\x01\x02";
  size_t n;
  uint8_t *b = s_pack(&m.base, &n);
  ots_range_result_t r;
  ots_range_result_init(&r);
  assert_int_equal(ots_wire_parse_get_range_response(b, n, &r, NULL), RV_OK);
  assert_int_equal(r.consumed.read, 2);
  assert_int_equal(r.rows.len, 4);
  assert_true(r.has_next);
  assert_int_equal(r.next_start.len, 2);
  free(b);
  m.has_next_start_primary_key = 0;
  b = s_pack(&m.base, &n);
  assert_int_equal(ots_wire_parse_get_range_response(b, n, &r, NULL), RV_OK);
  assert_false(r.has_next);
  assert_int_equal(r.next_start.len, 0);
  /* hostile: cut anywhere inside */
  for (size_t cut = 1; cut < n; cut++) {
    rv_err_t err;
    assert_int_equal(ots_wire_parse_get_range_response(b, cut, &r, &err), RV_EDECODE);
  }
  free(b);
  ots_range_result_close(&r);
}

static void test_transaction_and_empty_responses(void **state) {
  Otsproto__StartLocalTransactionResponse m = OTSPROTO__START_LOCAL_TRANSACTION_RESPONSE__INIT;
  m.transaction_id = "0B0F0A1B-txn";
  size_t n;
  uint8_t *b = s_pack(&m.base, &n);
  char *id = NULL;
  assert_int_equal(ots_wire_parse_start_local_transaction_response(b, n, &id, NULL), RV_OK);
  assert_string_equal(id, "0B0F0A1B-txn");
  free(id);
  free(b);
  rv_err_t err;
  assert_int_equal(ots_wire_parse_start_local_transaction_response(NULL, 0, &id, &err), RV_EDECODE);
  assert_int_equal(ots_wire_parse_empty_response("CommitTransaction", NULL, 0, NULL), RV_OK);
  assert_int_equal(ots_wire_parse_empty_response("CreateTable", NULL, 0, NULL), RV_OK);
  /* garbage (a field header with a length past the end) */
  assert_int_equal(ots_wire_parse_empty_response("AbortTransaction", (const uint8_t *)"\x0a\x05", 2, &err),
                   RV_EDECODE);
}

static void test_batch_write_row_response(void **state) {
  Otsproto__CapacityUnit cu = OTSPROTO__CAPACITY_UNIT__INIT;
  Otsproto__ConsumedCapacity cc = OTSPROTO__CONSUMED_CAPACITY__INIT;
  cc.capacity_unit = &cu;
  Otsproto__Error e = OTSPROTO__ERROR__INIT;
  e.code = "OTSConditionCheckFail";
  e.message = "Condition check failed.";
  Otsproto__RowInBatchWriteRowResponse r0 = OTSPROTO__ROW_IN_BATCH_WRITE_ROW_RESPONSE__INIT,
                                       r1 = OTSPROTO__ROW_IN_BATCH_WRITE_ROW_RESPONSE__INIT;
  r0.is_ok = 1;
  r0.consumed = &cc;
  r0.has_row = 1;
  r0.row.len = 1;
  r0.row.data = (uint8_t *)"\x75";
  r1.is_ok = 0;
  r1.error = &e;
  Otsproto__RowInBatchWriteRowResponse *rows[] = {&r0, &r1};
  Otsproto__TableInBatchWriteRowResponse t = OTSPROTO__TABLE_IN_BATCH_WRITE_ROW_RESPONSE__INIT;
  t.table_name = "meta";
  t.n_rows = 2;
  t.rows = rows;
  Otsproto__TableInBatchWriteRowResponse *tp[] = {&t};
  Otsproto__BatchWriteRowResponse m = OTSPROTO__BATCH_WRITE_ROW_RESPONSE__INIT;
  m.n_tables = 1;
  m.tables = tp;
  size_t n;
  uint8_t *b = s_pack(&m.base, &n);
  const uint8_t row[] = {1};
  const ots_batch_row_t req_rows[2] = {{OTS_BATCH_PUT, {row, 1}, {0}, 0},
                                       {OTS_BATCH_DELETE, {row, 1}, {0}, 0}};
  ots_batch_table_t req = {"meta", req_rows, 2};
  ots_batch_result_t *res = NULL;
  /* every single-byte change and every truncation: OK or RV_EDECODE, never a crash or a leak */
  for (size_t at = 0; at <= n; at++)
    for (unsigned x = 1; x < 256; x += 37) {
      uint8_t *mut = malloc(n);
      memcpy(mut, b, n);
      size_t len = n;
      if (at < n) mut[at] ^= (uint8_t)x;
      else len = x % n;
      int rc = ots_wire_parse_batch_write_row_response(mut, len, &req, 1, &res, NULL);
      assert_true(rc == RV_OK || rc == RV_EDECODE);
      assert_true((rc == RV_OK) == (res != NULL));
      ots_batch_result_destroy(&res);
      free(mut);
    }
  assert_int_equal(ots_wire_parse_batch_write_row_response(b, n, &req, 1, &res, NULL), RV_OK);
  assert_int_equal(res->nfailed, 1);
  assert_true(res->rows[0][0].ok);
  assert_int_equal(res->rows[0][0].row_len, 1);
  assert_false(res->rows[0][1].ok);
  assert_string_equal(res->rows[0][1].error.code, "OTSConditionCheckFail");
  assert_false(ots_batch_result_retriable(res)); /* a condition failure is final */
  snprintf(res->rows[0][1].error.code, sizeof res->rows[0][1].error.code, "OTSServerBusy");
  assert_true(ots_batch_result_retriable(res));
  res->rows[0][1].ok = true;
  res->nfailed = 0;
  assert_false(ots_batch_result_retriable(res)); /* nothing to retry */
  ots_batch_result_destroy(&res);
  assert_null(res);
  ots_batch_result_destroy(&res);
  /* positions must match the request */
  rv_err_t err;
  req.nrows = 3;
  assert_int_equal(ots_wire_parse_batch_write_row_response(b, n, &req, 1, &res, &err), RV_EDECODE);
  assert_non_null(strstr(err.msg, "the request had \"meta\" with 3"));
  assert_null(res);
  req.nrows = 2;
  req.table = "other";
  assert_int_equal(ots_wire_parse_batch_write_row_response(b, n, &req, 1, &res, &err), RV_EDECODE);
  free(b);
  /* a failed row without its error */
  r1.error = NULL;
  req.table = "meta";
  b = s_pack(&m.base, &n);
  assert_int_equal(ots_wire_parse_batch_write_row_response(b, n, &req, 1, &res, &err), RV_EDECODE);
  assert_non_null(strstr(err.msg, "failed without an error"));
  free(b);
}

static void test_describe_and_list(void **state) {
  Otsproto__PrimaryKeySchema s0 = OTSPROTO__PRIMARY_KEY_SCHEMA__INIT, s1 = OTSPROTO__PRIMARY_KEY_SCHEMA__INIT;
  s0.name = "parent";
  s0.type = OTSPROTO__PRIMARY_KEY_TYPE__INTEGER;
  s1.name = "name";
  s1.type = OTSPROTO__PRIMARY_KEY_TYPE__BINARY;
  Otsproto__PrimaryKeySchema *sp[] = {&s0, &s1};
  Otsproto__TableMeta meta = OTSPROTO__TABLE_META__INIT;
  meta.table_name = "ns";
  meta.n_primary_key = 2;
  meta.primary_key = sp;
  Otsproto__CapacityUnit cu = OTSPROTO__CAPACITY_UNIT__INIT;
  Otsproto__ReservedThroughputDetails rtd = OTSPROTO__RESERVED_THROUGHPUT_DETAILS__INIT;
  rtd.capacity_unit = &cu;
  Otsproto__TableOptions opt = OTSPROTO__TABLE_OPTIONS__INIT;
  opt.has_time_to_live = opt.has_max_versions = 1;
  opt.time_to_live = -1;
  opt.max_versions = 1;
  Otsproto__DescribeTableResponse m = OTSPROTO__DESCRIBE_TABLE_RESPONSE__INIT;
  m.table_meta = &meta;
  m.reserved_throughput_details = &rtd;
  m.table_options = &opt;
  m.has_table_status = 1;
  m.table_status = OTSPROTO__TABLE_STATUS__ACTIVE;
  size_t n;
  uint8_t *b = s_pack(&m.base, &n);
  ots_table_desc_t *d = NULL;
  assert_int_equal(ots_wire_parse_describe_table_response(b, n, &d, NULL), RV_OK);
  assert_string_equal(d->table, "ns");
  assert_int_equal(d->npk, 2);
  assert_string_equal(d->pk[1].name, "name");
  assert_int_equal(d->pk[1].type, OTS_PK_BINARY);
  assert_int_equal(d->time_to_live, -1);
  assert_int_equal(d->table_status, 1);
  ots_table_desc_destroy(&d);
  assert_null(d);
  free(b);
  /* required fields 2 and 3 missing: a body holding only field 1 (table_meta). (protobuf-c
   * packs a NULL required sub-message as an empty one, so build the body by hand.) */
  size_t mn;
  uint8_t *mb = s_pack(&meta.base, &mn);
  assert_true(mn < 128);
  b = malloc(mn + 2);
  b[0] = 0x0a;
  b[1] = (uint8_t)mn;
  memcpy(b + 2, mb, mn);
  rv_err_t err;
  assert_int_equal(ots_wire_parse_describe_table_response(b, mn + 2, &d, &err), RV_EDECODE);
  assert_non_null(strstr(err.msg, "DescribeTableResponse: body of"));
  assert_null(d);
  free(mb);
  free(b);

  Otsproto__ListTableResponse l = OTSPROTO__LIST_TABLE_RESPONSE__INIT;
  char *names[] = {"a", "b_2"};
  l.n_table_names = 2;
  l.table_names = names;
  b = s_pack(&l.base, &n);
  char **got;
  size_t count;
  assert_int_equal(ots_wire_parse_list_table_response(b, n, &got, &count, NULL), RV_OK);
  assert_int_equal(count, 2);
  assert_string_equal(got[1], "b_2");
  ots_wire_names_free(got, count);
  free(b);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_kat_e1_error_body),
      cmocka_unit_test(test_row_responses),
      cmocka_unit_test(test_get_range_response),
      cmocka_unit_test(test_transaction_and_empty_responses),
      cmocka_unit_test(test_batch_write_row_response),
      cmocka_unit_test(test_describe_and_list),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
