/* fence_core: the fencer's queue of requests, the method each is at, what an outcome leads to,
 * recovery after a restart, and the text record that persists a request. Pure: libc only. */
#include "fence_core.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A method that the fencer died running this many times counts as failed: a method that kills
 * its fencer must not hold up the next ones forever (nor grow the record without bound). */
#define S_MAX_INTERRUPTS 3

void fence_core_init(fence_core_t *c, int nmethods) {
  memset(c, 0, sizeof *c);
  c->nmethods = nmethods < 0 ? 0 : nmethods > FENCE_METHODS_MAX ? FENCE_METHODS_MAX : nmethods;
}

const fence_request_t *fence_core_current(const fence_core_t *c) {
  return c->n > 0 ? &c->queue[0] : NULL;
}

const char *fence_outcome_name(fence_outcome_t o) {
  switch (o) {
    case FENCE_OUT_FENCED: return "fenced";
    case FENCE_OUT_FAILED: return "failed";
    case FENCE_OUT_TIMED_OUT: return "timed out";
    case FENCE_OUT_INTERRUPTED: return "interrupted";
    default: return "none";
  }
}

static void s_save(fence_update_t *u, const fence_request_t *r) {
  for (int i = 0; i < u->nsave; i++)
    if (u->save[i] == r) return;
  if (u->nsave < 2) u->save[u->nsave++] = r;
}

/* Attempts of method m so far, in r. */
static int s_tries(const fence_request_t *r, int m, fence_outcome_t only) {
  int k = 0;
  for (int i = 0; i < r->nattempts; i++)
    k += r->attempts[i].method == m && (only == FENCE_OUT_NONE || r->attempts[i].outcome == only);
  return k;
}

static fence_attempt_t *s_add_attempt(fence_request_t *r, fence_outcome_t o, int code,
                                      uint64_t elapsed, const char *detail) {
  if (r->nattempts >= FENCE_ATTEMPTS_MAX) { /* cannot happen within the bounds; keep the last */
    memmove(&r->attempts[0], &r->attempts[1], sizeof r->attempts[0] * (FENCE_ATTEMPTS_MAX - 1));
    r->nattempts--;
  }
  fence_attempt_t *a = &r->attempts[r->nattempts++];
  memset(a, 0, sizeof *a);
  a->method = r->method;
  a->attempt = s_tries(r, r->method, FENCE_OUT_NONE); /* this one is counted already */
  a->outcome = o;
  a->code = code;
  a->elapsed_ms = elapsed;
  snprintf(a->detail, sizeof a->detail, "%s", detail ? detail : "");
  return a;
}

/* queue[0] starts its current method. */
static void s_start(fence_core_t *c, fence_update_t *u) {
  fence_request_t *r = &c->queue[0];
  r->running = true;
  r->pgid = 0;
  s_save(u, r);
  u->start = r;
}

/* queue[0] ended: answered, its record removed, the next request started. */
static void s_end(fence_core_t *c, bool fenced, fence_update_t *u) {
  c->finished = c->queue[0];
  c->finished.running = false;
  c->finished.pgid = 0;
  u->done = &c->finished;
  u->fenced = fenced;
  snprintf(u->remove, sizeof u->remove, "%s", c->finished.id);
  memmove(&c->queue[0], &c->queue[1], sizeof c->queue[0] * (size_t)(c->n - 1));
  c->n--;
  if (u->attempt_of == &c->queue[0]) u->attempt_of = &c->finished;
  if (u->attempt && u->attempt_of == &c->finished)
    u->attempt = &c->finished.attempts[c->finished.nattempts - 1];
  if (c->n > 0) s_start(c, u);
}

/* queue[0] goes on with its current method, or ends when none is left. */
static void s_continue(fence_core_t *c, fence_update_t *u) {
  if (c->queue[0].method < c->nmethods) s_start(c, u);
  else s_end(c, false, u);
}

int fence_core_request(fence_core_t *c, const fence_request_t *req, fence_update_t *u) {
  memset(u, 0, sizeof *u);
  if (c->n >= FENCE_QUEUE_MAX || c->nmethods == 0) return -1;
  fence_request_t *r = &c->queue[c->n++];
  *r = *req;
  r->method = 0;
  r->running = false;
  r->pgid = 0;
  r->restarts = 0;
  r->nattempts = 0;
  s_save(u, r);
  if (c->n == 1) s_start(c, u);
  return 0;
}

void fence_core_started(fence_core_t *c, int pgid, fence_update_t *u) {
  memset(u, 0, sizeof *u);
  if (c->n == 0 || !c->queue[0].running) return;
  c->queue[0].pgid = pgid;
  s_save(u, &c->queue[0]);
}

void fence_core_finished(fence_core_t *c, fence_outcome_t outcome, int code, uint64_t elapsed_ms,
                         const char *detail, fence_update_t *u) {
  memset(u, 0, sizeof *u);
  if (c->n == 0 || !c->queue[0].running) return;
  fence_request_t *r = &c->queue[0];
  r->running = false;
  r->pgid = 0;
  u->attempt = s_add_attempt(r, outcome, code, elapsed_ms, detail);
  u->attempt_of = r;
  if (outcome == FENCE_OUT_FENCED) {
    s_end(c, true, u);
    return;
  }
  r->method++;
  s_continue(c, u);
}

int fence_core_recover(fence_core_t *c, const fence_request_t *req, fence_update_t *u) {
  memset(u, 0, sizeof *u);
  if (c->n >= FENCE_QUEUE_MAX) return -1;
  fence_request_t *r = &c->queue[c->n++];
  *r = *req;
  if (r->running) {
    r->restarts++;
    u->kill_pgid = r->pgid;
    r->running = false;
    r->pgid = 0;
    u->attempt = s_add_attempt(r, FENCE_OUT_INTERRUPTED, 0, 0,
                               "the fencer stopped while it ran; run again");
    u->attempt_of = r;
    if (s_tries(r, r->method, FENCE_OUT_INTERRUPTED) >= S_MAX_INTERRUPTS) {
      char why[FENCE_DETAIL_MAX];
      snprintf(why, sizeof why, "the fencer stopped while it ran, %d times: counted as failed",
               S_MAX_INTERRUPTS);
      u->attempt = s_add_attempt(r, FENCE_OUT_FAILED, 0, 0, why);
      r->method++;
    }
  }
  if (c->n > 1) { /* waits its turn */
    s_save(u, r);
    return 0;
  }
  s_continue(c, u);
  return 0;
}

/* ---- the record -------------------------------------------------------------------------- */

#define S_MAGIC_NAME "raftvisor-fence-request"
#define S_FORMAT 1 /* the record format, on the magic line */
#define S_MAGIC S_MAGIC_NAME " 1"

/* Copies s into a single line (newlines and other control bytes become spaces). */
static void s_line(char *dst, size_t len, const char *s) {
  size_t i = 0;
  for (; s[i] && i + 1 < len; i++) dst[i] = (unsigned char)s[i] < 0x20 ? ' ' : s[i];
  dst[i] = '\0';
}

int fence_record_format(const fence_request_t *r, char *buf, size_t len) {
  char reason[FENCE_REASON_MAX];
  s_line(reason, sizeof reason, r->reason);
  int o = snprintf(buf, len,
                   S_MAGIC "\nid=%s\ntarget=%s\nrequester=%s\nreason=%s\ncorr=%" PRIu64
                           "\ntrace=%" PRIu64 "\nmethod=%d\nrunning=%d\npgid=%d\nrestarts=%d\n",
                   r->id, r->target, r->requester, reason, r->corr, r->trace, r->method,
                   r->running ? 1 : 0, r->pgid, r->restarts);
  for (int i = 0; i < r->nattempts && o >= 0 && (size_t)o < len; i++) {
    const fence_attempt_t *a = &r->attempts[i];
    char detail[FENCE_DETAIL_MAX];
    s_line(detail, sizeof detail, a->detail);
    o += snprintf(buf + o, len - (size_t)o, "attempt=%d %d %d %d %" PRIu64 " %s\n", a->method,
                  a->attempt, (int)a->outcome, a->code, a->elapsed_ms, detail);
  }
  return o < 0 || (size_t)o >= len ? -1 : o;
}

/* A decimal integer in [min, max] (the whole of s). */
static int s_long(const char *s, long long min, long long max, long long *out) {
  char *end;
  if (!*s) return -1;
  long long v = strtoll(s, &end, 10);
  if (*end || v < min || v > max) return -1;
  *out = v;
  return 0;
}

static int s_text(char *dst, size_t len, const char *v) {
  if (strlen(v) >= len) return -1;
  snprintf(dst, len, "%s", v);
  return 0;
}

/* One "attempt=" value. */
static int s_attempt(fence_request_t *r, const char *v) {
  if (r->nattempts >= FENCE_ATTEMPTS_MAX) return -1;
  fence_attempt_t *a = &r->attempts[r->nattempts];
  memset(a, 0, sizeof *a);
  int method, attempt, outcome, code, used = 0;
  unsigned long long elapsed;
  if (sscanf(v, "%d %d %d %d %llu %n", &method, &attempt, &outcome, &code, &elapsed, &used) < 5 ||
      used == 0)
    return -1;
  if (method < 0 || method >= FENCE_METHODS_MAX || attempt < 1 || outcome < FENCE_OUT_NONE ||
      outcome > FENCE_OUT_INTERRUPTED)
    return -1;
  a->method = method;
  a->attempt = attempt;
  a->outcome = (fence_outcome_t)outcome;
  a->code = code;
  a->elapsed_ms = elapsed;
  if (s_text(a->detail, sizeof a->detail, v + used)) return -1;
  r->nattempts++;
  return 0;
}

int fence_record_parse(const char *text, size_t n, fence_request_t *r, char *why, size_t len) {
  memset(r, 0, sizeof *r);
  char line[FENCE_RECORD_MAX];
  int lineno = 0;
  unsigned seen = 0;
  for (size_t o = 0; o < n;) {
    const char *s = text + o;
    const char *nl = memchr(s, '\n', n - o);
    size_t ln = nl ? (size_t)(nl - s) : n - o;
    o += ln + (nl ? 1 : 0);
    lineno++;
    if (ln >= sizeof line || memchr(s, '\0', ln)) {
      snprintf(why, len, "line %d: too long or holds a NUL byte", lineno);
      return -1;
    }
    memcpy(line, s, ln);
    line[ln] = '\0';
    if (lineno == 1) {
      unsigned long ver = 0;
      char extra;
      if (sscanf(line, S_MAGIC_NAME " %lu%c", &ver, &extra) == 1 && ver > S_FORMAT) {
        snprintf(why, len, "line 1: record format %lu is newer than this build's (%d): written "
                 "by a newer raftvisor (a downgrade is not supported)", ver, S_FORMAT);
        return -1;
      }
      if (strcmp(line, S_MAGIC) != 0) {
        snprintf(why, len, "line 1: expected \"" S_MAGIC "\", got \"%.60s\"", line);
        return -1;
      }
      continue;
    }
    char *eq = strchr(line, '=');
    if (!eq) {
      snprintf(why, len, "line %d: expected key=value", lineno);
      return -1;
    }
    *eq = '\0';
    const char *k = line, *v = eq + 1;
    long long x = 0;
    int bad = 0, bit = -1;
    if (!strcmp(k, "id")) bit = 0, bad = s_text(r->id, sizeof r->id, v) || !*v;
    else if (!strcmp(k, "target")) bit = 1, bad = s_text(r->target, sizeof r->target, v) || !*v;
    else if (!strcmp(k, "requester"))
      bit = 2, bad = s_text(r->requester, sizeof r->requester, v) || !*v;
    else if (!strcmp(k, "reason")) bad = s_text(r->reason, sizeof r->reason, v);
    else if (!strcmp(k, "corr")) bad = sscanf(v, "%" SCNu64, &r->corr) != 1;
    else if (!strcmp(k, "trace")) bad = sscanf(v, "%" SCNu64, &r->trace) != 1;
    else if (!strcmp(k, "method"))
      bit = 3, bad = s_long(v, 0, FENCE_METHODS_MAX, &x), r->method = (int)x;
    else if (!strcmp(k, "running")) bad = s_long(v, 0, 1, &x), r->running = x == 1;
    else if (!strcmp(k, "pgid")) bad = s_long(v, 0, INT32_MAX, &x), r->pgid = (int)x;
    else if (!strcmp(k, "restarts")) bad = s_long(v, 0, 1000000, &x), r->restarts = (int)x;
    else if (!strcmp(k, "attempt")) bad = s_attempt(r, v);
    else {
      snprintf(why, len, "line %d: unknown key \"%.40s\"", lineno, k);
      return -1;
    }
    if (bad) {
      snprintf(why, len, "line %d: bad %s value \"%.60s\"", lineno, k, v);
      return -1;
    }
    if (bit >= 0) seen |= 1u << bit;
  }
  if (lineno == 0) {
    snprintf(why, len, "empty record");
    return -1;
  }
  if (seen != 0xf) {
    snprintf(why, len, "incomplete record: needs id, target, requester and method");
    return -1;
  }
  return 0;
}
