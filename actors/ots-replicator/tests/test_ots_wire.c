/* Unit tests of ots_wire: the request-body vectors KAT-B1..B5 of the reference (section 3.9)
 * rebuilt from rows the PlainBuffer encoder makes, a filter encoded by hand from the protobuf
 * rules, the real-server error body KAT-E1, the builders refusing what the server would refuse,
 * and the response parsers on bodies packed here with the generated code (as a server would)
 * and on hostile bodies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "ots_filter.pb-c.h"
#include "ots_table_store.pb-c.h"
#include "ots_testutil.h"
#include "ots_wire.h"

static ots_bytes_t B(const char *s) {
  ots_bytes_t b = {(const uint8_t *)s, strlen(s)};
  return b;
}

/* PlainBuffer rows of the reference, made by the encoder: P1 (put k1 s="v"), P4 (key k1),
 * D1 (delete k1), K5/K6 (pk INF_MIN / INF_MAX). */
typedef enum { ROW_P1, ROW_P4, ROW_D1, ROW_K5, ROW_K6 } s_row_t;

static void s_row(ots_buf_t *out, s_row_t which) {
  ots_cell_t pk = {.name = B("pk"), .has_value = true, .value = {.type = OTS_VT_STRING, .s = B("k1")}};
  ots_cell_t s = {.name = B("s"), .has_value = true, .value = {.type = OTS_VT_STRING, .s = B("v")}};
  ots_row_t r = {.pk = &pk, .npk = 1};
  if (which == ROW_P1) r.attrs = &s, r.nattrs = 1;
  if (which == ROW_D1) r.delete_marker = true;
  if (which == ROW_K5) pk.value = (ots_value_t){.type = OTS_VT_INF_MIN};
  if (which == ROW_K6) pk.value = (ots_value_t){.type = OTS_VT_INF_MAX};
  ots_buf_init(out);
  assert_int_equal(ots_plainbuf_encode(out, &r, 1, NULL), RV_OK);
}

static void s_assert_hex(const ots_buf_t *b, const char *want) {
  char *got = ots_hex_encode(b->data, b->len);
  if (strcmp(got, want) != 0) fail_msg("\n got  %s\n want %s", got, want);
  free(got);
}

static void test_kat_b1_put_row(void **state) {
  ots_buf_t row, out;
  s_row(&row, ROW_P1);
  ots_buf_init(&out);
  ots_write_row_t w = {.table = "meta", .row = ots_buf_bytes(&row)};
  assert_int_equal(ots_wire_put_row(&out, &w, NULL), RV_OK);
  s_assert_hex(&out, "0a046d65746112327500000001030402000000706b050700000003020000006b310a4c020304"
                     "010000007305060000000301000000760a0d09951a020800");
  ots_buf_close(&row);
  ots_buf_close(&out);
}

static void test_kat_b2_get_row(void **state) {
  ots_buf_t key, out;
  s_row(&key, ROW_P4);
  ots_buf_init(&out);
  ots_read_opts_t o = {.max_versions = 1};
  assert_int_equal(ots_wire_get_row(&out, "meta", ots_buf_bytes(&key), &o, NULL), RV_OK);
  s_assert_hex(&out, "0a046d657461121d7500000001030402000000706b050700000003020000006b310a4c09a72801");
  ots_buf_close(&key);
  ots_buf_close(&out);
}

static void test_kat_b3_get_range(void **state) {
  ots_buf_t start, end, out;
  s_row(&start, ROW_K5);
  s_row(&end, ROW_K6);
  ots_buf_init(&out);
  ots_read_opts_t o = {.max_versions = 1};
  assert_int_equal(ots_wire_get_range(&out, "meta", OTS_FORWARD, ots_buf_bytes(&start),
                                      ots_buf_bytes(&end), 100, &o, NULL),
                   RV_OK);
  /* note "10 00": direction FORWARD (0) is required, so it is on the wire */
  s_assert_hex(&out, "0a046d6574611000280130643a177500000001030402000000706b0501000000090a3a097b42"
                     "177500000001030402000000706b05010000000a0a3309c6");
  ots_buf_close(&start);
  ots_buf_close(&end);
  ots_buf_close(&out);
}

static void test_kat_b4_delete_row(void **state) {
  ots_buf_t key, out;
  s_row(&key, ROW_D1);
  ots_buf_init(&out);
  ots_write_row_t w = {.table = "meta", .row = ots_buf_bytes(&key),
                       .condition = {.row_existence = OTS_EXPECT_EXIST}};
  assert_int_equal(ots_wire_delete_row(&out, &w, NULL), RV_OK);
  s_assert_hex(&out, "0a046d657461121e7500000001030402000000706b050700000003020000006b310a4c0809a0"
                     "1a020801");
  ots_buf_close(&key);
  ots_buf_close(&out);
}

static void test_kat_b5_batch_write_row(void **state) {
  ots_buf_t put, del, out;
  s_row(&put, ROW_P1);
  s_row(&del, ROW_D1);
  ots_buf_init(&out);
  const ots_batch_row_t rows[] = {{.type = OTS_BATCH_PUT, .row_change = ots_buf_bytes(&put)},
                                  {.type = OTS_BATCH_DELETE, .row_change = ots_buf_bytes(&del)}};
  const ots_batch_table_t t = {"meta", rows, 2};
  assert_int_equal(ots_wire_batch_write_row(&out, &t, 1, NULL, false, NULL), RV_OK);
  s_assert_hex(&out, "0a6a0a046d657461123a080112327500000001030402000000706b05070000000302000000"
                     "6b310a4c020304010000007305060000000301000000760a0d09951a02080012260803121e"
                     "7500000001030402000000706b050700000003020000006b310a4c0809a01a020800");
  ots_buf_close(&put);
  ots_buf_close(&del);
  ots_buf_close(&out);
}

/* Optional fields appear only when set: transaction id (field 5), return content (4), a column
 * condition inside Condition (3.2). Expected bytes derived by hand from the protobuf rules. */
static void test_optional_write_fields(void **state) {
  ots_buf_t out;
  ots_buf_init(&out);
  const uint8_t row[] = {0xaa};
  const uint8_t cc[] = {0xbb, 0xcc};
  ots_write_row_t w = {.table = "t",
                       .row = {row, 1},
                       .condition = {.row_existence = OTS_EXPECT_NOT_EXIST, .column_condition = {cc, 2}},
                       .return_type = OTS_RETURN_PK,
                       .transaction_id = "tx"};
  assert_int_equal(ots_wire_update_row(&out, &w, NULL), RV_OK);
  s_assert_hex(&out, "0a01741201aa1a0608021202bbcc220208012a027478");
  ots_buf_close(&out);
}

/* "term" <= 5, latest version only, a missing column fails the row. Hand-encoded:
 * Filter{type=1 (08 01), filter (12 17) = SingleColumnValueFilter{comparator=6 (08 06),
 * column_name (12 04 "term"), column_value (1a 09 00 + int64le 5), filter_if_missing=1 (20 01),
 * latest_version_only=1 (28 01)}}. */
static void test_single_filter_bytes(void **state) {
  ots_buf_t out;
  ots_buf_init(&out);
  ots_column_filter_t f = {.cmp = OTS_CMP_LESS_EQUAL, .column = "term",
                           .value = {.type = OTS_VT_INTEGER, .i = 5},
                           .pass_if_missing = false, .latest_version_only = true};
  assert_int_equal(ots_wire_filter(&out, OTS_LOGIC_SINGLE, &f, 1, NULL), RV_OK);
  s_assert_hex(&out, "08011217080612047465726d1a090005000000000000002001" "2801");
  ots_buf_close(&out);
}

static void test_composite_filter_round_trip(void **state) {
  ots_buf_t out;
  ots_buf_init(&out);
  ots_column_filter_t f[2] = {
      {.cmp = OTS_CMP_EQUAL, .column = "a", .value = {.type = OTS_VT_STRING, .s = B("x")},
       .pass_if_missing = true},
      {.cmp = OTS_CMP_GREATER_THAN, .column = "b", .value = {.type = OTS_VT_BOOLEAN, .b = true}}};
  assert_int_equal(ots_wire_filter(&out, OTS_LOGIC_OR, f, 2, NULL), RV_OK);
  /* decode with the generated code, as the server would */
  Otsproto__Filter *top = otsproto__filter__unpack(NULL, out.len, out.data);
  assert_non_null(top);
  assert_int_equal(top->type, OTSPROTO__FILTER_TYPE__FT_COMPOSITE_COLUMN_VALUE);
  Otsproto__CompositeColumnValueFilter *c =
      otsproto__composite_column_value_filter__unpack(NULL, top->filter.len, top->filter.data);
  assert_non_null(c);
  assert_int_equal(c->combinator, OTSPROTO__LOGICAL_OPERATOR__LO_OR);
  assert_int_equal(c->n_sub_filters, 2);
  Otsproto__SingleColumnValueFilter *s = otsproto__single_column_value_filter__unpack(
      NULL, c->sub_filters[1]->filter.len, c->sub_filters[1]->filter.data);
  assert_non_null(s);
  assert_string_equal(s->column_name, "b");
  assert_int_equal(s->comparator, OTSPROTO__COMPARATOR_TYPE__CT_GREATER_THAN);
  assert_int_equal(s->filter_if_missing, 1);
  assert_int_equal(s->column_value.len, 2);
  assert_memory_equal(s->column_value.data, "\x02\x01", 2);
  otsproto__single_column_value_filter__free_unpacked(s, NULL);
  s = otsproto__single_column_value_filter__unpack(NULL, c->sub_filters[0]->filter.len,
                                                   c->sub_filters[0]->filter.data);
  assert_int_equal(s->filter_if_missing, 0);
  otsproto__single_column_value_filter__free_unpacked(s, NULL);
  otsproto__composite_column_value_filter__free_unpacked(c, NULL);
  otsproto__filter__free_unpacked(top, NULL);
  ots_buf_close(&out);
}

static void s_fails(int rc, const rv_err_t *err, const char *needle) {
  assert_int_equal(rc, RV_EINVAL);
  if (!strstr(err->msg, needle)) fail_msg("message '%s' lacks '%s'", err->msg, needle);
}

static void test_builders_refuse_what_the_server_refuses(void **state) {
  ots_buf_t out;
  ots_buf_init(&out);
  rv_err_t err;
  const uint8_t row[] = {0xaa};
  ots_write_row_t w = {.table = "bad-name", .row = {row, 1}};
  s_fails(ots_wire_put_row(&out, &w, &err), &err, "PutRow: table name \"bad-name\"");
  w.table = "t";
  w.row.len = 0;
  s_fails(ots_wire_put_row(&out, &w, &err), &err, "empty row");
  w.row.len = 1;
  w.transaction_id = "";
  s_fails(ots_wire_delete_row(&out, &w, &err), &err, "empty transaction id");
  ots_read_opts_t o = {0};
  s_fails(ots_wire_get_row(&out, "t", (ots_bytes_t){row, 1}, &o, &err), &err,
          "No version condition is specified");
  o.has_time_range = true;
  o.start_time_ms = 5;
  o.end_time_ms = 5;
  s_fails(ots_wire_get_row(&out, "t", (ots_bytes_t){row, 1}, &o, &err), &err, "is empty");
  o = (ots_read_opts_t){.max_versions = 1};
  s_fails(ots_wire_get_range(&out, "t", OTS_FORWARD, (ots_bytes_t){row, 1}, (ots_bytes_t){row, 1},
                             -1, &o, &err),
          &err, "The limit must be greater than 0.");
  /* batches */
  ots_batch_row_t br[OTS_BATCH_WRITE_ROWS_MAX + 1];
  for (size_t i = 0; i < OTS_BATCH_WRITE_ROWS_MAX + 1; i++)
    br[i] = (ots_batch_row_t){.type = OTS_BATCH_PUT, .row_change = {row, 1}};
  ots_batch_table_t bt[2] = {{"t", br, OTS_BATCH_WRITE_ROWS_MAX + 1}, {"t", br, 1}};
  s_fails(ots_wire_batch_write_row(&out, bt, 1, NULL, false, &err), &err,
          "Rows count exceeds the upper limit: 200");
  bt[0].nrows = 1;
  s_fails(ots_wire_batch_write_row(&out, bt, 2, NULL, false, &err), &err,
          "table \"t\" appears twice");
  bt[1].table = "u";
  bt[1].nrows = 0;
  s_fails(ots_wire_batch_write_row(&out, bt, 2, NULL, false, &err), &err,
          "table \"u\" has no rows");
  s_fails(ots_wire_batch_write_row(&out, bt, 0, NULL, false, &err), &err, "no tables");
  /* filters */
  ots_column_filter_t f = {.cmp = OTS_CMP_EQUAL, .column = "a", .value = {.type = OTS_VT_INTEGER}};
  ots_column_filter_t two[2] = {f, f};
  s_fails(ots_wire_filter(&out, OTS_LOGIC_NOT, two, 2, &err), &err, "exactly 1");
  s_fails(ots_wire_filter(&out, OTS_LOGIC_AND, two, 1, &err), &err, "takes 2..32");
  f.value.type = OTS_VT_INF_MIN;
  s_fails(ots_wire_filter(&out, OTS_LOGIC_SINGLE, &f, 1, &err), &err, "filter on \"a\"");
  /* tables */
  ots_pk_schema_t pk[2] = {{"id", OTS_PK_INTEGER, true}, {"n", OTS_PK_STRING, false}};
  ots_table_spec_t spec = {.table = "t", .pk = pk, .npk = 2, .time_to_live = -1, .max_versions = 1};
  s_fails(ots_wire_create_table(&out, &spec, &err), &err, "may auto-increment");
  spec.npk = 0;
  s_fails(ots_wire_create_table(&out, &spec, &err), &err, "must be in range: [1, 4]");
  s_fails(ots_wire_commit_transaction(&out, "", &err), &err, "CommitTransaction: empty");
  assert_int_equal(out.len, 0); /* nothing was appended by a refused request */
  ots_buf_close(&out);
}

/* CreateTable: checked by decoding with the generated code. */
static void test_create_table(void **state) {
  ots_buf_t out;
  ots_buf_init(&out);
  ots_pk_schema_t pk[2] = {{"parent", OTS_PK_INTEGER, false}, {"name", OTS_PK_BINARY, false}};
  ots_table_spec_t spec = {.table = "ns", .pk = pk, .npk = 2, .time_to_live = -1,
                           .max_versions = 1, .enable_local_txn = true};
  assert_int_equal(ots_wire_create_table(&out, &spec, NULL), RV_OK);
  Otsproto__CreateTableRequest *m = otsproto__create_table_request__unpack(NULL, out.len, out.data);
  assert_non_null(m);
  assert_string_equal(m->table_meta->table_name, "ns");
  assert_int_equal(m->table_meta->n_primary_key, 2);
  assert_int_equal(m->table_meta->primary_key[1]->type, OTSPROTO__PRIMARY_KEY_TYPE__BINARY);
  assert_int_equal(m->table_options->time_to_live, -1);
  assert_int_equal(m->table_options->max_versions, 1);
  assert_true(m->has_enable_local_txn && m->enable_local_txn);
  assert_true(m->reserved_throughput->capacity_unit->has_read);
  otsproto__create_table_request__free_unpacked(m, NULL);
  ots_buf_close(&out);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_kat_b1_put_row),
      cmocka_unit_test(test_kat_b2_get_row),
      cmocka_unit_test(test_kat_b3_get_range),
      cmocka_unit_test(test_kat_b4_delete_row),
      cmocka_unit_test(test_kat_b5_batch_write_row),
      cmocka_unit_test(test_optional_write_fields),
      cmocka_unit_test(test_single_filter_bytes),
      cmocka_unit_test(test_composite_filter_round_trip),
      cmocka_unit_test(test_builders_refuse_what_the_server_refuses),
      cmocka_unit_test(test_create_table),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
