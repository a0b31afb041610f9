/* kv_reads: the kv-store's read path. A linearizable read (the default) gets a read index from
 * raft-peer (ReadIndex, Raft thesis §6.4: the leader confirms it still leads and gives its
 * commit index; a follower asks the leader), every read of a loop wake-up in one
 * ReadIndexRequest, and is served once this node has applied up to that index. A stale read is
 * served at once from whatever this node has applied. I/O shell over kv_core's reads. */
#include <stdlib.h>
#include <string.h>

#include "kv_actor_int.h"

static void s_stat_fill(Rv__FsStat *o, const char *name, const kv_stat_t *st) {
  rv__fs_stat__init(o);
  o->name = (char *)name;
  o->type = st->attr.type;
  o->perm = st->attr.perm;
  o->mtime_ms = st->attr.mtime_ms;
  o->atime_ms = st->attr.atime_ms;
  o->size = st->attr.size;
  o->nchildren = st->attr.nchildren;
  o->owner = (char *)st->attr.owner;
  o->group = (char *)st->attr.group;
  o->inode = st->inode;
  o->dirs = st->count.dirs;
  o->files = st->count.files;
  o->bytes = st->count.bytes;
}

/* Runs the read q against the applied state and answers it. */
static void s_execute(kv_actor_t *s, const rv_listener_peer_t *peer, const rv_msg_t *env,
                      const Rv__FsRequest *q) {
  Rv__FsReply r = RV__FS_REPLY__INIT;
  rv_err_t err;
  rv_err_clear(&err);
  const char *path = (const char *)q->path.data;
  size_t plen = q->path.len;
  int rc;
  Rv__FsStat one, *items = NULL, **ptrs = NULL;
  Rv__XAttr *xa = NULL, **xp = NULL;
  kv_stat_t st; /* one's strings point into it: it lives as long as r */
  kv_ls_t ls;
  kv_ls_init(&ls);
  kv_buf_t content;
  kv_buf_init(&content);
  /* whom the read is for: the core checks HDFS' permissions for that principal */
  kv_principal_t who;
  char why[KV_MSG_MAX];
  if ((rc = kv_auth_principal(s, peer, q, &who, why, sizeof why))) {
    rv_err_set(&err, rc, "%s", why);
    goto answer;
  }
  kv_core_read_as(s->core, &who);
  switch (q->op) {
    case RV__FS_OP__FS_STAT: {
      if ((rc = kv_core_stat(s->core, path, plen, &st, &err)) == RV_OK) {
        s_stat_fill(&one, "", &st);
        r.stat = &one;
      }
      break;
    }
    case RV__FS_OP__FS_COUNT: {
      kv_count_t c;
      if ((rc = kv_core_count(s->core, path, plen, &c, &err)) == RV_OK) {
        r.dirs = c.dirs;
        r.files = c.files;
        r.bytes = c.bytes;
      }
      break;
    }
    case RV__FS_OP__FS_CAT:
      if ((rc = kv_core_cat(s->core, path, plen, &content, &err)) == RV_OK) {
        r.content.data = content.data;
        r.content.len = content.len;
      }
      break;
    case RV__FS_OP__FS_GETXATTRS: {
      kv_xattr_t xs[KV_XATTRS_MAX];
      size_t n = 0;
      if ((rc = kv_core_getxattrs(s->core, path, plen, &content, &err))) break;
      if (content.len && kv_xattrs_decode(content.data, content.len, xs, &n)) {
        rc = rv_err_set(&err, RV_ECORRUPT, "getxattrs: malformed");
        break;
      }
      xa = calloc(n ? n : 1, sizeof *xa);
      xp = calloc(n ? n : 1, sizeof *xp);
      if (!xa || !xp) {
        rc = rv_err_set(&err, RV_ENOMEM, "getxattrs: out of memory");
        break;
      }
      for (size_t i = 0; i < n; i++) {
        rv__xattr__init(&xa[i]);
        xa[i].name = (ProtobufCBinaryData){xs[i].name.len, (uint8_t *)xs[i].name.p};
        xa[i].value = (ProtobufCBinaryData){xs[i].value.len, (uint8_t *)xs[i].value.p};
        xp[i] = &xa[i];
      }
      r.n_xattrs = n;
      r.xattrs = xp;
      break;
    }
    case RV__FS_OP__FS_LS: {
      size_t limit = q->limit ? q->limit : KV_LS_DEFAULT;
      if (limit > KV_LS_PAGE_MAX) limit = KV_LS_PAGE_MAX;
      rc = kv_core_ls_match(s->core, path, plen, (const char *)q->start_after.data,
                            q->start_after.len, limit, (const char *)q->pattern.data,
                            q->pattern.len, &ls, &err);
      /* the listed path itself: a file lists as itself, a directory its page */
      if (rc || (rc = kv_core_stat(s->core, path, plen, &st, &err))) break;
      s_stat_fill(&one, "", &st);
      r.stat = &one;
      items = calloc(ls.n ? ls.n : 1, sizeof *items);
      ptrs = calloc(ls.n ? ls.n : 1, sizeof *ptrs);
      if (!items || !ptrs) {
        rc = rv_err_set(&err, RV_ENOMEM, "ls: out of memory for %zu entries", ls.n);
        break;
      }
      for (size_t i = 0; i < ls.n; i++) {
        s_stat_fill(&items[i], ls.items[i].name, &ls.items[i].st);
        ptrs[i] = &items[i];
      }
      r.n_entries = ls.n;
      r.entries = ptrs;
      r.more = ls.more;
      r.resume_after.data = (uint8_t *)ls.resume;
      r.resume_after.len = ls.more ? ls.resume_len : 0;
      break;
    }
    case RV__FS_OP__FS_DIGEST:
      /* the whole namespace: an administrator's tool (HDFS checkSuperuserPrivilege) */
      if ((rc = kv_perm_check_superuser(&who, why, sizeof why))) {
        rv_err_set(&err, rc, "%s", why);
        break;
      }
      /* KV_DIGEST_NAMESPACE: directories, files, attributes, contents and xattrs only. All of
       * it is decided by the committed commands (times are the leader's, inside them), so
       * replicas at the same applied index agree byte for byte. KV_DIGEST_ALL would add the session table
       * (exactly-once bookkeeping whose expiry depends on the session configuration, not on
       * what the namespace holds) and the meta key (the core's own applied index and clock):
       * not what a user compares, and it would tie the digest to those internals. Hashed in
       * slices over a view (kv_digest.c), never in one go on the loop: it answers later. */
      kv_digest_start(s, peer, env);
      return;
    default: rc = rv_err_set(&err, RV_EINVAL, "operation %d is not a read", (int)q->op);
  }
  kv_core_read_as(s->core, NULL);
answer:
  r.code = (uint32_t)rc;
  r.message = rc ? err.msg : "";
  r.index = s->applied;
  kv_reply(s, peer, env, (int)q->op, &r);
  free(items);
  free(ptrs);
  free(xa);
  free(xp);
  kv_ls_close(&ls);
  kv_buf_close(&content);
}

void kv_reads_request(kv_actor_t *s, const rv_listener_peer_t *peer, rv_msg_t *m) {
  const Rv__FsRequest *q = (const Rv__FsRequest *)m->body;
  const char *op = kv_fs_op_name((int)q->op);
  if (q->path.len > KV_PATH_MAX) {
    kv_reply_error(s, peer, m, RV_EINVAL, false, "%s: path of %zu bytes exceeds %d bytes", op,
                   q->path.len, KV_PATH_MAX);
    return;
  }
  if (q->op == RV__FS_OP__FS_DIGEST && q->path.len) {
    kv_reply_error(s, peer, m, RV_EINVAL, false,
                   "digest: takes no path (it covers the whole namespace); send an empty one");
    return;
  }
  if (q->stale) {
    s->stale_reads++;
    s_execute(s, peer, m, q);
    return;
  }
  if (!s->attached) {
    kv_reply_error(s, peer, m, RV_EUNAVAIL, true,
                   "%s: kv-store on %s is not connected to its raft-peer yet", op,
                   s->cfg->node_id);
    return;
  }
  rv_err_t err;
  kv_req_t *r = kv_req_new(s, KV_REQ_READ, peer, m, kv_now_ms() + KV_READ_DEADLINE_MS, &err);
  if (!r) { /* its connection's in-flight cap, or memory: retriable either way */
    kv_reply_error(s, peer, m, RV_EBUSY, true, "%s: %s", op, err.msg);
    return;
  }
  r->fs = (Rv__FsRequest *)m->body; /* kept until the read is served: the whole message, */
  r->fs_msg = *m;                    /* whose arena (rv_msg_decode_pooled) holds the body */
  m->body = NULL;
  m->arena = NULL;
  kv_req_queue(s, r);
}

void kv_reads_flush(kv_actor_t *s, kv_req_t **rs, size_t n) {
  uint64_t *ctxs = malloc(n * sizeof *ctxs);
  int rc = RV_ENOMEM;
  if (ctxs) {
    for (size_t i = 0; i < n; i++) ctxs[i] = rs[i]->id;
    Rv__ReadIndexRequest q = RV__READ_INDEX_REQUEST__INIT;
    q.n_ctxs = n;
    q.ctxs = ctxs;
    rc = rv_actor_send(s->a, "raft-peer", RV_MSG_READ_INDEX_REQUEST, &q.base, 0);
  }
  free(ctxs);
  for (size_t i = 0; i < n; i++) {
    if (rc)
      kv_req_fail(s, rs[i], RV_EUNAVAIL, "%s: this node's raft-peer does not take reads (%s)",
                  kv_fs_op_name(rs[i]->op), rv_code_text(rc));
    else
      rs[i]->state = KV_REQ_SENT;
  }
  if (!rc) {
    s->reads += n;
    s->read_batches++;
  }
}

void kv_reads_index_result(kv_actor_t *s, const Rv__ReadIndexResult *res) {
  bool served_later = false;
  for (size_t i = 0; i < res->n_ctxs; i++) {
    kv_req_t *r = kv_req_by_id(s, res->ctxs[i]);
    if (!r || r->kind != KV_REQ_READ || r->state != KV_REQ_SENT) continue;
    if (res->code) {
      kv_req_fail(s, r, RV_EUNAVAIL, "%s: %s knows no leader to confirm the read (%s); retry",
                  kv_fs_op_name(r->op), s->cfg->node_id, rv_code_text((int)res->code));
      continue;
    }
    if (i >= res->n_indexes) {
      kv_req_fail(s, r, RV_EAGAIN, "%s: raft-peer gave no read index; retry",
                  kv_fs_op_name(r->op));
      continue;
    }
    r->index = res->indexes[i];
    r->state = KV_REQ_WAITING;
    served_later = true;
  }
  if (served_later) kv_reads_serve(s);
}

void kv_reads_serve(kv_actor_t *s) {
  for (kv_req_t *r = s->head, *next; r; r = next) {
    next = r->next;
    if (r->kind != KV_REQ_READ || r->state != KV_REQ_WAITING || r->index > s->applied) continue;
    s_execute(s, &r->peer, &r->env, r->fs);
    kv_req_done(s, r);
  }
}

void kv_reads_node_status(kv_actor_t *s, const rv_listener_peer_t *peer, rv_msg_t *m) {
  Rv__NodeStatus ns = RV__NODE_STATUS__INIT;
  ns.node = (char *)s->cfg->node_id;
  ns.cluster = (char *)s->cfg->cluster_id;
  ns.role = s->role;
  ns.term = s->term;
  ns.leader = s->leader_node;
  ns.commit = s->commit;
  ns.applied = kv_core_applied(s->core);
  ns.last_index = s->last_index;
  ns.db_size = kv_rocks_size(s->rocks);
  ns.version = KV_VERSION;
  ns.uptime_ms = (uint64_t)(kv_now_ms() - s->started_ms);
  ns.feature_level = s->core_cfg.feature_level;
  /* the leader gathers the members' levels (kv_feature.h); a follower does not */
  ns.cluster_level = s->leader ? kv_feature_cluster_level(&s->levels) : 0;
  /* what this node can tell by itself: attached to its raft-peer, a leader known */
  ns.health = !s->attached         ? "unhealthy: kv-store is not attached to its raft-peer"
              : !s->leader_node[0] ? "unhealthy: no leader known"
                                   : "healthy";
  Rv__FsReply r = RV__FS_REPLY__INIT;
  r.index = ns.applied;
  r.node_status = &ns;
  kv_reply(s, peer, m, RV__FS_OP__FS_NODE_STATUS, &r);
}
