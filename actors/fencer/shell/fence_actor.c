/* fence_actor: the fencer's shell (I/O). It takes FenceRequest messages, feeds fence_core and
 * carries out its updates in order: persist (fence_store, fsync), kill a group left by a dead
 * predecessor, report attempts and results (FenceAttempt, FenceResult: to the requester, and so
 * on the tap), remove finished records, start the next method (fence_proc). A running method is
 * watched from the actor's loop: its stdout (logged at info) and stderr (at warn), prefixed as
 * Hadoop's ShellCommandFencer does ("[PID 1234] fence.sh --...: line"), its exit (a pidfd) and
 * its timeout (ha.fencing.shell-timeout-ms: the whole process group is killed). Log lines about
 * the fence itself keep Hadoop NodeFencer's wording, which operators grep for. */
#include "fence_actor.h"

#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fence_proc.h"
#include "fence_ssh.h"
#include "fence_store.h"

extern char **environ;

#define S_ABBREV 20 /* Hadoop ShellCommandFencer's ABBREV_LENGTH */

_Static_assert(CFG_MAX_FENCE_METHODS <= FENCE_METHODS_MAX, "every configured method fits the core");

static void s_apply(fence_actor_t *f, fence_update_t *u);

/* Hadoop's ShellCommandFencer.abbreviate: "fence.sh --...t_host" for a long command. */
static void s_abbrev(const char *cmd, char *buf, size_t len) {
  size_t n = strlen(cmd);
  if (n <= S_ABBREV) {
    snprintf(buf, len, "%s", cmd);
    return;
  }
  int first = (S_ABBREV - 3) / 2, rem = S_ABBREV - first - 3;
  snprintf(buf, len, "%.*s...%s", first, cmd, cmd + n - rem);
}

static const cfg_peer_t *s_peer(const cfg_node_t *cfg, const char *id) {
  for (int i = 0; i < cfg->nnodes; i++)
    if (!strcmp(cfg->nodes[i].id, id)) return &cfg->nodes[i];
  return NULL;
}

/* ---- messages ---------------------------------------------------------------------------- */

static void s_fill_attempt(const fence_actor_t *f, const fence_request_t *r,
                           const fence_attempt_t *at, Rv__FenceAttempt *m) {
  rv__fence_attempt__init(m);
  m->request_id = (char *)r->id;
  m->target = (char *)r->target;
  m->method_index = (uint32_t)at->method;
  m->method = at->method < f->cfg->nfence_methods ? f->cfg->fence_methods[at->method] : "";
  m->attempt = (uint32_t)at->attempt;
  m->outcome = (Rv__FenceOutcome)at->outcome;
  m->code = at->code;
  m->elapsed_ms = at->elapsed_ms;
  m->detail = (char *)at->detail;
}

static void s_send_attempt(fence_actor_t *f, const fence_request_t *r, const fence_attempt_t *at) {
  Rv__FenceAttempt m;
  s_fill_attempt(f, r, at, &m);
  int idx = at->method + 1;
  const char *text = m.method;
  if (at->outcome == FENCE_OUT_NONE)
    rv_info("fence %s of %s: Trying method %d/%d: %s (attempt %d)", r->id, r->target, idx,
            f->nmethods, text, at->attempt);
  else if (at->outcome == FENCE_OUT_FENCED)
    rv_info("fence %s of %s: Fencing method %d (%s) was successful: %s", r->id, r->target, idx,
            text, at->detail);
  else
    rv_warn("fence %s of %s: Fencing method %d (%s) was unsuccessful: %s: %s", r->id, r->target,
            idx, text, fence_outcome_name(at->outcome), at->detail);
  rv_mailbox_t *mb = rv_actor_mailbox(f->actor);
  rv_err_t err;
  if (rv_mailbox_send(mb, r->requester, RV_MSG_FENCE_ATTEMPT, &m.base, r->corr, r->trace, &err))
    rv_debug("FenceAttempt to %s not sent: %s", r->requester, err.msg);
}

/* FENCE_REMOTE_TERM_HOOK, resolved: the remote copy needs nothing from the fencer. Its fence is
 * the fencing token in the remote meta row: every remote commit is conditional on the row's term
 * not exceeding the writer's, and a new leader's ots-replicator claims its term there before its
 * first upload (repl_backend_claim), so a fenced (or merely deposed) node's replicator can no
 * longer write, whether or not a fencing method ran (see actors/ots-replicator/README.md). */

/* Answers a request that ended (r) or was refused (r NULL: to m's sender). */
static void s_send_result(fence_actor_t *f, const fence_request_t *r, bool fenced, int code,
                          const char *message, const rv_msg_t *refused) {
  Rv__FenceResult res = RV__FENCE_RESULT__INIT;
  Rv__FenceAttempt items[FENCE_ATTEMPTS_MAX], *ptrs[FENCE_ATTEMPTS_MAX];
  res.fenced = fenced;
  res.code = (uint32_t)code;
  res.message = (char *)message;
  if (r) {
    res.request_id = (char *)r->id;
    res.target = (char *)r->target;
    res.restarts = (uint32_t)r->restarts;
    for (int i = 0; i < r->nattempts; i++) {
      s_fill_attempt(f, r, &r->attempts[i], &items[i]);
      ptrs[i] = &items[i];
    }
    res.n_attempts = (size_t)r->nattempts;
    res.attempts = ptrs;
    rv_err_t err;
    if (rv_mailbox_send(rv_actor_mailbox(f->actor), r->requester, RV_MSG_FENCE_RESULT, &res.base,
                        r->corr, r->trace, &err))
      rv_warn("fence %s: the result could not be sent to %s: %s", r->id, r->requester, err.msg);
  } else {
    const Rv__FenceRequest *q = (const Rv__FenceRequest *)refused->body;
    res.target = q->target;
    rv_warn("fence request from %s refused: %s", refused->from.actor, message);
    rv_actor_reply(f->actor, refused, RV_MSG_FENCE_RESULT, &res.base);
  }
}

/* ---- running a method -------------------------------------------------------------------- */

static void s_on_line(const char *text, int which, void *arg) {
  fence_actor_t *f = arg;
  if (which == 1) rv_info("%s: %s", f->prefix, text);
  else rv_warn("%s: %s", f->prefix, text);
}

static void s_drop_fd(fence_actor_t *f, int which) {
  int fd = f->proc ? fence_proc_fd(f->proc, which) : -1;
  if (fd >= 0 && f->polled[which]) rv_actor_fd_remove(f->actor, fd);
  f->polled[which] = false;
}

static void s_on_output(rv_actor_t *a, int fd, void *arg) {
  fence_actor_t *f = arg;
  int which = fd == fence_proc_fd(f->proc, 1) ? 1 : 2;
  if (fence_proc_read(f->proc, which, s_on_line, f)) {
    /* fence_proc closed the fd at EOF: stop polling the number it had */
    rv_actor_fd_remove(a, fd);
    f->polled[which] = false;
  }
}

/* The method's process exited: drain its output, judge it, tell the core. */
static void s_method_ended(fence_actor_t *f, int status) {
  for (int w = 1; w <= 2; w++) {
    int fd = fence_proc_fd(f->proc, w);
    bool polled = f->polled[w];
    if (fd >= 0 && polled) rv_actor_fd_remove(f->actor, fd);
    f->polled[w] = false;
    if (fd >= 0) fence_proc_read(f->proc, w, s_on_line, f); /* what is there; never blocks */
  }
  if (f->timer_id > 0) rv_actor_timer_cancel(f->actor, f->timer_id);
  f->timer_id = 0;
  uint64_t elapsed = rv_mono_ms() - f->started_ms;
  fence_outcome_t out;
  int code = 0;
  char detail[FENCE_DETAIL_MAX];
  if (f->timed_out) {
    out = FENCE_OUT_TIMED_OUT;
    code = SIGKILL;
    snprintf(detail, sizeof detail, "killed (its process group) at the timeout of %d ms",
             f->timeout_ms);
  } else if (WIFEXITED(status)) {
    code = WEXITSTATUS(status);
    out = code == 0 ? FENCE_OUT_FENCED : FENCE_OUT_FAILED;
    snprintf(detail, sizeof detail, "exit status %d", code);
  } else {
    code = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    out = FENCE_OUT_FAILED;
    snprintf(detail, sizeof detail, "killed by signal %d", code);
  }
  fence_proc_destroy(&f->proc);
  f->timed_out = false;
  fence_update_t u;
  fence_core_finished(&f->core, out, code, elapsed, detail, &u);
  s_apply(f, &u);
}

static void s_on_exit(rv_actor_t *a, int fd, void *arg) {
  fence_actor_t *f = arg;
  int status;
  if (!fence_proc_reap(f->proc, &status)) return;
  rv_actor_fd_remove(a, fd); /* fence_proc has closed the pidfd: forget its number */
  f->polled[0] = false;
  s_method_ended(f, status);
}

static void s_on_timeout(rv_actor_t *a, void *arg) {
  fence_actor_t *f = arg;
  f->timer_id = 0;
  if (!f->proc) return;
  rv_warn("%s: still running after %d ms: killing its process group %d", f->prefix,
          f->timeout_ms, (int)fence_proc_pid(f->proc));
  f->timed_out = true;
  fence_proc_kill(f->proc); /* the pidfd then reports the exit */
}

/* Appends "name=value" (malloc'd) to env. */
static void s_env(char **env, int *n, const char *name, const char *value) {
  if (asprintf(&env[*n], "%s=%s", name, value) >= 0) (*n)++;
}

/* The environment of a method: Hadoop's target_* and source_* (target_port is the client
 * port, as HDFS' is the NameNode's RPC port), the configuration, then our own. */
static char **s_method_env(fence_actor_t *f, const fence_request_t *r) {
  const cfg_node_t *cfg = f->cfg;
  size_t nown = 0, ncfg = 0;
  while (environ[nown]) nown++;
  while (f->cfg_env[ncfg]) ncfg++;
  char **env = calloc(nown + ncfg + 16, sizeof *env);
  if (!env) return NULL;
  int n = 0;
  const cfg_peer_t *who[2] = {s_peer(cfg, r->target), &cfg->nodes[cfg->self]};
  const char *side[2] = {"target", "source"};
  for (int i = 0; i < 2; i++) {
    char name[64], val[CFG_HOST_MAX + 16];
    snprintf(name, sizeof name, "%s_host", side[i]);
    s_env(env, &n, name, who[i]->host);
    snprintf(name, sizeof name, "%s_port", side[i]);
    snprintf(val, sizeof val, "%d", who[i]->client_port);
    s_env(env, &n, name, val);
    snprintf(name, sizeof name, "%s_address", side[i]);
    snprintf(val, sizeof val, strchr(who[i]->host, ':') ? "[%s]:%d" : "%s:%d", who[i]->host,
             who[i]->client_port);
    s_env(env, &n, name, val);
    snprintf(name, sizeof name, "%s_nameserviceid", side[i]);
    s_env(env, &n, name, cfg->cluster_id);
    snprintf(name, sizeof name, "%s_namenodeid", side[i]);
    s_env(env, &n, name, who[i]->id);
  }
  s_env(env, &n, "RV_FENCE_REQUEST", r->id);
  for (size_t i = 0; i < ncfg; i++) env[n++] = strdup(f->cfg_env[i]);
  for (size_t i = 0; i < nown; i++)
    if (strncmp(environ[i], "RV_FENCE_REQUEST=", 17) != 0) env[n++] = strdup(environ[i]);
  env[n] = NULL;
  return env;
}

static void s_free_strv(char **v) {
  for (char **p = v; p && *p; p++) free(*p);
  free(v);
}

/* Starts the current method of r; a method that cannot start has failed. */
static void s_start_method(fence_actor_t *f, const fence_request_t *r) {
  const fence_method_t *m = &f->methods[r->method];
  const cfg_peer_t *target = s_peer(f->cfg, r->target);
  char **env = s_method_env(f, r), **argv = NULL;
  char *shell_argv[] = {"bash", "-e", "-c", (char *)m->command, NULL};
  fence_proc_spec_t spec = {.envp = env};
  if (m->kind == FENCE_METHOD_SHELL) {
    spec.argv = shell_argv;
    f->timeout_ms = f->cfg->fence_shell_timeout_ms;
  } else {
    argv = fence_ssh_argv(f->cfg, m, target, f->known_hosts);
    spec.argv = argv;
    spec.input = fence_ssh_script;
    spec.input_len = strlen(fence_ssh_script);
    f->timeout_ms = f->cfg->fence_shell_timeout_ms + f->cfg->ssh_connect_timeout_ms;
  }
  rv_err_t err = {0};
  int rc = env && spec.argv ? fence_proc_start(&spec, &f->proc, &err)
                            : rv_err_set(&err, RV_ENOMEM, "out of memory");
  s_free_strv(env);
  fence_ssh_argv_free(&argv);
  fence_update_t u;
  if (rc) {
    char detail[FENCE_DETAIL_MAX];
    snprintf(detail, sizeof detail, "cannot start: %.200s", err.msg);
    fence_core_finished(&f->core, FENCE_OUT_FAILED, 0, 0, detail, &u);
    s_apply(f, &u);
    return;
  }
  pid_t pid = fence_proc_pid(f->proc);
  char abbrev[64];
  s_abbrev(m->kind == FENCE_METHOD_SHELL ? m->command : f->cfg->fence_methods[r->method], abbrev,
           sizeof abbrev);
  snprintf(f->prefix, sizeof f->prefix, "[PID %d] %s", (int)pid, abbrev);
  if (m->kind == FENCE_METHOD_SHELL)
    rv_info("Launched fencing command '%s' with pid %d", m->command, (int)pid);
  else
    rv_info("Connecting to %s:%d as %s to stop node %s (pid %d)", target->host, m->port,
            m->user[0] ? m->user : "this user", r->target, (int)pid);
  f->started_ms = rv_mono_ms();
  f->timed_out = false;
  for (int w = 0; w <= 2; w++) {
    f->polled[w] = rv_actor_fd_add(f->actor, fence_proc_fd(f->proc, w),
                                   w == 0 ? s_on_exit : s_on_output, f) == 0;
    if (!f->polled[w]) rv_error("cannot poll the method's fd %d", w);
  }
  f->timer_id = rv_actor_timer_add(f->actor, (unsigned)f->timeout_ms, 1, s_on_timeout, f);
  /* the attempt as it starts, then the record with its process group */
  int k = 0;
  for (int i = 0; i < r->nattempts; i++) k += r->attempts[i].method == r->method;
  fence_attempt_t starting = {.method = r->method, .attempt = k + 1, .outcome = FENCE_OUT_NONE};
  s_send_attempt(f, r, &starting);
  fence_core_started(&f->core, (int)pid, &u);
  s_apply(f, &u);
}

/* ---- carrying out the core's updates ----------------------------------------------------- */

static void s_apply(fence_actor_t *f, fence_update_t *u) {
  rv_err_t err;
  for (int i = 0; i < u->nsave; i++)
    if (fence_store_save(f->dir, u->save[i], &err) != RV_OK) {
      /* a fence must not run unrecorded: stop, and let the supervisor restart us */
      rv_error("fence %s: cannot persist the request: %s", u->save[i]->id, err.msg);
      if (f->proc) fence_proc_kill(f->proc);
      rv_actor_stop(f->actor, RV_EXIT_TEMPFAIL);
      return;
    }
  if (u->kill_pgid > 0 && u->attempt_of) {
    if (fence_proc_kill_stale(u->kill_pgid, u->attempt_of->id))
      rv_warn("fence %s: killed process group %d, left running by the previous fencer",
              u->attempt_of->id, u->kill_pgid);
  }
  if (u->attempt) s_send_attempt(f, u->attempt_of, u->attempt);
  if (u->done) {
    char msg[512];
    const fence_request_t *r = u->done;
    if (u->fenced) {
      const fence_attempt_t *last = &r->attempts[r->nattempts - 1];
      snprintf(msg, sizeof msg, "node %s fenced by method %d: %s", r->target, last->method + 1,
               f->cfg->fence_methods[last->method]);
      rv_info("====== Fencing successful by method %s ====== (fence %s of %s)",
              f->cfg->fence_methods[last->method], r->id, r->target);
    } else {
      snprintf(msg, sizeof msg, "Unable to fence service by any configured method: node %s is "
               "not fenced (%d attempt%s)", r->target, r->nattempts, r->nattempts == 1 ? "" : "s");
      rv_error("fence %s of %s: Unable to fence service by any configured method.", r->id,
               r->target);
    }
    s_send_result(f, r, u->fenced, u->fenced ? RV_OK : RV_EUNAVAIL, msg, NULL);
  }
  if (u->remove[0] && fence_store_remove(f->dir, u->remove, &err) != RV_OK)
    rv_error("fence %s: %s", u->remove, err.msg);
  if (u->start) {
    if (u->start->nattempts == 0)
      rv_info("====== Beginning Service Fencing Process... ====== (fence %s of %s, method %d/%d)",
              u->start->id, u->start->target, u->start->method + 1, f->nmethods);
    s_start_method(f, u->start);
  }
}

/* ---- the actor --------------------------------------------------------------------------- */

static void s_bad_record(const char *why, void *arg) {
  rv_error("unreadable fence request record: %s", why);
}

int fence_actor_start(rv_actor_t *a, void *state, rv_err_t *err) {
  fence_actor_t *f = state;
  f->actor = a;
  f->cfg = rv_actor_config(a);
  char why[512];
  for (int i = 0; i < f->cfg->nfence_methods; i++)
    if (fence_method_parse(f->cfg->fence_methods[i], &f->methods[i], why, sizeof why))
      return rv_err_set(err, RV_ECONFIG, "ha.fencing.methods[%d]: %s", i, why);
  f->nmethods = f->cfg->nfence_methods;
  if (f->nmethods == 0)
    rv_warn("no fencing methods are configured (ha.fencing.methods): every request is refused");
  fence_core_init(&f->core, f->nmethods);
  f->cfg_env = cfg_node_environ(f->cfg);
  if (!f->cfg_env) return rv_err_set(err, RV_ENOMEM, "out of memory");
  int rc = fence_store_open(f->cfg->data_dir, f->dir, sizeof f->dir, err);
  if (rc) return rc;
  snprintf(f->known_hosts, sizeof f->known_hosts, "%s/fencer/known_hosts", f->cfg->data_dir);
  static fence_request_t loaded[FENCE_QUEUE_MAX];
  int n = 0;
  if ((rc = fence_store_load(f->dir, loaded, FENCE_QUEUE_MAX, &n, s_bad_record, f, err)))
    return rc;
  for (int i = 0; i < n; i++) {
    rv_warn("fence %s of %s: found after a restart (at method %d%s): retrying", loaded[i].id,
            loaded[i].target, loaded[i].method + 1, loaded[i].running ? ", which was running" : "");
    fence_update_t u;
    if (fence_core_recover(&f->core, &loaded[i], &u) == 0) s_apply(f, &u);
  }
  return RV_OK;
}

void fence_actor_message(rv_actor_t *a, void *state, const rv_msg_t *m) {
  fence_actor_t *f = state;
  if (m->type != RV_MSG_FENCE_REQUEST) return;
  const Rv__FenceRequest *q = (const Rv__FenceRequest *)m->body;
  char msg[256];
  const cfg_peer_t *target = q->target ? s_peer(f->cfg, q->target) : NULL;
  if (!target) {
    snprintf(msg, sizeof msg, "no node \"%.40s\" in cluster.nodes", q->target ? q->target : "");
    s_send_result(f, NULL, false, RV_EINVAL, msg, m);
    return;
  }
  if (target == &f->cfg->nodes[f->cfg->self]) {
    snprintf(msg, sizeof msg, "refusing to fence node %s from itself", q->target);
    s_send_result(f, NULL, false, RV_EINVAL, msg, m);
    return;
  }
  fence_request_t r;
  memset(&r, 0, sizeof r);
  uint64_t id = rv_wall_us();
  if (id <= f->last_id) id = f->last_id + 1;
  f->last_id = id;
  snprintf(r.id, sizeof r.id, "%020" PRIu64, id);
  snprintf(r.target, sizeof r.target, "%s", q->target);
  snprintf(r.requester, sizeof r.requester, "%s", m->from.actor);
  snprintf(r.reason, sizeof r.reason, "%s", q->reason ? q->reason : "");
  r.corr = m->corr_id;
  r.trace = m->trace_id;
  fence_update_t u;
  if (fence_core_request(&f->core, &r, &u) != 0) {
    if (f->nmethods == 0)
      s_send_result(f, NULL, false, RV_ECONFIG,
                    "no fencing methods are configured (ha.fencing.methods)", m);
    else
      s_send_result(f, NULL, false, RV_EBUSY, "too many fence requests queued; retry later", m);
    return;
  }
  rv_info("fence %s of %s requested by %s (%s)", r.id, r.target, r.requester,
          r.reason[0] ? r.reason : "no reason given");
  s_apply(f, &u);
}

void fence_actor_stop(rv_actor_t *a, void *state) {
  fence_actor_t *f = state;
  if (f->proc) {
    /* the record still says "running": the next fencer runs this method again */
    rv_warn("%s: stopping while it runs: its process group is killed; it will be retried",
            f->prefix);
    for (int w = 0; w <= 2; w++) s_drop_fd(f, w);
    fence_proc_destroy(&f->proc);
  }
  cfg_node_environ_free(&f->cfg_env);
}
