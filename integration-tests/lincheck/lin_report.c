/* lin_report: formats a failed check for a human. Pure.
 *
 * The report replays the prefix through the model to show the state after each operation (the
 * search keeps only the operations, not the states), so it costs O(prefix) model steps. */
#include "lin_report.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A growing text; oom latches the first allocation failure. */
typedef struct {
  char *p;
  size_t len, cap;
  bool oom;
} lin_text_t;

static void s_add(lin_text_t *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void s_add(lin_text_t *t, const char *fmt, ...) {
  if (t->oom) return;
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(t->p ? t->p + t->len : NULL, t->p ? t->cap - t->len : 0, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  if (!t->p || t->len + (size_t)n + 1 > t->cap) {
    size_t ncap = t->cap ? t->cap : 1024;
    while (ncap < t->len + (size_t)n + 1) ncap *= 2;
    char *p = realloc(t->p, ncap);
    if (!p) {
      t->oom = true;
      return;
    }
    t->p = p;
    t->cap = ncap;
    va_start(ap, fmt);
    vsnprintf(t->p + t->len, t->cap - t->len, fmt, ap);
    va_end(ap);
  }
  t->len += (size_t)n;
}

/* Cuts an snprintf-style result that did not fit: "...". */
static void s_ellipsis(char *buf, size_t cap, size_t need) {
  if (need < cap || cap < 4) return;
  memcpy(buf + cap - 4, "...", 4);
}

size_t lin_report_op(const lin_op_t *op, const lin_model_t *m, char *buf, size_t cap) {
  bool pending = op->return_us == LIN_PENDING;
  char what[LIN_REPORT_OP_MAX];
  s_ellipsis(what, sizeof what,
             m->describe_op(&op->in, pending ? NULL : &op->out, what, sizeof what));
  size_t len = 0;
  if (cap) buf[0] = '\0';
  lin_str_appendf(buf, cap, &len, "client %llu  %s  [", (unsigned long long)op->client, what);
  if (op->line) lin_str_appendf(buf, cap, &len, "line %u, ", op->line);
  if (pending)
    lin_str_appendf(buf, cap, &len, "%lld.. never returned]", (long long)op->call_us);
  else
    lin_str_appendf(buf, cap, &len, "%lld..%lld us]", (long long)op->call_us,
                    (long long)op->return_us);
  return len;
}

static const char *s_op_text(const lin_op_t *op, const lin_model_t *m, char *buf, size_t cap) {
  s_ellipsis(buf, cap, lin_report_op(op, m, buf, cap));
  return buf;
}

static const char *s_state_text(const void *state, const lin_model_t *m, char *buf, size_t cap) {
  s_ellipsis(buf, cap, m->describe_state(state, buf, cap));
  return buf;
}

static bool s_step(const lin_model_t *m, const lin_op_t *op, const void *state, void *next) {
  return m->step(state, &op->in, op->return_us == LIN_PENDING ? NULL : &op->out, next);
}

static void s_failure(lin_text_t *t, const lin_result_t *r, const lin_history_t *h,
                      const lin_model_t *m, unsigned char *cur, unsigned char *next) {
  char line[LIN_REPORT_OP_MAX + 128], st[LIN_REPORT_OP_MAX];
  size_t kl = 0;
  lin_str_quote(st, sizeof st, &kl, r->key);
  s_add(t,
        "partition %s: %zu operations, and no order of them consistent with real time is "
        "legal for the %s model\n",
        st, r->key_ops, m->name);
  m->init(cur);
  s_add(t, "longest linearizable prefix found: %zu operations, from the initial state %s%s\n",
        r->n_prefix, s_state_text(cur, m, st, sizeof st),
        r->n_prefix ? " (\"=>\" the state after each)" : "");
  size_t skip = r->n_prefix > LIN_REPORT_PREFIX_MAX ? r->n_prefix - LIN_REPORT_PREFIX_MAX : 0;
  if (skip) s_add(t, "  ... %zu earlier operations\n", skip);
  for (size_t i = 0; i < r->n_prefix; i++) {
    const lin_op_t *op = lin_history_op(h, r->prefix[i]);
    bool ok = s_step(m, op, cur, next);
    if (ok) {
      unsigned char *tmp = cur;
      cur = next, next = tmp;
    }
    if (i >= skip)
      s_add(t, "  %4zu. %s  => %s\n", i + 1, s_op_text(op, m, line, sizeof line),
            ok ? s_state_text(cur, m, st, sizeof st) : "(the model refuses it on replay)");
  }
  s_add(t, "state after the prefix: %s\n", s_state_text(cur, m, st, sizeof st));
  s_add(t, "this operation had to take effect before it returned, and could not:\n  %s\n",
        s_op_text(lin_history_op(h, r->blocking), m, line, sizeof line));
  s_add(t, "operations that could come next, and why none did:\n");
  for (size_t i = 0; i < r->n_stuck && i < LIN_REPORT_STUCK_MAX; i++) {
    const lin_op_t *op = lin_history_op(h, r->stuck[i]);
    bool ok = s_step(m, op, cur, next);
    /* At the deepest point a completed candidate is one the model refuses (one it accepted
     * would have taken the search deeper); a never-returned one may fit and still lead only to
     * nodes the cache had already ruled out. */
    s_add(t, "  %s: %s\n", s_op_text(op, m, line, sizeof line),
          ok ? "fits this state, but no linearization continues from it"
             : "impossible in this state");
  }
  if (r->n_stuck > LIN_REPORT_STUCK_MAX)
    s_add(t, "  ... %zu more\n", r->n_stuck - LIN_REPORT_STUCK_MAX);
}

int lin_report_format(const lin_result_t *r, const lin_history_t *h, const lin_model_t *m,
                      char **out) {
  lin_text_t t = {0};
  *out = NULL;
  s_add(&t, "%s", "");
  if (r->verdict == LIN_NOT_LINEARIZABLE && r->key) {
    unsigned char *cur = malloc(m->state_size), *next = malloc(m->state_size);
    if (cur && next)
      s_failure(&t, r, h, m, cur, next);
    else
      t.oom = true;
    free(cur);
    free(next);
  }
  if (t.oom) {
    free(t.p);
    return RV_ENOMEM;
  }
  *out = t.p;
  return RV_OK;
}
