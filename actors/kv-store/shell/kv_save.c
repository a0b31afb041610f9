/* kv_save: consistent images of this node's store for clients (`raftvisor snapshot save`,
 * FsOp FS_SNAPSHOT_READ; I/O shell).
 *
 * A request at offset 0 opens a view (kv_rocks_reader: a RocksDB snapshot and an iterator) under
 * the client's stream id; each later request takes the next chunk of about KV_SNAP_CHUNK_BYTES
 * (kv_snap.h pairs), so the client's pace bounds what is read and nothing is held whole. The
 * view reflects exactly the entries up to kv_core_applied() when it was taken (applies run on
 * this loop, one RocksDB write each, and the 'M' state key in the stream says the same); the
 * image carries that index and the term of the entry there, which this process knows once it
 * has applied that entry itself (until then the request is answered with a retriable error).
 * The change log ('L') is node-local and left out, as in a Raft snapshot. The chunk before is
 * kept, so an answer lost on the network can be asked for again (the client resends the same
 * request after a timeout). */
#include <stdlib.h>
#include <string.h>

#include "kv_actor_int.h"
#include "kv_snap.h"

static kv_save_stream_t *s_find(kv_actor_t *s, uint64_t id) {
  for (int i = 0; i < KV_SAVE_STREAMS; i++)
    if (id && s->saves[i].id == id) return &s->saves[i];
  return NULL;
}

static void s_drop(kv_save_stream_t *o) {
  kv_rocks_reader_destroy(&o->rd);
  kv_buf_close(&o->prev);
  memset(o, 0, sizeof *o);
}

/* A free slot, or the least recently used one (its client is told at its next request). */
static kv_save_stream_t *s_slot(kv_actor_t *s) {
  kv_save_stream_t *o = NULL;
  for (int i = 0; i < KV_SAVE_STREAMS && !o; i++)
    if (!s->saves[i].id) o = &s->saves[i];
  if (o) return o;
  o = &s->saves[0];
  for (int i = 1; i < KV_SAVE_STREAMS; i++)
    if (s->saves[i].last_ms < o->last_ms) o = &s->saves[i];
  rv_warn("snapshot save stream %llu dropped for a new one", (unsigned long long)o->id);
  s_drop(o);
  return o;
}

static void s_answer(kv_actor_t *s, const rv_listener_peer_t *peer, rv_msg_t *m,
                     const kv_save_stream_t *o, uint64_t off, const kv_buf_t *pairs, bool last) {
  Rv__SnapshotImage im = RV__SNAPSHOT_IMAGE__INIT;
  im.stream = o->id;
  im.offset = off;
  im.pairs.data = pairs->data;
  im.pairs.len = pairs->len;
  im.last = last;
  im.index = o->index;
  im.term = o->term;
  im.cluster = (char *)s->cfg->cluster_id;
  im.node = (char *)s->cfg->node_id;
  im.store_format = KV_FORMAT;
  im.estimated_keys = o->estimated_keys;
  Rv__FsReply r = RV__FS_REPLY__INIT;
  r.index = o->index;
  r.image = &im;
  kv_reply(s, peer, m, RV__FS_OP__FS_SNAPSHOT_READ, &r);
}

void kv_save_request(kv_actor_t *s, const rv_listener_peer_t *peer, rv_msg_t *m) {
  const Rv__FsRequest *q = (const Rv__FsRequest *)m->body;
  if (!q->snapshot_stream) {
    kv_reply_error(s, peer, m, RV_EINVAL, false, "snapshot read: no stream id");
    return;
  }
  kv_save_stream_t *o = s_find(s, q->snapshot_stream);
  if (q->snapshot_offset == 0 && !o) {
    uint64_t index = kv_core_applied(s->core);
    if (!s->applied_term || s->applied_term_index != index) {
      kv_reply_error(s, peer, m, RV_EAGAIN, true,
                     "snapshot read: %s has not applied the entry at its index %llu since it "
                     "started, so it does not know its term yet (a leader's first entry "
                     "settles it); retry",
                     s->cfg->node_id, (unsigned long long)index);
      return;
    }
    o = s_slot(s);
    rv_err_t err;
    if (kv_rocks_reader_new(s->rocks, &o->rd, &err) != RV_OK) {
      kv_reply_error(s, peer, m, err.code, false, "snapshot read: %s", err.msg);
      return;
    }
    kv_rocks_reader_skip(o->rd, KV_T_CHLOG);
    o->id = q->snapshot_stream;
    o->index = index;
    o->term = s->applied_term;
    o->estimated_keys = kv_rocks_estimate_keys(s->rocks);
    kv_buf_init(&o->prev);
    rv_info("snapshot save stream %llu: a consistent view at index %llu, term %llu",
            (unsigned long long)o->id, (unsigned long long)o->index,
            (unsigned long long)o->term);
  } else if (!o) {
    kv_reply_error(s, peer, m, RV_ENOTFOUND, false,
                   "snapshot read: no stream %llu on %s (it was idle for %d ms, more than %d "
                   "saves ran at once, or kv-store restarted or replaced its store); start the "
                   "save again",
                   (unsigned long long)q->snapshot_stream, s->cfg->node_id, KV_SNAP_IDLE_MS,
                   KV_SAVE_STREAMS);
    return;
  } else if (q->snapshot_offset == o->prev_off && o->next_off != o->prev_off) {
    o->last_ms = kv_now_ms(); /* the answer before was lost: the same chunk again */
    s_answer(s, peer, m, o, o->prev_off, &o->prev, o->prev_last);
    return;
  } else if (q->snapshot_offset != o->next_off || o->prev_last) {
    kv_reply_error(s, peer, m, RV_EPROTO, false,
                   "snapshot read: stream %llu is at offset %llu%s, not %llu",
                   (unsigned long long)o->id, (unsigned long long)o->next_off,
                   o->prev_last ? " (complete)" : "", (unsigned long long)q->snapshot_offset);
    return;
  }
  o->last_ms = kv_now_ms();
  kv_buf_reset(&o->prev);
  bool last = false;
  rv_err_t err;
  int rc = kv_rocks_reader_next(o->rd, &o->prev, KV_SNAP_CHUNK_BYTES, &last, &err);
  if (rc == RV_OK && !kv_buf_ok(&o->prev)) rc = rv_err_set(&err, RV_ENOMEM, "out of memory");
  if (rc) {
    rv_error("snapshot save stream %llu: %s", (unsigned long long)o->id, err.msg);
    kv_reply_error(s, peer, m, rc, false, "snapshot read at offset %llu: %s",
                   (unsigned long long)o->next_off, err.msg);
    s_drop(o);
    return;
  }
  o->prev_off = o->next_off;
  o->prev_last = last;
  o->next_off += o->prev.len;
  s_answer(s, peer, m, o, o->prev_off, &o->prev, last);
  if (last)
    rv_info("snapshot save stream %llu read out: %llu bytes", (unsigned long long)o->id,
            (unsigned long long)o->next_off);
}

void kv_save_tick(kv_actor_t *s, int64_t now_ms) {
  for (int i = 0; i < KV_SAVE_STREAMS; i++) {
    kv_save_stream_t *o = &s->saves[i];
    if (o->id && now_ms - o->last_ms >= KV_SNAP_IDLE_MS) {
      rv_info("snapshot save stream %llu idle for %d ms: view released",
              (unsigned long long)o->id, KV_SNAP_IDLE_MS);
      s_drop(o);
    }
  }
}

void kv_save_close(kv_actor_t *s) {
  for (int i = 0; i < KV_SAVE_STREAMS; i++) s_drop(&s->saves[i]);
}
