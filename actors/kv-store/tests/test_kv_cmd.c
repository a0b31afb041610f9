/* Unit tests of kv_cmd: round trips of every op, and a defensive decoder: every truncation of
 * every valid command, trailing garbage, random bytes, bit flips, oversize, unknown version and
 * op, fields an op does not take. Nothing may crash (run under ASan/UBSan too). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "kv_cmd.h"
#include "kv_testutil.h"

/* One valid command per op, with every field it takes set. */
static size_t s_samples(kv_cmd_t *out) {
  static const char data[] = "hello, world";
  size_t n = 0;
  kv_t_cmd(&out[n], KV_OP_MKDIR, "/a/b");
  out[n++].flags = KV_F_PARENTS;
  kv_t_cmd(&out[n], KV_OP_PUT, "/a/b/f");
  out[n].flags = KV_F_OVERWRITE | KV_F_PARENTS;
  out[n++].data = (kv_bytes_t){(const uint8_t *)data, sizeof data - 1};
  kv_t_cmd(&out[n++], KV_OP_TOUCHZ, "/z");
  kv_t_cmd(&out[n], KV_OP_RM, "/a");
  out[n++].flags = KV_F_RECURSIVE;
  kv_t_cmd(&out[n], KV_OP_MV, "/a");
  out[n++].path2 = (kv_bytes_t){(const uint8_t *)"/b", 2};
  kv_t_cmd(&out[n], KV_OP_SETATTR, "/a");
  out[n].set_mask = KV_SET_ALL;
  out[n].perm = 01777;
  out[n].mtime_ms = -1;
  out[n].atime_ms = INT64_MAX;
  out[n].owner = (kv_bytes_t){(const uint8_t *)"bob", 3};
  out[n++].group = (kv_bytes_t){(const uint8_t *)"staff", 5};
  kv_t_cmd(&out[n], KV_OP_APPEND, "/f");
  out[n++].data = (kv_bytes_t){(const uint8_t *)"more", 4};
  kv_t_cmd(&out[n], KV_OP_TRUNCATE, "/f");
  out[n++].data = (kv_bytes_t){(const uint8_t *)"\0\0\0\0\0\0\0\3", 8};
  kv_t_cmd(&out[n], KV_OP_CONCAT, "/f");
  out[n++].data = (kv_bytes_t){(const uint8_t *)"\0\1\0\2/g", 6};
  kv_t_cmd(&out[n], KV_OP_SETXATTR, "/f");
  out[n++].data = (kv_bytes_t){(const uint8_t *)"\6user.a\0\1v", 10};
  kv_t_cmd(&out[n], KV_OP_REMOVEXATTR, "/f");
  out[n++].data = (kv_bytes_t){(const uint8_t *)"user.a", 6};
  for (size_t i = 0; i < n; i++) {
    out[i].client_id = 0xfeedface00000000ull + i;
    out[i].seq = 1000 + i;
    out[i].time_ms = 1700000000123;
  }
  return n;
}

static void s_bytes_equal(kv_bytes_t a, kv_bytes_t b) {
  assert_int_equal(a.len, b.len);
  if (a.len) assert_memory_equal(a.p, b.p, a.len);
}

static void test_round_trip_every_op(void **state) {
  kv_cmd_t cmds[16];
  size_t n = s_samples(cmds);
  assert_int_equal(n, KV_OP_LAST);
  kv_buf_t b;
  kv_buf_init(&b);
  for (size_t i = 0; i < n; i++) {
    kv_t_encode(&cmds[i], &b);
    kv_cmd_t d;
    rv_err_t err;
    assert_int_equal(kv_cmd_decode(b.data, b.len, &d, &err), RV_OK);
    assert_int_equal(d.op, cmds[i].op);
    assert_true(d.client_id == cmds[i].client_id);
    assert_true(d.seq == cmds[i].seq);
    assert_true(d.time_ms == cmds[i].time_ms);
    assert_int_equal(d.flags, cmds[i].flags);
    assert_int_equal(d.set_mask, cmds[i].set_mask);
    assert_int_equal(d.perm, cmds[i].perm);
    assert_true(d.mtime_ms == cmds[i].mtime_ms);
    assert_true(d.atime_ms == cmds[i].atime_ms);
    s_bytes_equal(d.path, cmds[i].path);
    s_bytes_equal(d.path2, cmds[i].path2);
    s_bytes_equal(d.owner, cmds[i].owner);
    s_bytes_equal(d.group, cmds[i].group);
    s_bytes_equal(d.data, cmds[i].data);
    uint64_t cid, seq;
    assert_true(kv_cmd_peek_session(b.data, b.len, &cid, &seq));
    assert_true(cid == cmds[i].client_id && seq == cmds[i].seq);
    static const char *const names[] = {"",       "mkdir",  "put",      "touchz", "rm",
                                        "mv",     "setattr", "append", "truncate", "concat",
                                        "setxattr", "removexattr"};
    assert_string_equal(kv_op_name(cmds[i].op), names[cmds[i].op]);
  }
  assert_string_equal(kv_op_name(0), "op?");
  assert_string_equal(kv_op_name(99), "op?");
  kv_buf_close(&b);
}

static void test_every_truncation_fails(void **state) {
  kv_cmd_t cmds[16];
  size_t n = s_samples(cmds);
  kv_buf_t b;
  kv_buf_init(&b);
  for (size_t i = 0; i < n; i++) {
    kv_t_encode(&cmds[i], &b);
    for (size_t len = 0; len < b.len; len++) {
      /* a copy of exactly len bytes, so ASan sees any over-read */
      uint8_t *p = malloc(len ? len : 1);
      memcpy(p, b.data, len);
      kv_cmd_t d;
      rv_err_t err;
      int rc = kv_cmd_decode(p, len, &d, &err);
      assert_int_equal(rc, RV_EDECODE);
      assert_true(strlen(err.msg) > 0);
      assert_int_equal(d.op, 0); /* nothing half-filled */
      free(p);
    }
  }
  kv_buf_close(&b);
}

static void test_trailing_garbage_fails(void **state) {
  kv_cmd_t cmds[16];
  s_samples(cmds);
  kv_buf_t b;
  kv_buf_init(&b);
  kv_t_encode(&cmds[0], &b);
  kv_buf_put_u8(&b, 0);
  kv_cmd_t d;
  rv_err_t err;
  assert_int_equal(kv_cmd_decode(b.data, b.len, &d, &err), RV_EDECODE);
  assert_non_null(strstr(err.msg, "1 trailing bytes"));
  kv_buf_close(&b);
}

static void test_version_and_op_checked(void **state) {
  kv_cmd_t cmds[16];
  s_samples(cmds);
  kv_buf_t b;
  kv_buf_init(&b);
  kv_t_encode(&cmds[0], &b);
  kv_cmd_t d;
  rv_err_t err;
  b.data[0] = 3;
  assert_int_equal(kv_cmd_decode(b.data, b.len, &d, &err), RV_EDECODE);
  assert_non_null(strstr(err.msg, "version 3 unknown"));
  b.data[0] = KV_CMD_VERSION_LEGACY;
  b.data[1] = 0;
  assert_int_equal(kv_cmd_decode(b.data, b.len, &d, &err), RV_EDECODE);
  assert_non_null(strstr(err.msg, "unknown op 0"));
  b.data[1] = KV_OP_LAST + 1;
  assert_int_equal(kv_cmd_decode(b.data, b.len, &d, &err), RV_EDECODE);
  char want[32];
  snprintf(want, sizeof want, "unknown op %d", KV_OP_LAST + 1);
  assert_non_null(strstr(err.msg, want));
  assert_false(kv_cmd_peek_session(b.data, 10, &d.client_id, &d.seq));
  kv_buf_close(&b);
}

static void test_fields_an_op_does_not_take(void **state) {
  kv_buf_t b;
  kv_buf_init(&b);
  rv_err_t err;
  kv_cmd_t c;
  /* The encoder refuses them ... */
  kv_t_cmd(&c, KV_OP_RM, "/a");
  c.flags = KV_F_PARENTS;
  assert_int_equal(kv_cmd_encode(&c, &b, &err), RV_EINVAL);
  assert_non_null(strstr(err.msg, "rm command: flags 0x01 not allowed"));
  kv_t_cmd(&c, KV_OP_MKDIR, "/a");
  c.data = (kv_bytes_t){(const uint8_t *)"x", 1};
  assert_int_equal(kv_cmd_encode(&c, &b, &err), RV_EINVAL);
  assert_non_null(strstr(err.msg, "data is not allowed"));
  kv_t_cmd(&c, KV_OP_RM, "/a");
  c.path2 = (kv_bytes_t){(const uint8_t *)"/b", 2};
  assert_int_equal(kv_cmd_encode(&c, &b, &err), RV_EINVAL);
  kv_t_cmd(&c, KV_OP_MV, "/a");
  c.perm = 0644;
  assert_int_equal(kv_cmd_encode(&c, &b, &err), RV_EINVAL);
  kv_t_cmd(&c, KV_OP_PUT, "/a");
  c.mtime_ms = 5;
  assert_int_equal(kv_cmd_encode(&c, &b, &err), RV_EINVAL);
  kv_t_cmd(&c, KV_OP_SETATTR, "/a");
  c.set_mask = 0x80;
  assert_int_equal(kv_cmd_encode(&c, &b, &err), RV_EINVAL);
  c.op = 0;
  assert_int_equal(kv_cmd_encode(&c, &b, &err), RV_EINVAL);
  assert_int_equal(b.len, 0);
  /* ... and so does the decoder, when a hand-made frame carries them: flip rm's flags byte. */
  kv_t_cmd(&c, KV_OP_RM, "/a");
  kv_t_encode(&c, &b);
  b.data[26] = KV_F_OVERWRITE; /* version, op, client, seq, time = 26 bytes, then flags */
  kv_cmd_t d;
  assert_int_equal(kv_cmd_decode(b.data, b.len, &d, &err), RV_EDECODE);
  assert_non_null(strstr(err.msg, "flags 0x02 not allowed"));
  /* rm takes the file-only and dir-only flags; no other op does */
  b.data[26] = KV_F_FILE_ONLY;
  assert_int_equal(kv_cmd_decode(b.data, b.len, &d, &err), RV_OK);
  assert_int_equal(d.flags, KV_F_FILE_ONLY);
  b.data[26] = KV_F_DIR_ONLY;
  assert_int_equal(kv_cmd_decode(b.data, b.len, &d, &err), RV_OK);
  assert_int_equal(d.flags, KV_F_DIR_ONLY);
  b.data[26] = 0x20;
  assert_int_equal(kv_cmd_decode(b.data, b.len, &d, &err), RV_EDECODE);
  assert_non_null(strstr(err.msg, "flags 0x20 not allowed (allowed 0x1c)"));
  kv_buf_reset(&b);
  kv_t_cmd(&c, KV_OP_MKDIR, "/a");
  c.flags = KV_F_DIR_ONLY;
  assert_int_equal(kv_cmd_encode(&c, &b, &err), RV_EINVAL);
  kv_t_cmd(&c, KV_OP_MV, "/a");
  c.path2 = (kv_bytes_t){(const uint8_t *)"/b", 2};
  c.flags = KV_F_FILE_ONLY;
  assert_int_equal(kv_cmd_encode(&c, &b, &err), RV_EINVAL);
  assert_non_null(strstr(err.msg, "mv command: flags 0x08 not allowed"));
  kv_buf_close(&b);
}

static void test_oversize(void **state) {
  kv_buf_t b;
  kv_buf_init(&b);
  rv_err_t err;
  kv_cmd_t c;
  kv_t_cmd(&c, KV_OP_PUT, "/big");
  size_t big = KV_DATA_MAX + 1;
  uint8_t *data = calloc(1, KV_CMD_MAX + 1);
  c.data = (kv_bytes_t){data, big};
  assert_int_equal(kv_cmd_encode(&c, &b, &err), RV_ETOOBIG);
  /* exactly the cap encodes and decodes */
  c.data.len = KV_DATA_MAX;
  kv_t_encode(&c, &b);
  kv_cmd_t d;
  assert_int_equal(kv_cmd_decode(b.data, b.len, &d, &err), RV_OK);
  assert_int_equal(d.data.len, KV_DATA_MAX);
  /* a frame over KV_CMD_MAX is refused before anything is read */
  assert_int_equal(kv_cmd_decode(data, KV_CMD_MAX + 1, &d, &err), RV_ETOOBIG);
  assert_non_null(strstr(err.msg, "exceeds the limit"));
  /* a data length field claiming more than the cap reads as too big, not truncated */
  kv_t_cmd(&c, KV_OP_PUT, "/x");
  c.data = (kv_bytes_t){(const uint8_t *)"abc", 3};
  kv_t_encode(&c, &b);
  kv_be32_put(b.data + b.len - 7, 0xffffffffu);
  assert_int_equal(kv_cmd_decode(b.data, b.len, &d, &err), RV_ETOOBIG);
  /* path too long for the wire */
  char *lp = malloc(70000);
  memset(lp, 'a', 70000);
  kv_t_cmd(&c, KV_OP_RM, "/");
  c.path = (kv_bytes_t){(const uint8_t *)lp, 70000};
  assert_int_equal(kv_cmd_encode(&c, &b, &err), RV_EINVAL);
  free(lp);
  free(data);
  kv_buf_close(&b);
}

static void test_empty_and_null(void **state) {
  kv_cmd_t d;
  rv_err_t err;
  assert_int_equal(kv_cmd_decode(NULL, 0, &d, &err), RV_EDECODE);
  assert_non_null(strstr(err.msg, "empty command"));
}

/* Random frames and bit flips of valid ones: never a crash; any accepted frame re-encodes to
 * the same bytes (the decoder accepts only what the encoder can produce). */
static void test_random_and_bitflips(void **state) {
  kv_t_rng_t rng;
  kv_t_rng_init(&rng, kv_t_seed("kv_cmd fuzz", 7));
  kv_cmd_t cmds[16];
  size_t n = s_samples(cmds);
  kv_buf_t b, re;
  kv_buf_init(&b);
  kv_buf_init(&re);
  size_t accepted = 0;
  for (int round = 0; round < 100000; round++) {
    uint8_t frame[128];
    size_t len;
    if (round % 2) {
      len = kv_t_rng_below(&rng, sizeof frame);
      for (size_t i = 0; i < len; i++) frame[i] = (uint8_t)kv_t_rng_next(&rng);
      if (len > 1 && kv_t_rng_below(&rng, 2)) frame[0] = KV_CMD_VERSION;
    } else {
      kv_t_encode(&cmds[kv_t_rng_below(&rng, n)], &b);
      len = b.len < sizeof frame ? b.len : sizeof frame;
      memcpy(frame, b.data, len);
      int flips = 1 + (int)kv_t_rng_below(&rng, 3);
      for (int f = 0; f < flips; f++)
        frame[kv_t_rng_below(&rng, len)] ^= (uint8_t)(1u << kv_t_rng_below(&rng, 8));
    }
    uint8_t *p = malloc(len ? len : 1);
    memcpy(p, frame, len);
    kv_cmd_t d;
    rv_err_t err;
    int rc = kv_cmd_decode(p, len, &d, &err);
    if (rc == RV_OK) {
      accepted++;
      rv_err_t e2;
      kv_buf_reset(&re);
      assert_int_equal(kv_cmd_encode(&d, &re, &e2), RV_OK);
      assert_int_equal(re.len, len);
      assert_memory_equal(re.data, p, len);
    } else {
      assert_true(rc == RV_EDECODE || rc == RV_ETOOBIG);
      assert_true(strlen(err.msg) > 0);
    }
    free(p);
  }
  assert_true(accepted > 0); /* flips of perm/time/ids still decode */
  kv_buf_close(&b);
  kv_buf_close(&re);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_round_trip_every_op),
      cmocka_unit_test(test_every_truncation_fails),
      cmocka_unit_test(test_trailing_garbage_fails),
      cmocka_unit_test(test_version_and_op_checked),
      cmocka_unit_test(test_fields_an_op_does_not_take),
      cmocka_unit_test(test_oversize),
      cmocka_unit_test(test_empty_and_null),
      cmocka_unit_test(test_random_and_bitflips),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
