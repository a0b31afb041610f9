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

/* Bytes of v as a varint. */
static size_t s_varint_len(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    n++;
  }
  return n;
}

#define S_PAYLOAD_TAG ((8u << 3) | 2u) /* Envelope.payload: field 8, length-delimited */

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
  /* The envelope without its payload, then the payload field (the last by number, where
   * protobuf-c would put it) with the body packed straight into it: no second buffer, no copy.
   * An empty body has no payload field, as protobuf-c leaves out an empty proto3 bytes. */
  size_t head = rv__envelope__get_packed_size(&env);
  size_t n = head + (body_len ? 1 + s_varint_len(body_len) + body_len : 0);
  if (n > RV_ENVELOPE_MAX)
    return rv_err_set(err, RV_ETOOBIG, "%s envelope of %zu bytes exceeds the %u-byte frame limit",
                      t->desc->short_name, n, RV_ENVELOPE_MAX);
  uint8_t *buf = malloc(n ? n : 1);
  if (!buf) return rv_err_set(err, RV_ENOMEM, "out of memory encoding %s", t->desc->short_name);
  size_t w = rv__envelope__pack(&env, buf);
  if (body_len) {
    buf[w++] = S_PAYLOAD_TAG;
    for (uint64_t v = body_len; ; v >>= 7) {
      if (v < 0x80) {
        buf[w++] = (uint8_t)v;
        break;
      }
      buf[w++] = (uint8_t)(v | 0x80);
    }
    w += protobuf_c_message_pack(m->body, buf + w);
  }
  if (w != n) { /* cannot happen: the sizes above are protobuf-c's own */
    free(buf);
    return rv_err_set(err, RV_EINVAL, "%s: packed %zu bytes, expected %zu", t->desc->short_name,
                      w, n);
  }
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

static int s_decode(const uint8_t *buf, size_t len, size_t max, rv_msg_t *out, rv_err_t *err,
                    ProtobufCAllocator *alloc) {
  memset(out, 0, sizeof *out);
  if (max == 0 || max > RV_ENVELOPE_MAX) max = RV_ENVELOPE_MAX;
  if (len == 0) return rv_err_set(err, RV_EDECODE, "empty frame");
  if (len > max)
    return rv_err_set(err, RV_ETOOBIG, "frame of %zu bytes exceeds the %zu-byte limit", len, max);

  Rv__Envelope *env = rv__envelope__unpack(alloc, len, buf);
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
      protobuf_c_message_unpack(t->desc, alloc, env->payload.len, env->payload.data);
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
  rv__envelope__free_unpacked(env, alloc);
  if (rc) memset(out, 0, sizeof *out);
  return rc;
}

/* ---- arenas: where rv_msg_decode_pooled puts a message ------------------------------------ */

/* An arena is one block (header and bytes together), bump-allocated; a message that needs more
 * than the block holds gets further blocks, chained. Given back, an arena keeps only its first
 * block, grown to the largest size recently needed (up to S_ARENA_KEEP_MAX), so a steady stream
 * of messages of similar sizes settles into no allocation at all. */
#define S_ARENA_FIRST 16384u            /* bytes of a new arena's first block */
#define S_ARENA_KEEP_MAX (4u << 20)     /* a pooled arena's block never stays larger */
#define S_ARENA_POOL 8                  /* arenas a thread keeps for reuse */
#define S_ALIGN 16u

typedef struct s_block {
  struct s_block *next;
  size_t cap, used;
  _Alignas(16) uint8_t data[];
} s_block_t;

struct rv_arena {
  s_block_t *head;  /* the block being filled (the first, unless more were needed) */
  s_block_t *first; /* the block kept when the arena goes back to the pool */
  size_t need;      /* bytes this message asked for in all */
  rv_arena_t *next; /* in the pool */
};

static _Thread_local rv_arena_t *s_pool;
static _Thread_local size_t s_pool_n;

static s_block_t *s_block_new(size_t cap) {
  s_block_t *b = malloc(sizeof *b + cap);
  if (!b) return NULL;
  b->next = NULL;
  b->cap = cap;
  b->used = 0;
  return b;
}

static void *s_arena_alloc(void *data, size_t size) {
  rv_arena_t *a = data;
  size = (size + S_ALIGN - 1) & ~(size_t)(S_ALIGN - 1);
  if (size == 0) size = S_ALIGN;
  a->need += size;
  s_block_t *b = a->head;
  if (b->cap - b->used < size) {
    size_t cap = b->cap * 2 > size ? b->cap * 2 : size;
    s_block_t *nb = s_block_new(cap);
    if (!nb) return NULL; /* protobuf-c fails the unpack cleanly */
    nb->next = b;
    a->head = b = nb;
  }
  void *p = b->data + b->used;
  b->used += size;
  return p;
}

static void s_arena_free(void *data, void *p) {
  (void)data;
  (void)p; /* everything goes when the arena does */
}

static rv_arena_t *s_arena_take(void) {
  rv_arena_t *a = s_pool;
  if (a) {
    s_pool = a->next;
    s_pool_n--;
    a->next = NULL;
    return a;
  }
  a = calloc(1, sizeof *a);
  if (!a) return NULL;
  if (!(a->first = a->head = s_block_new(S_ARENA_FIRST))) {
    free(a);
    return NULL;
  }
  return a;
}

static void s_arena_give(rv_arena_t *a) {
  /* free the extra blocks; the first grows to what this message needed, within the cap */
  for (s_block_t *b = a->head, *nb; b != a->first; b = nb) {
    nb = b->next;
    free(b);
  }
  a->head = a->first;
  if (a->need > a->first->cap && a->need <= S_ARENA_KEEP_MAX) {
    s_block_t *nb = s_block_new(a->need);
    if (nb) {
      free(a->first);
      a->head = a->first = nb;
    }
  }
  a->first->used = 0;
  a->need = 0;
  if (s_pool_n >= S_ARENA_POOL) {
    free(a->first);
    free(a);
    return;
  }
  a->next = s_pool;
  s_pool = a;
  s_pool_n++;
}

void rv_arena_pool_stats(size_t *arenas, size_t *bytes) {
  size_t n = 0, b = 0;
  for (rv_arena_t *a = s_pool; a; a = a->next) {
    n++;
    b += a->first->cap;
  }
  *arenas = n;
  *bytes = b;
}

void rv_arena_pool_free(void) {
  while (s_pool) {
    rv_arena_t *a = s_pool;
    s_pool = a->next;
    free(a->first);
    free(a);
  }
  s_pool_n = 0;
}

int rv_msg_decode(const uint8_t *buf, size_t len, size_t max, rv_msg_t *out, rv_err_t *err) {
  return s_decode(buf, len, max, out, err, NULL);
}

int rv_msg_decode_pooled(const uint8_t *buf, size_t len, size_t max, rv_msg_t *out,
                         rv_err_t *err) {
  rv_arena_t *a = s_arena_take();
  if (!a) return rv_msg_decode(buf, len, max, out, err);
  ProtobufCAllocator alloc = {.alloc = s_arena_alloc, .free = s_arena_free, .allocator_data = a};
  int rc = s_decode(buf, len, max, out, err, &alloc);
  if (rc) {
    s_arena_give(a);
    return rc;
  }
  out->arena = a;
  return RV_OK;
}

void rv_msg_clear(rv_msg_t *m) {
  if (!m) return;
  if (m->arena) s_arena_give(m->arena); /* the body with it */
  else if (m->body) protobuf_c_message_free_unpacked(m->body, NULL);
  memset(m, 0, sizeof *m);
}
