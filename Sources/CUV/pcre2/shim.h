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
 * non-ASCII characters onto ASCII letters (U+017F onto "s", U+212A onto "k"). */
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

/* The trigram filter: 65,536 bits (8 KiB), hashed from the lower-cased first three
 * bytes of every trigger; a clear bit means no trigger starts here. */
#define CPCRE2_FILTER_WORDS 1024

static inline unsigned cpcre2_lower(unsigned char b) {
    return b + ((unsigned)((unsigned char)(b - 'A') < 26u) << 5);
}

static inline uint32_t cpcre2_trigram(unsigned a, unsigned b, unsigned c) {
    return ((a << 11) ^ (b << 5) ^ c) & 0xFFFFu;
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

/* The rules admitted by `s[0..<n]`: `all` when it holds a non-ASCII byte. */
static inline uint64_t cpcre2_prefilter(const unsigned char *s, size_t n,
                                        const uint64_t *filter,
                                        const cpcre2_trigger *triggers, size_t count,
                                        uint64_t all) {
    uint64_t found = 0;
    if (n < 3) {
        for (size_t i = 0; i < n; i++) {
            if (s[i] & 0x80) return all;
        }
        return 0;
    }
    if ((s[0] | s[1]) & 0x80) return all;
    unsigned a = cpcre2_lower(s[0]), b = cpcre2_lower(s[1]);
    for (size_t i = 0; i + 2 < n; i++) {
        unsigned char raw = s[i + 2];
        if (raw & 0x80) return all;
        unsigned c = cpcre2_lower(raw);
        uint32_t h = cpcre2_trigram(a, b, c);
        if ((filter[h >> 6] >> (h & 63)) & 1) {
            uint32_t key = cpcre2_key(a, b, c);
            for (size_t k = 0; k < count; k++) {
                const cpcre2_trigger *t = &triggers[k];
                if (t->key != key || (found & t->rules) == t->rules) continue;
                if (cpcre2_trigger_at(s + i, n - i, t)) found |= t->rules;
            }
        }
        a = b;
        b = c;
    }
    return found;
}
#endif
