/* Unit tests of kv_core (the apply pipeline): opening and formatting, configuration checks,
 * exactly-once by log index, undecodable entries, storage failures (injected) that must leave
 * the core at its last written state, grouped applies (kv_core_apply_batch) that must be
 * indistinguishable from one-by-one applies, restarts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kv_testutil.h"

static void test_config_checked(void **state) {
  kv_memstore_t *ms = kv_memstore_new();
  kv_core_config_t cfg;
  kv_core_t *c;
  rv_err_t err;
  kv_core_config_default(&cfg);
  cfg.inline_max = KV_DATA_MAX + 1;
  assert_int_equal(kv_core_new(kv_memstore_store(ms), &cfg, &c, &err), RV_EINVAL);
  assert_non_null(strstr(err.msg, "inline_max"));
  kv_core_config_default(&cfg);
  cfg.session_max = 0;
  assert_int_equal(kv_core_new(kv_memstore_store(ms), &cfg, &c, &err), RV_EINVAL);
  assert_non_null(strstr(err.msg, "session_max"));
  kv_core_config_default(&cfg);
  cfg.session_ttl_ms = -1;
  assert_int_equal(kv_core_new(kv_memstore_store(ms), &cfg, &c, &err), RV_EINVAL);
  cfg.session_ttl_ms = KV_SESSION_TTL_MAX + 1;
  assert_int_equal(kv_core_new(kv_memstore_store(ms), &cfg, &c, &err), RV_EINVAL);
  kv_core_config_default(&cfg);
  cfg.rm_max_entries = 0;
  assert_int_equal(kv_core_new(kv_memstore_store(ms), &cfg, &c, &err), RV_EINVAL);
  kv_core_config_default(&cfg);
  cfg.root_perm = 010000;
  assert_int_equal(kv_core_new(kv_memstore_store(ms), &cfg, &c, &err), RV_EINVAL);
  kv_core_config_default(&cfg);
  cfg.root_owner[0] = '\0';
  assert_int_equal(kv_core_new(kv_memstore_store(ms), &cfg, &c, &err), RV_EINVAL);
  assert_null(c);
  assert_int_equal(kv_memstore_count(ms), 0); /* nothing written on a refused config */
  /* NULL config means defaults */
  assert_int_equal(kv_core_new(kv_memstore_store(ms), NULL, &c, &err), RV_OK);
  kv_core_destroy(&c);
  assert_null(c);
  kv_core_destroy(&c);
  kv_memstore_destroy(&ms);
}

static void test_format_and_reopen(void **state) {
  kv_t_env_t *e = kv_t_env_new(NULL);
  assert_int_equal(kv_core_applied(e->core), 0);
  assert_int_equal(kv_memstore_count(e->ms), 3);  /* root attr, format, state */
  assert_int_equal(kv_memstore_writes(e->ms), 1); /* formatted in one write */
  assert_int_equal(kv_t_mkdir(e, "/a", 0), RV_OK);
  assert_int_equal(kv_t_put(e, "/a/f", "x", 0), RV_OK);
  uint64_t d = kv_t_digest(e, KV_DIGEST_ALL);
  kv_t_env_reopen(e);
  assert_int_equal(kv_core_applied(e->core), 2);
  assert_true(kv_t_digest(e, KV_DIGEST_ALL) == d);
  /* inode numbers continue after a restart */
  assert_int_equal(kv_t_mkdir(e, "/b", 0), RV_OK);
  assert_int_equal(e->res.inode, 4);
  assert_int_equal(kv_t_check(e), RV_OK);
  kv_t_env_destroy(&e);
}

static void test_foreign_or_newer_store_refused(void **state) {
  kv_memstore_t *ms = kv_memstore_new();
  kv_batch_t *b = kv_batch_new();
  kv_batch_put(b, "zzz", 3, "1", 1);
  rv_err_t err;
  assert_int_equal(kv_store_write(kv_memstore_store(ms), b, &err), RV_OK);
  kv_core_t *c;
  assert_int_equal(kv_core_new(kv_memstore_store(ms), NULL, &c, &err), RV_ECORRUPT);
  assert_non_null(strstr(err.msg, "not a raftvisor namespace"));
  kv_memstore_destroy(&ms);

  ms = kv_memstore_new();
  assert_int_equal(kv_core_new(kv_memstore_store(ms), NULL, &c, &err), RV_OK);
  kv_core_destroy(&c);
  uint8_t key[32], val[8];
  size_t kl = kv_key_meta(key, KV_META_FORMAT);
  kv_be64_put(val, 2);
  kv_batch_clear(b);
  kv_batch_put(b, key, kl, val, 8);
  assert_int_equal(kv_store_write(kv_memstore_store(ms), b, &err), RV_OK);
  /* a newer format (a downgrade) is refused naming both versions, as a configuration error */
  assert_int_equal(kv_core_new(kv_memstore_store(ms), NULL, &c, &err), RV_ECONFIG);
  assert_non_null(strstr(err.msg, "namespace store: format 2 is newer than this build's (format 1)"));
  assert_non_null(strstr(err.msg, "a downgrade is not supported"));
  /* an older one (0: before the first) is refused: no conversion is known */
  kv_be64_put(val, 0);
  kv_batch_clear(b);
  kv_batch_put(b, key, kl, val, 8);
  assert_int_equal(kv_store_write(kv_memstore_store(ms), b, &err), RV_OK);
  assert_int_equal(kv_core_new(kv_memstore_store(ms), NULL, &c, &err), RV_ECONFIG);
  assert_non_null(strstr(err.msg, "format 0 is older than this build's (format 1)"));
  /* a missing or malformed state key */
  kv_be64_put(val, 1);
  kv_batch_clear(b);
  kv_batch_put(b, key, kl, val, 8);
  kl = kv_key_meta(key, KV_META_STATE);
  kv_batch_del(b, key, kl);
  assert_int_equal(kv_store_write(kv_memstore_store(ms), b, &err), RV_OK);
  assert_int_equal(kv_core_new(kv_memstore_store(ms), NULL, &c, &err), RV_ECORRUPT);
  assert_non_null(strstr(err.msg, "state key (applied index, next inode) is missing"));
  kv_batch_clear(b);
  kv_batch_put(b, key, kl, val, 8);
  assert_int_equal(kv_store_write(kv_memstore_store(ms), b, &err), RV_OK);
  assert_int_equal(kv_core_new(kv_memstore_store(ms), NULL, &c, &err), RV_ECORRUPT);
  assert_non_null(strstr(err.msg, "state key is malformed"));
  kv_batch_destroy(&b);
  kv_memstore_destroy(&ms);
}

static void test_same_index_twice_skipped(void **state) {
  kv_t_env_t *e = kv_t_env_new(NULL);
  kv_cmd_t c;
  kv_t_cmd(&c, KV_OP_MKDIR, "/a");
  kv_t_encode(&c, &e->enc);
  kv_result_t r;
  rv_err_t err;
  assert_int_equal(kv_core_apply(e->core, 1, e->enc.data, e->enc.len, &r, &err), RV_OK);
  assert_int_equal(r.code, RV_OK);
  assert_false(r.skipped);
  assert_int_equal(r.index, 1);
  uint64_t d = kv_t_digest(e, KV_DIGEST_ALL);
  uint64_t writes = kv_memstore_writes(e->ms);
  /* the same entry again (a replay after a restart): nothing happens, nothing is written */
  assert_int_equal(kv_core_apply(e->core, 1, e->enc.data, e->enc.len, &r, &err), RV_OK);
  assert_true(r.skipped);
  assert_int_equal(r.code, RV_ESTALE); /* no session: the result is not kept */
  assert_non_null(strstr(r.msg, "log index 1 was applied before"));
  assert_true(kv_t_digest(e, KV_DIGEST_ALL) == d);
  assert_int_equal(kv_memstore_writes(e->ms), writes);
  /* indexes may skip ahead (non-command Raft entries) but an old one never applies */
  assert_int_equal(kv_core_apply(e->core, 10, e->enc.data, e->enc.len, &r, &err), RV_OK);
  assert_int_equal(r.code, RV_EEXIST); /* applied: /a exists */
  assert_int_equal(kv_core_applied(e->core), 10);
  kv_t_cmd(&c, KV_OP_MKDIR, "/b");
  kv_t_encode(&c, &e->enc);
  assert_int_equal(kv_core_apply(e->core, 7, e->enc.data, e->enc.len, &r, &err), RV_OK);
  assert_true(r.skipped);
  kv_stat_t st;
  assert_int_equal(kv_t_stat(e, "/b", &st), RV_ENOTFOUND);
  /* index 0 is a caller bug */
  assert_int_equal(kv_core_apply(e->core, 0, e->enc.data, e->enc.len, &r, &err), RV_EINVAL);
  assert_int_equal(kv_core_applied(e->core), 10);
  kv_t_env_destroy(&e);
}

/* Raft's own entries (a new leader's empty entry, configuration changes) carry no command:
 * they move the applied index, durably with the batch, and change nothing else. Without this,
 * `status` showed applied below commit forever on an idle cluster, and a restarted kv-store
 * asked for entries Raft may have compacted. */
static void test_raft_only_entries_advance_the_applied_index(void **state) {
  kv_t_env_t *e = kv_t_env_new(NULL);
  assert_int_equal(kv_t_mkdir(e, "/a", 0), RV_OK);
  uint64_t ns = kv_t_digest(e, KV_DIGEST_NAMESPACE);
  uint64_t at = kv_core_applied(e->core);
  kv_entry_t ents[2] = {{.index = at + 1, .raft_only = true},
                        {.index = at + 2, .raft_only = true}};
  kv_result_t res[2];
  rv_err_t err;
  assert_int_equal(kv_core_apply_batch(e->core, ents, 2, res, &err), RV_OK);
  assert_int_equal(kv_core_applied(e->core), at + 2);
  assert_true(res[0].skipped && res[1].skipped);
  assert_int_equal(res[1].code, RV_OK);
  assert_true(kv_t_digest(e, KV_DIGEST_NAMESPACE) == ns);
  kv_t_env_reopen(e);
  assert_int_equal(kv_core_applied(e->core), at + 2); /* durable */
  /* seen again (a restart's ApplyFrom), they are skipped */
  assert_int_equal(kv_core_apply_batch(e->core, ents, 1, res, &err), RV_OK);
  assert_int_equal(kv_core_applied(e->core), at + 2);
  /* commands continue after them */
  e->index = kv_core_applied(e->core);
  assert_int_equal(kv_t_mkdir(e, "/b", 0), RV_OK);
  assert_int_equal(kv_core_applied(e->core), at + 3);
  kv_t_env_destroy(&e);
}

static void test_undecodable_entry_advances_index(void **state) {
  kv_t_env_t *e = kv_t_env_new(NULL);
  uint64_t ns = kv_t_digest(e, KV_DIGEST_NAMESPACE);
  const uint8_t garbage[] = {1, 99, 0, 0};
  assert_int_equal(kv_t_apply_raw(e, garbage, sizeof garbage), RV_EDECODE);
  assert_non_null(strstr(e->res.msg, "log index 1: command: unknown op 99"));
  assert_int_equal(e->res.op, 0);
  assert_int_equal(kv_core_applied(e->core), 1);
  assert_true(kv_t_digest(e, KV_DIGEST_NAMESPACE) == ns);
  assert_int_equal(kv_t_apply_raw(e, NULL, 0), RV_EDECODE);
  assert_int_equal(kv_core_applied(e->core), 2);
  /* replayed, it answers the same way (every replica decodes the same bytes) */
  kv_result_t r;
  rv_err_t err;
  assert_int_equal(kv_core_apply(e->core, 1, garbage, sizeof garbage, &r, &err), RV_OK);
  assert_true(r.skipped);
  assert_int_equal(r.code, RV_EDECODE);
  kv_t_env_destroy(&e);
}

static void test_storage_failure_leaves_last_written_state(void **state) {
  kv_t_env_t *e = kv_t_env_new(NULL);
  assert_int_equal(kv_t_mkdir(e, "/a", 0), RV_OK);
  uint64_t d = kv_t_digest(e, KV_DIGEST_ALL);
  kv_memstore_fail_after(e->ms, 0, RV_EIO);
  kv_cmd_t c;
  kv_t_cmd(&c, KV_OP_MKDIR, "/b");
  kv_t_encode(&c, &e->enc);
  kv_result_t r;
  rv_err_t err;
  assert_int_equal(kv_core_apply(e->core, 2, e->enc.data, e->enc.len, &r, &err), RV_EIO);
  assert_non_null(strstr(err.msg, "kv apply: writing index 2: memstore write: injected fault"));
  assert_int_equal(kv_core_applied(e->core), 1);
  assert_true(kv_t_digest(e, KV_DIGEST_ALL) == d);
  /* the fault clears; the same entry applies, with the inode it would have had */
  kv_memstore_fail_after(e->ms, -1, 0);
  assert_int_equal(kv_core_apply(e->core, 2, e->enc.data, e->enc.len, &r, &err), RV_OK);
  assert_int_equal(r.code, RV_OK);
  assert_int_equal(r.inode, 3);
  assert_int_equal(kv_t_check(e), RV_OK);
  /* a reopened core on the failed state agrees too */
  kv_t_env_reopen(e);
  assert_int_equal(kv_core_applied(e->core), 2);
  kv_t_env_destroy(&e);
}

/* Appends command c (with session and time) to the script. */
static void s_add(kv_buf_t *bufs, kv_entry_t *entries, size_t *n, kv_cmd_t *c, uint64_t client,
                  uint64_t seq, uint64_t first_index) {
  c->client_id = client;
  c->seq = seq;
  c->time_ms = 1000 + (int64_t)*n;
  kv_buf_init(&bufs[*n]);
  kv_t_encode(c, &bufs[*n]);
  entries[*n] = (kv_entry_t){first_index + *n * 2, bufs[*n].data, bufs[*n].len, false};
  (*n)++;
}

/* A mixed sequence, with failures, rm -r of things made earlier in the same group, sessions,
 * and indexes with gaps. */
static size_t s_script(kv_buf_t *bufs, kv_entry_t *entries, uint64_t first) {
  size_t n = 0;
  kv_cmd_t c;
  kv_t_cmd(&c, KV_OP_MKDIR, "/a/b/c");
  c.flags = KV_F_PARENTS;
  s_add(bufs, entries, &n, &c, 1, 1, first);
  kv_t_cmd(&c, KV_OP_PUT, "/a/b/c/f");
  c.data = (kv_bytes_t){(const uint8_t *)"abc", 3};
  s_add(bufs, entries, &n, &c, 2, 1, first);
  kv_t_cmd(&c, KV_OP_PUT, "/a/b/c/f"); /* fails: exists */
  s_add(bufs, entries, &n, &c, 2, 2, first);
  kv_t_cmd(&c, KV_OP_PUT, "/a/b/c/f"); /* retry of seq 2: the recorded failure */
  s_add(bufs, entries, &n, &c, 2, 2, first);
  kv_t_cmd(&c, KV_OP_MV, "/a/b");
  c.path2 = (kv_bytes_t){(const uint8_t *)"/m", 2};
  s_add(bufs, entries, &n, &c, 0, 0, first);
  kv_t_cmd(&c, KV_OP_RM, "/m"); /* fails: not empty */
  s_add(bufs, entries, &n, &c, 1, 2, first);
  kv_t_cmd(&c, KV_OP_TOUCHZ, "/m/c/t");
  s_add(bufs, entries, &n, &c, 3, 1, first);
  kv_t_cmd(&c, KV_OP_RM, "/m"); /* rm -r of what this group made */
  c.flags = KV_F_RECURSIVE;
  s_add(bufs, entries, &n, &c, 1, 3, first);
  kv_t_cmd(&c, KV_OP_PUT, "/z/y");
  c.flags = KV_F_PARENTS;
  c.data = (kv_bytes_t){(const uint8_t *)"12345", 5};
  s_add(bufs, entries, &n, &c, 1, 4, first);
  const uint8_t junk[] = {1, 2, 3};
  kv_buf_init(&bufs[n]);
  kv_buf_put(&bufs[n], junk, sizeof junk);
  entries[n] = (kv_entry_t){first + n * 2, bufs[n].data, bufs[n].len, false};
  n++;
  kv_t_cmd(&c, KV_OP_SETATTR, "/z");
  c.set_mask = KV_SET_PERM;
  c.perm = 0700;
  s_add(bufs, entries, &n, &c, 3, 2, first);
  return n;
}

/* A fresh core that applied entries[0..n) in one batch: the reference the grouped and split
 * applies are compared with; its outcomes in want. */
static kv_t_env_t *s_reference(const kv_entry_t *entries, size_t n, kv_result_t *want) {
  rv_err_t err;
  kv_t_env_t *ref = kv_t_env_new(NULL);
  assert_int_equal(kv_core_apply_batch(ref->core, entries, n, want, &err), RV_OK);
  return ref;
}

static void test_batch_equals_one_by_one(void **state) {
  kv_buf_t bufs[16];
  kv_entry_t entries[16];
  size_t n = s_script(bufs, entries, 3);
  kv_result_t r1[16], r2[16], r3[16];
  rv_err_t err;

  kv_t_env_t *one = kv_t_env_new(NULL);
  for (size_t i = 0; i < n; i++)
    assert_int_equal(
        kv_core_apply(one->core, entries[i].index, entries[i].data, entries[i].len, &r1[i], &err),
        RV_OK);
  kv_t_env_t *all = s_reference(entries, n, r2);
  kv_t_env_t *pairs = kv_t_env_new(NULL);
  for (size_t i = 0; i < n; i += 2)
    assert_int_equal(
        kv_core_apply_batch(pairs->core, entries + i, n - i < 2 ? n - i : 2, r3 + i, &err), RV_OK);

  assert_true(kv_t_digest(one, KV_DIGEST_ALL) == kv_t_digest(all, KV_DIGEST_ALL));
  assert_true(kv_t_digest(one, KV_DIGEST_ALL) == kv_t_digest(pairs, KV_DIGEST_ALL));
  for (size_t i = 0; i < n; i++) {
    assert_memory_equal(&r1[i], &r2[i], sizeof r1[i]);
    assert_memory_equal(&r1[i], &r3[i], sizeof r1[i]);
  }
  /* the expected outcomes */
  int want[] = {RV_OK, RV_OK, RV_EEXIST, RV_EEXIST,  RV_OK, RV_ENOTEMPTY,
                RV_OK, RV_OK, RV_OK,     RV_EDECODE, RV_OK};
  assert_int_equal(n, sizeof want / sizeof want[0]);
  for (size_t i = 0; i < n; i++) {
    if (r1[i].code != want[i])
      fail_msg("entry %zu: %s (%s)", i, rv_code_name(r1[i].code), r1[i].msg);
  }
  assert_true(r1[3].skipped);
  assert_int_equal(r1[3].index, entries[2].index); /* the first apply's outcome */
  assert_int_equal(r1[7].n, 4);                    /* /m, /m/c, /m/c/f, /m/c/t */
  assert_int_equal(kv_core_applied(all->core), entries[n - 1].index);
  kv_count_t ct;
  assert_int_equal(kv_t_count(all, "/", &ct), RV_OK);
  assert_true(ct.dirs == 3 && ct.files == 1 && ct.bytes == 5);
  assert_int_equal(kv_t_check(one), RV_OK);
  assert_int_equal(kv_t_check(all), RV_OK);
  /* the whole group replayed: all skipped, nothing changes */
  uint64_t d = kv_t_digest(all, KV_DIGEST_ALL);
  assert_int_equal(kv_core_apply_batch(all->core, entries, n, r2, &err), RV_OK);
  for (size_t i = 0; i < n; i++) assert_true(r2[i].skipped);
  assert_true(kv_t_digest(all, KV_DIGEST_ALL) == d);
  for (size_t i = 0; i < n; i++) kv_buf_close(&bufs[i]);
  kv_t_env_destroy(&one);
  kv_t_env_destroy(&all);
  kv_t_env_destroy(&pairs);
}

/* A grouped apply that fails in its write: retried, it ends where one-by-one ends. */
static void test_batch_failure_then_retry(void **state) {
  kv_buf_t bufs[16];
  kv_entry_t entries[16];
  size_t n = s_script(bufs, entries, 1);
  kv_result_t r[16];
  rv_err_t err;
  kv_t_env_t *ref = s_reference(entries, n, r);
  for (long allow = 0; allow < 4; allow++) {
    kv_t_env_t *e = kv_t_env_new(NULL);
    kv_memstore_fail_after(e->ms, allow, RV_EIO);
    int rc = kv_core_apply_batch(e->core, entries, n, r, &err);
    /* The group is written in 3 parts: entry 0; entries 1-6 (entry 1 is the first with a
     * session to check for expiry, which scans); entries 7-10 (7 is an rm -r, which scans). */
    assert_int_equal(rc, allow < 3 ? RV_EIO : RV_OK);
    uint64_t applied = kv_core_applied(e->core);
    kv_t_env_reopen(e); /* what the store holds agrees with what the core said */
    assert_int_equal(kv_core_applied(e->core), applied);
    assert_int_equal(kv_t_check(e), RV_OK);
    kv_memstore_fail_after(e->ms, -1, 0);
    assert_int_equal(kv_core_apply_batch(e->core, entries, n, r, &err), RV_OK);
    assert_true(kv_t_digest(e, KV_DIGEST_ALL) == kv_t_digest(ref, KV_DIGEST_ALL));
    kv_t_env_destroy(&e);
  }
  /* indexes must increase within a batch */
  kv_t_env_t *e = kv_t_env_new(NULL);
  kv_entry_t bad[2] = {entries[1], entries[0]};
  assert_int_equal(kv_core_apply_batch(e->core, bad, 2, r, &err), RV_EINVAL);
  assert_int_equal(kv_core_applied(e->core), 0);
  kv_t_env_destroy(&e);
  for (size_t i = 0; i < n; i++) kv_buf_close(&bufs[i]);
  kv_t_env_destroy(&ref);
}

/* The two-step apply (the shell answers clients between the steps): the outcomes are known
 * before the last write, equal those of a whole apply, and a failed write leaves the core where
 * it was; the entries then apply again with the very same outcomes (what a client was told). */
static void test_outcomes_before_the_write(void **state) {
  kv_buf_t bufs[16];
  kv_entry_t entries[16];
  size_t n = s_script(bufs, entries, 1);
  kv_result_t want[16], r[16], again[16];
  rv_err_t err;
  kv_t_env_t *ref = s_reference(entries, n, want);
  kv_t_env_t *e = kv_t_env_new(NULL);
  /* the script's last write (entries 7-10) is its third: the first two succeed */
  kv_memstore_fail_after(e->ms, 2, RV_EIO);
  assert_int_equal(kv_core_apply_batch_unwritten(e->core, entries, n, r, &err), RV_OK);
  for (size_t i = 0; i < n; i++) assert_memory_equal(&r[i], &want[i], sizeof r[i]);
  uint64_t writes = kv_memstore_writes(e->ms);
  assert_int_equal(kv_core_write_applied(e->core, &err), RV_EIO);
  assert_int_equal(kv_memstore_writes(e->ms), writes);
  uint64_t applied = kv_core_applied(e->core);
  assert_int_equal(applied, entries[6].index); /* the scans wrote what was before them */
  kv_t_env_reopen(e);
  assert_int_equal(kv_core_applied(e->core), applied);
  assert_int_equal(kv_t_check(e), RV_OK);
  kv_memstore_fail_after(e->ms, -1, 0);
  assert_int_equal(kv_core_apply_batch_unwritten(e->core, entries, n, again, &err), RV_OK);
  assert_int_equal(kv_core_write_applied(e->core, &err), RV_OK);
  for (size_t i = 7; i < n; i++) assert_memory_equal(&again[i], &want[i], sizeof again[i]);
  assert_int_equal(kv_core_applied(e->core), entries[n - 1].index);
  assert_true(kv_t_digest(e, KV_DIGEST_ALL) == kv_t_digest(ref, KV_DIGEST_ALL));
  /* nothing pending: the write is a no-op */
  assert_int_equal(kv_core_write_applied(e->core, &err), RV_OK);
  assert_int_equal(kv_memstore_writes(e->ms), writes + 1);
  kv_t_env_destroy(&e);
  for (size_t i = 0; i < n; i++) kv_buf_close(&bufs[i]);
  kv_t_env_destroy(&ref);
}

static void test_mtime_is_the_commands_time(void **state) {
  kv_t_env_t *e = kv_t_env_new(NULL);
  e->now = 9000;
  assert_int_equal(kv_t_mkdir(e, "/a", 0), RV_OK);
  e->now = 100; /* a new leader whose clock is behind: its time is still what gets stamped */
  assert_int_equal(kv_t_mkdir(e, "/b", 0), RV_OK);
  kv_stat_t st;
  assert_int_equal(kv_t_stat(e, "/b", &st), RV_OK);
  assert_true(st.attr.mtime_ms == 100);
  kv_t_env_destroy(&e);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_config_checked),
      cmocka_unit_test(test_format_and_reopen),
      cmocka_unit_test(test_foreign_or_newer_store_refused),
      cmocka_unit_test(test_same_index_twice_skipped),
      cmocka_unit_test(test_undecodable_entry_advances_index),
      cmocka_unit_test(test_raft_only_entries_advance_the_applied_index),
      cmocka_unit_test(test_storage_failure_leaves_last_written_state),
      cmocka_unit_test(test_batch_equals_one_by_one),
      cmocka_unit_test(test_batch_failure_then_retry),
      cmocka_unit_test(test_outcomes_before_the_write),
      cmocka_unit_test(test_mtime_is_the_commands_time),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
