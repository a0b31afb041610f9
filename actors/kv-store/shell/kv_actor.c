/* kv_actor: the kv-store actor's life cycle, its link with raft-peer (ApplyFrom, RaftState),
 * the apply of committed entries and durability (WAL syncs, Applied). I/O shell; the protocol is
 * described in kv_actor.h. Client requests are kv_clients.c and kv_reads.c. */
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>
#include <errno.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "kv_actor_int.h"

int64_t kv_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *kv_fs_op_name(int op) {
  switch (op) {
    case RV__FS_OP__FS_STAT: return "stat";
    case RV__FS_OP__FS_LS: return "ls";
    case RV__FS_OP__FS_CAT: return "cat";
    case RV__FS_OP__FS_COUNT: return "count";
    case RV__FS_OP__FS_DIGEST: return "digest";
    case RV__FS_OP__FS_GETXATTRS: return "getxattrs";
    case RV__FS_OP__FS_NODE_STATUS: return "node-status";
    case RV__FS_OP__FS_SNAPSHOT_READ: return "snapshot-read";
    case KV_FS_OP_RECOVERY: return "recovery";
    case RV__FS_OP__FS_RECOVERY_LEAVE: return "recovery-leave";
    default: return kv_op_name(op); /* the writes are kv_op_t's numbers */
  }
}

kv_actor_t *kv_actor_new(void) { return calloc(1, sizeof(kv_actor_t)); }

void kv_actor_destroy(kv_actor_t **sp) {
  if (!sp || !*sp) return;
  free(*sp);
  *sp = NULL;
}

/* ---- the link with raft-peer --------------------------------------------------------------- */

/* Asks raft-peer for committed entries from the first one not durable here: raft-peer may then
 * compact behind it, and what was applied but not yet synced is applied again (skipped). */
void kv_attach(kv_actor_t *s) {
  kv_apply_reset(s); /* what waits was sent for the old intake: it comes again from durable + 1 */
  Rv__ApplyFrom af = RV__APPLY_FROM__INIT;
  af.index = s->durable + 1;
  af.feature_level = s->core_cfg.feature_level; /* raft-peer advertises it to the others */
  s->attach_sent_ms = kv_now_ms();
  if (rv_actor_send(s->a, "raft-peer", RV_MSG_APPLY_FROM, &af.base, 0) == RV_OK)
    rv_info("asked raft-peer for committed entries from %llu", (unsigned long long)af.index);
}

/* The members (voters, then learners) and their levels, from a leader's RaftState: this node
 * with its own level, the others as their frames last said (PeerProgress.feature_level). A
 * RaftState that names no member (not a leader's; or a raft-peer that does not say) leaves this
 * node alone in the view. */
static void s_levels_alone(kv_actor_t *s) {
  kv_feature_member_t *m = &s->levels.m[0];
  snprintf(m->node, sizeof m->node, "%s", s->cfg->node_id);
  m->level = s->core_cfg.feature_level;
  m->active = true;
  s->levels.n = 1;
}

static void s_levels(kv_actor_t *s, const Rv__RaftState *rs) {
  kv_feature_view_t *v = &s->levels;
  memset(v, 0, sizeof *v);
  size_t n = rs->n_voters + rs->n_learners;
  for (size_t i = 0; i < n && v->n < KV_FEATURE_MEMBERS_MAX; i++) {
    const char *name = i < rs->n_voters ? rs->voters[i] : rs->learners[i - rs->n_voters];
    if (!name || !name[0]) continue; /* an id outside cluster.nodes: no name to report */
    kv_feature_member_t *m = &v->m[v->n++];
    snprintf(m->node, sizeof m->node, "%s", name);
    if (strcmp(name, s->cfg->node_id) == 0) {
      m->level = s->core_cfg.feature_level;
      m->active = true;
      continue;
    }
    for (size_t k = 0; k < rs->n_peers; k++)
      if (rs->peers[k]->node && strcmp(rs->peers[k]->node, name) == 0) {
        m->level = rs->peers[k]->feature_level;
        m->active = rs->peers[k]->active;
      }
  }
  if (v->n == 0) s_levels_alone(s);
}

int kv_feature_admit(kv_actor_t *s, int op, char *why, size_t cap) {
  s->levels.settling = kv_now_ms() - s->leader_since_ms < KV_LEVEL_SETTLE_MS;
  if (s->levels.n == 0) s_levels_alone(s); /* no RaftState yet */
  unsigned need = kv_feature_op_level(op);
  return kv_feature_gate(&s->levels, need ? need : KV_FEATURE_LEVEL + 1, why, cap);
}

static void s_raft_state(kv_actor_t *s, const Rv__RaftState *rs) {
  bool was_leader = s->leader;
  uint64_t old_term = s->term;
  char old_leader[sizeof s->leader_node];
  snprintf(old_leader, sizeof old_leader, "%s", s->leader_node);
  s->last_state_ms = kv_now_ms();
  if (!s->attached) {
    s->attached = true;
    /* what raft-peer delivers now starts at durable + 1: take it in from there */
    s->applied = s->durable;
    rv_info("attached to raft-peer: %s in term %llu, commit %llu, applied here %llu", rs->role,
            (unsigned long long)rs->term, (unsigned long long)rs->commit,
            (unsigned long long)kv_core_applied(s->core));
  }
  s->leader = strcmp(rs->role, "leader") == 0;
  if (s->leader && (!was_leader || old_term != rs->term)) s->leader_since_ms = kv_now_ms();
  s_levels(s, rs);
  s->term = rs->term;
  snprintf(s->role, sizeof s->role, "%s", rs->role);
  s->commit = rs->commit;
  s->last_index = rs->last_index;
  snprintf(s->leader_node, sizeof s->leader_node, "%s", rs->leader_node ? rs->leader_node : "");
  s->leader_hint[0] = '\0';
  for (int i = 0; i < s->cfg->nnodes && s->leader_node[0]; i++) {
    const cfg_peer_t *p = &s->cfg->nodes[i];
    if (strcmp(p->id, s->leader_node) != 0) continue;
    bool v6 = strchr(p->host, ':') != NULL;
    snprintf(s->leader_hint, sizeof s->leader_hint, "%s%s%s:%d", v6 ? "[" : "", p->host,
             v6 ? "]" : "", p->client_port);
  }
  if (was_leader != s->leader || old_term != s->term || strcmp(old_leader, s->leader_node) != 0) {
    char why[128];
    snprintf(why, sizeof why, "leadership changed (term %llu -> %llu, leader %s -> %s)",
             (unsigned long long)old_term, (unsigned long long)s->term,
             old_leader[0] ? old_leader : "none", s->leader_node[0] ? s->leader_node : "none");
    if (was_leader != s->leader) rv_info("%s", why);
    kv_clients_leadership_changed(s, why);
  }
}

/* ---- apply -------------------------------------------------------------------------------- */

/* A RocksDB write or sync failed. Retrying in place is not safe: after a failed sync the kernel
 * may have dropped the dirty pages it could not write (the fsyncgate lesson), and RocksDB itself
 * stops taking writes after a failed WAL write or sync. So the store is reopened from disk at
 * the next retry (s_store_reopen): RocksDB recovers exactly what reached the disk, the applied
 * index is read back, and raft-peer resends the rest, which it still holds because nothing above
 * `durable` was ever reported. */
void kv_store_failed(kv_actor_t *s, const rv_err_t *err) {
  if (!s->store_error[0]) rv_error("%s; reopening the store from disk", err->msg);
  snprintf(s->store_error, sizeof s->store_error, "RocksDB write failed: %s", err->msg);
  s->store_broken = true;
  kv_apply_reset(s);
  s->applied = kv_core_applied(s->core);
  if (s->durable > s->applied) s->durable = s->applied;
  s->store_retry_ms = kv_now_ms() + KV_STORE_RETRY_MS;
}

/* Closes the store and everything that reads it, and opens it again from disk. On failure (the
 * disk still refuses) the actor stops: its supervisor restarts it with backoff, and a disk that
 * stays broken ends in the node stopping with the reason, rather than a node serving from a
 * store it cannot trust. */
static void s_store_reopen(kv_actor_t *s) {
  uint64_t before = s->applied;
  kv_clients_fail_all(s, "the namespace store is being reopened after a failed write; retry");
  kv_snapshot_close(s);
  kv_digest_close(s, "the namespace store was closed or replaced; retry");
  kv_repl_close(s);
  kv_core_destroy(&s->core);
  kv_rocks_destroy(&s->rocks);
  rv_err_t err;
  if (kv_open_store(s, &err)) {
    rv_error("reopening the namespace store after a failed write: %s; restarting kv-store",
             err.msg);
    rv_actor_stop(s->a, RV_EXIT_TEMPFAIL);
    return;
  }
  s->store_broken = false;
  rv_warn("namespace store reopened from disk after a failed write: applied index %llu (%llu "
          "before the failure); raft-peer resends what follows",
          (unsigned long long)s->applied, (unsigned long long)before);
}

/* ---- housekeeping ------------------------------------------------------------------------- */

/* Every ~100 ms (the tick), what is applied but not durable is made durable by a WAL sync on
 * the store's sync thread (kv_rocks_sync_start): the fsync never holds the loop (a synced write
 * of a few hundred keys took 50-140 ms on a loaded host, on the loop, before). s_on_synced
 * takes the outcome: durable moves to the index applied when the sync started, and raft-peer
 * hears it (Applied), which bounds its log compaction. */
static void s_sync(kv_actor_t *s, int64_t now) {
  (void)now;
  uint64_t applied = kv_core_applied(s->core);
  if (applied > s->durable && !s->store_error[0] && !s->store_broken && !s->sync_inflight) {
    rv_err_t err;
    int rc = kv_rocks_sync_start(s->rocks, applied, s->sync_efd, &err);
    if (rc == RV_OK) s->sync_inflight = true;
    else rv_warn("%s", err.msg); /* tried again at the next tick */
  }
  if (s->attached && s->durable > s->reported) {
    Rv__Applied ap = RV__APPLIED__INIT;
    ap.index = s->durable;
    if (rv_actor_send(s->a, "raft-peer", RV_MSG_APPLIED, &ap.base, 0) == RV_OK)
      s->reported = s->durable;
  }
}

static void s_on_synced(rv_actor_t *a, int fd, void *arg) {
  (void)a;
  kv_actor_t *s = arg;
  uint64_t n;
  if (read(fd, &n, sizeof n) < 0) { /* EAGAIN: nothing to read (a sync of a closed store) */ }
  uint64_t tag;
  int rc;
  rv_err_t err;
  if (!s->rocks || !kv_rocks_sync_take(s->rocks, &tag, &rc, &err)) return;
  s->sync_inflight = false;
  if (rc) {
    kv_store_failed(s, &err);
    return;
  }
  if (tag > s->durable && !s->store_broken) s->durable = tag;
  if (s->attached && s->durable > s->reported) {
    Rv__Applied ap = RV__APPLIED__INIT;
    ap.index = s->durable;
    if (rv_actor_send(s->a, "raft-peer", RV_MSG_APPLIED, &ap.base, 0) == RV_OK)
      s->reported = s->durable;
  }
}

/* Replies waiting in the client port's queues go out as their clients read: ZeroMQ gives a
 * ROUTER no per-connection writable event, so they are retried on a short timer (nothing to do,
 * and nearly free, while no client lags). */
static void s_on_flush(rv_actor_t *a, void *arg) {
  kv_actor_t *s = arg;
  if (s->clients) rv_listener_flush(s->clients);
}

static void s_on_tick(rv_actor_t *a, void *arg) {
  kv_actor_t *s = arg;
  int64_t now = kv_now_ms();
  struct statvfs vfs;
  if (s->store_retry_ms && now >= s->store_retry_ms && s->store_broken &&
      statvfs(s->cfg->data_dir, &vfs) == 0 &&
      (uint64_t)vfs.f_bavail * vfs.f_frsize < KV_REOPEN_MIN_FREE) {
    static rv_log_limit_t limit;
    rv_log_limited(&limit, CFG_LOG_WARN, "the namespace store waits to be reopened: %llu bytes "
                   "free on the data disk, it needs %u", (unsigned long long)vfs.f_bavail *
                   vfs.f_frsize, KV_REOPEN_MIN_FREE);
    s->store_retry_ms = now + KV_STORE_RETRY_MS;
  } else if (s->store_retry_ms && now >= s->store_retry_ms) {
    s->store_retry_ms = 0;
    if (s->store_broken) {
      s_store_reopen(s);
      if (!s->core) return; /* stopping */
    }
    s->attached = false; /* the next RaftState restarts the intake at durable + 1 */
    kv_attach(s);
  } else if (!s->attached && now - s->attach_sent_ms >= KV_ATTACH_RETRY_MS) {
    kv_attach(s);
  } else if (s->attached && now - s->last_state_ms >= KV_PEER_SILENT_MS) {
    rv_warn("raft-peer has been silent for %lld ms; asking it again for committed entries",
            (long long)(now - s->last_state_ms));
    s->attached = false;
    s->leader = false;
    kv_clients_fail_all(s, "this node's raft-peer does not answer");
    kv_attach(s);
  }
  s_sync(s, now);
  kv_clients_expire(s, now);
  kv_ha_tick(s, now);
  kv_clients_stats(s, now);
  kv_snapshot_tick(s, now);
  kv_save_tick(s, now);
  kv_repl_tick(s, now);
  kv_clients_turn_end(s);
}

/* ---- the actor ---------------------------------------------------------------------------- */

static void s_message(rv_actor_t *a, void *state, const rv_msg_t *m) {
  kv_actor_t *s = state;
  if (kv_ha_message(s, m)) return;
  switch (m->type) {
    case RV_MSG_APPLY_BATCH: {
      const Rv__ApplyBatch *b = (const Rv__ApplyBatch *)m->body;
      /* the outcomes first: the entries may be theirs (messages/raft.proto) */
      kv_clients_propose_result(s, b->outcomes, b->n_outcomes);
      kv_apply_take(s, b);
      break;
    }
    case RV_MSG_PROPOSE_RESULT: {
      const Rv__ProposeResult *r = (const Rv__ProposeResult *)m->body;
      kv_clients_propose_result(s, r->outcomes, r->n_outcomes);
      break;
    }
    case RV_MSG_READ_INDEX_RESULT:
      kv_reads_index_result(s, (const Rv__ReadIndexResult *)m->body);
      break;
    case RV_MSG_RAFT_STATE: s_raft_state(s, (const Rv__RaftState *)m->body); break;
    case RV_MSG_SNAPSHOT_REQUEST: kv_snapshot_request(s, m); break;
    case RV_MSG_SNAPSHOT_INSTALL: kv_snapshot_install(s, m); break;
    case RV_MSG_SNAPSHOT_DECISION: kv_snapshot_decision(s, m); break;
    case RV_MSG_REPL_CHANGES_REQUEST: kv_repl_changes(s, m); break;
    case RV_MSG_REPL_BASE_COPY_REQUEST: kv_repl_base_copy(s, m); break;
    case RV_MSG_REPL_TRIM: kv_repl_trim(s, m); break;
    case RV_MSG_REPL_STATUS_REQUEST: kv_repl_status(s, m); break;
    case RV_MSG_RECOVERY_COMMAND: kv_recover_command(s, m); break;
    default: {
      char tb[32];
      rv_debug("ignored %s from %s", rv_msgtype_name(m->type, tb, sizeof tb), m->from.actor);
    }
  }
}

/* Releases what s_open opened (safe on a partly opened actor). */
static void s_close(kv_actor_t *s) {
  kv_apply_close(s);
  kv_digest_close(s, "the namespace store was closed or replaced; retry");
  kv_repl_close(s);
  kv_snapshot_close(s); /* client saves included */
  kv_clients_close(s);
  kv_core_destroy(&s->core);
  kv_rocks_destroy(&s->rocks); /* joins its sync thread */
  free(s->path);
  s->path = NULL;
  if (s->sync_efd > 0) {
    rv_actor_fd_remove(s->a, s->sync_efd);
    close(s->sync_efd);
    s->sync_efd = -1;
  }
  if (s->repl_efd > 0) { /* after kv_repl_close: its reader thread is joined */
    rv_actor_fd_remove(s->a, s->repl_efd);
    close(s->repl_efd);
    s->repl_efd = -1;
  }
}

int kv_open_store(kv_actor_t *s, rv_err_t *err) {
  char dir[CFG_PATH_MAX + 8];
  int n = snprintf(dir, sizeof dir, "%s/kv", s->cfg->data_dir);
  if (n < 0 || (size_t)n >= sizeof dir)
    return rv_err_set(err, RV_ECONFIG, "node.data-dir is too long");
  kv_rocks_opts_t ro;
  kv_rocks_opts_default(&ro);
  ro.path = dir;
  ro.sync = false; /* the Raft log is the durable record; the WAL is synced every ~100 ms */
  int rc = kv_rocks_new(&ro, &s->rocks, err);
  if (rc) return rc;
  kv_core_config_default(&s->core_cfg);
  /* replicated: the same on every node, as the cluster's security section is. The root of a
   * new namespace belongs to the superuser and the supergroup (HDFS: the NameNode's user). */
  s->core_cfg.session_max = (uint32_t)s->cfg->security_sessions_max;
  s->core_cfg.session_max_per_principal = (uint32_t)s->cfg->security_sessions_per_principal;
  snprintf(s->core_cfg.root_owner, sizeof s->core_cfg.root_owner, "%s",
           s->cfg->security_superuser);
  snprintf(s->core_cfg.root_group, sizeof s->core_cfg.root_group, "%s",
           s->cfg->security_supergroup);
  /* the change log for the remote copy: only while it is enabled (zero cost otherwise) */
  s->core_cfg.chlog_max_bytes =
      s->cfg->ots_enabled ? (uint64_t)s->cfg->ots_change_log_max_bytes : 0;
  /* tests only: stand for an older build (kv_feature.h), advertised and enforced */
  const char *lv = getenv(KV_TEST_LEVEL_ENV);
  if (lv && lv[0]) {
    char *end;
    unsigned long l = strtoul(lv, &end, 10);
    if (*end || l < 1 || l > KV_FEATURE_LEVEL)
      return rv_err_set(err, RV_ECONFIG, "%s=\"%s\": expected a feature level 1..%d",
                        KV_TEST_LEVEL_ENV, lv, KV_FEATURE_LEVEL);
    s->core_cfg.feature_level = (unsigned)l;
    rv_warn("TEST: %s=%lu: this node stands for a build of feature level %lu (this build's is "
            "%d): it advertises that level and applies no op above it", KV_TEST_LEVEL_ENV, l, l,
            KV_FEATURE_LEVEL);
  }
  if ((rc = kv_core_new(kv_rocks_store(s->rocks), &s->core_cfg, &s->core, err))) {
    /* a store holding something else will not heal by restarting */
    if (rc == RV_ECORRUPT || rc == RV_EINVAL) rc = RV_ECONFIG;
    return rv_err_set(err, rc, "%s: %s", dir, err->msg);
  }
  /* what the store holds after a crash may sit in an unsynced WAL: make it durable before
   * telling raft-peer where to start (it may compact the log behind that point) */
  if ((rc = kv_rocks_flush(s->rocks, err))) return rc;
  kv_apply_reset(s);
  s->sync_inflight = false; /* a new store: its own sync thread, none running */
  s->durable = s->applied = s->reported = kv_core_applied(s->core);
  s->last_apply_ms = kv_now_ms();
  kv_repl_opened(s);
  return RV_OK;
}

/* A store opened on a full disk fails inside RocksDB (its recovery writes a new WAL and
 * manifest, and the open flushes the memtable), and Debian's RocksDB build then aborts on an
 * assertion (WritableFileWriter::AssertFalseAndGetStatusForPrevError) instead of returning the
 * error: a crash loop for as long as the disk stays full. So the open waits, up to
 * KV_OPEN_SPACE_WAIT_MS (inside the supervisor's start timeout), for the space a reopen needs,
 * and otherwise exits with a temporary failure that says how much is missing. */
static int s_wait_for_space(kv_actor_t *s, rv_err_t *err) {
  struct statvfs vfs;
  uint64_t avail = 0;
  for (int waited = 0;; waited += 100) {
    if (statvfs(s->cfg->data_dir, &vfs) != 0) return RV_OK; /* the open will say what is wrong */
    avail = (uint64_t)vfs.f_bavail * vfs.f_frsize;
    if (avail >= KV_REOPEN_MIN_FREE) return RV_OK;
    if (waited == 0)
      rv_warn("the data disk has %llu bytes free; the namespace store needs %u to open: waiting "
              "up to %d ms", (unsigned long long)avail, KV_REOPEN_MIN_FREE, KV_OPEN_SPACE_WAIT_MS);
    if (waited >= KV_OPEN_SPACE_WAIT_MS) break;
    struct timespec ts = {0, 100 * 1000000L};
    nanosleep(&ts, NULL);
  }
  return rv_err_set(err, RV_EIO, "the data disk %s has %llu bytes free; the namespace store "
                    "needs %u to open: free space on it", s->cfg->data_dir,
                    (unsigned long long)avail, KV_REOPEN_MIN_FREE);
}

static int s_open(kv_actor_t *s, rv_err_t *err) {
  /* the WAL syncs' completions (kv_rocks_sync_start), polled by the loop */
  s->sync_efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (s->sync_efd < 0) return rv_err_set(err, RV_EINTERNAL, "eventfd: %s", strerror(errno));
  if (rv_actor_fd_add(s->a, s->sync_efd, s_on_synced, s) != 0)
    return rv_err_set(err, RV_EINTERNAL, "cannot poll the WAL sync eventfd");
  /* the replica's pages read off the loop (kv_repl_reader.c), polled by the loop */
  s->repl_efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (s->repl_efd < 0) return rv_err_set(err, RV_EINTERNAL, "eventfd: %s", strerror(errno));
  if (rv_actor_fd_add(s->a, s->repl_efd, kv_repl_done, s) != 0)
    return rv_err_set(err, RV_EINTERNAL, "cannot poll the replica reader's eventfd");
  /* an install interrupted by a crash: finish it or throw it away before opening the store */
  int rc = kv_snapshot_recover(s->cfg->data_dir, err);
  if (rc || (rc = s_wait_for_space(s, err)) || (rc = kv_open_store(s, err))) return rc;
  if (!(s->path = malloc(sizeof *s->path))) return rv_err_set(err, RV_ENOMEM, "out of memory");
  /* an answer raft-peer sent to a predecessor of this process must never match our ids */
  s->next_id = rv_random_u64() >> 1; /* random at start, then counting */
  kv_auth_open(s);
  if ((rc = kv_clients_open(s, err))) return rc;
  if (rv_actor_timer_add(s->a, KV_TICK_MS, 0, s_on_tick, s) < 0 ||
      rv_actor_timer_add(s->a, KV_REPLY_FLUSH_MS, 0, s_on_flush, s) < 0)
    return rv_err_set(err, RV_EINTERNAL, "cannot add the housekeeping timers");
  rv_info("namespace at %s/kv: applied index %llu, %llu client sessions", s->cfg->data_dir,
          (unsigned long long)s->durable, (unsigned long long)kv_core_sessions(s->core));
  return RV_OK;
}

static int s_start(rv_actor_t *a, void *state, rv_err_t *err) {
  kv_actor_t *s = state;
  s->a = a;
  s->cfg = rv_actor_config(a);
  int rc = s_open(s, err);
  if (rc) {
    s_close(s); /* the runtime calls stop() only after a successful start */
    return rc;
  }
  kv_attach(s);
  return RV_OK;
}

static void s_stop(rv_actor_t *a, void *state) {
  kv_actor_t *s = state;
  if (s->rocks && s->core) {
    /* one WAL sync makes every apply durable; a memtable flush here (up to 64 MB written) took
     * most of the 3 s shutdown timeout on a loaded host, and the next start flushes anyway */
    rv_err_t err;
    if (kv_rocks_sync_wal(s->rocks, &err) != RV_OK) rv_warn("%s", err.msg);
  }
  s_close(s);
}

static bool s_health(rv_actor_t *a, void *state, char *reason, size_t len) {
  kv_actor_t *s = state;
  if (s->store_error[0]) {
    snprintf(reason, len, "%s", s->store_error);
    return false;
  }
  if (s->last_write_us > (uint64_t)s->cfg->health_slow_io_ms * 1000u &&
      rv_mono_us() - s->last_write_at_us < RV_SLOW_IO_MEMORY_US) {
    snprintf(reason, len, "RocksDB write slow: the last took %llu ms (over health.slow-io-ms %d)",
             (unsigned long long)(s->last_write_us / 1000u), s->cfg->health_slow_io_ms);
    return false;
  }
  kv_chlog_info_t info;
  if (s->core) kv_core_chlog_info(s->core, &info);
  if (s->core && info.enabled) /* the replica's backlog, for status (healthy: writes go on) */
    snprintf(reason, len, "change log %llu B of %llu, oldest index %llu%s",
             (unsigned long long)info.live_bytes, (unsigned long long)info.max_bytes,
             (unsigned long long)info.oldest, info.base_needed ? ", base copy needed" : "");
  return true;
}

/* A RocksDB write or sync failed and has not succeeded since (the store is reopened, or waits to
 * be): the node cannot persist what it applies. */
static bool s_cannot_persist(rv_actor_t *a, void *state) {
  const kv_actor_t *s = state;
  return s->store_error[0] != '\0';
}

/* After each wake-up's inbox messages: the replies they made (an apply batch answers many
 * writes at once) go out together, one message per client connection. */
static void s_drained(rv_actor_t *a, void *state) { kv_clients_turn_end(state); }

const rv_actor_def_t kv_actor_def = {.name = "kv-store",
                                     .start = s_start,
                                     .message = s_message,
                                     .drained = s_drained,
                                     .stop = s_stop,
                                     .health = s_health,
                                     .cannot_persist = s_cannot_persist};
