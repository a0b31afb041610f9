/* raft_snap_stream: snapshot streaming in the raft-peer actor (I/O shell; the bookkeeping is the
 * pure raft_snap_flow).
 *
 * Leader, for a MsgSnap the core emits for follower F (raft_core.h: the shell streams the data,
 * F steps the MsgSnap once it has all of it):
 *   raft-peer -> kv-store   SnapshotRequest{id, offset}     one chunk at a time, offset 0 first
 *   kv-store  -> raft-peer  SnapshotData{id, offset, pairs, last, applied}
 *   raft-peer -> F          SnapshotChunk{id, meta, term, offset, data, last, applied}
 *   F         -> raft-peer  SnapshotAck{id, offset}         moves the window (RAFT_SNAP_WINDOW)
 *                           SnapshotAck{id, done}           -> report_snapshot(FINISH)
 *                           SnapshotAck{id, code != 0}      -> report_snapshot(FAILURE)
 * A stream that does not move for RAFT_SNAP_TIMEOUT_MS, or outlives this node's leadership,
 * fails (FAILURE: the core probes and asks again later, with a new stream).
 * Follower: chunks are taken strictly in order from the node that started the stream and
 * forwarded to kv-store (SnapshotInstall), acknowledged as they are handed over; kv-store
 * builds the new database beside its own, syncs it and says SnapshotPrepared; raft-peer answers
 * SnapshotDecision (commit or abandon); kv-store swaps it in (its commit point) and answers
 * SnapshotInstalled. Only then is the MsgSnap stepped into the core (which persists the snapshot
 * metadata and drops the log, raft_store_save) and "done" sent; kv-store asks
 * ApplyFrom(applied + 1) itself.
 * Raft decides, not the stream: every chunk, and the prepared install just before kv-store's
 * commit point, pass raft_core_snapshot_acceptable (from the leader this node follows, at its
 * term, above our commit index). A deposed leader's late stream, or a forged one, is refused
 * and abandoned in kv-store before anything replaces its database. Between the decision and
 * SnapshotInstalled the core may move on (a new term): what was installed is still committed
 * state (a leader streams only applied entries, and those are in every later leader's log), so
 * kv-store simply continues from its applied index. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "raft_peer_int.h"
#include "raft_wire.h"

static int64_t s_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char *s_name(const raft_peer_t *p, int node) { return p->cfg->nodes[node].id; }

/* ---- leader side ------------------------------------------------------------------------ */

static void s_out_end(raft_peer_t *p, int node, raft_snapshot_status_t st, const char *why) {
  raft_snap_out_t *o = &p->snap_out[node];
  if (!o->active) return;
  if (st == RAFT_SNAPSHOT_FAILURE)
    rv_warn("snapshot %llu to %s failed (%s); the leader will try again",
            (unsigned long long)o->flow.id, s_name(p, node), why);
  else
    rv_info("snapshot %llu to %s done: index %llu, %llu bytes, applied index %llu",
            (unsigned long long)o->flow.id, s_name(p, node), (unsigned long long)o->meta.index,
            (unsigned long long)o->flow.sent, (unsigned long long)o->applied);
  o->active = false;
  raft_core_report_snapshot(p->core, p->ids[node], st);
}

/* Asks kv-store for the next chunk when the window allows. */
static void s_pump(raft_peer_t *p, int node) {
  raft_snap_out_t *o = &p->snap_out[node];
  if (!o->active || !raft_snap_send_want(&o->flow)) return;
  Rv__SnapshotRequest q = RV__SNAPSHOT_REQUEST__INIT;
  q.id = o->flow.id;
  q.offset = o->flow.sent;
  q.to_node = (char *)s_name(p, node);
  if (rv_actor_send(p->a, "kv-store", RV_MSG_SNAPSHOT_REQUEST, &q.base, 0) != RV_OK) {
    s_out_end(p, node, RAFT_SNAPSHOT_FAILURE, "kv-store does not take requests");
    return;
  }
  raft_snap_send_fetching(&o->flow);
}

void raft_snap_stream_send(raft_peer_t *p, int node, const raft_msg_t *m) {
  raft_snap_out_t *o = &p->snap_out[node];
  if (o->active && o->meta.index == m->snapshot.index && o->term == m->term) return;
  if (o->active) s_out_end(p, node, RAFT_SNAPSHOT_FAILURE, "replaced by a newer snapshot");
  memset(o, 0, sizeof *o);
  o->active = true;
  p->snaps_sent++;
  o->meta = m->snapshot;
  o->term = m->term;
  raft_snap_send_init(&o->flow, ++p->snap_next_id, RAFT_SNAP_WINDOW, s_now_ms());
  rv_info("node %s needs a snapshot (log compacted to %llu): sending it as stream %llu",
          s_name(p, node), (unsigned long long)m->snapshot.index,
          (unsigned long long)o->flow.id);
  s_pump(p, node);
}

void raft_snap_stream_kv_data(raft_peer_t *p, const Rv__SnapshotData *d) {
  int node = -1;
  for (int i = 0; i < p->cfg->nnodes && node < 0; i++)
    if (p->snap_out[i].active && p->snap_out[i].flow.id == d->id) node = i;
  if (node < 0) {
    rv_debug("dropped kv-store's chunk of snapshot stream %llu: no longer sending it",
             (unsigned long long)d->id);
    return;
  }
  raft_snap_out_t *o = &p->snap_out[node];
  if (d->code) {
    char why[96];
    snprintf(why, sizeof why, "kv-store: %s", rv_code_text((int)d->code));
    s_out_end(p, node, RAFT_SNAPSHOT_FAILURE, why);
    return;
  }
  if (d->offset == 0) {
    if (d->applied < o->meta.index) {
      s_out_end(p, node, RAFT_SNAPSHOT_FAILURE, "kv-store's state is older than the snapshot");
      return;
    }
    o->applied = d->applied;
  }
  if (!raft_snap_send_data(&o->flow, d->offset, d->pairs.len, d->last, s_now_ms())) {
    rv_warn("dropped kv-store's chunk %llu@%llu of a snapshot: not the chunk asked for",
            (unsigned long long)d->id, (unsigned long long)d->offset);
    return;
  }
  Rv__RaftSnapshotMeta meta = RV__RAFT_SNAPSHOT_META__INIT;
  Rv__RaftConf conf;
  meta.index = o->meta.index;
  meta.term = o->meta.term;
  raft_wire_conf_encode(&o->meta.conf, &conf);
  meta.conf = &conf;
  Rv__SnapshotChunk c = RV__SNAPSHOT_CHUNK__INIT;
  c.cluster = (char *)p->cfg->cluster_id;
  c.from = p->self;
  c.meta = &meta;
  c.offset = d->offset;
  c.data = d->pairs;
  c.last = d->last;
  c.term = o->term;
  c.id = o->flow.id;
  c.applied = o->applied;
  c.incarnation = p->gate.incarnation;
  rv_err_t err;
  if (rv_peers_send(p->peers, node, RV_MSG_SNAPSHOT_CHUNK, &c.base, 0, &err) != RV_OK) {
    s_out_end(p, node, RAFT_SNAPSHOT_FAILURE, err.msg);
    raft_core_report_unreachable(p->core, p->ids[node]);
    return;
  }
  s_pump(p, node);
}

void raft_snap_stream_ack(raft_peer_t *p, int node, const Rv__SnapshotAck *a) {
  if (strcmp(a->cluster, p->cfg->cluster_id) != 0 || a->from != p->ids[node]) {
    rv_warn("dropped a SnapshotAck from %s: cluster \"%s\", id %llu", s_name(p, node),
            a->cluster, (unsigned long long)a->from);
    return;
  }
  raft_snap_out_t *o = &p->snap_out[node];
  if (!o->active || o->flow.id != a->id) {
    rv_debug("dropped a SnapshotAck from %s for stream %llu: not sending it", s_name(p, node),
             (unsigned long long)a->id);
    return;
  }
  if (a->code) {
    char why[96];
    snprintf(why, sizeof why, "%s refused it: %s", s_name(p, node), rv_code_text((int)a->code));
    s_out_end(p, node, RAFT_SNAPSHOT_FAILURE, why);
    return;
  }
  if (!raft_snap_send_ack(&o->flow, a->offset, s_now_ms())) {
    rv_warn("dropped a SnapshotAck from %s: offset %llu outside [%llu, %llu]", s_name(p, node),
            (unsigned long long)a->offset, (unsigned long long)o->flow.acked,
            (unsigned long long)o->flow.sent);
    return;
  }
  if (a->done) {
    if (raft_snap_send_all_acked(&o->flow))
      s_out_end(p, node, RAFT_SNAPSHOT_FINISH, "");
    else
      s_out_end(p, node, RAFT_SNAPSHOT_FAILURE, "done before the last chunk");
    return;
  }
  s_pump(p, node);
}

/* ---- follower side ---------------------------------------------------------------------- */

static void s_ack(raft_peer_t *p, int node, uint64_t id, uint64_t offset, bool done, int code) {
  Rv__SnapshotAck a = RV__SNAPSHOT_ACK__INIT;
  a.cluster = (char *)p->cfg->cluster_id;
  a.from = p->self;
  a.index = p->snap_in.meta.index;
  a.offset = offset;
  a.done = done;
  a.code = (uint32_t)code;
  a.id = id;
  a.incarnation = p->gate.incarnation;
  rv_err_t err;
  if (rv_peers_send(p->peers, node, RV_MSG_SNAPSHOT_ACK, &a.base, 0, &err) != RV_OK)
    rv_debug("SnapshotAck to %s: %s", s_name(p, node), err.msg);
}

/* Tells kv-store to commit, or to abandon, its install of stream id. */
static void s_decide(raft_peer_t *p, uint64_t id, bool commit, const char *reason) {
  Rv__SnapshotDecision d = RV__SNAPSHOT_DECISION__INIT;
  d.id = id;
  d.commit = commit;
  d.reason = (char *)reason;
  if (rv_actor_send(p->a, "kv-store", RV_MSG_SNAPSHOT_DECISION, &d.base, 0) != RV_OK)
    rv_warn("snapshot %llu: kv-store does not take the decision (it abandons an install that "
            "is not committed when it restarts)", (unsigned long long)id);
}

static void s_in_fail(raft_peer_t *p, int node, uint64_t id, int code, const char *why) {
  rv_warn("snapshot %llu from %s: %s", (unsigned long long)id, s_name(p, node), why);
  if (p->snap_in.flow.active && p->snap_in.flow.id == id) {
    raft_snap_recv_init(&p->snap_in.flow);
    s_decide(p, id, false, why); /* whatever kv-store holds of it goes */
  }
  s_ack(p, node, id, 0, false, code);
}

/* A snapshot at or below our commit from the leader we follow is refused (it holds nothing we
 * lack), but the leader must still learn where we are: its MsgSnap goes to the core, which
 * answers with our commit index (raft_snapshot_handle: "old news"), as etcd's follower does.
 * Without that answer, a leader that lowered our match below its snapshot (a late rejection
 * taken for a lost disk, raft_tracker_maybe_decr_to) could only probe with snapshots, each
 * refused, forever (found by raft_sim_test with RAFT_SIM_RUNS=15000). */
static void s_old_news(raft_peer_t *p, int node, uint64_t term, const raft_snapshot_meta_t *meta) {
  raft_msg_t m;
  memset(&m, 0, sizeof m);
  m.type = RAFT_MSG_SNAP;
  m.from = p->ids[node];
  m.to = p->self;
  m.term = term;
  m.snapshot = *meta;
  if (raft_core_step(p->core, &m) == RV_OK) raft_peer_process(p);
}

void raft_snap_stream_chunk(raft_peer_t *p, int node, const Rv__SnapshotChunk *c) {
  raft_snap_in_t *in = &p->snap_in;
  if (strcmp(c->cluster, p->cfg->cluster_id) != 0 || c->from != p->ids[node]) {
    rv_warn("dropped a snapshot chunk from %s: cluster \"%s\", id %llu", s_name(p, node),
            c->cluster, (unsigned long long)c->from);
    return;
  }
  if (c->offset != 0 && in->flow.active && in->node != node) {
    rv_warn("dropped a snapshot chunk from %s: stream %llu comes from %s", s_name(p, node),
            (unsigned long long)in->flow.id, s_name(p, in->node));
    return;
  }
  raft_snapshot_meta_t meta = {0};
  rv_err_t err;
  if (!c->meta || raft_wire_conf_decode(c->meta->conf, &meta.conf, &err) != RV_OK) {
    rv_warn("dropped a snapshot chunk from %s: %s", s_name(p, node),
            c->meta ? err.msg : "no metadata");
    return;
  }
  meta.index = c->meta->index;
  meta.term = c->meta->term;
  if (raft_wire_term_check("snapshot term", meta.term, &err) != RV_OK ||
      raft_wire_term_check("term", c->term, &err) != RV_OK) {
    p->gate.dropped_malformed++;
    rv_warn("dropped a snapshot chunk from %s: %s", s_name(p, node), err.msg);
    return;
  }
  rv_err_t why;
  int rc = raft_core_snapshot_acceptable(p->core, p->ids[node], c->term, &meta, &why);
  if (rc != RV_OK) {
    p->snap_refused++;
    char text[RV_ERR_MSG_MAX + 64];
    snprintf(text, sizeof text, "refused the chunk at offset %llu: %s; we follow %s",
             (unsigned long long)c->offset, why.msg,
             p->soft.leader ? raft_peer_node_name(p, p->soft.leader) : "no leader");
    s_in_fail(p, node, c->id, rc, text);
    if (rc == RV_EEXIST) s_old_news(p, node, c->term, &meta);
    return;
  }
  if (c->offset != 0 && in->flow.active && in->flow.id == c->id &&
      (meta.index != in->meta.index || c->term != in->term)) {
    s_in_fail(p, node, c->id, RV_EPROTO, "metadata changed within the stream");
    return;
  }
  raft_snap_verdict_t v =
      raft_snap_recv_chunk(&in->flow, c->id, c->offset, c->data.len, c->last, s_now_ms());
  if (v != RAFT_SNAP_TAKE) {
    char text[96];
    snprintf(text, sizeof text, "dropped the chunk at offset %llu: %s",
             (unsigned long long)c->offset, raft_snap_verdict_name(v));
    s_in_fail(p, node, c->id, RV_EPROTO, text);
    return;
  }
  if (c->offset == 0) {
    in->node = node;
    in->meta = meta;
    in->term = c->term;
    in->applied = c->applied;
    rv_info("receiving snapshot %llu from %s: index %llu, term %llu, applied index %llu",
            (unsigned long long)c->id, s_name(p, node), (unsigned long long)meta.index,
            (unsigned long long)meta.term, (unsigned long long)c->applied);
  }
  Rv__SnapshotInstall si = RV__SNAPSHOT_INSTALL__INIT;
  si.id = c->id;
  si.offset = c->offset;
  si.pairs = c->data;
  si.last = c->last;
  si.applied = c->applied;
  if (rv_actor_send(p->a, "kv-store", RV_MSG_SNAPSHOT_INSTALL, &si.base, 0) != RV_OK) {
    s_in_fail(p, node, c->id, RV_EUNAVAIL, "kv-store does not take the chunk");
    return;
  }
  s_ack(p, node, c->id, in->flow.next, false, RV_OK);
}

void raft_snap_stream_kv_prepared(raft_peer_t *p, const Rv__SnapshotPrepared *r) {
  raft_snap_in_t *in = &p->snap_in;
  if (!in->flow.active || in->flow.id != r->id) {
    s_decide(p, r->id, false, "raft-peer is not receiving this stream (any more)");
    return;
  }
  int node = in->node;
  if (!in->flow.complete) {
    s_in_fail(p, node, r->id, RV_EPROTO, "kv-store prepared the install before the last chunk");
    return;
  }
  if (r->applied < in->meta.index) {
    s_in_fail(p, node, r->id, RV_ECORRUPT, "the prepared state is older than the snapshot");
    return;
  }
  /* the last check before kv-store's commit point: Raft may have moved on during the stream */
  rv_err_t why;
  int rc = raft_core_snapshot_acceptable(p->core, p->ids[node], in->term, &in->meta, &why);
  if (rc != RV_OK) {
    p->snap_refused++;
    char text[RV_ERR_MSG_MAX + 64];
    snprintf(text, sizeof text, "refused at the commit point: %s", why.msg);
    s_in_fail(p, node, r->id, rc, text);
    return;
  }
  s_decide(p, r->id, true, "");
}

void raft_snap_stream_kv_installed(raft_peer_t *p, const Rv__SnapshotInstalled *r) {
  raft_snap_in_t *in = &p->snap_in;
  if (!in->flow.active || in->flow.id != r->id) {
    rv_debug("ignored kv-store's outcome of snapshot %llu: not receiving it",
             (unsigned long long)r->id);
    return;
  }
  int node = in->node;
  if (r->code) {
    char why[96];
    snprintf(why, sizeof why, "kv-store could not install it: %s", rv_code_text((int)r->code));
    s_in_fail(p, node, r->id, (int)r->code, why);
    return;
  }
  if (!in->flow.complete) {
    s_in_fail(p, node, r->id, RV_EPROTO, "kv-store reports an install before the last chunk");
    return;
  }
  if (r->applied < in->meta.index) {
    s_in_fail(p, node, r->id, RV_ECORRUPT, "the installed state is older than the snapshot");
    return;
  }
  /* kv-store now holds everything up to r->applied and asks for what follows itself */
  p->kv_next = r->applied + 1;
  p->kv_taken = r->applied;
  if (p->kv_applied < r->applied) p->kv_applied = r->applied;
  raft_msg_t m;
  memset(&m, 0, sizeof m);
  m.type = RAFT_MSG_SNAP;
  m.from = p->ids[node];
  m.to = p->self;
  m.term = in->term;
  m.snapshot = in->meta;
  int rc = raft_core_step(p->core, &m);
  raft_peer_process(p); /* persists the snapshot metadata (has_snapshot) before "done" */
  uint64_t id = in->flow.id, next = in->flow.next;
  raft_snap_recv_init(&in->flow);
  if (rc != RV_OK) {
    /* kv-store is already at r->applied, which is committed state: it goes on from there */
    rv_warn("snapshot %llu from %s: the Raft core refused it after kv-store installed it (%s); "
            "kv-store continues from its applied index %llu",
            (unsigned long long)id, s_name(p, node), rv_code_text(rc),
            (unsigned long long)r->applied);
    s_ack(p, node, id, 0, false, rc);
    return;
  }
  if (p->pending && !p->persisted) { /* the write failed: it is retried; the leader retries too */
    s_in_fail(p, node, id, RV_EIO, "the Raft log write failed");
    return;
  }
  p->snaps_installed++;
  rv_info("installed snapshot %llu from %s: Raft index %llu, kv-store applied index %llu",
          (unsigned long long)id, s_name(p, node), (unsigned long long)in->meta.index,
          (unsigned long long)r->applied);
  s_ack(p, node, id, next, true, RV_OK);
}

void raft_snap_stream_tick(raft_peer_t *p) {
  int64_t now = s_now_ms();
  raft_snap_in_t *in = &p->snap_in;
  if (in->flow.active && !in->flow.complete &&
      now - in->flow.progress_ms >= RAFT_SNAP_TIMEOUT_MS)
    s_in_fail(p, in->node, in->flow.id, RV_ETIMEDOUT, "the stream stalled: abandoned");
  for (int i = 0; i < p->cfg->nnodes; i++) {
    raft_snap_out_t *o = &p->snap_out[i];
    if (!o->active) continue;
    if (p->soft.role != RAFT_LEADER)
      s_out_end(p, i, RAFT_SNAPSHOT_FAILURE, "no longer the leader");
    else if (raft_snap_send_stalled(&o->flow, now, RAFT_SNAP_TIMEOUT_MS))
      s_out_end(p, i, RAFT_SNAPSHOT_FAILURE, "timed out");
  }
}
