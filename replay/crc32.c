/* binlogfs — CRC32 of binlog events (zlib's CRC: IEEE polynomial, reflected).
 *
 * DESIGN: bl_crc32(crc, buf, len) returns exactly what zlib's
 * crc32(crc, buf, len) returns, chaining included. On x86-64 CPUs with
 * PCLMULQDQ the bulk of the buffer (a multiple of 16 bytes) is folded with
 * carry-less multiplies — four 128-bit lanes in flight, 64 bytes per step —
 * as in Gopal et al., "Fast CRC Computation for Generic Polynomials Using
 * PCLMULQDQ Instruction" (Intel, 2009); a last partial block is folded
 * from an overlapping load of the buffer's last 16 bytes. Buffers under 16
 * bytes and other CPUs go through zlib. Runtime dispatch only: the file
 * builds with the default -m flags and runs on any x86-64.
 *
 * Invariant: nothing reads outside [buf, buf + len).
 */
#include <zlib.h>

#include <binlogfs/reader.h>

/* The fold needs one whole 16-byte block; shorter buffers go to zlib. */
#define PCLMUL_MIN_LEN 16

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define HAVE_PCLMUL_PATH 1
#include <immintrin.h>

#define PCLMUL_TARGET __attribute__((target("pclmul,sse4.1")))

/* Folding constants for the reflected polynomial P = 0x104C11DB7, each the
 * bit-reflected x^n mod P shifted left by one (Intel's paper, appendix):
 *   fold by 512 bits: x^(4*128+32), x^(4*128-32)
 *   fold by 128 bits: x^(128+32),   x^(128-32)
 *   64 -> 32 bits:    x^64
 *   Barrett:          P' = reflected P, mu = x^64 / P (reflected) */
#define K_FOLD512_LO 0x0154442bd4ULL
#define K_FOLD512_HI 0x01c6e41596ULL
#define K_FOLD128_LO 0x01751997d0ULL
#define K_FOLD128_HI 0x00ccaa009eULL
#define K_FOLD64 0x0163cd6124ULL
#define K_POLY 0x01db710641ULL
#define K_MU 0x01f7011641ULL

/* acc * x^k folded onto the next 16 bytes `next`. */
PCLMUL_TARGET static inline __m128i fold16(__m128i acc, __m128i k, __m128i next)
{
    __m128i lo = _mm_clmulepi64_si128(acc, k, 0x00);
    __m128i hi = _mm_clmulepi64_si128(acc, k, 0x11);
    return _mm_xor_si128(_mm_xor_si128(lo, hi), next);
}

static inline __m128i load16(const guint8 *p)
{
    return _mm_loadu_si128((const __m128i *)(const void *)p);
}

/* pshufb masks: at [r] x << (16 - r) bytes, at [16 + r] x >> r bytes
 * (register byte order = message order; 0x80 gives a zero byte). */
static const guint8 shift_masks[48] = {
    0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
    0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
};

/* The raw (not inverted) CRC state after `len` bytes, len >= 16. */
PCLMUL_TARGET static guint32 crc_fold(guint32 state, const guint8 *p, gsize len)
{
    const guint8 *end = p + len;
    const __m128i k128 = _mm_set_epi64x((long long)K_FOLD128_HI, (long long)K_FOLD128_LO);
    __m128i x0 = _mm_xor_si128(load16(p), _mm_cvtsi32_si128((int)state));
    p += 16;
    len -= 16;

    if (len >= 48) {
        const __m128i k512 = _mm_set_epi64x((long long)K_FOLD512_HI, (long long)K_FOLD512_LO);
        __m128i x1 = load16(p), x2 = load16(p + 16), x3 = load16(p + 32);
        p += 48;
        len -= 48;
        while (len >= 64) {
            x0 = fold16(x0, k512, load16(p));
            x1 = fold16(x1, k512, load16(p + 16));
            x2 = fold16(x2, k512, load16(p + 32));
            x3 = fold16(x3, k512, load16(p + 48));
            p += 64;
            len -= 64;
        }
        x0 = fold16(x0, k128, x1);
        x0 = fold16(x0, k128, x2);
        x0 = fold16(x0, k128, x3);
    }
    while (len >= 16) {
        x0 = fold16(x0, k128, load16(p));
        p += 16;
        len -= 16;
    }
    if (len > 0) {
        /* r = len bytes remain. The message x0 ++ tail is, with 16 - r
         * leading zero bytes (which do not change a CRC state), the two
         * blocks hi = 0^(16-r) ++ x0[0..r) and lo = x0[r..16) ++ tail; the
         * tail is the end of the (overlapping) load of the last 16 bytes. */
        __m128i shl = load16(shift_masks + len);
        __m128i shr = load16(shift_masks + 16 + len);
        __m128i hi = _mm_shuffle_epi8(x0, shl);
        __m128i lo = _mm_blendv_epi8(load16(end - 16), _mm_shuffle_epi8(x0, shr), shl);
        x0 = fold16(hi, k128, lo);
    }

    /* 128 -> 96 bits: low half times x^(128-32) onto the high half. */
    const __m128i mask32 = _mm_setr_epi32(-1, 0, -1, 0);
    __m128i t = _mm_clmulepi64_si128(x0, k128, 0x10);
    x0 = _mm_xor_si128(_mm_srli_si128(x0, 8), t);
    /* 96 -> 64 bits. */
    t = _mm_srli_si128(x0, 4);
    x0 = _mm_clmulepi64_si128(_mm_and_si128(x0, mask32), _mm_cvtsi64_si128((long long)K_FOLD64), 0x00);
    x0 = _mm_xor_si128(x0, t);
    /* Barrett reduction to 32 bits. */
    const __m128i kb = _mm_set_epi64x((long long)K_MU, (long long)K_POLY);
    t = _mm_clmulepi64_si128(_mm_and_si128(x0, mask32), kb, 0x10);
    t = _mm_clmulepi64_si128(_mm_and_si128(t, mask32), kb, 0x00);
    x0 = _mm_xor_si128(x0, t);
    return (guint32)_mm_extract_epi32(x0, 1);
}

static inline gboolean have_pclmul(void)
{
    return __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("sse4.1");
}
#endif

guint32 bl_crc32(guint32 crc, const guint8 *buf, gsize len)
{
#ifdef HAVE_PCLMUL_PATH
    if (len >= PCLMUL_MIN_LEN && have_pclmul())
        return ~crc_fold(~crc, buf, len);
#endif
    return (guint32)crc32_z(crc, buf, len);
}
