/* Property test of the whole core: a seeded random sequence of mkdir / put / touchz / rm / mv /
 * setattr (with retries through a client session) over a small name space, so collisions and
 * errors are frequent. After every command:
 *   - the outcome code equals the one a naive reference model predicts;
 *   - fsck passes: every stored counter equals a full recount of the tree;
 *   - count of the root and of random paths equals a brute-force count over the model.
 * A second replica applies the same entries in random-sized groups (kv_core_apply_batch) and
 * (with a tiny, thrashing cache) must stay byte-identical. Seed: KV_TEST_SEED (printed); rounds:
 * KV_PROP_OPS. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kv_testutil.h"

/* ---- the reference model: a flat list of paths ---- */

#define M_MAX 4096
#define M_PATH 256

typedef struct {
  char path[M_PATH];
  uint8_t type;
  uint64_t size;
} m_entry_t;

static m_entry_t s_m[M_MAX];
static size_t s_mn;

static int m_find(const char *p) {
  for (size_t i = 0; i < s_mn; i++)
    if (strcmp(s_m[i].path, p) == 0) return (int)i;
  return -1;
}

static int m_type(const char *p) { /* 0 = absent */
  if (strcmp(p, "/") == 0) return KV_TYPE_DIR;
  int i = m_find(p);
  return i < 0 ? 0 : s_m[i].type;
}

static void m_add(const char *p, uint8_t type, uint64_t size) {
  assert_true(s_mn < M_MAX);
  snprintf(s_m[s_mn].path, M_PATH, "%s", p);
  s_m[s_mn].type = type;
  s_m[s_mn].size = size;
  s_mn++;
}

static bool m_under(const char *p, const char *dir) { /* p strictly below dir */
  size_t n = strlen(dir);
  if (strcmp(dir, "/") == 0) return strcmp(p, "/") != 0;
  return strncmp(p, dir, n) == 0 && p[n] == '/';
}

static void m_remove_tree(const char *p) {
  for (size_t i = 0; i < s_mn;) {
    if (strcmp(s_m[i].path, p) == 0 || m_under(s_m[i].path, p))
      s_m[i] = s_m[--s_mn];
    else
      i++;
  }
}

static bool m_has_children(const char *p) {
  for (size_t i = 0; i < s_mn; i++)
    if (m_under(s_m[i].path, p)) return true;
  return false;
}

static kv_count_t m_count(const char *p) {
  kv_count_t c = {0, 0, 0};
  int t = m_type(p);
  if (t == KV_TYPE_FILE) {
    c.files = 1;
    c.bytes = s_m[m_find(p)].size;
    return c;
  }
  c.dirs = 1;
  for (size_t i = 0; i < s_mn; i++) {
    if (!m_under(s_m[i].path, p)) continue;
    if (s_m[i].type == KV_TYPE_DIR)
      c.dirs++;
    else
      c.files++, c.bytes += s_m[i].size;
  }
  return c;
}

/* Splits p into its prefixes: pre[i] = the first i+1 components. */
static size_t m_prefixes(const char *p, char pre[][M_PATH]) {
  size_t n = 0;
  for (size_t i = 1; p[i - 1]; i++) {
    if (p[i] == '/' || p[i] == '\0') {
      snprintf(pre[n], M_PATH, "%.*s", (int)i, p);
      n++;
    }
  }
  if (strcmp(p, "/") == 0) return 0;
  return n;
}

/* Walks the first upto prefixes: 0, ENOTFOUND (*depth = components found) or ENOTDIR. */
static int m_resolve(char pre[][M_PATH], size_t upto, size_t *depth) {
  for (size_t i = 0; i < upto; i++) {
    if (i > 0 && m_type(pre[i - 1]) == KV_TYPE_FILE) {
      *depth = i;
      return RV_ENOTDIR;
    }
    if (!m_type(pre[i])) {
      *depth = i;
      return RV_ENOTFOUND;
    }
  }
  *depth = upto;
  return RV_OK;
}

static int m_mkdir(const char *p, bool parents) {
  char pre[16][M_PATH];
  size_t n = m_prefixes(p, pre), d;
  if (n == 0) return parents ? RV_OK : RV_EEXIST;
  int rc = m_resolve(pre, n, &d);
  if (rc == RV_OK) {
    if (m_type(p) == KV_TYPE_FILE) return parents ? RV_ENOTDIR : RV_EEXIST;
    return parents ? RV_OK : RV_EEXIST;
  }
  if (rc == RV_ENOTDIR) return rc;
  if (d + 1 < n && !parents) return RV_ENOTFOUND;
  for (size_t i = d; i < n; i++) m_add(pre[i], KV_TYPE_DIR, 0);
  return RV_OK;
}

static int m_parent(const char *p, bool parents, char pre[][M_PATH], size_t *n) {
  size_t d;
  *n = m_prefixes(p, pre);
  if (*n == 0) return RV_EISDIR;
  int rc = m_resolve(pre, *n - 1, &d);
  if (rc == RV_ENOTFOUND && parents) {
    for (size_t i = d; i + 1 < *n; i++) m_add(pre[i], KV_TYPE_DIR, 0);
    return RV_OK;
  }
  if (rc == RV_OK && *n >= 2 && m_type(pre[*n - 2]) == KV_TYPE_FILE) return RV_ENOTDIR;
  return rc;
}

static int m_put(const char *p, uint64_t size, bool parents, bool overwrite) {
  char pre[16][M_PATH];
  size_t n;
  int rc = m_parent(p, parents, pre, &n);
  if (rc) return rc;
  int t = m_type(p);
  if (t == KV_TYPE_DIR) return RV_EISDIR;
  if (t == KV_TYPE_FILE && !overwrite) return RV_EEXIST;
  if (t == KV_TYPE_FILE) m_remove_tree(p);
  m_add(p, KV_TYPE_FILE, size);
  return RV_OK;
}

static int m_touchz(const char *p) {
  char pre[16][M_PATH];
  size_t n;
  int rc = m_parent(p, false, pre, &n);
  if (rc) return rc;
  int t = m_type(p);
  if (t == KV_TYPE_DIR) return RV_EISDIR;
  if (t == KV_TYPE_FILE) return s_m[m_find(p)].size ? RV_EEXIST : RV_OK;
  m_add(p, KV_TYPE_FILE, 0);
  return RV_OK;
}

static int m_rm(const char *p, uint8_t flags) {
  char pre[16][M_PATH];
  size_t n = m_prefixes(p, pre), d;
  bool recursive = flags & KV_F_RECURSIVE;
  if (n == 0) return flags & KV_F_FILE_ONLY ? RV_EISDIR : RV_EINVAL;
  int rc = m_resolve(pre, n, &d);
  if (rc) return rc;
  if ((flags & KV_F_FILE_ONLY) && m_type(p) == KV_TYPE_DIR) return RV_EISDIR;
  if ((flags & KV_F_DIR_ONLY) && m_type(p) != KV_TYPE_DIR) return RV_ENOTDIR;
  if (m_type(p) == KV_TYPE_DIR && m_has_children(p) && !recursive) return RV_ENOTEMPTY;
  m_remove_tree(p);
  return RV_OK;
}

static int m_mv(const char *s, const char *dst) {
  char ps[16][M_PATH], pd[16][M_PATH], target[M_PATH * 2];
  size_t ns = m_prefixes(s, ps), nd = m_prefixes(dst, pd), d;
  if (ns == 0) return RV_EINVAL;
  int rc = m_resolve(ps, ns, &d);
  if (rc) return rc;
  rc = m_resolve(pd, nd, &d);
  if (rc == RV_OK) {
    if (m_type(dst) == KV_TYPE_FILE) return RV_EEXIST;
    snprintf(target, sizeof target, "%s%s", strcmp(dst, "/") ? dst : "", strrchr(s, '/'));
  } else if (rc == RV_ENOTFOUND && d + 1 == nd) {
    snprintf(target, sizeof target, "%s", dst);
  } else {
    return rc;
  }
  /* the target's parent must not be the source or below it */
  char tparent[M_PATH * 2];
  snprintf(tparent, sizeof tparent, "%s", target);
  *strrchr(tparent, '/') = '\0';
  if (!tparent[0]) snprintf(tparent, sizeof tparent, "/");
  if (m_type(s) == KV_TYPE_DIR && (strcmp(tparent, s) == 0 || m_under(tparent, s)))
    return RV_EINVAL;
  if (m_type(target)) return RV_EEXIST;
  size_t sl = strlen(s);
  for (size_t i = 0; i < s_mn; i++) {
    if (strcmp(s_m[i].path, s) == 0 || m_under(s_m[i].path, s)) {
      char np[M_PATH * 3];
      snprintf(np, sizeof np, "%s%s", target, s_m[i].path + sl);
      size_t nl = strlen(np);
      assert_true(nl < M_PATH);
      memcpy(s_m[i].path, np, nl + 1);
    }
  }
  return RV_OK;
}

/* ---- the run ---- */

static void s_random_path(kv_t_rng_t *r, char *out, size_t cap, size_t maxdepth) {
  static const char *names[] = {"a", "b", "c", "dd"};
  size_t depth = kv_t_rng_below(r, maxdepth + 1);
  if (depth == 0) {
    snprintf(out, cap, "/");
    return;
  }
  size_t len = 0;
  for (size_t i = 0; i < depth; i++)
    len += (size_t)snprintf(out + len, cap - len, "/%s", names[kv_t_rng_below(r, 4)]);
}

static void test_random_ops_against_model(void **state) {
  kv_t_rng_t rng;
  kv_t_rng_init(&rng, kv_t_seed("kv prop", 20240601));
  const char *ops_env = getenv("KV_PROP_OPS");
  int rounds = ops_env ? atoi(ops_env) : 5000;
  s_mn = 0;
  kv_t_env_t *e = kv_t_env_new(NULL);
  /* The grouped replica also runs with a tiny cache that thrashes: the cache must never change
   * an outcome. */
  kv_core_config_t gcfg;
  kv_core_config_default(&gcfg);
  gcfg.cache_entries = 8;
  kv_t_env_t *g = kv_t_env_new(&gcfg);
  enum { GMAX = 32 };
  kv_buf_t gbufs[GMAX];
  kv_entry_t gent[GMAX];
  kv_result_t gres[GMAX];
  int gwant[GMAX];
  size_t gn = 0, gtarget = 1 + kv_t_rng_below(&rng, GMAX);
  for (size_t i = 0; i < GMAX; i++) kv_buf_init(&gbufs[i]);
  uint64_t seq = 0;
  kv_result_t last = {0};
  int last_want = 0;
  char data[64];
  memset(data, 'x', sizeof data);
  int counts[8] = {0};

  for (int round = 0; round < rounds; round++) {
    char p1[M_PATH], p2[M_PATH];
    s_random_path(&rng, p1, sizeof p1, 4);
    s_random_path(&rng, p2, sizeof p2, 4);
    kv_cmd_t c;
    int want;
    bool retry = seq > 0 && kv_t_rng_below(&rng, 20) == 0;
    uint64_t op = 1 + kv_t_rng_below(&rng, 6);
    if (retry) {
      /* resend the previous command's bytes (same seq): the recorded outcome, no change */
      kv_buf_t copy;
      kv_buf_init(&copy);
      kv_buf_put(&copy, e->enc.data, e->enc.len);
      kv_t_apply_raw(e, copy.data, copy.len);
      assert_true(e->res.skipped);
      assert_int_equal(e->res.code, last_want);
      assert_int_equal(e->res.index, last.index);
      kv_buf_reset(&gbufs[gn]);
      kv_buf_put(&gbufs[gn], copy.data, copy.len);
      kv_buf_close(&copy);
      want = last_want;
    } else {
      uint8_t flags = (uint8_t)kv_t_rng_below(&rng, 2);
      switch (op) {
        case KV_OP_MKDIR:
          kv_t_cmd(&c, KV_OP_MKDIR, p1);
          c.flags = flags ? KV_F_PARENTS : 0;
          want = m_mkdir(p1, flags);
          break;
        case KV_OP_PUT: {
          size_t size = kv_t_rng_below(&rng, 40);
          kv_t_cmd(&c, KV_OP_PUT, p1);
          c.flags = (flags ? KV_F_PARENTS : 0) | (kv_t_rng_below(&rng, 2) ? KV_F_OVERWRITE : 0);
          c.data = (kv_bytes_t){(const uint8_t *)data, size};
          want = m_put(p1, size, c.flags & KV_F_PARENTS, c.flags & KV_F_OVERWRITE);
          break;
        }
        case KV_OP_TOUCHZ:
          kv_t_cmd(&c, KV_OP_TOUCHZ, p1);
          want = m_touchz(p1);
          break;
        case KV_OP_RM: {
          /* none, -r, file-only (HDFS' -rm), dir-only (-rmdir): one flag at most */
          static const uint8_t rm_flags[] = {0, KV_F_RECURSIVE, KV_F_FILE_ONLY, KV_F_DIR_ONLY};
          kv_t_cmd(&c, KV_OP_RM, p1);
          c.flags = rm_flags[kv_t_rng_below(&rng, 4)];
          want = m_rm(p1, c.flags);
          break;
        }
        case KV_OP_MV:
          kv_t_cmd(&c, KV_OP_MV, p1);
          c.path2 = (kv_bytes_t){(const uint8_t *)p2, strlen(p2)};
          want = m_mv(p1, p2);
          break;
        default: {
          kv_t_cmd(&c, KV_OP_SETATTR, p1);
          c.set_mask = KV_SET_PERM | KV_SET_MTIME;
          c.perm = (uint16_t)kv_t_rng_below(&rng, 01000);
          c.mtime_ms = round;
          char pre[16][M_PATH];
          size_t n = m_prefixes(p1, pre), d;
          want = m_resolve(pre, n, &d);
        }
      }
      c.client_id = 42;
      c.seq = ++seq;
      c.time_ms = 1000 + round;
      kv_t_encode(&c, &e->enc);
      kv_t_apply_raw(e, e->enc.data, e->enc.len);
      kv_buf_reset(&gbufs[gn]);
      kv_buf_put(&gbufs[gn], e->enc.data, e->enc.len);
      last = e->res;
      last_want = want;
      counts[op]++;
    }
    if (getenv("KV_PROP_VERBOSE"))
      fprintf(stderr, "round %d: %s%s %s %s -> %s %s\n", round, retry ? "retry " : "",
              kv_op_name((int)op), p1, op == KV_OP_MV ? p2 : "", rv_code_name(e->res.code),
              e->res.msg);
    if (e->res.code != want)
      fail_msg("round %d: %s %s %s: got %s (%s), model says %s", round, kv_op_name((int)op), p1,
               op == KV_OP_MV ? p2 : "", rv_code_name(e->res.code), e->res.msg, rv_code_name(want));
    /* counters vs a full recount, and vs the model */
    assert_int_equal(kv_t_check(e), RV_OK);
    kv_count_t got, exp = m_count("/");
    assert_int_equal(kv_t_count(e, "/", &got), RV_OK);
    assert_memory_equal(&got, &exp, sizeof got);
    char q[M_PATH];
    s_random_path(&rng, q, sizeof q, 3);
    if (m_type(q)) {
      exp = m_count(q);
      assert_int_equal(kv_t_count(e, q, &got), RV_OK);
      assert_memory_equal(&got, &exp, sizeof got);
    } else {
      assert_int_not_equal(kv_t_count(e, q, &got), RV_OK);
    }
    /* the grouped replica */
    gent[gn] = (kv_entry_t){e->index, gbufs[gn].data, gbufs[gn].len, false};
    gwant[gn] = want;
    gn++;
    if (gn == gtarget || round == rounds - 1) {
      rv_err_t err;
      assert_int_equal(kv_core_apply_batch(g->core, gent, gn, gres, &err), RV_OK);
      for (size_t i = 0; i < gn; i++) assert_int_equal(gres[i].code, gwant[i]);
      assert_true(kv_t_digest(g, KV_DIGEST_ALL) == kv_t_digest(e, KV_DIGEST_ALL));
      gn = 0;
      gtarget = 1 + kv_t_rng_below(&rng, GMAX);
    }
  }
  fprintf(stderr,
          "kv prop: %d rounds (mkdir %d, put %d, touchz %d, rm %d, mv %d, setattr %d), "
          "%zu entries at the end\n",
          rounds, counts[1], counts[2], counts[3], counts[4], counts[5], counts[6], s_mn);
  assert_int_equal(kv_t_check(g), RV_OK);
  for (size_t i = 0; i < GMAX; i++) kv_buf_close(&gbufs[i]);
  kv_t_env_destroy(&e);
  kv_t_env_destroy(&g);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_random_ops_against_model),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
