/* kv_glob: Hadoop's GlobPattern syntax, matched against one path component (an entry name).
 * Pure (libc only): the kv-store filters an ls page with it (so a glob over a large directory
 * does not ship the directory), and the CLI links the same file to expand globs and for
 * -find -name / -iname, so both sides agree on what matches.
 *
 * Syntax (org.apache.hadoop.fs.GlobPattern):
 *   *        any run of characters (within one component: '/' never occurs in a name)
 *   ?        one character
 *   [abc]    one of a, b, c; [a-z] a range; [^a] or [!a] anything but a
 *   {ab,c}   ab or c; groups nest ({a,b{c,d}}); ',' outside a group is itself
 *   \c       c itself (also inside [...])
 * Characters are bytes (a UTF-8 name matches byte by byte; '?' matches one byte). Unlike a
 * shell, '*' matches names that start with '.', as Hadoop's does.
 *
 * Errors, as GlobPattern words them: "Missing escaped character", "Unclosed character class",
 * "Unclosed group", each followed by " near index N" where N is the pattern's length (where
 * GlobPattern finds out). */
#ifndef KV_GLOB_H
#define KV_GLOB_H

#include <stdbool.h>
#include <stddef.h>

#define KV_GLOB_MAX 1024 /* bytes of one pattern at most */

/* Checks pat[0..len): returns 0, or -1 with Hadoop's message in why[0..cap). */
int kv_glob_check(const char *pat, size_t len, char *why, size_t cap);

/* True when pat has an unescaped *, ?, [ or { (Hadoop's "has wildcard"): a component without
 * one names one entry, found by a lookup instead of a listing. */
bool kv_glob_magic(const char *pat, size_t len);

/* True when name[0..nlen) matches the checked pattern pat[0..plen) (fold: ASCII letters
 * compare case-insensitively, for -iname). A pattern that fails kv_glob_check matches
 * nothing. */
bool kv_glob_match(const char *pat, size_t plen, const char *name, size_t nlen, bool fold);

/* The literal prefix every match starts with (escapes removed), up to the first wildcard or
 * group: "ab\*c*" -> "ab*c". Written to out[0..cap) (truncated to cap); returns its length.
 * The kv-store starts its scan there and stops once names no longer start with it. */
size_t kv_glob_prefix(const char *pat, size_t len, char *out, size_t cap);

/* Removes the escapes of a pattern without wildcards ("a\{b" -> "a{b"), into out[0..cap)
 * (NUL-terminated, truncated); returns the length. */
size_t kv_glob_unescape(const char *pat, size_t len, char *out, size_t cap);

#endif
