/* Unit tests of raft_snap_flow: the sender never has more than a window of bytes unacknowledged
 * and never takes a chunk it did not ask for; the receiver takes chunks only in order. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "raft_snap_flow.h"

#define MB (1u << 20)

static void test_sender_window(void **state) {
  (void)state;
  raft_snap_send_t s;
  raft_snap_send_init(&s, 7, 2 * MB, 0);
  /* two 1 MiB chunks fill the window */
  for (int i = 0; i < 2; i++) {
    assert_true(raft_snap_send_want(&s));
    raft_snap_send_fetching(&s);
    assert_false(raft_snap_send_want(&s)); /* one fetch at a time */
    assert_true(raft_snap_send_data(&s, (uint64_t)i * MB, MB, false, 1));
  }
  assert_false(raft_snap_send_want(&s)); /* window full */
  assert_true(raft_snap_send_ack(&s, MB, 2));
  assert_true(raft_snap_send_want(&s));
  raft_snap_send_fetching(&s);
  assert_true(raft_snap_send_data(&s, 2 * MB, 100, true, 3));
  assert_false(raft_snap_send_want(&s)); /* the last chunk went out */
  assert_false(raft_snap_send_all_acked(&s));
  assert_true(raft_snap_send_ack(&s, 2 * MB + 100, 4));
  assert_true(raft_snap_send_all_acked(&s));
}

static void test_sender_refuses_unasked_data(void **state) {
  (void)state;
  raft_snap_send_t s;
  raft_snap_send_init(&s, 1, MB, 0);
  assert_false(raft_snap_send_data(&s, 0, 10, false, 0)); /* not fetching */
  raft_snap_send_fetching(&s);
  assert_false(raft_snap_send_data(&s, 5, 10, false, 0)); /* wrong offset */
  assert_true(raft_snap_send_data(&s, 0, 10, false, 0));
  assert_false(raft_snap_send_data(&s, 10, 10, false, 0)); /* not asked again yet */
}

static void test_sender_refuses_impossible_acks(void **state) {
  (void)state;
  raft_snap_send_t s;
  raft_snap_send_init(&s, 1, MB, 0);
  raft_snap_send_fetching(&s);
  raft_snap_send_data(&s, 0, 100, false, 0);
  assert_false(raft_snap_send_ack(&s, 101, 0)); /* beyond what was sent */
  assert_true(raft_snap_send_ack(&s, 50, 0));
  assert_false(raft_snap_send_ack(&s, 40, 0)); /* going back */
  assert_true(raft_snap_send_ack(&s, 50, 0));  /* a repeat is harmless */
}

static void test_sender_stall(void **state) {
  (void)state;
  raft_snap_send_t s;
  raft_snap_send_init(&s, 1, MB, 1000);
  assert_false(raft_snap_send_stalled(&s, 5000, 10000));
  raft_snap_send_fetching(&s);
  raft_snap_send_data(&s, 0, 10, false, 9000);
  assert_false(raft_snap_send_stalled(&s, 15000, 10000));
  assert_true(raft_snap_send_stalled(&s, 19000, 10000));
  raft_snap_send_ack(&s, 10, 19500); /* progress resets the clock */
  assert_false(raft_snap_send_stalled(&s, 20000, 10000));
}

static void test_receiver_in_order(void **state) {
  (void)state;
  raft_snap_recv_t r;
  raft_snap_recv_init(&r);
  assert_int_equal(raft_snap_recv_chunk(&r, 3, 0, 10, false, 0), RAFT_SNAP_TAKE);
  assert_int_equal(raft_snap_recv_chunk(&r, 3, 10, 5, false, 0), RAFT_SNAP_TAKE);
  assert_int_equal(raft_snap_recv_chunk(&r, 3, 15, 1, true, 0), RAFT_SNAP_TAKE);
  assert_true(r.complete);
  assert_int_equal(r.next, 16);
}

static void test_receiver_gap_resets(void **state) {
  (void)state;
  raft_snap_recv_t r;
  raft_snap_recv_init(&r);
  raft_snap_recv_chunk(&r, 3, 0, 10, false, 0);
  assert_int_equal(raft_snap_recv_chunk(&r, 3, 20, 10, false, 0), RAFT_SNAP_GAP);
  assert_false(r.active);
  /* the stream is gone: its next chunk is unknown until a new offset 0 */
  assert_int_equal(raft_snap_recv_chunk(&r, 3, 10, 10, false, 0), RAFT_SNAP_UNKNOWN);
  assert_int_equal(raft_snap_recv_chunk(&r, 4, 0, 10, false, 0), RAFT_SNAP_TAKE);
}

static void test_receiver_duplicate_is_a_gap(void **state) {
  (void)state;
  raft_snap_recv_t r;
  raft_snap_recv_init(&r);
  raft_snap_recv_chunk(&r, 3, 0, 10, false, 0);
  raft_snap_recv_chunk(&r, 3, 10, 10, false, 0);
  assert_int_equal(raft_snap_recv_chunk(&r, 3, 10, 10, false, 0), RAFT_SNAP_GAP);
}

static void test_receiver_other_stream_and_restart(void **state) {
  (void)state;
  raft_snap_recv_t r;
  raft_snap_recv_init(&r);
  raft_snap_recv_chunk(&r, 3, 0, 10, false, 0);
  assert_int_equal(raft_snap_recv_chunk(&r, 9, 10, 10, false, 0), RAFT_SNAP_UNKNOWN);
  assert_true(r.active); /* a stray chunk of another stream does not break this one */
  assert_int_equal(raft_snap_recv_chunk(&r, 9, 0, 10, false, 0), RAFT_SNAP_TAKE);
  assert_int_equal(r.id, 9);
  /* after the last chunk, nothing more is taken but a new stream */
  raft_snap_recv_chunk(&r, 9, 10, 1, true, 0);
  assert_int_equal(raft_snap_recv_chunk(&r, 9, 11, 1, false, 0), RAFT_SNAP_GAP);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_sender_window),
      cmocka_unit_test(test_sender_refuses_unasked_data),
      cmocka_unit_test(test_sender_refuses_impossible_acks),
      cmocka_unit_test(test_sender_stall),
      cmocka_unit_test(test_receiver_in_order),
      cmocka_unit_test(test_receiver_gap_resets),
      cmocka_unit_test(test_receiver_duplicate_is_a_gap),
      cmocka_unit_test(test_receiver_other_stream_and_restart),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
