/* lin_history: the operation array and the string intern table it owns. Pure.
 *
 * Interning keeps one copy of each distinct string (a history of 10,000 puts over 100 paths
 * stores 100 paths), and lets models compare strings by pointer first. */
#include "lin_history.h"

#include <stdlib.h>
#include <string.h>

struct lin_history {
  lin_op_t *ops; /* owned array */
  size_t n, cap;
  char **strs;        /* intern table: open addressing, NULL = empty slot; owns each string */
  size_t nstrs, scap; /* scap: a power of two, 0 before the first intern */
};

lin_history_t *lin_history_new(void) { return calloc(1, sizeof(lin_history_t)); }

void lin_history_destroy(lin_history_t **hp) {
  if (!hp || !*hp) return;
  lin_history_t *h = *hp;
  for (size_t i = 0; i < h->scap; i++) free(h->strs[i]);
  free(h->strs);
  free(h->ops);
  free(h);
  *hp = NULL;
}

static char **s_slot(char **tab, size_t cap, const char *s) {
  size_t i = (size_t)lin_str_hash(s) & (cap - 1);
  while (tab[i] && strcmp(tab[i], s) != 0) i = (i + 1) & (cap - 1);
  return &tab[i];
}

static int s_grow_strs(lin_history_t *h) {
  size_t ncap = h->scap ? h->scap * 2 : 64;
  char **tab = calloc(ncap, sizeof *tab);
  if (!tab) return RV_ENOMEM;
  for (size_t i = 0; i < h->scap; i++)
    if (h->strs[i]) *s_slot(tab, ncap, h->strs[i]) = h->strs[i];
  free(h->strs);
  h->strs = tab;
  h->scap = ncap;
  return RV_OK;
}

const char *lin_history_intern(lin_history_t *h, const char *s) {
  if (!s) return NULL;
  if ((h->nstrs + 1) * 2 > h->scap && s_grow_strs(h)) return NULL;
  char **slot = s_slot(h->strs, h->scap, s);
  if (*slot) return *slot;
  size_t len = strlen(s);
  char *copy = malloc(len + 1);
  if (!copy) return NULL;
  memcpy(copy, s, len + 1);
  *slot = copy;
  h->nstrs++;
  return copy;
}

/* Interns *s in place (NULL stays NULL); false when out of memory. */
static bool s_intern_field(lin_history_t *h, const char **s) {
  if (!*s) return true;
  *s = lin_history_intern(h, *s);
  return *s != NULL;
}

int lin_history_add(lin_history_t *h, const lin_op_t *op, rv_err_t *err) {
  if (op->call_us < 0)
    return rv_err_set(err, RV_EINVAL, "call time %lld is negative", (long long)op->call_us);
  if (op->return_us < op->call_us)
    return rv_err_set(err, RV_EINVAL, "return time %lld is before call time %lld",
                      (long long)op->return_us, (long long)op->call_us);
  if (!op->in.key) return rv_err_set(err, RV_EINVAL, "operation has no key");
  if (h->n == h->cap) {
    size_t ncap = h->cap ? h->cap * 2 : 256;
    lin_op_t *ops = realloc(h->ops, ncap * sizeof *ops);
    if (!ops) return rv_err_set(err, RV_ENOMEM, "history: out of memory");
    h->ops = ops;
    h->cap = ncap;
  }
  lin_op_t c = *op;
  if (!s_intern_field(h, &c.in.key) || !s_intern_field(h, &c.in.value) ||
      !s_intern_field(h, &c.in.expect) || !s_intern_field(h, &c.out.value))
    return rv_err_set(err, RV_ENOMEM, "history: out of memory");
  h->ops[h->n++] = c;
  return RV_OK;
}

size_t lin_history_count(const lin_history_t *h) { return h->n; }

const lin_op_t *lin_history_op(const lin_history_t *h, size_t i) { return &h->ops[i]; }

/* Where an operation came from, for error messages: "line 12" or "operation #3". */
static const char *s_where(char *buf, size_t cap, const lin_op_t *op, size_t i) {
  size_t len = 0;
  if (op->line)
    lin_str_appendf(buf, cap, &len, "line %u", op->line);
  else
    lin_str_appendf(buf, cap, &len, "operation #%zu", i);
  return buf;
}

/* A sort record, so qsort needs no context. */
typedef struct {
  uint64_t client;
  int64_t call_us;
  size_t i;
} lin_client_key_t;

static int s_by_client_call(const void *a, const void *b) {
  const lin_client_key_t *x = a, *y = b;
  if (x->client != y->client) return x->client < y->client ? -1 : 1;
  if (x->call_us != y->call_us) return x->call_us < y->call_us ? -1 : 1;
  return x->i < y->i ? -1 : 1;
}

/* A client is sequential: each completed operation returns before its next one is called. */
static int s_check_clients(const lin_history_t *h, rv_err_t *err) {
  if (h->n == 0) return RV_OK;
  lin_client_key_t *keys = malloc(h->n * sizeof *keys);
  if (!keys) return rv_err_set(err, RV_ENOMEM, "history: out of memory");
  for (size_t i = 0; i < h->n; i++)
    keys[i] = (lin_client_key_t){h->ops[i].client, h->ops[i].call_us, i};
  qsort(keys, h->n, sizeof *keys, s_by_client_call);
  int rc = RV_OK;
  size_t last = SIZE_MAX; /* the client's completed operation that returned last */
  for (size_t k = 0; k < h->n && !rc; k++) {
    const lin_op_t *op = &h->ops[keys[k].i];
    if (k > 0 && keys[k - 1].client != keys[k].client) last = SIZE_MAX;
    if (last != SIZE_MAX && op->call_us < h->ops[last].return_us) {
      char a[32], b[32];
      rc = rv_err_set(err, RV_EINVAL,
                      "%s: client %llu calls at %lld before its operation at %s returned "
                      "(at %lld): a client must wait for each answer, or record the operation "
                      "as never returned",
                      s_where(a, sizeof a, op, keys[k].i), (unsigned long long)op->client,
                      (long long)op->call_us, s_where(b, sizeof b, &h->ops[last], last),
                      (long long)h->ops[last].return_us);
    }
    if (op->return_us != LIN_PENDING &&
        (last == SIZE_MAX || op->return_us > h->ops[last].return_us))
      last = keys[k].i;
  }
  free(keys);
  return rc;
}

int lin_history_validate(const lin_history_t *h, const lin_model_t *m, rv_err_t *err) {
  if (m) {
    for (size_t i = 0; i < h->n; i++) {
      const lin_op_t *op = &h->ops[i];
      if (m->validate(&op->in, &op->out, op->return_us == LIN_PENDING, err)) {
        char w[32];
        return rv_err_prefix(err, "%s", s_where(w, sizeof w, op, i));
      }
    }
  }
  int rc = s_check_clients(h, err);
  if (!rc && m && m->validate_history) rc = m->validate_history(h, err);
  return rc;
}
