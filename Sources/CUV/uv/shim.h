/* libuv, plus the few Linux calls Swift cannot reach directly (variadic or
 * GNU-only). Every shim is prefixed cuv_. */
#ifndef WARD_CUV_SHIM_H
#define WARD_CUV_SHIM_H

#include <uv.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* prctl is variadic. Become the subreaper of every descendant, so a process
 * that escapes its group with setsid is reparented to ward, not to init. */
static inline int cuv_set_child_subreaper(void) {
    return prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
}

/* Mark the process non-dumpable: a same-uid process can then no longer read
 * /proc/<pid>/mem or /proc/<pid>/environ of ward. */
static inline int cuv_set_not_dumpable(void) {
    return prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

static inline int cuv_is_dumpable(void) {
    return prctl(PR_GET_DUMPABLE, 0, 0, 0, 0);
}

/* Fixes glibc's heap thresholds: blocks under `mmap_threshold` come from the
 * heap, and free space at its top is returned to the kernel only past
 * `trim_threshold`. glibc's default moves both as large blocks come and go,
 * and a stream's buffers then land just over them: the heap shrinks and grows
 * again every few frames, faulting its pages in afresh each time. Returns 0
 * when both were set. */
static inline int cuv_fix_malloc_thresholds(int mmap_threshold, int trim_threshold) {
#ifdef __GLIBC__
    if (mallopt(M_MMAP_THRESHOLD, mmap_threshold) != 1) return -1;
    if (mallopt(M_TRIM_THRESHOLD, trim_threshold) != 1) return -1;
#endif
    return 0;
}

/* memmem is a GNU extension: declared here rather than through _GNU_SOURCE,
 * which would give this module system types that differ from other modules. */
extern void *memmem(const void *, size_t, const void *, size_t);
static inline const void *cuv_memmem(const void *hay, size_t hlen,
                                     const void *needle, size_t nlen) {
    return memmem(hay, hlen, needle, nlen);
}

/* open(2) is variadic: Swift cannot pass the mode. */
static inline int cuv_open(const char *path, int flags, mode_t mode) {
    return open(path, flags, mode);
}

static inline int cuv_errno(void) { return errno; }

/* WIFEXITED and friends are function-like macros. */
static inline int cuv_wifexited(int status) { return WIFEXITED(status); }
static inline int cuv_wexitstatus(int status) { return WEXITSTATUS(status); }
static inline int cuv_wifsignaled(int status) { return WIFSIGNALED(status); }
static inline int cuv_wtermsig(int status) { return WTERMSIG(status); }

/* Resets signal `sig` to its default disposition if it is ignored; returns 1
 * when it was reset, 0 when it was not ignored, -1 on error. libuv resets
 * only signals 1-31 in a spawned child, and an ignored disposition survives
 * exec, so one that ward inherited for a real-time signal would reach every
 * child. glibc's sigaction(3) refuses its own signals 32 and 33, so this
 * talks to the kernel directly, with the kernel's struct layout. */
#include <sys/syscall.h>
struct cuv_kernel_sigaction {
    void *handler;
    unsigned long flags;
    void *restorer;
    unsigned long mask;
};
static inline int cuv_reset_ignored_signal(int sig) {
    struct cuv_kernel_sigaction old = {0}, dfl = {0};
    if (syscall(SYS_rt_sigaction, sig, NULL, &old, sizeof(old.mask)) != 0)
        return -1;
    if (old.handler != (void *)SIG_IGN)
        return 0;
    if (syscall(SYS_rt_sigaction, sig, &dfl, NULL, sizeof(dfl.mask)) != 0)
        return -1;
    return 1;
}

/* Length of the prefix of `bytes` that a JSON string carries as it is: no
 * quote, backslash, control byte or DEL. JSONWriter copies such runs whole
 * instead of byte by byte, which is most of the cost of streaming output. */
static inline size_t cuv_json_plain_prefix(const unsigned char *bytes, size_t count) {
    size_t i = 0;
    while (i < count) {
        unsigned char b = bytes[i];
        if (b < 0x20 || b == 0x22 || b == 0x5C || b == 0x7F)
            break;
        i++;
    }
    return i;
}

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* The same answer as cuv_json_plain_prefix, many bytes at a time: sixteen
 * with SSE2 (every x86-64), then eight with plain words. A word is plain
 * when no byte is below 0x20 and none is a quote, a backslash or DEL. The
 * word test is the classic "some byte is below n" trick (x - n*ones) & ~x
 * on the high bits, which has no false negatives and only false positives
 * above a true hit; the byte loop then finds the exact position. */
static inline size_t cuv_json_plain_prefix_wide(const unsigned char *bytes,
                                                size_t count) {
    const unsigned long long ones = 0x0101010101010101ULL;
    const unsigned long long highs = 0x8080808080808080ULL;
    size_t i = 0;
#if defined(__SSE2__)
    const __m128i below = _mm_set1_epi8(0x1F), quote = _mm_set1_epi8(0x22);
    const __m128i backslash = _mm_set1_epi8(0x5C), del = _mm_set1_epi8(0x7F);
    while (i + 16 <= count) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(bytes + i));
        /* v <= 0x1F unsigned exactly when min(v, 0x1F) == v. */
        __m128i hit = _mm_or_si128(
            _mm_or_si128(_mm_cmpeq_epi8(_mm_min_epu8(v, below), v),
                         _mm_cmpeq_epi8(v, quote)),
            _mm_or_si128(_mm_cmpeq_epi8(v, backslash), _mm_cmpeq_epi8(v, del)));
        int mask = _mm_movemask_epi8(hit);
        if (mask != 0)
            return i + (size_t)__builtin_ctz((unsigned)mask);
        i += 16;
    }
#endif
    while (i + 8 <= count) {
        unsigned long long x, q, b, d;
        memcpy(&x, bytes + i, 8);
        q = x ^ (ones * 0x22);
        b = x ^ (ones * 0x5C);
        d = x ^ (ones * 0x7F);
        if ((((x - ones * 0x20) & ~x) | ((q - ones) & ~q) | ((b - ones) & ~b)
             | ((d - ones) & ~d)) & highs)
            break;
        i += 8;
    }
    return i + cuv_json_plain_prefix(bytes + i, count - i);
}

#endif
