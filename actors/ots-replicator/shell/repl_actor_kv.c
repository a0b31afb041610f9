/* repl_actor_kv: the replicator's side of messages/repl.proto with its node's kv-store: change
 * and base-copy requests, their pages (rows copied once, handed to the backend worker), ReplTrim
 * with the uploader's report (and the same report to the health-monitor), kv-store's ReplStatus
 * answers (the change log's backlog). I/O shell. */
#include <stdlib.h>
#include <string.h>

#include "repl_actor_int.h"

#define S_PAGE_BYTES (1u << 20) /* key + value bytes per page asked of kv-store */
#define S_PAGE_ROWS 10000

void repl_actor_page_free(repl_actor_t *s) {
  free(s->page_rows);
  free(s->page_arena);
  s->page_rows = NULL;
  s->page_arena = NULL;
  s->page_n = 0;
}

void repl_actor_kv_send(repl_actor_t *s, const repl_op_t *op) {
  int rc;
  if (op->kind == REPL_OP_KV_CHANGES) {
    Rv__ReplChangesRequest q = RV__REPL_CHANGES_REQUEST__INIT;
    q.stream = op->stream;
    q.page = op->page;
    q.after_index = op->after_index;
    q.max_bytes = S_PAGE_BYTES;
    q.max_rows = S_PAGE_ROWS;
    rc = rv_actor_send(s->a, "kv-store", RV_MSG_REPL_CHANGES_REQUEST, &q.base, op->id);
  } else {
    Rv__ReplBaseCopyRequest q = RV__REPL_BASE_COPY_REQUEST__INIT;
    q.stream = op->stream;
    q.page = op->page;
    q.max_bytes = 4u << 20; /* kv-store's page limit: fewer, bigger pages for a base copy */
    q.max_rows = S_PAGE_ROWS;
    rc = rv_actor_send(s->a, "kv-store", RV_MSG_REPL_BASE_COPY_REQUEST, &q.base, op->id);
  }
  /* a send that fails is retried by the core's kv timeout */
  if (rc) rv_debug("request to kv-store not sent (%d); the core retries it", rc);
}

/* A page's rows, copied out of the (borrowed) message into one arena. */
typedef struct {
  repl_row_t *rows;
  size_t n;
  void *arena;
} s_page_t;

static bool s_copy_rows(Rv__ReplRow **rows, size_t n, s_page_t *pg, uint64_t *bytes) {
  memset(pg, 0, sizeof *pg);
  size_t total = 0;
  for (size_t i = 0; i < n; i++) total += rows[i]->key.len + rows[i]->value.len;
  *bytes = total;
  if (!n) return true;
  pg->rows = calloc(n, sizeof *pg->rows);
  pg->arena = malloc(total ? total : 1);
  if (!pg->rows || !pg->arena) {
    free(pg->rows);
    free(pg->arena);
    return false;
  }
  uint8_t *p = pg->arena;
  for (size_t i = 0; i < n; i++) {
    repl_row_t *r = &pg->rows[i];
    memcpy(p, rows[i]->key.data, rows[i]->key.len);
    r->key = p;
    r->klen = rows[i]->key.len;
    p += r->klen;
    if (rows[i]->value.len) memcpy(p, rows[i]->value.data, rows[i]->value.len);
    r->val = p;
    r->vlen = rows[i]->deleted ? 0 : rows[i]->value.len;
    p += rows[i]->value.len;
    r->deleted = rows[i]->deleted;
  }
  pg->n = n;
  return true;
}

/* Hands a page to the core. The rows are kept for the REPL_OP_PUT that follows only when the core
 * takes the page: a late page of a stream given up must not touch the rows a queued PUT still
 * needs. */
static void s_page(repl_actor_t *s, bool base, Rv__ReplRow **rows, size_t n, repl_kv_page_t *p) {
  uint64_t bytes = 0;
  s_page_t pg = {0};
  if (p->code == 0 && !s_copy_rows(rows, n, &pg, &bytes)) {
    p->code = RV_ENOMEM;
    p->message = "out of memory keeping a page";
  }
  p->nrows = p->code ? 0 : n;
  p->bytes = bytes;
  repl_update_t u;
  if (repl_upload_kv_page(&s->core, base, p, repl_actor_now_ms(), &u)) {
    repl_actor_page_free(s);
    s->page_rows = pg.rows;
    s->page_n = pg.n;
    s->page_arena = pg.arena;
  } else {
    free(pg.rows);
    free(pg.arena);
  }
  repl_actor_carry_out(s, &u);
}

void repl_actor_kv_changes(repl_actor_t *s, const rv_msg_t *m) {
  const Rv__ReplChanges *a = (const Rv__ReplChanges *)m->body;
  repl_kv_page_t p = {.stream = a->stream,
                      .page = a->page,
                      .code = (int)a->code,
                      .message = a->message,
                      .base_copy_needed = a->base_copy_needed,
                      .from_index = a->from_index,
                      .to_index = a->to_index,
                      .last = a->last};
  if (a->log) {
    s->log_known = true;
    s->log_enabled = a->log->enabled;
    s->log_live_bytes = a->log->live_bytes;
    s->log_applied = a->log->applied;
    s->log_floor = a->log->floor;
  }
  s_page(s, false, a->rows, a->n_rows, &p);
}

void repl_actor_kv_base(repl_actor_t *s, const rv_msg_t *m) {
  const Rv__ReplBaseCopy *a = (const Rv__ReplBaseCopy *)m->body;
  repl_kv_page_t p = {.stream = a->stream,
                      .page = a->page,
                      .code = (int)a->code,
                      .message = a->message,
                      .to_index = a->index,
                      .last = a->last,
                      .rows_sent = a->rows_sent,
                      .keys_estimate = a->keys_estimate};
  s_page(s, true, a->rows, a->n_rows, &p);
}

void repl_actor_kv_status(repl_actor_t *s, const rv_msg_t *m) {
  const Rv__ReplStatus *a = (const Rv__ReplStatus *)m->body;
  if (!a->log) return;
  s->log_known = true;
  s->log_enabled = a->log->enabled;
  s->log_live_bytes = a->log->live_bytes;
  s->log_applied = a->log->applied;
  s->log_floor = a->log->floor;
}

/* The uploader's report (strings borrowed from s and the core until the send). */
static void s_uploader(repl_actor_t *s, Rv__ReplUploader *up) {
  repl_upload_status_t st;
  repl_upload_status(&s->core, &st);
  rv__repl_uploader__init(up);
  up->active = st.active;
  up->backend = s->describe;
  up->synced_index = st.meta_ours ? st.meta.synced_index : 0; /* not another epoch's index */
  up->remote_term = st.meta.term;
  up->generation = st.meta.generation;
  up->last_upload_ms = st.last_upload_ms ? st.last_upload_ms : st.meta.updated_ms;
  up->state = s->recovery ? "recovery" : (char *)st.state;
  up->last_error = (char *)st.last_error;
  up->base_rows_done = st.base_rows_done;
  up->base_rows_total = st.base_rows_total;
  up->reported_ms = (int64_t)(rv_wall_us() / 1000u);
  up->uploads = st.uploads;
  up->upload_bytes = st.upload_bytes;
  up->errors = st.errors;
  up->base_copies = st.base_copies;
}

void repl_actor_send_trim(repl_actor_t *s, uint64_t below) {
  Rv__ReplUploader up;
  s_uploader(s, &up);
  Rv__ReplTrim t = RV__REPL_TRIM__INIT;
  t.below_index = below;
  t.uploader = &up;
  rv_actor_send(s->a, "kv-store", RV_MSG_REPL_TRIM, &t.base, 0);
  /* the same report to the supervisor (/metrics) and the health-monitor (HEALTH_REPLICA_HOOK:
   * the replica's lag on the leader) */
  Rv__ReplStatus rs = RV__REPL_STATUS__INIT;
  Rv__ReplLogState log = RV__REPL_LOG_STATE__INIT;
  log.enabled = s->log_enabled;
  log.applied = s->log_applied;
  log.floor = s->log_floor;
  log.live_bytes = s->log_live_bytes;
  rs.log = s->log_known ? &log : NULL;
  rs.uploader = &up;
  rs.commit_index = s->commit;
  rs.role = strcmp(s->role, "leader") == 0 ? "LEADER" : s->role[0] ? "FOLLOWER" : "";
  rv_actor_send(s->a, "supervisor", RV_MSG_REPL_STATUS, &rs.base, 0);
  if (cfg_node_actor(s->cfg, "health-monitor"))
    rv_actor_send(s->a, "health-monitor", RV_MSG_REPL_STATUS, &rs.base, 0);
}
