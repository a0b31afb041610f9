/* lin_model_ns: the per-path namespace specification (see lin_model_ns.h for the table). Pure.
 *
 * s_apply is the table: what an object in a state answers and becomes; step compares that
 * answer with the recorded one, so the specification is written once for checking, for
 * never-returned operations and for the report. */
#include "lin_model_ns.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lin_history.h"

typedef enum { LIN_NS_ABSENT = 0, LIN_NS_DIR = 1, LIN_NS_FILE = 2 } lin_ns_kind_t;

/* The state of one path. content is borrowed from the history (or the static ""). */
typedef struct {
  uint32_t kind;       /* lin_ns_kind_t */
  const char *content; /* LIN_NS_FILE: the file's content; else NULL */
} lin_ns_state_t;

static const struct {
  int op;
  const char *name;
} s_ops[] = {
    {LIN_NS_MKDIR, "mkdir"}, {LIN_NS_PUT, "put"}, {LIN_NS_TOUCHZ, "touchz"},
    {LIN_NS_RM, "rm"},       {LIN_NS_CAT, "cat"}, {LIN_NS_STAT, "stat"},
};
#define LIN_NS_NOPS (sizeof s_ops / sizeof s_ops[0])

static void s_init(void *state) {
  *(lin_ns_state_t *)state = (lin_ns_state_t){LIN_NS_ABSENT, NULL};
}

/* The answer (result, value) of `in` in state s, and the state after it. */
static void s_apply(const lin_ns_state_t *s, const lin_input_t *in, lin_output_t *ans,
                    lin_ns_state_t *next) {
  *next = *s;
  *ans = (lin_output_t){RV_OK, NULL};
  switch (in->op) {
    case LIN_NS_MKDIR:
      if (s->kind != LIN_NS_ABSENT)
        ans->result = RV_EEXIST;
      else
        *next = (lin_ns_state_t){LIN_NS_DIR, NULL};
      break;
    case LIN_NS_PUT:
      if (s->kind == LIN_NS_DIR)
        ans->result = RV_EISDIR;
      else if (s->kind == LIN_NS_FILE && !(in->flags & LIN_F_OVERWRITE))
        ans->result = RV_EEXIST;
      else
        *next = (lin_ns_state_t){LIN_NS_FILE, in->value};
      break;
    case LIN_NS_TOUCHZ:
      if (s->kind == LIN_NS_DIR)
        ans->result = RV_EISDIR;
      else if (s->kind == LIN_NS_FILE && s->content[0] != '\0')
        ans->result = RV_EEXIST;
      else if (s->kind == LIN_NS_ABSENT)
        *next = (lin_ns_state_t){LIN_NS_FILE, ""};
      break;
    case LIN_NS_RM:
      if (s->kind == LIN_NS_ABSENT)
        ans->result = RV_ENOTFOUND;
      else
        *next = (lin_ns_state_t){LIN_NS_ABSENT, NULL};
      break;
    case LIN_NS_CAT:
      if (s->kind == LIN_NS_ABSENT)
        ans->result = RV_ENOTFOUND;
      else if (s->kind == LIN_NS_DIR)
        ans->result = RV_EISDIR;
      else
        ans->value = s->content;
      break;
    case LIN_NS_STAT:
      if (s->kind == LIN_NS_ABSENT)
        ans->result = RV_ENOTFOUND;
      else
        ans->value = s->kind == LIN_NS_DIR ? "dir" : "file";
      break;
  }
}

static bool s_step(const void *state, const lin_input_t *in, const lin_output_t *out, void *next) {
  lin_output_t ans;
  s_apply(state, in, &ans, next);
  if (!out) return true;
  if (out->result != ans.result) return false;
  return (in->op != LIN_NS_CAT && in->op != LIN_NS_STAT) || lin_str_equal(out->value, ans.value);
}

static bool s_equal(const void *a, const void *b) {
  const lin_ns_state_t *x = a, *y = b;
  return x->kind == y->kind && lin_str_equal(x->content, y->content);
}

static uint64_t s_hash(const void *state) {
  const lin_ns_state_t *s = state;
  return (uint64_t)s->kind * 0x9e3779b97f4a7c15ull ^ lin_str_hash(s->content);
}

static const char *s_partition(const lin_input_t *in) { return in->key; }

/* Reads never change a path; neither does any failure (EEXIST, EISDIR, ENOTFOUND), in every
 * state where the table gives it. */
static bool s_no_effect(const lin_input_t *in, const lin_output_t *out) {
  return in->op == LIN_NS_CAT || in->op == LIN_NS_STAT || (out && out->result != RV_OK);
}

static int s_op_parse(const char *name, int *op) {
  for (size_t i = 0; i < LIN_NS_NOPS; i++)
    if (strcmp(s_ops[i].name, name) == 0) return *op = s_ops[i].op, RV_OK;
  return RV_EINVAL;
}

static const char *s_op_name(int op) {
  for (size_t i = 0; i < LIN_NS_NOPS; i++)
    if (s_ops[i].op == op) return s_ops[i].name;
  return "op?";
}

/* One spelling per file: absolute, no empty, "." or ".." components, no trailing slash. */
static int s_path_check(const char *p, rv_err_t *err) {
  if (p[0] != '/' || p[1] == '\0')
    return rv_err_set(err, RV_EINVAL, "path \"%s\" must be absolute and not the root", p);
  for (const char *c = p + 1;;) {
    const char *e = strchr(c, '/');
    size_t len = e ? (size_t)(e - c) : strlen(c);
    if (len == 0 || (len == 1 && c[0] == '.') || (len == 2 && c[0] == '.' && c[1] == '.'))
      return rv_err_set(err, RV_EINVAL,
                        "path \"%s\" has an empty, \".\" or \"..\" component or a trailing "
                        "slash: write each path one way",
                        p);
    if (!e) return RV_OK;
    c = e + 1;
  }
}

/* The results an op may have at all (RV_OK first); -1 ends a list. */
static const int *s_results(const lin_input_t *in) {
  static const int mkdir_r[] = {RV_OK, RV_EEXIST, -1}, put_r[] = {RV_OK, RV_EEXIST, RV_EISDIR, -1},
                   putf_r[] = {RV_OK, RV_EISDIR, -1}, rm_r[] = {RV_OK, RV_ENOTFOUND, -1},
                   cat_r[] = {RV_OK, RV_ENOTFOUND, RV_EISDIR, -1},
                   stat_r[] = {RV_OK, RV_ENOTFOUND, -1};
  switch (in->op) {
    case LIN_NS_MKDIR: return mkdir_r;
    case LIN_NS_PUT: return in->flags & LIN_F_OVERWRITE ? putf_r : put_r;
    case LIN_NS_TOUCHZ: return put_r;
    case LIN_NS_RM: return rm_r;
    case LIN_NS_CAT: return cat_r;
    case LIN_NS_STAT: return stat_r;
  }
  return NULL;
}

static int s_validate(const lin_input_t *in, const lin_output_t *out, bool pending, rv_err_t *err) {
  const char *name = s_op_name(in->op);
  const int *ok = s_results(in);
  if (!ok) return rv_err_set(err, RV_EINVAL, "unknown namespace op %d", in->op);
  int rc = s_path_check(in->key, err);
  if (rc) return rv_err_prefix(err, "%s", name);
  if (in->op == LIN_NS_PUT && !in->value)
    return rv_err_set(err, RV_EINVAL, "put %s: \"value\" (the content written) is missing",
                      in->key);
  if (in->op != LIN_NS_PUT && in->value)
    return rv_err_set(err, RV_EINVAL,
                      "%s %s: only put takes \"value\" (a read's answer goes in "
                      "\"value_out\")",
                      name, in->key);
  if (in->op != LIN_NS_PUT && (in->flags & LIN_F_OVERWRITE))
    return rv_err_set(err, RV_EINVAL, "%s %s: only put takes \"overwrite\"", name, in->key);
  if (in->expect)
    return rv_err_set(err, RV_EINVAL, "%s %s: the namespace model has no \"expect\"", name,
                      in->key);
  if (pending) return RV_OK;
  bool known = false;
  for (const int *r = ok; *r >= 0; r++) known |= *r == out->result;
  if (!known) {
    char list[128];
    size_t len = 0;
    list[0] = '\0';
    for (const int *r = ok; *r >= 0; r++)
      lin_str_appendf(list, sizeof list, &len, "%s%s", r == ok ? "" : ", ",
                      *r == RV_OK ? "ok" : rv_code_name(*r));
    return rv_err_set(err, RV_EINVAL,
                      "%s %s: result %s is outside the model (%s); record an ambiguous outcome "
                      "with \"return_us\":null and leave out operations that surely failed "
                      "without effect",
                      name, in->key, rv_code_name(out->result), list);
  }
  bool has_value = out->result == RV_OK && (in->op == LIN_NS_CAT || in->op == LIN_NS_STAT);
  if (has_value && !out->value)
    return rv_err_set(err, RV_EINVAL, "%s %s: \"value_out\" is missing for result ok", name,
                      in->key);
  if (!has_value && out->value)
    return rv_err_set(err, RV_EINVAL, "%s %s: \"value_out\" given for a result without one", name,
                      in->key);
  if (has_value && in->op == LIN_NS_STAT && strcmp(out->value, "file") != 0 &&
      strcmp(out->value, "dir") != 0)
    return rv_err_set(err, RV_EINVAL, "stat %s: \"value_out\" must be \"file\" or \"dir\"",
                      in->key);
  return RV_OK;
}

/* A set of paths for the nesting check: open addressing over (pointer, length) slices. */
typedef struct {
  const char *p;
  size_t len;
} lin_slice_t;

static uint64_t s_slice_hash(const char *p, size_t len) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (size_t i = 0; i < len; i++) h = (h ^ (unsigned char)p[i]) * 0x100000001b3ull;
  return h ^ (h >> 29);
}

static lin_slice_t *s_slice_slot(lin_slice_t *tab, size_t cap, const char *p, size_t len) {
  size_t i = (size_t)s_slice_hash(p, len) & (cap - 1);
  while (tab[i].p && !(tab[i].len == len && memcmp(tab[i].p, p, len) == 0)) i = (i + 1) & (cap - 1);
  return &tab[i];
}

/* No path of the history is an ancestor of another (see the header). */
static int s_validate_history(const lin_history_t *h, rv_err_t *err) {
  size_t n = lin_history_count(h), cap = 64;
  while (cap < 2 * n) cap *= 2;
  lin_slice_t *tab = calloc(cap, sizeof *tab);
  if (!tab) return rv_err_set(err, RV_ENOMEM, "namespace model: out of memory");
  for (size_t i = 0; i < n; i++) {
    const char *k = lin_history_op(h, i)->in.key;
    size_t len = strlen(k);
    lin_slice_t *s = s_slice_slot(tab, cap, k, len);
    if (!s->p) *s = (lin_slice_t){k, len};
  }
  int rc = RV_OK;
  for (size_t i = 0; i < n && !rc; i++) {
    const lin_op_t *op = lin_history_op(h, i);
    const char *k = op->in.key;
    for (const char *slash = strchr(k + 1, '/'); slash && !rc; slash = strchr(slash + 1, '/')) {
      if (!s_slice_slot(tab, cap, k, (size_t)(slash - k))->p) continue;
      char where[32] = "";
      if (op->line) snprintf(where, sizeof where, "line %u: ", op->line);
      rc = rv_err_set(err, RV_EINVAL,
                      "%s\"%.*s\" is a parent of \"%s\": the per-path namespace model needs "
                      "independent paths (single-level paths under a pre-created parent)",
                      where, (int)(slash - k), k, k);
    }
  }
  free(tab);
  return rc;
}

static size_t s_describe_op(const lin_input_t *in, const lin_output_t *out, char *buf, size_t cap) {
  size_t len = 0;
  if (cap) buf[0] = '\0';
  lin_str_appendf(buf, cap, &len, "%s%s %s", s_op_name(in->op),
                  in->flags & LIN_F_OVERWRITE ? " -f" : "", in->key);
  if (in->value) {
    lin_str_appendf(buf, cap, &len, " ");
    lin_str_quote(buf, cap, &len, in->value);
  }
  lin_str_appendf(buf, cap, &len, " -> ");
  if (!out)
    lin_str_appendf(buf, cap, &len, "no answer");
  else if (out->result != RV_OK)
    lin_str_appendf(buf, cap, &len, "%s", rv_code_name(out->result));
  else if (in->op == LIN_NS_CAT)
    lin_str_quote(buf, cap, &len, out->value);
  else if (in->op == LIN_NS_STAT)
    lin_str_appendf(buf, cap, &len, "%s", out->value ? out->value : "ok");
  else
    lin_str_appendf(buf, cap, &len, "ok");
  return len;
}

static size_t s_describe_state(const void *state, char *buf, size_t cap) {
  const lin_ns_state_t *s = state;
  size_t len = 0;
  if (cap) buf[0] = '\0';
  if (s->kind == LIN_NS_FILE) {
    lin_str_appendf(buf, cap, &len, "file ");
    lin_str_quote(buf, cap, &len, s->content);
  } else {
    lin_str_appendf(buf, cap, &len, "%s", s->kind == LIN_NS_DIR ? "directory" : "absent");
  }
  return len;
}

const lin_model_t lin_model_ns = {
    .name = "namespace",
    .key_field = "path",
    .state_size = sizeof(lin_ns_state_t),
    .init = s_init,
    .step = s_step,
    .equal = s_equal,
    .hash = s_hash,
    .partition = s_partition,
    .no_effect = s_no_effect,
    .op_parse = s_op_parse,
    .op_name = s_op_name,
    .validate = s_validate,
    .validate_history = s_validate_history,
    .describe_op = s_describe_op,
    .describe_state = s_describe_state,
};
