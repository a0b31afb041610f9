/* kv_memstore: a skip list keyed by bytes, behind the kv_store_t interface. Pure (libc only).
 * Heights come from a fixed-seed xorshift generator so runs are reproducible. */
#include "kv_memstore.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_MAX_HEIGHT 24

typedef struct s_node {
  uint8_t *val; /* owned; NULL when vlen == 0 */
  size_t vlen;
  size_t klen;
  int height;
  struct s_node **next; /* height pointers, allocated after the key */
  uint8_t key[];        /* klen bytes, then the next[] array (aligned) */
} s_node_t;

struct kv_memstore {
  kv_store_t base; /* first: the interface */
  s_node_t *head;  /* sentinel with S_MAX_HEIGHT levels, no key */
  int height;      /* levels in use */
  uint64_t rng;
  size_t count;
  size_t bytes;
  uint64_t writes;
  long fail_after; /* < 0: no fault injection */
  int fail_code;
};

static int s_cmp(const uint8_t *a, size_t al, const uint8_t *b, size_t bl) {
  int c = memcmp(a, b, al < bl ? al : bl);
  if (c) return c;
  return al < bl ? -1 : al > bl ? 1 : 0;
}

static s_node_t *s_node_new(const uint8_t *key, size_t klen, int height) {
  size_t koff = (klen + sizeof(void *) - 1) / sizeof(void *) * sizeof(void *);
  s_node_t *n = malloc(sizeof *n + koff + (size_t)height * sizeof(s_node_t *));
  if (!n) return NULL;
  n->val = NULL;
  n->vlen = 0;
  n->klen = klen;
  n->height = height;
  if (klen) memcpy(n->key, key, klen);
  n->next = (s_node_t **)(void *)(n->key + koff);
  for (int i = 0; i < height; i++) n->next[i] = NULL;
  return n;
}

static int s_random_height(kv_memstore_t *ms) {
  int h = 1;
  for (;;) {
    ms->rng ^= ms->rng << 13;
    ms->rng ^= ms->rng >> 7;
    ms->rng ^= ms->rng << 17;
    if (h >= S_MAX_HEIGHT || (ms->rng & 3) != 0) return h;
    h++;
  }
}

/* The last node < key at each level into prev[] (when non-NULL); returns the first node >= key. */
static s_node_t *s_seek(const kv_memstore_t *ms, const uint8_t *key, size_t klen, s_node_t **prev) {
  s_node_t *x = ms->head;
  for (int lvl = S_MAX_HEIGHT - 1; lvl >= 0; lvl--) {
    if (lvl < ms->height) {
      while (x->next[lvl] && s_cmp(x->next[lvl]->key, x->next[lvl]->klen, key, klen) < 0)
        x = x->next[lvl];
    }
    if (prev) prev[lvl] = x;
  }
  return x->next[0];
}

static int s_put(kv_memstore_t *ms, const uint8_t *key, size_t klen, const uint8_t *val,
                 size_t vlen) {
  s_node_t *prev[S_MAX_HEIGHT];
  s_node_t *n = s_seek(ms, key, klen, prev);
  uint8_t *copy = NULL;
  if (vlen) {
    copy = malloc(vlen);
    if (!copy) return RV_ENOMEM;
    memcpy(copy, val, vlen);
  }
  if (n && s_cmp(n->key, n->klen, key, klen) == 0) {
    ms->bytes = ms->bytes - n->vlen + vlen;
    free(n->val);
    n->val = copy;
    n->vlen = vlen;
    return RV_OK;
  }
  int h = s_random_height(ms);
  n = s_node_new(key, klen, h);
  if (!n) {
    free(copy);
    return RV_ENOMEM;
  }
  n->val = copy;
  n->vlen = vlen;
  if (h > ms->height) ms->height = h;
  for (int i = 0; i < h; i++) {
    n->next[i] = prev[i]->next[i];
    prev[i]->next[i] = n;
  }
  ms->count++;
  ms->bytes += klen + vlen;
  return RV_OK;
}

static void s_del(kv_memstore_t *ms, const uint8_t *key, size_t klen) {
  s_node_t *prev[S_MAX_HEIGHT];
  s_node_t *n = s_seek(ms, key, klen, prev);
  if (!n || s_cmp(n->key, n->klen, key, klen) != 0) return;
  for (int i = 0; i < n->height; i++) {
    if (prev[i]->next[i] == n) prev[i]->next[i] = n->next[i];
  }
  ms->count--;
  ms->bytes -= n->klen + n->vlen;
  free(n->val);
  free(n);
}

static int s_get(kv_store_t *s, const uint8_t *key, size_t klen, kv_buf_t *val, rv_err_t *err) {
  kv_memstore_t *ms = (kv_memstore_t *)s;
  s_node_t *n = s_seek(ms, key, klen, NULL);
  if (!n || s_cmp(n->key, n->klen, key, klen) != 0) return RV_ENOTFOUND;
  kv_buf_reset(val);
  kv_buf_put(val, n->val, n->vlen);
  if (!kv_buf_ok(val)) return rv_err_set(err, RV_ENOMEM, "memstore get: out of memory");
  return RV_OK;
}

static int s_scan(kv_store_t *s, const uint8_t *from, size_t flen, kv_scan_fn fn, void *arg,
                  rv_err_t *err) {
  kv_memstore_t *ms = (kv_memstore_t *)s;
  for (s_node_t *n = s_seek(ms, from, flen, NULL); n; n = n->next[0]) {
    int rc = fn(arg, n->key, n->klen, n->val, n->vlen);
    if (rc == KV_SCAN_STOP) return RV_OK;
    if (rc) return rc;
  }
  return RV_OK;
}

static int s_write(kv_store_t *s, const kv_batch_t *batch, rv_err_t *err) {
  kv_memstore_t *ms = (kv_memstore_t *)s;
  if (ms->fail_after == 0)
    return rv_err_set(err, ms->fail_code, "memstore write: injected fault (%s)",
                      rv_code_name(ms->fail_code));
  /* Injected faults fail before anything is applied. The one real failure, running out of
   * memory half-way, leaves the batch partly applied: a test store does not guard against it
   * (the process cannot go on anyway), and says so. */
  size_t cur = 0;
  kv_batch_op_t op;
  while (kv_batch_next(batch, &cur, &op)) {
    if (op.del) {
      s_del(ms, op.key, op.klen);
    } else if (s_put(ms, op.key, op.klen, op.val, op.vlen) != RV_OK) {
      return rv_err_set(err, RV_ENOMEM, "memstore write: out of memory (batch partly applied)");
    }
  }
  if (ms->fail_after > 0) ms->fail_after--;
  ms->writes++;
  return RV_OK;
}

static const kv_store_ops_t s_ops = {
    .name = "memory", .get = s_get, .scan = s_scan, .write = s_write};

kv_memstore_t *kv_memstore_new(void) {
  kv_memstore_t *ms = calloc(1, sizeof *ms);
  if (!ms) return NULL;
  ms->base.ops = &s_ops;
  ms->head = s_node_new(NULL, 0, S_MAX_HEIGHT);
  if (!ms->head) {
    free(ms);
    return NULL;
  }
  ms->height = 1;
  ms->rng = 0x9e3779b97f4a7c15ull;
  ms->fail_after = -1;
  return ms;
}

void kv_memstore_destroy(kv_memstore_t **msp) {
  if (!msp || !*msp) return;
  kv_memstore_t *ms = *msp;
  s_node_t *n = ms->head;
  while (n) {
    s_node_t *next = n->next[0];
    free(n->val);
    free(n);
    n = next;
  }
  free(ms);
  *msp = NULL;
}

kv_store_t *kv_memstore_store(kv_memstore_t *ms) { return &ms->base; }
size_t kv_memstore_count(const kv_memstore_t *ms) { return ms->count; }
size_t kv_memstore_bytes(const kv_memstore_t *ms) { return ms->bytes; }
uint64_t kv_memstore_writes(const kv_memstore_t *ms) { return ms->writes; }

void kv_memstore_fail_after(kv_memstore_t *ms, long n, int code) {
  ms->fail_after = n < 0 ? -1 : n;
  ms->fail_code = code ? code : RV_EIO;
}

int kv_memstore_copy(kv_memstore_t *dst, const kv_memstore_t *src) {
  for (s_node_t *n = src->head->next[0]; n; n = n->next[0]) {
    int rc = s_put(dst, n->key, n->klen, n->val, n->vlen);
    if (rc) return rc;
  }
  return RV_OK;
}
