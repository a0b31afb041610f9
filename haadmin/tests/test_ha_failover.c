/* Unit tests of the failover controller (ha_failover) against fake nodes: every branch of
 * Hadoop's FailoverController as mapped onto Raft (pre-check refusals, graceful transfer, fence
 * when FROM is unreachable or does not hand over or --forcefence, fence failure, fail back),
 * each checked by its message and by the exact sequence of actions taken. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "ha_failover.h"

typedef enum { XFER_OK, XFER_TIMEOUT, XFER_NO_ANSWER, XFER_OTHER_WINS, XFER_ABORTED } xfer_t;

/* Three fake nodes n1..n3; n1 leads unless a test says otherwise. */
typedef struct {
  ha_view_t v[3];
  int leader;                /* index, -1 = none */
  xfer_t xfer;               /* how the next transfer goes */
  xfer_t failback;           /* how a transfer back to n1 goes */
  bool fence_ok;
  int elected_after_fence;   /* who wins once the fenced node is gone; -1 = nobody */
  char log[512];             /* "Q n2;Q n1;T n1>n2;..." */
} fake_t;

static int s_ix(const char *id) { return id[1] - '1'; }

static void s_log(fake_t *f, const char *fmt, const char *a, const char *b) {
  char one[64];
  snprintf(one, sizeof one, fmt, a, b);
  strncat(f->log, one, sizeof f->log - strlen(f->log) - 1);
}

static void s_set_leader(fake_t *f, int l) {
  f->leader = l;
  for (int i = 0; i < 3; i++) {
    snprintf(f->v[i].state, sizeof f->v[i].state, "%s", i == l ? "active" : "standby");
    snprintf(f->v[i].leader, sizeof f->v[i].leader, "%s", l < 0 ? "" : (char[]){'n', (char)('1' + l), 0});
  }
}

static void s_fake(fake_t *f) {
  memset(f, 0, sizeof *f);
  for (int i = 0; i < 3; i++)
    f->v[i] = (ha_view_t){.reachable = true, .healthy = true, .voter = true, .commit = 100,
                          .last_index = 100};
  s_set_leader(f, 0);
  f->fence_ok = true;
  f->elected_after_fence = 1;
}

/* Runs the controller against f as the shell would. */
static void s_run(fake_t *f, ha_failover_t *fo) {
  for (int steps = 0; steps < 32; steps++) {
    ha_action_t a = ha_failover_next(fo);
    if (a.kind == HA_ACT_DONE) return;
    switch (a.kind) {
      case HA_ACT_QUERY:
      case HA_ACT_WAIT_ACTIVE: {
        s_log(f, a.kind == HA_ACT_QUERY ? "Q %s;" : "A %s;", a.node, "");
        ha_view_t v = f->v[s_ix(a.node)];
        if (!v.reachable) memset(&v, 0, sizeof v);
        ha_failover_query_done(fo, &v);
        break;
      }
      case HA_ACT_TRANSFER: {
        s_log(f, "T %s>%s;", a.via, a.node);
        int via = s_ix(a.via), to = s_ix(a.node);
        xfer_t x = to == 0 ? f->failback : f->xfer;
        if (!f->v[via].reachable || x == XFER_NO_ANSWER) {
          ha_failover_transfer_done(fo, false, false, "no answer", "");
        } else if (x == XFER_OK) {
          s_set_leader(f, to);
          ha_failover_transfer_done(fo, true, true, "leadership transferred", a.node);
        } else if (x == XFER_TIMEOUT) {
          ha_failover_transfer_done(fo, true, false, "transfer: not complete after 15000 ms",
                                    a.via);
        } else if (x == XFER_OTHER_WINS) {
          s_set_leader(f, 2);
          ha_failover_transfer_done(fo, true, false, "n3 leads instead", "n3");
        } else {
          ha_failover_transfer_done(fo, true, false, "aborted: did not catch up", a.via);
        }
        break;
      }
      case HA_ACT_FENCE:
        s_log(f, "F %s@%s;", a.node, a.via);
        if (f->fence_ok) {
          f->v[s_ix(a.node)].reachable = false;
          s_set_leader(f, f->elected_after_fence);
        }
        ha_failover_fence_done(fo, f->fence_ok, f->fence_ok ? "fenced" : "every method failed");
        break;
      case HA_ACT_WAIT_LEADER:
        s_log(f, "W %s;", a.via, "");
        ha_failover_leader_done(fo, f->leader < 0 ? "" : f->v[s_ix(a.via)].leader);
        break;
      default: return;
    }
  }
  fail_msg("the controller did not finish");
}

static void test_refused_to_itself(void **state) {
  fake_t f;
  s_fake(&f);
  ha_failover_t fo;
  ha_failover_init(&fo, "n1", "n1", false, false);
  s_run(&f, &fo);
  assert_false(fo.ok);
  assert_string_equal(fo.message, "Can't failover a service to itself");
  assert_string_equal(f.log, "");
}

static void test_refused_to_unreachable_active_unhealthy(void **state) {
  fake_t f;
  ha_failover_t fo;
  s_fake(&f);
  f.v[1].reachable = false;
  ha_failover_init(&fo, "n1", "n2", false, false);
  s_run(&f, &fo);
  assert_string_equal(fo.message, "Unable to get service state for n2");
  s_fake(&f);
  ha_failover_init(&fo, "n2", "n1", false, false);
  s_run(&f, &fo);
  assert_string_equal(fo.message, "Can't failover to an active service");
  s_fake(&f);
  f.v[1].healthy = false;
  snprintf(f.v[1].health_reason, sizeof f.v[1].health_reason, "disk: 1 MB free");
  ha_failover_init(&fo, "n1", "n2", false, true); /* even with --forceactive */
  s_run(&f, &fo);
  assert_false(fo.ok);
  assert_string_equal(fo.message, "Can't failover to an unhealthy service: disk: 1 MB free");
  assert_string_equal(f.log, "Q n2;");
}

static void test_not_ready_unless_forced(void **state) {
  fake_t f;
  ha_failover_t fo;
  s_fake(&f);
  f.v[0].commit = 50000;
  ha_failover_init(&fo, "n1", "n2", false, false);
  s_run(&f, &fo);
  assert_false(fo.ok);
  assert_string_equal(fo.message, "n2 is not ready to become active: its log ends at index 100, "
                                  "49900 entries behind commit 50000");
  assert_string_equal(f.log, "Q n2;Q n1;");
  s_fake(&f);
  f.v[0].commit = 50000;
  ha_failover_init(&fo, "n1", "n2", false, true);
  s_run(&f, &fo);
  assert_true(fo.ok);
  assert_string_equal(fo.warning, "Service is not ready to become active, but forcing: its log "
                                  "ends at index 100, 49900 entries behind commit 50000");
  /* a learner cannot lead: refused even when forced */
  s_fake(&f);
  f.v[1].voter = false;
  ha_failover_init(&fo, "n1", "n2", false, true);
  s_run(&f, &fo);
  assert_string_equal(fo.message, "n2 is not ready to become active: it is not a voter of the Raft "
                                  "configuration");
}

static void test_graceful(void **state) {
  fake_t f;
  ha_failover_t fo;
  s_fake(&f);
  ha_failover_init(&fo, "n1", "n2", false, false);
  s_run(&f, &fo);
  assert_true(fo.ok);
  assert_string_equal(fo.message, "Failover from n1 to n2 successful");
  assert_string_equal(f.log, "Q n2;Q n1;T n1>n2;A n2;");
  assert_int_equal(f.leader, 1);
}

static void test_from_standby_leader_hands_over(void **state) {
  fake_t f;
  ha_failover_t fo;
  s_fake(&f);
  s_set_leader(&f, 2); /* n3 leads; n1 is a standby already */
  ha_failover_init(&fo, "n1", "n2", false, false);
  s_run(&f, &fo);
  assert_true(fo.ok);
  assert_string_equal(f.log, "Q n2;Q n1;T n3>n2;A n2;");
}

static void test_from_unreachable_fenced_then_active(void **state) {
  fake_t f;
  ha_failover_t fo;
  s_fake(&f);
  f.v[0].reachable = false;
  f.elected_after_fence = 2; /* n3 wins the election: it hands over to n2 */
  ha_failover_init(&fo, "n1", "n2", false, false);
  s_run(&f, &fo);
  assert_true(fo.ok);
  assert_true(fo.fenced);
  assert_string_equal(f.log, "Q n2;Q n1;F n1@n2;W n2;T n3>n2;A n2;");
}

static void test_fence_failure_leaves_to_standby(void **state) {
  fake_t f;
  ha_failover_t fo;
  s_fake(&f);
  f.v[0].reachable = false;
  f.fence_ok = false;
  ha_failover_init(&fo, "n1", "n2", false, false);
  s_run(&f, &fo);
  assert_false(fo.ok);
  assert_string_equal(fo.message, "Unable to fence n1. Fencing failed. every method failed");
  assert_string_equal(f.log, "Q n2;Q n1;F n1@n2;");
  assert_string_equal(f.v[1].state, "standby");
}

static void test_forcefence_fences_before_any_transfer(void **state) {
  fake_t f;
  ha_failover_t fo;
  s_fake(&f);
  f.fence_ok = false;
  ha_failover_init(&fo, "n1", "n2", true, false);
  s_run(&f, &fo);
  assert_false(fo.ok);
  assert_string_equal(f.log, "Q n2;Q n1;F n1@n2;");
  assert_int_equal(f.leader, 0); /* n2 did not become active */
  s_fake(&f);
  ha_failover_init(&fo, "n1", "n2", true, false);
  s_run(&f, &fo);
  assert_true(fo.ok);
  assert_string_equal(f.log, "Q n2;Q n1;F n1@n2;W n2;A n2;");
}

static void test_no_handover_in_time_fences(void **state) {
  fake_t f;
  ha_failover_t fo;
  s_fake(&f);
  f.xfer = XFER_TIMEOUT;
  ha_failover_init(&fo, "n1", "n2", false, false);
  s_run(&f, &fo);
  assert_true(fo.ok);
  assert_string_equal(f.log, "Q n2;Q n1;T n1>n2;F n1@n2;W n2;A n2;");
  s_fake(&f);
  f.xfer = XFER_NO_ANSWER;
  f.fence_ok = false;
  ha_failover_init(&fo, "n1", "n2", false, false);
  s_run(&f, &fo);
  assert_false(fo.ok);
  assert_string_equal(fo.message, "Unable to fence n1. Fencing failed. every method failed");
}

static void test_no_leader_after_fence(void **state) {
  fake_t f;
  ha_failover_t fo;
  s_fake(&f);
  f.v[0].reachable = false;
  f.elected_after_fence = -1;
  ha_failover_init(&fo, "n1", "n2", false, false);
  s_run(&f, &fo);
  assert_false(fo.ok);
  assert_string_equal(fo.message, "Unable to failover to n2 (no leader was elected after fencing)");
}

static void test_fail_back(void **state) {
  fake_t f;
  ha_failover_t fo;
  s_fake(&f);
  f.xfer = XFER_OTHER_WINS;
  f.failback = XFER_OK;
  ha_failover_init(&fo, "n1", "n2", false, false);
  s_run(&f, &fo);
  assert_false(fo.ok);
  assert_string_equal(fo.message, "Unable to failover to n2 (n3 leads instead)");
  assert_string_equal(f.log, "Q n2;Q n1;T n1>n2;T n3>n1;");
  assert_int_equal(f.leader, 0); /* back on n1 */
  s_fake(&f);
  f.xfer = XFER_OTHER_WINS;
  f.failback = XFER_ABORTED;
  ha_failover_init(&fo, "n1", "n2", false, false);
  s_run(&f, &fo);
  assert_string_equal(fo.message, "Unable to failover to n2 (n3 leads instead). Failback to n1 "
                                  "failed (aborted: did not catch up)");
}

static void test_aborted_transfer_leaves_from_active(void **state) {
  fake_t f;
  ha_failover_t fo;
  s_fake(&f);
  f.xfer = XFER_ABORTED;
  ha_failover_init(&fo, "n1", "n2", false, false);
  s_run(&f, &fo);
  assert_false(fo.ok);
  assert_string_equal(fo.message, "Unable to failover to n2 (aborted: did not catch up)");
  assert_string_equal(f.log, "Q n2;Q n1;T n1>n2;");
  assert_int_equal(f.leader, 0);
}

static void test_pick_successor(void **state) {
  const char *ids[] = {"n1", "n2", "n3"};
  ha_view_t v[3] = {{.reachable = true, .healthy = true, .voter = true, .last_index = 900},
                    {.reachable = true, .healthy = true, .voter = true, .last_index = 90},
                    {.reachable = true, .healthy = true, .voter = true, .last_index = 95}};
  assert_string_equal(ha_pick_successor(ids, v, 3, "n1"), "n3");
  v[2].healthy = false;
  assert_string_equal(ha_pick_successor(ids, v, 3, "n1"), "n2");
  v[1].voter = false;
  assert_null(ha_pick_successor(ids, v, 3, "n1"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_refused_to_itself),
      cmocka_unit_test(test_refused_to_unreachable_active_unhealthy),
      cmocka_unit_test(test_not_ready_unless_forced),
      cmocka_unit_test(test_graceful),
      cmocka_unit_test(test_from_standby_leader_hands_over),
      cmocka_unit_test(test_from_unreachable_fenced_then_active),
      cmocka_unit_test(test_fence_failure_leaves_to_standby),
      cmocka_unit_test(test_forcefence_fences_before_any_transfer),
      cmocka_unit_test(test_no_handover_in_time_fences),
      cmocka_unit_test(test_no_leader_after_fence),
      cmocka_unit_test(test_fail_back),
      cmocka_unit_test(test_aborted_transfer_leaves_from_active),
      cmocka_unit_test(test_pick_successor),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
