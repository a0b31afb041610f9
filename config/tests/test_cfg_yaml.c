/* Tests of cfg_yaml.c: the marked tree, and what it refuses while building. */
#include "cfg_test.h"
#include "cfg_yaml.h"

static cfg_yaml_node_t *s_tree(const char *yaml) {
  cfg_yaml_node_t *root = NULL;
  rv_err_t err;
  rv_err_clear(&err);
  int rc = cfg_yaml_parse("t.yaml", yaml, strlen(yaml), &root, &err);
  if (rc) print_error("unexpected: %s\n", err.msg);
  assert_int_equal(rc, 0);
  return root;
}

static void s_refused(const char *yaml, const char *msg) {
  cfg_yaml_node_t *root = (cfg_yaml_node_t *)(uintptr_t)1;
  rv_err_t err;
  rv_err_clear(&err);
  assert_int_equal(cfg_yaml_parse("t.yaml", yaml, strlen(yaml), &root, &err), RV_ECONFIG);
  assert_string_equal(err.msg, msg);
  assert_null(root);
}

static void test_tree_has_kinds_order_and_marks(void **state) {
  cfg_yaml_node_t *root = s_tree("# comment\n"
                                 "node:\n"
                                 "  id: n1\n"
                                 "  data-dir: \"/x\"\n"
                                 "list:\n"
                                 "  - a\n"
                                 "  - {k: v}\n");
  assert_int_equal(root->kind, CFG_YAML_MAP);
  assert_int_equal(root->n, 2);
  assert_string_equal(root->keys[0]->text, "node");
  assert_string_equal(root->keys[1]->text, "list");
  const cfg_yaml_node_t *id = cfg_yaml_find(root, "node.id");
  assert_non_null(id);
  assert_int_equal(id->kind, CFG_YAML_SCALAR);
  assert_string_equal(id->text, "n1");
  assert_int_equal(id->line, 3);
  assert_int_equal(id->col, 7);
  assert_string_equal(id->key, "id");
  const cfg_yaml_node_t *dd = cfg_yaml_get(cfg_yaml_get(root, "node"), "data-dir");
  assert_string_equal(dd->text, "/x");
  assert_false(dd->null);
  const cfg_yaml_node_t *list = cfg_yaml_get(root, "list");
  assert_int_equal(list->kind, CFG_YAML_SEQ);
  assert_int_equal(list->n, 2);
  const cfg_yaml_node_t *v = cfg_yaml_find(root, "list[1].k");
  assert_non_null(v);
  assert_string_equal(v->text, "v");
  assert_int_equal(v->line, 7);
  assert_int_equal(v->col, 9);
  char path[128];
  cfg_yaml_path(v, path, sizeof path);
  assert_string_equal(path, "list[1].k");
  assert_null(cfg_yaml_find(root, "list[2]"));
  assert_null(cfg_yaml_find(root, "node.nope"));
  assert_null(cfg_yaml_get(id, "x")); /* not a mapping */
  cfg_yaml_destroy(&root);
  assert_null(root);
  cfg_yaml_destroy(&root); /* twice is fine */
}

static void test_nulls_are_marked(void **state) {
  cfg_yaml_node_t *root = s_tree("a:\nb: ~\nc: ''\nd: null\ne: \"null\"\n");
  assert_true(cfg_yaml_get(root, "a")->null);
  assert_true(cfg_yaml_get(root, "b")->null);
  assert_false(cfg_yaml_get(root, "c")->null); /* quoted: an empty string, given */
  assert_true(cfg_yaml_get(root, "d")->null);
  assert_false(cfg_yaml_get(root, "e")->null);
  cfg_yaml_destroy(&root);
}

static void test_dotted_top_level_keys_are_found_whole(void **state) {
  cfg_yaml_node_t *root = s_tree("namespace.ots.instance: inst\n");
  const cfg_yaml_node_t *v = cfg_yaml_find(root, "namespace.ots.instance");
  assert_non_null(v);
  assert_string_equal(v->text, "inst");
  char path[128];
  cfg_yaml_path(v, path, sizeof path);
  assert_string_equal(path, "namespace.ots.instance");
  cfg_yaml_destroy(&root);
}

static void test_empty_streams_have_no_root(void **state) {
  const char *empty[] = {"", "# only a comment\n", "---\n", "~\n", "\n\n"};
  for (size_t i = 0; i < sizeof empty / sizeof *empty; i++) {
    cfg_yaml_node_t *root = (cfg_yaml_node_t *)(uintptr_t)1;
    rv_err_t err;
    assert_int_equal(cfg_yaml_parse("t.yaml", empty[i], strlen(empty[i]), &root, &err), 0);
    assert_null(root);
  }
}

static void test_duplicate_key_names_both_lines(void **state) {
  s_refused("node:\n  id: n1\n  data-dir: /x\n  id: n2\n",
            "t.yaml:4:3: node.id: duplicate key \"id\" (first at line 2)");
  s_refused("a: 1\na: 2\n", "t.yaml:2:1: a: duplicate key \"a\" (first at line 1)");
  s_refused("l:\n  - {x: 1, x: 2}\n", "t.yaml:2:12: l[0].x: duplicate key \"x\" (first at line 2)");
}

static void test_syntax_errors_use_libyaml_words_and_mark(void **state) {
  s_refused("node:\n  id: n1\n data-dir: x\n",
            "t.yaml:3:2: did not find expected key (while parsing a block mapping at line 1)");
  s_refused("a: b: c\n", "t.yaml:1:5: mapping values are not allowed in this context");
  s_refused("node: [a, b\n",
            "t.yaml:2:1: did not find expected ',' or ']' (while parsing a flow sequence at line 1)");
  s_refused("a:\n\tb: 1\n", "t.yaml:2:1: found character that cannot start any token (while "
                            "scanning for the next token at line 2)");
}

static void test_bad_utf8_points_at_the_byte(void **state) {
  s_refused("a: b\nc: \xff\n", "t.yaml:2:4: invalid leading UTF-8 octet");
}

static void test_refused_constructs(void **state) {
  s_refused("a: 1\n---\nb: 2\n", "t.yaml:2:1: only one YAML document is allowed in a file");
  s_refused("base: &b {x: 1}\nother: *b\n",
            "t.yaml:2:8: aliases (*b) are not supported; repeat the value");
  s_refused("? [a]\n: 1\n", "t.yaml:1:3: keys must be plain strings, not lists");
  s_refused("m:\n  ? {a: 1}\n  : 1\n", "t.yaml:2:5: m: keys must be plain strings, not mappings");
  s_refused("a: \"x\\0y\"\n", "t.yaml:1:4: a value contains a NUL byte");
}

static void test_depth_is_bounded(void **state) {
  char yaml[256] = "";
  for (int i = 0; i < CFG_YAML_DEPTH_MAX + 1; i++) strcat(yaml, "[");
  char msg[128];
  snprintf(msg, sizeof msg, "t.yaml:1:%d: nested deeper than %d levels", CFG_YAML_DEPTH_MAX + 1,
           CFG_YAML_DEPTH_MAX);
  s_refused(yaml, msg);
}

static void test_quote_escapes_and_shortens(void **state) {
  char buf[128];
  assert_string_equal(cfg_yaml_quote("12ms", buf, sizeof buf), "\"12ms\"");
  assert_string_equal(cfg_yaml_quote("a\"b\\c\nd\x01", buf, sizeof buf), "\"a\\\"b\\\\c\\nd\\x01\"");
  char longer[200];
  memset(longer, 'x', sizeof longer - 1);
  longer[sizeof longer - 1] = '\0';
  cfg_yaml_quote(longer, buf, sizeof buf);
  assert_int_equal(strlen(buf), 1 + 60 + 3 + 1);
  assert_memory_equal(buf + 61, "...\"", 4);
  char tiny[10];
  cfg_yaml_quote("abcdefghijkl", tiny, sizeof tiny);
  assert_string_equal(tiny, "\"abcd...\"");
}

static void test_describe(void **state) {
  cfg_yaml_node_t *root = s_tree("m: {}\nl: []\ns: abc\nn:\n");
  char buf[64];
  assert_string_equal(cfg_yaml_describe(cfg_yaml_get(root, "m"), buf, sizeof buf), "a mapping");
  assert_string_equal(cfg_yaml_describe(cfg_yaml_get(root, "l"), buf, sizeof buf), "a list");
  assert_string_equal(cfg_yaml_describe(cfg_yaml_get(root, "s"), buf, sizeof buf), "\"abc\"");
  assert_string_equal(cfg_yaml_describe(cfg_yaml_get(root, "n"), buf, sizeof buf), "nothing");
  cfg_yaml_destroy(&root);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_tree_has_kinds_order_and_marks),
      cmocka_unit_test(test_nulls_are_marked),
      cmocka_unit_test(test_dotted_top_level_keys_are_found_whole),
      cmocka_unit_test(test_empty_streams_have_no_root),
      cmocka_unit_test(test_duplicate_key_names_both_lines),
      cmocka_unit_test(test_syntax_errors_use_libyaml_words_and_mark),
      cmocka_unit_test(test_bad_utf8_points_at_the_byte),
      cmocka_unit_test(test_refused_constructs),
      cmocka_unit_test(test_depth_is_bounded),
      cmocka_unit_test(test_quote_escapes_and_shortens),
      cmocka_unit_test(test_describe),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
