/* Unit tests of the history file format: what parses, what each kind of bad line says (file,
 * line and column), and that the writer's lines parse back to the same operation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "lin_jsonl.h"
#include "lin_testutil.h"

static int s_parse(lin_history_t *h, const lin_model_t *m, const char *text, rv_err_t *err) {
  return lin_jsonl_parse(h, m, text, strlen(text), "h.jsonl", err);
}

static void test_parses_namespace_lines(void **state) {
  lin_history_t *h = lin_history_new();
  rv_err_t err;
  const char *text =
      "{\"client\":3,\"op\":\"put\",\"path\":\"/d/a\",\"value\":\"x\",\"call_us\":100,"
      "\"return_us\":250,\"result\":\"ok\"}\n"
      "\n"
      "  { \"op\" : \"cat\" , \"client\" : 5, \"path\":\"/d/a\", \"call_us\":300, "
      "\"return_us\":400, \"result\":\"ok\", \"value_out\":\"x\", \"node\":\"n2\", \"seq\":7, "
      "\"retried\":true, \"note\":null }\r\n"
      "{\"client\":2,\"op\":\"rm\",\"path\":\"/d/a\",\"call_us\":500,\"return_us\":null}\n"
      "{\"client\":4,\"op\":\"put\",\"path\":\"/d/b\",\"value\":\"\",\"overwrite\":true,"
      "\"call_us\":0,\"return_us\":0,\"result\":\"EISDIR\"}";
  assert_int_equal(s_parse(h, &lin_model_ns, text, &err), RV_OK);
  assert_int_equal(lin_history_count(h), 4);
  const lin_op_t *op = lin_history_op(h, 0);
  assert_int_equal(op->client, 3);
  assert_int_equal(op->in.op, LIN_NS_PUT);
  assert_string_equal(op->in.key, "/d/a");
  assert_string_equal(op->in.value, "x");
  assert_int_equal(op->in.flags, 0);
  assert_int_equal(op->call_us, 100);
  assert_int_equal(op->return_us, 250);
  assert_int_equal(op->out.result, RV_OK);
  assert_null(op->out.value);
  assert_int_equal(op->line, 1);
  op = lin_history_op(h, 1);
  assert_int_equal(op->in.op, LIN_NS_CAT);
  assert_string_equal(op->out.value, "x");
  assert_int_equal(op->line, 3);
  op = lin_history_op(h, 2);
  assert_int_equal(op->return_us, LIN_PENDING);
  assert_int_equal(op->line, 4);
  op = lin_history_op(h, 3);
  assert_int_equal(op->in.flags, LIN_F_OVERWRITE);
  assert_string_equal(op->in.value, "");
  assert_int_equal(op->out.result, RV_EISDIR);
  lin_history_destroy(&h);
}

static void test_parses_register_lines(void **state) {
  lin_history_t *h = lin_history_new();
  rv_err_t err;
  const char *text =
      "{\"client\":1,\"op\":\"cas\",\"key\":\"r\",\"expect\":null,\"value\":\"1\",\"call_us\":1,"
      "\"return_us\":2,\"result\":\"ok\"}\n"
      "{\"client\":1,\"op\":\"read\",\"key\":\"r\",\"call_us\":3,\"return_us\":4,"
      "\"result\":\"ok\",\"value_out\":null}\n";
  assert_int_equal(s_parse(h, &lin_model_reg, text, &err), RV_OK);
  assert_null(lin_history_op(h, 0)->in.expect);
  assert_null(lin_history_op(h, 1)->out.value);
  assert_int_equal(lin_t_check(h, &lin_model_reg, NULL, NULL), LIN_NOT_LINEARIZABLE);
  lin_history_destroy(&h);
}

static void test_string_escapes(void **state) {
  lin_history_t *h = lin_history_new();
  rv_err_t err;
  const char *text =
      "{\"client\":1,\"op\":\"write\",\"key\":\"k\",\"value\":"
      "\"q\\\"b\\\\s\\/b\\bf\\fn\\nr\\rt\\t\\u00e9\\u20ac\\ud83d\\ude00\","
      "\"call_us\":1,\"return_us\":2,\"result\":\"ok\"}";
  assert_int_equal(s_parse(h, &lin_model_reg, text, &err), RV_OK);
  assert_string_equal(lin_history_op(h, 0)->in.value,
                      "q\"b\\s/b\bf\fn\nr\rt\t\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
  lin_history_destroy(&h);
}

/* Each bad line, and what the error says. */
static void test_bad_lines_name_line_and_column(void **state) {
  static const struct {
    const char *line, *msg;
  } cases[] = {
      {"[1]", "h.jsonl:1:1: expected '{' (one JSON object per line)"},
      {"{\"op\":\"mkdir\",\"path\":\"/d/a\",\"call_us\":1,\"return_us\":2,\"result\":\"ok\"}",
       "h.jsonl:1: \"client\" is missing"},
      {"{\"client\":1,\"client\":2}", "h.jsonl:1:13: key \"client\" given twice"},
      {"{\"client\":\"3\"}", "h.jsonl:1:11: client: expected an integer >= 0"},
      {"{\"client\":-3,\"op\":\"rm\",\"path\":\"/d/a\",\"call_us\":1,\"return_us\":null}",
       "h.jsonl:1:11: client: expected an integer >= 0"},
      {"{\"client\":1,\"call_us\":1.5}",
       "h.jsonl:1:23: expected an integer (no fraction or exponent)"},
      {"{\"client\":01}", "h.jsonl:1:11: leading zero in a number"},
      {"{\"client\":99999999999999999999}", "h.jsonl:1:11: number out of range"},
      {"{\"client\":1,\"op\":\"mv\",\"path\":\"/d/a\",\"call_us\":1,\"return_us\":null}",
       "h.jsonl:1:18: op: \"mv\" is not an operation of the namespace model"},
      {"{\"client\":1,\"op\":\"rm\",\"path\":\"/d/a\",\"call_us\":1,\"return_us\":2,"
       "\"result\":\"EFOO\"}",
       "h.jsonl:1:72: result: \"EFOO\" is neither \"ok\" nor an error code name (EEXIST, "
       "ENOTFOUND, ...)"},
      {"{\"client\":1,\"op\":\"rm\",\"path\":\"/d/a\",\"call_us\":1,\"return_us\":2}",
       "h.jsonl:1: \"result\" is missing (it is required when return_us is not null)"},
      {"{\"client\":1,\"op\":\"rm\",\"path\":\"/d/a\",\"call_us\":5,\"return_us\":2,"
       "\"result\":\"ok\"}",
       "h.jsonl:1:61: return_us 2 is before call_us 5"},
      {"{\"client\":1,\"op\":\"rm\",\"path\":\"/d/a\",\"call_us\":1}",
       "h.jsonl:1: \"return_us\" is missing"},
      {"{\"client\":1,\"x\":{\"a\":1}}",
       "h.jsonl:1:17: nested objects and arrays are not part of the history format"},
      {"{\"client\":1} x", "h.jsonl:1:14: text after the object (one object per line)"},
      {"{\"client\":1,\"op\":\"rm", "h.jsonl:1:18: unterminated string"},
      {"{\"client\":1,\"op\":\"r\tm\"}", "h.jsonl:1:20: raw control character in a string"},
      {"{\"op\":\"a\\u0000b\"}", "h.jsonl:1:9: \\u0000 is not supported (strings are C strings)"},
      {"{\"op\":\"\\udc00\"}", "h.jsonl:1:8: lone low surrogate in \\u escape"},
      {"{\"op\":\"\\ud800x\"}", "h.jsonl:1:8: high surrogate not followed by a \\u low surrogate"},
      {"{\"op\":\"\\u12g4\"}", "h.jsonl:1:10: \\u needs four hex digits"},
      {"{\"op\":\"\\x\"}", "h.jsonl:1:8: invalid escape in a string"},
      {"{\"client\":1,}", "h.jsonl:1:13: expected a key in double quotes"},
      {"{\"client\" 1}", "h.jsonl:1:11: expected ':' after a key"},
      {"{\"client\":1 \"op\":2}", "h.jsonl:1:13: expected ',' or '}'"},
      {"{\"client\":nul}", "h.jsonl:1:11: expected a value"},
      {"{\"client\":1,\"op\":\"mkdir\",\"path\":\"/d/a\",\"call_us\":1,\"return_us\":2,"
       "\"result\":\"EIO\"}",
       "h.jsonl:1: mkdir /d/a: result EIO is outside the model (ok, EEXIST); record an "
       "ambiguous outcome with \"return_us\":null and leave out operations that surely failed "
       "without effect"},
      {"{\"client\":1,\"op\":\"cat\",\"path\":\"/d/a\",\"call_us\":1,\"return_us\":2,"
       "\"result\":\"ok\"}",
       "h.jsonl:1: cat /d/a: \"value_out\" is missing for result ok"},
      {"{\"client\":1,\"op\":\"put\",\"path\":\"d/a\",\"value\":\"x\",\"call_us\":1,"
       "\"return_us\":null}",
       "h.jsonl:1: put: path \"d/a\" must be absolute and not the root"},
  };
  int failed = 0;
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    lin_history_t *h = lin_history_new();
    rv_err_t err;
    if (s_parse(h, &lin_model_ns, cases[i].line, &err) != RV_EINVAL) {
      print_error("case %zu parsed: %s\n", i, cases[i].line);
      failed++;
    } else if (strcmp(err.msg, cases[i].msg) != 0) {
      print_error("case %zu: %s\n got:  %s\n want: %s\n", i, cases[i].line, err.msg, cases[i].msg);
      failed++;
    }
    lin_history_destroy(&h);
  }
  assert_int_equal(failed, 0);
}

/* The lines before a bad one are kept; line numbers count blank lines. */
static void test_error_stops_at_the_bad_line(void **state) {
  lin_history_t *h = lin_history_new();
  rv_err_t err;
  const char *text =
      "{\"client\":1,\"op\":\"mkdir\",\"path\":\"/d/a\",\"call_us\":1,\"return_us\":2,"
      "\"result\":\"ok\"}\n\n\n"
      "{\"client\":1,\"op\":\"mkdir\"\n"
      "{\"client\":1,\"op\":\"mkdir\",\"path\":\"/d/a\",\"call_us\":1,\"return_us\":2,"
      "\"result\":\"ok\"}\n";
  assert_int_equal(s_parse(h, &lin_model_ns, text, &err), RV_EINVAL);
  assert_string_equal(err.msg, "h.jsonl:4:25: expected ',' or '}'");
  assert_int_equal(lin_history_count(h), 1);
  lin_history_destroy(&h);
}

static void test_nul_byte_is_refused(void **state) {
  lin_history_t *h = lin_history_new();
  rv_err_t err;
  const char text[] = "\n{\"cli\0ent\":1}\n";
  assert_int_equal(lin_jsonl_parse(h, &lin_model_ns, text, sizeof text - 1, "f", &err), RV_EINVAL);
  assert_string_equal(err.msg, "f:2:6: NUL byte in the line");
  lin_history_destroy(&h);
}

/* The writer's lines parse back to the same operations. */
static void test_format_round_trips(void **state) {
  lin_history_t *h = lin_history_new(), *back = lin_history_new();
  lin_t_add(h, 7, LIN_NS_PUT, LIN_F_OVERWRITE, "/d/q\"uote", "line\nbreak\t\x01\xc3\xa9", NULL,
            1700000000123456, 1700000000124001, RV_OK, NULL);
  lin_t_add(h, 0, LIN_NS_CAT, 0, "/d/a", NULL, NULL, 5, 9, RV_OK, "\\back");
  lin_t_add(h, 2, LIN_NS_RM, 0, "/d/a", NULL, NULL, 5, LIN_PENDING, 0, NULL);
  lin_t_add(h, 3, LIN_NS_STAT, 0, "/d/a", NULL, NULL, 6, 8, RV_ENOTFOUND, NULL);
  char text[4096];
  size_t len = 0;
  for (size_t i = 0; i < lin_history_count(h); i++) {
    size_t n = lin_jsonl_format(lin_history_op(h, i), &lin_model_ns, text + len, sizeof text - len);
    assert_true(n < sizeof text - len);
    len += n;
    text[len++] = '\n';
  }
  text[len] = '\0';
  assert_non_null(strstr(text,
                         "{\"client\":2,\"op\":\"rm\",\"path\":\"/d/a\",\"call_us\":5,"
                         "\"return_us\":null}\n"));
  rv_err_t err;
  assert_int_equal(lin_jsonl_parse(back, &lin_model_ns, text, len, "rt", &err), RV_OK);
  assert_int_equal(lin_history_count(back), lin_history_count(h));
  for (size_t i = 0; i < lin_history_count(h); i++) {
    const lin_op_t *a = lin_history_op(h, i), *b = lin_history_op(back, i);
    assert_int_equal(a->client, b->client);
    assert_int_equal(a->call_us, b->call_us);
    assert_int_equal(a->return_us, b->return_us);
    assert_int_equal(a->in.op, b->in.op);
    assert_int_equal(a->in.flags, b->in.flags);
    assert_true(lin_str_equal(a->in.key, b->in.key));
    assert_true(lin_str_equal(a->in.value, b->in.value));
    if (a->return_us != LIN_PENDING) {
      assert_int_equal(a->out.result, b->out.result);
      assert_true(lin_str_equal(a->out.value, b->out.value));
    }
  }
  /* snprintf-style: a short buffer gets a truncated, terminated line and the full length */
  char small[10];
  size_t need = lin_jsonl_format(lin_history_op(h, 0), &lin_model_ns, small, sizeof small);
  assert_true(need > sizeof small);
  assert_int_equal(strlen(small), sizeof small - 1);
  lin_history_destroy(&h);
  lin_history_destroy(&back);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_parses_namespace_lines),
      cmocka_unit_test(test_parses_register_lines),
      cmocka_unit_test(test_string_escapes),
      cmocka_unit_test(test_bad_lines_name_line_and_column),
      cmocka_unit_test(test_error_stops_at_the_bad_line),
      cmocka_unit_test(test_nul_byte_is_refused),
      cmocka_unit_test(test_format_round_trips),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
