/* The kv_store_t contract as cmocka checks, shared by the tests of every implementation
 * (test_kv_memstore.c, test_kv_rocks.c): point reads, bytewise order, scan stop and error
 * propagation, atomic batches with overwrites and deletes, a seeded random comparison against a
 * sorted reference. Include after <cmocka.h>; each function takes a fresh, empty store. */
#ifndef KV_STORE_CONTRACT_H
#define KV_STORE_CONTRACT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kv_store.h"
#include "kv_testutil.h"

static inline void kv_contract_put(kv_store_t *s, const void *k, size_t kl, const void *v,
                                   size_t vl) {
  kv_batch_t *b = kv_batch_new();
  kv_batch_put(b, k, kl, v, vl);
  rv_err_t err;
  assert_int_equal(kv_store_write(s, b, &err), RV_OK);
  kv_batch_destroy(&b);
}

typedef struct {
  char keys[64][16];
  size_t n;
  size_t stop_after;
  int fail_code;
} kv_contract_scan_t;

static inline int kv_contract_collect(void *arg, const uint8_t *k, size_t kl, const uint8_t *v,
                                      size_t vl) {
  kv_contract_scan_t *s = arg;
  if (s->fail_code && s->n == 1) return s->fail_code;
  if (s->n == s->stop_after) return KV_SCAN_STOP;
  assert_true(kl < sizeof s->keys[0]);
  memcpy(s->keys[s->n], k, kl);
  s->keys[s->n][kl] = '\0';
  s->n++;
  return 0;
}

static inline void kv_contract_basic(kv_store_t *s) {
  kv_buf_t v;
  kv_buf_init(&v);
  rv_err_t err;
  assert_int_equal(kv_store_get(s, (const uint8_t *)"x", 1, &v, &err), RV_ENOTFOUND);
  kv_batch_t *b = kv_batch_new();
  kv_batch_put(b, "b", 1, "2", 1);
  kv_batch_put(b, "a", 1, "1", 1);
  kv_batch_put(b, "ab", 2, "", 0);
  kv_batch_put(b, "c", 1, "3", 1);
  kv_batch_put(b, "\xff", 1, "hi", 2);
  kv_batch_put(b, "\x7f", 1, "lo", 2);
  assert_int_equal(kv_store_write(s, b, &err), RV_OK);
  kv_batch_clear(b);
  kv_batch_del(b, "c", 1);
  kv_batch_put(b, "b", 1, "22", 2);
  kv_batch_del(b, "nothing", 7); /* deleting a missing key is fine */
  assert_int_equal(kv_store_write(s, b, &err), RV_OK);
  kv_batch_destroy(&b);

  assert_int_equal(kv_store_get(s, (const uint8_t *)"b", 1, &v, &err), RV_OK);
  assert_int_equal(v.len, 2);
  assert_memory_equal(v.data, "22", 2);
  assert_int_equal(kv_store_get(s, (const uint8_t *)"ab", 2, &v, &err), RV_OK);
  assert_int_equal(v.len, 0);
  assert_int_equal(kv_store_get(s, (const uint8_t *)"c", 1, &v, &err), RV_ENOTFOUND);

  /* Bytewise unsigned order, shorter first on a common prefix. */
  kv_contract_scan_t sc = {.stop_after = 100};
  assert_int_equal(kv_store_scan(s, (const uint8_t *)"", 0, kv_contract_collect, &sc, &err), RV_OK);
  assert_int_equal(sc.n, 5);
  assert_string_equal(sc.keys[0], "a");
  assert_string_equal(sc.keys[1], "ab");
  assert_string_equal(sc.keys[2], "b");
  assert_string_equal(sc.keys[3], "\x7f");
  assert_string_equal(sc.keys[4], "\xff");

  /* Seek lands on the first key >= from; stop ends the scan with 0. */
  kv_contract_scan_t s2 = {.stop_after = 1};
  assert_int_equal(kv_store_scan(s, (const uint8_t *)"aa", 2, kv_contract_collect, &s2, &err),
                   RV_OK);
  assert_int_equal(s2.n, 1);
  assert_string_equal(s2.keys[0], "ab");

  /* A callback's error code comes back as is. */
  kv_contract_scan_t s3 = {.stop_after = 100, .fail_code = RV_EIO};
  assert_int_equal(kv_store_scan(s, (const uint8_t *)"", 0, kv_contract_collect, &s3, &err),
                   RV_EIO);

  /* Scan past the end visits nothing. */
  kv_contract_scan_t s4 = {.stop_after = 100};
  assert_int_equal(kv_store_scan(s, (const uint8_t *)"\xff\xff", 2, kv_contract_collect, &s4, &err),
                   RV_OK);
  assert_int_equal(s4.n, 0);
  kv_buf_close(&v);
}

typedef struct {
  char k[24];
  uint32_t v;
  int live;
} kv_contract_ref_t;

static inline int kv_contract_ref_cmp(const void *a, const void *b) {
  return strcmp(((const kv_contract_ref_t *)a)->k, ((const kv_contract_ref_t *)b)->k);
}

typedef struct {
  const kv_contract_ref_t *ref;
  size_t n, i;
  size_t visited;
} kv_contract_walk_t;

static inline int kv_contract_walk(void *arg, const uint8_t *k, size_t kl, const uint8_t *v,
                                   size_t vl) {
  kv_contract_walk_t *w = arg;
  while (w->i < w->n && !w->ref[w->i].live) w->i++;
  assert_true(w->i < w->n);
  assert_int_equal(kl, strlen(w->ref[w->i].k));
  assert_memory_equal(k, w->ref[w->i].k, kl);
  assert_int_equal(vl, 4);
  assert_int_equal(kv_be32_get(v), w->ref[w->i].v);
  w->i++;
  w->visited++;
  return w->visited == 50 ? KV_SCAN_STOP : 0;
}

/* multi_get's callback: checks each key's value against the reference. */
typedef struct {
  kv_contract_ref_t *const *refs; /* the reference entry of each key asked */
  size_t seen;
} kv_contract_multi_t;

static inline int kv_contract_multi_one(void *arg, size_t i, const uint8_t *val, size_t vlen) {
  kv_contract_multi_t *m = arg;
  const kv_contract_ref_t *r = m->refs[i];
  if (r->live) {
    assert_non_null(val);
    assert_int_equal(vlen, 4);
    assert_int_equal(kv_be32_get(val), r->v);
  } else {
    assert_null(val);
  }
  m->seen++;
  return 0;
}

/* Random batches of puts and deletes over a small key space, checked against a reference. */
static inline void kv_contract_random(kv_store_t *s, uint64_t seed) {
  enum { NKEYS = 600 };
  kv_contract_ref_t *ref = calloc(NKEYS, sizeof *ref);
  for (int i = 0; i < NKEYS; i++) snprintf(ref[i].k, sizeof ref[i].k, "k%05d", (i * 7919) % 10007);
  qsort(ref, NKEYS, sizeof *ref, kv_contract_ref_cmp);
  kv_t_rng_t rng;
  kv_t_rng_init(&rng, seed);
  kv_batch_t *b = kv_batch_new();
  rv_err_t err;
  kv_buf_t v;
  kv_buf_init(&v);
  for (int round = 0; round < 200; round++) {
    kv_batch_clear(b);
    int ops = 1 + (int)kv_t_rng_below(&rng, 20);
    for (int j = 0; j < ops; j++) {
      kv_contract_ref_t *r = &ref[kv_t_rng_below(&rng, NKEYS)];
      if (kv_t_rng_below(&rng, 3) == 0) {
        kv_batch_del(b, r->k, strlen(r->k));
        r->live = 0;
      } else {
        uint8_t val[4];
        r->v = (uint32_t)kv_t_rng_next(&rng);
        kv_be32_put(val, r->v);
        kv_batch_put(b, r->k, strlen(r->k), val, 4);
        r->live = 1;
      }
    }
    assert_int_equal(kv_store_write(s, b, &err), RV_OK);
    /* point reads */
    for (int j = 0; j < 10; j++) {
      kv_contract_ref_t *r = &ref[kv_t_rng_below(&rng, NKEYS)];
      int rc = kv_store_get(s, (const uint8_t *)r->k, strlen(r->k), &v, &err);
      if (r->live) {
        assert_int_equal(rc, RV_OK);
        assert_int_equal(kv_be32_get(v.data), r->v);
      } else {
        assert_int_equal(rc, RV_ENOTFOUND);
      }
    }
    /* a multi-get of keys in no order, some absent, some asked twice: each answered once */
    {
      kv_contract_ref_t *refs[24];
      kv_bytes_t keys[24];
      size_t n = 2 + kv_t_rng_below(&rng, 22);
      for (size_t j = 0; j < n; j++) {
        refs[j] = j > 0 && kv_t_rng_below(&rng, 5) == 0 ? refs[j - 1]
                                                         : &ref[kv_t_rng_below(&rng, NKEYS)];
        keys[j] = (kv_bytes_t){(const uint8_t *)refs[j]->k, strlen(refs[j]->k)};
      }
      kv_contract_multi_t m = {.refs = refs};
      assert_int_equal(kv_store_multi_get(s, keys, n, kv_contract_multi_one, &m, &v, &err), RV_OK);
      assert_int_equal(m.seen, n);
    }
    /* a scan from a random reference key */
    size_t at = kv_t_rng_below(&rng, NKEYS);
    kv_contract_walk_t w = {.ref = ref, .n = NKEYS, .i = at};
    assert_int_equal(
        kv_store_scan(s, (const uint8_t *)ref[at].k, strlen(ref[at].k), kv_contract_walk, &w, &err),
        RV_OK);
  }
  kv_buf_close(&v);
  kv_batch_destroy(&b);
  free(ref);
}

#endif
