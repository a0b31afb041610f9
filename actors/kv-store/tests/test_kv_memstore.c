/* Unit tests of kv_memstore: the kv_store_t contract, accounting, fault injection, copy. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "kv_memstore.h"
#include "kv_store_contract.h"

static void test_contract_basic(void **state) {
  kv_memstore_t *ms = kv_memstore_new();
  kv_contract_basic(kv_memstore_store(ms));
  assert_int_equal(kv_memstore_count(ms), 5);
  kv_memstore_destroy(&ms);
  assert_null(ms);
  kv_memstore_destroy(&ms);
}

static void test_contract_random(void **state) {
  kv_memstore_t *ms = kv_memstore_new();
  kv_contract_random(kv_memstore_store(ms), kv_t_seed("memstore random", 42));
  kv_memstore_destroy(&ms);
}

static void test_accounting(void **state) {
  kv_memstore_t *ms = kv_memstore_new();
  kv_store_t *s = kv_memstore_store(ms);
  kv_contract_put(s, "abc", 3, "12345", 5);
  assert_int_equal(kv_memstore_count(ms), 1);
  assert_int_equal(kv_memstore_bytes(ms), 8);
  kv_contract_put(s, "abc", 3, "1", 1);
  assert_int_equal(kv_memstore_bytes(ms), 4);
  assert_int_equal(kv_memstore_writes(ms), 2);
  kv_memstore_destroy(&ms);
}

static void test_fault_injection_writes_nothing(void **state) {
  kv_memstore_t *ms = kv_memstore_new();
  kv_store_t *s = kv_memstore_store(ms);
  kv_memstore_fail_after(ms, 1, RV_EIO);
  kv_contract_put(s, "a", 1, "1", 1); /* the one allowed */
  kv_batch_t *b = kv_batch_new();
  kv_batch_put(b, "b", 1, "2", 1);
  kv_batch_del(b, "a", 1);
  rv_err_t err;
  assert_int_equal(kv_store_write(s, b, &err), RV_EIO);
  assert_non_null(strstr(err.msg, "injected"));
  kv_buf_t v;
  kv_buf_init(&v);
  assert_int_equal(kv_store_get(s, (const uint8_t *)"a", 1, &v, &err), RV_OK);
  assert_int_equal(kv_store_get(s, (const uint8_t *)"b", 1, &v, &err), RV_ENOTFOUND);
  kv_memstore_fail_after(ms, -1, 0);
  assert_int_equal(kv_store_write(s, b, &err), RV_OK);
  assert_int_equal(kv_store_get(s, (const uint8_t *)"a", 1, &v, &err), RV_ENOTFOUND);
  kv_buf_close(&v);
  kv_batch_destroy(&b);
  kv_memstore_destroy(&ms);
}

static void test_copy(void **state) {
  kv_memstore_t *a = kv_memstore_new(), *b = kv_memstore_new();
  kv_contract_put(kv_memstore_store(a), "x", 1, "1", 1);
  kv_contract_put(kv_memstore_store(a), "y", 1, "", 0);
  assert_int_equal(kv_memstore_copy(b, a), RV_OK);
  assert_int_equal(kv_memstore_count(b), 2);
  assert_int_equal(kv_memstore_bytes(b), kv_memstore_bytes(a));
  kv_memstore_destroy(&a);
  kv_memstore_destroy(&b);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_contract_basic), cmocka_unit_test(test_contract_random),
      cmocka_unit_test(test_accounting),     cmocka_unit_test(test_fault_injection_writes_nothing),
      cmocka_unit_test(test_copy),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
