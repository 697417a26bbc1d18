/* wslay: RFC 6455 framing, I/O-agnostic. Debian ships no .pc file, so the
 * module map names the library itself. */
#ifndef WARD_CWSLAY_SHIM_H
#define WARD_CWSLAY_SHIM_H
#include <wslay/wslay.h>
#include <stddef.h>
#include <string.h>

/* Copies n bytes from src to dst masked with the 4-byte key (RFC 6455
 * section 5.3), eight bytes at a time; wslay masks one byte at a time. The
 * key repeats every 4 bytes, so a word of 8 takes it twice and the tail
 * goes on at the same phase. */
static inline void cwslay_mask_copy(unsigned char *dst, const unsigned char *src,
                                    size_t n, const unsigned char key[4]) {
    unsigned long long word, k;
    size_t i = 0;
    memcpy(&k, key, 4);
    memcpy((unsigned char *)&k + 4, key, 4);
    for (; i + 8 <= n; i += 8) {
        memcpy(&word, src + i, 8);
        word ^= k;
        memcpy(dst + i, &word, 8);
    }
    for (; i < n; i++)
        dst[i] = src[i] ^ key[i & 3];
}
#endif
