/* Unit tests of kv_batch: read-your-writes, shadowing, savepoints, iteration, growth. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "kv_batch.h"
#include "rv_error.h"

static kv_batch_found_t s_get(kv_batch_t *b, const char *k, const char **v) {
  const uint8_t *p = NULL;
  size_t n = 0;
  kv_batch_found_t f = kv_batch_lookup(b, k, strlen(k), &p, &n);
  static char buf[256];
  if (f == KV_BATCH_PUT) {
    memcpy(buf, p, n);
    buf[n] = '\0';
    *v = buf;
  }
  return f;
}

static void test_put_lookup_delete(void **state) {
  kv_batch_t *b = kv_batch_new();
  const char *v;
  assert_true(kv_batch_empty(b));
  assert_int_equal(s_get(b, "a", &v), KV_BATCH_ABSENT);
  assert_int_equal(kv_batch_put(b, "a", 1, "1", 1), RV_OK);
  assert_int_equal(s_get(b, "a", &v), KV_BATCH_PUT);
  assert_string_equal(v, "1");
  assert_int_equal(kv_batch_del(b, "a", 1), RV_OK);
  assert_int_equal(s_get(b, "a", &v), KV_BATCH_DEL);
  assert_int_equal(kv_batch_put(b, "a", 1, "22", 2), RV_OK);
  assert_int_equal(s_get(b, "a", &v), KV_BATCH_PUT);
  assert_string_equal(v, "22");
  assert_int_equal(kv_batch_count(b), 3);
  assert_int_equal(kv_batch_live(b), 1);
  /* An empty key is refused; an empty value is fine. */
  assert_int_equal(kv_batch_put(b, "", 0, "x", 1), RV_EINVAL);
  assert_int_equal(kv_batch_put(b, "e", 1, "", 0), RV_OK);
  assert_int_equal(s_get(b, "e", &v), KV_BATCH_PUT);
  assert_string_equal(v, "");
  kv_batch_destroy(&b);
  assert_null(b);
  kv_batch_destroy(&b);
}

static void test_next_yields_final_values_once(void **state) {
  kv_batch_t *b = kv_batch_new();
  kv_batch_put(b, "a", 1, "1", 1);
  kv_batch_put(b, "b", 1, "2", 1);
  kv_batch_put(b, "a", 1, "3", 1);
  kv_batch_del(b, "b", 1);
  kv_batch_del(b, "c", 1);
  size_t cur = 0;
  kv_batch_op_t op;
  int seen_a = 0, seen_b = 0, seen_c = 0;
  while (kv_batch_next(b, &cur, &op)) {
    if (op.key[0] == 'a') {
      seen_a++;
      assert_false(op.del);
      assert_memory_equal(op.val, "3", 1);
    } else if (op.key[0] == 'b') {
      seen_b++;
      assert_true(op.del);
      assert_null(op.val);
    } else {
      seen_c++;
      assert_true(op.del);
    }
  }
  assert_int_equal(seen_a, 1);
  assert_int_equal(seen_b, 1);
  assert_int_equal(seen_c, 1);
  kv_batch_clear(b);
  cur = 0;
  assert_false(kv_batch_next(b, &cur, &op));
  assert_int_equal(kv_batch_bytes(b), 0);
  kv_batch_destroy(&b);
}

static void test_rollback_restores_shadowed(void **state) {
  kv_batch_t *b = kv_batch_new();
  const char *v;
  kv_batch_put(b, "k", 1, "old", 3);
  kv_batch_put(b, "x", 1, "x", 1);
  size_t m = kv_batch_mark(b);
  kv_batch_put(b, "k", 1, "new", 3);
  kv_batch_del(b, "x", 1);
  kv_batch_put(b, "y", 1, "y", 1);
  assert_string_equal((s_get(b, "k", &v), v), "new");
  kv_batch_rollback(b, m);
  assert_int_equal(s_get(b, "k", &v), KV_BATCH_PUT);
  assert_string_equal(v, "old");
  assert_int_equal(s_get(b, "x", &v), KV_BATCH_PUT);
  assert_int_equal(s_get(b, "y", &v), KV_BATCH_ABSENT);
  assert_int_equal(kv_batch_live(b), 2);
  assert_int_equal(kv_batch_count(b), 2);
  /* iteration sees the restored entries */
  size_t cur = 0, n = 0;
  kv_batch_op_t op;
  while (kv_batch_next(b, &cur, &op)) n++;
  assert_int_equal(n, 2);
  kv_batch_rollback(b, 0);
  assert_true(kv_batch_empty(b));
  kv_batch_destroy(&b);
}

static void test_many_keys_rehash_and_rollback(void **state) {
  kv_batch_t *b = kv_batch_new();
  char k[32];
  for (int i = 0; i < 20000; i++) {
    int n = snprintf(k, sizeof k, "key-%d", i);
    assert_int_equal(kv_batch_put(b, k, (size_t)n, k, (size_t)n), RV_OK);
  }
  size_t m = kv_batch_mark(b);
  for (int i = 0; i < 20000; i += 2) {
    int n = snprintf(k, sizeof k, "key-%d", i);
    kv_batch_del(b, k, (size_t)n);
  }
  for (int i = 20000; i < 40000; i++) { /* forces more rehashes after the mark */
    int n = snprintf(k, sizeof k, "key-%d", i);
    kv_batch_put(b, k, (size_t)n, "z", 1);
  }
  assert_int_equal(kv_batch_live(b), 40000);
  kv_batch_rollback(b, m);
  assert_int_equal(kv_batch_live(b), 20000);
  for (int i = 0; i < 40000; i++) {
    int n = snprintf(k, sizeof k, "key-%d", i);
    const uint8_t *v;
    size_t vl;
    kv_batch_found_t f = kv_batch_lookup(b, k, (size_t)n, &v, &vl);
    if (i < 20000) {
      assert_int_equal(f, KV_BATCH_PUT);
      assert_int_equal(vl, (size_t)n);
      assert_memory_equal(v, k, vl);
    } else {
      assert_int_equal(f, KV_BATCH_ABSENT);
    }
  }
  kv_batch_destroy(&b);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_put_lookup_delete),
      cmocka_unit_test(test_next_yields_final_values_once),
      cmocka_unit_test(test_rollback_restores_shadowed),
      cmocka_unit_test(test_many_keys_rehash_and_rollback),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
