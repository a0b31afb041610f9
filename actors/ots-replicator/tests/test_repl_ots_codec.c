/* Unit tests of repl_ots_codec.c: the Tablestore backend's meta row and data rows through
 * PlainBuffer and back, values split into parts, and the damaged rows a reader must refuse. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "repl_ots_int.h"

/* Encodes with fn's output, decodes it into set (which keeps pointers into buf). */
static void s_decode(ots_buf_t *buf, ots_rowset_t *set) {
  rv_err_t err;
  int rc = ots_plainbuf_decode(set, buf->data, buf->len, &err);
  if (rc) fail_msg("decode: %s", err.msg);
  assert_int_equal(set->nrows, 1);
}

static repl_meta_t s_meta(void) {
  repl_meta_t m = {.format = REPL_FORMAT, .synced_index = 1234, .term = 7, .generation = 99,
                   .updated_ms = 1700000000123, .rows = 10, .bytes = 2000};
  strcpy(m.cluster_id, "c1");
  return m;
}

static void test_meta_round_trip(void **state) {
  (void)state;
  ots_buf_t b;
  ots_buf_init(&b);
  rv_err_t err;
  repl_meta_t m = s_meta(), back;
  assert_int_equal(repl_ots_encode_meta(&b, "c1", &m, &err), RV_OK);
  ots_rowset_t set;
  ots_rowset_init(&set);
  s_decode(&b, &set);
  assert_int_equal(repl_ots_decode_meta(&set.rows[0], "c1", &back, &err), RV_OK);
  assert_memory_equal(&m, &back, sizeof m);
  /* the same row read by another cluster's backend is not its meta row */
  assert_int_equal(repl_ots_decode_meta(&set.rows[0], "c2", &back, &err), RV_ECORRUPT);
  assert_non_null(strstr(err.msg, "\"c2\""));
  ots_rowset_close(&set);
  ots_buf_close(&b);
}

static void test_meta_refused(void **state) {
  (void)state;
  ots_buf_t b;
  ots_buf_init(&b);
  rv_err_t err;
  repl_meta_t back;
  ots_rowset_t set;
  ots_rowset_init(&set);
  /* a claim's update alone (term, updated_ms) is not a whole meta row */
  assert_int_equal(repl_ots_encode_meta_term(&b, "c1", 3, 1, &err), RV_OK);
  s_decode(&b, &set);
  assert_int_equal(repl_ots_decode_meta(&set.rows[0], "c1", &back, &err), RV_ECORRUPT);
  assert_non_null(strstr(err.msg, "'format' is missing"));
  /* a format from a newer build */
  repl_meta_t m = s_meta();
  m.format = REPL_FORMAT + 1;
  ots_buf_reset(&b);
  assert_int_equal(repl_ots_encode_meta(&b, "c1", &m, &err), RV_OK);
  s_decode(&b, &set);
  assert_int_equal(repl_ots_decode_meta(&set.rows[0], "c1", &back, &err), RV_ECORRUPT);
  assert_non_null(strstr(err.msg, "format 2"));
  /* a data row where the meta row should be */
  repl_row_t r = {.key = (const uint8_t *)"k", .klen = 1, .val = (const uint8_t *)"v", .vlen = 1};
  ots_buf_reset(&b);
  assert_int_equal(repl_ots_encode_put(&b, "c1", 0, &r, &err), RV_OK);
  s_decode(&b, &set);
  assert_int_equal(repl_ots_decode_meta(&set.rows[0], "c1", &back, &err), RV_ECORRUPT);
  ots_rowset_close(&set);
  ots_buf_close(&b);
}

static void test_data_small(void **state) {
  (void)state;
  ots_buf_t b, scratch;
  ots_buf_init(&b);
  ots_buf_init(&scratch);
  rv_err_t err;
  const uint8_t key[] = {'D', 0, 0, 0, 0, 0, 0, 0, 1, 'a'};
  repl_row_t r = {.key = key, .klen = sizeof key, .val = (const uint8_t *)"value", .vlen = 5}, back;
  assert_int_equal(repl_ots_encode_put(&b, "c1", 5, &r, &err), RV_OK);
  ots_rowset_t set;
  ots_rowset_init(&set);
  s_decode(&b, &set);
  assert_int_equal(set.rows[0].nattrs, 1); /* one column v, no part count */
  assert_int_equal(repl_ots_decode_data(&set.rows[0], "c1", 5, &back, &scratch, &err), RV_OK);
  assert_int_equal(back.klen, sizeof key);
  assert_memory_equal(back.key, key, sizeof key);
  assert_int_equal(back.vlen, 5);
  assert_memory_equal(back.val, "value", 5);
  /* read in another generation: refused, naming the row */
  assert_int_equal(repl_ots_decode_data(&set.rows[0], "c1", 6, &back, &scratch, &err), RV_ECORRUPT);
  assert_non_null(strstr(err.msg, "gen 5"));
  /* an empty value is a value */
  r.vlen = 0;
  ots_buf_reset(&b);
  assert_int_equal(repl_ots_encode_put(&b, "c1", 5, &r, &err), RV_OK);
  s_decode(&b, &set);
  assert_int_equal(repl_ots_decode_data(&set.rows[0], "c1", 5, &back, &scratch, &err), RV_OK);
  assert_int_equal(back.vlen, 0);
  ots_rowset_close(&set);
  ots_buf_close(&b);
  ots_buf_close(&scratch);
}

/* The row a server holds after the PUT and the part UPDATEs of a 5 MiB value. */
static void s_parts_row(ots_buf_t *out, const uint8_t *val, size_t vlen, bool drop_last) {
  ots_cell_t pk[3] = {
      {.name = {(const uint8_t *)"cluster", 7}, .has_value = true,
       .value = {.type = OTS_VT_STRING, .s = {(const uint8_t *)"c1", 2}}},
      {.name = {(const uint8_t *)"gen", 3}, .has_value = true, .value = {.type = OTS_VT_INTEGER, .i = 1}},
      {.name = {(const uint8_t *)"key", 3}, .has_value = true,
       .value = {.type = OTS_VT_BLOB, .s = {(const uint8_t *)"big", 3}}}};
  size_t parts = repl_ots_parts(vlen);
  ots_cell_t a[8];
  static const char *names[] = {"v", "v1", "v2", "v3"};
  size_t n = 0;
  for (size_t p = 0; p < parts - (drop_last ? 1 : 0); p++) {
    size_t off = p * REPL_OTS_PART_MAX, len = vlen - off < REPL_OTS_PART_MAX ? vlen - off : REPL_OTS_PART_MAX;
    a[n++] = (ots_cell_t){.name = {(const uint8_t *)names[p], strlen(names[p])}, .has_value = true,
                          .value = {.type = OTS_VT_BLOB, .s = {val + off, len}}};
  }
  a[n++] = (ots_cell_t){.name = {(const uint8_t *)"vn", 2}, .has_value = true,
                        .value = {.type = OTS_VT_INTEGER, .i = (int64_t)parts}};
  ots_row_t row = {.pk = pk, .npk = 3, .attrs = a, .nattrs = n};
  rv_err_t err;
  assert_int_equal(ots_plainbuf_encode(out, &row, 1, &err), RV_OK);
}

static void test_data_parts(void **state) {
  (void)state;
  size_t vlen = 5u << 20;
  uint8_t *val = malloc(vlen);
  assert_non_null(val);
  for (size_t i = 0; i < vlen; i++) val[i] = (uint8_t)(i * 31 + (i >> 13));
  assert_int_equal(repl_ots_parts(vlen), 3);
  assert_int_equal(repl_ots_parts(REPL_OTS_PART_MAX), 1);
  assert_int_equal(repl_ots_parts(REPL_OTS_PART_MAX + 1), 2);
  rv_err_t err;
  repl_row_t r = {.key = (const uint8_t *)"big", .klen = 3, .val = val, .vlen = vlen}, back;
  /* what goes on the wire: a PUT of v (2 MiB) + vn, then v1, v2; each far below 4 MiB */
  ots_buf_t b, scratch;
  ots_buf_init(&b);
  ots_buf_init(&scratch);
  assert_int_equal(repl_ots_encode_put(&b, "c1", 1, &r, &err), RV_OK);
  assert_true(b.len < REPL_OTS_PART_MAX + 200);
  ots_rowset_t set;
  ots_rowset_init(&set);
  s_decode(&b, &set);
  assert_int_equal(set.rows[0].nattrs, 2);
  ots_buf_reset(&b);
  assert_int_equal(repl_ots_encode_part(&b, "c1", 1, &r, 2, &err), RV_OK);
  s_decode(&b, &set);
  assert_int_equal(set.rows[0].attrs[0].value.s.len, vlen - 2 * REPL_OTS_PART_MAX);
  assert_int_equal(repl_ots_encode_part(&b, "c1", 1, &r, 3, &err), RV_EINTERNAL);
  /* the merged row reads back whole */
  ots_buf_reset(&b);
  s_parts_row(&b, val, vlen, false);
  s_decode(&b, &set);
  assert_int_equal(repl_ots_decode_data(&set.rows[0], "c1", 1, &back, &scratch, &err), RV_OK);
  assert_int_equal(back.vlen, vlen);
  assert_memory_equal(back.val, val, vlen);
  /* a part missing (its UPDATE never landed): refused */
  ots_buf_reset(&b);
  s_parts_row(&b, val, vlen, true);
  s_decode(&b, &set);
  assert_int_equal(repl_ots_decode_data(&set.rows[0], "c1", 1, &back, &scratch, &err), RV_ECORRUPT);
  assert_non_null(strstr(err.msg, "part 'v2' of 3 is missing"));
  ots_rowset_close(&set);
  ots_buf_close(&b);
  ots_buf_close(&scratch);
  free(val);
}

static void test_keys_and_condition(void **state) {
  (void)state;
  ots_buf_t b;
  ots_buf_init(&b);
  rv_err_t err;
  ots_rowset_t set;
  ots_rowset_init(&set);
  assert_int_equal(repl_ots_encode_key(&b, "c1", 4, 0, REPL_OTS_KEY_MAX, NULL, 0, &err), RV_OK);
  s_decode(&b, &set);
  assert_int_equal(set.rows[0].npk, 3);
  assert_int_equal(set.rows[0].pk[1].value.i, 4);
  assert_int_equal(set.rows[0].pk[2].value.type, OTS_VT_INF_MAX);
  ots_buf_reset(&b);
  assert_int_equal(repl_ots_encode_partition(&b, "c1", &err), RV_OK);
  s_decode(&b, &set);
  assert_int_equal(set.rows[0].npk, 1);
  ots_buf_reset(&b);
  assert_int_equal(repl_ots_encode_delete(&b, "c1", 4, (const uint8_t *)"k", 1, &err), RV_OK);
  s_decode(&b, &set);
  assert_true(set.rows[0].delete_marker);
  /* one filter alone, or an AND of three: both encode (the server evaluates them) */
  ots_buf_reset(&b);
  assert_int_equal(repl_ots_encode_condition(&b, 3, false, 0, REPL_OTS_INDEX_ANY, 0, &err), RV_OK);
  size_t single = b.len;
  ots_buf_reset(&b);
  assert_int_equal(repl_ots_encode_condition(&b, 3, true, 9, REPL_OTS_INDEX_EQUAL, 100, &err), RV_OK);
  assert_true(b.len > 2 * single);
  char text[200];
  uint8_t key[100];
  memset(key, 0xab, sizeof key);
  repl_ots_key_text(text, sizeof text, 9, key, sizeof key);
  assert_non_null(strstr(text, "gen 9, key 100 bytes abab"));
  assert_non_null(strstr(text, "..."));
  ots_rowset_close(&set);
  ots_buf_close(&b);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_meta_round_trip),
      cmocka_unit_test(test_meta_refused),
      cmocka_unit_test(test_data_small),
      cmocka_unit_test(test_data_parts),
      cmocka_unit_test(test_keys_and_condition),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
