/* rv-repl-ots-drive: runs one scenario of the Tablestore backend against rv-ots-server and
 * checks it (integration-tests/test_repl_ots_*.sh start the server and call it). Exit 0 when
 * the scenario passed; otherwise a message on stderr saying what was wrong, exit 1.
 *
 *   rv-repl-ots-drive SCENARIO       roundtrip | fence | epoch | stale | midway | base | faults |
 *                                    hostile | schema
 *   rv-repl-ots-drive digest CLUSTER  prints the remote copy's namespace digest (see s_digest)
 * Environment: OTS_ENDPOINT, OTS_INSTANCE, OTS_AKID, OTS_SECRET_FILE, OTS_FAULT_FILE.
 *
 * The invariant checked after every step, failed ones included: a scan of the generation the
 * meta row names returns exactly the namespace the model holds at the meta row's synced_index
 * (the remote copy is never half-written, never ahead or behind what its meta row says). */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kv_codec.h"
#include "repl_backend.h"
#include "repl_epoch_scenario.h"
#include "repl_ots_int.h"

#define NKEYS 1200
#define NSTATES 64

static const char *s_scenario = "?";

static void s_die(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "rv-repl-ots-drive %s: FAILED: ", s_scenario);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  exit(1);
}

static void s_log(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "rv-repl-ots-drive %s: ", s_scenario);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
}

static const char *s_env(const char *name) {
  const char *v = getenv(name);
  if (!v || !*v) s_die("environment variable %s is not set", name);
  return v;
}

/* ---- the model: key i ("k%05d") -> value or absent, per committed index ---- */

typedef struct {
  char *val[NKEYS];
  uint8_t *big; /* key "big" (sorts before the k keys): a multi-part value, or NULL */
  size_t big_len;
} s_state_t;

static s_state_t s_cur;                 /* what the next commit will make visible */
static s_state_t s_at[NSTATES];         /* committed states, by slot */
static uint64_t s_at_index[NSTATES];
static size_t s_nstates;

static void s_state_copy(s_state_t *to, const s_state_t *from) {
  for (size_t i = 0; i < NKEYS; i++) {
    free(to->val[i]);
    to->val[i] = from->val[i] ? strdup(from->val[i]) : NULL;
  }
  free(to->big);
  to->big = NULL;
  to->big_len = from->big_len;
  if (from->big) {
    to->big = malloc(from->big_len);
    memcpy(to->big, from->big, from->big_len);
  }
}

static void s_remember(uint64_t index) {
  if (s_nstates == NSTATES) s_die("too many states");
  memset(&s_at[s_nstates], 0, sizeof s_at[0]);
  s_state_copy(&s_at[s_nstates], &s_cur);
  s_at_index[s_nstates++] = index;
}

static const s_state_t *s_state_at(uint64_t index) {
  for (size_t i = s_nstates; i-- > 0;)
    if (s_at_index[i] == index) return &s_at[i];
  return NULL;
}

/* ---- the backend ---- */

static char s_secret[256];

static repl_backend_cfg_t s_cfg(const char *cluster, long timeout_ms) {
  if (!s_secret[0]) {
    FILE *f = fopen(s_env("OTS_SECRET_FILE"), "r");
    if (!f || !fgets(s_secret, sizeof s_secret, f)) s_die("cannot read the secret file");
    fclose(f);
    s_secret[strcspn(s_secret, "\r\n")] = 0;
  }
  repl_backend_cfg_t cfg = {.endpoint = s_env("OTS_ENDPOINT"), .instance = s_env("OTS_INSTANCE"),
                            .access_key_id = s_env("OTS_AKID"), .access_key_secret = s_secret,
                            .cluster_id = cluster, .request_timeout_ms = timeout_ms};
  return cfg;
}

static repl_ots_t *s_open(const char *cluster, long timeout_ms) {
  repl_backend_cfg_t cfg = s_cfg(cluster, timeout_ms);
  rv_err_t err;
  repl_ots_t *b = repl_ots_open(&cfg, &err);
  if (!b) s_die("open: %s", err.msg);
  /* quick retries, so that the scenarios' faults are seen in seconds */
  ots_retry_policy_t p = ots_retry_policy_default();
  p.throttle_base_ms = 20;
  p.throttle_cap_ms = 100;
  p.deadline_ms = 3000;
  repl_ots_set_retry_policy(b, &p);
  return b;
}

static void s_faults(const char *text) {
  const char *path = s_env("OTS_FAULT_FILE");
  char tmp[4096];
  snprintf(tmp, sizeof tmp, "%s.new", path);
  FILE *f = fopen(tmp, "w");
  if (!f || fputs(text, f) < 0 || fclose(f) != 0) s_die("cannot write %s", tmp);
  if (rename(tmp, path) != 0) s_die("cannot rename %s", tmp);
  s_log("faults: %s", *text ? text : "(none)\n");
}

/* ---- checking the remote copy against the model ---- */

typedef struct {
  const s_state_t *want;
  size_t next;      /* position in the expected order: 0 = "big", then k keys */
  size_t seen;
} s_cmp_t;

static void s_key(char *out, size_t i) { snprintf(out, 16, "k%05zu", i); }

static int s_cmp_row(void *arg, const repl_row_t *r) {
  s_cmp_t *c = arg;
  char k[16];
  if (c->next == 0) {
    c->next = 1;
    if (c->want->big) {
      if (r->klen != 3 || memcmp(r->key, "big", 3) != 0) s_die("scan: expected key big first");
      if (r->vlen != c->want->big_len || memcmp(r->val, c->want->big, r->vlen) != 0)
        s_die("scan: the big value differs (%zu bytes, expected %zu)", r->vlen, c->want->big_len);
      c->seen++;
      return 0;
    }
  }
  while (c->next - 1 < NKEYS && !c->want->val[c->next - 1]) c->next++;
  if (c->next - 1 >= NKEYS) s_die("scan: an extra row %.*s", (int)r->klen, (const char *)r->key);
  size_t i = c->next - 1;
  s_key(k, i);
  if (r->klen != strlen(k) || memcmp(r->key, k, r->klen) != 0)
    s_die("scan: row %.*s where %s was expected", (int)r->klen, (const char *)r->key, k);
  if (r->vlen != strlen(c->want->val[i]) || memcmp(r->val, c->want->val[i], r->vlen) != 0)
    s_die("scan: %s = %.*s, expected %s", k, (int)r->vlen, (const char *)r->val, c->want->val[i]);
  c->next++;
  c->seen++;
  return 0;
}

/* The remote copy equals the model at its meta row's index; returns that meta row. */
static repl_meta_t s_check(repl_ots_t *b, const char *when) {
  repl_meta_t m;
  rv_err_t err;
  int rc = repl_ots_read_meta(b, &m, &err);
  if (rc) s_die("%s: read meta: %s", when, err.msg);
  const s_state_t *want = s_state_at(m.synced_index);
  if (!want) s_die("%s: the meta row names index %" PRIu64 ", which no commit made", when, m.synced_index);
  s_cmp_t c = {.want = want};
  uint8_t last[REPL_KEY_MAX];
  size_t llen = 0;
  bool done = false;
  for (int calls = 0; !done; calls++) {
    uint8_t after[REPL_KEY_MAX];
    memcpy(after, last, llen);
    if ((rc = repl_ots_scan(b, &m, after, llen, 97, s_cmp_row, &c, last, &llen, &done, &err)))
      s_die("%s: scan: %s", when, err.msg);
    if (calls > 1000) s_die("%s: scan does not end", when);
  }
  size_t expect = want->big ? 1 : 0;
  for (size_t i = 0; i < NKEYS; i++) expect += want->val[i] != NULL;
  if (c.seen != expect) s_die("%s: scan gave %zu rows, expected %zu", when, c.seen, expect);
  s_log("%s: remote copy = model at index %" PRIu64 " (generation %" PRIu64 ", %zu rows)", when,
        m.synced_index, m.generation, c.seen);
  return m;
}

/* ---- writes ---- */

typedef struct {
  size_t key;   /* index in the model */
  bool del;
} s_change_t;

/* Applies changes to s_cur and sends them in a write from meta; commit to `to`. Returns the
 * backend's code (the model's committed states gain `to` only on success). */
static int s_write(repl_ots_t *b, uint64_t term, bool base, const repl_meta_t *m,
                   const s_change_t *ch, size_t n, uint64_t to, int ver, repl_meta_t *out,
                   rv_err_t *err) {
  s_state_t before;
  memset(&before, 0, sizeof before);
  s_state_copy(&before, &s_cur);
  repl_ots_write_t *w = repl_ots_write_begin(b, term, base, m->generation, m->synced_index, err);
  int rc = w ? RV_OK : err->code;
  for (size_t i = 0; i < n && !rc; i++) {
    char k[16], v[64];
    s_key(k, ch[i].key);
    snprintf(v, sizeof v, "v%zu-%d", ch[i].key, ver);
    free(s_cur.val[ch[i].key]);
    s_cur.val[ch[i].key] = ch[i].del ? NULL : strdup(v);
    repl_row_t r = {.key = (const uint8_t *)k, .klen = strlen(k), .val = (const uint8_t *)v,
                    .vlen = strlen(v), .deleted = ch[i].del};
    rc = repl_ots_write_put(w, &r, 1, err);
  }
  if (base) /* a base write carries the whole namespace: every live key not already sent */
    for (size_t i = 0; i < NKEYS && !rc; i++) {
      bool sent = false;
      for (size_t j = 0; j < n && !sent; j++) sent = ch[j].key == i;
      if (sent || !s_cur.val[i]) continue;
      char k[16];
      s_key(k, i);
      repl_row_t r = {.key = (const uint8_t *)k, .klen = strlen(k),
                      .val = (const uint8_t *)s_cur.val[i], .vlen = strlen(s_cur.val[i])};
      rc = repl_ots_write_put(w, &r, 1, err);
    }
  if (base && !rc && s_cur.big) {
    repl_row_t r = {.key = (const uint8_t *)"big", .klen = 3, .val = s_cur.big, .vlen = s_cur.big_len};
    rc = repl_ots_write_put(w, &r, 1, err);
  }
  if (rc) {
    repl_ots_write_abort(&w); /* safe on NULL (begin failed) */
    s_state_copy(&s_cur, &before);
  } else {
    repl_meta_t local;
    rc = repl_ots_write_commit(&w, to, out ? out : &local, err);
    if (rc) s_state_copy(&s_cur, &before);
    else s_remember(to);
  }
  for (size_t i = 0; i < NKEYS; i++) free(before.val[i]);
  free(before.big);
  return rc;
}

static size_t s_mk(s_change_t *ch, size_t from, size_t count, size_t step, bool del) {
  for (size_t i = 0; i < count; i++) ch[i] = (s_change_t){(from + i * step) % NKEYS, del};
  return count;
}

static repl_meta_t s_claim(repl_ots_t *b, uint64_t term) {
  repl_meta_t m;
  rv_err_t err;
  if (repl_ots_claim(b, term, &m, &err)) s_die("claim term %" PRIu64 ": %s", term, err.msg);
  if (m.term != term) s_die("claim returned term %" PRIu64, m.term);
  return m;
}

static void s_expect(int rc, int want, const rv_err_t *err, const char *what) {
  if (rc != want)
    s_die("%s: got %s (%s), expected %s", what, rv_code_name(rc), rc ? err->msg : "", rv_code_name(want));
  s_log("%s: %s%s%s", what, rv_code_name(rc), rc ? ": " : "", rc ? err->msg : "");
}

/* ---- scenarios ---- */

static void s_roundtrip(void) {
  repl_ots_t *b = s_open("c-roundtrip", 0);
  rv_err_t err;
  repl_meta_t m;
  s_expect(repl_ots_read_meta(b, &m, &err), RV_ENOTFOUND, &err, "read meta before any claim");
  m = s_claim(b, 1);
  if (m.generation != 0 || m.synced_index != 0) s_die("a new meta row is not at (0, 0)");
  s_remember(0);
  s_check(b, "after claim");
  s_change_t ch[NKEYS];
  size_t n = s_mk(ch, 0, 700, 1, false);
  s_expect(s_write(b, 1, false, &m, ch, n, 10, 1, &m, &err), RV_OK, &err, "incremental 700 puts");
  if (m.generation != 1 || m.synced_index != 10 || m.rows != 700) s_die("meta after the first write");
  s_check(b, "after 700 puts");
  /* updates, deletes, a key changed twice in one write */
  n = s_mk(ch, 0, 50, 7, false);
  n += s_mk(ch + n, 1, 40, 9, true);
  ch[n++] = (s_change_t){0, false};
  s_expect(s_write(b, 1, false, &m, ch, n, 20, 2, &m, &err), RV_OK, &err, "updates and deletes");
  s_check(b, "after updates and deletes");
  /* a second handle opens the existing table (schema check) and sees the same row */
  repl_ots_t *b2 = s_open("c-roundtrip", 0);
  repl_meta_t m2;
  if (repl_ots_read_meta(b2, &m2, &err) || m2.synced_index != 20 || m2.generation != m.generation)
    s_die("second handle: meta differs");
  s_check(b2, "second handle");
  /* the same copy through the generic interface (repl_backend.c's dispatch by scheme) */
  repl_backend_cfg_t cfg = s_cfg("c-roundtrip", 0);
  repl_backend_t *g = repl_backend_open(&cfg, &err);
  if (!g) s_die("repl_backend_open: %s", err.msg);
  if (strncmp(repl_backend_describe(g), "tablestore http://", 18) != 0)
    s_die("describe: %s", repl_backend_describe(g));
  repl_meta_t gm;
  if (repl_backend_read_meta(g, &gm, &err) || gm.synced_index != 20) s_die("generic read_meta");
  repl_write_t *gw = repl_write_begin(g, 1, false, gm.generation, gm.synced_index, &err);
  if (!gw) s_die("generic begin: %s", err.msg);
  repl_row_t gr = {.key = (const uint8_t *)"k00999", .klen = 6, .val = (const uint8_t *)"generic", .vlen = 7};
  if (repl_write_put(gw, &gr, 1, &err) || repl_write_commit(&gw, 25, &m, &err) || gw)
    s_die("generic write: %s", err.msg);
  free(s_cur.val[999]);
  s_cur.val[999] = strdup("generic");
  s_remember(25);
  s_check(b, "after a write through repl_backend.h");
  repl_backend_close(&g);
  /* the empty scan position and the end: scanning from the last key gives nothing, done */
  uint8_t last[REPL_KEY_MAX];
  size_t llen;
  bool done;
  s_cmp_t c = {.want = s_state_at(25), .next = NKEYS + 1};
  if (repl_ots_scan(b, &m, (const uint8_t *)"k99999", 6, 10, s_cmp_row, &c, last, &llen, &done, &err) ||
      !done || c.seen != 0)
    s_die("a scan after the last key is not empty and done");
  /* claiming again with the same term changes nothing */
  repl_meta_t m3 = s_claim(b2, 1);
  if (m3.synced_index != 25) s_die("a repeated claim moved the meta row");
  repl_ots_close(&b2);
  repl_ots_close(&b);
}

static void s_fence(void) {
  repl_ots_t *a = s_open("c-fence", 0), *b = s_open("c-fence", 0);
  rv_err_t err;
  repl_meta_t m = s_claim(a, 2);
  s_remember(0);
  s_change_t ch[NKEYS];
  size_t n = s_mk(ch, 0, 100, 1, false);
  s_expect(s_write(a, 2, false, &m, ch, n, 5, 1, &m, &err), RV_OK, &err, "term 2 writes");
  /* a base write staged by term 2 ... */
  repl_ots_write_t *w = repl_ots_write_begin(a, 2, true, m.generation, 0, &err);
  if (!w) s_die("begin base: %s", err.msg);
  repl_row_t r = {.key = (const uint8_t *)"k00001", .klen = 6, .val = (const uint8_t *)"late", .vlen = 4};
  s_expect(repl_ots_write_put(w, &r, 1, &err), RV_OK, &err, "term 2 stages a base row");
  /* ... then term 3 claims the copy: term 2's commit must fail, fenced */
  repl_meta_t mb = s_claim(b, 3);
  if (mb.synced_index != 5) s_die("the claim lost the synced index");
  s_expect(repl_ots_write_commit(&w, 6, NULL, &err), RV_EFENCED, &err, "term 2 commits its base write after term 3's claim");
  s_expect(repl_ots_write_begin(a, 2, false, m.generation, m.synced_index, &err) ? RV_OK : err.code,
           RV_EFENCED, &err, "term 2 begins an incremental write");
  repl_meta_t mx;
  s_expect(repl_ots_claim(a, 2, &mx, &err), RV_EFENCED, &err, "term 2 claims again");
  bool more;
  s_expect(repl_ots_tidy(a, 2, &more, &err), RV_EFENCED, &err, "term 2 tidies");
  s_check(b, "after the fenced attempts");
  /* term 3 goes on from where the copy is */
  n = s_mk(ch, 100, 10, 1, false);
  s_expect(s_write(b, 3, false, &mb, ch, n, 9, 2, &mb, &err), RV_OK, &err, "term 3 writes");
  s_check(b, "term 3's write");
  repl_ots_close(&a);
  repl_ots_close(&b);
}

/* Epochs (repl_epoch_scenario.h, the same steps as test_repl_backend_file's test_epochs), then
 * the limit of this backend's generations: a token of epoch 128 is refused, naming it. */
static repl_backend_t *s_open_generic(const char *cluster) {
  repl_backend_cfg_t cfg = s_cfg(cluster, 0);
  rv_err_t err;
  repl_backend_t *g = repl_backend_open(&cfg, &err);
  if (!g) s_die("repl_backend_open: %s", err.msg);
  ots_retry_policy_t p = ots_retry_policy_default();
  p.throttle_base_ms = 20;
  p.throttle_cap_ms = 100;
  p.deadline_ms = 3000;
  repl_ots_set_retry_policy((repl_ots_t *)g, &p);
  return g;
}

static void s_epoch(void) {
  repl_backend_t *a = s_open_generic("c-epoch"), *b = s_open_generic("c-epoch"),
                 *c = s_open_generic("c-epoch");
  char why[1200];
  if (repl_epoch_scenario(a, b, c, why, sizeof why)) s_die("%s", why);
  s_log("the epoch scenario passed");
  rv_err_t err;
  repl_meta_t m;
  uint64_t tok;
  if (repl_token(128, 1, &tok)) s_die("no token for epoch 128");
  s_expect(repl_backend_claim(a, tok, &m, &err), RV_EINVAL, &err, "epoch 128 claims");
  if (!strstr(err.msg, "epochs below 128")) s_die("the refusal does not name the limit: %s", err.msg);
  if (repl_token(127, 0xffffffffu, &tok)) s_die("no token for epoch 127");
  s_expect(repl_backend_claim(a, tok, &m, &err), RV_OK, &err, "epoch 127, term 2^32-1 claims");
  repl_backend_close(&a);
  repl_backend_close(&b);
  repl_backend_close(&c);
}

static void s_stale(void) {
  repl_ots_t *a = s_open("c-stale", 0), *b = s_open("c-stale", 0);
  rv_err_t err;
  repl_meta_t m = s_claim(a, 4), old;
  s_remember(0);
  s_change_t ch[NKEYS];
  size_t n = s_mk(ch, 0, 30, 1, false);
  s_expect(s_write(a, 4, false, &m, ch, n, 10, 1, &m, &err), RV_OK, &err, "write to 10");
  old = m;
  n = s_mk(ch, 30, 30, 1, false);
  s_expect(s_write(a, 4, false, &m, ch, n, 15, 2, &m, &err), RV_OK, &err, "write to 15");
  /* a writer of the same term that still thinks the copy is at 10 */
  s_expect(s_write(b, 4, false, &old, ch, n, 12, 3, NULL, &err), RV_ESTALE, &err, "incremental from a moved index");
  /* a base write begun at generation g, overtaken by an incremental commit to 20, cannot make
   * an older index (18) current */
  repl_ots_write_t *w = repl_ots_write_begin(b, 4, true, m.generation, 0, &err);
  if (!w) s_die("begin base: %s", err.msg);
  n = s_mk(ch, 60, 5, 1, false);
  s_expect(s_write(a, 4, false, &m, ch, n, 20, 4, &m, &err), RV_OK, &err, "write to 20");
  repl_row_t r = {.key = (const uint8_t *)"k00001", .klen = 6, .val = (const uint8_t *)"x", .vlen = 1};
  s_expect(repl_ots_write_put(w, &r, 1, &err), RV_OK, &err, "stage");
  s_expect(repl_ots_write_commit(&w, 18, NULL, &err), RV_ESTALE, &err, "base commit at an older index");
  s_check(a, "after the stale attempts");
  repl_ots_close(&a);
  repl_ots_close(&b);
}

static void s_midway(void) {
  repl_ots_t *b = s_open("c-midway", 0);
  rv_err_t err;
  repl_meta_t m = s_claim(b, 5);
  s_remember(0);
  s_change_t ch[NKEYS];
  size_t n = s_mk(ch, 0, 300, 1, false);
  s_expect(s_write(b, 5, false, &m, ch, n, 10, 1, &m, &err), RV_OK, &err, "write 300");
  s_check(b, "before");
  /* a row refused for good in the first page sent: the write fails, the transaction is aborted */
  s_faults("rowfail 1 7 OTSParameterInvalid\n");
  repl_ots_write_t *w = repl_ots_write_begin(b, 5, false, m.generation, m.synced_index, &err);
  if (!w) s_die("begin: %s", err.msg);
  int rc = RV_OK;
  for (size_t i = 0; i < 900 && !rc; i++) {
    char k[16];
    s_key(k, i);
    repl_row_t r = {.key = (const uint8_t *)k, .klen = strlen(k), .val = (const uint8_t *)"changed", .vlen = 7,
                    .deleted = i % 3 == 0};
    rc = repl_ots_write_put(w, &r, 1, &err);
  }
  s_expect(rc, RV_EINVAL, &err, "a put hits a final row failure");
  s_expect(repl_ots_write_commit(&w, 30, NULL, &err), RV_EINVAL, &err, "commit after a failed put");
  s_check(b, "after the failed transaction");
  /* the commit itself refused: nothing of the transaction is visible */
  s_faults("unavailable 100 action=CommitTransaction\n");
  n = s_mk(ch, 0, 400, 2, false);
  s_expect(s_write(b, 5, false, &m, ch, n, 40, 2, NULL, &err), RV_EUNAVAIL, &err, "commit answered 503");
  s_check(b, "after the refused commit");
  /* the meta update refused (partition unavailable, past the retry policy) */
  s_faults("partition 100 action=UpdateRow\n");
  s_expect(s_write(b, 5, false, &m, ch, n, 41, 3, NULL, &err), RV_EUNAVAIL, &err, "meta update answered 503");
  s_check(b, "after the refused meta update");
  /* a transaction past its bound is refused with RV_ETOOBIG, and aborted by the caller */
  s_faults("");
  repl_ots_set_txn_limits(b, 50, 0, 0);
  n = s_mk(ch, 0, 60, 1, false);
  s_expect(s_write(b, 5, false, &m, ch, n, 42, 4, NULL, &err), RV_ETOOBIG, &err, "61 rows over a bound of 50");
  repl_ots_set_txn_limits(b, 0, 0, 0);
  s_check(b, "after the refused big write");
  n = s_mk(ch, 0, 60, 1, false);
  s_expect(s_write(b, 5, false, &m, ch, n, 43, 5, &m, &err), RV_OK, &err, "then a write goes through");
  s_check(b, "after");
  repl_ots_close(&b);
}

static void s_base(void) {
  repl_ots_t *b = s_open("c-base", 0);
  rv_err_t err;
  repl_meta_t m = s_claim(b, 6);
  s_remember(0);
  s_change_t ch[NKEYS];
  size_t n = s_mk(ch, 0, 500, 1, false);
  s_expect(s_write(b, 6, false, &m, ch, n, 10, 1, &m, &err), RV_OK, &err, "incremental 500");
  uint64_t g1 = m.generation;
  /* a base write abandoned midway leaves staged rows that nobody sees */
  repl_ots_write_t *w = repl_ots_write_begin(b, 6, true, m.generation, 0, &err);
  if (!w) s_die("begin base: %s", err.msg);
  for (size_t i = 0; i < 250; i++) {
    char k[16];
    s_key(k, 1000 + i % 200);
    repl_row_t r = {.key = (const uint8_t *)k, .klen = 6, .val = (const uint8_t *)"staged", .vlen = 6};
    if (repl_ots_write_put(w, &r, 1, &err)) s_die("stage: %s", err.msg);
  }
  repl_ots_write_abort(&w);
  s_check(b, "after an abandoned base write");
  /* the real base: the namespace at 30 (300 keys deleted, 200 new, one 5 MiB value) */
  n = s_mk(ch, 0, 300, 1, true);
  n += s_mk(ch + n, 700, 200, 1, false);
  s_cur.big_len = (5u << 20) + 12345;
  s_cur.big = malloc(s_cur.big_len);
  for (size_t i = 0; i < s_cur.big_len; i++) s_cur.big[i] = (uint8_t)(i * 7 + (i >> 11));
  s_expect(s_write(b, 6, true, &m, ch, n, 30, 2, &m, &err), RV_OK, &err, "base write");
  if (m.generation == g1 || m.rows != 401) s_die("base meta: generation %" PRIu64 ", rows %" PRIu64, m.generation, m.rows);
  s_check(b, "after the base write");
  /* tidy until done: only the meta row and the current generation remain */
  bool more = true;
  int calls = 0;
  while (more) {
    if (repl_ots_tidy(b, 6, &more, &err)) s_die("tidy: %s", err.msg);
    if (++calls > 50) s_die("tidy does not end");
  }
  s_log("tidy: done in %d calls", calls);
  /* every row of the cluster's partition: the meta row and the current generation's */
  ots_buf_t start, end, req, resp;
  ots_buf_init(&start);
  ots_buf_init(&end);
  ots_buf_init(&req);
  ots_buf_init(&resp);
  size_t total = 0;
  bool has_next = true;
  if (repl_ots_encode_key(&start, "c-base", 0, -1, REPL_OTS_KEY_MIN, NULL, 0, &err) ||
      repl_ots_encode_key(&end, "c-base", 0, 1, REPL_OTS_KEY_MAX, NULL, 0, &err))
    s_die("keys: %s", err.msg);
  while (has_next) {
    ots_range_result_t res;
    ots_range_result_init(&res);
    ots_rowset_t set;
    ots_rowset_init(&set);
    ots_read_opts_t o = {.max_versions = 1, .columns = (const char *const[]){"vn", "term", "v"}, .ncolumns = 3};
    ots_buf_reset(&req);
    if (ots_wire_get_range(&req, "raftvisor_ns", OTS_FORWARD, ots_buf_bytes(&start), ots_buf_bytes(&end), 0, &o, &err) ||
        repl_ots_call(b, "GetRange", OTS_OP_IDEMPOTENT, &req, &resp, NULL, &err) ||
        ots_wire_parse_get_range_response(resp.data, resp.len, &res, &err) ||
        ots_plainbuf_decode(&set, res.rows.data, res.rows.len, &err))
      s_die("raw range: %s", err.msg);
    for (size_t i = 0; i < set.nrows; i++) {
      int64_t g = set.rows[i].pk[1].value.i;
      if (g != 0 && (uint64_t)g != m.generation) s_die("a row of generation %" PRId64 " is left", g);
    }
    total += set.nrows;
    has_next = res.has_next;
    ots_buf_reset(&start);
    ots_buf_put(&start, res.next_start.data, res.next_start.len);
    ots_rowset_close(&set);
    ots_range_result_close(&res);
  }
  if (total != 1 + 401) s_die("the partition holds %zu rows, expected 402", total);
  s_log("the partition holds the meta row and the 401 rows of generation %" PRIu64, m.generation);
  ots_buf_close(&start);
  ots_buf_close(&end);
  ots_buf_close(&req);
  ots_buf_close(&resp);
  s_change_t one = {5, false};
  s_expect(s_write(b, 6, false, &m, &one, 1, 31, 3, &m, &err), RV_OK, &err, "incremental on the new generation");
  s_check(b, "after");
  repl_ots_close(&b);
}

/* Every fault of the server's fault file, under incremental writes: each write either
 * succeeds or fails with a clear code, and the remote copy is always the model at its index. */
static void s_faults_scenario(void) {
  repl_ots_t *b = s_open("c-faults", 1500);
  rv_err_t err;
  repl_meta_t m = s_claim(b, 7);
  s_remember(0);
  static const struct {
    const char *faults;
    int want; /* -1: either outcome is fine */
  } steps[] = {
      {"busy 4\n", RV_OK},
      {"partition 3\n", RV_OK},
      {"busy 30%\n", RV_OK},
      {"rowfail 3 0,5,9\n", RV_OK},
      {"rowfail 2 1 OTSServerBusy\n", RV_OK},
      {"conflict 3\n", RV_OK},
      {"delay 300 4\n", RV_OK},
      {"timeout 2 action=BatchWriteRow\n", RV_OK},
      {"drop 2 action=BatchWriteRow\n", RV_OK},
      {"drop 1 action=CommitTransaction\n", -1},
      {"timeout 1 action=CommitTransaction\n", RV_EUNAVAIL},
      {"drop 1 action=UpdateRow\n", -1},
      {"busy 100%\n", RV_EUNAVAIL},
      {"blackhole action=BatchWriteRow\n", RV_ETIMEDOUT},
      {"blackhole\n", RV_ETIMEDOUT},
      {"", RV_OK},
  };
  s_change_t ch[NKEYS];
  uint64_t index = 0;
  for (size_t s = 0; s < sizeof steps / sizeof steps[0]; s++) {
    s_faults(steps[s].faults);
    size_t n = s_mk(ch, s * 37, 250, 3, false);
    n += s_mk(ch + n, s * 37 + 1, 20, 11, true);
    index += 10;
    int64_t t0 = repl_ots_now_ms();
    int rc = s_write(b, 7, false, &m, ch, n, index, (int)s + 1, &m, &err);
    int64_t ms = repl_ots_now_ms() - t0;
    if (steps[s].want >= 0 && rc != steps[s].want)
      s_die("faults \"%s\": got %s (%s), expected %s", steps[s].faults, rv_code_name(rc), rc ? err.msg : "",
            rv_code_name(steps[s].want));
    s_log("faults \"%.*s\": %s in %" PRId64 " ms%s%s", (int)strcspn(steps[s].faults, "\n"), steps[s].faults,
          rv_code_name(rc), ms, rc ? ": " : "", rc ? err.msg : "");
    if (rc != RV_OK) { /* the caller re-reads the meta row and goes on from there */
      s_faults("");
      if (repl_ots_read_meta(b, &m, &err)) s_die("read meta: %s", err.msg);
      /* a write that failed left the model as before it; a commit whose answer was lost but
       * landed is known by its index */
      if (m.synced_index == index) s_die("a write reported failed is visible");
    }
    char label[96];
    snprintf(label, sizeof label, "after \"%.*s\"", (int)strcspn(steps[s].faults, "\n"), steps[s].faults);
    s_check(b, label);
  }
  repl_ots_close(&b);
}

/* Hostile answers (the server's corrupt faults): a wrong MD5, a wrong signature, a damaged
 * PlainBuffer row are clear errors at once (never retried, never trusted), and a write that
 * meets one leaves the remote copy consistent. */
static void s_hostile(void) {
  repl_ots_t *b = s_open("c-hostile", 2000);
  rv_err_t err;
  repl_meta_t m = s_claim(b, 8), mm;
  s_remember(0);
  s_change_t ch[NKEYS];
  size_t n = s_mk(ch, 0, 120, 1, false);
  s_expect(s_write(b, 8, false, &m, ch, n, 10, 1, &m, &err), RV_OK, &err, "write 120");
  static const struct {
    const char *faults, *what, *text;
    int want;
  } reads[] = {
      {"corrupt md5 1 action=GetRow\n", "read meta, wrong MD5", "x-ots-contentmd5", RV_ECORRUPT},
      {"corrupt sig 1 action=GetRow\n", "read meta, wrong signature", "signature", RV_EPERM},
      {"corrupt crc 1 action=GetRow\n", "read meta, damaged row checksum", "checksum", RV_ECORRUPT},
  };
  for (size_t i = 0; i < sizeof reads / sizeof reads[0]; i++) {
    s_faults(reads[i].faults);
    s_expect(repl_ots_read_meta(b, &mm, &err), reads[i].want, &err, reads[i].what);
    if (!strstr(err.msg, reads[i].text) || !strstr(err.msg, "GetRow") || !strstr(err.msg, "tablestore http://"))
      s_die("%s: the message does not name %s, the action and the endpoint", reads[i].what, reads[i].text);
  }
  /* a scan page with a damaged row */
  s_faults("corrupt crc 1 action=GetRange\n");
  uint8_t last[REPL_KEY_MAX];
  size_t llen;
  bool done;
  s_cmp_t c = {.want = s_state_at(10)};
  s_expect(repl_ots_scan(b, &m, NULL, 0, 5000, s_cmp_row, &c, last, &llen, &done, &err), RV_ECORRUPT, &err,
           "scan, damaged row checksum");
  if (c.seen != 0) s_die("rows of a damaged page were handed out");
  /* writes that meet a hostile answer fail (or, for the commit, are settled by the meta row),
   * and the copy stays the model at its index */
  static const char *writes[] = {"corrupt sig 1 action=BatchWriteRow\n", "corrupt md5 1 action=UpdateRow\n",
                                 "corrupt md5 1 action=CommitTransaction\n",
                                 "corrupt sig 1 action=StartLocalTransaction\n"};
  uint64_t index = 10;
  for (size_t i = 0; i < sizeof writes / sizeof writes[0]; i++) {
    s_faults(writes[i]);
    n = s_mk(ch, i * 50, 250, 1, false);
    index += 10;
    int rc = s_write(b, 8, false, &m, ch, n, index, (int)i + 2, &m, &err);
    s_log("write with \"%.*s\": %s%s%s", (int)strcspn(writes[i], "\n"), writes[i], rv_code_name(rc),
          rc ? ": " : "", rc ? err.msg : "");
    s_faults("");
    if (rc && repl_ots_read_meta(b, &m, &err)) s_die("read meta: %s", err.msg);
    s_check(b, "after a hostile answer");
  }
  repl_ots_close(&b);
}

/* Opening: a table created by the backend is used again; a table of another shape is refused
 * naming the difference; a bad configuration is refused naming the field. */
static void s_schema(void) {
  rv_err_t err;
  repl_ots_t *b = s_open("c-schema", 0); /* creates raftvisor_ns */
  /* a table someone else made, with other key columns */
  static const ots_pk_schema_t other[3] = {{"cluster", OTS_PK_STRING, false},
                                           {"gen", OTS_PK_STRING, false},
                                           {"key", OTS_PK_BINARY, false}};
  static const ots_pk_schema_t two[2] = {{"cluster", OTS_PK_STRING, false}, {"k", OTS_PK_BINARY, false}};
  const struct {
    const char *table;
    const ots_pk_schema_t *pk;
    size_t npk;
    int ttl;
    const char *text;
  } tables[] = {
      {"_other_ns", other, 3, -1, "primary key column 2 is 'gen' STRING, expected 'gen' INTEGER"},
      {"two_ns", two, 2, -1, "has 2 primary key columns, expected 3"},
      {"ttl_ns", (const ots_pk_schema_t[]){{"cluster", OTS_PK_STRING, false}, {"gen", OTS_PK_INTEGER, false},
                                           {"key", OTS_PK_BINARY, false}}, 3, 86400,
       "time_to_live is 86400 s"},
  };
  for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++) {
    ots_table_spec_t spec = {.table = tables[i].table, .pk = tables[i].pk, .npk = tables[i].npk,
                             .time_to_live = tables[i].ttl, .max_versions = 1};
    ots_buf_t req, resp;
    ots_buf_init(&req);
    ots_buf_init(&resp);
    if (ots_wire_create_table(&req, &spec, &err) ||
        repl_ots_call(b, "CreateTable", OTS_OP_IDEMPOTENT, &req, &resp, NULL, &err))
      s_die("create %s: %s", tables[i].table, err.msg);
    ots_buf_close(&req);
    ots_buf_close(&resp);
    repl_backend_cfg_t cfg = s_cfg("c-schema", 0);
    cfg.table = tables[i].table;
    repl_ots_t *x = repl_ots_open(&cfg, &err);
    if (x) s_die("table %s was accepted", tables[i].table);
    s_expect(err.code, RV_EINVAL, &err, tables[i].table);
    if (!strstr(err.msg, tables[i].text) || !strstr(err.msg, tables[i].table) || !strstr(err.msg, "tablestore http://"))
      s_die("%s: the message does not say \"%s\"", tables[i].table, tables[i].text);
  }
  /* bad configurations, named; the secret never appears in a message */
  const struct {
    const char *field, *value, *text;
  } bad[] = {
      {"endpoint", "ftp://127.0.0.1:1", "ots.endpoint \"ftp://"},
      {"cluster", "", "cluster id"},
      {"table", "9table", "ots table \"9table\""},
      {"table", "ns-1", "ots table \"ns-1\""},
      {"instance", "", "ots.instance is empty"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    repl_backend_cfg_t cfg = s_cfg("c-schema", 0);
    if (strcmp(bad[i].field, "endpoint") == 0) cfg.endpoint = bad[i].value;
    if (strcmp(bad[i].field, "cluster") == 0) cfg.cluster_id = bad[i].value;
    if (strcmp(bad[i].field, "table") == 0) cfg.table = bad[i].value;
    if (strcmp(bad[i].field, "instance") == 0) cfg.instance = bad[i].value;
    repl_ots_t *x = repl_ots_open(&cfg, &err);
    if (x) s_die("a bad %s was accepted", bad[i].field);
    s_expect(err.code, RV_EINVAL, &err, bad[i].field);
    if (!strstr(err.msg, bad[i].text)) s_die("bad %s: the message does not say %s", bad[i].field, bad[i].text);
  }
  /* a wrong secret: the server refuses us, and the message names neither secret */
  repl_backend_cfg_t cfg = s_cfg("c-schema", 0);
  cfg.access_key_secret = "wrong-secret-value";
  repl_ots_t *x = repl_ots_open(&cfg, &err);
  if (x) s_die("a wrong secret was accepted");
  s_expect(err.code, RV_EPERM, &err, "wrong secret");
  if (strstr(err.msg, "wrong-secret-value") || strstr(err.msg, s_secret)) s_die("a secret is in the message");
  repl_ots_close(&b);
}

/* ---- digest: the remote copy's namespace digest, as `fs -digest` computes it ---- */

typedef struct {
  uint64_t h, rows;
} s_digest_t;

static int s_digest_row(void *arg, const repl_row_t *r) {
  s_digest_t *d = arg;
  uint8_t len[4];
  kv_be32_put(len, (uint32_t)r->klen);
  d->h = kv_fnv64(d->h, len, sizeof len);
  d->h = kv_fnv64(d->h, r->key, r->klen);
  kv_be32_put(len, (uint32_t)r->vlen);
  d->h = kv_fnv64(d->h, len, sizeof len);
  d->h = kv_fnv64(d->h, r->val, r->vlen);
  d->rows++;
  return 0;
}

/* Prints "DIGEST SYNCED_INDEX GENERATION ROWS TERM" of the cluster's remote copy through
 * repl_backend.h, or "none" when nothing was uploaded. The digest is kv_check.c's namespace
 * digest (FNV-1a over be32 length + key, be32 length + value, in key order), so it equals the
 * `fs -digest` of a replica at that index. */
static void s_digest(const char *cluster) {
  repl_backend_cfg_t cfg = s_cfg(cluster, 5000);
  rv_err_t err;
  repl_backend_t *b = repl_backend_open(&cfg, &err);
  if (!b) s_die("open: %s", err.msg);
  for (int attempt = 0;; attempt++) {
    repl_meta_t m;
    int rc = repl_backend_read_meta(b, &m, &err);
    if (rc == RV_ENOTFOUND) {
      printf("none\n");
      break;
    }
    if (rc) s_die("read meta: %s", err.msg);
    s_digest_t d = {.h = KV_FNV64_INIT};
    uint8_t last[REPL_KEY_MAX], after[REPL_KEY_MAX];
    size_t llen = 0;
    bool done = false;
    while (!rc && !done) {
      memcpy(after, last, llen);
      rc = repl_backend_scan(b, &m, after, llen, 5000, s_digest_row, &d, last, &llen, &done, &err);
    }
    if (rc == RV_ESTALE && attempt < 20) continue; /* an upload landed meanwhile: again */
    if (rc) s_die("scan: %s", err.msg);
    printf("%016" PRIx64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 "\n", d.h, m.synced_index,
           m.generation, d.rows, m.term);
    break;
  }
  repl_backend_close(&b);
}

int main(int argc, char **argv) {
  if (argc == 3 && strcmp(argv[1], "digest") == 0) {
    s_scenario = "digest";
    s_digest(argv[2]);
    return 0;
  }
  if (argc != 2) {
    fprintf(stderr, "usage: rv-repl-ots-drive roundtrip|fence|stale|midway|base|faults|hostile|schema\n"
                    "       rv-repl-ots-drive digest CLUSTER\n");
    return 2;
  }
  s_scenario = argv[1];
  if (strcmp(argv[1], "roundtrip") == 0) s_roundtrip();
  else if (strcmp(argv[1], "fence") == 0) s_fence();
  else if (strcmp(argv[1], "stale") == 0) s_stale();
  else if (strcmp(argv[1], "epoch") == 0) s_epoch();
  else if (strcmp(argv[1], "midway") == 0) s_midway();
  else if (strcmp(argv[1], "base") == 0) s_base();
  else if (strcmp(argv[1], "faults") == 0) s_faults_scenario();
  else if (strcmp(argv[1], "hostile") == 0) s_hostile();
  else if (strcmp(argv[1], "schema") == 0) s_schema();
  else s_die("unknown scenario");
  s_log("PASS");
  return 0;
}
