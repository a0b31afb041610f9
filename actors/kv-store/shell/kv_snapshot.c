/* kv_snapshot: Raft snapshots in the kv-store actor (I/O shell).
 *
 * Out (this node's raft-peer is the leader and a follower needs a snapshot): each stream reads
 * one consistent RocksDB view (kv_rocks_reader) chunk by chunk, one chunk per SnapshotRequest,
 * so raft-peer's flow control towards the follower bounds what is read ahead. The applied index
 * the view reflects is kv_core_applied() at the instant the view is taken: applies run on this
 * same loop, one RocksDB write each, so the view holds exactly the entries up to it (and the
 * 'M' state key in the stream says the same).
 *
 * In (this node is a follower being restored): chunks are written, in order, into a fresh
 * database <data-dir>/kv.snap. On the last one it is flushed, synced and closed, and raft-peer
 * is asked whether Raft takes the snapshot (SnapshotPrepared; the stream alone decides nothing:
 * a deposed leader's or a forged one must never replace the database). On its
 * SnapshotDecision to commit:
 *   rename kv.snap -> kv.new  (fsync data-dir)     the commit point: the install is complete
 *   rename kv -> kv.old, kv.new -> kv (fsync), remove kv.old, reopen kv and the core
 * kv_snapshot_recover (at start) rolls a crash forward from the commit point (kv.new present)
 * or back before it (kv.snap removed), so <data-dir>/kv is always the old state or the new. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kv_actor_int.h"
#include "kv_snap.h"

/* ---- directories ------------------------------------------------------------------------ */

static int s_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
  (void)st;
  (void)flag;
  (void)ftw;
  return remove(path) == 0 || errno == ENOENT ? 0 : -1;
}

/* Removes dir and everything below it; absent is fine. */
static int s_rmtree(const char *dir, rv_err_t *err) {
  struct stat st;
  if (lstat(dir, &st) != 0)
    return errno == ENOENT ? RV_OK : rv_err_set(err, RV_EIO, "%s: %s", dir, strerror(errno));
  if (nftw(dir, s_rm_one, 16, FTW_DEPTH | FTW_PHYS) != 0)
    return rv_err_set(err, RV_EIO, "cannot remove %s: %s", dir, strerror(errno));
  return RV_OK;
}

static bool s_exists(const char *path) {
  struct stat st;
  return lstat(path, &st) == 0;
}

static int s_fsync_dir(const char *dir, rv_err_t *err) {
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0 || fsync(fd) != 0) {
    int e = errno;
    if (fd >= 0) close(fd);
    return rv_err_set(err, RV_EIO, "fsync %s: %s", dir, strerror(e));
  }
  close(fd);
  return RV_OK;
}

static int s_rename(const char *from, const char *to, rv_err_t *err) {
  if (rename(from, to) != 0)
    return rv_err_set(err, RV_EIO, "rename %s -> %s: %s", from, to, strerror(errno));
  return RV_OK;
}

typedef struct {
  char kv[CFG_PATH_MAX + 16], snap[CFG_PATH_MAX + 16], fresh[CFG_PATH_MAX + 16],
      old[CFG_PATH_MAX + 16];
} s_paths_t;

static void s_paths(const char *data_dir, s_paths_t *p) {
  snprintf(p->kv, sizeof p->kv, "%s/kv", data_dir);
  snprintf(p->snap, sizeof p->snap, "%s/kv.snap", data_dir);
  snprintf(p->fresh, sizeof p->fresh, "%s/kv.new", data_dir);
  snprintf(p->old, sizeof p->old, "%s/kv.old", data_dir);
}

/* From the commit point on: kv.new becomes kv. Idempotent, so recovery can repeat it. */
static int s_roll_forward(const char *data_dir, const s_paths_t *p, rv_err_t *err) {
  int rc = RV_OK;
  if (s_exists(p->kv)) {
    if ((rc = s_rmtree(p->old, err)) || (rc = s_rename(p->kv, p->old, err))) return rc;
  }
  if ((rc = s_rename(p->fresh, p->kv, err)) || (rc = s_fsync_dir(data_dir, err))) return rc;
  return s_rmtree(p->old, err);
}

int kv_snapshot_recover(const char *data_dir, rv_err_t *err) {
  s_paths_t p;
  s_paths(data_dir, &p);
  int rc;
  if (s_exists(p.snap)) {
    rv_info("removing %s: a snapshot install that did not finish", p.snap);
    if ((rc = s_rmtree(p.snap, err))) return rc;
  }
  if (s_exists(p.fresh)) {
    rv_info("completing the install of a snapshot (%s -> %s)", p.fresh, p.kv);
    return s_roll_forward(data_dir, &p, err);
  }
  return s_rmtree(p.old, err);
}

/* ---- streaming out ------------------------------------------------------------------------ */

static kv_snap_out_t *s_out_find(kv_actor_t *s, uint64_t id) {
  for (int i = 0; i < KV_SNAP_READERS; i++)
    if (s->snap_out[i].id == id && id) return &s->snap_out[i];
  return NULL;
}

static void s_out_drop(kv_snap_out_t *o) {
  kv_rocks_reader_destroy(&o->rd);
  memset(o, 0, sizeof *o);
}

static void s_data_reply(kv_actor_t *s, const rv_msg_t *m, Rv__SnapshotData *d) {
  if (rv_actor_reply(s->a, m, RV_MSG_SNAPSHOT_DATA, &d->base) != RV_OK)
    rv_warn("snapshot stream %llu: raft-peer does not take the chunk",
            (unsigned long long)d->id);
}

static void s_data_fail(kv_actor_t *s, const rv_msg_t *m, uint64_t id, uint64_t off, int code) {
  Rv__SnapshotData d = RV__SNAPSHOT_DATA__INIT;
  d.id = id;
  d.offset = off;
  d.code = (uint32_t)code;
  s_data_reply(s, m, &d);
}

void kv_snapshot_request(kv_actor_t *s, const rv_msg_t *m) {
  const Rv__SnapshotRequest *q = (const Rv__SnapshotRequest *)m->body;
  int64_t now = kv_now_ms();
  kv_snap_out_t *o = s_out_find(s, q->id);
  if (q->offset == 0) {
    if (o) s_out_drop(o);
    if (!q->id) {
      rv_warn("dropped a SnapshotRequest without a stream id");
      return;
    }
    for (int i = 0; i < KV_SNAP_READERS && !o; i++)
      if (!s->snap_out[i].id) o = &s->snap_out[i];
    if (!o) { /* every slot busy: the least recently used stream loses its view */
      o = &s->snap_out[0];
      for (int i = 1; i < KV_SNAP_READERS; i++)
        if (s->snap_out[i].last_ms < o->last_ms) o = &s->snap_out[i];
      rv_warn("snapshot stream %llu dropped for a new one", (unsigned long long)o->id);
      s_out_drop(o);
    }
    rv_err_t err;
    if (kv_rocks_reader_new(s->rocks, &o->rd, &err) != RV_OK) {
      rv_error("snapshot for %s: %s", q->to_node, err.msg);
      s_data_fail(s, m, q->id, 0, err.code);
      return;
    }
    kv_rocks_reader_skip(o->rd, KV_T_CHLOG); /* node-local: an install starts its own log */
    o->id = q->id;
    o->applied = kv_core_applied(s->core);
    o->next_off = 0;
    rv_info("snapshot stream %llu for %s: a consistent view at applied index %llu",
            (unsigned long long)o->id, q->to_node, (unsigned long long)o->applied);
  } else if (!o || o->next_off != q->offset) {
    rv_warn("dropped a SnapshotRequest for stream %llu at offset %llu: %s",
            (unsigned long long)q->id, (unsigned long long)q->offset,
            o ? "not where the last chunk ended" : "no such stream");
    s_data_fail(s, m, q->id, q->offset, RV_EPROTO);
    return;
  }
  o->last_ms = now;
  kv_buf_t buf;
  kv_buf_init(&buf);
  bool last = false;
  rv_err_t err;
  int rc = kv_rocks_reader_next(o->rd, &buf, KV_SNAP_CHUNK_BYTES, &last, &err);
  if (rc) {
    rv_error("snapshot stream %llu: %s", (unsigned long long)o->id, err.msg);
    s_data_fail(s, m, o->id, o->next_off, rc);
    s_out_drop(o);
  } else {
    Rv__SnapshotData d = RV__SNAPSHOT_DATA__INIT;
    d.id = o->id;
    d.offset = o->next_off;
    d.pairs.data = buf.data;
    d.pairs.len = buf.len;
    d.last = last;
    d.applied = o->applied;
    s_data_reply(s, m, &d);
    o->next_off += buf.len;
    if (last) {
      rv_info("snapshot stream %llu read out: %llu bytes", (unsigned long long)o->id,
              (unsigned long long)o->next_off);
      s_out_drop(o);
    }
  }
  kv_buf_close(&buf);
}

static void s_in_abort(kv_actor_t *s);

void kv_snapshot_tick(kv_actor_t *s, int64_t now_ms) {
  kv_snap_in_t *in = &s->snap_in;
  if (in->active && in->prepared && now_ms - in->prepared_ms >= KV_SNAP_IDLE_MS) {
    rv_warn("snapshot install %llu abandoned: no decision from raft-peer in %d ms",
            (unsigned long long)in->id, KV_SNAP_IDLE_MS);
    s_in_abort(s);
  }
  for (int i = 0; i < KV_SNAP_READERS; i++) {
    kv_snap_out_t *o = &s->snap_out[i];
    if (o->id && now_ms - o->last_ms >= KV_SNAP_IDLE_MS) {
      rv_info("snapshot stream %llu idle for %d ms: view released", (unsigned long long)o->id,
              KV_SNAP_IDLE_MS);
      s_out_drop(o);
    }
  }
}

/* ---- installing ------------------------------------------------------------------------- */

static void s_in_abort(kv_actor_t *s) {
  kv_snap_in_t *in = &s->snap_in;
  kv_rocks_loader_destroy(&in->load);
  if (in->active) {
    s_paths_t p;
    s_paths(s->cfg->data_dir, &p);
    rv_err_t err;
    if (s_rmtree(p.snap, &err) != RV_OK) rv_warn("%s", err.msg); /* removed at the next start */
  }
  memset(in, 0, sizeof *in);
}

static void s_installed(kv_actor_t *s, uint64_t id, uint64_t applied, int code) {
  Rv__SnapshotInstalled r = RV__SNAPSHOT_INSTALLED__INIT;
  r.id = id;
  r.applied = applied;
  r.code = (uint32_t)code;
  rv_actor_send(s->a, "raft-peer", RV_MSG_SNAPSHOT_INSTALLED, &r.base, 0);
}

/* The prepared install is to be taken: commit, swap, reopen. Returns 0, or a code with err set
 * when the install failed before the commit point (the old state stays). A failure after it
 * stops the actor: the restart rolls the install forward (kv_snapshot_recover). */
static int s_in_commit(kv_actor_t *s, rv_err_t *err) {
  kv_snap_in_t *in = &s->snap_in;
  s_paths_t p;
  s_paths(s->cfg->data_dir, &p);
  int rc;
  if ((rc = s_rmtree(p.fresh, err)) || (rc = s_rename(p.snap, p.fresh, err)) ||
      (rc = s_fsync_dir(s->cfg->data_dir, err)))
    return rc;
  /* committed: from here on a crash completes the install at the next start */
  in->active = false;
  kv_clients_fail_all(s, "the namespace is being replaced by a snapshot from the leader");
  for (int i = 0; i < KV_SNAP_READERS; i++) s_out_drop(&s->snap_out[i]);
  kv_save_close(s);
  kv_digest_close(s, "the namespace is being replaced by a snapshot from the leader; retry");
  kv_repl_close(s); /* views of the old database */
  kv_core_destroy(&s->core);
  kv_rocks_destroy(&s->rocks);
  if ((rc = s_roll_forward(s->cfg->data_dir, &p, err)) || (rc = kv_open_store(s, err))) {
    rv_error("after installing a snapshot: %s; restarting to complete it", err->msg);
    rv_actor_stop(s->a, RV_EXIT_TEMPFAIL);
    return RV_OK;
  }
  return RV_OK;
}

void kv_snapshot_install(kv_actor_t *s, const rv_msg_t *m) {
  const Rv__SnapshotInstall *c = (const Rv__SnapshotInstall *)m->body;
  kv_snap_in_t *in = &s->snap_in;
  rv_err_t err;
  int rc;
  if (c->offset == 0) {
    if (in->active)
      rv_info("snapshot install %llu abandoned for a new one", (unsigned long long)in->id);
    s_in_abort(s);
    s_paths_t p;
    s_paths(s->cfg->data_dir, &p);
    in->active = true; /* so an abort removes the directory */
    in->id = c->id;
    in->applied = c->applied;
    /* pairs arrive in key order (one scan on the leader): written straight into SST files,
     * synced and ingested before the commit point */
    if ((rc = s_rmtree(p.snap, &err)) || (rc = kv_rocks_loader_new(p.snap, 0, &in->load, &err))) {
      rv_error("snapshot install %llu: %s", (unsigned long long)c->id, err.msg);
      s_in_abort(s);
      s_installed(s, c->id, 0, rc);
      return;
    }
    rv_info("installing snapshot %llu (applied index %llu) into %s", (unsigned long long)c->id,
            (unsigned long long)c->applied, p.snap);
  } else if (!in->active || in->id != c->id || in->next_off != c->offset || in->prepared) {
    rv_warn("dropped snapshot chunk %llu@%llu: %s", (unsigned long long)c->id,
            (unsigned long long)c->offset,
            !in->active || in->id != c->id ? "no such install in progress"
            : in->prepared                 ? "the install already had its last chunk"
                                           : "not where the last chunk ended (a gap)");
    if (in->active && in->id == c->id) s_in_abort(s);
    s_installed(s, c->id, 0, RV_EPROTO);
    return;
  }
  kv_snap_cursor_t cur;
  kv_snap_cursor_init(&cur, c->pairs.data, c->pairs.len);
  kv_bytes_t k, v;
  uint64_t n = 0;
  uint8_t fkey[32];
  size_t fkl = kv_key_meta(fkey, KV_META_FORMAT);
  while ((rc = kv_snap_next(&cur, &k, &v, &err)) == 1) {
    uint64_t format;
    /* the store's format travels in the stream: a leader of a newer build may send one this
     * build cannot read; refused here, before the commit point, not after the swap */
    if (k.len == fkl && memcmp(k.p, fkey, fkl) == 0 &&
        (kv_u64_decode(v.p, v.len, &format) || format != KV_FORMAT)) {
      rc = rv_err_set(&err, RV_ECONFIG,
                      "the snapshot holds a namespace store of format %llu; this build reads "
                      "format %d (the leader runs %s raftvisor)",
                      (unsigned long long)(kv_u64_decode(v.p, v.len, &format) ? 0 : format),
                      KV_FORMAT, format > KV_FORMAT ? "a newer" : "another");
      break;
    }
    if ((rc = kv_rocks_loader_put(in->load, k.p, k.len, v.p, v.len, &err)) != RV_OK) break;
    n++;
  }
  if (rc < 0) rc = -rc;
  if (rc) {
    rv_warn("snapshot install %llu failed at offset %llu: %s", (unsigned long long)c->id,
            (unsigned long long)c->offset, err.msg);
    s_in_abort(s);
    s_installed(s, c->id, 0, rc);
    return;
  }
  in->next_off += c->pairs.len;
  in->pairs += n;
  if (!c->last) return;
  /* built: flush, sync and close it, then ask raft-peer whether Raft takes it */
  if ((rc = kv_rocks_loader_finish(in->load, &err))) {
    rv_error("snapshot install %llu: %s", (unsigned long long)in->id, err.msg);
    uint64_t id = in->id;
    s_in_abort(s);
    s_installed(s, id, 0, rc);
    return;
  }
  kv_rocks_loader_destroy(&in->load);
  in->prepared = true;
  in->prepared_ms = kv_now_ms();
  Rv__SnapshotPrepared r = RV__SNAPSHOT_PREPARED__INIT;
  r.id = in->id;
  r.applied = in->applied;
  if (rv_actor_send(s->a, "raft-peer", RV_MSG_SNAPSHOT_PREPARED, &r.base, 0) != RV_OK) {
    rv_warn("snapshot install %llu: raft-peer does not take SnapshotPrepared; abandoned",
            (unsigned long long)in->id);
    s_in_abort(s);
  }
}

void kv_snapshot_decision(kv_actor_t *s, const rv_msg_t *m) {
  const Rv__SnapshotDecision *d = (const Rv__SnapshotDecision *)m->body;
  kv_snap_in_t *in = &s->snap_in;
  if (!in->active || in->id != d->id) {
    rv_debug("snapshot decision for %llu ignored: no such install in progress",
             (unsigned long long)d->id);
    return;
  }
  if (!d->commit) {
    rv_warn("snapshot install %llu abandoned: %s", (unsigned long long)d->id,
            d->reason && *d->reason ? d->reason : "raft-peer refused it");
    s_in_abort(s);
    return;
  }
  if (!in->prepared) {
    rv_warn("snapshot install %llu: a commit decision before the last chunk; abandoned",
            (unsigned long long)d->id);
    uint64_t id = in->id;
    s_in_abort(s);
    s_installed(s, id, 0, RV_EPROTO);
    return;
  }
  uint64_t id = in->id, pairs = in->pairs, bytes = in->next_off, said = in->applied;
  rv_err_t err;
  int rc = s_in_commit(s, &err);
  if (rc) {
    rv_error("snapshot install %llu: %s", (unsigned long long)id, err.msg);
    s_in_abort(s);
    s_installed(s, id, 0, rc);
    return;
  }
  memset(in, 0, sizeof *in);
  if (!s->core) return; /* stopping to complete it at restart */
  uint64_t applied = kv_core_applied(s->core);
  rv_info("snapshot %llu installed: %llu pairs, %llu bytes; applied index %llu (leader said %llu)",
          (unsigned long long)id, (unsigned long long)pairs, (unsigned long long)bytes,
          (unsigned long long)applied, (unsigned long long)said);
  s_installed(s, id, applied, RV_OK);
  /* take committed entries in from the snapshot on, as after a restart */
  s->attached = false;
  kv_attach(s);
}

void kv_snapshot_close(kv_actor_t *s) {
  for (int i = 0; i < KV_SNAP_READERS; i++) s_out_drop(&s->snap_out[i]);
  kv_save_close(s); /* clients' saves read the same database */
  kv_rocks_loader_destroy(&s->snap_in.load);
  memset(&s->snap_in, 0, sizeof s->snap_in);
}
