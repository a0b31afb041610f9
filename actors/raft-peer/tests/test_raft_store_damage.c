/* Unit tests of raft-peer's durable log under damage: a torn last record (cut or garbled at
 * every length) is dropped and appending goes on; damage anywhere before it, in a sealed
 * segment, a checkpoint or a seal, or a missing segment, is refused with RV_ECORRUPT naming the
 * file and offset; a record left in a recycled file by its previous use is never replayed; torn
 * writes during a roll-over (seal, checkpoint, record) recover. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <errno.h>
#include <unistd.h>

#include "raft_store_testlib.h"

static char s_dir[256];

static int s_setup(void **state) {
  rst_dir_new(s_dir, sizeof s_dir);
  return 0;
}

static int s_teardown(void **state) {
  rst_dir_remove(s_dir);
  return 0;
}

/* Where each save's record went: segment and [start, end). A save that rolled over also wrote a
 * seal at the old segment's end and a checkpoint at the new one's start. */
typedef struct {
  uint64_t seq, start, end;
  bool rolled;
  uint64_t seal_seq, seal_at;
} s_rec_t;

#define S_MAX_RECS 4096

static s_rec_t s_recs[S_MAX_RECS];
static size_t s_n;

/* Saves n entries of len bytes at *next (term 1, commit next - 1) and records where it went. */
static void s_save(raft_store_t *s, raft_index_t *next, size_t n, size_t len) {
  uint64_t q0, o0, q1, o1;
  raft_store_position(s, &q0, &o0);
  assert_int_equal(rst_save(s, *next, n, 1, len, *next - 1, true), RV_OK);
  raft_store_position(s, &q1, &o1);
  assert_true(s_n < S_MAX_RECS);
  s_rec_t *r = &s_recs[s_n++];
  *r = (s_rec_t){.seq = q1, .start = q1 == q0 ? o0 : 0, .end = o1, .rolled = q1 != q0,
                 .seal_seq = q0, .seal_at = o0};
  *next += n;
}

static void s_expect_corrupt(const char *file_hint) {
  raft_store_options_t o = rst_opts();
  raft_store_t *s;
  rv_err_t err;
  int rc = raft_store_open(s_dir, "c1", 1, &o, &s, &err);
  if (rc != RV_ECORRUPT) fprintf(stderr, "expected RV_ECORRUPT, got %d: %s\n", rc, err.msg);
  assert_int_equal(rc, RV_ECORRUPT);
  assert_null(s);
  assert_non_null(strstr(err.msg, s_dir));
  if (file_hint) assert_non_null(strstr(err.msg, file_hint));
  assert_non_null(strstr(err.msg, "wipe"));
}

static void s_expect_entries(raft_index_t last, size_t len) {
  raft_store_t *s = rst_open(s_dir);
  raft_storage_state_t st;
  rv_err_t err;
  assert_int_equal(raft_store_load(s, &st, &err), RV_OK);
  rst_check_entries(&st, 1, last, 1, len);
  raft_store_state_free(&st);
  raft_store_close(&s);
}

/* A copy of every file of the log, to undo each experiment. */
static char s_backup[300];

static void s_snapshot_dir(void) {
  snprintf(s_backup, sizeof s_backup, "%s.bak", s_dir);
  char cmd[1200];
  snprintf(cmd, sizeof cmd, "rm -rf '%s' && cp -a '%s' '%s'", s_backup, s_dir, s_backup);
  assert_int_equal(system(cmd), 0);
}

static void s_restore_dir(void) {
  char cmd[1200];
  snprintf(cmd, sizeof cmd, "rm -rf '%s' && cp -a '%s' '%s'", s_dir, s_backup, s_dir);
  assert_int_equal(system(cmd), 0);
}

static void s_drop_backup(void) { rst_dir_remove(s_backup); }

/* ---- torn tails -------------------------------------------------------------------------- */

/* Cuts (zeros after the cut) or garbles the last record at every length, reopens: the record
 * is gone, the earlier ones intact, its bytes zeroed on disk, the log ends where it began, and
 * a new append survives another reopen. */
static void test_torn_tail_every_prefix(void **state) {
  raft_store_t *s = rst_open(s_dir);
  raft_index_t next = 1;
  s_n = 0;
  for (int i = 0; i < 12; i++) s_save(s, &next, 1 + i % 3, 20 + 7 * i);
  raft_store_close(&s);
  const s_rec_t *last = &s_recs[s_n - 1];
  size_t last_n = 1 + 11 % 3;
  raft_index_t kept = next - 1 - last_n;
  char path[600];
  rst_seg_path(s_dir, last->seq, path, sizeof path);
  size_t size;
  uint8_t *orig = rst_read_file(path, &size);
  uint8_t *copy = malloc(size);
  assert_non_null(copy);
  for (int garble = 0; garble <= 1; garble++) {
    for (uint64_t cut = 0; cut < last->end - last->start; cut++) {
      memcpy(copy, orig, size);
      uint64_t x = cut * 2654435761u + 1;
      for (uint64_t o = last->start + cut; o < last->end; o++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        copy[o] = garble ? (uint8_t)x : 0;
      }
      /* a cut or garble that happens to leave every byte as it was leaves the record whole */
      bool torn = memcmp(copy + last->start, orig + last->start, last->end - last->start) != 0;
      rst_write_file(path, copy, size);
      s = rst_open(s_dir);
      uint64_t seq, off;
      raft_store_position(s, &seq, &off);
      assert_int_equal(seq, last->seq);
      if (!torn) {
        assert_int_equal(off, last->end);
        raft_store_close(&s);
        continue;
      }
      assert_int_equal(off, last->start);
      /* the repair is on disk: every byte of the torn record reads back as zero (left as it
       * was, a later append shorter than it would leave its garbled rest behind) */
      size_t now_size;
      uint8_t *now = rst_read_file(path, &now_size);
      assert_true(now_size >= last->end);
      for (uint64_t o = last->start; o < last->end; o++)
        if (now[o]) fail_msg("garble %d cut %llu: byte %llu of the torn record is 0x%02x after "
                             "the repair, not 0", garble, (unsigned long long)cut,
                             (unsigned long long)o, now[o]);
      free(now);
      raft_storage_state_t st;
      rv_err_t err;
      assert_int_equal(raft_store_load(s, &st, &err), RV_OK);
      assert_int_equal(st.n_entries, kept);
      assert_int_equal(st.hard.commit, kept - (1 + 10 % 3));
      raft_store_state_free(&st);
      assert_int_equal(rst_save(s, kept + 1, 1, 1, 30, kept, true), RV_OK);
      raft_store_close(&s);
      s = rst_open(s_dir);
      assert_int_equal(raft_store_load(s, &st, &err), RV_OK);
      assert_int_equal(st.n_entries, kept + 1);
      assert_int_equal(st.entries[kept].len, 30);
      assert_int_equal(st.hard.commit, kept);
      raft_store_state_free(&st);
      raft_store_close(&s);
    }
  }
  free(copy);
  free(orig);
}

/* The same in a recycled segment, whose bytes after the log's end are records of its previous
 * use (valid, of an older generation): they are never replayed, torn tail or not. */
static void test_recycled_segment_tail(void **state) {
  raft_store_t *s = rst_open(s_dir);
  raft_index_t next = 1;
  s_n = 0;
  uint64_t seq, off;
  for (raft_store_position(s, &seq, &off); seq < 6; raft_store_position(s, &seq, &off))
    s_save(s, &next, 4, 150);
  raft_snapshot_meta_t m = {.index = next - 2, .term = 1};
  m.conf.n_voters = 1;
  m.conf.voters[0] = 1;
  rv_err_t err;
  assert_int_equal(raft_store_compact(s, &m, &err), RV_OK);
  /* roll over until the newest segment is a recycled file: non-zero bytes past the end */
  bool recycled = false;
  char path[600];
  while (!recycled) {
    uint64_t was;
    raft_store_position(s, &was, &off);
    do {
      s_save(s, &next, 1, 40);
      raft_store_position(s, &seq, &off);
    } while (seq == was);
    s_save(s, &next, 1, 40); /* the last record is not the first of its segment */
    raft_store_position(s, &seq, &off);
    assert_true(seq < 20);
    rst_seg_path(s_dir, seq, path, sizeof path);
    size_t size;
    uint8_t *b = rst_read_file(path, &size);
    for (uint64_t o = off; o < size && !recycled; o++) recycled = b[o] != 0;
    free(b);
  }
  raft_index_t last = next - 1;
  raft_store_close(&s);
  s_snapshot_dir();
  /* a clean reopen: exactly the log, nothing of the old use */
  s = rst_open(s_dir);
  raft_storage_state_t st;
  assert_int_equal(raft_store_load(s, &st, &err), RV_OK);
  assert_int_equal(st.snapshot.index, m.index);
  assert_int_equal(st.n_entries, last - m.index);
  assert_int_equal(st.entries[st.n_entries - 1].index, last);
  assert_int_equal(st.entries[st.n_entries - 1].len, 40);
  raft_store_state_free(&st);
  raft_store_close(&s);
  /* torn last record at a few lengths */
  const s_rec_t *r = &s_recs[s_n - 1];
  for (uint64_t cut = 0; cut < r->end - r->start; cut += 13) {
    s_restore_dir();
    size_t size;
    uint8_t *b = rst_read_file(path, &size);
    memset(b + r->start + cut, 0x5a, r->end - r->start - cut);
    rst_write_file(path, b, size);
    free(b);
    s = rst_open(s_dir); /* 0x5a is in no record: always a tear */
    assert_int_equal(raft_store_load(s, &st, &err), RV_OK);
    assert_int_equal(st.entries[st.n_entries - 1].index, last - 1);
    raft_store_state_free(&st);
    assert_int_equal(rst_save(s, last, 2, 1, 40, last - 1, true), RV_OK);
    raft_store_close(&s);
    s = rst_open(s_dir);
    assert_int_equal(raft_store_load(s, &st, &err), RV_OK);
    assert_int_equal(st.entries[st.n_entries - 1].index, last + 1);
    raft_store_state_free(&st);
    raft_store_close(&s);
  }
  s_drop_backup();
}

/* ---- damage in the middle ------------------------------------------------------------------ */

static void test_damage_before_the_last_record(void **state) {
  raft_store_t *s = rst_open(s_dir);
  raft_index_t next = 1;
  s_n = 0;
  for (int i = 0; i < 20; i++) s_save(s, &next, 2, 40);
  raft_store_close(&s);
  assert_int_equal(s_recs[s_n - 1].seq, 1);
  char path[600];
  rst_seg_path(s_dir, 1, path, sizeof path);
  size_t size;
  uint8_t *orig = rst_read_file(path, &size);
  /* the checkpoint, then every record but the last: crc, length, generation, type, reserved,
   * the first payload byte, the middle of the payload */
  uint64_t spots[] = {0, 5, 9, 16, 20, 24, 0};
  for (size_t i = 0; i < s_n; i++) { /* 0: the checkpoint, i: record i - 1 */
    uint64_t start = i == 0 ? 0 : s_recs[i - 1].start;
    uint64_t end = i == 0 ? s_recs[0].start : s_recs[i - 1].end;
    spots[6] = (end - start) / 2 + 12;
    for (size_t k = 0; k < sizeof spots / sizeof spots[0]; k++) {
      rst_write_file(path, orig, size);
      rst_flip(path, start + spots[k], 0x40);
      s_expect_corrupt("seg-0000000000000001.log");
    }
  }
  rst_write_file(path, orig, size);
  s_expect_entries(next - 1, 40);
  free(orig);
}

static void test_damage_in_sealed_segments(void **state) {
  raft_store_t *s = rst_open(s_dir);
  raft_index_t next = 1;
  s_n = 0;
  uint64_t seq, off;
  for (raft_store_position(s, &seq, &off); seq < 4; raft_store_position(s, &seq, &off))
    s_save(s, &next, 3, 200);
  s_save(s, &next, 1, 200); /* the newest has a checkpoint and two records */
  raft_store_close(&s);
  /* where things are in segments 1 and 2 */
  size_t first2 = 0, roll2 = 0, roll3 = 0;
  for (size_t i = 0; i < s_n; i++) {
    if (s_recs[i].rolled && s_recs[i].seq == 2) roll2 = i;
    if (s_recs[i].rolled && s_recs[i].seq == 3) roll3 = i;
  }
  first2 = roll2;
  assert_true(roll2 > 2 && roll3 > roll2 + 2);
  char p1[600], p2[600], p4[600];
  rst_seg_path(s_dir, 1, p1, sizeof p1);
  rst_seg_path(s_dir, 2, p2, sizeof p2);
  rst_seg_path(s_dir, 4, p4, sizeof p4);
  s_snapshot_dir();

  rst_flip(p1, s_recs[2].start + 30, 1); /* a record in the middle of segment 1 */
  s_expect_corrupt("seg-0000000000000001.log");
  s_restore_dir();
  rst_flip(p1, s_recs[roll2 - 1].start + 30, 1); /* the last record before the seal */
  s_expect_corrupt("seg-0000000000000001.log");
  s_restore_dir();
  rst_flip(p1, s_recs[roll2].seal_at + 26, 1); /* the seal */
  s_expect_corrupt("seg-0000000000000001.log");
  s_restore_dir();
  rst_flip(p2, 30, 1); /* the checkpoint of segment 2 */
  s_expect_corrupt("seg-0000000000000002.log");
  s_restore_dir();
  rst_flip(p2, s_recs[first2 + 1].start + 3, 1); /* a record of segment 2 */
  s_expect_corrupt("seg-0000000000000002.log");
  s_restore_dir();
  assert_int_equal(truncate(p1, s_recs[3].end + 10), 0); /* segment 1 cut short */
  s_expect_corrupt("seg-0000000000000001.log");
  s_restore_dir();
  rst_flip(p4, 30, 1); /* the newest's checkpoint, with valid records after it */
  s_expect_corrupt("seg-0000000000000004.log");
  s_restore_dir();
  assert_int_equal(unlink(p2), 0); /* a missing segment in the middle */
  s_expect_corrupt("are missing");
  s_restore_dir();
  assert_int_equal(unlink(p1), 0); /* the oldest, still needed */
  s_expect_corrupt("are missing");
  s_restore_dir();
  s_expect_entries(next - 1, 200);
  s_drop_backup();
}

/* The newest segment's checkpoint never made it (a crash between the rename and its fdatasync):
 * nothing valid follows it, so the state is the previous (sealed) segment's end. */
static void test_newest_without_checkpoint(void **state) {
  raft_store_t *s = rst_open(s_dir);
  raft_index_t next = 1;
  s_n = 0;
  uint64_t seq, off;
  for (raft_store_position(s, &seq, &off); seq < 3; raft_store_position(s, &seq, &off))
    s_save(s, &next, 3, 200);
  raft_store_close(&s);
  const s_rec_t *r = &s_recs[s_n - 1]; /* the save that rolled over to 3 */
  assert_true(r->rolled);
  char path[600];
  rst_seg_path(s_dir, 3, path, sizeof path);
  size_t size;
  uint8_t *b = rst_read_file(path, &size);
  memset(b, 0, r->end); /* the checkpoint and the record are gone */
  b[3] = 0x77;          /* and a torn byte of the checkpoint */
  rst_write_file(path, b, size);
  free(b);
  s_expect_entries(next - 4, 200);
  s = rst_open(s_dir);
  rv_err_t err;
  raft_storage_state_t st;
  assert_int_equal(raft_store_load(s, &st, &err), RV_OK);
  raft_store_state_free(&st);
  assert_int_equal(rst_save(s, next - 3, 3, 1, 200, next - 4, true), RV_OK);
  raft_store_close(&s);
  s_expect_entries(next - 1, 200);
}

/* ---- torn writes during a roll-over --------------------------------------------------------- */

typedef struct {
  int write;   /* tear the write-th write from now (1 = the next) */
  size_t keep; /* keeping this many bytes of it (clipped below its length) */
} s_tear_t;

static int s_tear(void *arg, raft_store_io_t op, const char *file, uint64_t off, size_t *len) {
  s_tear_t *t = arg;
  if (op != RAFT_STORE_IO_WRITE || t->write == 0 || --t->write > 0) return 0;
  *len = t->keep < *len ? t->keep : *len - 1;
  return EIO;
}

/* A save that rolls over writes a seal, a checkpoint, then its record: tear each of them, at a
 * few lengths. A failed store writes nothing more, so closing it is a crash. */
static void test_torn_rollover(void **state) {
  for (int which = 1; which <= 3; which++) {
    for (size_t keep = 0; keep < 200; keep += 37) {
      rst_dir_remove(s_dir);
      rst_dir_new(s_dir, sizeof s_dir);
      s_tear_t t = {0};
      raft_store_options_t o = rst_opts();
      o.fault = s_tear;
      o.fault_arg = &t;
      raft_store_t *s;
      rv_err_t err;
      assert_int_equal(raft_store_open(s_dir, "c1", 1, &o, &s, &err), RV_OK);
      raft_index_t next = 1;
      uint64_t seq, off;
      for (raft_store_position(s, &seq, &off); off < RST_SEG - 8500;
           raft_store_position(s, &seq, &off)) {
        assert_int_equal(rst_save(s, next, 1, 1, 2000, next - 1, true), RV_OK);
        next++;
      }
      assert_int_equal(seq, 1);
      t = (s_tear_t){.write = which, .keep = keep}; /* 10 KB more do not fit: a roll-over */
      assert_int_equal(rst_save(s, next, 5, 1, 2000, next - 1, true), RV_EIO);
      assert_true(raft_store_failed(s));
      raft_store_close(&s);
      s_expect_entries(next - 1, 2000);
      s = rst_open(s_dir);
      raft_storage_state_t st;
      assert_int_equal(raft_store_load(s, &st, &err), RV_OK);
      raft_store_state_free(&st);
      assert_int_equal(rst_save(s, next, 5, 1, 2000, next - 1, true), RV_OK);
      raft_store_close(&s);
      s_expect_entries(next + 4, 2000);
    }
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_torn_tail_every_prefix, s_setup, s_teardown),
      cmocka_unit_test_setup_teardown(test_recycled_segment_tail, s_setup, s_teardown),
      cmocka_unit_test_setup_teardown(test_damage_before_the_last_record, s_setup, s_teardown),
      cmocka_unit_test_setup_teardown(test_damage_in_sealed_segments, s_setup, s_teardown),
      cmocka_unit_test_setup_teardown(test_newest_without_checkpoint, s_setup, s_teardown),
      cmocka_unit_test_setup_teardown(test_torn_rollover, s_setup, s_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
