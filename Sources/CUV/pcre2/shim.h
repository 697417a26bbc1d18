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

/* One literal a rule cannot match without (at least 3 bytes), and what its rule
 * needs around it: a trigger only counts where those hold too. */
typedef struct {
    const unsigned char *bytes; /* lower-cased when caseless */
    uint32_t length;
    uint32_t caseless;          /* ASCII letters match either case */
    uint32_t key;               /* cpcre2_key of its first three bytes */
    uint32_t word_start;        /* only at a word start (cpcre2_word_start) */
    const uint64_t *follow;     /* NULL, or 256 bits: the byte after must be one of them */
    uint64_t rules;             /* the rules it admits */
    /* Its first (up to) 8 bytes as one little-endian word, to reject most
     * positions with one comparison: a line's 8 bytes at a position, ORed with
     * `fold` (0x20 where a caseless letter is), masked with `head_mask`. */
    uint64_t head, head_mask, fold;
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

static inline int cpcre2_is_alnum(unsigned char b) {
    return (unsigned char)((b | 0x20) - 'a') < 26u || (unsigned char)(b - '0') < 10u;
}

/* Whether `s[p]` may start a keyword: nothing before it, or no ASCII letter or
 * digit; or the `m` ending a colour escape (`ESC[31m`: `m` after `[`, `;` or a
 * digit, in either case, as the caseless rules read it); or a camelCase hump (a
 * lower-case letter, then an upper-case one). A superset of what the rules'
 * lookbehinds accept. */
static inline int cpcre2_word_start(const unsigned char *s, size_t p) {
    if (p == 0) return 1;
    unsigned char b = s[p - 1];
    if (!cpcre2_is_alnum(b)) return 1;
    if ((b | 0x20) == 'm' && p >= 2 && (s[p - 2] == '[' || s[p - 2] == ';'
                               || (unsigned char)(s[p - 2] - '0') < 10u))
        return 1;
    return (unsigned char)(b - 'a') < 26u && (unsigned char)(s[p] - 'A') < 26u;
}

/* Whether trigger `t` occurs at `s[p]` of `s[0..<n]`, with its surroundings. */
static inline int cpcre2_trigger_at(const unsigned char *s, size_t n, size_t p,
                                    const cpcre2_trigger *t) {
    if (t->length > n - p) return 0;
    if (n - p >= 8) {
        uint64_t w;
        memcpy(&w, s + p, 8);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
        w = __builtin_bswap64(w);
#endif
        if (((w | t->fold) & t->head_mask) != t->head) return 0;
    }
    if (t->word_start && !cpcre2_word_start(s, p)) return 0;
    if (t->follow) {
        size_t q = p + t->length;
        if (q >= n || !((t->follow[s[q] >> 6] >> (s[q] & 63)) & 1)) return 0;
    }
    if (!t->caseless) return memcmp(s + p, t->bytes, t->length) == 0;
    for (uint32_t j = 0; j < t->length; j++) {
        if (cpcre2_lower(s[p + j]) != t->bytes[j]) return 0;
    }
    return 1;
}

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
        if (cpcre2_trigger_at(s, n, p, t)) *found |= t->rules;
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

/* The vector scan (x86-64 with SSSE3): every trigger sits in one of 8 buckets, and
 * for each of a trigger's first three bytes two 16-entry tables, indexed by the low
 * and the high nibble of a line byte, hold the bits of the buckets that have that
 * nibble there (both cases of a caseless letter). Sixteen positions at a time, the
 * six table lookups ANDed together leave, at each position, the buckets whose
 * triggers could start there; only those triggers are compared. */
typedef struct {
    uint32_t key;               /* the first three bytes its triggers share */
    uint32_t first, end;        /* its triggers: triggers[first ..< end] */
} cpcre2_group;

typedef struct {
    uint8_t lo[3][16];
    uint8_t hi[3][16];
    uint32_t start[9];          /* bucket b: groups[start[b] ..< start[b + 1]] */
    const cpcre2_group *groups; /* triggers by bucket, then by first three bytes */
} cpcre2_buckets;

/* Compares the triggers of the buckets in `mask` at `s[p]`. */
static inline void cpcre2_check_buckets(const unsigned char *s, size_t n, size_t p,
                                        unsigned mask, const cpcre2_buckets *b,
                                        const cpcre2_trigger *triggers, uint64_t *found) {
    if (p + 3 > n) return;
    uint32_t key = cpcre2_key(cpcre2_lower(s[p]), cpcre2_lower(s[p + 1]),
                              cpcre2_lower(s[p + 2]));
    while (mask) {
        unsigned k = (unsigned)__builtin_ctz(mask);
        mask &= mask - 1;
        for (uint32_t g = b->start[k]; g < b->start[k + 1]; g++) {
            if (b->groups[g].key != key) continue;
            for (uint32_t j = b->groups[g].first; j < b->groups[g].end; j++) {
                const cpcre2_trigger *t = &triggers[j];
                if ((*found & t->rules) != t->rules && cpcre2_trigger_at(s, n, p, t))
                    *found |= t->rules;
            }
            break; /* a bucket's groups have distinct keys */
        }
    }
}

/* Compares, at each position `i + j` whose bit `j` is set in `hits`, the
 * triggers of the buckets in `lanes[j]` (what a vector scan's block left). */
static inline void cpcre2_check_lanes(const uint8_t *lanes, unsigned hits,
                                      const unsigned char *s, size_t n, size_t i,
                                      const cpcre2_buckets *b,
                                      const cpcre2_trigger *triggers, uint64_t *found) {
    while (hits) {
        unsigned j = (unsigned)__builtin_ctz(hits);
        hits &= hits - 1;
        if (i + j < n) cpcre2_check_buckets(s, n, i + j, lanes[j], b, triggers, found);
    }
}

#if defined(__x86_64__)
#include <immintrin.h>

__attribute__((target("ssse3"), always_inline))
static inline __m128i cpcre2_nibbles(__m128i x, __m128i lo, __m128i hi) {
    const __m128i low = _mm_set1_epi8(0x0F);
    return _mm_and_si128(_mm_shuffle_epi8(lo, _mm_and_si128(x, low)),
                         _mm_shuffle_epi8(hi, _mm_and_si128(_mm_srli_epi16(x, 4), low)));
}

/* Candidate positions of `s[i ..< i + 16]` (`s` readable up to `i + 18`). */
__attribute__((target("ssse3"), always_inline))
static inline void cpcre2_scan_block(const unsigned char *block, const unsigned char *s,
                                     size_t n, size_t i, const __m128i *tables,
                                     const cpcre2_buckets *b,
                                     const cpcre2_trigger *triggers, uint64_t *found) {
    __m128i m = _mm_and_si128(
        _mm_and_si128(
            cpcre2_nibbles(_mm_loadu_si128((const __m128i *)block), tables[0], tables[3]),
            cpcre2_nibbles(_mm_loadu_si128((const __m128i *)(block + 1)), tables[1],
                           tables[4])),
        cpcre2_nibbles(_mm_loadu_si128((const __m128i *)(block + 2)), tables[2], tables[5]));
    unsigned hits = (unsigned)~_mm_movemask_epi8(_mm_cmpeq_epi8(m, _mm_setzero_si128()))
        & 0xFFFFu;
    if (!hits) return;
    uint8_t lanes[16];
    _mm_storeu_si128((__m128i *)lanes, m);
    cpcre2_check_lanes(lanes, hits, s, n, i, b, triggers, found);
}

__attribute__((target("ssse3")))
static inline uint64_t cpcre2_prefilter_ssse3(const unsigned char *s, size_t n,
                                              const cpcre2_buckets *b,
                                              const cpcre2_trigger *triggers, uint64_t all) {
    size_t i = 0;
    __m128i high = _mm_setzero_si128();
    for (; i + 16 <= n; i += 16) high = _mm_or_si128(high, _mm_loadu_si128((const __m128i *)(s + i)));
    unsigned tail = 0;
    for (; i < n; i++) tail |= s[i];
    if (_mm_movemask_epi8(high) || (tail & 0x80)) return all;

    __m128i tables[6];
    for (int k = 0; k < 3; k++) {
        tables[k] = _mm_loadu_si128((const __m128i *)b->lo[k]);
        tables[k + 3] = _mm_loadu_si128((const __m128i *)b->hi[k]);
    }
    uint64_t found = 0;
    for (i = 0; i + 18 <= n; i += 16) {
        cpcre2_scan_block(s + i, s, n, i, tables, b, triggers, &found);
        if (found == all) return found;
    }
    if (i < n) {
        /* The last positions, from a zero-padded copy: at most 17 are left, and the
         * last two cannot start a 3-byte trigger. A candidate the padding makes is
         * still compared against the line itself. */
        unsigned char pad[48] = {0};
        memcpy(pad, s + i, n - i);
        cpcre2_scan_block(pad, s, n, i, tables, b, triggers, &found);
    }
    return found;
}

/* The same scan, 32 positions at a time (AVX2: each 128-bit half looks up the
 * same tables). */
__attribute__((target("avx2"), always_inline))
static inline __m256i cpcre2_nibbles_avx2(__m256i x, __m256i lo, __m256i hi) {
    const __m256i low = _mm256_set1_epi8(0x0F);
    return _mm256_and_si256(
        _mm256_shuffle_epi8(lo, _mm256_and_si256(x, low)),
        _mm256_shuffle_epi8(hi, _mm256_and_si256(_mm256_srli_epi16(x, 4), low)));
}

/* Candidate positions of `s[i ..< i + 32]` (`block` readable up to `i + 34`). */
__attribute__((target("avx2"), always_inline))
static inline void cpcre2_scan_block_avx2(const unsigned char *block, const unsigned char *s,
                                          size_t n, size_t i, const __m256i *tables,
                                          const cpcre2_buckets *b,
                                          const cpcre2_trigger *triggers, uint64_t *found) {
    __m256i m = _mm256_and_si256(
        _mm256_and_si256(
            cpcre2_nibbles_avx2(_mm256_loadu_si256((const __m256i *)block), tables[0],
                                tables[3]),
            cpcre2_nibbles_avx2(_mm256_loadu_si256((const __m256i *)(block + 1)), tables[1],
                                tables[4])),
        cpcre2_nibbles_avx2(_mm256_loadu_si256((const __m256i *)(block + 2)), tables[2],
                            tables[5]));
    unsigned hits =
        ~(unsigned)_mm256_movemask_epi8(_mm256_cmpeq_epi8(m, _mm256_setzero_si256()));
    if (!hits) return;
    uint8_t lanes[32];
    _mm256_storeu_si256((__m256i *)lanes, m);
    cpcre2_check_lanes(lanes, hits, s, n, i, b, triggers, found);
}

__attribute__((target("avx2")))
static inline uint64_t cpcre2_prefilter_avx2(const unsigned char *s, size_t n,
                                             const cpcre2_buckets *b,
                                             const cpcre2_trigger *triggers, uint64_t all) {
    size_t i = 0;
    __m256i high = _mm256_setzero_si256();
    for (; i + 32 <= n; i += 32)
        high = _mm256_or_si256(high, _mm256_loadu_si256((const __m256i *)(s + i)));
    unsigned tail = 0;
    for (; i < n; i++) tail |= s[i];
    if (_mm256_movemask_epi8(high) || (tail & 0x80)) return all;

    __m256i tables[6];
    for (int k = 0; k < 3; k++) {
        tables[k] = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)b->lo[k]));
        tables[k + 3] = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)b->hi[k]));
    }
    uint64_t found = 0;
    for (i = 0; i + 34 <= n; i += 32) {
        cpcre2_scan_block_avx2(s + i, s, n, i, tables, b, triggers, &found);
        if (found == all) return found;
    }
    if (i < n) {
        /* At most 33 positions are left, the last two of no interest (see the
         * SSSE3 scan). */
        unsigned char pad[64] = {0};
        memcpy(pad, s + i, n - i);
        cpcre2_scan_block_avx2(pad, s, n, i, tables, b, triggers, &found);
    }
    return found;
}
#endif

/* The scans: the pair filter runs anywhere; the vector scans where the CPU has
 * them. All give the same answer. */
enum { CPCRE2_SCAN_PAIRS = 0, CPCRE2_SCAN_SSSE3 = 1, CPCRE2_SCAN_AVX2 = 2 };

/* The fastest scan this CPU runs (checked once). */
static inline int cpcre2_best_scan(void) {
#if defined(__x86_64__)
    static int known = -1;
    if (known < 0) {
        known = __builtin_cpu_supports("avx2")    ? CPCRE2_SCAN_AVX2
                : __builtin_cpu_supports("ssse3") ? CPCRE2_SCAN_SSSE3
                                                  : CPCRE2_SCAN_PAIRS;
    }
    return known;
#else
    return CPCRE2_SCAN_PAIRS;
#endif
}

/* The rules admitted by `s[0..<n]`, by `scan` (one this CPU runs). */
static inline uint64_t cpcre2_prefilter_by(int scan, const unsigned char *s, size_t n,
                                           const uint64_t *pairs, const uint64_t *trigrams,
                                           const cpcre2_buckets *b,
                                           const cpcre2_trigger *triggers, size_t count,
                                           uint64_t all) {
#if defined(__x86_64__)
    if (scan == CPCRE2_SCAN_AVX2) return cpcre2_prefilter_avx2(s, n, b, triggers, all);
    if (scan == CPCRE2_SCAN_SSSE3) return cpcre2_prefilter_ssse3(s, n, b, triggers, all);
#endif
    (void)b;
    return cpcre2_prefilter(s, n, pairs, trigrams, triggers, count, all);
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
