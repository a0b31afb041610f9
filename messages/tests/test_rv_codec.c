/* Unit tests of the envelope codec: round trip, truncation, oversize, garbage, unknown types. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "envelope.pb-c.h"
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
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
