/* repl_worker: the backend's own thread (repl_worker.h). I/O shell: pthreads and an eventfd; no
 * ZeroMQ here (sockets stay on the actor's thread). */
#include "repl_worker.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "rv_log.h"

struct repl_worker {
  pthread_t thread;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int efd;
  bool stop, has_job, has_result, running, exited;
  atomic_bool cancel;       /* set by destroy: the backend's blocking calls give up */
  repl_op_t job;
  repl_row_t *rows;
  size_t nrows;
  void *arena;
  repl_worker_result_t result;
  /* owned by the thread */
  repl_backend_cfg_t cfg;
  char *endpoint, *instance, *akid, *secret, *cluster, *table;
  repl_backend_t *backend;
  repl_write_t *write;
  char describe[512];
};

static char *s_dup(const char *s) { return s ? strdup(s) : NULL; }

static void s_run(repl_worker_t *w, const repl_op_t *op, repl_row_t *rows, size_t n,
                  repl_worker_result_t *res) {
  rv_err_t err = {0};
  memset(res, 0, sizeof *res);
  res->id = op->id;
  res->kind = op->kind;
  if (!w->backend) {
    w->backend = repl_backend_open(&w->cfg, &err);
    if (!w->backend) {
      res->rc = err.code ? err.code : RV_EIO;
      res->open_failed = true;
      snprintf(res->message, sizeof res->message, "%s", err.msg);
      return;
    }
    pthread_mutex_lock(&w->mu);
    snprintf(w->describe, sizeof w->describe, "%s", repl_backend_describe(w->backend));
    pthread_mutex_unlock(&w->mu);
  }
  bool keep_write = (op->kind == REPL_OP_PUT && !op->begin) || op->kind == REPL_OP_COMMIT;
  if (!keep_write && w->write) repl_write_abort(&w->write);
  int rc = RV_OK;
  switch (op->kind) {
    case REPL_OP_READ_META: rc = repl_backend_read_meta(w->backend, &res->meta, &err); break;
    case REPL_OP_CLAIM: rc = repl_backend_claim(w->backend, op->term, &res->meta, &err); break;
    case REPL_OP_PUT:
      if (op->begin) {
        w->write = repl_write_begin(w->backend, op->term, op->base, op->generation,
                                    op->from_index, &err);
        if (!w->write) rc = err.code ? err.code : RV_EIO;
      } else if (!w->write) {
        rc = rv_err_set(&err, RV_EPROTO, "no write open for this page (the worker restarted it)");
      }
      if (!rc && n) rc = repl_write_put(w->write, rows, n, &err);
      break;
    case REPL_OP_COMMIT:
      if (!w->write) rc = rv_err_set(&err, RV_EPROTO, "no write open to commit");
      else rc = repl_write_commit(&w->write, op->to_index, &res->meta, &err);
      break;
    case REPL_OP_TIDY: rc = repl_backend_tidy(w->backend, op->term, &res->more, &err); break;
    default: rc = rv_err_set(&err, RV_EINVAL, "not a backend operation (%d)", (int)op->kind);
  }
  res->rc = rc;
  if (rc) snprintf(res->message, sizeof res->message, "%s", err.msg);
}

static void *s_main(void *arg) {
  repl_worker_t *w = arg;
  pthread_mutex_lock(&w->mu);
  for (;;) {
    while (!w->stop && !w->has_job) pthread_cond_wait(&w->cv, &w->mu);
    if (w->stop) break;
    repl_op_t op = w->job;
    repl_row_t *rows = w->rows;
    size_t n = w->nrows;
    void *arena = w->arena;
    w->rows = NULL;
    w->arena = NULL;
    w->has_job = false;
    w->running = true;
    pthread_mutex_unlock(&w->mu);
    repl_worker_result_t res;
    s_run(w, &op, rows, n, &res);
    free(rows);
    free(arena);
    pthread_mutex_lock(&w->mu);
    w->result = res;
    w->has_result = true;
    w->running = false;
    uint64_t one = 1;
    if (write(w->efd, &one, sizeof one) < 0) { /* a full counter still reads as readable */ }
  }
  pthread_mutex_unlock(&w->mu);
  if (w->write) repl_write_abort(&w->write);
  repl_backend_close(&w->backend);
  pthread_mutex_lock(&w->mu);
  w->exited = true;
  pthread_cond_broadcast(&w->cv);
  pthread_mutex_unlock(&w->mu);
  return NULL;
}

int repl_worker_new(const repl_backend_cfg_t *cfg, repl_worker_t **out, rv_err_t *err) {
  *out = NULL;
  repl_worker_t *w = calloc(1, sizeof *w);
  if (!w) return rv_err_set(err, RV_ENOMEM, "out of memory starting the backend worker");
  w->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (w->efd < 0) {
    free(w);
    return rv_err_set(err, RV_EIO, "eventfd: %s", strerror(errno));
  }
  w->endpoint = s_dup(cfg->endpoint);
  w->instance = s_dup(cfg->instance);
  w->akid = s_dup(cfg->access_key_id);
  w->secret = s_dup(cfg->access_key_secret);
  w->cluster = s_dup(cfg->cluster_id);
  w->table = s_dup(cfg->table);
  atomic_init(&w->cancel, false);
  w->cfg = (repl_backend_cfg_t){w->endpoint, w->instance, w->akid,  w->secret,
                                w->cluster,  w->table,    cfg->request_timeout_ms, &w->cancel};
  snprintf(w->describe, sizeof w->describe, "%s", cfg->endpoint ? cfg->endpoint : "");
  pthread_mutex_init(&w->mu, NULL);
  pthread_cond_init(&w->cv, NULL);
  if (pthread_create(&w->thread, NULL, s_main, w) != 0) {
    close(w->efd);
    free(w);
    return rv_err_set(err, RV_EIO, "cannot start the backend worker thread");
  }
  *out = w;
  return RV_OK;
}

void repl_worker_destroy(repl_worker_t **wp) {
  if (!wp || !*wp) return;
  repl_worker_t *w = *wp;
  *wp = NULL;
  atomic_store(&w->cancel, true);
  struct timespec until;
  clock_gettime(CLOCK_REALTIME, &until);
  until.tv_sec += REPL_WORKER_STOP_MS / 1000;
  until.tv_nsec += (long)(REPL_WORKER_STOP_MS % 1000) * 1000000L;
  if (until.tv_nsec >= 1000000000L) {
    until.tv_sec++;
    until.tv_nsec -= 1000000000L;
  }
  pthread_mutex_lock(&w->mu);
  w->stop = true;
  pthread_cond_broadcast(&w->cv);
  int rc = 0;
  while (!w->exited && rc != ETIMEDOUT) rc = pthread_cond_timedwait(&w->cv, &w->mu, &until);
  bool exited = w->exited;
  pthread_mutex_unlock(&w->mu);
  if (!exited) { /* stuck in a call that ignores the cancel: it dies with the process */
    rv_warn("remote copy: the backend worker did not stop within %d ms (a call to %s still "
            "blocks); leaving it to end with the process", REPL_WORKER_STOP_MS, w->describe);
    pthread_detach(w->thread);
    return;
  }
  pthread_join(w->thread, NULL);
  pthread_mutex_destroy(&w->mu);
  pthread_cond_destroy(&w->cv);
  close(w->efd);
  free(w->rows);
  free(w->arena);
  if (w->secret) memset(w->secret, 0, strlen(w->secret));
  free(w->endpoint);
  free(w->instance);
  free(w->akid);
  free(w->secret);
  free(w->cluster);
  free(w->table);
  free(w);
}

int repl_worker_fd(const repl_worker_t *w) { return w->efd; }

bool repl_worker_busy(const repl_worker_t *w) {
  repl_worker_t *m = (repl_worker_t *)w;
  pthread_mutex_lock(&m->mu);
  bool busy = m->has_job || m->running || m->has_result;
  pthread_mutex_unlock(&m->mu);
  return busy;
}

int repl_worker_submit(repl_worker_t *w, const repl_op_t *op, repl_row_t **rows, size_t n,
                       void **arena) {
  pthread_mutex_lock(&w->mu);
  if (w->has_job || w->running || w->has_result) {
    pthread_mutex_unlock(&w->mu);
    return RV_EBUSY;
  }
  w->job = *op;
  w->rows = rows ? *rows : NULL;
  w->nrows = n;
  w->arena = arena ? *arena : NULL;
  if (rows) *rows = NULL;
  if (arena) *arena = NULL;
  w->has_job = true;
  pthread_cond_signal(&w->cv);
  pthread_mutex_unlock(&w->mu);
  return RV_OK;
}

bool repl_worker_take(repl_worker_t *w, repl_worker_result_t *res) {
  uint64_t v;
  if (read(w->efd, &v, sizeof v) < 0) { /* EAGAIN: nothing signalled */ }
  pthread_mutex_lock(&w->mu);
  bool got = w->has_result;
  if (got) {
    *res = w->result;
    w->has_result = false;
  }
  pthread_mutex_unlock(&w->mu);
  return got;
}

void repl_worker_describe(repl_worker_t *w, char *buf, size_t len) {
  pthread_mutex_lock(&w->mu);
  snprintf(buf, len, "%s", w->describe);
  pthread_mutex_unlock(&w->mu);
}
