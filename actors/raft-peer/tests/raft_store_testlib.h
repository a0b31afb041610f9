/* Helpers shared by the raft_store test programs (test_raft_store*.c): temporary directories,
 * saves of generated entries, and byte surgery on segment files. Failures assert (cmocka). */
#ifndef RAFT_STORE_TESTLIB_H
#define RAFT_STORE_TESTLIB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "raft_store.h"

#define RST_SEG (64u << 10) /* the small segments the tests use, to roll over often */

/* A fresh directory under /tmp (path into buf) / removes it and everything in it. */
void rst_dir_new(char *buf, size_t len);
void rst_dir_remove(const char *dir);

/* Options with RST_SEG segments (and no fault hook). */
raft_store_options_t rst_opts(void);

/* Opens dir for cluster "c1", node 1, with RST_SEG segments; asserts success. */
raft_store_t *rst_open(const char *dir);

/* The data of entry (index, term), len bytes: a pure function, so a check needs no copy. */
void rst_data(raft_index_t index, raft_term_t term, size_t len, uint8_t *out);

/* Saves n entries from first, each len bytes of rst_data, with hard state {term, vote 1,
 * commit}, synced when sync. Returns the code of raft_store_save. */
int rst_save(raft_store_t *s, raft_index_t first, size_t n, raft_term_t term, size_t len,
             raft_index_t commit, bool sync);

/* Asserts that st holds entries [from, to] of term term and len bytes each (rst_data). */
void rst_check_entries(const raft_storage_state_t *st, raft_index_t from, raft_index_t to,
                       raft_term_t term, size_t len);

/* <dir>/seg-<seq>.log into buf. */
void rst_seg_path(const char *dir, uint64_t seq, char *buf, size_t len);
/* Reads / writes a whole file (malloc'd; *len set). */
uint8_t *rst_read_file(const char *path, size_t *len);
void rst_write_file(const char *path, const uint8_t *data, size_t len);
/* XORs the byte at off of path with x. */
void rst_flip(const char *path, uint64_t off, uint8_t x);
/* Files in dir whose names start with prefix. */
int rst_count(const char *dir, const char *prefix);

#endif
