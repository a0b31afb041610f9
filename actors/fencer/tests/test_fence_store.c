/* Tests of fence_store: records written whole (a leftover .new is ignored), read back oldest
 * first, removed; a damaged record is set aside as .bad and reported, never fatal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fence_store.h"

static char s_top[64];
static int s_nbad;
static char s_bad[1024];

static void s_on_bad(const char *why, void *arg) {
  s_nbad++;
  snprintf(s_bad, sizeof s_bad, "%s", why);
}

static int s_setup(void **state) {
  snprintf(s_top, sizeof s_top, "/tmp/rvfs.XXXXXX");
  assert_non_null(mkdtemp(s_top));
  s_nbad = 0;
  return 0;
}

static int s_teardown(void **state) {
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", s_top);
  return system(cmd) == 0 ? 0 : -1;
}

static fence_request_t s_req(const char *id, int method) {
  fence_request_t r;
  memset(&r, 0, sizeof r);
  snprintf(r.id, sizeof r.id, "%s", id);
  snprintf(r.target, sizeof r.target, "n2");
  snprintf(r.requester, sizeof r.requester, "supervisor");
  r.method = method;
  r.running = true;
  r.pgid = 1234;
  return r;
}

static void s_write(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs(text, f);
  fclose(f);
}

static void test_save_load_remove(void **state) {
  char dir[256], path[512];
  rv_err_t err;
  assert_int_equal(fence_store_open(s_top, dir, sizeof dir, &err), RV_OK);
  assert_int_equal(fence_store_open(s_top, dir, sizeof dir, &err), RV_OK); /* twice is fine */
  struct stat st;
  assert_int_equal(stat(dir, &st), 0);
  assert_int_equal(st.st_mode & 0777, 0700);
  fence_request_t b = s_req("00000000000000000002", 1), a = s_req("00000000000000000001", 0);
  assert_int_equal(fence_store_save(dir, &b, &err), RV_OK);
  assert_int_equal(fence_store_save(dir, &a, &err), RV_OK);
  b.method = 2; /* rewritten in place */
  assert_int_equal(fence_store_save(dir, &b, &err), RV_OK);
  /* a torn write of a third one left only its .new: ignored */
  snprintf(path, sizeof path, "%s/00000000000000000003.req.new", dir);
  s_write(path, "raftvisor-fence-request 1\nid=00000000000000000003\ntar");
  fence_request_t out[4];
  int n = -1;
  assert_int_equal(fence_store_load(dir, out, 4, &n, s_on_bad, NULL, &err), RV_OK);
  assert_int_equal(n, 2);
  assert_int_equal(s_nbad, 0);
  assert_string_equal(out[0].id, "00000000000000000001"); /* oldest first */
  assert_string_equal(out[1].id, "00000000000000000002");
  assert_int_equal(out[1].method, 2);
  assert_true(out[1].running);
  assert_int_equal(out[1].pgid, 1234);
  assert_int_equal(fence_store_remove(dir, a.id, &err), RV_OK);
  assert_int_equal(fence_store_remove(dir, a.id, &err), RV_OK); /* absent is fine */
  assert_int_equal(fence_store_load(dir, out, 4, &n, s_on_bad, NULL, &err), RV_OK);
  assert_int_equal(n, 1);
  assert_string_equal(out[0].id, "00000000000000000002");
}

static void test_bad_records_set_aside(void **state) {
  char dir[256], path[512];
  rv_err_t err;
  assert_int_equal(fence_store_open(s_top, dir, sizeof dir, &err), RV_OK);
  fence_request_t a = s_req("00000000000000000001", 0);
  assert_int_equal(fence_store_save(dir, &a, &err), RV_OK);
  snprintf(path, sizeof path, "%s/00000000000000000005.req", dir);
  s_write(path, "garbage\n");
  /* a record under another request's name */
  snprintf(path, sizeof path, "%s/00000000000000000009.req", dir);
  s_write(path, "raftvisor-fence-request 1\nid=x\ntarget=n2\nrequester=s\nmethod=0\n");
  fence_request_t out[4];
  int n = -1;
  assert_int_equal(fence_store_load(dir, out, 4, &n, s_on_bad, NULL, &err), RV_OK);
  assert_int_equal(n, 1);
  assert_string_equal(out[0].id, "00000000000000000001");
  assert_int_equal(s_nbad, 2);
  assert_non_null(strstr(s_bad, "00000000000000000009.req: holds request \"x\""));
  snprintf(path, sizeof path, "%s/00000000000000000005.req.bad", dir);
  assert_int_equal(access(path, F_OK), 0);
  /* set aside: the next load does not see them again */
  s_nbad = 0;
  assert_int_equal(fence_store_load(dir, out, 4, &n, s_on_bad, NULL, &err), RV_OK);
  assert_int_equal(n, 1);
  assert_int_equal(s_nbad, 0);
}

static void test_unwritable(void **state) {
  rv_err_t err;
  fence_request_t a = s_req("00000000000000000001", 0);
  assert_int_equal(fence_store_save("/nonexistent/dir", &a, &err), RV_EIO);
  assert_non_null(strstr(err.msg, "cannot create /nonexistent/dir/00000000000000000001.req.new"));
  int n;
  fence_request_t out[1];
  assert_int_equal(fence_store_load("/nonexistent/dir", out, 1, &n, s_on_bad, NULL, &err), RV_EIO);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_save_load_remove, s_setup, s_teardown),
      cmocka_unit_test_setup_teardown(test_bad_records_set_aside, s_setup, s_teardown),
      cmocka_unit_test_setup_teardown(test_unwritable, s_setup, s_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
