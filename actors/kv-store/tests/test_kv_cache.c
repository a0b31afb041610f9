/* Unit tests of kv_cache: hits, recorded absences, write-through updates, values too large to
 * keep, LRU replacement within a set, the disabled (NULL) cache. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "kv_cache.h"

static kv_cache_found_t s_get(kv_cache_t *c, const char *k, kv_buf_t *v) {
  return kv_cache_get(c, (const uint8_t *)k, strlen(k), v);
}

static void s_set(kv_cache_t *c, const char *k, const char *v) {
  kv_cache_set(c, (const uint8_t *)k, strlen(k), (const uint8_t *)v, v ? strlen(v) : 0, v == NULL);
}

static void test_hit_absent_miss(void **state) {
  kv_cache_t *c = kv_cache_new(64);
  kv_buf_t v;
  kv_buf_init(&v);
  assert_int_equal(s_get(c, "a", &v), KV_CACHE_MISS);
  s_set(c, "a", "1");
  assert_int_equal(s_get(c, "a", &v), KV_CACHE_HIT);
  assert_int_equal(v.len, 1);
  assert_memory_equal(v.data, "1", 1);
  s_set(c, "a", "22"); /* write-through update */
  assert_int_equal(s_get(c, "a", &v), KV_CACHE_HIT);
  assert_memory_equal(v.data, "22", 2);
  s_set(c, "a", NULL); /* deleted */
  assert_int_equal(s_get(c, "a", &v), KV_CACHE_ABSENT);
  s_set(c, "e", ""); /* an empty value is a value */
  assert_int_equal(s_get(c, "e", &v), KV_CACHE_HIT);
  assert_int_equal(v.len, 0);
  uint64_t hits, misses;
  kv_cache_stats(c, &hits, &misses);
  assert_int_equal(hits, 4);
  assert_int_equal(misses, 1);
  kv_cache_clear(c);
  assert_int_equal(s_get(c, "e", &v), KV_CACHE_MISS);
  kv_buf_close(&v);
  kv_cache_destroy(&c);
  assert_null(c);
  kv_cache_destroy(&c);
}

static void test_large_values_not_kept(void **state) {
  kv_cache_t *c = kv_cache_new(64);
  kv_buf_t v;
  kv_buf_init(&v);
  char big[KV_CACHE_VALUE_MAX + 2];
  memset(big, 'b', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  s_set(c, "k", "small");
  s_set(c, "k", big); /* the old copy must go, not stay stale */
  assert_int_equal(s_get(c, "k", &v), KV_CACHE_MISS);
  big[KV_CACHE_VALUE_MAX] = '\0'; /* exactly the limit is kept */
  s_set(c, "k", big);
  assert_int_equal(s_get(c, "k", &v), KV_CACHE_HIT);
  assert_int_equal(v.len, KV_CACHE_VALUE_MAX);
  kv_buf_close(&v);
  kv_cache_destroy(&c);
}

static void test_bounded_and_lru(void **state) {
  kv_cache_t *c = kv_cache_new(16);
  kv_buf_t v;
  kv_buf_init(&v);
  char k[32];
  s_set(c, "hot", "h");
  int hot_hits = 0;
  for (int i = 0; i < 10000; i++) {
    snprintf(k, sizeof k, "key%d", i);
    s_set(c, k, k);
    if (s_get(c, "hot", &v) == KV_CACHE_HIT) hot_hits++; /* used every time: never the LRU */
  }
  assert_int_equal(hot_hits, 10000);
  int kept = 0;
  for (int i = 0; i < 10000; i++) {
    snprintf(k, sizeof k, "key%d", i);
    kv_cache_found_t f = s_get(c, k, &v);
    if (f == KV_CACHE_HIT) {
      kept++;
      assert_int_equal(v.len, strlen(k));
      assert_memory_equal(v.data, k, v.len);
    }
  }
  assert_true(kept > 0 && kept <= 16);
  kv_buf_close(&v);
  kv_cache_destroy(&c);
}

static void s_refresh(kv_cache_t *c, const char *k, const char *v) {
  kv_cache_refresh(c, (const uint8_t *)k, strlen(k), (const uint8_t *)v, v ? strlen(v) : 0,
                   v == NULL);
}

/* refresh follows the store for the keys held (values and absences), leaves the others out,
 * and drops a held key whose new value is too large to keep. */
static void test_refresh_only_held(void **state) {
  kv_cache_t *c = kv_cache_new(64);
  kv_buf_t v;
  kv_buf_init(&v);
  s_refresh(c, "new", "1"); /* nobody read it: not taken in */
  assert_int_equal(s_get(c, "new", &v), KV_CACHE_MISS);
  s_set(c, "held", "1");
  s_refresh(c, "held", "2");
  assert_int_equal(s_get(c, "held", &v), KV_CACHE_HIT);
  assert_memory_equal(v.data, "2", 1);
  s_refresh(c, "held", NULL); /* deleted */
  assert_int_equal(s_get(c, "held", &v), KV_CACHE_ABSENT);
  s_set(c, "gone", NULL); /* an absence read from the store, then the key is written */
  s_refresh(c, "gone", "x");
  assert_int_equal(s_get(c, "gone", &v), KV_CACHE_HIT);
  assert_memory_equal(v.data, "x", 1);
  char big[KV_CACHE_VALUE_MAX + 2];
  memset(big, 'b', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  s_refresh(c, "gone", big); /* too large to keep: the stale copy must not survive */
  assert_int_equal(s_get(c, "gone", &v), KV_CACHE_MISS);
  kv_buf_close(&v);
  kv_cache_destroy(&c);
  s_refresh(NULL, "a", "1"); /* the disabled cache takes it too */
}

static void test_disabled_cache(void **state) {
  kv_cache_t *c = kv_cache_new(0);
  assert_null(c);
  kv_buf_t v;
  kv_buf_init(&v);
  s_set(c, "a", "1");
  assert_int_equal(s_get(c, "a", &v), KV_CACHE_MISS);
  kv_cache_clear(c);
  uint64_t h, m;
  kv_cache_stats(c, &h, &m);
  assert_int_equal(h + m, 0);
  kv_buf_close(&v);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_hit_absent_miss),
      cmocka_unit_test(test_large_values_not_kept),
      cmocka_unit_test(test_bounded_and_lru),
      cmocka_unit_test(test_disabled_cache),
      cmocka_unit_test(test_refresh_only_held),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
