/* Unit tests of the raft-peer shell's checks before the core: raft_wire refuses any term beyond
 * RAFT_TERM_MAX (UINT64_MAX would wrap the next campaign to term 0) in every field that carries
 * one; raft_incarnation creates this node's incarnation once, keeps the members' table across
 * reopenings, and refuses a damaged file naming it and the line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "raft_incarnation.h"
#include "raft_wire.h"

static void s_msg(Rv__RaftMessage *pb, uint32_t type) {
  rv__raft_message__init(pb);
  pb->type = type;
  pb->from = 1;
  pb->to = 2;
  pb->term = 3;
}

static void test_term_beyond_max_refused_in_every_field(void **state) {
  (void)state;
  raft_msg_t m;
  rv_err_t err;
  Rv__RaftMessage pb;
  const uint64_t bad[] = {UINT64_MAX, RAFT_TERM_MAX + 1};
  for (size_t b = 0; b < 2; b++) {
    s_msg(&pb, RAFT_MSG_HEARTBEAT);
    pb.term = bad[b];
    assert_int_equal(raft_wire_msg_decode(&pb, &m, &err), RV_EDECODE);
    assert_non_null(strstr(err.msg, "beyond the largest Raft term"));
    assert_non_null(strstr(err.msg, "term"));
    s_msg(&pb, RAFT_MSG_VOTE);
    pb.log_term = bad[b];
    assert_int_equal(raft_wire_msg_decode(&pb, &m, &err), RV_EDECODE);
    assert_non_null(strstr(err.msg, "log term"));
    Rv__RaftSnapshotMeta snap = RV__RAFT_SNAPSHOT_META__INIT;
    snap.index = 5;
    snap.term = bad[b];
    s_msg(&pb, RAFT_MSG_SNAP);
    pb.snapshot = &snap;
    assert_int_equal(raft_wire_msg_decode(&pb, &m, &err), RV_EDECODE);
    assert_non_null(strstr(err.msg, "snapshot term"));
    Rv__RaftEntry e = RV__RAFT_ENTRY__INIT, *ep = &e;
    e.index = 1;
    e.term = bad[b];
    s_msg(&pb, RAFT_MSG_APP);
    pb.n_entries = 1;
    pb.entries = &ep;
    assert_int_equal(raft_wire_msg_decode(&pb, &m, &err), RV_EDECODE);
    assert_non_null(strstr(err.msg, "entry term"));
  }
  /* the largest term itself is well-formed (the core decides what to do with it) */
  s_msg(&pb, RAFT_MSG_HEARTBEAT);
  pb.term = RAFT_TERM_MAX;
  assert_int_equal(raft_wire_msg_decode(&pb, &m, &err), RV_OK);
  assert_int_equal(m.term, RAFT_TERM_MAX);
  raft_wire_msg_free(&m);
  assert_int_equal(raft_wire_term_check("term", UINT64_MAX, &err), RV_EDECODE);
  assert_int_equal(raft_wire_term_check("term", 7, &err), RV_OK);
}

static char s_dir[64];

static int s_setup(void **state) {
  (void)state;
  snprintf(s_dir, sizeof s_dir, "/tmp/test_raft_wire.XXXXXX");
  return mkdtemp(s_dir) ? 0 : -1;
}

static int s_teardown(void **state) {
  (void)state;
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", s_dir);
  return system(cmd) == 0 ? 0 : -1;
}

static void s_write(const char *name, const char *text) {
  char path[128];
  snprintf(path, sizeof path, "%s/%s", s_dir, name);
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs(text, f);
  fclose(f);
}

static void test_self_incarnation_created_once(void **state) {
  (void)state;
  uint64_t a = 0, b = 0;
  bool created;
  rv_err_t err;
  assert_int_equal(raft_incarnation_self(s_dir, &a, &created, &err), RV_OK);
  assert_true(created);
  assert_int_not_equal(a, 0);
  assert_int_equal(raft_incarnation_self(s_dir, &b, &created, &err), RV_OK);
  assert_false(created);
  assert_int_equal(a, b);
  s_write("incarnation", "raftvisor-incarnation 1\n00000000000000zz\n");
  assert_int_equal(raft_incarnation_self(s_dir, &b, &created, &err), RV_ECORRUPT);
  assert_non_null(strstr(err.msg, "/incarnation:2:"));
}

static void test_table_saved_and_loaded(void **state) {
  (void)state;
  raft_gate_table_t t = {0}, u;
  rv_err_t err;
  assert_int_equal(raft_incarnation_load(s_dir, &u, &err), RV_OK); /* none yet */
  assert_int_equal(u.n, 0);
  raft_gate_learn(&t, 0x10, 0xabc);
  raft_gate_learn(&t, UINT64_MAX, 0x1);
  assert_int_equal(raft_incarnation_save(s_dir, &t, &err), RV_OK);
  assert_int_equal(raft_incarnation_load(s_dir, &u, &err), RV_OK);
  assert_int_equal(u.n, 2);
  assert_int_equal(raft_gate_known(&u, 0x10), 0xabc);
  assert_int_equal(raft_gate_known(&u, UINT64_MAX), 1);
  s_write("incarnations", "raftvisor-incarnations 1\n0000000000000010 0000000000000abc\n"
                          "0000000000000011 garbage\n");
  assert_int_equal(raft_incarnation_load(s_dir, &u, &err), RV_ECORRUPT);
  assert_non_null(strstr(err.msg, "/incarnations:3:"));
  s_write("incarnations", "raftvisor-incarnations 1\n0000000000000010 0000000000000abc\n"
                          "0000000000000010 0000000000000abd\n");
  assert_int_equal(raft_incarnation_load(s_dir, &u, &err), RV_ECORRUPT);
  assert_non_null(strstr(err.msg, "repeated"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_term_beyond_max_refused_in_every_field),
      cmocka_unit_test_setup_teardown(test_self_incarnation_created_once, s_setup, s_teardown),
      cmocka_unit_test_setup_teardown(test_table_saved_and_loaded, s_setup, s_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
