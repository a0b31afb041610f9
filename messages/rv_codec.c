/* rv_codec: envelope encode/decode and the message type registry (I/O-free, but links
 * protobuf-c). Every frame read from any socket of any process passes rv_msg_decode. */
#include "rv_codec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "envelope.pb-c.h"

static const rv_msgtype_t s_types[] = {
#define RV_MSGTYPE_ROW(name, num, desc) {num, &desc},
    RV_MSGTYPES(RV_MSGTYPE_ROW)
#undef RV_MSGTYPE_ROW
};
#define S_NTYPES (sizeof s_types / sizeof s_types[0])

const rv_msgtype_t *rv_msgtype_by_id(uint32_t id) {
  for (size_t i = 0; i < S_NTYPES; i++)
    if (s_types[i].id == id) return &s_types[i];
  return NULL;
}

/* Compares "HealthPing" with "health_ping" or "healthping": letters only, case-insensitive. */
static int s_name_matches(const char *proto_name, const char *given) {
  const char *a = proto_name, *b = given;
  while (*a || *b) {
    if (*b == '_' || *b == '-') {
      b++;
      continue;
    }
    if (!*a || !*b) return 0;
    char ca = *a >= 'A' && *a <= 'Z' ? (char)(*a + 32) : *a;
    char cb = *b >= 'A' && *b <= 'Z' ? (char)(*b + 32) : *b;
    if (ca != cb) return 0;
    a++, b++;
  }
  return 1;
}

const rv_msgtype_t *rv_msgtype_by_name(const char *name) {
  if (!name) return NULL;
  for (size_t i = 0; i < S_NTYPES; i++)
    if (s_name_matches(s_types[i].desc->short_name, name)) return &s_types[i];
  return NULL;
}

const char *rv_msgtype_name(uint32_t id, char *buf, size_t len) {
  const rv_msgtype_t *t = rv_msgtype_by_id(id);
  if (t) return t->desc->short_name;
  snprintf(buf, len, "type#%u", id);
  return buf;
}

uint64_t rv_wall_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

void rv_addr_set(rv_addr_t *a, const char *node, const char *actor) {
  snprintf(a->node, sizeof a->node, "%s", node ? node : "");
  snprintf(a->actor, sizeof a->actor, "%s", actor ? actor : "");
}

int rv_msg_encode(const rv_msg_t *m, uint8_t **out, size_t *len, rv_err_t *err) {
  *out = NULL;
  *len = 0;
  const rv_msgtype_t *t = rv_msgtype_by_id(m->type);
  if (!t) return rv_err_set(err, RV_EINVAL, "cannot encode unknown message type %u", m->type);
  if (!m->body || m->body->descriptor != t->desc)
    return rv_err_set(err, RV_EINVAL, "message type %s needs a %s body", t->desc->short_name,
                      t->desc->short_name);

  size_t body_len = protobuf_c_message_get_packed_size(m->body);
  if (body_len > RV_ENVELOPE_MAX)
    return rv_err_set(err, RV_ETOOBIG, "%s of %zu bytes exceeds the %u-byte frame limit",
                      t->desc->short_name, body_len, RV_ENVELOPE_MAX);
  uint8_t *body = malloc(body_len ? body_len : 1);
  if (!body) return rv_err_set(err, RV_ENOMEM, "out of memory encoding %s", t->desc->short_name);
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
  env.sent_at_us = m->sent_at_us ? m->sent_at_us : rv_wall_us();
  env.payload.data = body;
  env.payload.len = body_len;

  size_t n = rv__envelope__get_packed_size(&env);
  if (n > RV_ENVELOPE_MAX) {
    free(body);
    return rv_err_set(err, RV_ETOOBIG, "%s envelope of %zu bytes exceeds the %u-byte frame limit",
                      t->desc->short_name, n, RV_ENVELOPE_MAX);
  }
  uint8_t *buf = malloc(n ? n : 1);
  if (!buf) {
    free(body);
    return rv_err_set(err, RV_ENOMEM, "out of memory encoding %s", t->desc->short_name);
  }
  rv__envelope__pack(&env, buf);
  free(body);
  *out = buf;
  *len = n;
  return RV_OK;
}

/* Copies a decoded name, refusing ones that do not fit rather than silently truncating. */
static int s_copy_name(char *dst, size_t cap, const char *src, const char *what, rv_err_t *err) {
  size_t n = src ? strlen(src) : 0;
  if (n >= cap)
    return rv_err_set(err, RV_EDECODE, "envelope %s name of %zu bytes exceeds %zu", what, n,
                      cap - 1);
  memcpy(dst, src ? src : "", n + 1);
  return RV_OK;
}

int rv_msg_decode(const uint8_t *buf, size_t len, size_t max, rv_msg_t *out, rv_err_t *err) {
  memset(out, 0, sizeof *out);
  if (max == 0 || max > RV_ENVELOPE_MAX) max = RV_ENVELOPE_MAX;
  if (len == 0) return rv_err_set(err, RV_EDECODE, "empty frame");
  if (len > max)
    return rv_err_set(err, RV_ETOOBIG, "frame of %zu bytes exceeds the %zu-byte limit", len, max);

  Rv__Envelope *env = rv__envelope__unpack(NULL, len, buf);
  if (!env) return rv_err_set(err, RV_EDECODE, "frame of %zu bytes is not an envelope", len);
  int rc = RV_OK;
  if (env->version == 0 || env->version > RV_ENVELOPE_VERSION) {
    rc = rv_err_set(err, RV_EDECODE, "envelope version %u not supported (this build reads %d)",
                    env->version, RV_ENVELOPE_VERSION);
    goto done;
  }
  const rv_msgtype_t *t = rv_msgtype_by_id(env->type);
  if (!t) {
    rc = rv_err_set(err, RV_EDECODE, "unknown message type %u", env->type);
    goto done;
  }
  if ((rc = s_copy_name(out->from.node, sizeof out->from.node,
                        env->sender ? env->sender->node : NULL, "sender node", err)) ||
      (rc = s_copy_name(out->from.actor, sizeof out->from.actor,
                        env->sender ? env->sender->actor : NULL, "sender actor", err)) ||
      (rc = s_copy_name(out->to.node, sizeof out->to.node,
                        env->receiver ? env->receiver->node : NULL, "receiver node", err)) ||
      (rc = s_copy_name(out->to.actor, sizeof out->to.actor,
                        env->receiver ? env->receiver->actor : NULL, "receiver actor", err)))
    goto done;
  ProtobufCMessage *body =
      protobuf_c_message_unpack(t->desc, NULL, env->payload.len, env->payload.data);
  if (!body) {
    rc = rv_err_set(err, RV_EDECODE, "%s payload of %zu bytes does not decode",
                    t->desc->short_name, env->payload.len);
    goto done;
  }
  out->type = env->type;
  out->corr_id = env->correlation_id;
  out->trace_id = env->trace_id;
  out->sent_at_us = env->sent_at_us;
  out->body = body;
done:
  rv__envelope__free_unpacked(env, NULL);
  if (rc) memset(out, 0, sizeof *out);
  return rc;
}

void rv_msg_clear(rv_msg_t *m) {
  if (!m) return;
  if (m->body) protobuf_c_message_free_unpacked(m->body, NULL);
  memset(m, 0, sizeof *m);
}
