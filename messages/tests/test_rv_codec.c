/* Unit tests of the envelope codec: round trip, truncation, oversize, garbage, unknown types. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "envelope.pb-c.h"
#include "raft.pb-c.h"
#include "rv_codec.h"
#include "rv_msgprint.h"

static void s_encode_ping(uint64_t seq, uint8_t **buf, size_t *len) {
  Rv__HealthPing ping = RV__HEALTH_PING__INIT;
  ping.seq = seq;
  rv_msg_t m = {.type = RV_MSG_HEALTH_PING, .corr_id = 7, .trace_id = 99, .body = &ping.base};
  rv_addr_set(&m.from, "n1", "health-monitor");
  rv_addr_set(&m.to, "n1", "kv-store");
  rv_err_t err;
  assert_int_equal(rv_msg_encode(&m, buf, len, &err), RV_OK);
}

static void test_round_trip(void **state) {
  uint8_t *buf;
  size_t len;
  s_encode_ping(42, &buf, &len);
  rv_msg_t m;
  rv_err_t err;
  assert_int_equal(rv_msg_decode(buf, len, 0, &m, &err), RV_OK);
  assert_int_equal(m.type, RV_MSG_HEALTH_PING);
  assert_string_equal(m.from.node, "n1");
  assert_string_equal(m.from.actor, "health-monitor");
  assert_string_equal(m.to.actor, "kv-store");
  assert_int_equal(m.corr_id, 7);
  assert_int_equal(m.trace_id, 99);
  assert_true(m.sent_at_us > 1600000000000000ull);
  assert_int_equal(((Rv__HealthPing *)m.body)->seq, 42);
  rv_msg_clear(&m);
  rv_msg_clear(&m); /* safe twice */
  assert_null(m.body);
  free(buf);
}

static void test_round_trip_nested(void **state) {
  Rv__ActorHealth a = RV__ACTOR_HEALTH__INIT, b = RV__ACTOR_HEALTH__INIT;
  a.actor = "kv-store";
  a.verdict = RV__HEALTH_VERDICT__HEALTH_HEALTHY;
  a.rtt_us = 55;
  b.actor = "raft-peer";
  b.verdict = RV__HEALTH_VERDICT__HEALTH_NOT_RESPONDING;
  b.reason = "no answer in 1500 ms";
  Rv__ActorHealth *list[] = {&a, &b};
  Rv__HealthReport rep = RV__HEALTH_REPORT__INIT;
  rep.node_verdict = RV__HEALTH_VERDICT__HEALTH_UNHEALTHY;
  rep.n_actors = 2;
  rep.actors = list;
  rv_msg_t m = {.type = RV_MSG_HEALTH_REPORT, .body = &rep.base};
  uint8_t *buf;
  size_t len;
  rv_err_t err;
  assert_int_equal(rv_msg_encode(&m, &buf, &len, &err), RV_OK);
  rv_msg_t d;
  assert_int_equal(rv_msg_decode(buf, len, 0, &d, &err), RV_OK);
  Rv__HealthReport *r = (Rv__HealthReport *)d.body;
  assert_int_equal(r->n_actors, 2);
  assert_string_equal(r->actors[1]->reason, "no answer in 1500 ms");
  assert_int_equal(r->actors[0]->rtt_us, 55);

  char *out = NULL;
  size_t outlen = 0;
  FILE *f = open_memstream(&out, &outlen);
  rv_msgprint_body_json(f, d.body);
  fclose(f);
  assert_non_null(strstr(out, "\"node_verdict\":\"HEALTH_UNHEALTHY\""));
  assert_non_null(strstr(out, "\"reason\":\"no answer in 1500 ms\""));
  assert_non_null(strstr(out, "\"rtt_us\":55"));
  free(out);
  rv_msg_clear(&d);
  free(buf);
}

/* ZeroMQ delivers frames whole, so a short frame is corruption, not a partial read. A protobuf
 * prefix that ends on a field boundary is itself a valid message, so the guarantee is: every
 * cut either fails with a message or decodes to a well-formed message, never a crash; and every
 * cut inside the payload (the last field, which holds the typed message) fails. */
static void test_every_truncation_fails_cleanly(void **state) {
  uint8_t *buf;
  size_t len;
  s_encode_ping(1234567, &buf, &len);
  size_t payload_len = 4; /* HealthPing{seq=1234567}: tag + 3-byte varint */
  for (size_t cut = 0; cut < len; cut++) {
    rv_msg_t m;
    rv_err_t err;
    int rc = rv_msg_decode(buf, cut, 0, &m, &err);
    if (cut > len - payload_len - 1) {
      assert_int_not_equal(rc, RV_OK);
    }
    if (rc == RV_OK) {
      assert_non_null(m.body);
      rv_msg_clear(&m);
    } else {
      assert_null(m.body);
      assert_true(strlen(err.msg) > 0);
    }
  }
  free(buf);
}

static void test_empty_frame(void **state) {
  rv_msg_t m;
  rv_err_t err;
  assert_int_equal(rv_msg_decode((const uint8_t *)"", 0, 0, &m, &err), RV_EDECODE);
  assert_string_equal(err.msg, "empty frame");
}

static void test_oversized(void **state) {
  uint8_t *buf;
  size_t len;
  s_encode_ping(1, &buf, &len);
  rv_msg_t m;
  rv_err_t err;
  assert_int_equal(rv_msg_decode(buf, len, len - 1, &m, &err), RV_ETOOBIG);
  char want[128];
  snprintf(want, sizeof want, "frame of %zu bytes exceeds the %zu-byte limit", len, len - 1);
  assert_string_equal(err.msg, want);
  free(buf);

  /* encoding refuses a body beyond the frame limit */
  Rv__BadFrame bf = RV__BAD_FRAME__INIT;
  size_t big = RV_ENVELOPE_MAX + 10;
  char *s = malloc(big + 1);
  memset(s, 'x', big);
  s[big] = 0;
  bf.reason = s;
  rv_msg_t e = {.type = RV_MSG_BAD_FRAME, .body = &bf.base};
  uint8_t *out;
  size_t outlen;
  assert_int_equal(rv_msg_encode(&e, &out, &outlen, &err), RV_ETOOBIG);
  assert_null(out);
  free(s);
}

/* A well-formed envelope whose payload (a BadFrame with a reason of reason_len bytes) makes the
 * frame larger than RV_ENVELOPE_MAX: only the size limit can refuse it. Caller frees *buf. */
static void s_pack_big(size_t reason_len, uint8_t **buf, size_t *len) {
  Rv__BadFrame bf = RV__BAD_FRAME__INIT;
  char *reason = malloc(reason_len + 1);
  assert_non_null(reason);
  memset(reason, 'x', reason_len);
  reason[reason_len] = 0;
  bf.reason = reason;
  size_t plen = rv__bad_frame__get_packed_size(&bf);
  uint8_t *payload = malloc(plen);
  assert_non_null(payload);
  rv__bad_frame__pack(&bf, payload);
  Rv__Envelope env = RV__ENVELOPE__INIT;
  env.version = 1;
  env.type = RV_MSG_BAD_FRAME;
  env.payload.data = payload;
  env.payload.len = plen;
  *len = rv__envelope__get_packed_size(&env);
  *buf = malloc(*len);
  assert_non_null(*buf);
  rv__envelope__pack(&env, *buf);
  free(payload);
  free(reason);
}

/* max == 0 means the default limit, RV_ENVELOPE_MAX (8 MiB), not "unlimited"; a max above it is
 * capped to it. The frame here is otherwise valid: it decodes once the limit allows it. */
static void test_default_limit(void **state) {
  uint8_t *buf;
  size_t len;
  s_pack_big(RV_ENVELOPE_MAX, &buf, &len);
  assert_true(len > RV_ENVELOPE_MAX);
  rv_msg_t m;
  rv_err_t err;
  char want[128];
  snprintf(want, sizeof want, "frame of %zu bytes exceeds the %u-byte limit", len,
           (unsigned)RV_ENVELOPE_MAX);
  assert_int_equal(rv_msg_decode(buf, len, 0, &m, &err), RV_ETOOBIG);
  assert_string_equal(err.msg, want);
  assert_null(m.body);
  assert_int_equal(rv_msg_decode(buf, len, SIZE_MAX, &m, &err), RV_ETOOBIG);
  assert_string_equal(err.msg, want);
  assert_int_equal(rv_msg_decode(buf, len, RV_ENVELOPE_MAX + 1, &m, &err), RV_ETOOBIG);
  free(buf);

  /* the same frame a little smaller than the limit decodes with the default */
  s_pack_big(RV_ENVELOPE_MAX - 64, &buf, &len);
  assert_true(len <= RV_ENVELOPE_MAX);
  assert_int_equal(rv_msg_decode(buf, len, 0, &m, &err), RV_OK);
  assert_int_equal(m.type, RV_MSG_BAD_FRAME);
  assert_int_equal(strlen(((Rv__BadFrame *)m.body)->reason), RV_ENVELOPE_MAX - 64);
  rv_msg_clear(&m);
  free(buf);
}

static void test_garbage(void **state) {
  srand(1);
  uint8_t buf[512];
  int decoded = 0;
  for (int i = 0; i < 20000; i++) {
    size_t n = 1 + (size_t)rand() % sizeof buf;
    for (size_t k = 0; k < n; k++) buf[k] = (uint8_t)rand();
    rv_msg_t m;
    rv_err_t err;
    if (rv_msg_decode(buf, n, 0, &m, &err) == RV_OK) {
      decoded++;
      rv_msg_clear(&m);
    } else {
      assert_null(m.body);
    }
  }
  /* random bytes almost never make a valid, known-type envelope of version 1 */
  assert_true(decoded < 10);
}

static void test_unknown_type_and_version(void **state) {
  Rv__Envelope env = RV__ENVELOPE__INIT;
  env.version = 1;
  env.type = 9999;
  uint8_t buf[64];
  size_t n = rv__envelope__pack(&env, buf);
  rv_msg_t m;
  rv_err_t err;
  assert_int_equal(rv_msg_decode(buf, n, 0, &m, &err), RV_EDECODE);
  assert_string_equal(err.msg, "unknown message type 9999");

  env.type = RV_MSG_HEARTBEAT;
  env.version = 7;
  n = rv__envelope__pack(&env, buf);
  assert_int_equal(rv_msg_decode(buf, n, 0, &m, &err), RV_EDECODE);
  assert_string_equal(err.msg, "envelope version 7 not supported (this build reads 1)");
}

static void test_payload_of_wrong_shape(void **state) {
  /* a payload whose bytes are not a valid HealthPong: field 1 as a length-delimited string
   * whose length runs past the end */
  uint8_t bad[] = {0x0a, 0x50, 'x'};
  Rv__Envelope env = RV__ENVELOPE__INIT;
  env.version = 1;
  env.type = RV_MSG_HEALTH_PONG;
  env.payload.data = bad;
  env.payload.len = sizeof bad;
  uint8_t buf[64];
  size_t n = rv__envelope__pack(&env, buf);
  rv_msg_t m;
  rv_err_t err;
  assert_int_equal(rv_msg_decode(buf, n, 0, &m, &err), RV_EDECODE);
  assert_string_equal(err.msg, "HealthPong payload of 3 bytes does not decode");
}

static void test_long_names_refused(void **state) {
  char name[64];
  memset(name, 'a', 40);
  name[40] = 0;
  Rv__Address from = RV__ADDRESS__INIT;
  from.node = name;
  from.actor = "x";
  Rv__Envelope env = RV__ENVELOPE__INIT;
  env.version = 1;
  env.type = RV_MSG_HEARTBEAT;
  env.sender = &from;
  uint8_t buf[128];
  size_t n = rv__envelope__pack(&env, buf);
  rv_msg_t m;
  rv_err_t err;
  assert_int_equal(rv_msg_decode(buf, n, 0, &m, &err), RV_EDECODE);
  assert_string_equal(err.msg, "envelope sender node name of 40 bytes exceeds 32");
}

static void test_encode_type_mismatch(void **state) {
  Rv__Heartbeat hb = RV__HEARTBEAT__INIT;
  rv_msg_t m = {.type = RV_MSG_HEALTH_PING, .body = &hb.base};
  uint8_t *out;
  size_t len;
  rv_err_t err;
  assert_int_equal(rv_msg_encode(&m, &out, &len, &err), RV_EINVAL);
  assert_string_equal(err.msg, "message type HealthPing needs a HealthPing body");
  m.type = 4242;
  assert_int_equal(rv_msg_encode(&m, &out, &len, &err), RV_EINVAL);
}


/* The envelope as the codec wrote it before packing the body in place: body packed on its own,
 * then the envelope around a copy of it. The in-place encoding must give the very same bytes. */
static void s_encode_two_step(const rv_msg_t *m, uint8_t **out, size_t *len) {
  size_t bl = protobuf_c_message_get_packed_size(m->body);
  uint8_t *body = malloc(bl ? bl : 1);
  protobuf_c_message_pack(m->body, body);
  Rv__Address from = RV__ADDRESS__INIT, to = RV__ADDRESS__INIT;
  from.node = (char *)m->from.node;
  from.actor = (char *)m->from.actor;
  to.node = (char *)m->to.node;
  to.actor = (char *)m->to.actor;
  Rv__Envelope env = RV__ENVELOPE__INIT;
  env.version = RV_ENVELOPE_VERSION;
  env.sender = &from;
  env.receiver = &to;
  env.type = m->type;
  env.correlation_id = m->corr_id;
  env.trace_id = m->trace_id;
  env.sent_at_us = m->sent_at_us;
  env.payload.data = body;
  env.payload.len = bl;
  *len = rv__envelope__get_packed_size(&env);
  *out = malloc(*len);
  rv__envelope__pack(&env, *out);
  free(body);
}

/* An ApplyBatch of n entries of size bytes each (data points into a static buffer). */
static void s_apply_batch(Rv__ApplyBatch *b, Rv__RaftEntry *ents, Rv__RaftEntry **ptrs, size_t n,
                          size_t size) {
  static uint8_t data[4096];
  for (size_t i = 0; i < sizeof data; i++) data[i] = (uint8_t)(i * 7);
  rv__apply_batch__init(b);
  for (size_t i = 0; i < n; i++) {
    rv__raft_entry__init(&ents[i]);
    ents[i].term = 3;
    ents[i].index = 1000 + i;
    ents[i].data.data = data + i % 16;
    ents[i].data.len = size;
    ptrs[i] = &ents[i];
  }
  b->n_entries = n;
  b->entries = ptrs;
  b->ack = true;
}

static void test_encode_in_place_same_bytes(void **state) {
  static Rv__RaftEntry ents[300];
  static Rv__RaftEntry *ptrs[300];
  Rv__ApplyBatch b;
  Rv__HealthPing ping = RV__HEALTH_PING__INIT; /* seq 0: an empty body */
  const size_t sizes[][2] = {{0, 0}, {1, 0}, {1, 10}, {3, 40}, {300, 200}, {300, 4000}};
  for (size_t k = 0; k <= sizeof sizes / sizeof sizes[0]; k++) {
    rv_msg_t m = {.type = RV_MSG_APPLY_BATCH, .corr_id = k, .trace_id = 1ull << 40,
                  .sent_at_us = 1700000000000000ull + k, .body = &b.base};
    if (k == sizeof sizes / sizeof sizes[0]) {
      m.type = RV_MSG_HEALTH_PING;
      m.body = &ping.base;
    } else {
      s_apply_batch(&b, ents, ptrs, sizes[k][0], sizes[k][1]);
    }
    rv_addr_set(&m.from, "n1", "raft-peer");
    rv_addr_set(&m.to, "n1", "kv-store");
    uint8_t *one, *two;
    size_t l1, l2;
    rv_err_t err;
    assert_int_equal(rv_msg_encode(&m, &one, &l1, &err), RV_OK);
    s_encode_two_step(&m, &two, &l2);
    assert_int_equal(l1, l2);
    assert_memory_equal(one, two, l1);
    free(one);
    free(two);
  }
}

/* Decoding into a pooled arena gives what the heap decoder gives, for small and big messages
 * (one spanning several blocks), and every arena goes back to the thread's pool. */
static void test_pooled_decode(void **state) {
  static Rv__RaftEntry ents[300];
  static Rv__RaftEntry *ptrs[300];
  Rv__ApplyBatch b;
  const size_t sizes[][2] = {{1, 10}, {64, 150}, {300, 4000}, {64, 150}, {0, 0}};
  for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
    s_apply_batch(&b, ents, ptrs, sizes[k][0], sizes[k][1]);
    rv_msg_t m = {.type = RV_MSG_APPLY_BATCH, .body = &b.base};
    uint8_t *buf;
    size_t len;
    rv_err_t err;
    assert_int_equal(rv_msg_encode(&m, &buf, &len, &err), RV_OK);
    rv_msg_t h, p;
    assert_int_equal(rv_msg_decode(buf, len, 0, &h, &err), RV_OK);
    assert_int_equal(rv_msg_decode_pooled(buf, len, 0, &p, &err), RV_OK);
    assert_null(h.arena);
    assert_non_null(p.arena);
    const Rv__ApplyBatch *x = (const Rv__ApplyBatch *)h.body, *y = (const Rv__ApplyBatch *)p.body;
    assert_int_equal(x->n_entries, sizes[k][0]);
    assert_int_equal(y->n_entries, x->n_entries);
    assert_int_equal(y->ack, x->ack);
    for (size_t i = 0; i < x->n_entries; i++) {
      assert_int_equal(y->entries[i]->index, x->entries[i]->index);
      assert_int_equal(y->entries[i]->data.len, x->entries[i]->data.len);
      assert_memory_equal(y->entries[i]->data.data, x->entries[i]->data.data,
                          x->entries[i]->data.len);
      assert_int_equal((uintptr_t)y->entries[i] % 8, 0); /* aligned */
    }
    size_t before, bytes;
    rv_arena_pool_stats(&before, &bytes);
    rv_msg_clear(&h);
    rv_msg_clear(&p);
    assert_null(p.arena);
    assert_null(p.body);
    rv_msg_clear(&p); /* safe twice */
    size_t after;
    rv_arena_pool_stats(&after, &bytes);
    assert_int_equal(after, before + 1); /* back in the pool */
    free(buf);
  }
  /* two alive at once take two arenas; a failed decode gives its arena back */
  rv_msg_t m1, m2, bad;
  uint8_t *buf;
  size_t len, n0, n1, bytes;
  rv_err_t err;
  s_encode_ping(5, &buf, &len);
  rv_arena_pool_stats(&n0, &bytes);
  assert_int_equal(rv_msg_decode_pooled(buf, len, 0, &m1, &err), RV_OK);
  assert_int_equal(rv_msg_decode_pooled(buf, len, 0, &m2, &err), RV_OK);
  assert_ptr_not_equal(m1.arena, m2.arena);
  assert_int_not_equal(rv_msg_decode_pooled(buf, len - 1, 0, &bad, &err), RV_OK);
  assert_null(bad.arena);
  assert_null(bad.body);
  rv_arena_pool_stats(&n1, &bytes);
  assert_int_equal(((Rv__HealthPing *)m1.body)->seq, 5);
  assert_int_equal(((Rv__HealthPing *)m2.body)->seq, 5);
  rv_msg_clear(&m1);
  rv_msg_clear(&m2);
  size_t n2;
  rv_arena_pool_stats(&n2, &bytes);
  assert_int_equal(n2, n1 + 2); /* both back; the failed decode had given its own back */
  assert_true(n1 >= n0 - (n0 < 2 ? n0 : 2));
  free(buf);
}

/* Every truncation of a frame fails cleanly in the pooled decoder too, arena returned. */
static void test_pooled_truncations(void **state) {
  uint8_t *buf;
  size_t len;
  s_encode_ping(1234567, &buf, &len);
  for (size_t cut = 0; cut < len; cut++) {
    rv_msg_t m;
    rv_err_t err;
    if (rv_msg_decode_pooled(buf, cut, 0, &m, &err) == RV_OK) rv_msg_clear(&m);
    assert_null(m.body);
    assert_null(m.arena);
  }
  size_t n, bytes;
  rv_arena_pool_stats(&n, &bytes);
  assert_true(n >= 1 && n <= 8); /* pooled, and the pool is bounded */
  rv_arena_pool_free();
  rv_arena_pool_stats(&n, &bytes);
  assert_int_equal(n, 0);
  assert_int_equal(bytes, 0);
  free(buf);
}

static void test_type_names(void **state) {
  assert_int_equal(rv_msgtype_by_name("HealthPing")->id, RV_MSG_HEALTH_PING);
  assert_int_equal(rv_msgtype_by_name("health_ping")->id, RV_MSG_HEALTH_PING);
  assert_int_equal(rv_msgtype_by_name("heartbeat-ack")->id, RV_MSG_HEARTBEAT_ACK);
  assert_null(rv_msgtype_by_name("HealthPin"));
  assert_null(rv_msgtype_by_name("Heartbeat2"));
  char buf[16];
  assert_string_equal(rv_msgtype_name(77, buf, sizeof buf), "type#77");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_round_trip),
      cmocka_unit_test(test_round_trip_nested),
      cmocka_unit_test(test_every_truncation_fails_cleanly),
      cmocka_unit_test(test_empty_frame),
      cmocka_unit_test(test_oversized),
      cmocka_unit_test(test_default_limit),
      cmocka_unit_test(test_garbage),
      cmocka_unit_test(test_unknown_type_and_version),
      cmocka_unit_test(test_payload_of_wrong_shape),
      cmocka_unit_test(test_long_names_refused),
      cmocka_unit_test(test_encode_type_mismatch),
      cmocka_unit_test(test_type_names),
      cmocka_unit_test(test_encode_in_place_same_bytes),
      cmocka_unit_test(test_pooled_decode),
      cmocka_unit_test(test_pooled_truncations),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
