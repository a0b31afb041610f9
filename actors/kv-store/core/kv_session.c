/* kv_session: the replicated client-session table that makes retried commands apply once
 * (Raft dissertation §6.3), and its deterministic expiry. Pure.
 *
 * 'S' client -> last seq, last time, recorded result; 'T' bucket client -> "" orders sessions by
 * last use, at the granularity of a time bucket (session_ttl_ms / 16), so the oldest are found
 * by a scan from 'T' while an active client rewrites its 'T' key only when it enters a new
 * bucket, not on every command (two fewer keys per write). A bucket expires whole once its end
 * is session_ttl_ms in the past: a session lives between ttl and ttl * 17/16 after its last
 * use. Expiry depends only on replicated state (the clock is the largest command time seen), so
 * every replica drops the same sessions at the same index. The core's lru_floor (a lower bound
 * of the oldest bucket) only lets commands skip the scan when it could not find anything; it
 * never changes an outcome. */
#include <string.h>

#include "kv_core_int.h"

#define S_SESSION_VERSION 2 /* with the principal; 1 = without (read, never written) */

static int s_decode(const uint8_t *v, size_t len, kv_session_t *s) {
  kv_reader_t r;
  kv_reader_init(&r, v, len);
  uint8_t version = kv_reader_u8(&r);
  if (version != 1 && version != S_SESSION_VERSION) return RV_ECORRUPT;
  s->last_seq = kv_reader_u64(&r);
  s->last_time = kv_reader_i64(&r);
  kv_result_t *res = &s->result;
  memset(res, 0, sizeof *res);
  res->index = kv_reader_u64(&r);
  res->op = kv_reader_u8(&r);
  res->skipped = kv_reader_u8(&r) != 0;
  res->code = (int)kv_reader_u32(&r);
  res->inode = kv_reader_u64(&r);
  res->n = kv_reader_u64(&r);
  kv_bytes_t msg, who = {NULL, 0};
  kv_reader_str16(&r, &msg);
  if (version == S_SESSION_VERSION) kv_reader_str8(&r, &who);
  if (!kv_reader_done(&r) || msg.len >= sizeof res->msg || memchr(msg.p, 0, msg.len) ||
      who.len > KV_OWNER_MAX || (who.len && memchr(who.p, 0, who.len)))
    return RV_ECORRUPT;
  memcpy(res->msg, msg.p, msg.len);
  res->msg[msg.len] = '\0';
  if (who.len) memcpy(s->principal, who.p, who.len);
  s->principal[who.len] = '\0';
  return RV_OK;
}

static void s_encode(kv_buf_t *b, const char *principal, uint64_t seq, int64_t time,
                     const kv_result_t *res) {
  kv_buf_put_u8(b, S_SESSION_VERSION);
  kv_buf_put_u64(b, seq);
  kv_buf_put_i64(b, time);
  kv_buf_put_u64(b, res->index);
  kv_buf_put_u8(b, res->op);
  kv_buf_put_u8(b, 0);
  kv_buf_put_u32(b, (uint32_t)res->code);
  kv_buf_put_u64(b, res->inode);
  kv_buf_put_u64(b, res->n);
  kv_buf_put_str16(b, res->msg, strnlen(res->msg, sizeof res->msg - 1));
  kv_buf_put_str8(b, principal, strlen(principal));
}

/* ---- one principal's sessions ('U' and 'N') ------------------------------------------------ */

static int s_count_get(kv_core_t *c, const char *principal, uint64_t *n, rv_err_t *err) {
  uint8_t key[KV_KEY_MAX];
  size_t kl = kv_key_principal_count(key, principal);
  int rc = kv_core_get(c, key, kl, &c->val, err);
  *n = 0;
  if (rc == RV_ENOTFOUND) return RV_OK;
  if (rc) return rc;
  if (kv_u64_decode(c->val.data, c->val.len, n))
    return rv_err_set(err, RV_ECORRUPT, "kv store: session count of a principal is malformed");
  return RV_OK;
}

/* Adds d (+1 or -1) to principal's count; the key goes when it reaches 0. */
static int s_count_add(kv_core_t *c, const char *principal, int d, rv_err_t *err) {
  uint64_t n;
  int rc = s_count_get(c, principal, &n, err);
  if (rc) return rc;
  if (d < 0 && n == 0)
    return rv_err_set(err, RV_ECORRUPT, "kv store: session count of %s would go negative",
                      principal);
  n = d < 0 ? n - 1 : n + 1;
  uint8_t key[KV_KEY_MAX], v[8];
  size_t kl = kv_key_principal_count(key, principal);
  if (n == 0) return kv_core_del(c, key, kl, err);
  kv_be64_put(v, n);
  return kv_core_put(c, key, kl, v, sizeof v, err);
}

int kv_session_principal_full(kv_core_t *c, const char *principal, bool *full, rv_err_t *err) {
  uint64_t n;
  int rc = s_count_get(c, principal, &n, err);
  *full = !rc && n >= c->cfg.session_max_per_principal;
  return rc;
}

/* Forgets the session of client, held by principal, whose LRU keys ('T' and 'U', always
 * written together) are at bucket: its keys and counts. */
static int s_drop(kv_core_t *c, uint64_t client, const char *principal, int64_t bucket,
                  rv_err_t *err) {
  uint8_t key[KV_KEY_MAX];
  int rc;
  if ((rc = kv_core_del(c, key, kv_key_session(key, client), err)) ||
      (rc = kv_core_del(c, key, kv_key_session_lru(key, bucket, client), err)))
    return rc;
  if (principal[0] &&
      ((rc = kv_core_del(c, key, kv_key_principal_lru(key, principal, bucket, client), err)) ||
       (rc = s_count_add(c, principal, -1, err))))
    return rc;
  if (c->pending.nsessions == 0)
    return rv_err_set(err, RV_ECORRUPT, "kv store: more session LRU keys than sessions");
  c->pending.nsessions--;
  return RV_OK;
}

typedef struct {
  kv_core_t *c;
  uint8_t prefix[2 + KV_OWNER_MAX];
  size_t plen;
  uint64_t keep;
  bool found;
  uint64_t client;
  int64_t time;
  rv_err_t *err;
} s_oldest_t;

static int s_oldest_one(void *arg, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl) {
  s_oldest_t *o = arg;
  if (kl != o->plen + 16 || memcmp(k, o->prefix, o->plen) != 0) return KV_SCAN_STOP;
  uint64_t client = kv_be64_get(k + o->plen + 8);
  if (client == o->keep) return 0;
  o->found = true;
  o->client = client;
  o->time = (int64_t)(kv_be64_get(k + o->plen) ^ (1ull << 63));
  return KV_SCAN_STOP;
}

int kv_session_evict_principal(kv_core_t *c, const char *principal, uint64_t keep,
                               rv_err_t *err) {
  s_oldest_t o = {.c = c, .keep = keep, .err = err};
  size_t n = strlen(principal);
  o.prefix[0] = KV_T_PRINCIPAL_LRU;
  o.prefix[1] = (uint8_t)n;
  memcpy(o.prefix + 2, principal, n);
  o.plen = 2 + n;
  int rc = kv_store_scan(c->store, o.prefix, o.plen, s_oldest_one, &o, err);
  if (rc || !o.found) return rc;
  kv_session_t s;
  if ((rc = kv_session_get(c, o.client, &s, err))) return rc;
  if (!s.found)
    return rv_err_set(err, RV_ECORRUPT, "kv store: %s's session LRU entry of client %016llx has "
                      "no session", principal, (unsigned long long)o.client);
  return s_drop(c, o.client, principal, o.time, err);
}

int64_t kv_session_bucket_width(const kv_core_t *c) {
  int64_t ttl = c->cfg.session_ttl_ms;
  return ttl <= 0 ? 60000 : ttl >= 16 ? ttl / 16 : 1;
}

int64_t kv_session_bucket(const kv_core_t *c, int64_t t) {
  int64_t w = kv_session_bucket_width(c);
  int64_t m = t % w;
  return t - (m < 0 ? m + w : m);
}

int kv_session_get(kv_core_t *c, uint64_t client, kv_session_t *s, rv_err_t *err) {
  memset(s, 0, sizeof *s);
  uint8_t key[KV_KEY_MAX];
  size_t kl = kv_key_session(key, client);
  int rc = kv_core_get(c, key, kl, &c->val, err);
  if (rc == RV_ENOTFOUND) return RV_OK;
  if (rc) return rc;
  if (s_decode(c->val.data, c->val.len, s))
    return rv_err_set(err, RV_ECORRUPT, "kv store: session of client %016llx is malformed",
                      (unsigned long long)client);
  s->found = true;
  return RV_OK;
}

int kv_session_put(kv_core_t *c, uint64_t client, const kv_session_t *old, const char *principal,
                   uint64_t seq, int64_t now, const kv_result_t *res, rv_err_t *err) {
  uint8_t key[KV_KEY_MAX];
  size_t kl;
  int rc;
  int64_t bucket = kv_session_bucket(c, now);
  const char *owner = old->found ? old->principal : principal;
  if (!old->found) {
    c->pending.nsessions++;
    if (owner[0] && (rc = s_count_add(c, owner, +1, err))) return rc;
  }
  if (!old->found || kv_session_bucket(c, old->last_time) != bucket) {
    if (old->found) {
      int64_t ob = kv_session_bucket(c, old->last_time);
      kl = kv_key_session_lru(key, ob, client);
      if ((rc = kv_core_del(c, key, kl, err))) return rc;
      if (owner[0] && (rc = kv_core_del(c, key, kv_key_principal_lru(key, owner, ob, client), err)))
        return rc;
    }
    kl = kv_key_session_lru(key, bucket, client);
    if ((rc = kv_core_put(c, key, kl, "", 0, err))) return rc;
    if (owner[0] &&
        (rc = kv_core_put(c, key, kv_key_principal_lru(key, owner, bucket, client), "", 0, err)))
      return rc;
  }
  kv_buf_reset(&c->enc);
  s_encode(&c->enc, owner, seq, now, res);
  if (!kv_buf_ok(&c->enc)) return rv_err_set(err, RV_ENOMEM, "kv core: out of memory");
  kl = kv_key_session(key, client);
  return kv_core_put(c, key, kl, c->enc.data, c->enc.len, err);
}

bool kv_session_evict_due(const kv_core_t *c, int64_t now, int adding) {
  if (c->pending.nsessions + (uint64_t)adding > c->cfg.session_max) return true;
  /* Some bucket may have expired: the oldest starts at lru_floor or later. */
  return c->cfg.session_ttl_ms > 0 && c->pending.nsessions > 0 &&
         c->lru_floor <= now - c->cfg.session_ttl_ms - kv_session_bucket_width(c);
}

typedef struct {
  kv_core_t *c;
  int64_t now;
  uint64_t excess; /* sessions over session_max still to drop */
  uint64_t keep;   /* the client of the command being applied: its use is now, not expired */
  int evicted;
  bool floor_set;
  int64_t floor; /* bucket of the oldest session kept */
  rv_err_t *err;
} s_evict_t;

static int s_evict_one(void *arg, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl) {
  s_evict_t *e = arg;
  kv_core_t *c = e->c;
  if (kl == 0 || k[0] != KV_T_SESSION_LRU) return KV_SCAN_STOP;
  if (kl != 17)
    return rv_err_set(e->err, RV_ECORRUPT, "kv store: session LRU key of %zu bytes", kl);
  if (kv_batch_lookup(c->batch, k, kl, NULL, NULL) == KV_BATCH_DEL) return 0;
  int64_t time = (int64_t)(kv_be64_get(k + 1) ^ (1ull << 63));
  uint64_t client = kv_be64_get(k + 9);
  /* The floor must stay a lower bound of every session kept, so it is the time of the first
   * entry not dropped, whether kept as the current client or as not due. */
  if (client == e->keep && client != 0) {
    if (!e->floor_set) e->floor = time;
    e->floor_set = true;
    return 0;
  }
  /* Every session in the bucket [time, time + width) was last used before now - ttl. */
  bool expired = c->cfg.session_ttl_ms > 0 &&
                 time <= e->now - c->cfg.session_ttl_ms - kv_session_bucket_width(c);
  if ((!expired && e->excess == 0) || e->evicted == KV_EVICT_PER_CMD) {
    if (!e->floor_set) e->floor = time;
    e->floor_set = true;
    return KV_SCAN_STOP;
  }
  kv_session_t s;
  int rc = kv_session_get(c, client, &s, e->err);
  if (rc) return rc;
  if (!s.found)
    return rv_err_set(e->err, RV_ECORRUPT, "kv store: session LRU entry of client %016llx has no "
                      "session", (unsigned long long)client);
  if ((rc = s_drop(c, client, s.principal, time, e->err))) return rc;
  if (e->excess) e->excess--;
  e->evicted++;
  return 0;
}

int kv_session_evict(kv_core_t *c, int64_t now, uint64_t keep, int adding, rv_err_t *err) {
  uint64_t total = c->pending.nsessions + (uint64_t)adding;
  s_evict_t e = {.c = c,
                 .now = now,
                 .keep = keep,
                 .excess = total > c->cfg.session_max ? total - c->cfg.session_max : 0,
                 .err = err};
  uint8_t from = KV_T_SESSION_LRU;
  int rc = kv_store_scan(c->store, &from, 1, s_evict_one, &e, err);
  if (rc) return rc;
  c->lru_floor = e.floor_set ? e.floor : now;
  return RV_OK;
}
