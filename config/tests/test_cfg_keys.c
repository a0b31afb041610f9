/* Tests of cfg_keys.c: the table is consistent, node.example.yaml documents every key with its
 * real default, and unknown keys get the right suggestion. */
#include "cfg_keys.h"
#include "cfg_test.h"
#include "cfg_value.h"
#include "cfg_yaml.h"

static const cfg_table_t *const s_tables[] = {&cfg_keys_node, &cfg_keys_peer, &cfg_keys_actor};

static void test_paths_and_aliases_are_unique(void **state) {
  for (size_t t = 0; t < 3; t++)
    for (size_t i = 0; i < s_tables[t]->n; i++)
      for (size_t j = 0; j < i; j++)
        assert_string_not_equal(s_tables[t]->keys[i].path, s_tables[t]->keys[j].path);
  /* An alias names one key, and never collides with a section or another alias. */
  for (size_t t = 0; t < 3; t++)
    for (size_t i = 0; i < s_tables[t]->n; i++) {
      const cfg_key_t *k = &s_tables[t]->keys[i];
      if (!k->alias) continue;
      const cfg_table_t *at = NULL;
      assert_ptr_equal(cfg_keys_find_alias(k->alias, &at), k);
      assert_ptr_equal(at, s_tables[t]);
      assert_null(cfg_keys_find(&cfg_keys_node, k->alias));
      assert_false(cfg_keys_is_section(&cfg_keys_node, k->alias));
    }
  assert_null(cfg_keys_find_alias("namespace.ots.nope", NULL));
}

static void test_every_key_is_well_formed(void **state) {
  for (size_t t = 0; t < 3; t++)
    for (size_t i = 0; i < s_tables[t]->n; i++) {
      const cfg_key_t *k = &s_tables[t]->keys[i];
      assert_true(k->doc && k->doc[0]);
      assert_true(!k->required || !k->def); /* required means no default */
      if (k->type == CFG_T_ENUM) assert_non_null(k->names);
      if (k->type == CFG_T_INT) assert_true(k->min <= k->max);
      if (k->type == CFG_T_NODELIST || k->type == CFG_T_ACTORLIST) {
        assert_non_null(k->sub);
        assert_true(k->max > 0 && (size_t)k->max <= k->size / k->sub->size);
      }
      if (k->type == CFG_T_STRLIST || k->type == CFG_T_PATHLIST)
        assert_true(k->max > 0 && (size_t)k->max <= k->size / sizeof(char *));
      /* A key with neither default nor requirement is derived, and docs must say how. */
      bool list = k->type == CFG_T_STRLIST || k->type == CFG_T_PATHLIST;
      if (!k->required && !k->def && !list) assert_non_null(k->def_doc);
    }
}

/* Every default is valid input for its own key: parsed by the same code as the file. */
static void test_defaults_parse_as_their_key(void **state) {
  for (size_t t = 0; t < 3; t++) {
    void *scratch = calloc(1, s_tables[t]->size);
    for (size_t i = 0; i < s_tables[t]->n; i++) {
      const cfg_key_t *k = &s_tables[t]->keys[i];
      if (!k->def || k->type == CFG_T_ACTORLIST) continue;
      char why[256] = "";
      if (cfg_value_set(k, scratch, k->def, "/d", why, sizeof why))
        print_error("default of %s: %s\n", k->path, why);
      assert_int_equal(cfg_value_set(k, scratch, k->def, "/d", why, sizeof why), 0);
      cfg_value_clear(k, scratch);
    }
    free(scratch);
  }
}

static char *s_read_example(void) {
  int fd = open(CFG_EXAMPLE_PATH, O_RDONLY);
  assert_true(fd >= 0);
  char *text = cfg_test_slurp(fd);
  close(fd);
  return text;
}

/* node.example.yaml is user documentation: it must parse, give every key of the table (so a new
 * key cannot go undocumented), show each default as the table has it, and name every alias. */
static void test_example_documents_every_key_and_default(void **state) {
  cfg_node_t *cfg = NULL;
  rv_err_t err;
  int rc = cfg_node_load(CFG_EXAMPLE_PATH, &cfg, -1, &err);
  if (rc) print_error("%s\n", err.msg);
  assert_int_equal(rc, 0);
  assert_string_equal(cfg->node_id, "n1");
  assert_int_equal(cfg->nnodes, 3);
  cfg_node_destroy(&cfg);

  char *text = s_read_example();
  cfg_yaml_node_t *root = NULL;
  assert_int_equal(cfg_yaml_parse("example", text, strlen(text), &root, &err), 0);
  for (size_t t = 0; t < 3; t++)
    for (size_t i = 0; i < s_tables[t]->n; i++) {
      const cfg_key_t *k = &s_tables[t]->keys[i];
      char path[256];
      if (t == 0) snprintf(path, sizeof path, "%s", k->path);
      else snprintf(path, sizeof path, "%s[0].%s", t == 1 ? "cluster.nodes" : "actors", k->path);
      const cfg_yaml_node_t *v = cfg_yaml_find(root, path);
      if (!v) print_error("node.example.yaml does not show %s\n", path);
      assert_non_null(v);
      if (k->alias && !strstr(text, k->alias)) print_error("no alias %s\n", k->alias);
      if (k->alias) assert_non_null(strstr(text, k->alias));
      bool list = k->type == CFG_T_STRLIST || k->type == CFG_T_PATHLIST ||
                  k->type == CFG_T_NODELIST || k->type == CFG_T_ACTORLIST;
      if (!k->def || list) continue;
      if (v->kind != CFG_YAML_SCALAR || strcmp(v->text, k->def) != 0)
        print_error("node.example.yaml shows %s as something else than its default %s\n", path,
                    k->def);
      assert_int_equal(v->kind, CFG_YAML_SCALAR);
      assert_string_equal(v->text, k->def);
      /* and the comment above says so */
      char said[128];
      snprintf(said, sizeof said, "Default %s", k->def[0] ? k->def : "\"\"");
      if (!strstr(text, said)) print_error("no \"%s\" comment for %s\n", said, path);
      assert_non_null(strstr(text, said));
    }
  cfg_yaml_destroy(&root);
  free(text);
}

static void test_suggestions(void **state) {
  char buf[128];
  assert_string_equal(cfg_keys_suggest(&cfg_keys_node, "supervisor", "heartbeat-intervl-ms", false,
                                       buf, sizeof buf),
                      "heartbeat-interval-ms");
  assert_string_equal(cfg_keys_suggest(&cfg_keys_node, "", "supervisr", true, buf, sizeof buf),
                      "supervisor");
  assert_string_equal(cfg_keys_suggest(&cfg_keys_node, "", "namespace.ots.accesskey", true, buf,
                                       sizeof buf),
                      "namespace.ots.accessKey");
  assert_string_equal(cfg_keys_suggest(&cfg_keys_node, "ha.fencing", "method", false, buf,
                                       sizeof buf),
                      "methods");
  assert_string_equal(cfg_keys_suggest(&cfg_keys_peer, "", "raft_port", false, buf, sizeof buf),
                      "raft-port");
  /* far from everything: no guess */
  assert_null(cfg_keys_suggest(&cfg_keys_node, "supervisor", "colour", false, buf, sizeof buf));
  assert_null(cfg_keys_suggest(&cfg_keys_node, "", "xyz", true, buf, sizeof buf));
  assert_null(cfg_keys_suggest(&cfg_keys_peer, "", "ip", false, buf, sizeof buf));
  /* aliases only where they are valid: the top level */
  assert_null(cfg_keys_suggest(&cfg_keys_node, "ots", "namespace.ots.instance", false, buf,
                               sizeof buf));
}

static void test_distance(void **state) {
  assert_int_equal(cfg_keys_distance("", ""), 0);
  assert_int_equal(cfg_keys_distance("abc", ""), 3);
  assert_int_equal(cfg_keys_distance("kitten", "sitting"), 3);
  assert_int_equal(cfg_keys_distance("heartbeat-intervl-ms", "heartbeat-interval-ms"), 1);
}

static void test_sections_and_children(void **state) {
  assert_true(cfg_keys_is_section(&cfg_keys_node, "ha"));
  assert_true(cfg_keys_is_section(&cfg_keys_node, "ha.fencing"));
  assert_false(cfg_keys_is_section(&cfg_keys_node, "ha.fencing.methods"));
  assert_false(cfg_keys_is_section(&cfg_keys_node, "actors"));
  assert_false(cfg_keys_is_section(&cfg_keys_node, "hb"));
  char buf[512];
  cfg_keys_children(&cfg_keys_node, "", buf, sizeof buf);
  assert_string_equal(buf, "node, cluster, supervisor, actors, health, metrics, raft, ots, ha, security");
  cfg_keys_children(&cfg_keys_node, "ha", buf, sizeof buf);
  assert_string_equal(buf, "automatic-failover, unhealthy-grace-ms, preferred-leader, fencing");
  cfg_keys_children(&cfg_keys_peer, "", buf, sizeof buf);
  assert_string_equal(buf, "id, host, raft-port, client-port, voter, public-key");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_paths_and_aliases_are_unique),
      cmocka_unit_test(test_every_key_is_well_formed),
      cmocka_unit_test(test_defaults_parse_as_their_key),
      cmocka_unit_test(test_example_documents_every_key_and_default),
      cmocka_unit_test(test_suggestions),
      cmocka_unit_test(test_distance),
      cmocka_unit_test(test_sections_and_children),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
