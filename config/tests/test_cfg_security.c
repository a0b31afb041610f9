/* Tests of cfg_security.c and of the security rules of cfg_rules.c: key and principal syntax,
 * key pairs read from zcert secret files, and a file without keys refused unless it says
 * security.insecure, each refusal with its exact message. */
#include "cfg_test.h"
#include "cfg_security.h"

#define P CFG_TEST_NAME ":"
/* two valid public keys (Z85 of 32 bytes) and a secret file whose public half is K1 */
#define K1 "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7"
#define K2 "Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID"
#define K3 "D:)Q[IlAW!ahhC2ac:9*A}h:p?([4%wOTJ%JR%cs"
#define PAIR1                                                  \
  "#   ZeroMQ CURVE **Secret** Certificate\n"                   \
  "metadata\n    name = \"n1\"\ncurve\n"                        \
  "    public-key = \"" K1 "\"\n"                               \
  "    secret-key = \"JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6\"\n"

static void test_key_syntax(void **state) {
  char why[256];
  assert_int_equal(cfg_security_check_key("", why, sizeof why), 0); /* not given */
  assert_int_equal(cfg_security_check_key(K1, why, sizeof why), 0);
  assert_int_equal(cfg_security_check_key("short", why, sizeof why), -1);
  assert_string_equal(why, "expected a CURVE public key (40 characters of Z85, as `raftvisor keys "
                           "gen` prints it), got 5 characters");
  assert_int_equal(cfg_security_check_key("rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf\"", why,
                                          sizeof why), -1);
  assert_non_null(strstr(why, "one outside the Z85 alphabet"));
}

static void test_principal_syntax(void **state) {
  char why[256];
  assert_int_equal(cfg_security_check_principal("alice", why, sizeof why), 0);
  assert_int_equal(cfg_security_check_principal("svc.etl-1@EXAMPLE.COM", why, sizeof why), 0);
  const char *bad[] = {"", "a b", "node:n1", "x\n", "é"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
    assert_int_equal(cfg_security_check_principal(bad[i], why, sizeof why), -1);
}

static void test_pair_from_a_secret_file(void **state) {
  char sec[41], pub[41], why[256];
  char text[1024];
  snprintf(text, sizeof text, "%s", PAIR1);
  assert_int_equal(cfg_security_parse_pair(text, sec, pub, why, sizeof why), 0);
  assert_string_equal(pub, K1);
  assert_string_equal(sec, "JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6");
  char name[65];
  cfg_security_pair_name(text, name, sizeof name);
  assert_string_equal(name, "n1");
  cfg_security_pair_name("curve\n", name, sizeof name);
  assert_string_equal(name, "");
  /* the public certificate is not enough, and says which file to use instead */
  assert_int_equal(cfg_security_parse_pair("curve\n    public-key = \"" K1 "\"\n", sec, pub, why,
                                           sizeof why), -1);
  assert_string_equal(why, "this is a public certificate (no secret-key): name the secret file "
                           "`raftvisor keys gen` wrote (NAME.secret)");
  assert_int_equal(cfg_security_parse_pair("hello\n", sec, pub, why, sizeof why), -1);
  assert_non_null(strstr(why, "expected a CURVE key pair"));
  assert_int_equal(cfg_security_parse_pair("public-key = \"" K1 "\"\nsecret-key = \"abc\"\n", sec,
                                           pub, why, sizeof why), -1);
  assert_string_equal(why, "the secret-key in the key file is not 40 characters of Z85");
}

/* A node file (n1 of n1, n2) in a fresh directory with the key pair beside it. */
static int s_load(const char *nodes, const char *security, cfg_node_t **cfg, char *dir,
                  size_t dirlen, rv_err_t *err) {
  char path[128], yaml[2048], pair[1024];
  cfg_test_mkdtemp(dir, dirlen);
  snprintf(pair, sizeof pair, "%s", PAIR1);
  cfg_test_write(dir, "n1.secret", pair, 0600, path, sizeof path);
  snprintf(yaml, sizeof yaml, "node:\n  id: n1\n  data-dir: /x\ncluster:\n  nodes:\n%s%s", nodes,
           security);
  cfg_test_write(dir, "node.yaml", yaml, 0644, path, sizeof path);
  return cfg_node_load(path, cfg, -1, err);
}

#define NODES                                                             \
  "    - {id: n1, host: h, raft-port: 7101, public-key: \"" K1 "\"}\n"  \
  "    - {id: n2, host: h, raft-port: 7102, public-key: \"" K2 "\"}\n"

static void s_expect(const char *nodes, const char *security, const char *msg) {
  char dir[64], want[512];
  cfg_node_t *cfg = NULL;
  rv_err_t err;
  int rc = s_load(nodes, security, &cfg, dir, sizeof dir, &err);
  if (msg) {
    snprintf(want, sizeof want, "%s/node.yaml:%s", dir, msg);
    if (rc == 0 || strcmp(err.msg, want)) print_error("want %s\ngot  %s\n", want, err.msg);
    assert_int_equal(rc, RV_ECONFIG);
    assert_string_equal(err.msg, want);
    assert_null(cfg);
  } else {
    if (rc) print_error("%s\n", err.msg);
    assert_int_equal(rc, 0);
    assert_string_equal(cfg->security_public_z85, K1);
    assert_false(cfg->security_insecure);
    cfg_node_destroy(&cfg);
  }
  cfg_test_rmdir(dir);
}

static void test_secure_node_file(void **state) {
  s_expect(NODES, "security:\n  key: \"@n1.secret\"\n"
                  "  clients:\n    - {principal: alice, key: \"" K3 "\"}\n", NULL);
}

static void test_no_keys_without_insecure_is_refused(void **state) {
  s_expect(NODES, "",
           "1:1: security.key: missing: this node's CURVE key pair (`raftvisor keys gen --out DIR "
           "n1`, then security.key: \"@DIR/n1.secret\"); or security.insecure: true to run with "
           "no authentication at all (anyone who reaches the ports is trusted)");
  /* insecure said explicitly: no key needed, none checked */
  char dir[64];
  cfg_node_t *cfg = NULL;
  rv_err_t err;
  assert_int_equal(s_load("    - {id: n1, host: h, raft-port: 7101}\n",
                          "security:\n  insecure: true\n", &cfg, dir, sizeof dir, &err), 0);
  assert_true(cfg->security_insecure);
  cfg_node_destroy(&cfg);
  cfg_test_rmdir(dir);
}

static void test_every_node_needs_its_public_key(void **state) {
  s_expect("    - {id: n1, host: h, raft-port: 7101, public-key: \"" K1 "\"}\n"
           "    - {id: n2, host: h, raft-port: 7102}\n",
           "security:\n  key: \"@n1.secret\"\n",
           "7:7: cluster.nodes[1].public-key: missing: node n2's CURVE public key (printed by "
           "`raftvisor keys gen`, and the public-key line of its NAME.pub); security.insecure is "
           "not set");
  s_expect("    - {id: n1, host: h, raft-port: 7101, public-key: \"" K1 "\"}\n"
           "    - {id: n2, host: h, raft-port: 7102, public-key: \"" K1 "\"}\n",
           "security:\n  key: \"@n1.secret\"\n",
           "7:54: cluster.nodes[1].public-key: the same key as cluster.nodes[0].public-key: each "
           "node needs its own key pair");
}

static void test_own_entry_pins_own_key(void **state) {
  s_expect("    - {id: n1, host: h, raft-port: 7101, public-key: \"" K2 "\"}\n"
           "    - {id: n2, host: h, raft-port: 7102, public-key: \"" K3 "\"}\n",
           "security:\n  key: \"@n1.secret\"\n",
           "9:8: security.key: its public key " K1 " is not the one cluster.nodes[0].public-key "
           "pins for n1 (" K2 "): wrong key file, or the entry is out of date");
}

static void test_key_file_must_be_a_pair(void **state) {
  char dir[64], path[128], want[512];
  cfg_node_t *cfg = NULL;
  rv_err_t err;
  cfg_test_mkdtemp(dir, sizeof dir);
  cfg_test_write(dir, "n1.pub", "curve\n    public-key = \"" K1 "\"\n", 0644, path, sizeof path);
  cfg_test_write(dir, "node.yaml",
                 "node:\n  id: n1\n  data-dir: /x\ncluster:\n  nodes:\n" NODES
                 "security:\n  key: \"@n1.pub\"\n", 0644, path, sizeof path);
  assert_int_equal(cfg_node_load(path, &cfg, -1, &err), RV_ECONFIG);
  snprintf(want, sizeof want, "%s/node.yaml:9:8: security.key: this is a public certificate (no "
           "secret-key): name the secret file `raftvisor keys gen` wrote (NAME.secret)", dir);
  assert_string_equal(err.msg, want);
  cfg_test_rmdir(dir);
}

static void test_clients(void **state) {
  s_expect(NODES, "security:\n  key: \"@n1.secret\"\n  clients:\n"
                  "    - {principal: alice, key: \"" K2 "\"}\n",
           "11:31: security.clients[0].key: node n2's key: a client needs its own key pair");
  s_expect(NODES, "security:\n  key: \"@n1.secret\"\n  clients:\n"
                  "    - {principal: alice, key: \"" K3 "\"}\n"
                  "    - {principal: alice, key: \"" K3 "\"}\n",
           "12:31: security.clients[1].key: the same key as security.clients[0] (alice)");
  s_expect(NODES, "security:\n  key: \"@n1.secret\"\n  clients:\n"
                  "    - {principal: \"a b\", key: \"" K3 "\"}\n",
           "11:19: security.clients[0].principal: expected a principal of 1..64 characters of "
           "[A-Za-z0-9._@-] (\"node:\" is reserved), got \"a b\"");
  s_expect(NODES, "security:\n  key: \"@n1.secret\"\n  clients:\n"
                  "    - {principal: bob}\n",
           "11:7: security.clients[0].key: missing required key");
}

#define K4 "0123456789abcdefghijklmnopqrstuvwxyzABCD"
#define K5 "EFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{"
#define PUB(name, key) "#   ZeroMQ CURVE Public Certificate\nmetadata\n    name = \"" name "\"\n" \
                       "curve\n    public-key = \"" key "\"\n"

/* A node file whose security section lists alice (K3) inline and names security.clients-dir
 * "clients" (beside it) holding files[0..n) (name, text); returns cfg_node_load's code. */
static int s_load_dir(const char *const files[][2], size_t n, cfg_node_t **cfg, char *dir,
                      size_t dirlen, rv_err_t *err) {
  char path[256], yaml[2048], pair[1024], cdir[128];
  cfg_test_mkdtemp(dir, dirlen);
  snprintf(pair, sizeof pair, "%s", PAIR1);
  cfg_test_write(dir, "n1.secret", pair, 0600, path, sizeof path);
  snprintf(cdir, sizeof cdir, "%s/clients", dir);
  assert_int_equal(mkdir(cdir, 0700), 0);
  for (size_t i = 0; i < n; i++) cfg_test_write(cdir, files[i][0], files[i][1], 0644, path, sizeof path);
  snprintf(yaml, sizeof yaml, "node:\n  id: n1\n  data-dir: /x\ncluster:\n  nodes:\n%s"
           "security:\n  key: \"@n1.secret\"\n  clients:\n    - {principal: alice, key: \"%s"
           "\"}\n  clients-dir: clients\n", NODES, K3);
  cfg_test_write(dir, "node.yaml", yaml, 0644, path, sizeof path);
  return cfg_node_load(path, cfg, -1, err);
}

/* Refused with a message that names the file (DIR/clients/file) and says why. */
static void s_dir_refused(const char *const files[][2], size_t n, const char *file,
                          const char *why) {
  char dir[64], want[512];
  cfg_node_t *cfg = NULL;
  rv_err_t err;
  int rc = s_load_dir(files, n, &cfg, dir, sizeof dir, &err);
  snprintf(want, sizeof want, "%s/node.yaml:12:16: security.clients-dir: %s/clients/%s: %s", dir,
           dir, file, why);
  if (rc == 0 || strcmp(err.msg, want)) print_error("want %s\ngot  %s\n", want, err.msg);
  assert_int_equal(rc, RV_ECONFIG);
  assert_string_equal(err.msg, want);
  assert_null(cfg);
  cfg_test_rmdir(dir);
}

/* security.clients-dir: each NAME.pub is client NAME, after the inline list, in name order;
 * other files are not read; a bad file, a duplicate, a node key, a secret file, a renamed
 * certificate or a missing directory is refused naming the file. */
static void test_clients_dir(void **state) {
  char dir[64];
  cfg_node_t *cfg = NULL;
  rv_err_t err;
  const char *const ok[][2] = {{"carol.pub", "curve\n    public-key = \"" K5 "\"\n"},
                               {"bob.pub", PUB("bob", K4)},
                               {"notes.txt", "not a certificate"},
                               {".hidden.pub", "not read"},
                               {"bob.secret", "not read either"}};
  int rc = s_load_dir(ok, 5, &cfg, dir, sizeof dir, &err);
  if (rc) print_error("%s\n", err.msg);
  assert_int_equal(rc, 0);
  assert_int_equal(cfg->nclients_inline, 1);
  assert_int_equal(cfg->nclients, 3);
  assert_string_equal(cfg->clients[0].principal, "alice");
  assert_string_equal(cfg->clients[1].principal, "bob");
  assert_string_equal(cfg->clients[1].key, K4);
  assert_string_equal(cfg->clients[2].principal, "carol"); /* no metadata: the file's name */
  assert_string_equal(cfg->clients[2].key, K5);
  cfg_node_destroy(&cfg);
  cfg_test_rmdir(dir);

  const char *const dup_key[][2] = {{"dave.pub", PUB("dave", K3)}};
  s_dir_refused(dup_key, 1, "dave.pub",
                "key " K3 " is listed already, by security.clients[0] (alice)");
  const char *const dup_principal[][2] = {{"alice.pub", PUB("alice", K4)}};
  s_dir_refused(dup_principal, 1, "alice.pub",
                "principal alice is listed already, by security.clients[0] (alice): give it one "
                "key");
  const char *const dup_in_dir[][2] = {{"bob.pub", PUB("bob", K4)}, {"carl.pub", PUB("carl", K4)}};
  {
    char d[64], want[512];
    rv_err_t e;
    assert_int_equal(s_load_dir(dup_in_dir, 2, &cfg, d, sizeof d, &e), RV_ECONFIG);
    snprintf(want, sizeof want, "%s/clients/carl.pub: key " K4 " is listed already, by "
             "%s/clients/bob.pub", d, d);
    if (!strstr(e.msg, want)) print_error("want ...%s\ngot  %s\n", want, e.msg);
    assert_non_null(strstr(e.msg, want));
    cfg_test_rmdir(d);
  }
  const char *const node_key[][2] = {{"eve.pub", PUB("eve", K2)}};
  s_dir_refused(node_key, 1, "eve.pub", "key " K2 " is node n2's key: a client needs its own key "
                "pair");
  const char *const secret[][2] = {{"frank.pub", PAIR1}};
  s_dir_refused(secret, 1, "frank.pub", "holds a secret-key: this is a secret file (NAME.secret); "
                "only public certificates (NAME.pub) belong here: move it away and keep it "
                "private");
  const char *const renamed[][2] = {{"gina.pub", PUB("hank", K4)}};
  s_dir_refused(renamed, 1, "gina.pub", "its name is \"hank\", not gina: the principal is the "
                "file's name (rename the file, or make a certificate for gina)");
  const char *const junk[][2] = {{"ida.pub", "hello\n"}};
  s_dir_refused(junk, 1, "ida.pub", "no public-key: expected a public certificate as `raftvisor "
                "keys gen` writes it (curve: public-key = \"...\")");
  const char *const bad_name[][2] = {{"a b.pub", PUB("a b", K4)}};
  s_dir_refused(bad_name, 1, "a b.pub", "expected a principal of 1..64 characters of "
                "[A-Za-z0-9._@-] (\"node:\" is reserved), got \"a b\"");
  /* a directory that is not there */
  {
    char d[64], path[256], yaml[2048], pair[1024], want[512];
    rv_err_t e;
    cfg_test_mkdtemp(d, sizeof d);
    snprintf(pair, sizeof pair, "%s", PAIR1);
    cfg_test_write(d, "n1.secret", pair, 0600, path, sizeof path);
    snprintf(yaml, sizeof yaml, "node:\n  id: n1\n  data-dir: /x\ncluster:\n  nodes:\n%s"
             "security:\n  key: \"@n1.secret\"\n  clients-dir: nowhere\n", NODES);
    cfg_test_write(d, "node.yaml", yaml, 0644, path, sizeof path);
    assert_int_equal(cfg_node_load(path, &cfg, -1, &e), RV_ECONFIG);
    snprintf(want, sizeof want, "%s/node.yaml:10:16: security.clients-dir: cannot read directory "
             "%s/nowhere: No such file or directory", d, d);
    assert_string_equal(e.msg, want);
    cfg_test_rmdir(d);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_key_syntax),
      cmocka_unit_test(test_principal_syntax),
      cmocka_unit_test(test_pair_from_a_secret_file),
      cmocka_unit_test(test_secure_node_file),
      cmocka_unit_test(test_no_keys_without_insecure_is_refused),
      cmocka_unit_test(test_every_node_needs_its_public_key),
      cmocka_unit_test(test_own_entry_pins_own_key),
      cmocka_unit_test(test_key_file_must_be_a_pair),
      cmocka_unit_test(test_clients),
      cmocka_unit_test(test_clients_dir),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
