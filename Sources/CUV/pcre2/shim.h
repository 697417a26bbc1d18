/* PCRE2, 8-bit code units. The generic names (pcre2_compile, ...) are macros
 * over the _8 functions, so Swift calls the _8 functions directly. */
#ifndef WARD_CPCRE2_SHIM_H
#define WARD_CPCRE2_SHIM_H
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

/* PCRE2_ZERO_TERMINATED and PCRE2_UNSET are casts Swift does not import. */
static inline size_t cpcre2_unset(void) { return PCRE2_UNSET; }
/* A literal prefilter for redaction rules: one pass over a line finds which rules
 * can match at all, so lines that hold none of a rule's literals skip its regex.
 * A rule is admitted when any of its triggers occurs in the line; a line with any
 * byte >= 0x80 admits every rule, because PCRE2's caseless UTF matching folds some
 * non-ASCII characters onto ASCII letters (U+017F onto "s", U+212A onto "k").
 *
 * The scan looks at every second position only: a trigger has at least three
 * bytes, so one of its first two byte pairs starts at an even offset. A pair
 * filter over those pairs lets through a few pairs in a hundred; a trigram
 * filter and a comparison with the triggers of the same first three bytes decide. */
#include <stdint.h>
#include <string.h>

/* One literal a rule cannot match without (at least 3 bytes). */
typedef struct {
    const unsigned char *bytes; /* lower-cased when caseless */
    uint32_t length;
    uint32_t caseless;          /* ASCII letters match either case */
    uint32_t key;               /* cpcre2_key of its first three bytes */
    uint64_t rules;             /* the rules it admits */
} cpcre2_trigger;

/* Each filter is 16,384 bits (2 KiB): pairs are indexed by their two 7-bit bytes,
 * trigrams hashed. Bytes are folded with | 0x20 for both (a superset of ASCII case
 * folding, applied alike to lines and triggers). */
#define CPCRE2_FILTER_WORDS 256

static inline unsigned cpcre2_lower(unsigned char b) {
    return b + ((unsigned)((unsigned char)(b - 'A') < 26u) << 5);
}

static inline uint32_t cpcre2_pair(unsigned char a, unsigned char b) {
    return ((a | 0x20u) & 0x7Fu) | (((b | 0x20u) & 0x7Fu) << 7);
}

static inline uint32_t cpcre2_trigram(unsigned char a, unsigned char b, unsigned char c) {
    uint32_t x = ((a | 0x20u) & 0x7Fu) | (((b | 0x20u) & 0x7Fu) << 7)
        | (((c | 0x20u) & 0x7Fu) << 14);
    return (x * 2654435761u) >> 18;
}

static inline int cpcre2_bit(const uint64_t *filter, uint32_t i) {
    return (int)((filter[i >> 6] >> (i & 63)) & 1);
}

/* The lower-cased first three bytes as one number, to reject most triggers at a
 * candidate position with one comparison. */
static inline uint32_t cpcre2_key(unsigned a, unsigned b, unsigned c) {
    return a | (b << 8) | (c << 16);
}

static inline int cpcre2_trigger_at(const unsigned char *s, size_t room,
                                    const cpcre2_trigger *t) {
    if (t->length > room) return 0;
    if (!t->caseless) return memcmp(s, t->bytes, t->length) == 0;
    for (uint32_t j = 0; j < t->length; j++) {
        if (cpcre2_lower(s[j]) != t->bytes[j]) return 0;
    }
    return 1;
}

/* Adds the rules of every trigger that starts at `p`. */
static inline void cpcre2_check_at(const unsigned char *s, size_t n, size_t p,
                                   const uint64_t *trigrams,
                                   const cpcre2_trigger *triggers, size_t count,
                                   uint64_t *found) {
    if (p + 3 > n || !cpcre2_bit(trigrams, cpcre2_trigram(s[p], s[p + 1], s[p + 2]))) return;
    uint32_t key = cpcre2_key(cpcre2_lower(s[p]), cpcre2_lower(s[p + 1]),
                              cpcre2_lower(s[p + 2]));
    for (size_t k = 0; k < count; k++) {
        const cpcre2_trigger *t = &triggers[k];
        if (t->key != key || (*found & t->rules) == t->rules) continue;
        if (cpcre2_trigger_at(s + p, n - p, t)) *found |= t->rules;
    }
}

/* The pair at even offset `i` may begin a trigger at `i` or continue one from
 * `i - 1`. */
static inline void cpcre2_check_pair(const unsigned char *s, size_t n, size_t i,
                                     const uint64_t *pairs, const uint64_t *trigrams,
                                     const cpcre2_trigger *triggers, size_t count,
                                     uint64_t *found) {
    if (!cpcre2_bit(pairs, cpcre2_pair(s[i], s[i + 1]))) return;
    if (i > 0) cpcre2_check_at(s, n, i - 1, trigrams, triggers, count, found);
    cpcre2_check_at(s, n, i, trigrams, triggers, count, found);
}

/* The rules admitted by `s[0..<n]`: `all` when it holds a non-ASCII byte. */
static inline uint64_t cpcre2_prefilter(const unsigned char *s, size_t n,
                                        const uint64_t *pairs, const uint64_t *trigrams,
                                        const cpcre2_trigger *triggers, size_t count,
                                        uint64_t all) {
    uint64_t high = 0;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        high |= w;
    }
    for (; i < n; i++) high |= s[i];
    if (high & 0x8080808080808080ull) return all;
    uint64_t found = 0;
    for (i = 0; i + 8 <= n; i += 8) {
        if (cpcre2_bit(pairs, cpcre2_pair(s[i], s[i + 1]))
            | cpcre2_bit(pairs, cpcre2_pair(s[i + 2], s[i + 3]))
            | cpcre2_bit(pairs, cpcre2_pair(s[i + 4], s[i + 5]))
            | cpcre2_bit(pairs, cpcre2_pair(s[i + 6], s[i + 7]))) {
            for (size_t j = i; j < i + 8; j += 2) {
                cpcre2_check_pair(s, n, j, pairs, trigrams, triggers, count, &found);
            }
        }
    }
    for (; i + 2 <= n; i += 2) {
        cpcre2_check_pair(s, n, i, pairs, trigrams, triggers, count, &found);
    }
    return found;
}

/* Copies `s[0..<n]` to `out`, each byte of an ill-formed UTF-8 sequence replaced by
 * '?', and returns how many were replaced. Offsets are kept, so regex matches on the
 * copy are matches on the original: PCRE2 (PCRE2_MATCH_INVALID_UTF) matches nothing
 * at an invalid byte, so a value class would stop there and leave the rest of a
 * secret such as `password=M\xfcller` unredacted. Well-formed sequences follow
 * Unicode's table 3-7 (no overlongs, no surrogates, nothing past U+10FFFF). */
static inline size_t cpcre2_utf8_sanitize(const unsigned char *s, size_t n,
                                          unsigned char *out) {
    size_t replaced = 0, i = 0;
    while (i < n) {
        unsigned char b = s[i];
        size_t len = 0;
        if (b < 0x80) {
            len = 1;
        } else if (b >= 0xC2 && b <= 0xDF) {
            if (i + 1 < n && (s[i + 1] & 0xC0) == 0x80) len = 2;
        } else if (b >= 0xE0 && b <= 0xEF) {
            unsigned char lo = b == 0xE0 ? 0xA0 : 0x80, hi = b == 0xED ? 0x9F : 0xBF;
            if (i + 2 < n && s[i + 1] >= lo && s[i + 1] <= hi && (s[i + 2] & 0xC0) == 0x80)
                len = 3;
        } else if (b >= 0xF0 && b <= 0xF4) {
            unsigned char lo = b == 0xF0 ? 0x90 : 0x80, hi = b == 0xF4 ? 0x8F : 0xBF;
            if (i + 3 < n && s[i + 1] >= lo && s[i + 1] <= hi && (s[i + 2] & 0xC0) == 0x80
                && (s[i + 3] & 0xC0) == 0x80)
                len = 4;
        }
        if (len == 0) {
            out[i++] = '?';
            replaced++;
        } else {
            memcpy(out + i, s + i, len);
            i += len;
        }
    }
    return replaced;
}
#endif
