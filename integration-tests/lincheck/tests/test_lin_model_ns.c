/* Unit tests of the namespace model: its specification table one cell at a time, histories with
 * known answers (create twice, rm then a stale cat, ...), and what it refuses as input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "lin_testutil.h"

static const lin_model_t *M = &lin_model_ns;

/* States are private to the model; reach them by stepping from the initial one. */
typedef struct {
  _Alignas(8) unsigned char b[64];
} s_state_t;

static s_state_t s_absent(void) {
  s_state_t s;
  M->init(s.b);
  return s;
}

static s_state_t s_after(s_state_t s, int op, unsigned flags, const char *value) {
  s_state_t n;
  lin_input_t in = {op, flags, "/d/a", value, NULL};
  assert_true(M->step(s.b, &in, NULL, n.b));
  return n;
}

static const char *s_desc(const s_state_t *s) {
  static char buf[128];
  M->describe_state(s->b, buf, sizeof buf);
  return buf;
}

/* Steps op in state s with answer (result, value_out): returns whether the model accepts it and
 * the description of the state after it ("" when refused). */
static bool s_try(const s_state_t *s, int op, unsigned flags, const char *value, int result,
                  const char *value_out, const char **after) {
  lin_input_t in = {op, flags, "/d/a", value, NULL};
  lin_output_t out = {result, value_out};
  s_state_t n;
  bool ok = M->step(s->b, &in, &out, n.b);
  *after = ok ? s_desc(&n) : "";
  return ok;
}

static void s_expect(const s_state_t *s, int op, unsigned flags, const char *value, int result,
                     const char *value_out, const char *after) {
  const char *got;
  static const int all[] = {RV_OK, RV_EEXIST, RV_ENOTFOUND, RV_EISDIR};
  for (size_t i = 0; i < sizeof all / sizeof *all; i++) {
    bool ok = s_try(s, op, flags, value, all[i], value_out, &got);
    if (all[i] == result) {
      if (!ok) fail_msg("%s in %s: %s refused", M->op_name(op), s_desc(s), rv_code_name(result));
      assert_string_equal(got, after);
    } else if (ok) {
      fail_msg("%s in %s: %s accepted, only %s is right", M->op_name(op), s_desc(s),
               rv_code_name(all[i]), rv_code_name(result));
    }
  }
}

/* The table of lin_model_ns.h, cell by cell. */
static void test_specification_table(void **state) {
  s_state_t absent = s_absent(), dir = s_after(absent, LIN_NS_MKDIR, 0, NULL),
            file = s_after(absent, LIN_NS_PUT, 0, "c"),
            empty = s_after(absent, LIN_NS_TOUCHZ, 0, NULL);
  assert_string_equal(s_desc(&absent), "absent");
  assert_string_equal(s_desc(&dir), "directory");
  assert_string_equal(s_desc(&file), "file \"c\"");
  assert_string_equal(s_desc(&empty), "file \"\"");

  s_expect(&absent, LIN_NS_MKDIR, 0, NULL, RV_OK, NULL, "directory");
  s_expect(&dir, LIN_NS_MKDIR, 0, NULL, RV_EEXIST, NULL, "directory");
  s_expect(&file, LIN_NS_MKDIR, 0, NULL, RV_EEXIST, NULL, "file \"c\"");

  s_expect(&absent, LIN_NS_PUT, 0, "v", RV_OK, NULL, "file \"v\"");
  s_expect(&dir, LIN_NS_PUT, 0, "v", RV_EISDIR, NULL, "directory");
  s_expect(&file, LIN_NS_PUT, 0, "v", RV_EEXIST, NULL, "file \"c\"");
  s_expect(&absent, LIN_NS_PUT, LIN_F_OVERWRITE, "v", RV_OK, NULL, "file \"v\"");
  s_expect(&dir, LIN_NS_PUT, LIN_F_OVERWRITE, "v", RV_EISDIR, NULL, "directory");
  s_expect(&file, LIN_NS_PUT, LIN_F_OVERWRITE, "v", RV_OK, NULL, "file \"v\"");

  s_expect(&absent, LIN_NS_TOUCHZ, 0, NULL, RV_OK, NULL, "file \"\"");
  s_expect(&dir, LIN_NS_TOUCHZ, 0, NULL, RV_EISDIR, NULL, "directory");
  s_expect(&file, LIN_NS_TOUCHZ, 0, NULL, RV_EEXIST, NULL, "file \"c\"");
  s_expect(&empty, LIN_NS_TOUCHZ, 0, NULL, RV_OK, NULL, "file \"\"");

  s_expect(&absent, LIN_NS_RM, 0, NULL, RV_ENOTFOUND, NULL, "absent");
  s_expect(&dir, LIN_NS_RM, 0, NULL, RV_OK, NULL, "absent");
  s_expect(&file, LIN_NS_RM, 0, NULL, RV_OK, NULL, "absent");

  s_expect(&absent, LIN_NS_CAT, 0, NULL, RV_ENOTFOUND, NULL, "absent");
  s_expect(&dir, LIN_NS_CAT, 0, NULL, RV_EISDIR, NULL, "directory");
  s_expect(&file, LIN_NS_CAT, 0, NULL, RV_OK, "c", "file \"c\"");
  s_expect(&empty, LIN_NS_CAT, 0, NULL, RV_OK, "", "file \"\"");

  s_expect(&absent, LIN_NS_STAT, 0, NULL, RV_ENOTFOUND, NULL, "absent");
  s_expect(&dir, LIN_NS_STAT, 0, NULL, RV_OK, "dir", "directory");
  s_expect(&file, LIN_NS_STAT, 0, NULL, RV_OK, "file", "file \"c\"");

  /* reads must return the right value, not just the right code */
  const char *got;
  assert_false(s_try(&file, LIN_NS_CAT, 0, NULL, RV_OK, "d", &got));
  assert_false(s_try(&file, LIN_NS_CAT, 0, NULL, RV_OK, NULL, &got));
  assert_false(s_try(&dir, LIN_NS_STAT, 0, NULL, RV_OK, "file", &got));
  assert_false(s_try(&file, LIN_NS_STAT, 0, NULL, RV_OK, "dir", &got));
}

static lin_history_t *s_h(void) {
  lin_history_t *h = lin_history_new();
  assert_non_null(h);
  return h;
}

static void s_op(lin_history_t *h, uint64_t c, int op, unsigned flags, const char *v, int64_t call,
                 int64_t ret, int result, const char *out) {
  lin_t_add(h, c, op, flags, "/d/a", v, NULL, call, ret, result, out);
}

static lin_verdict_t s_check(lin_history_t *h) { return lin_t_check(h, M, NULL, NULL); }

/* Two creates (put without overwrite) of one path both succeed, no rm anywhere: whichever comes
 * second must see the file and answer EEXIST. Sequential or concurrent, it is a violation. */
static void test_create_twice_both_succeed(void **state) {
  for (int concurrent = 0; concurrent < 2; concurrent++) {
    lin_history_t *h = s_h();
    s_op(h, 1, LIN_NS_PUT, 0, "a", 0, 10, RV_OK, NULL);
    s_op(h, 2, LIN_NS_PUT, 0, "b", concurrent ? 5 : 20, concurrent ? 15 : 30, RV_OK, NULL);
    assert_int_equal(s_check(h), LIN_NOT_LINEARIZABLE);
    lin_history_destroy(&h);
  }
}

/* ...unless an rm fits between them. Here the only order is put a, rm, put b (rm before put a
 * would make put b answer EEXIST), so a later cat must see b. */
static void test_create_twice_with_rm_between(void **state) {
  lin_history_t *h = s_h();
  s_op(h, 1, LIN_NS_PUT, 0, "a", 0, 10, RV_OK, NULL);
  s_op(h, 2, LIN_NS_PUT, 0, "b", 20, 30, RV_OK, NULL);
  s_op(h, 3, LIN_NS_RM, 0, NULL, 5, 25, RV_OK, NULL);
  assert_int_equal(s_check(h), LIN_LINEARIZABLE);
  s_op(h, 3, LIN_NS_CAT, 0, NULL, 40, 50, RV_OK, "a");
  assert_int_equal(s_check(h), LIN_NOT_LINEARIZABLE);
  lin_history_destroy(&h);
}

/* put v; rm returned; then cat returns v: the file came back from the dead. If the cat overlaps
 * the rm, it may see v. */
static void test_rm_then_cat_old_value(void **state) {
  for (int overlap = 0; overlap < 2; overlap++) {
    lin_history_t *h = s_h();
    s_op(h, 1, LIN_NS_PUT, 0, "v", 0, 10, RV_OK, NULL);
    s_op(h, 1, LIN_NS_RM, 0, NULL, 20, 30, RV_OK, NULL);
    s_op(h, 2, LIN_NS_CAT, 0, NULL, overlap ? 25 : 40, overlap ? 35 : 50, RV_OK, "v");
    lin_result_t *r;
    assert_int_equal(lin_t_check(h, M, NULL, &r),
                     overlap ? LIN_LINEARIZABLE : LIN_NOT_LINEARIZABLE);
    if (!overlap) {
      assert_string_equal(r->key, "/d/a");
      assert_non_null(strstr(r->report, "state after the prefix: absent\n"));
      assert_non_null(strstr(r->report,
                             "  client 2  cat /d/a -> \"v\"  [40..50 us]: impossible in "
                             "this state\n"));
    }
    lin_result_destroy(&r);
    lin_history_destroy(&h);
  }
}

static void test_mkdir_twice(void **state) {
  lin_history_t *h = s_h();
  s_op(h, 1, LIN_NS_MKDIR, 0, NULL, 0, 10, RV_OK, NULL);
  s_op(h, 2, LIN_NS_MKDIR, 0, NULL, 5, 15, RV_EEXIST, NULL);
  assert_int_equal(s_check(h), LIN_LINEARIZABLE);
  s_op(h, 3, LIN_NS_MKDIR, 0, NULL, 20, 30, RV_OK, NULL);
  assert_int_equal(s_check(h), LIN_NOT_LINEARIZABLE);
  lin_history_destroy(&h);
}

/* A retried write that applied once (exactly-once sessions) is one operation answered ok; if the
 * cluster applied it twice, the second create would have answered EEXIST to the retry. */
static void test_create_answer_must_match_order(void **state) {
  lin_history_t *h = s_h();
  s_op(h, 1, LIN_NS_PUT, 0, "a", 0, 100, RV_EEXIST, NULL); /* long, retried across a failover */
  s_op(h, 2, LIN_NS_STAT, 0, NULL, 10, 20, RV_ENOTFOUND, NULL);
  assert_int_equal(s_check(h), LIN_NOT_LINEARIZABLE); /* EEXIST, yet nobody else created it */
  s_op(h, 3, LIN_NS_TOUCHZ, 0, NULL, 30, 40, RV_OK, NULL);
  assert_int_equal(s_check(h), LIN_LINEARIZABLE);
  lin_history_destroy(&h);
}

static void test_overwrite_and_reads(void **state) {
  lin_history_t *h = s_h();
  s_op(h, 1, LIN_NS_PUT, LIN_F_OVERWRITE, "a", 0, 10, RV_OK, NULL);
  s_op(h, 1, LIN_NS_PUT, LIN_F_OVERWRITE, "b", 20, 30, RV_OK, NULL);
  s_op(h, 2, LIN_NS_CAT, 0, NULL, 40, 50, RV_OK, "b");
  s_op(h, 2, LIN_NS_STAT, 0, NULL, 60, 70, RV_OK, "file");
  assert_int_equal(s_check(h), LIN_LINEARIZABLE);
  s_op(h, 3, LIN_NS_CAT, 0, NULL, 80, 90, RV_OK, "a");
  assert_int_equal(s_check(h), LIN_NOT_LINEARIZABLE);
  lin_history_destroy(&h);
}

static void test_touchz_on_nonempty_file(void **state) {
  lin_history_t *h = s_h();
  s_op(h, 1, LIN_NS_TOUCHZ, 0, NULL, 0, 10, RV_OK, NULL);
  s_op(h, 1, LIN_NS_TOUCHZ, 0, NULL, 20, 30, RV_OK, NULL); /* empty file: ok again */
  s_op(h, 1, LIN_NS_PUT, LIN_F_OVERWRITE, "x", 40, 50, RV_OK, NULL);
  s_op(h, 2, LIN_NS_TOUCHZ, 0, NULL, 60, 70, RV_EEXIST, NULL);
  assert_int_equal(s_check(h), LIN_LINEARIZABLE);
  s_op(h, 2, LIN_NS_TOUCHZ, 0, NULL, 80, 90, RV_OK, NULL);
  assert_int_equal(s_check(h), LIN_NOT_LINEARIZABLE);
  lin_history_destroy(&h);
}

static void test_directory_answers(void **state) {
  lin_history_t *h = s_h();
  s_op(h, 1, LIN_NS_MKDIR, 0, NULL, 0, 10, RV_OK, NULL);
  s_op(h, 2, LIN_NS_STAT, 0, NULL, 20, 30, RV_OK, "dir");
  s_op(h, 2, LIN_NS_PUT, LIN_F_OVERWRITE, "x", 40, 50, RV_EISDIR, NULL);
  s_op(h, 2, LIN_NS_CAT, 0, NULL, 60, 70, RV_EISDIR, NULL);
  s_op(h, 3, LIN_NS_RM, 0, NULL, 80, 90, RV_OK, NULL);
  s_op(h, 3, LIN_NS_STAT, 0, NULL, 100, 110, RV_ENOTFOUND, NULL);
  assert_int_equal(s_check(h), LIN_LINEARIZABLE);
  s_op(h, 4, LIN_NS_STAT, 0, NULL, 120, 130, RV_OK, "file");
  assert_int_equal(s_check(h), LIN_NOT_LINEARIZABLE);
  lin_history_destroy(&h);
}

/* A put that timed out may have created the file: a later cat may see it, a later create may be
 * told EEXIST; but once seen, it cannot vanish without an rm. */
static void test_timed_out_put(void **state) {
  lin_history_t *h = s_h();
  s_op(h, 1, LIN_NS_PUT, 0, "x", 0, LIN_T_NEVER, 0, NULL);
  s_op(h, 2, LIN_NS_CAT, 0, NULL, 10, 20, RV_ENOTFOUND, NULL);
  s_op(h, 2, LIN_NS_CAT, 0, NULL, 30, 40, RV_OK, "x");
  s_op(h, 3, LIN_NS_PUT, 0, "y", 50, 60, RV_EEXIST, NULL);
  assert_int_equal(s_check(h), LIN_LINEARIZABLE);
  s_op(h, 2, LIN_NS_CAT, 0, NULL, 70, 80, RV_ENOTFOUND, NULL);
  assert_int_equal(s_check(h), LIN_NOT_LINEARIZABLE);
  lin_history_destroy(&h);
}

/* Paths are partitions: /d/a's file says nothing about /d/b. */
static void test_paths_are_independent(void **state) {
  lin_history_t *h = s_h();
  lin_t_add(h, 1, LIN_NS_PUT, 0, "/d/a", "x", NULL, 0, 10, RV_OK, NULL);
  lin_t_add(h, 2, LIN_NS_CAT, 0, "/d/b", NULL, NULL, 20, 30, RV_ENOTFOUND, NULL);
  lin_t_add(h, 2, LIN_NS_CAT, 0, "/d/ab", NULL, NULL, 40, 50, RV_ENOTFOUND, NULL);
  lin_result_t *r;
  assert_int_equal(lin_t_check(h, M, NULL, &r), LIN_LINEARIZABLE);
  assert_string_equal(r->summary, "linearizable: 3 ops in 3 partitions");
  lin_result_destroy(&r);
  lin_history_destroy(&h);
}

static void test_nested_paths_are_refused(void **state) {
  lin_history_t *h = s_h();
  rv_err_t err;
  lin_t_add(h, 1, LIN_NS_MKDIR, 0, "/d/a", NULL, NULL, 0, 10, RV_OK, NULL);
  lin_t_add(h, 1, LIN_NS_PUT, 0, "/d/ab", "x", NULL, 20, 30, RV_OK, NULL); /* a sibling: fine */
  assert_int_equal(lin_history_validate(h, M, &err), RV_OK);
  lin_t_add(h, 1, LIN_NS_PUT, 0, "/d/a/b", "x", NULL, 40, 50, RV_OK, NULL);
  assert_int_equal(lin_history_validate(h, M, &err), RV_EINVAL);
  assert_string_equal(err.msg,
                      "\"/d/a\" is a parent of \"/d/a/b\": the per-path namespace model "
                      "needs independent paths (single-level paths under a "
                      "pre-created parent)");
  lin_history_destroy(&h);
}

static void test_bad_input_is_refused(void **state) {
  static const struct {
    int op;
    unsigned flags;
    const char *path, *value, *expect;
    int64_t ret;
    int result;
    const char *out, *msg;
  } cases[] = {
      {LIN_NS_MKDIR, 0, "/", NULL, NULL, 1, 0, NULL,
       "mkdir: path \"/\" must be absolute and not the root"},
      {LIN_NS_MKDIR, 0, "/d//a", NULL, NULL, 1, 0, NULL,
       "mkdir: path \"/d//a\" has an empty, \".\" or \"..\" component or a trailing slash: write "
       "each path one way"},
      {LIN_NS_RM, 0, "/d/a/", NULL, NULL, 1, 0, NULL, NULL},
      {LIN_NS_RM, 0, "/d/./a", NULL, NULL, 1, 0, NULL, NULL},
      {LIN_NS_RM, 0, "/d/../a", NULL, NULL, 1, 0, NULL, NULL},
      {LIN_NS_PUT, 0, "/d/a", NULL, NULL, 1, 0, NULL,
       "put /d/a: \"value\" (the content written) is missing"},
      {LIN_NS_CAT, 0, "/d/a", "x", NULL, 1, 0, "x",
       "cat /d/a: only put takes \"value\" (a read's answer goes in \"value_out\")"},
      {LIN_NS_RM, LIN_F_OVERWRITE, "/d/a", NULL, NULL, 1, 0, NULL,
       "rm /d/a: only put takes \"overwrite\""},
      {LIN_NS_RM, 0, "/d/a", NULL, "e", 1, 0, NULL,
       "rm /d/a: the namespace model has no \"expect\""},
      {LIN_NS_PUT, LIN_F_OVERWRITE, "/d/a", "x", NULL, 1, RV_EEXIST, NULL,
       "put /d/a: result EEXIST is outside the model (ok, EISDIR); record an ambiguous outcome "
       "with \"return_us\":null and leave out operations that surely failed without effect"},
      {LIN_NS_RM, 0, "/d/a", NULL, NULL, 1, RV_ENOTEMPTY, NULL, NULL},
      {LIN_NS_STAT, 0, "/d/a", NULL, NULL, 1, 0, "link",
       "stat /d/a: \"value_out\" must be \"file\" or \"dir\""},
      {LIN_NS_RM, 0, "/d/a", NULL, NULL, 1, 0, "x",
       "rm /d/a: \"value_out\" given for a result without one"},
      {LIN_NS_CAT, 0, "/d/a", NULL, NULL, 1, RV_ENOTFOUND, "x", NULL},
      {99, 0, "/d/a", NULL, NULL, 1, 0, NULL, "unknown namespace op 99"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    lin_input_t in = {cases[i].op, cases[i].flags, cases[i].path, cases[i].value, cases[i].expect};
    lin_output_t out = {cases[i].result, cases[i].out};
    rv_err_t err;
    if (M->validate(&in, &out, false, &err) != RV_EINVAL) fail_msg("case %zu accepted", i);
    if (cases[i].msg && strcmp(err.msg, cases[i].msg) != 0)
      fail_msg("case %zu:\n got:  %s\n want: %s", i, err.msg, cases[i].msg);
  }
  /* a pending operation's answer is not checked */
  lin_input_t in = {LIN_NS_RM, 0, "/d/a", NULL, NULL};
  lin_output_t out = {RV_EIO, "junk"};
  assert_int_equal(M->validate(&in, &out, true, NULL), RV_OK);
}

static void test_describe_op(void **state) {
  char buf[128];
  lin_input_t put = {LIN_NS_PUT, LIN_F_OVERWRITE, "/d/a", "x\"y", NULL};
  lin_output_t ok = {RV_OK, NULL}, eexist = {RV_EEXIST, NULL}, cat = {RV_OK, "v"},
               st = {RV_OK, "dir"};
  M->describe_op(&put, &ok, buf, sizeof buf);
  assert_string_equal(buf, "put -f /d/a \"x\\\"y\" -> ok");
  put.flags = 0;
  M->describe_op(&put, &eexist, buf, sizeof buf);
  assert_string_equal(buf, "put /d/a \"x\\\"y\" -> EEXIST");
  M->describe_op(&put, NULL, buf, sizeof buf);
  assert_string_equal(buf, "put /d/a \"x\\\"y\" -> no answer");
  lin_input_t c = {LIN_NS_CAT, 0, "/d/a", NULL, NULL}, s = {LIN_NS_STAT, 0, "/d/a", NULL, NULL};
  M->describe_op(&c, &cat, buf, sizeof buf);
  assert_string_equal(buf, "cat /d/a -> \"v\"");
  M->describe_op(&s, &st, buf, sizeof buf);
  assert_string_equal(buf, "stat /d/a -> dir");
  assert_int_equal(M->describe_op(&c, &cat, buf, 5), strlen("cat /d/a -> \"v\""));
  assert_string_equal(buf, "cat ");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_specification_table),
      cmocka_unit_test(test_create_twice_both_succeed),
      cmocka_unit_test(test_create_twice_with_rm_between),
      cmocka_unit_test(test_rm_then_cat_old_value),
      cmocka_unit_test(test_mkdir_twice),
      cmocka_unit_test(test_create_answer_must_match_order),
      cmocka_unit_test(test_overwrite_and_reads),
      cmocka_unit_test(test_touchz_on_nonempty_file),
      cmocka_unit_test(test_directory_answers),
      cmocka_unit_test(test_timed_out_put),
      cmocka_unit_test(test_paths_are_independent),
      cmocka_unit_test(test_nested_paths_are_refused),
      cmocka_unit_test(test_bad_input_is_refused),
      cmocka_unit_test(test_describe_op),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
