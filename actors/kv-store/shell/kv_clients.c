/* kv_clients: the kv-store's client socket (the node's client-port), the table of requests that
 * wait for raft-peer, and the write path: validate, stamp, encode, batch every write of a loop
 * wake-up into one ProposeBatch, remember where each went, answer when its index is applied.
 * I/O shell. Reads are kv_reads.c. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "kv_actor_int.h"
#include "rv_auth.h"

/* ---- replies ------------------------------------------------------------------------------ */

void kv_reply(kv_actor_t *s, const rv_listener_peer_t *peer, const rv_msg_t *env, int op,
              Rv__FsReply *r) {
  if (op > 0 && op < KV_FS_OPS) {
    uint64_t now = rv_mono_us();
    rv_hist_observe(&s->op_latency[op], now > env->sent_at_us ? now - env->sent_at_us : 0);
    if (r->code) s->op_errors[op]++;
  }
  r->replicas = (uint32_t)s->cfg->nnodes;
  rv_err_t err;
  if (rv_listener_reply(s->clients, peer, env, RV_MSG_FS_REPLY, &r->base, &err) != RV_OK)
    rv_debug("reply to %s/%s: %s", env->from.node, env->from.actor, err.msg);
}

static void s_reply_verror(kv_actor_t *s, const rv_listener_peer_t *peer, const rv_msg_t *env,
                           int op, int code, bool retry, const char *fmt, va_list ap) {
  char msg[KV_MSG_MAX + 64];
  vsnprintf(msg, sizeof msg, fmt, ap);
  Rv__FsReply r = RV__FS_REPLY__INIT;
  r.code = (uint32_t)code;
  r.message = msg;
  r.retry = retry;
  r.leader = retry ? s->leader_hint : "";
  if (retry) s->retriable++;
  kv_reply(s, peer, env, op, &r);
}

void kv_reply_error(kv_actor_t *s, const rv_listener_peer_t *peer, const rv_msg_t *env, int code,
                    bool retry, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  /* env is the request as received: its body says the operation */
  int op = env->body ? (int)((const Rv__FsRequest *)env->body)->op : 0;
  s_reply_verror(s, peer, env, op, code, retry, fmt, ap);
  va_end(ap);
}

/* ---- the request table -------------------------------------------------------------------- */

/* u64 keys stored in the pointer itself (ids and indexes start at 1, never NULL). */
static size_t s_hash(const void *key) {
  uint64_t x = (uint64_t)(uintptr_t)key;
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdull;
  x ^= x >> 33;
  return (size_t)x;
}
static int s_cmp(const void *a, const void *b) { return a < b ? -1 : a > b; }
#define S_KEY(u) ((void *)(uintptr_t)(u))

static zhashx_t *s_table(void) {
  zhashx_t *h = zhashx_new();
  if (!h) return NULL;
  zhashx_set_key_hasher(h, s_hash);
  zhashx_set_key_comparator(h, s_cmp);
  zhashx_set_key_duplicator(h, NULL);
  zhashx_set_key_destructor(h, NULL);
  return h;
}

kv_req_t *kv_req_new(kv_actor_t *s, kv_req_kind_t kind, const rv_listener_peer_t *peer,
                     const rv_msg_t *m, int64_t deadline_ms, rv_err_t *err) {
  bool client = m->type != RV_MSG_RECOVERY_COMMAND;
  if (client && rv_listener_slot_take(s->clients, peer, err) != RV_OK) return NULL;
  kv_req_t *r = calloc(1, sizeof *r);
  if (!r) {
    if (client) rv_listener_slot_give(s->clients, peer);
    rv_err_set(err, RV_ENOMEM, "kv-store on %s is out of memory", s->cfg->node_id);
    return NULL;
  }
  r->slot = client;
  if (++s->next_id == 0) ++s->next_id; /* 0 is never an id (see kv_req_by_id) */
  r->id = s->next_id;
  r->kind = kind;
  r->state = KV_REQ_QUEUED;
  if (peer) r->peer = *peer;
  r->env = *m;
  r->env.body = NULL;
  r->env.arena = NULL;
  if (m->type == RV_MSG_RECOVERY_COMMAND) {
    r->local = true;
    r->op = KV_FS_OP_RECOVERY;
    r->op_kind = (int)((const Rv__RecoveryCommand *)m->body)->kind;
  } else {
    r->op = (uint8_t)((const Rv__FsRequest *)m->body)->op;
  }
  r->deadline_ms = deadline_ms;
  kv_buf_init(&r->cmd);
  if (zhashx_insert(s->by_id, S_KEY(r->id), r) != 0) {
    if (r->slot) rv_listener_slot_give(s->clients, &r->peer);
    free(r);
    rv_err_set(err, RV_ENOMEM, "kv-store on %s is out of memory", s->cfg->node_id);
    return NULL;
  }
  r->prev = s->tail;
  if (s->tail)
    s->tail->next = r;
  else
    s->head = r;
  s->tail = r;
  s->npending++;
  return r;
}

/* Ids come from raft-peer's answers, and a read index's context from a Raft message: a member
 * may send any, 0 included, which is never ours (ids start above 0 and count up; 0 as a key is
 * NULL, which zhashx asserts on: the member fuzzer crashed kv-store so). */
kv_req_t *kv_req_by_id(kv_actor_t *s, uint64_t id) {
  return id ? zhashx_lookup(s->by_id, S_KEY(id)) : NULL;
}

void kv_req_done(kv_actor_t *s, kv_req_t *r) {
  zhashx_delete(s->by_id, S_KEY(r->id));
  if (r->kind == KV_REQ_WRITE && r->state == KV_REQ_WAITING &&
      zhashx_lookup(s->by_index, S_KEY(r->index)) == r)
    zhashx_delete(s->by_index, S_KEY(r->index));
  if (r->prev)
    r->prev->next = r->next;
  else
    s->head = r->next;
  if (r->next)
    r->next->prev = r->prev;
  else
    s->tail = r->prev;
  s->npending--;
  if (r->slot) rv_listener_slot_give(s->clients, &r->peer);
  kv_buf_close(&r->cmd);
  rv_msg_clear(&r->fs_msg); /* r->fs with it */
  free(r);
}

void kv_req_fail(kv_actor_t *s, kv_req_t *r, int code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  if (r->local) {
    char msg[KV_MSG_MAX + 64];
    vsnprintf(msg, sizeof msg, fmt, ap);
    kv_recover_fail(s, r, code, msg);
  } else {
    s_reply_verror(s, &r->peer, &r->env, r->op, code, true, fmt, ap);
  }
  va_end(ap);
  kv_req_done(s, r);
}

bool kv_req_queue(kv_actor_t *s, kv_req_t *r) {
  bool w = r->kind == KV_REQ_WRITE;
  kv_req_t ***arr = w ? &s->wq : &s->rq;
  size_t *n = w ? &s->nwq : &s->nrq, *cap = w ? &s->capwq : &s->caprq;
  if (*n == *cap) {
    size_t c = *cap ? 2 * *cap : 64;
    kv_req_t **q = realloc(*arr, c * sizeof *q);
    if (!q) {
      kv_req_fail(s, r, RV_EBUSY, "%s: kv-store on %s is out of memory", kv_fs_op_name(r->op),
                  s->cfg->node_id);
      return false;
    }
    *arr = q;
    *cap = c;
  }
  (*arr)[(*n)++] = r;
  return true;
}

/* ---- writes -------------------------------------------------------------------------------- */

/* Which request flags each write takes (the rest must be unset). */
static const char *s_flag_refused(const Rv__FsRequest *q) {
  bool parents_ok = q->op == RV__FS_OP__FS_MKDIR || q->op == RV__FS_OP__FS_PUT;
  bool rm = q->op == RV__FS_OP__FS_RM, setattr = q->op == RV__FS_OP__FS_SETATTR;
  if (q->parents && !parents_ok) return "parents";
  if (q->overwrite && q->op != RV__FS_OP__FS_PUT) return "overwrite";
  if (q->recursive && !rm) return "recursive";
  if ((q->file_only || q->dir_only) && !rm) return "file_only/dir_only";
  if ((q->set_mask || q->mtime_ms || q->atime_ms || q->times_now) && !setattr)
    return "set_mask/mtime_ms/atime_ms/times_now";
  if (setattr && (q->set_mask & ~(uint32_t)KV_SET_ALL)) return "set_mask (unknown bits)";
  if (q->times_now && (q->mtime_ms || q->atime_ms)) return "times_now (with explicit times)";
  if (q->length && q->op != RV__FS_OP__FS_TRUNCATE) return "length";
  if (q->n_sources && q->op != RV__FS_OP__FS_CONCAT) return "sources";
  if (q->data.len && q->op != RV__FS_OP__FS_PUT && q->op != RV__FS_OP__FS_APPEND) return "data";
  bool xattr = q->op == RV__FS_OP__FS_SETXATTR || q->op == RV__FS_OP__FS_REMOVEXATTR;
  if (q->xattr_name.len && !xattr) return "xattr_name";
  if (q->xattr_value.len && q->op != RV__FS_OP__FS_SETXATTR) return "xattr_value";
  return NULL;
}

/* Checks a path before it may enter the log; on failure answers and returns false. */
static bool s_path_ok(kv_actor_t *s, const rv_listener_peer_t *peer, const rv_msg_t *m,
                      const char *op, const ProtobufCBinaryData *p, const char *what) {
  rv_err_t err;
  if (p->len > KV_PATH_MAX) {
    kv_reply_error(s, peer, m, RV_EINVAL, false, "%s: %s of %zu bytes exceeds %d bytes", op, what,
                   p->len, KV_PATH_MAX);
    return false;
  }
  if (kv_path_parse(s->path, (const char *)p->data, p->len, &err) != RV_OK) {
    kv_reply_error(s, peer, m, RV_EINVAL, false, "%s: %s", op, err.msg);
    return false;
  }
  return true;
}

static void s_write_cmd(kv_actor_t *s, const rv_listener_peer_t *peer, const rv_msg_t *m,
                        const kv_cmd_t *cmd);

static void s_write(kv_actor_t *s, const rv_listener_peer_t *peer, const rv_msg_t *m) {
  const Rv__FsRequest *q = (const Rv__FsRequest *)m->body;
  const char *op = kv_fs_op_name((int)q->op);
  if (!s->attached) {
    kv_reply_error(s, peer, m, RV_EUNAVAIL, true,
                   "%s: kv-store on %s is not connected to its raft-peer yet", op,
                   s->cfg->node_id);
    return;
  }
  if (!s->leader) {
    s->redirects++;
    if (s->leader_hint[0])
      kv_reply_error(s, peer, m, RV_ENOTLEADER, true, "%s: %s is not the leader; %s (%s) is",
                     op, s->cfg->node_id, s->leader_node, s->leader_hint);
    else
      kv_reply_error(s, peer, m, RV_EUNAVAIL, true,
                     "%s: %s is not the leader and knows no leader (an election may be under "
                     "way)", op, s->cfg->node_id);
    return;
  }
  if (s->cfg->ots_recovery_mode && s->core && q->op != RV__FS_OP__FS_RECOVERY_LEAVE) {
    /* ots.recovery-mode: read-only until the recovery is left. Before RecoveryBegin applies
     * (state none) the core would take a write, and that write would make the recovery
     * refuse to begin: refused here. RUNNING and FINISH are refused by the apply itself (in
     * the log's order); a recovery left (LEFT) makes the namespace writable. */
    kv_recovery_t st;
    kv_core_recovery(s->core, &st);
    if (st.phase == KV_RECOVERY_NONE) {
      kv_reply_error(s, peer, m, RV_ERECOVERY, false, "%s", RV_ERECOVERY_MSG);
      return;
    }
  }
  if (s->ha.fence[0]) {
    /* a new leader takes writes once the previous one is fenced (raft-peer's raft_fence.c) */
    kv_reply_error(s, peer, m, RV_EUNAVAIL, true, "%s: %s leads but takes no writes yet: %s; "
                   "retry", op, s->cfg->node_id, s->ha.fence);
    return;
  }
  /* the cluster-wide feature gate: an op enters the log only once every member knows it */
  char fwhy[KV_MSG_MAX];
  int frc = kv_feature_admit(s, q->op == RV__FS_OP__FS_RECOVERY_LEAVE ? KV_OP_RECOVERY_LEAVE
                                                                      : (int)q->op,
                             fwhy, sizeof fwhy);
  if (frc) {
    char shown[KV_PATH_SHOW_MAX * 4 + 8];
    kv_reply_error(s, peer, m, frc, frc == RV_EUNAVAIL, "%s %s: %s %s", op,
                   kv_path_show(shown, sizeof shown, q->path.data, q->path.len), op, fwhy);
    return;
  }
  const char *flag = s_flag_refused(q);
  if (flag && q->op != RV__FS_OP__FS_RECOVERY_LEAVE) {
    char shown[KV_PATH_SHOW_MAX * 4 + 8];
    kv_reply_error(s, peer, m, RV_EINVAL, false, "%s \"%s\" does not take the %s flag", op,
                   kv_path_show(shown, sizeof shown, q->path.data, q->path.len), flag);
    return;
  }
  if (q->client_id && !q->seq) {
    kv_reply_error(s, peer, m, RV_EINVAL, false, "%s: client %016llx sent sequence number 0", op,
                   (unsigned long long)q->client_id);
    return;
  }
  if (q->perm > KV_PERM_MAX) {
    kv_reply_error(s, peer, m, RV_EINVAL, false, "%s: permission %o is out of range (0..07777)",
                   op, q->perm);
    return;
  }
  if (q->data.len > s->core_cfg.inline_max) {
    kv_reply_error(s, peer, m, RV_ETOOBIG, false,
                   "%s: content of %zu bytes exceeds the inline limit of %u bytes", op,
                   q->data.len, s->core_cfg.inline_max);
    return;
  }
  if (q->op == RV__FS_OP__FS_RECOVERY_LEAVE) { /* no path, no flags: a recovery command */
    if (flag || q->path.len || q->data.len) {
      kv_reply_error(s, peer, m, RV_EINVAL, false, "%s takes no path, data or flag", op);
      return;
    }
    /* making the whole namespace writable again is the superuser's decision (as HDFS's
     * `dfsadmin -safemode leave`) */
    char swhy[KV_MSG_MAX];
    int src = kv_auth_superuser(s, peer, q, swhy, sizeof swhy);
    if (src) {
      kv_reply_error(s, peer, m, src, false, "%s", swhy);
      return;
    }
    s_write_cmd(s, peer, m, &(kv_cmd_t){.op = KV_OP_RECOVERY_LEAVE, .client_id = q->client_id,
                                        .seq = q->seq,
                                        .time_ms = (int64_t)(rv_wall_us() / 1000)});
    return;
  }
  if (!s_path_ok(s, peer, m, op, &q->path, "path")) return;
  if (q->op == RV__FS_OP__FS_MV && !s_path_ok(s, peer, m, op, &q->path2, "destination")) return;
  if (q->op == RV__FS_OP__FS_CONCAT) {
    if (q->n_sources == 0 || q->n_sources > KV_CONCAT_SRCS_MAX) {
      kv_reply_error(s, peer, m, RV_EINVAL, false, "%s: %zu sources (expected 1..%d)", op,
                     q->n_sources, KV_CONCAT_SRCS_MAX);
      return;
    }
    for (size_t i = 0; i < q->n_sources; i++)
      if (!s_path_ok(s, peer, m, op, &q->sources[i], "source")) return;
  }
  bool creates = q->op == RV__FS_OP__FS_MKDIR || q->op == RV__FS_OP__FS_PUT ||
                 q->op == RV__FS_OP__FS_TOUCHZ || q->op == RV__FS_OP__FS_APPEND;
  /* who asks: the leader stamps it into the command, so every replica checks the same */
  kv_principal_t who;
  char why[KV_MSG_MAX];
  int prc = kv_auth_principal(s, peer, q, &who, why, sizeof why);
  if (prc) {
    kv_reply_error(s, peer, m, prc, false, "%s", why);
    return;
  }
  const char *owner = "", *group = "";
  unsigned perm = 0;
  if (creates) {
    if (q->owner[0] || q->group[0]) {
      kv_reply_error(s, peer, m, RV_EINVAL, false, "%s: owner/group are not taken on create: the "
                     "owner is the user, the group the parent's (HDFS); use setattr (chown)", op);
      return;
    }
    perm = kv_auth_create_mode(s, q->perm, q->op == RV__FS_OP__FS_MKDIR);
  } else if (q->op == RV__FS_OP__FS_SETATTR) { /* as sent: the core checks them against the mask */
    owner = q->owner;
    group = q->group;
    perm = q->perm;
  }
  int64_t now = (int64_t)(rv_wall_us() / 1000); /* the leader decides the time */
  kv_cmd_t cmd = {
      .op = (uint8_t)q->op,
      .client_id = q->client_id,
      .seq = q->seq,
      .time_ms = now,
      .flags = (uint8_t)((q->parents ? KV_F_PARENTS : 0) | (q->overwrite ? KV_F_OVERWRITE : 0) |
                         (q->recursive ? KV_F_RECURSIVE : 0) |
                         (q->file_only ? KV_F_FILE_ONLY : 0) | (q->dir_only ? KV_F_DIR_ONLY : 0)),
      .set_mask = (uint8_t)q->set_mask,
      .perm = (uint16_t)perm,
      .mtime_ms = q->times_now && (q->set_mask & KV_SET_MTIME) ? now : q->mtime_ms,
      .atime_ms = q->times_now && (q->set_mask & KV_SET_ATIME) ? now : q->atime_ms,
      .path = {q->path.data, q->path.len},
      .path2 = {q->path2.data, q->path2.len},
      .owner = {(const uint8_t *)owner, strlen(owner)},
      .group = {(const uint8_t *)group, strlen(group)},
      .data = {q->data.data, q->data.len},
  };
  /* truncate and concat carry their arguments in the command's data (kv_cmd.h) */
  uint8_t len_be[KV_TRUNCATE_LEN];
  kv_buf_t srcs;
  kv_buf_init(&srcs);
  if (q->op == RV__FS_OP__FS_TRUNCATE) {
    kv_be64_put(len_be, q->length);
    cmd.data = (kv_bytes_t){len_be, sizeof len_be};
  } else if (q->op == RV__FS_OP__FS_SETXATTR || q->op == RV__FS_OP__FS_REMOVEXATTR) {
    /* the core checks the name (HDFS' rules); these are only what the encoding holds */
    if (q->xattr_name.len == 0 || q->xattr_name.len > KV_XATTR_NAME_MAX ||
        q->xattr_value.len > KV_XATTR_SIZE_MAX) {
      kv_buf_close(&srcs);
      kv_reply_error(s, peer, m, RV_EINVAL, false,
                     "%s: the name must be 1..%d bytes and the value at most %d bytes", op,
                     KV_XATTR_NAME_MAX, KV_XATTR_SIZE_MAX);
      return;
    }
    if (q->op == RV__FS_OP__FS_SETXATTR) {
      kv_buf_put_str8(&srcs, q->xattr_name.data, q->xattr_name.len);
      kv_buf_put_str16(&srcs, q->xattr_value.data, q->xattr_value.len);
    } else {
      kv_buf_put(&srcs, q->xattr_name.data, q->xattr_name.len);
    }
    if (!kv_buf_ok(&srcs)) {
      kv_buf_close(&srcs);
      kv_reply_error(s, peer, m, RV_EBUSY, true, "%s: out of memory", op);
      return;
    }
    cmd.data = (kv_bytes_t){srcs.data, srcs.len};
  } else if (q->op == RV__FS_OP__FS_CONCAT) {
    kv_bytes_t v[KV_CONCAT_SRCS_MAX];
    for (size_t i = 0; i < q->n_sources; i++) v[i] = (kv_bytes_t){q->sources[i].data, q->sources[i].len};
    rv_err_t err;
    int crc = kv_concat_srcs_encode(v, q->n_sources, &srcs, &err);
    if (crc) {
      kv_buf_close(&srcs);
      kv_reply_error(s, peer, m, crc, false, "%s", err.msg);
      return;
    }
    cmd.data = (kv_bytes_t){srcs.data, srcs.len};
  }
  kv_auth_stamp(&who, &cmd);
  s_write_cmd(s, peer, m, &cmd);
  kv_buf_close(&srcs);
}

/* Encodes cmd and queues it for this wake-up's ProposeBatch. */
static void s_write_cmd(kv_actor_t *s, const rv_listener_peer_t *peer, const rv_msg_t *m,
                        const kv_cmd_t *cmd) {
  rv_err_t err;
  kv_req_t *r = kv_req_new(s, KV_REQ_WRITE, peer, m, kv_now_ms() + KV_WRITE_DEADLINE_MS, &err);
  if (!r) { /* its connection's in-flight cap, or memory: retriable either way */
    kv_reply_error(s, peer, m, RV_EBUSY, true, "%s: %s", kv_op_name(cmd->op), err.msg);
    return;
  }
  int rc = kv_cmd_encode(cmd, &r->cmd, &err);
  if (rc) {
    kv_reply_error(s, peer, m, rc, false, "%s", err.msg);
    kv_req_done(s, r);
    return;
  }
  kv_req_queue(s, r);
}

/* Proposes ws[0..n) in one ProposeBatch (or fails them, retriable, when raft-peer is away). */
static void s_propose_one(kv_actor_t *s, kv_req_t **ws, size_t n) {
  Rv__Proposal *props = calloc(n, sizeof *props);
  Rv__Proposal **ptrs = calloc(n, sizeof *ptrs);
  int rc = RV_ENOMEM;
  if (props && ptrs) {
    for (size_t i = 0; i < n; i++) {
      rv__proposal__init(&props[i]);
      props[i].id = ws[i]->id;
      props[i].data.data = ws[i]->cmd.data;
      props[i].data.len = ws[i]->cmd.len;
      ptrs[i] = &props[i];
    }
    Rv__ProposeBatch b = RV__PROPOSE_BATCH__INIT;
    b.n_proposals = n;
    b.proposals = ptrs;
    rc = rv_actor_send(s->a, "raft-peer", RV_MSG_PROPOSE_BATCH, &b.base, 0);
  }
  free(props);
  free(ptrs);
  for (size_t i = 0; i < n; i++) {
    if (rc) {
      kv_req_fail(s, ws[i], RV_EUNAVAIL, "%s: this node's raft-peer does not take proposals (%s)",
                  kv_fs_op_name(ws[i]->op), rv_code_text(rc));
      continue;
    }
    ws[i]->state = KV_REQ_SENT;
    kv_buf_close(&ws[i]->cmd);
  }
  if (!rc) {
    s->proposals += n;
    s->propose_batches++;
  }
}

/* The writes of this wake-up (ws[0..n)): one ProposeBatch, or a few when their commands would
 * not fit one envelope (big puts). */
static void s_propose(kv_actor_t *s, kv_req_t **ws, size_t n) {
  size_t start = 0, bytes = 0;
  for (size_t i = 0; i < n; i++) {
    if (i > start && bytes + ws[i]->cmd.len > KV_PROPOSE_BYTES_MAX) {
      s_propose_one(s, ws + start, i - start);
      start = i;
      bytes = 0;
    }
    bytes += ws[i]->cmd.len;
  }
  if (start < n) s_propose_one(s, ws + start, n - start);
}

void kv_clients_propose_result(kv_actor_t *s, Rv__ProposeOutcome *const *outcomes, size_t n) {
  for (size_t i = 0; i < n; i++) {
    const Rv__ProposeOutcome *o = outcomes[i];
    kv_req_t *r = kv_req_by_id(s, o->id);
    if (!r || r->kind != KV_REQ_WRITE || r->state != KV_REQ_SENT) continue;
    if (o->code) {
      kv_req_fail(s, r, o->code == RV_ENOTLEADER && !s->leader_hint[0] ? RV_EUNAVAIL : (int)o->code,
                  "%s: not accepted by raft-peer on %s: %s", kv_fs_op_name(r->op), s->cfg->node_id,
                  rv_code_text((int)o->code));
      continue;
    }
    if (o->index <= s->applied) { /* cannot happen in order; be safe: the retry finds out */
      kv_req_fail(s, r, RV_EAGAIN, "%s: index %llu was applied before its proposal returned",
                  kv_fs_op_name(r->op), (unsigned long long)o->index);
      continue;
    }
    kv_req_t *old = zhashx_lookup(s->by_index, S_KEY(o->index));
    if (old)
      kv_req_fail(s, old, RV_EAGAIN, "%s: index %llu was given to a newer proposal",
                  kv_fs_op_name(old->op), (unsigned long long)o->index);
    r->index = o->index;
    r->term = o->term;
    r->state = KV_REQ_WAITING;
    zhashx_insert(s->by_index, S_KEY(r->index), r);
  }
}

/* A client's write answered with its outcome. */
static void s_answer(kv_actor_t *s, kv_req_t *r, const kv_result_t *res) {
  Rv__FsReply rep = RV__FS_REPLY__INIT;
  rep.code = (uint32_t)res->code;
  rep.message = (char *)res->msg;
  rep.index = res->index;
  rep.inode = res->inode;
  rep.n = res->n;
  rep.replayed = res->skipped;
  kv_reply(s, &r->peer, &r->env, r->op, &rep);
  kv_req_done(s, r);
}

void kv_clients_applied(kv_actor_t *s, uint64_t index, uint64_t term, const kv_result_t *res) {
  if (!index) return; /* no entry has index 0 (and 0 as a key is NULL to zhashx) */
  kv_req_t *r = zhashx_lookup(s->by_index, S_KEY(index));
  if (!r) return;
  if (!res || term != r->term) {
    kv_req_fail(s, r, RV_EAGAIN,
                "%s: its log entry %llu (term %llu) was replaced by a newer leader's (term %llu)",
                kv_fs_op_name(r->op), (unsigned long long)index, (unsigned long long)r->term,
                (unsigned long long)term);
    return;
  }
  if (r->local) {
    kv_recover_applied(s, r, res);
    kv_req_done(s, r);
    return;
  }
  s_answer(s, r, res);
}

bool kv_clients_writes_waiting(const kv_actor_t *s) { return zhashx_size(s->by_index) > 0; }

bool kv_clients_answer_early(kv_actor_t *s, uint64_t index, uint64_t term, const kv_result_t *res) {
  kv_req_t *r = index ? zhashx_lookup(s->by_index, S_KEY(index)) : NULL;
  if (!r || !res || term != r->term || r->local) return false;
  s_answer(s, r, res);
  return true;
}

void kv_clients_leadership_changed(kv_actor_t *s, const char *why) {
  for (kv_req_t *r = s->head, *next; r; r = next) {
    next = r->next;
    /* a confirmed read index stays valid whoever leads now; everything else waited on a
     * leadership that is gone */
    if (r->kind == KV_REQ_READ && r->state == KV_REQ_WAITING) continue;
    if (r->state == KV_REQ_QUEUED) continue; /* goes out at the end of this wake-up */
    kv_req_fail(s, r, RV_EAGAIN, "%s: %s on %s; retry", kv_fs_op_name(r->op), why, s->cfg->node_id);
  }
}

void kv_clients_fail_all(kv_actor_t *s, const char *why) {
  for (kv_req_t *r = s->head, *next; r; r = next) {
    next = r->next;
    if (r->state != KV_REQ_QUEUED)
      kv_req_fail(s, r, RV_EUNAVAIL, "%s: %s (%s); retry", kv_fs_op_name(r->op), why,
                  s->cfg->node_id);
  }
}

void kv_clients_expire(kv_actor_t *s, int64_t now) {
  for (kv_req_t *r = s->head, *next; r; r = next) {
    next = r->next;
    if (r->state != KV_REQ_QUEUED && now >= r->deadline_ms)
      kv_req_fail(s, r, RV_ETIMEDOUT, "%s: not %s within %d ms on %s; retry", kv_fs_op_name(r->op),
                  r->kind == KV_REQ_WRITE ? "committed" : "confirmed",
                  r->kind == KV_REQ_WRITE ? KV_WRITE_DEADLINE_MS : KV_READ_DEADLINE_MS,
                  s->cfg->node_id);
  }
}

/* ---- the socket ---------------------------------------------------------------------------- */

static void s_request(kv_actor_t *s, const rv_listener_peer_t *peer, rv_msg_t *m) {
  const Rv__FsRequest *q = (const Rv__FsRequest *)m->body;
  /* the sender's wall clock is of no use here: the arrival, for kv_reply's latency */
  m->sent_at_us = rv_mono_us();
  switch (q->op) {
    case RV__FS_OP__FS_MKDIR:
    case RV__FS_OP__FS_PUT:
    case RV__FS_OP__FS_TOUCHZ:
    case RV__FS_OP__FS_RM:
    case RV__FS_OP__FS_MV:
    case RV__FS_OP__FS_SETATTR:
    case RV__FS_OP__FS_APPEND:
    case RV__FS_OP__FS_TRUNCATE:
    case RV__FS_OP__FS_CONCAT:
    case RV__FS_OP__FS_SETXATTR:
    case RV__FS_OP__FS_REMOVEXATTR:
    case RV__FS_OP__FS_RECOVERY_LEAVE: s_write(s, peer, m); break;
    case RV__FS_OP__FS_STAT:
    case RV__FS_OP__FS_LS:
    case RV__FS_OP__FS_CAT:
    case RV__FS_OP__FS_COUNT:
    case RV__FS_OP__FS_GETXATTRS:
    case RV__FS_OP__FS_DIGEST: kv_reads_request(s, peer, m); break;
    case RV__FS_OP__FS_NODE_STATUS: kv_reads_node_status(s, peer, m); break;
    case RV__FS_OP__FS_SNAPSHOT_READ: kv_save_request(s, peer, m); break;
    default:
      kv_reply_error(s, peer, m, RV_EINVAL, false, "unknown operation %d", (int)q->op);
  }
}

void kv_clients_stats(kv_actor_t *s, int64_t now) {
  if (now - s->stats_sent_ms < KV_STATS_MS) return;
  s->stats_sent_ms = now;
  Rv__KvOpStats ops[KV_FS_OPS], *pops[KV_FS_OPS];
  Rv__Histogram lat[KV_FS_OPS];
  size_t n = 0;
  for (int op = 1; op < KV_FS_OPS; op++) {
    if (!s->op_latency[op].count) continue;
    rv__kv_op_stats__init(&ops[n]);
    rv__histogram__init(&lat[n]);
    lat[n].n_buckets = RV_HIST_NBUCKETS;
    lat[n].buckets = s->op_latency[op].buckets;
    lat[n].count = s->op_latency[op].count;
    lat[n].sum_us = s->op_latency[op].sum_us;
    ops[n].op = (char *)kv_fs_op_name(op);
    ops[n].errors = s->op_errors[op];
    ops[n].latency = &lat[n];
    pops[n] = &ops[n];
    n++;
  }
  Rv__KvStats st = RV__KV_STATS__INIT;
  st.n_ops = n;
  st.ops = pops;
  st.sessions = kv_core_sessions(s->core);
  st.pending = s->npending;
  st.db_size = kv_rocks_size(s->rocks);
  st.write_stopped = kv_rocks_property(s->rocks, "rocksdb.is-write-stopped") != 0;
  st.delayed_write_rate = kv_rocks_property(s->rocks, "rocksdb.actual-delayed-write-rate");
  rv_actor_send(s->a, "supervisor", RV_MSG_KV_STATS, &st.base, 0);
}

/* Sends what this wake-up queued: one ProposeBatch and one ReadIndexRequest at most. */
void kv_clients_flush(kv_actor_t *s) {
  if (s->nwq) s_propose(s, s->wq, s->nwq);
  if (s->nrq) kv_reads_flush(s, s->rq, s->nrq);
  s->nwq = s->nrq = 0;
}

static void s_on_clients(rv_actor_t *a, zsock_t *sock, void *arg) {
  kv_actor_t *s = arg;
  rv_listener_turn_begin(s->clients);
  for (int k = 0; k < KV_CLIENT_DRAIN && !rv_listener_turn_over(s->clients); k++) {
    rv_listener_peer_t peer;
    rv_msg_t m;
    rv_err_t err;
    int rc = rv_listener_recv(s->clients, &peer, &m, &err);
    if (rc == RV_EAGAIN) break;
    if (rc == RV_EBUSY && m.type == RV_MSG_FS_REQUEST) {
      /* the connection does not read its replies: a retriable refusal, not more data */
      kv_reply_error(s, &peer, &m, RV_EBUSY, true, "%s", err.msg);
      rv_msg_clear(&m);
      continue;
    }
    if (rc && rc != RV_EBUSY) continue; /* dropped and counted by the listener */
    if (m.type == RV_MSG_FS_REQUEST) {
      /* its replies wait for the end of the turn and go out with the others to its connection
       * (rv_listener_turn_end: kv_clients_turn_end) */
      peer.batch = ((const Rv__FsRequest *)m.body)->batch_replies;
      s_request(s, &peer, &m);
    } else if (m.type == RV_MSG_HA_REQUEST) {
      kv_ha_request(s, &peer, &m);
    } else if (m.type == RV_MSG_REPL_STATUS_REQUEST) {
      kv_repl_status_client(s, &peer, &m);
    } else {
      char tb[32];
      static rv_log_limit_t limit; /* a client's choice: one line a second */
      rv_log_limited(&limit, CFG_LOG_WARN,
                     "client %s/%s sent a %s, not an FsRequest, HaRequest or ReplStatusRequest; ignored",
                     m.from.node, m.from.actor, rv_msgtype_name(m.type, tb, sizeof tb));
    }
    rv_msg_clear(&m);
  }
  kv_clients_flush(s);
  kv_clients_turn_end(s);
}

void kv_clients_turn_end(kv_actor_t *s) {
  if (s->clients) rv_listener_turn_end(s->clients);
}

int kv_clients_open(kv_actor_t *s, rv_err_t *err) {
  s->started_ms = kv_now_ms();
  if (!(s->by_id = s_table()) || !(s->by_index = s_table()))
    return rv_err_set(err, RV_ENOMEM, "out of memory");
  char ep[CFG_HOST_MAX + 32];
  const cfg_peer_t *self = &s->cfg->nodes[s->cfg->self];
  cfg_node_listen_endpoint(s->cfg, self->client_port, ep, sizeof ep);
  char what[64];
  snprintf(what, sizeof what, "client-port of %s", s->cfg->node_id);
  /* what one client, and the port, may cost: the largest request is a put of KV_DATA_MAX bytes
   * (KV_CMD_MAX encoded) in an envelope; replies a client does not read wait in a bounded queue
   * (then it is answered busy); one turn of the loop takes at most KV_CLIENT_TURN_BYTES, so the
   * heartbeats of the system inbox are answered between turns */
  rv_listener_limits_t lim = {.max_frame = KV_CMD_MAX + KV_ENVELOPE_SLACK,
                              .max_conns = KV_CLIENT_CONNS_MAX,
                              .max_queued_bytes = KV_CLIENT_QUEUED_MAX,
                              .turn_bytes = KV_CLIENT_TURN_BYTES,
                              .max_inflight = (unsigned)s->cfg->security_client_inflight};
  int rc = rv_listener_new_full(rv_actor_mailbox(s->a), ep, what, s->cfg, RV_AUTH_DOMAIN_CLIENT,
                                &lim, &s->clients, err);
  if (rc) return rc;
  if (rv_actor_reader_add(s->a, rv_listener_socket(s->clients), s_on_clients, s) != 0)
    return rv_err_set(err, RV_EINTERNAL, "cannot register the client socket");
  rv_info("serving clients on %s (%s)", ep,
          s->cfg->security_insecure ? "INSECURE: no authentication, no encryption"
                                    : "CURVE: clients of security.clients only");
  return RV_OK;
}

void kv_clients_close(kv_actor_t *s) {
  if (!s->by_id) return; /* never opened */
  while (s->head)
    kv_req_fail(s, s->head, RV_EUNAVAIL, "%s: kv-store on %s is stopping; retry",
                kv_fs_op_name(s->head->op), s->cfg->node_id);
  if (s->clients) rv_actor_reader_remove(s->a, rv_listener_socket(s->clients));
  rv_listener_destroy(&s->clients);
  zhashx_destroy(&s->by_id);
  zhashx_destroy(&s->by_index);
  free(s->wq);
  free(s->rq);
  s->wq = s->rq = NULL;
  s->nwq = s->nrq = s->capwq = s->caprq = 0;
  rv_info("served %llu proposals in %llu batches, %llu reads in %llu batches, %llu stale reads, "
          "%llu redirects, %llu retriable errors",
          (unsigned long long)s->proposals, (unsigned long long)s->propose_batches,
          (unsigned long long)s->reads, (unsigned long long)s->read_batches,
          (unsigned long long)s->stale_reads, (unsigned long long)s->redirects,
          (unsigned long long)s->retriable);
}
