/* repl_upload: the upload state machine (see repl_upload.h). Pure: libc and rv_common. */
#include "repl_upload.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *repl_upload_state_name(repl_state_t st) {
  switch (st) {
    case REPL_ST_STANDBY: return "standby";
    case REPL_ST_CLAIM: return "claiming";
    case REPL_ST_META: return "reading-meta";
    case REPL_ST_CHANGES: return "uploading";
    case REPL_ST_COMMIT: return "committing";
    case REPL_ST_BASE: return "base-copy";
    case REPL_ST_BASE_COMMIT: return "base-copy";
    case REPL_ST_TIDY: return "tidying";
    case REPL_ST_IDLE: return "idle";
    case REPL_ST_BACKOFF: return "error";
    case REPL_ST_FENCED: return "fenced";
  }
  return "?";
}

void repl_upload_init(repl_upload_t *u, uint64_t first_stream, int64_t now_ms) {
  memset(u, 0, sizeof *u);
  u->st = REPL_ST_STANDBY;
  u->next_stream = first_stream ? first_stream : 1;
  u->next_meta_ms = now_ms;
  u->last_trim_ms = now_ms - REPL_UPLOAD_TRIM_EVERY_MS;
  u->last_tidy_ms = now_ms;
  u->backoff_ms = REPL_UPLOAD_BACKOFF_MIN_MS;
}

static void s_clear(repl_update_t *out) { memset(out, 0, sizeof *out); }

__attribute__((format(printf, 3, 4))) static void s_log(repl_update_t *out, int level,
                                                        const char *fmt, ...) {
  if (out->log_level >= level && out->log[0]) return; /* keep the more severe, first one */
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(out->log, sizeof out->log, fmt, ap);
  va_end(ap);
  out->log_level = level;
}

static void s_start(repl_upload_t *u, repl_op_kind_t kind, int64_t now, repl_update_t *out) {
  repl_op_t *op = &out->op;
  memset(op, 0, sizeof *op);
  op->kind = kind;
  op->id = ++u->next_id;
  op->term = u->token;
  u->inflight = op->id;
  u->inflight_kind = kind;
  u->inflight_since = now;
}

/* Whether the meta row's synced_index counts this cluster's log: the row is of our epoch. */
static bool s_meta_ours(const repl_upload_t *u) {
  return u->meta_known && u->epoch_known && repl_token_epoch(u->meta.term) == u->epoch;
}

static void s_trim(repl_upload_t *u, int64_t now, repl_update_t *out) {
  out->trim = true;
  out->trim_below = s_meta_ours(u) ? u->meta.synced_index : 0;
  u->last_trim_ms = now;
}

/* A success: the error state is over (said once). */
static void s_ok(repl_upload_t *u, repl_update_t *out) {
  if (u->logged_error[0]) s_log(out, 1, "remote copy: uploads work again");
  u->last_error[0] = u->logged_error[0] = '\0';
  u->backoff_ms = REPL_UPLOAD_BACKOFF_MIN_MS;
}

/* An error: remembered, logged when it differs from the one logged last, retried later. */
static void s_fail(repl_upload_t *u, const char *what, int rc, const char *msg, int64_t now,
                   repl_update_t *out) {
  u->errors++;
  snprintf(u->last_error, sizeof u->last_error, "%s: %s", what, msg && msg[0] ? msg : "failed");
  if (strcmp(u->last_error, u->logged_error) != 0) {
    s_log(out, 2, "remote copy: %s; retrying with backoff (up to %d ms)", u->last_error,
          REPL_UPLOAD_BACKOFF_MAX_MS);
    snprintf(u->logged_error, sizeof u->logged_error, "%s", u->last_error);
  }
  (void)rc;
  u->st = REPL_ST_BACKOFF;
  u->wake_ms = now + u->backoff_ms;
  u->backoff_ms = u->backoff_ms * 2 > REPL_UPLOAD_BACKOFF_MAX_MS ? REPL_UPLOAD_BACKOFF_MAX_MS
                                                                 : u->backoff_ms * 2;
}

static void s_fenced(repl_upload_t *u, const char *msg, repl_update_t *out) {
  u->st = REPL_ST_FENCED;
  u->claimed = 0;
  u->crossing = false;
  if (u->epoch)
    s_log(out, 2, "remote copy: fenced in term %" PRIu64 " of epoch %" PRIu64 " (token %" PRIu64
          ") (%s): this node stops uploading until it leads in a newer term", u->term, u->epoch,
          u->token, msg && msg[0] ? msg : "a higher term owns it");
  else
    s_log(out, 2, "remote copy: fenced in term %" PRIu64 " (%s): this node stops uploading until "
          "it leads in a newer term", u->term, msg && msg[0] ? msg : "a higher term owns it");
}

static void s_changes(repl_upload_t *u, int64_t now, repl_update_t *out) {
  u->st = REPL_ST_CHANGES;
  u->cycle_ms = now;
  u->stream = u->next_stream++;
  u->page = 0;
  u->page_rows = u->page_bytes = 0;
  s_start(u, REPL_OP_KV_CHANGES, now, out);
  out->op.stream = u->stream;
  out->op.page = 0;
  out->op.after_index = u->meta.synced_index;
}

/* Starts a base copy; why (NULL: quiet, a retry) goes in the log line. */
static void s_base(repl_upload_t *u, int64_t now, repl_update_t *out, const char *why) {
  if (why && (u->st != REPL_ST_BACKOFF || !u->resume_base))
    s_log(out, 1, "remote copy: base copy starts (%s): every namespace row from one consistent "
          "view, into generation %" PRIu64, why, u->meta.generation + 1);
  u->st = REPL_ST_BASE;
  u->base_pending = true;
  u->resume_base = false;
  u->folding = false;
  u->folds = 0;
  u->fold_rows = 0;
  u->stream = u->next_stream++;
  u->page = 0;
  u->base_rows_done = u->base_rows_total = 0;
  u->base_started_ms = u->last_progress_ms = now;
  s_start(u, REPL_OP_KV_BASE, now, out);
  out->op.stream = u->stream;
  out->op.page = 0;
}

/* A leader's claim: nothing before the epoch is known; then the token, which must form; epoch
 * 0 claims at once (as before epochs existed); a higher epoch reads the meta row first (a row
 * of a lower epoch is replaced by a base copy, not claimed: repl_upload.h). */
static void s_claim(repl_upload_t *u, int64_t now, repl_update_t *out) {
  u->st = REPL_ST_CLAIM;
  if (!u->epoch_known) return; /* repl_upload_epoch resumes */
  if (repl_token(u->epoch, u->term, &u->token) != 0) {
    u->token = 0;
    char why[160];
    snprintf(why, sizeof why, "Raft term %" PRIu64 " of epoch %" PRIu64 " makes no fencing token "
             "(terms below 2^32 once a cluster was recovered)", u->term, u->epoch);
    s_fail(u, "claiming the term", RV_EINVAL, why, now, out);
    return;
  }
  s_start(u, u->epoch ? REPL_OP_READ_META : REPL_OP_CLAIM, now, out);
}

/* The base copy's rows are in (or a fold stream ended and another is due): fold in the changes
 * after the index the staged write reaches, as one more change stream into the same write. */
static void s_fold(repl_upload_t *u, int64_t now, repl_update_t *out) {
  u->folding = true;
  u->folds++;
  u->fold_after = u->to_index;
  u->stream = u->next_stream++;
  u->page = 0;
  s_start(u, REPL_OP_KV_CHANGES, now, out);
  out->op.stream = u->stream;
  out->op.page = 0;
  out->op.after_index = u->fold_after;
}

static void s_commit(repl_upload_t *u, int64_t now, repl_update_t *out) {
  u->st = u->st == REPL_ST_BASE ? REPL_ST_BASE_COMMIT : REPL_ST_COMMIT;
  s_start(u, REPL_OP_COMMIT, now, out);
  out->op.to_index = u->to_index;
}

/* The last page of a stream is in the write: commit it, or (a base copy) fold in what changed
 * meanwhile first. A fold stream that fitted in one page means the write is close to the
 * present: commit. */
static void s_stream_end(repl_upload_t *u, int64_t now, repl_update_t *out) {
  if (u->st == REPL_ST_BASE &&
      (!u->folding || (u->page > 0 && u->folds < REPL_UPLOAD_FOLD_MAX))) {
    s_fold(u, now, out);
    return;
  }
  s_commit(u, now, out);
}

/* The next page of the stream in progress. */
static void s_next_page(repl_upload_t *u, int64_t now, repl_update_t *out) {
  bool base_pages = u->st == REPL_ST_BASE && !u->folding;
  s_start(u, base_pages ? REPL_OP_KV_BASE : REPL_OP_KV_CHANGES, now, out);
  out->op.stream = u->stream;
  out->op.page = ++u->page;
  out->op.after_index = u->folding ? u->fold_after : u->meta.synced_index;
}

/* What a leader does next when nothing is in flight. */
static void s_resume(repl_upload_t *u, int64_t now, repl_update_t *out) {
  if (!u->leader || u->st == REPL_ST_FENCED) return;
  if (u->claimed == 0 || u->claimed != u->token) {
    s_claim(u, now, out);
  } else if (u->base_pending) {
    s_base(u, now, out, "resumed");
  } else if (now - u->last_tidy_ms >= REPL_UPLOAD_TIDY_EVERY_MS && u->commits_since_tidy) {
    u->st = REPL_ST_TIDY;
    u->last_tidy_ms = now;
    u->commits_since_tidy = 0;
    s_start(u, REPL_OP_TIDY, now, out);
  } else {
    s_changes(u, now, out);
  }
}

void repl_upload_role(repl_upload_t *u, bool leader, uint64_t term, int64_t now,
                      repl_update_t *out) {
  s_clear(out);
  bool was = u->leader;
  uint64_t old = u->term;
  u->leader = leader;
  u->term = term;
  if (leader == was && term == old) return;
  /* whatever is in flight belongs to the old role: its result will be dropped */
  if (u->inflight) u->inflight = 0;
  u->base_pending = u->base_pending && leader && term == old;
  if (!leader) {
    if (was) s_log(out, 1, "remote copy: no longer the leader (term %" PRIu64 "): standing by",
                   term);
    u->st = REPL_ST_STANDBY;
    u->next_meta_ms = now;
    return;
  }
  s_log(out, 1, "remote copy: leader in term %" PRIu64 ": claiming the term in the meta row%s",
        term, u->epoch_known ? "" : " once kv-store's recovery state gives this cluster's epoch");
  u->claimed = 0;
  u->crossing = false;
  u->backoff_ms = REPL_UPLOAD_BACKOFF_MIN_MS;
  s_claim(u, now, out);
}

void repl_upload_epoch(repl_upload_t *u, uint64_t epoch, int64_t now, repl_update_t *out) {
  s_clear(out);
  if (u->epoch_known && u->epoch == epoch) return;
  bool first = !u->epoch_known;
  u->epoch_known = true;
  u->epoch = epoch;
  if (!u->leader) return;
  if (!first)
    s_log(out, 1, "remote copy: this cluster's epoch is now %" PRIu64 ": claiming again", epoch);
  /* a new token: whatever is in flight belongs to the old one (dropped by id), as at a new
   * term; a leader still waiting for its first epoch starts its claim now */
  if (!first || u->st == REPL_ST_CLAIM || u->st == REPL_ST_FENCED) {
    u->inflight = 0;
    u->base_pending = false;
    u->claimed = 0;
    u->crossing = false;
    u->backoff_ms = REPL_UPLOAD_BACKOFF_MIN_MS;
    s_claim(u, now, out);
  }
}

void repl_upload_tick(repl_upload_t *u, int64_t now, repl_update_t *out) {
  s_clear(out);
  if (u->inflight && (u->inflight_kind == REPL_OP_KV_CHANGES || u->inflight_kind == REPL_OP_KV_BASE) &&
      now - u->inflight_since >= REPL_UPLOAD_KV_TIMEOUT_MS) {
    u->inflight = 0;
    bool base = u->st == REPL_ST_BASE;
    s_fail(u, "kv-store", RV_ETIMEDOUT, "no answer to a change request within 10000 ms", now, out);
    u->resume_base = base;
    u->base_pending = base;
  }
  if (!u->inflight) {
    bool follower = !u->leader || u->st == REPL_ST_FENCED;
    if (follower && now >= u->next_meta_ms) {
      u->next_meta_ms = now + REPL_UPLOAD_META_EVERY_MS;
      s_start(u, REPL_OP_READ_META, now, out);
    } else if (!follower && (u->st == REPL_ST_IDLE || u->st == REPL_ST_BACKOFF) &&
               now >= u->wake_ms) {
      s_resume(u, now, out);
    }
  }
  /* the report goes at least every second (a meta read about to be made sends its own) */
  if (now - u->last_trim_ms >= REPL_UPLOAD_TRIM_EVERY_MS && out->op.kind != REPL_OP_READ_META)
    s_trim(u, now, out);
}

int64_t repl_upload_next_ms(const repl_upload_t *u) {
  int64_t next = u->last_trim_ms + REPL_UPLOAD_TRIM_EVERY_MS;
  if (u->inflight) {
    if (u->inflight_kind == REPL_OP_KV_CHANGES || u->inflight_kind == REPL_OP_KV_BASE) {
      int64_t t = u->inflight_since + REPL_UPLOAD_KV_TIMEOUT_MS;
      if (t < next) next = t;
    }
    return next;
  }
  if (!u->leader || u->st == REPL_ST_FENCED) {
    if (u->next_meta_ms < next) next = u->next_meta_ms;
  } else if ((u->st == REPL_ST_IDLE || u->st == REPL_ST_BACKOFF) && u->wake_ms < next) {
    next = u->wake_ms;
  }
  return next;
}

static void s_meta(repl_upload_t *u, const repl_meta_t *m) {
  u->meta = *m;
  u->meta_known = true;
}

void repl_upload_backend_done(repl_upload_t *u, const repl_backend_result_t *r, int64_t now,
                              int64_t wall_ms, repl_update_t *out) {
  s_clear(out);
  if (!u->inflight || r->id != u->inflight) return; /* started before a role change */
  repl_op_kind_t kind = u->inflight_kind;
  u->inflight = 0;
  const char *msg = r->message ? r->message : "";
  if (kind == REPL_OP_READ_META) {
    if (r->rc == 0) {
      s_meta(u, &r->meta);
      s_trim(u, now, out);
    } else if (r->rc != RV_ENOTFOUND) {
      u->errors++;
      snprintf(u->last_error, sizeof u->last_error, "reading the meta row: %s", msg);
      if (strcmp(u->last_error, u->logged_error) != 0) {
        s_log(out, 2, "remote copy: %s", u->last_error);
        snprintf(u->logged_error, sizeof u->logged_error, "%s", u->last_error);
      }
    } else {
      u->last_error[0] = '\0';
    }
    if (u->leader && u->st == REPL_ST_META) {
      if (r->rc == 0 && r->meta.term > u->token) s_fenced(u, "the meta row names a higher term", out);
      else if (r->rc == 0 || r->rc == RV_ENOTFOUND) s_resume(u, now, out);
      else s_fail(u, "reading the meta row", r->rc, msg, now, out);
    } else if (u->leader && u->st == REPL_ST_CLAIM) { /* read before the claim (epoch > 0) */
      if (r->rc && r->rc != RV_ENOTFOUND) {
        s_fail(u, "reading the meta row", r->rc, msg, now, out);
      } else if (r->rc == 0 && r->meta.term > u->token) {
        s_fenced(u, "the meta row names a higher term", out);
      } else if (r->rc == 0 && repl_token_epoch(r->meta.term) < u->epoch) {
        bool again = u->crossing; /* said once, not per attempt */
        if (!again)
          s_log(out, 1, "remote copy: the copy was last written by epoch %" PRIu64 " (term %"
                PRIu64 ", its index %" PRIu64 " counts another cluster's log): this cluster, "
                "epoch %" PRIu64 ", replaces it with a base copy, whose commit claims the term",
                repl_token_epoch(r->meta.term), repl_token_term(r->meta.term),
                r->meta.synced_index, u->epoch);
        u->crossing = true;
        s_base(u, now, out, again ? NULL : "the copy is of an earlier epoch");
      } else {
        s_start(u, REPL_OP_CLAIM, now, out);
      }
    }
    return;
  }
  if (r->rc == RV_EFENCED) {
    s_fenced(u, msg, out);
    return;
  }
  switch (kind) {
    case REPL_OP_CLAIM:
      if (r->rc) {
        s_fail(u, "claiming the term", r->rc, msg, now, out);
        return;
      }
      s_ok(u, out);
      s_meta(u, &r->meta);
      u->claimed = u->token;
      if (u->epoch)
        s_log(out, 1, "remote copy: term %" PRIu64 " of epoch %" PRIu64 " claimed (token %" PRIu64
              "); the copy is at index %" PRIu64 " (generation %" PRIu64 ")", u->term, u->epoch,
              u->token, u->meta.synced_index, u->meta.generation);
      else
        s_log(out, 1, "remote copy: term %" PRIu64 " claimed; the copy is at index %" PRIu64
              " (generation %" PRIu64 ")", u->term, u->meta.synced_index, u->meta.generation);
      s_trim(u, now, out);
      s_resume(u, now, out);
      return;
    case REPL_OP_PUT:
      if (r->rc == RV_ETOOBIG && u->st == REPL_ST_CHANGES) {
        s_base(u, now, out, "the changes do not fit in one atomic write");
        return;
      }
      if (r->rc) {
        bool base = u->st == REPL_ST_BASE;
        s_fail(u, base ? "base copy" : "upload", r->rc, msg, now, out);
        u->resume_base = u->base_pending = base;
        return;
      }
      if (u->last_page) s_stream_end(u, now, out);
      else s_next_page(u, now, out);
      return;
    case REPL_OP_COMMIT: {
      bool base = u->st == REPL_ST_BASE_COMMIT;
      if (r->rc == RV_ESTALE) {
        s_log(out, 1, "remote copy: the meta row moved (%s): reading it again", msg);
        u->st = REPL_ST_META;
        u->base_pending = false;
        s_start(u, REPL_OP_READ_META, now, out);
        return;
      }
      if (r->rc) {
        s_fail(u, base ? "base copy commit" : "upload commit", r->rc, msg, now, out);
        u->resume_base = u->base_pending = base;
        return;
      }
      s_ok(u, out);
      s_meta(u, &r->meta);
      u->uploads++;
      u->commits_since_tidy++;
      u->last_upload_ms = wall_ms;
      if (base) {
        u->base_copies++;
        u->base_pending = false;
        s_log(out, 1, "remote copy: base copy done: generation %" PRIu64 " at index %" PRIu64
              ", %" PRIu64 " rows in %.1f s (the changes made meanwhile folded in: %d "
              "stream%s, %" PRIu64 " rows)%s", u->meta.generation, u->meta.synced_index,
              u->base_rows_done, (double)(now - u->base_started_ms) / 1000.0, u->folds,
              u->folds == 1 ? "" : "s", u->fold_rows,
              u->crossing ? "; it replaced the earlier epoch's copy and claimed the term" : "");
        u->claimed = u->token; /* its commit carried our token: a claim (a crossing one) */
        u->crossing = false;
        u->folding = false;
      } else {
        u->upload_rows += u->page_rows;
        u->upload_bytes += u->page_bytes;
      }
      s_trim(u, now, out);
      /* the next cycle waits a bit, unless this one found a backlog (more than one page) */
      if (!base && u->page == 0 && now - u->cycle_ms < REPL_UPLOAD_CYCLE_MS) {
        u->st = REPL_ST_IDLE;
        u->wake_ms = u->cycle_ms + REPL_UPLOAD_CYCLE_MS;
        return;
      }
      s_resume(u, now, out);
      return;
    }
    case REPL_OP_TIDY:
      if (r->rc) { /* never needed for correctness: noted, and uploads go on */
        snprintf(u->last_error, sizeof u->last_error, "tidy: %s", msg);
        if (strcmp(u->last_error, u->logged_error) != 0) {
          s_log(out, 2, "remote copy: %s", u->last_error);
          snprintf(u->logged_error, sizeof u->logged_error, "%s", u->last_error);
        }
      }
      s_changes(u, now, out);
      return;
    default:
      return;
  }
}

bool repl_upload_kv_page(repl_upload_t *u, bool base, const repl_kv_page_t *p, int64_t now,
                         repl_update_t *out) {
  s_clear(out);
  repl_op_kind_t want = base ? REPL_OP_KV_BASE : REPL_OP_KV_CHANGES;
  if (!u->inflight || u->inflight_kind != want || p->stream != u->stream || p->page != u->page)
    return false; /* a late answer to a stream given up */
  u->inflight = 0;
  const char *msg = p->message ? p->message : "";
  if (!base && u->st == REPL_ST_BASE) { /* a fold stream of the base copy in progress */
    if (p->code == RV_ESTALE || p->base_copy_needed) {
      s_base(u, now, out, msg[0] ? msg : "the change log no longer reaches the base copy's index");
      return false;
    }
    if (p->code) {
      s_fail(u, "kv-store changes (base copy)", p->code, msg, now, out);
      u->resume_base = u->base_pending = true;
      return false;
    }
  } else if (!base) {
    if (p->code == RV_ESTALE || p->base_copy_needed) {
      s_base(u, now, out, msg[0] ? msg : "the change log does not reach the copy's index");
      return false;
    }
    if (p->code == RV_EAGAIN) { /* this node has not applied the copy's index yet */
      u->st = REPL_ST_IDLE;
      u->wake_ms = now + 10 * REPL_UPLOAD_POLL_MS;
      return false;
    }
    if (p->code) {
      s_fail(u, "kv-store changes", p->code, msg, now, out);
      return false;
    }
    if (p->page == 0 && p->last && p->nrows == 0 && p->to_index <= u->meta.synced_index) {
      u->st = REPL_ST_IDLE; /* caught up */
      u->wake_ms = now + REPL_UPLOAD_POLL_MS;
      return false;
    }
  } else if (p->code) {
    s_fail(u, "kv-store base copy", p->code, msg, now, out);
    u->resume_base = u->base_pending = true;
    return false;
  }
  u->to_index = p->to_index;
  u->last_page = p->last;
  if (base) {
    u->base_rows_done = p->rows_sent;
    u->base_rows_total = p->keys_estimate > p->rows_sent ? p->keys_estimate : p->rows_sent;
    if (p->last) u->base_rows_total = p->rows_sent;
    if (now - u->last_progress_ms >= REPL_UPLOAD_PROGRESS_MS) {
      u->last_progress_ms = now;
      s_log(out, 1, "remote copy: base copy: %" PRIu64 " of about %" PRIu64 " rows (%.0f%%)",
            u->base_rows_done, u->base_rows_total,
            u->base_rows_total ? 100.0 * (double)u->base_rows_done / (double)u->base_rows_total
                               : 0.0);
    }
  } else if (u->folding) {
    u->fold_rows += p->nrows;
  } else {
    u->page_rows += p->nrows;
    u->page_bytes += p->bytes;
  }
  if (p->nrows == 0 && (p->page > 0 || u->folding)) { /* nothing to put: straight on */
    if (p->last) s_stream_end(u, now, out);
    else s_next_page(u, now, out);
    return false;
  }
  /* a first page always opens the write (even empty: entries that changed no namespace key
   * still move synced_index), except a fold's, which goes on with the base copy's write */
  s_start(u, REPL_OP_PUT, now, out);
  out->op.base = base || u->folding;
  out->op.begin = p->page == 0 && !u->folding;
  out->op.generation = u->meta.generation;
  out->op.from_index = u->meta.synced_index;
  return true;
}

void repl_upload_status(const repl_upload_t *u, repl_upload_status_t *s) {
  memset(s, 0, sizeof *s);
  bool fenced = u->st == REPL_ST_FENCED;
  s->active = u->leader && !fenced && u->claimed == u->token && u->claimed;
  s->state = !u->leader                                           ? "standby"
             : fenced                                             ? "fenced"
             : u->st == REPL_ST_BACKOFF                           ? "error"
             : u->st == REPL_ST_CLAIM                             ? "claiming"
             : u->st == REPL_ST_BASE || u->st == REPL_ST_BASE_COMMIT ? "base-copy"
             : u->st == REPL_ST_IDLE                              ? "idle"
                                                                  : "uploading";
  s->meta_known = u->meta_known;
  s->meta = u->meta;
  s->meta_ours = s_meta_ours(u);
  s->epoch_known = u->epoch_known;
  s->epoch = u->epoch;
  s->last_upload_ms = u->last_upload_ms;
  s->last_error = u->last_error;
  s->base_rows_done = u->base_rows_done;
  s->base_rows_total = u->base_rows_total;
  s->uploads = u->uploads;
  s->upload_rows = u->upload_rows;
  s->upload_bytes = u->upload_bytes;
  s->base_copies = u->base_copies;
  s->errors = u->errors;
  s->folding = u->folding && (u->st == REPL_ST_BASE || u->st == REPL_ST_BASE_COMMIT);
  s->fold_index = s->folding ? u->to_index : 0;
}
