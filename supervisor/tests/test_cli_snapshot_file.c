/* Unit tests of cli_snapshot_file: a file written block by block reads back with the same
 * header, totals and digest (the namespace digest kv_core computes over the same pairs); every
 * single damaged byte and every truncation is refused, naming an offset; a newer format version
 * is refused naming both; the writer refuses pairs out of order and leaves no file when not
 * finished. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include <cmocka.h>

#include "cli_snapshot_file.h"
#include "kv_codec.h"
#include "kv_core.h"
#include "kv_snap.h"

static char s_dir[64], s_path[128];

static int s_setup(void **state) {
  (void)state;
  snprintf(s_dir, sizeof s_dir, "/tmp/test_cli_snap.XXXXXX");
  assert_non_null(mkdtemp(s_dir));
  snprintf(s_path, sizeof s_path, "%s/x.rvs", s_dir);
  return 0;
}

static int s_teardown(void **state) {
  (void)state;
  char cmd[160];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", s_dir);
  return system(cmd);
}

static cli_snap_header_t s_header(void) {
  cli_snap_header_t h;
  memset(&h, 0, sizeof h);
  h.index = 1234;
  h.term = 7;
  h.created_ms = 1700000000000ull;
  h.store_format = 1;
  snprintf(h.cluster, sizeof h.cluster, "prod");
  snprintf(h.node, sizeof h.node, "n2");
  return h;
}

/* Pairs k from..to-1: an attribute key 'I' + 8-byte index and a value of k % 50 bytes. */
static void s_pairs(kv_buf_t *b, int from, int to, uint64_t *digest) {
  for (int k = from; k < to; k++) {
    uint8_t key[9] = {'I'}, val[64];
    kv_be64_put(key + 1, (uint64_t)k);
    memset(val, 'a' + k % 26, sizeof val);
    assert_int_equal(kv_snap_put(b, key, sizeof key, val, (size_t)(k % 50)), RV_OK);
    *digest = kv_digest_pair(*digest, KV_DIGEST_NAMESPACE, key, sizeof key, val, (size_t)(k % 50));
  }
}

/* Writes a file of three blocks (90 pairs); returns its namespace digest. */
static uint64_t s_write(void) {
  cli_snap_header_t h = s_header();
  cli_snap_writer_t *w;
  rv_err_t err;
  assert_int_equal(cli_snap_writer_open(s_path, &h, &w, &err), RV_OK);
  uint64_t digest = KV_FNV64_INIT;
  for (int blk = 0; blk < 3; blk++) {
    kv_buf_t b;
    kv_buf_init(&b);
    s_pairs(&b, blk * 30, blk * 30 + 30, &digest);
    assert_int_equal(cli_snap_writer_block(w, b.data, b.len, &err), RV_OK);
    kv_buf_close(&b);
  }
  cli_snap_summary_t sum;
  assert_int_equal(cli_snap_writer_finish(w, &sum, &err), RV_OK);
  cli_snap_writer_destroy(&w);
  assert_int_equal(sum.pairs, 90);
  assert_int_equal(sum.digest, digest);
  return digest;
}

static uint8_t *s_slurp(size_t *len) {
  FILE *f = fopen(s_path, "rb");
  assert_non_null(f);
  fseek(f, 0, SEEK_END);
  *len = (size_t)ftell(f);
  rewind(f);
  uint8_t *p = malloc(*len);
  assert_non_null(p);
  assert_int_equal(fread(p, 1, *len, f), *len);
  fclose(f);
  return p;
}

static void s_spit(const uint8_t *p, size_t len) {
  FILE *f = fopen(s_path, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(p, 1, len, f), len);
  fclose(f);
}

static int s_count(void *arg, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl,
                   rv_err_t *err) {
  (void)k, (void)kl, (void)v, (void)vl, (void)err;
  (*(int *)arg)++;
  return 0;
}

static void test_round_trip(void **state) {
  (void)state;
  uint64_t digest = s_write();
  char part[160];
  snprintf(part, sizeof part, "%s.part", s_path);
  assert_int_not_equal(access(part, F_OK), 0); /* renamed into place */
  cli_snap_summary_t sum;
  rv_err_t err;
  int n = 0;
  assert_int_equal(cli_snap_read(s_path, s_count, &n, &sum, &err), RV_OK);
  assert_int_equal(n, 90);
  assert_int_equal(sum.h.version, CLI_SNAP_VERSION);
  assert_int_equal(sum.h.index, 1234);
  assert_int_equal(sum.h.term, 7);
  assert_int_equal(sum.h.created_ms, 1700000000000ull);
  assert_string_equal(sum.h.cluster, "prod");
  assert_string_equal(sum.h.node, "n2");
  assert_int_equal(sum.pairs, 90);
  assert_int_equal(sum.dirs_files, 90);
  assert_int_equal(sum.digest, digest);
  size_t len;
  uint8_t *p = s_slurp(&len);
  assert_int_equal(sum.file_bytes, len);
  free(p);
}

/* Every byte of the file is covered: flipping any one is refused, with an offset named. */
static void test_every_damaged_byte_refused(void **state) {
  (void)state;
  s_write();
  size_t len;
  uint8_t *p = s_slurp(&len);
  for (size_t i = 0; i < len; i++) {
    p[i] ^= 0x40;
    s_spit(p, len);
    cli_snap_summary_t sum;
    rv_err_t err;
    int rc = cli_snap_read(s_path, NULL, NULL, &sum, &err);
    if (rc == RV_OK) fail_msg("byte %zu of %zu flipped: the file was accepted", i, len);
    if (!strstr(err.msg, "offset"))
      fail_msg("byte %zu flipped: the message names no offset: %s", i, err.msg);
    p[i] ^= 0x40;
  }
  s_spit(p, len);
  rv_err_t err;
  assert_int_equal(cli_snap_read(s_path, NULL, NULL, NULL, &err), RV_OK);
  free(p);
}

/* Every truncation is refused; one inside a block says "truncated at offset N". */
static void test_every_truncation_refused(void **state) {
  (void)state;
  s_write();
  size_t len;
  uint8_t *p = s_slurp(&len);
  for (size_t cut = 0; cut < len; cut++) {
    s_spit(p, cut);
    rv_err_t err;
    if (cli_snap_read(s_path, NULL, NULL, NULL, &err) == RV_OK)
      fail_msg("cut to %zu of %zu bytes: accepted", cut, len);
    if (cut >= 8 && !strstr(err.msg, "truncated at offset"))
      fail_msg("cut to %zu: %s", cut, err.msg);
  }
  s_spit(p, len - 100);
  rv_err_t err;
  assert_int_equal(cli_snap_read(s_path, NULL, NULL, NULL, &err), RV_ECORRUPT);
  char want[64];
  snprintf(want, sizeof want, "truncated at offset %zu", len - 100);
  assert_non_null(strstr(err.msg, want));
  /* and bytes after the end */
  uint8_t *q = malloc(len + 1);
  memcpy(q, p, len);
  q[len] = 0;
  s_spit(q, len + 1);
  assert_int_equal(cli_snap_read(s_path, NULL, NULL, NULL, &err), RV_ECORRUPT);
  assert_non_null(strstr(err.msg, "bytes after the end record"));
  free(q);
  free(p);
}

/* A newer format version: refused naming both versions (the header's checksum made valid). */
static void test_newer_version_refused(void **state) {
  (void)state;
  s_write();
  size_t len;
  uint8_t *p = s_slurp(&len);
  p[8] = CLI_SNAP_VERSION + 1;
  uint32_t flen = (uint32_t)p[12] | (uint32_t)p[13] << 8;
  uint32_t crc = (uint32_t)crc32(crc32(0L, Z_NULL, 0), p, 16 + flen);
  for (int i = 0; i < 4; i++) p[16 + flen + i] = (uint8_t)(crc >> (8 * i));
  s_spit(p, len);
  rv_err_t err;
  assert_int_equal(cli_snap_read(s_path, NULL, NULL, NULL, &err), RV_ECONFIG);
  assert_non_null(strstr(err.msg, "format version 2 is newer than this build's (1)"));
  free(p);
  s_spit((const uint8_t *)"PK\3\4 a zip file, say", 21);
  assert_int_equal(cli_snap_read(s_path, NULL, NULL, NULL, &err), RV_ECORRUPT);
  assert_non_null(strstr(err.msg, "not a raftvisor snapshot file"));
}

/* The writer refuses pairs out of key order (across blocks too) and an unfinished writer
 * leaves nothing behind. */
static void test_writer_refuses_disorder(void **state) {
  (void)state;
  cli_snap_header_t h = s_header();
  cli_snap_writer_t *w;
  rv_err_t err;
  assert_int_equal(cli_snap_writer_open(s_path, &h, &w, &err), RV_OK);
  uint64_t d = KV_FNV64_INIT;
  kv_buf_t b;
  kv_buf_init(&b);
  s_pairs(&b, 10, 20, &d);
  assert_int_equal(cli_snap_writer_block(w, b.data, b.len, &err), RV_OK);
  kv_buf_reset(&b);
  s_pairs(&b, 19, 25, &d); /* 19 again */
  assert_int_not_equal(cli_snap_writer_block(w, b.data, b.len, &err), RV_OK);
  assert_non_null(strstr(err.msg, "does not follow the previous one"));
  kv_buf_reset(&b);
  kv_buf_put(&b, "\5\0\0\0ab", 6); /* a pair cut short */
  assert_int_not_equal(cli_snap_writer_block(w, b.data, b.len, &err), RV_OK);
  kv_buf_close(&b);
  cli_snap_writer_destroy(&w);
  char part[160];
  snprintf(part, sizeof part, "%s.part", s_path);
  assert_int_not_equal(access(part, F_OK), 0);
  assert_int_not_equal(access(s_path, F_OK), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_round_trip, s_setup, s_teardown),
      cmocka_unit_test_setup_teardown(test_every_damaged_byte_refused, s_setup, s_teardown),
      cmocka_unit_test_setup_teardown(test_every_truncation_refused, s_setup, s_teardown),
      cmocka_unit_test_setup_teardown(test_newer_version_refused, s_setup, s_teardown),
      cmocka_unit_test_setup_teardown(test_writer_refuses_disorder, s_setup, s_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
