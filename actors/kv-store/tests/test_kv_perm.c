/* Unit tests of kv_perm (HDFS' permission model) and of its enforcement in the apply path and
 * the reads of kv_core, with sessions bound to their principal.
 *
 * The table cases follow the behaviour the HDFS Permissions Guide documents and
 * FSPermissionChecker implements: one class per check (owner, else group, else other),
 * EXECUTE on every ancestor, WRITE on the parent (or the deepest existing ancestor) to create
 * and delete, the sticky bit, owner-only chmod, superuser-only chown, the superuser and the
 * permissions switch; and Hadoop's messages word for word. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kv_perm.h"
#include "kv_testutil.h"

/* ---- the pure model ------------------------------------------------------------------------ */

static kv_attr_t s_attr(uint8_t type, uint16_t perm, const char *owner, const char *group) {
  kv_attr_t a;
  memset(&a, 0, sizeof a);
  a.type = type;
  a.perm = perm;
  snprintf(a.owner, sizeof a.owner, "%s", owner);
  snprintf(a.group, sizeof a.group, "%s", group);
  return a;
}

static kv_principal_t s_who(const char *user, const char *g1, const char *g2) {
  kv_principal_t p;
  memset(&p, 0, sizeof p);
  snprintf(p.user, sizeof p.user, "%s", user);
  if (g1) snprintf(p.groups[p.ngroups++], sizeof p.groups[0], "%s", g1);
  if (g2) snprintf(p.groups[p.ngroups++], sizeof p.groups[0], "%s", g2);
  p.enforce = true;
  p.superuser = strcmp(user, "root") == 0;
  return p;
}

static void test_mode_string(void **state) {
  char m[10];
  assert_string_equal(kv_perm_mode_str(0755, m), "rwxr-xr-x");
  assert_string_equal(kv_perm_mode_str(0644, m), "rw-r--r--");
  assert_string_equal(kv_perm_mode_str(01777, m), "rwxrwxrwt"); /* /tmp */
  assert_string_equal(kv_perm_mode_str(01776, m), "rwxrwxrwT"); /* sticky, others lack x */
  assert_string_equal(kv_perm_mode_str(0, m), "---------");
  assert_string_equal(kv_access_name(KV_ACC_READ_EXECUTE), "READ_EXECUTE");
  assert_string_equal(kv_access_name(KV_ACC_WRITE_EXECUTE), "WRITE_EXECUTE");
  assert_string_equal(kv_access_name(KV_ACC_ALL), "ALL");
}

/* One class only, as HDFS: an owner denied by its own bits is not saved by group or other. */
static void test_one_class(void **state) {
  kv_principal_t alice = s_who("alice", "staff", NULL), bob = s_who("bob", "eng", NULL);
  kv_attr_t f = s_attr(KV_TYPE_FILE, 0077, "alice", "staff");
  assert_false(kv_perm_allows(&alice, &f, KV_ACC_READ)); /* owner bits: --- */
  kv_attr_t g = s_attr(KV_TYPE_FILE, 0604, "carol", "staff");
  assert_false(kv_perm_allows(&alice, &g, KV_ACC_READ)); /* group bits: --- */
  assert_true(kv_perm_allows(&bob, &g, KV_ACC_READ));    /* other bits: r-- */
  kv_attr_t h = s_attr(KV_TYPE_FILE, 0640, "carol", "staff");
  assert_true(kv_perm_allows(&alice, &h, KV_ACC_READ));
  assert_false(kv_perm_allows(&alice, &h, KV_ACC_WRITE));
  assert_false(kv_perm_allows(&bob, &h, KV_ACC_READ));
  kv_attr_t d = s_attr(KV_TYPE_DIR, 0751, "carol", "staff");
  assert_true(kv_perm_allows(&alice, &d, KV_ACC_READ_EXECUTE));
  assert_false(kv_perm_allows(&bob, &d, KV_ACC_READ_EXECUTE));
  assert_true(kv_perm_allows(&bob, &d, KV_ACC_EXECUTE));
}

/* A path: attributes of "/", "/a", "/a/b", "/a/b/c" (exist of them). */
typedef struct {
  const char *name;
  const char *user, *group; /* the principal */
  kv_attr_t attrs[4];
  size_t exist, depth;
  kv_perm_want_t want;
  const char *msg; /* NULL = allowed */
} s_case_t;

#define D(m, o, g) {.type = KV_TYPE_DIR, .perm = m, .owner = o, .group = g}
#define F(m, o, g) {.type = KV_TYPE_FILE, .perm = m, .owner = o, .group = g}
#define ROOT D(0755, "root", "supergroup")

static const s_case_t s_cases[] = {
    {"create in a directory the user may write", "alice", "staff",
     {ROOT, D(0775, "bob", "staff")}, 2, 2, {.ancestor = KV_ACC_WRITE}, NULL},
    {"create in a directory of another class: ancestor WRITE denied", "alice", "staff",
     {ROOT, D(0755, "bob", "eng")}, 2, 2, {.ancestor = KV_ACC_WRITE},
     "Permission denied: user=alice, access=WRITE, inode=\"/a\":bob:eng:drwxr-xr-x"},
    {"mkdir -p: the deepest existing ancestor is checked", "alice", "staff",
     {ROOT, D(0755, "bob", "eng")}, 2, 3, {.ancestor = KV_ACC_WRITE},
     "Permission denied: user=alice, access=WRITE, inode=\"/a\":bob:eng:drwxr-xr-x"},
    {"mkdir -p under the root", "alice", "staff", {ROOT}, 1, 3, {.ancestor = KV_ACC_WRITE},
     "Permission denied: user=alice, access=WRITE, inode=\"/\":root:supergroup:drwxr-xr-x"},
    {"traverse: EXECUTE on every ancestor", "alice", "staff",
     {ROOT, D(0700, "bob", "eng"), D(0777, "bob", "eng"), F(0644, "alice", "staff")}, 4, 3,
     {.access = KV_ACC_READ},
     "Permission denied: user=alice, access=EXECUTE, inode=\"/a\":bob:eng:drwx------"},
    {"traverse of a missing path stops at the last existing directory", "alice", "staff",
     {ROOT, D(0700, "bob", "eng")}, 2, 3, {0},
     "Permission denied: user=alice, access=EXECUTE, inode=\"/a\":bob:eng:drwx------"},
    {"read a file of the user's group", "alice", "staff",
     {ROOT, D(0755, "bob", "eng"), F(0640, "bob", "staff")}, 3, 2, {.access = KV_ACC_READ},
     NULL},
    {"read denied to others", "carol", "users",
     {ROOT, D(0755, "bob", "eng"), F(0640, "bob", "staff")}, 3, 2, {.access = KV_ACC_READ},
     "Permission denied: user=carol, access=READ, inode=\"/a/b\":bob:staff:-rw-r-----"},
    {"delete: WRITE on the parent", "alice", "staff",
     {ROOT, F(0644, "root", "supergroup")}, 2, 1, {.parent = KV_ACC_WRITE},
     "Permission denied: user=alice, access=WRITE, inode=\"/\":root:supergroup:drwxr-xr-x"},
    {"delete own file in a writable directory, file mode irrelevant", "alice", "staff",
     {ROOT, D(0770, "bob", "staff"), F(0000, "bob", "eng")}, 3, 2, {.parent = KV_ACC_WRITE},
     NULL},
    {"sticky bit: another user's file in /tmp", "bob", "users",
     {ROOT, D(01777, "root", "supergroup"), F(0644, "alice", "staff")}, 3, 2,
     {.parent = KV_ACC_WRITE},
     "Permission denied by sticky bit: user=bob, path=\"/a/b\":alice:staff:-rw-r--r--, "
     "parent=\"/a\":root:supergroup:drwxrwxrwt"},
    {"sticky bit: the owner of the file may", "alice", "staff",
     {ROOT, D(01777, "root", "supergroup"), F(0644, "alice", "staff")}, 3, 2,
     {.parent = KV_ACC_WRITE}, NULL},
    {"sticky bit: the owner of the directory may", "carol", "users",
     {ROOT, D(01777, "carol", "supergroup"), F(0644, "alice", "staff")}, 3, 2,
     {.parent = KV_ACC_WRITE}, NULL},
    {"sticky bit: no effect on creating", "bob", "users",
     {ROOT, D(01777, "root", "supergroup")}, 2, 2, {.ancestor = KV_ACC_WRITE}, NULL},
    {"chmod by the owner", "alice", "staff", {ROOT, F(0600, "alice", "staff")}, 2, 1,
     {.owner = true}, NULL},
    {"chmod by another user, even with write access", "bob", "staff",
     {ROOT, F(0666, "alice", "staff")}, 2, 1, {.owner = true},
     "Permission denied. user=bob is not the owner of inode=/a"},
    {"the superuser bypasses everything", "root", NULL,
     {ROOT, D(0000, "bob", "eng"), F(0000, "bob", "eng")}, 3, 2,
     {.parent = KV_ACC_WRITE, .access = KV_ACC_ALL, .owner = true}, NULL},
    {"a member of the supergroup is a superuser", "dave", "supergroup",
     {ROOT, D(0000, "bob", "eng"), F(0000, "bob", "eng")}, 3, 2,
     {.parent = KV_ACC_WRITE, .access = KV_ACC_ALL, .owner = true}, NULL},
};

static void test_table(void **state) {
  for (size_t i = 0; i < sizeof s_cases / sizeof *s_cases; i++) {
    const s_case_t *tc = &s_cases[i];
    kv_principal_t p = s_who(tc->user, tc->group, NULL);
    if (tc->group && strcmp(tc->group, "supergroup") == 0) p.superuser = true;
    const char *path = "/a/b/c";
    size_t plen[4] = {1, 2, 4, 6};
    kv_perm_path_t pp = {.attrs = tc->attrs, .exist = tc->exist, .depth = tc->depth,
                         .path = path, .plen = plen};
    char msg[KV_PERM_MSG_MAX] = "";
    int rc = kv_perm_check(&p, &pp, &tc->want, msg, sizeof msg);
    if (tc->msg ? rc != RV_EPERM || strcmp(msg, tc->msg) != 0 : rc != RV_OK)
      fail_msg("case \"%s\": rc %d, message \"%s\", expected %s", tc->name, rc, msg,
               tc->msg ? tc->msg : "allowed");
    /* with permissions off, nothing is refused */
    p.enforce = false;
    assert_int_equal(kv_perm_check(&p, &pp, &tc->want, msg, sizeof msg), RV_OK);
  }
}

static void test_chown_rules(void **state) {
  kv_principal_t alice = s_who("alice", "staff", "eng"), root = s_who("root", NULL, NULL);
  char msg[KV_PERM_MSG_MAX];
  assert_int_equal(kv_perm_check_chown(&alice, "bob", NULL, msg, sizeof msg), RV_EPERM);
  assert_string_equal(msg, "User alice is not a super user (non-super user cannot change owner).");
  assert_int_equal(kv_perm_check_chown(&alice, "alice", "eng", msg, sizeof msg), RV_OK);
  assert_int_equal(kv_perm_check_chown(&alice, NULL, "qa", msg, sizeof msg), RV_EPERM);
  assert_string_equal(msg, "User alice does not belong to qa");
  assert_int_equal(kv_perm_check_chown(&root, "bob", "qa", msg, sizeof msg), RV_OK);
  assert_int_equal(kv_perm_check_superuser(&alice, msg, sizeof msg), RV_EPERM);
  assert_string_equal(msg, "Access denied for user alice. Superuser privilege is required");
  assert_int_equal(kv_perm_check_superuser(&root, msg, sizeof msg), RV_OK);
  alice.enforce = false;
  assert_int_equal(kv_perm_check_chown(&alice, "bob", "qa", msg, sizeof msg), RV_OK);
}

/* ---- enforcement in the apply path ---------------------------------------------------------- */

/* Applies cmd as user (groups g, pflags) with session (client, seq); 0 client = none. */
static int s_as(kv_t_env_t *e, const char *user, const char *g, uint64_t client, uint64_t seq,
                kv_cmd_t *c) {
  bool creates = c->op == KV_OP_MKDIR || c->op == KV_OP_PUT || c->op == KV_OP_TOUCHZ;
  if (creates) c->owner = c->group = (kv_bytes_t){NULL, 0};
  c->user = (kv_bytes_t){(const uint8_t *)user, strlen(user)};
  c->pflags = KV_P_ENFORCE | (strcmp(user, "root") == 0 ? KV_P_SUPERUSER : 0);
  c->ngroups = 0;
  if (g) c->groups[c->ngroups++] = (kv_bytes_t){(const uint8_t *)g, strlen(g)};
  c->client_id = client;
  c->seq = seq;
  c->time_ms = ++e->now;
  kv_t_encode(c, &e->enc);
  return kv_t_apply_raw(e, e->enc.data, e->enc.len);
}

static int s_op(kv_t_env_t *e, const char *user, uint8_t op, const char *path, uint16_t perm,
                uint8_t flags) {
  kv_cmd_t c;
  kv_t_cmd(&c, op, path);
  if (perm) c.perm = perm;
  c.flags = flags;
  return s_as(e, user, strcmp(user, "alice") == 0 ? "staff" : "users", 0, 0, &c);
}

static int s_chmod(kv_t_env_t *e, const char *user, const char *path, uint16_t perm) {
  kv_cmd_t c;
  kv_t_cmd(&c, KV_OP_SETATTR, path);
  c.set_mask = KV_SET_PERM;
  c.perm = perm;
  c.owner = c.group = (kv_bytes_t){NULL, 0};
  return s_as(e, user, NULL, 0, 0, &c);
}

static bool s_exists(kv_t_env_t *e, const char *path) {
  kv_stat_t st;
  return kv_t_stat(e, path, &st) == RV_OK;
}

static void test_apply_rm_denied(void **state) {
  kv_t_env_t *e = kv_t_env_new(NULL);
  assert_int_equal(s_op(e, "root", KV_OP_PUT, "/f", 0, 0), RV_OK);
  assert_int_equal(s_op(e, "alice", KV_OP_RM, "/f", 0, KV_F_FILE_ONLY), RV_EPERM);
  assert_string_equal(e->res.msg, "Permission denied: user=alice, access=WRITE, "
                                  "inode=\"/\":root:supergroup:drwxr-xr-x");
  assert_true(s_exists(e, "/f"));
  assert_int_equal(s_op(e, "root", KV_OP_RM, "/f", 0, KV_F_FILE_ONLY), RV_OK);
  assert_int_equal(kv_t_check(e), RV_OK);
  kv_t_env_destroy(&e);
}

static void test_apply_creates_owner_group(void **state) {
  kv_t_env_t *e = kv_t_env_new(NULL);
  assert_int_equal(s_op(e, "root", KV_OP_MKDIR, "/home", 0777, 0), RV_OK);
  kv_cmd_t c;
  kv_t_cmd(&c, KV_OP_SETATTR, "/home");
  c.set_mask = KV_SET_GROUP;
  c.owner = (kv_bytes_t){NULL, 0};
  c.group = (kv_bytes_t){(const uint8_t *)"staff", 5};
  assert_int_equal(s_as(e, "root", NULL, 0, 0, &c), RV_OK);
  assert_int_equal(s_op(e, "alice", KV_OP_MKDIR, "/home/alice/x", 0700, KV_F_PARENTS), RV_OK);
  assert_int_equal(s_op(e, "alice", KV_OP_PUT, "/home/alice/x/f", 0640, 0), RV_OK);
  kv_stat_t st;
  assert_int_equal(kv_t_stat(e, "/home/alice", &st), RV_OK);
  assert_string_equal(st.attr.owner, "alice");
  assert_string_equal(st.attr.group, "staff"); /* the parent's group (HDFS) */
  assert_int_equal(kv_t_stat(e, "/home/alice/x/f", &st), RV_OK);
  assert_string_equal(st.attr.owner, "alice");
  assert_string_equal(st.attr.group, "staff");
  /* bob may not create under alice's 0700 directories (mkdir -p made both 0700) */
  assert_int_equal(s_op(e, "bob", KV_OP_TOUCHZ, "/home/alice/x/g", 0, 0), RV_EPERM);
  assert_string_equal(e->res.msg, "Permission denied: user=bob, access=EXECUTE, "
                                  "inode=\"/home/alice\":alice:staff:drwx------");
  /* nor chmod it, nor give it away; alice may not give it away either */
  assert_int_equal(s_chmod(e, "bob", "/home/alice", 0777), RV_EPERM);
  assert_string_equal(e->res.msg, "Permission denied. user=bob is not the owner of "
                                  "inode=/home/alice");
  kv_t_cmd(&c, KV_OP_SETATTR, "/home/alice/x/f");
  c.set_mask = KV_SET_OWNER;
  c.owner = (kv_bytes_t){(const uint8_t *)"bob", 3};
  c.group = (kv_bytes_t){NULL, 0};
  assert_int_equal(s_as(e, "alice", "staff", 0, 0, &c), RV_EPERM);
  assert_string_equal(e->res.msg,
                      "User alice is not a super user (non-super user cannot change owner).");
  assert_int_equal(s_as(e, "root", NULL, 0, 0, &c), RV_OK);
  assert_int_equal(kv_t_stat(e, "/home/alice/x/f", &st), RV_OK);
  assert_string_equal(st.attr.owner, "bob");
  assert_int_equal(kv_t_check(e), RV_OK);
  kv_t_env_destroy(&e);
}

static void test_apply_sticky_and_subtree(void **state) {
  kv_t_env_t *e = kv_t_env_new(NULL);
  assert_int_equal(s_op(e, "root", KV_OP_MKDIR, "/tmp", 01777, 0), RV_OK);
  assert_int_equal(s_chmod(e, "root", "/tmp", 01777), RV_OK);
  assert_int_equal(s_op(e, "alice", KV_OP_PUT, "/tmp/a", 0666, 0), RV_OK);
  assert_int_equal(s_op(e, "bob", KV_OP_PUT, "/tmp/b", 0666, 0), RV_OK);
  assert_int_equal(s_op(e, "bob", KV_OP_RM, "/tmp/a", 0, 0), RV_EPERM);
  assert_non_null(strstr(e->res.msg, "Permission denied by sticky bit: user=bob, "
                                     "path=\"/tmp/a\":alice:supergroup:-rw-rw-rw-"));
  kv_cmd_t mv;
  kv_t_cmd(&mv, KV_OP_MV, "/tmp/a");
  mv.path2 = (kv_bytes_t){(const uint8_t *)"/tmp/c", 6};
  assert_int_equal(s_as(e, "bob", "users", 0, 0, &mv), RV_EPERM);
  assert_true(s_exists(e, "/tmp/a"));
  assert_int_equal(s_op(e, "alice", KV_OP_RM, "/tmp/a", 0, 0), RV_OK);
  /* without the sticky bit bob may remove it */
  assert_int_equal(s_chmod(e, "root", "/tmp", 0777), RV_OK);
  assert_int_equal(s_op(e, "alice", KV_OP_PUT, "/tmp/a", 0666, 0), RV_OK);
  assert_int_equal(s_op(e, "bob", KV_OP_RM, "/tmp/a", 0, 0), RV_OK);
  /* rm -r needs ALL on every non-empty directory below */
  assert_int_equal(s_op(e, "alice", KV_OP_MKDIR, "/tmp/t/locked", 0, KV_F_PARENTS), RV_OK);
  assert_int_equal(s_op(e, "alice", KV_OP_PUT, "/tmp/t/locked/f", 0, 0), RV_OK);
  assert_int_equal(s_op(e, "alice", KV_OP_MKDIR, "/tmp/t/empty", 0, 0), RV_OK);
  assert_int_equal(s_chmod(e, "alice", "/tmp/t/locked", 0555), RV_OK);
  assert_int_equal(s_chmod(e, "alice", "/tmp/t/empty", 0555), RV_OK); /* empty: ignored */
  assert_int_equal(s_op(e, "alice", KV_OP_RM, "/tmp/t", 0, KV_F_RECURSIVE), RV_EPERM);
  assert_string_equal(e->res.msg, "Permission denied: user=alice, access=ALL, "
                                  "inode=\"/tmp/t/locked\":alice:supergroup:dr-xr-xr-x");
  assert_true(s_exists(e, "/tmp/t/locked/f"));
  assert_int_equal(s_chmod(e, "alice", "/tmp/t/locked", 0755), RV_OK);
  assert_int_equal(s_op(e, "alice", KV_OP_RM, "/tmp/t", 0, KV_F_RECURSIVE), RV_OK);
  assert_false(s_exists(e, "/tmp/t"));
  assert_int_equal(kv_t_check(e), RV_OK);
  kv_t_env_destroy(&e);
}

static void test_permissions_off_keeps_owners(void **state) {
  kv_t_env_t *e = kv_t_env_new(NULL);
  assert_int_equal(s_op(e, "root", KV_OP_PUT, "/f", 0600, 0), RV_OK);
  kv_cmd_t c;
  kv_t_cmd(&c, KV_OP_TOUCHZ, "/g");
  c.owner = c.group = (kv_bytes_t){NULL, 0};
  c.user = (kv_bytes_t){(const uint8_t *)"alice", 5};
  c.pflags = 0; /* not enforced, not the superuser */
  c.time_ms = ++e->now;
  kv_t_encode(&c, &e->enc);
  assert_int_equal(kv_t_apply_raw(e, e->enc.data, e->enc.len), RV_OK);
  kv_stat_t st;
  assert_int_equal(kv_t_stat(e, "/g", &st), RV_OK);
  assert_string_equal(st.attr.owner, "alice"); /* still recorded */
  kv_t_cmd(&c, KV_OP_RM, "/f");
  c.user = (kv_bytes_t){(const uint8_t *)"alice", 5};
  c.pflags = 0;
  kv_t_encode(&c, &e->enc);
  assert_int_equal(kv_t_apply_raw(e, e->enc.data, e->enc.len), RV_OK);
  kv_t_env_destroy(&e);
}

static void test_reads_checked(void **state) {
  kv_t_env_t *e = kv_t_env_new(NULL);
  assert_int_equal(s_op(e, "alice", KV_OP_MKDIR, "/x", 0, 0), RV_EPERM);
  assert_int_equal(s_op(e, "root", KV_OP_MKDIR, "/priv/sub", 0700, KV_F_PARENTS), RV_OK);
  assert_int_equal(s_op(e, "root", KV_OP_PUT, "/secret", 0600, 0), RV_OK);
  kv_principal_t alice = s_who("alice", "staff", NULL);
  kv_core_read_as(e->core, &alice);
  kv_buf_t out;
  kv_buf_init(&out);
  rv_err_t err;
  assert_int_equal(kv_core_cat(e->core, "/secret", 7, &out, &err), RV_EPERM);
  assert_string_equal(err.msg, "Permission denied: user=alice, access=READ, "
                               "inode=\"/secret\":root:supergroup:-rw-------");
  kv_ls_t ls;
  kv_ls_init(&ls);
  assert_int_equal(kv_core_ls(e->core, "/priv", 5, NULL, 0, 0, &ls, &err), RV_EPERM);
  assert_non_null(strstr(err.msg, "access=READ_EXECUTE, inode=\"/priv\""));
  kv_stat_t st;
  /* a missing path under a directory alice may not traverse: denied, not "no such file" */
  assert_int_equal(kv_core_stat(e->core, "/priv/nothing", 13, &st, &err), RV_EPERM);
  assert_int_equal(kv_core_stat(e->core, "/priv", 5, &st, &err), RV_OK);
  assert_int_equal(kv_core_ls(e->core, "/", 1, NULL, 0, 0, &ls, &err), RV_OK);
  kv_core_read_as(e->core, NULL);
  assert_int_equal(kv_core_cat(e->core, "/secret", 7, &out, &err), RV_OK);
  kv_ls_close(&ls);
  kv_buf_close(&out);
  kv_t_env_destroy(&e);
}

/* ---- sessions bound to their principal --------------------------------------------------- */

static int s_touch_as(kv_t_env_t *e, const char *user, uint64_t client, uint64_t seq,
                      const char *path) {
  kv_cmd_t c;
  kv_t_cmd(&c, KV_OP_TOUCHZ, path);
  return s_as(e, user, NULL, client, seq, &c);
}

static void test_forged_seq_refused(void **state) {
  kv_t_env_t *e = kv_t_env_new(NULL);
  assert_int_equal(s_op(e, "root", KV_OP_MKDIR, "/tmp", 0777, 0), RV_OK);
  assert_int_equal(s_chmod(e, "root", "/tmp", 0777), RV_OK);
  assert_int_equal(s_touch_as(e, "alice", 42, 1, "/tmp/a1"), RV_OK);
  /* mallory names alice's session with a seq far ahead: refused, the session untouched */
  assert_int_equal(s_touch_as(e, "mallory", 42, 1000, "/tmp/m"), RV_EPERM);
  assert_non_null(strstr(e->res.msg, "the session belongs to another user"));
  /* a retry of alice's seq 1 by mallory does not read her result either */
  assert_int_equal(s_touch_as(e, "mallory", 42, 1, "/tmp/a1"), RV_EPERM);
  assert_false(e->res.skipped);
  assert_false(s_exists(e, "/tmp/m"));
  /* alice goes on: seq 2 applies */
  assert_int_equal(s_touch_as(e, "alice", 42, 2, "/tmp/a2"), RV_OK);
  assert_false(e->res.skipped);
  assert_true(s_exists(e, "/tmp/a2"));
  assert_int_equal(kv_t_check(e), RV_OK);
  kv_t_env_destroy(&e);
}

static void test_flood_evicts_only_the_flooder(void **state) {
  kv_core_config_t cfg;
  kv_core_config_default(&cfg);
  cfg.session_max = 100;
  cfg.session_max_per_principal = 10;
  kv_t_env_t *e = kv_t_env_new(&cfg);
  assert_int_equal(s_op(e, "root", KV_OP_MKDIR, "/tmp", 0777, 0), RV_OK);
  assert_int_equal(s_chmod(e, "root", "/tmp", 0777), RV_OK);
  assert_int_equal(s_touch_as(e, "alice", 7, 1, "/tmp/v"), RV_OK);
  kv_result_t first = e->res;
  for (uint64_t k = 0; k < 1000; k++) {
    char p[32];
    snprintf(p, sizeof p, "/tmp/m%llu", (unsigned long long)(k % 5));
    assert_int_equal(s_touch_as(e, "mallory", 1000 + k, 1, p), RV_OK);
    assert_true(kv_core_sessions(e->core) <= 11);
  }
  /* alice's retry of seq 1 is still recognised: same index, not applied again */
  assert_int_equal(s_touch_as(e, "alice", 7, 1, "/tmp/v"), RV_OK);
  assert_true(e->res.skipped);
  assert_int_equal(e->res.index, first.index);
  /* mallory's oldest sessions are gone (seq 2 on them is stale), its newest kept */
  assert_int_equal(s_touch_as(e, "mallory", 1000, 2, "/tmp/m0"), RV_ESTALE);
  assert_int_equal(s_touch_as(e, "mallory", 1999, 2, "/tmp/m0"), RV_OK);
  assert_int_equal(kv_t_check(e), RV_OK);
  kv_t_env_reopen(e);
  assert_int_equal(kv_t_check(e), RV_OK);
  kv_t_env_destroy(&e);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_mode_string),
      cmocka_unit_test(test_one_class),
      cmocka_unit_test(test_table),
      cmocka_unit_test(test_chown_rules),
      cmocka_unit_test(test_apply_rm_denied),
      cmocka_unit_test(test_apply_creates_owner_group),
      cmocka_unit_test(test_apply_sticky_and_subtree),
      cmocka_unit_test(test_permissions_off_keeps_owners),
      cmocka_unit_test(test_reads_checked),
      cmocka_unit_test(test_forged_seq_refused),
      cmocka_unit_test(test_flood_evicts_only_the_flooder),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
