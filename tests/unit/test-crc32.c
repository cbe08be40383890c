/* binlogfs — bl_crc32 against zlib's crc32: every length 0..600 at every
 * alignment 0..15, chaining at every split, a few MiB, known vectors. */
#include <string.h>
#include <zlib.h>

#include <binlogfs/reader.h>

static guint32 zlib_crc(guint32 crc, const guint8 *buf, gsize len)
{
    return (guint32)crc32_z(crc, buf, len);
}

static guint8 *random_bytes(GRand *rng, gsize len)
{
    guint8 *b = g_malloc(len ? len : 1);
    for (gsize i = 0; i < len; i++)
        b[i] = (guint8)g_rand_int(rng);
    return b;
}

static void test_known_vectors(void)
{
    /* The CRC-32 check value, and the empty and NULL cases as zlib has them. */
    g_assert_cmphex(bl_crc32(0, (const guint8 *)"123456789", 9), ==, 0xcbf43926);
    g_assert_cmphex(bl_crc32(0, (const guint8 *)"", 0), ==, 0);
    g_assert_cmphex(bl_crc32(0x12345678, (const guint8 *)"", 0), ==, 0x12345678);
    g_assert_cmphex(bl_crc32(0x12345678, NULL, 0), ==, zlib_crc(0x12345678, NULL, 0));
    /* 64 and 1000 zero bytes: long enough for the folding path. */
    guint8 zeros[1000] = { 0 };
    g_assert_cmphex(bl_crc32(0, zeros, 64), ==, zlib_crc(0, zeros, 64));
    g_assert_cmphex(bl_crc32(0, zeros, 1000), ==, zlib_crc(0, zeros, 1000));
    guint8 ones[1000];
    memset(ones, 0xff, sizeof ones);
    g_assert_cmphex(bl_crc32(0, ones, 1000), ==, zlib_crc(0, ones, 1000));
}

/* Every length 0..600 at every start alignment 0..15, fresh and with a
 * random initial CRC. */
static void test_lengths_alignments(void)
{
    g_autoptr(GRand) rng = g_rand_new_with_seed(0x5eed);
    const gsize max_len = 600;
    g_autofree guint8 *buf = random_bytes(rng, max_len + 16);
    for (gsize align = 0; align < 16; align++) {
        for (gsize len = 0; len <= max_len; len++) {
            const guint8 *p = buf + align;
            guint32 want = zlib_crc(0, p, len);
            guint32 got = bl_crc32(0, p, len);
            if (got != want)
                g_error("len %zu align %zu: got %08x, zlib %08x", len, align, got, want);
            guint32 init = g_rand_int(rng);
            want = zlib_crc(init, p, len);
            got = bl_crc32(init, p, len);
            if (got != want)
                g_error("len %zu align %zu init %08x: got %08x, zlib %08x", len, align, init, got,
                        want);
        }
    }
}

/* A single flipped bit anywhere must change the CRC (guards against a fast
 * path that skips bytes: zlib would catch that too, but with a clearer
 * message here). */
static void test_bit_flips(void)
{
    g_autoptr(GRand) rng = g_rand_new_with_seed(42);
    const gsize len = 300;
    g_autofree guint8 *buf = random_bytes(rng, len);
    guint32 base = bl_crc32(0, buf, len);
    for (gsize i = 0; i < len; i++) {
        buf[i] ^= 1u << (i % 8);
        g_assert_cmphex(bl_crc32(0, buf, len), !=, base);
        g_assert_cmphex(bl_crc32(0, buf, len), ==, zlib_crc(0, buf, len));
        buf[i] ^= 1u << (i % 8);
    }
}

/* crc(a+b) == crc(crc(a), b) at every split of a 600-byte buffer, and over
 * random chunk sizes of a larger one. */
static void test_chaining(void)
{
    g_autoptr(GRand) rng = g_rand_new_with_seed(7);
    const gsize len = 600;
    g_autofree guint8 *buf = random_bytes(rng, len);
    guint32 whole = zlib_crc(0, buf, len);
    for (gsize split = 0; split <= len; split++) {
        guint32 c = bl_crc32(0, buf, split);
        c = bl_crc32(c, buf + split, len - split);
        if (c != whole)
            g_error("split at %zu: got %08x, want %08x", split, c, whole);
    }

    const gsize big = 1 << 20;
    g_autofree guint8 *b2 = random_bytes(rng, big);
    guint32 want = zlib_crc(0, b2, big);
    for (int round = 0; round < 20; round++) {
        guint32 c = 0;
        gsize off = 0;
        while (off < big) {
            gsize n = g_rand_int_range(rng, 0, 5000);
            if (n > big - off)
                n = big - off;
            c = bl_crc32(c, b2 + off, n);
            off += n;
        }
        g_assert_cmphex(c, ==, want);
    }
}

/* Random lengths up to a few MiB at random offsets. */
static void test_large(void)
{
    g_autoptr(GRand) rng = g_rand_new_with_seed(1234);
    const gsize len = 5 * 1024 * 1024 + 13;
    g_autofree guint8 *buf = random_bytes(rng, len + 64);
    g_assert_cmphex(bl_crc32(0, buf, len), ==, zlib_crc(0, buf, len));
    for (int i = 0; i < 50; i++) {
        gsize off = g_rand_int_range(rng, 0, 64);
        gsize n = g_rand_int_range(rng, 0, (gint32)len);
        guint32 init = g_rand_int(rng);
        g_assert_cmphex(bl_crc32(init, buf + off, n), ==, zlib_crc(init, buf + off, n));
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/crc32/known-vectors", test_known_vectors);
    g_test_add_func("/crc32/lengths-alignments", test_lengths_alignments);
    g_test_add_func("/crc32/bit-flips", test_bit_flips);
    g_test_add_func("/crc32/chaining", test_chaining);
    g_test_add_func("/crc32/large", test_large);
    return g_test_run();
}
