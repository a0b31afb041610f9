/* kv_glob: Hadoop's glob patterns over one entry name. Pure. Matching walks the pattern
 * directly (no regex): a group {x,y} is tried alternative by alternative, each followed by the
 * rest of the pattern, which the matcher keeps as a short list of pieces still to match. */
#include "kv_glob.h"

#include <stdio.h>
#include <string.h>

#define S_PIECES 64 /* nesting of groups the matcher follows at most */

static int s_err(char *why, size_t cap, const char *what, size_t at) {
  if (cap) snprintf(why, cap, "%s near index %zu", what, at);
  return -1;
}

int kv_glob_check(const char *p, size_t len, char *why, size_t cap) {
  if (len > KV_GLOB_MAX) {
    if (cap) snprintf(why, cap, "pattern of %zu bytes is longer than %d", len, KV_GLOB_MAX);
    return -1;
  }
  /* as GlobPattern, every error is reported at the index where the pattern ran out */
  size_t curly = 0, depth = 0;
  for (size_t i = 0; i < len; i++) {
    char c = p[i];
    if (c == '\\') {
      if (++i >= len) return s_err(why, cap, "Missing escaped character", len);
    } else if (c == '[') {
      i++;
      if (i < len && (p[i] == '^' || p[i] == '!')) i++;
      for (;; i++) {
        if (i >= len) return s_err(why, cap, "Unclosed character class", len);
        if (p[i] == '\\') {
          if (++i >= len) return s_err(why, cap, "Missing escaped character", len);
        } else if (p[i] == ']') {
          break;
        }
      }
    } else if (c == '{') {
      if (++curly > depth) depth = curly;
    } else if (c == '}' && curly) {
      curly--;
    }
  }
  if (curly) return s_err(why, cap, "Unclosed group", len);
  if (depth >= S_PIECES / 2) {
    if (cap) snprintf(why, cap, "groups nested %zu deep (at most %d)", depth, S_PIECES / 2 - 1);
    return -1;
  }
  return 0;
}

bool kv_glob_magic(const char *p, size_t len) {
  for (size_t i = 0; i < len; i++) {
    if (p[i] == '\\') i++;
    else if (p[i] == '*' || p[i] == '?' || p[i] == '[' || p[i] == '{') return true;
  }
  return false;
}

static unsigned char s_fold(unsigned char c, bool fold) {
  return fold && c >= 'A' && c <= 'Z' ? (unsigned char)(c - 'A' + 'a') : c;
}

/* Does the class starting at p[*i] == '[' hold c? Leaves *i after its ']'. With fold, a
 * letter matches when either of its cases does. */
static bool s_class(const char *p, size_t len, size_t *i, unsigned char c, bool fold) {
  size_t k = *i + 1;
  bool neg = k < len && (p[k] == '^' || p[k] == '!');
  if (neg) k++;
  unsigned char lower = s_fold(c, fold), upper = c;
  if (fold && c >= 'a' && c <= 'z') upper = (unsigned char)(c - 'a' + 'A');
  bool hit = false;
  while (k < len && p[k] != ']') {
    unsigned char lo = (unsigned char)(p[k] == '\\' ? p[++k] : p[k]);
    k++;
    unsigned char hi = lo;
    if (k + 1 < len && p[k] == '-' && p[k + 1] != ']') {
      k++;
      hi = (unsigned char)(p[k] == '\\' ? p[++k] : p[k]);
      k++;
    }
    if ((c >= lo && c <= hi) || (lower >= lo && lower <= hi) || (upper >= lo && upper <= hi))
      hit = true;
  }
  *i = k + 1;
  return hit != neg;
}

/* The end of the group whose '{' is at p[at]: the index of its '}'. */
static size_t s_group_end(const char *p, size_t len, size_t at) {
  size_t depth = 0;
  for (size_t i = at; i < len; i++) {
    if (p[i] == '\\') i++;
    else if (p[i] == '[') {
      i++;
      if (i < len && (p[i] == '^' || p[i] == '!')) i++;
      while (i < len && p[i] != ']') i += p[i] == '\\' ? 2 : 1;
    } else if (p[i] == '{') depth++;
    else if (p[i] == '}' && --depth == 0) return i;
  }
  return len;
}

typedef struct {
  const char *p;
  size_t len;
} s_piece_t;

/* Matches name against pieces[0..n) in order. */
static bool s_match(s_piece_t *pieces, size_t n, const char *name, size_t nlen, bool fold) {
  if (n == 0) return nlen == 0;
  const char *p = pieces[0].p;
  size_t len = pieces[0].len, i = 0, j = 0;
  while (i < len) {
    char c = p[i];
    if (c == '*') {
      while (i < len && p[i] == '*') i++;
      s_piece_t rest[S_PIECES];
      memcpy(rest, pieces, n * sizeof *pieces);
      rest[0] = (s_piece_t){p + i, len - i};
      for (size_t k = j; k <= nlen; k++)
        if (s_match(rest, n, name + k, nlen - k, fold)) return true;
      return false;
    }
    if (c == '{') {
      size_t end = s_group_end(p, len, i);
      if (end >= len || n + 1 >= S_PIECES) return false;
      /* each alternative, then the rest of this piece, then the other pieces */
      size_t a = i + 1, depth = 0;
      for (size_t k = i + 1; k <= end; k++) {
        if (k < end && p[k] == '\\') {
          k++;
          continue;
        }
        if (k < end && p[k] == '[') {
          k++;
          if (k < end && (p[k] == '^' || p[k] == '!')) k++;
          while (k < end && p[k] != ']') k += p[k] == '\\' ? 2 : 1;
          continue;
        }
        if (k < end && p[k] == '{') depth++;
        else if (k < end && p[k] == '}') depth--;
        else if (k == end || (p[k] == ',' && depth == 0)) {
          s_piece_t alt[S_PIECES];
          alt[0] = (s_piece_t){p + a, k - a};
          alt[1] = (s_piece_t){p + end + 1, len - end - 1};
          memcpy(alt + 2, pieces + 1, (n - 1) * sizeof *pieces);
          if (s_match(alt, n + 1, name + j, nlen - j, fold)) return true;
          a = k + 1;
        }
      }
      return false;
    }
    if (j >= nlen) return false;
    if (c == '?') {
      i++;
    } else if (c == '[') {
      if (!s_class(p, len, &i, (unsigned char)name[j], fold)) return false;
    } else {
      if (c == '\\') c = p[++i];
      if (s_fold((unsigned char)c, fold) != s_fold((unsigned char)name[j], fold)) return false;
      i++;
    }
    j++;
  }
  return s_match(pieces + 1, n - 1, name + j, nlen - j, fold);
}

bool kv_glob_match(const char *pat, size_t plen, const char *name, size_t nlen, bool fold) {
  char why[8];
  if (kv_glob_check(pat, plen, why, sizeof why)) return false;
  s_piece_t one = {pat, plen};
  return s_match(&one, 1, name, nlen, fold);
}

size_t kv_glob_prefix(const char *p, size_t len, char *out, size_t cap) {
  size_t n = 0;
  for (size_t i = 0; i < len; i++) {
    char c = p[i];
    if (c == '*' || c == '?' || c == '[' || c == '{') break;
    if (c == '\\') {
      if (++i >= len) break;
      c = p[i];
    }
    if (n < cap) out[n] = c;
    n++;
  }
  return n < cap ? n : cap;
}

size_t kv_glob_unescape(const char *p, size_t len, char *out, size_t cap) {
  size_t n = 0;
  for (size_t i = 0; i < len && cap; i++) {
    if (p[i] == '\\' && i + 1 < len) i++;
    if (n + 1 < cap) out[n++] = p[i];
  }
  if (cap) out[n] = '\0';
  return n;
}
