/* kv_digest: `fs -digest` served in slices over one consistent view, so that hashing a large
 * namespace never holds the actor's loop: one call hashed every pair on the loop, and at 250,000
 * files that outlasted the supervisor's heartbeat timeout (kv-store killed as hung; repeated
 * digests stopped all three nodes).
 *
 * A digest takes a RocksDB snapshot (kv_rocks_view) when it is asked for and answers with the
 * applied index of that view, so the answer is exactly the namespace at that index, whatever is
 * applied meanwhile. The pairs are hashed KV_DIGEST_SLICE at a time, one slice per job per timer
 * tick (1 ms); between slices the loop serves everything else. At most KV_DIGEST_JOBS run at
 * once; more are answered with a retriable busy error. A store reopened or replaced (snapshot
 * install, failed write) ends the jobs with a retriable error (kv_digest_close). I/O shell over
 * kv_digest_pair (kv_core.h), which kv_core_digest uses too: the two cannot disagree. */
#include <string.h>

#include "kv_actor_int.h"
#include "kv_chlog.h"

#define KV_DIGEST_SLICE 20000 /* pairs hashed per slice: a few ms */

typedef struct {
  kv_digest_job_t *job;
  size_t n;
  bool stopped;
} s_slice_t;

static int s_pair(void *arg, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl) {
  s_slice_t *sl = arg;
  kv_digest_job_t *j = sl->job;
  /* the scan starts at the cursor itself (the last key hashed by the previous slice) */
  if (sl->n == 0 && j->cursor.len && kl == j->cursor.len && memcmp(k, j->cursor.data, kl) == 0)
    return 0;
  j->h = kv_digest_pair(j->h, KV_DIGEST_NAMESPACE, k, kl, v, vl);
  j->pairs++;
  if (++sl->n >= KV_DIGEST_SLICE) {
    j->cursor.len = 0;
    kv_buf_put(&j->cursor, k, kl);
    sl->stopped = true;
    return KV_SCAN_STOP;
  }
  return 0;
}

static void s_finish(kv_actor_t *s, kv_digest_job_t *j, int code, const char *msg, bool retry) {
  Rv__FsReply r = RV__FS_REPLY__INIT;
  r.code = (uint32_t)code;
  r.message = (char *)(code ? msg : "");
  r.retry = retry;
  r.digest = j->h;
  r.index = j->index;
  kv_reply(s, &j->peer, &j->env, RV__FS_OP__FS_DIGEST, &r);
  kv_rocks_view_destroy(&j->view);
  kv_buf_close(&j->cursor);
  memset(j, 0, sizeof *j);
}

static bool s_any(const kv_actor_t *s) {
  for (int i = 0; i < KV_DIGEST_JOBS; i++)
    if (s->digests[i].active) return true;
  return false;
}

static void s_on_tick(rv_actor_t *a, void *arg) {
  (void)a;
  kv_actor_t *s = arg;
  for (int i = 0; i < KV_DIGEST_JOBS; i++) {
    kv_digest_job_t *j = &s->digests[i];
    if (!j->active) continue;
    s_slice_t sl = {.job = j};
    rv_err_t err;
    int rc = kv_store_scan(kv_rocks_view_store(j->view), j->cursor.data, j->cursor.len, s_pair,
                           &sl, &err);
    if (rc == KV_SCAN_STOP) rc = RV_OK;
    if (rc) {
      rv_err_prefix(&err, "digest on %s", s->cfg->node_id);
      s_finish(s, j, rc, err.msg, false);
    } else if (!sl.stopped) {
      rv_debug("digest %016llx of %llu pairs at index %llu", (unsigned long long)j->h,
               (unsigned long long)j->pairs, (unsigned long long)j->index);
      s_finish(s, j, RV_OK, "", false);
    }
  }
  if (!s_any(s) && s->digest_timer > 0) {
    rv_actor_timer_cancel(s->a, s->digest_timer);
    s->digest_timer = 0;
  }
}

void kv_digest_start(kv_actor_t *s, const rv_listener_peer_t *peer, const rv_msg_t *env) {
  kv_digest_job_t *j = NULL;
  for (int i = 0; i < KV_DIGEST_JOBS && !j; i++)
    if (!s->digests[i].active) j = &s->digests[i];
  if (!j) {
    kv_reply_error(s, peer, env, RV_EBUSY, true,
                   "digest: %d digests are already running on %s; retry", KV_DIGEST_JOBS,
                   s->cfg->node_id);
    return;
  }
  rv_err_t err;
  kv_chlog_info_t info;
  memset(j, 0, sizeof *j);
  if (kv_rocks_view_new(s->rocks, &j->view, &err) ||
      kv_chlog_view_info(kv_rocks_view_store(j->view), &info, &err)) {
    kv_rocks_view_destroy(&j->view);
    kv_reply_error(s, peer, env, err.code ? err.code : RV_EIO, false, "digest on %s: %s",
                   s->cfg->node_id, err.msg);
    return;
  }
  j->active = true;
  j->index = info.applied;
  j->h = KV_FNV64_INIT;
  kv_buf_init(&j->cursor);
  j->peer = *peer;
  j->peer.batch = false; /* answered from the digest's own timer: sent at once, not batched */
  j->env = *env;
  j->env.body = NULL; /* the answer needs the envelope's addresses and ids, not the request */
  j->env.arena = NULL;
  if (s->digest_timer <= 0) s->digest_timer = rv_actor_timer_add(s->a, 1, 0, s_on_tick, s);
  if (s->digest_timer <= 0) {
    s_finish(s, j, RV_EINTERNAL, "digest: cannot add a timer", true);
    s->digest_timer = 0;
  }
}

void kv_digest_close(kv_actor_t *s, const char *why) {
  for (int i = 0; i < KV_DIGEST_JOBS; i++)
    if (s->digests[i].active) s_finish(s, &s->digests[i], RV_EUNAVAIL, why, true);
  if (s->digest_timer > 0) rv_actor_timer_cancel(s->a, s->digest_timer);
  s->digest_timer = 0;
}
