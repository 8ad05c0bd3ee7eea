/*
 * checkasm.c - correctness + benchmark harness for CSliceKernels, in the
 * spirit of FFmpeg/dav1d checkasm.
 *
 *   checkasm [--seed N] [--iters N]   correctness (default)
 *   checkasm --bench [--quick]        timing at 960x540 (16 channels)
 *   checkasm --bench-fused            only the fused kernels' timing (sub-pixel, encoder, int8)
 *   checkasm --bench-q8               only the int8 sub-pixel timing
 *
 * Correctness, for every operator and every SIMD level this CPU supports:
 *   - random shapes (w 1..67, h 1..9, odd strides, random bands split into
 *     up to three sub-bands) and random data from fixed seeds;
 *   - the SIMD output is memcmp'd bit for bit against the reference over the
 *     whole output allocation (so stray writes are caught too), and the
 *     reference output is checked to be untouched outside the band;
 *   - inputs and outputs sit against PROT_NONE guard pages (alternately at
 *     their start and their end) so any out-of-bounds access faults;
 *   - the reference itself is compared with an independent naive
 *     double-precision implementation (PyTorch formulation, e.g. the
 *     transposed conv as a scatter) within an error bound;
 *   - the fused sub-pixel kernel (fused_check.h) and the fused slicing
 *     encoder (encoder_check.h) against the layer kernels run one after the
 *     other, then every SIMD level against the fused reference;
 *   - the int8 sub-pixel kernel (q8_check.h) against a layer-by-layer
 *     implementation of its spec, then every SIMD level against it.
 * Prints PASS/FAIL per op and level; exits non-zero on any failure.
 */
#define _GNU_SOURCE
#include "slice_kernels.h"
#include "slice_kernels_fused.h"
#include "slice_kernels_q8.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#define NLEVELS 4 /* reference, avx2, avx512, neon (SK_LEVEL_*) */

/* ------------------------------------------------------------------ rng */

static uint64_t rng_state;
static uint64_t rnd64(void)
{
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
static int rndi(int lo, int hi) { return lo + (int)(rnd64() % (uint64_t)(hi - lo + 1)); }
static float rndf(void) { return (float)((double)(rnd64() >> 40) / (double)(1ull << 24) * 2.0 - 1.0); }

/* ------------------------------------------------------- guarded buffers */

static size_t g_page;
static int g_guard_flip;

typedef struct gbuf {
    void *map;
    size_t maplen;
    void *p;
} gbuf;

/* n bytes with a PROT_NONE page right after the last byte (or right before
 * the first), alternating between calls. */
static gbuf galloc(size_t n)
{
    gbuf b;
    size_t body = (n + g_page - 1) / g_page * g_page;
    if (body == 0) body = g_page;
    b.maplen = body + 2 * g_page;
    b.map = mmap(NULL, b.maplen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (b.map == MAP_FAILED) { perror("mmap"); exit(2); }
    mprotect(b.map, g_page, PROT_NONE);
    mprotect((char *)b.map + g_page + body, g_page, PROT_NONE);
    g_guard_flip ^= 1;
    if (g_guard_flip) b.p = (char *)b.map + g_page + body - ((n + 3) & ~(size_t)3);
    else b.p = (char *)b.map + g_page;
    return b;
}
static void gfree(gbuf *b) { munmap(b->map, b->maplen); }

/* A tensor plus its backing guarded buffer. */
typedef struct tbuf {
    sk_tensor t;
    size_t n; /* floats from data[0] to the last element, inclusive */
    gbuf g;
} tbuf;

#define SENTINEL_BITS 0x7F8BADu /* a signalling-NaN-ish pattern, never produced */

static float sentinel(void)
{
    uint32_t u = 0x7F800000u | SENTINEL_BITS;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static tbuf talloc(int c, int h, int w, int tight)
{
    tbuf b;
    b.t.c = c; b.t.h = h; b.t.w = w;
    b.t.stride = w + (tight ? 0 : rndi(0, 1) * rndi(1, 19));
    b.t.plane = (ptrdiff_t)h * b.t.stride + (tight ? 0 : rndi(0, 3));
    b.n = (size_t)((ptrdiff_t)(c - 1) * b.t.plane + (ptrdiff_t)(h - 1) * b.t.stride + w);
    b.g = galloc(b.n * sizeof(float));
    b.t.data = (float *)b.g.p;
    float s = sentinel();
    for (size_t i = 0; i < b.n; i++) b.t.data[i] = s;
    return b;
}

static void tfill(tbuf *b)
{
    for (int c = 0; c < b->t.c; c++)
        for (int y = 0; y < b->t.h; y++)
            for (int x = 0; x < b->t.w; x++) {
                float v = rndf();
                if (rndi(0, 63) == 0) v = 0.0f;
                if (rndi(0, 127) == 0) v = -0.0f;
                b->t.data[c * b->t.plane + y * b->t.stride + x] = v;
            }
}

/* Same geometry, contents copied (used to give each level identical output
 * buffers, e.g. prefilled for in-place residual adds). */
static tbuf tclone(const tbuf *src)
{
    tbuf b = *src;
    b.g = galloc(b.n * sizeof(float));
    b.t.data = (float *)b.g.p;
    memcpy(b.t.data, src->t.data, b.n * sizeof(float));
    return b;
}

static void tfree(tbuf *b) { gfree(&b->g); }

static float *fbuf(int n, gbuf *g)
{
    *g = galloc((size_t)n * sizeof(float));
    float *p = (float *)g->p;
    for (int i = 0; i < n; i++) p[i] = rndf();
    return p;
}

static float at(const sk_tensor *t, int c, int y, int x)
{
    return t->data[c * t->plane + y * t->stride + x];
}

/* ------------------------------------------------------------- reporting */

static const char *g_op;
static int g_fail_ops[NLEVELS], g_any_fail;
static long g_checks[NLEVELS];
static int g_level_fail[NLEVELS];
static char g_ctx[256];
static const char *g_ref_what = "values vs naive double"; /* what level 0 is checked against */

static int bits_eq(float a, float b)
{
    if (a != a && b != b) return 1; /* NaN payloads are not specified */
    return memcmp(&a, &b, 4) == 0;
}

/* Bitwise comparison of two outputs over the full allocation. */
static int compare_out(const tbuf *ref, const tbuf *got, int level)
{
    g_checks[level]++;
    for (size_t i = 0; i < ref->n; i++) {
        if (!bits_eq(ref->t.data[i], got->t.data[i])) {
            if (!g_level_fail[level]) {
                ptrdiff_t c = (ptrdiff_t)i / ref->t.plane, rem = (ptrdiff_t)i % ref->t.plane;
                fprintf(stderr, "  MISMATCH %s/%s %s at c=%td y=%td x=%td: ref %.9g (%08x) got %.9g (%08x)\n",
                        g_op, sk_level_name(level), g_ctx, c, rem / ref->t.stride,
                        rem % ref->t.stride, ref->t.data[i], *(uint32_t *)&ref->t.data[i],
                        got->t.data[i], *(uint32_t *)&got->t.data[i]);
            }
            g_level_fail[level] = 1;
            return 0;
        }
    }
    return 1;
}

/* An 8-bit output region (ow x oh, rows ds bytes apart, dn bytes in all) of a
 * fused kernel at `level`: level 0 against `spec` (the independent
 * implementation, spec_stride apart, `what` names it), every other level
 * against level 0's bytes `first`; the row padding beyond ow must still hold
 * the 0xA5 it was filled with. Marks the level failed at the first mismatch. */
static void compare_u8_region(int level, const uint8_t *dst, ptrdiff_t ds, size_t dn, int ow, int oh,
                              const uint8_t *spec, ptrdiff_t spec_stride, const uint8_t *first,
                              const char *what)
{
    for (int y = 0; y < oh && !g_level_fail[level]; y++)
        for (int x = 0; x < ds && (size_t)(y * ds + x) < dn; x++) {
            const uint8_t got = dst[y * ds + x];
            const uint8_t want = x >= ow ? 0xA5 : level == 0 ? spec[y * spec_stride + x] : first[y * ds + x];
            if (got != want) {
                fprintf(stderr, "  MISMATCH %s/%s %s at y=%d x=%d: want %d got %d%s\n", g_op,
                        sk_level_name(level), g_ctx, y, x, want, got,
                        x >= ow ? " (row padding written)" : level == 0 ? what : "");
                g_level_fail[level] = 1;
                break;
            }
        }
}

static void fail_ref(const char *what)
{
    if (!g_level_fail[0])
        fprintf(stderr, "  REFERENCE %s: %s (%s)\n", g_op, what, g_ctx);
    g_level_fail[0] = 1;
}

/* Reference output must hold sentinels outside rows [y0,y1) x cols [0,w). */
static void check_untouched(const tbuf *o, int y0, int y1)
{
    float s = sentinel();
    for (size_t i = 0; i < o->n; i++) {
        ptrdiff_t rem = (ptrdiff_t)i % o->t.plane;
        ptrdiff_t y = rem / o->t.stride, x = rem % o->t.stride;
        int inside = y < o->t.h && y >= y0 && y < y1 && x < o->t.w;
        if (!inside && !bits_eq(o->t.data[i], s)) { fail_ref("wrote outside band"); return; }
        if (inside && bits_eq(o->t.data[i], s)) { fail_ref("left band element unwritten"); return; }
    }
}

/* |got - exact| <= bound: bound from the number of roundings and the sum of
 * absolute terms (standard a-priori bound for recursive summation / FMA). */
static void check_close(double got, double exact, double mag, int nterms)
{
    g_checks[0]++;
    double tol = (nterms + 2) * (double)FLT_EPSILON * mag + 1e-30;
    if (!(fabs(got - exact) <= tol)) {
        char msg[160];
        snprintf(msg, sizeof msg, "vs double: got %.9g exact %.9g tol %.3g", got, exact, tol);
        fail_ref(msg);
    }
}

static void begin_op(const char *op)
{
    g_op = op;
    memset(g_level_fail, 0, sizeof g_level_fail);
    memset(g_checks, 0, sizeof g_checks);
}

static void end_op(void)
{
    for (int l = 0; l < NLEVELS; l++) {
        if (!sk_level_supported(l)) continue;
        printf("  %-18s %-9s %s  (%ld %s)\n", g_op, sk_level_name(l),
               g_level_fail[l] ? "FAIL" : "PASS", g_checks[l],
               l == 0 ? g_ref_what : "bit-exact runs vs reference");
        if (g_level_fail[l]) { g_fail_ops[l]++; g_any_fail = 1; }
    }
}

/* Random band [y0,y1) plus a split of it into up to 3 sub-bands. */
typedef struct band { int y0, y1, n, cut[4]; } band;
static band rnd_band(int h)
{
    band b;
    if (rndi(0, 2) == 0) { b.y0 = 0; b.y1 = h; }
    else { b.y0 = rndi(0, h - 1); b.y1 = rndi(b.y0 + 1, h); }
    b.n = rndi(1, 3);
    b.cut[0] = b.y0;
    b.cut[b.n] = b.y1;
    for (int i = 1; i < b.n; i++) b.cut[i] = rndi(b.cut[i - 1], b.y1);
    return b;
}

/* --------------------------------------------------------- the test loop */

/* Each op test fills `ref` by calling level 0 over the whole band, then for
 * every SIMD level calls it over the sub-bands and compares. CALL(l, o, y0,
 * y1) must invoke level l writing tensor o. */
#define RUN_LEVELS(outbuf, BAND, CALL)                                                     \
    do {                                                                                   \
        tbuf ref_ = tclone(&(outbuf));                                                     \
        int rc_ = CALL(0, &ref_, (BAND).y0, (BAND).y1);                                    \
        if (rc_ != SK_OK) fail_ref("returned error");                                      \
        for (int l_ = 1; l_ < NLEVELS; l_++) {                                             \
            if (!sk_level_supported(l_)) continue;                                         \
            tbuf got_ = tclone(&(outbuf));                                                 \
            for (int s_ = 0; s_ < (BAND).n; s_++)                                          \
                if (CALL(l_, &got_, (BAND).cut[s_], (BAND).cut[s_ + 1]) != SK_OK)          \
                    g_level_fail[l_] = 1;                                                  \
            compare_out(&ref_, &got_, l_);                                                 \
            tfree(&got_);                                                                  \
        }                                                                                  \
        (outbuf).t.data = ref_.t.data; /* hand the reference result back */               \
        gfree(&(outbuf).g);                                                                \
        (outbuf).g = ref_.g;                                                               \
    } while (0)

static sk_act rnd_act(int nch, float **slope, gbuf *g)
{
    sk_act a = { rndi(0, 2), NULL };
    *slope = fbuf(nch, g);
    if (a.kind == SK_ACT_PRELU) a.slope = *slope;
    return a;
}

static double act_d(double v, sk_act a, int c)
{
    if (a.kind == SK_ACT_RELU) return v > 0 ? v : 0;
    if (a.kind == SK_ACT_PRELU) return v > 0 ? v : (double)a.slope[c] * v;
    return v;
}

static int g_iters = 600;

/* 1. depthwise ----------------------------------------------------------- */
typedef int (*dw_fn)(const sk_tensor *, const sk_tensor *, const float *, const float *, int,
                     int, sk_act, int, int);
static const dw_fn dw_tab[NLEVELS] = { sk_dwconv_ref, sk_dwconv_avx2, sk_dwconv_avx512,
    sk_dwconv_neon };

static void test_dwconv(void)
{
    begin_op("dwconv");
    for (int it = 0; it < g_iters; it++) {
        const int ks[4] = { 1, 3, 5, 7 };
        /* Sweep every width 1..67 with every k and both borders. */
        int c = rndi(1, 4), h = rndi(1, 9), w = 1 + it % 67, k = ks[(it / 67) % 4];
        int border = (it / 268) % 2;
        tbuf in = talloc(c, h, w, 0), out = talloc(c, h, w, rndi(0, 1));
        tfill(&in);
        gbuf gw, gb, gs;
        float *wt = fbuf(c * k * k, &gw), *bias = fbuf(c, &gb), *slope;
        sk_act act = rnd_act(c, &slope, &gs);
        const float *bp = rndi(0, 3) ? bias : NULL;
        band b = rnd_band(h);
        snprintf(g_ctx, sizeof g_ctx, "c=%d h=%d w=%d k=%d border=%d act=%d band=[%d,%d)", c, h, w,
                 k, border, act.kind, b.y0, b.y1);
#define DW_CALL(l, o, a0, a1) dw_tab[l](&in.t, &(o)->t, wt, bp, k, border, act, a0, a1)
        RUN_LEVELS(out, b, DW_CALL);
        check_untouched(&out, b.y0, b.y1);
        for (int ch = 0; ch < c; ch++)
            for (int y = b.y0; y < b.y1; y++)
                for (int x = 0; x < w; x++) {
                    double s = bp ? bp[ch] : 0, m = fabs(s);
                    for (int ky = 0; ky < k; ky++)
                        for (int kx = 0; kx < k; kx++) {
                            int iy = y + ky - k / 2, ix = x + kx - k / 2;
                            double v;
                            if (border == SK_BORDER_ZERO && (iy < 0 || iy >= h || ix < 0 || ix >= w)) v = 0;
                            else {
                                iy = iy < 0 ? 0 : iy >= h ? h - 1 : iy;
                                ix = ix < 0 ? 0 : ix >= w ? w - 1 : ix;
                                v = at(&in.t, ch, iy, ix);
                            }
                            s += (double)wt[(ch * k + ky) * k + kx] * v;
                            m += fabs((double)wt[(ch * k + ky) * k + kx] * v);
                        }
                    check_close(at(&out.t, ch, y, x), act_d(s, act, ch), m, k * k);
                }
        tfree(&in); tfree(&out); gfree(&gw); gfree(&gb); gfree(&gs);
    }
    end_op();
}

/* 2. pointwise ----------------------------------------------------------- */
typedef int (*pw_fn)(const sk_tensor *, const sk_tensor *, const float *, const float *, sk_act,
                     const sk_tensor *, int, int);
static const pw_fn pw_tab[NLEVELS] = { sk_pwconv_ref, sk_pwconv_avx2, sk_pwconv_avx512,
    sk_pwconv_neon };

static void test_pwconv(void)
{
    begin_op("pwconv");
    for (int it = 0; it < g_iters; it++) {
        const int chs[] = { 1, 2, 3, 4, 5, 7, 8, 9, 12, 16, 17, 24, 32 };
        int cin = chs[rndi(0, 12)], cout = chs[rndi(0, 12)], h = rndi(1, 9), w = 1 + it % 67;
        int tight = rndi(0, 1);
        tbuf in = talloc(cin, h, w, tight), out = talloc(cout, h, w, tight);
        tfill(&in);
        gbuf gw, gb, gs;
        float *wt = fbuf(cout * cin, &gw), *bias = fbuf(cout, &gb), *slope;
        sk_act act = rnd_act(cout, &slope, &gs);
        const float *bp = rndi(0, 3) ? bias : NULL;
        int resmode = rndi(0, 2); /* 0 none, 1 separate, 2 in place (res == out) */
        tbuf res = talloc(cout, h, w, tight);
        tfill(&res);
        if (resmode == 2) { tfree(&out); out = tclone(&res); }
        band b = rnd_band(h);
        snprintf(g_ctx, sizeof g_ctx, "cin=%d cout=%d h=%d w=%d act=%d res=%d band=[%d,%d)", cin,
                 cout, h, w, act.kind, resmode, b.y0, b.y1);
        /* Keep a copy of the residual: in-place mode overwrites it. */
        tbuf res0 = tclone(resmode == 2 ? &out : &res);
#define PW_CALL(l, o, a0, a1) \
    pw_tab[l](&in.t, &(o)->t, wt, bp, act, resmode == 0 ? NULL : resmode == 1 ? &res.t : &(o)->t, a0, a1)
        RUN_LEVELS(out, b, PW_CALL);
        if (resmode != 2) check_untouched(&out, b.y0, b.y1);
        for (int co = 0; co < cout; co++)
            for (int y = b.y0; y < b.y1; y++)
                for (int x = 0; x < w; x++) {
                    double s = bp ? bp[co] : 0, m = fabs(s);
                    for (int ci = 0; ci < cin; ci++) {
                        double t = (double)wt[co * cin + ci] * at(&in.t, ci, y, x);
                        s += t; m += fabs(t);
                    }
                    double e = act_d(s, act, co);
                    if (act.kind == SK_ACT_PRELU) m *= fabs(act.slope[co]) > 1 ? fabs(act.slope[co]) : 1;
                    if (resmode) { double r = at(&res0.t, co, y, x); e += r; m += fabs(r); }
                    check_close(at(&out.t, co, y, x), e, m, cin + 1);
                }
        tfree(&in); tfree(&out); tfree(&res); tfree(&res0); gfree(&gw); gfree(&gb); gfree(&gs);
    }
    end_op();
}

/* 3. full conv ----------------------------------------------------------- */
typedef int (*cv_fn)(const sk_tensor *, const sk_tensor *, const float *, const float *, int,
                     int, sk_act, int, int);
static const cv_fn cv_tab[NLEVELS] = { sk_conv_ref, sk_conv_avx2, sk_conv_avx512,
    sk_conv_neon };

static void test_conv(void)
{
    begin_op("conv");
    for (int it = 0; it < g_iters; it++) {
        const int ks[4] = { 1, 3, 5, 7 };
        const int cos[] = { 1, 3, 4, 8, 9, 16, 17 };
        int cin = rndi(1, 4), cout = cos[rndi(0, 6)], h = rndi(1, 9), w = 1 + it % 67;
        int k = ks[(it / 67) % 4], border = (it / 268) % 2;
        tbuf in = talloc(cin, h, w, 0), out = talloc(cout, h, w, rndi(0, 1));
        tfill(&in);
        gbuf gw, gb, gs;
        float *wt = fbuf(cout * cin * k * k, &gw), *bias = fbuf(cout, &gb), *slope;
        sk_act act = rnd_act(cout, &slope, &gs);
        const float *bp = rndi(0, 3) ? bias : NULL;
        band b = rnd_band(h);
        snprintf(g_ctx, sizeof g_ctx, "cin=%d cout=%d h=%d w=%d k=%d border=%d act=%d band=[%d,%d)",
                 cin, cout, h, w, k, border, act.kind, b.y0, b.y1);
#define CV_CALL(l, o, a0, a1) cv_tab[l](&in.t, &(o)->t, wt, bp, k, border, act, a0, a1)
        RUN_LEVELS(out, b, CV_CALL);
        check_untouched(&out, b.y0, b.y1);
        for (int co = 0; co < cout; co++)
            for (int y = b.y0; y < b.y1; y++)
                for (int x = 0; x < w; x++) {
                    double s = bp ? bp[co] : 0, m = fabs(s);
                    for (int ci = 0; ci < cin; ci++)
                        for (int ky = 0; ky < k; ky++)
                            for (int kx = 0; kx < k; kx++) {
                                int iy = y + ky - k / 2, ix = x + kx - k / 2;
                                double v;
                                if (border == SK_BORDER_ZERO && (iy < 0 || iy >= h || ix < 0 || ix >= w)) v = 0;
                                else {
                                    iy = iy < 0 ? 0 : iy >= h ? h - 1 : iy;
                                    ix = ix < 0 ? 0 : ix >= w ? w - 1 : ix;
                                    v = at(&in.t, ci, iy, ix);
                                }
                                double t = (double)wt[((co * cin + ci) * k + ky) * k + kx] * v;
                                s += t; m += fabs(t);
                            }
                    check_close(at(&out.t, co, y, x), act_d(s, act, co), m, cin * k * k);
                }
        tfree(&in); tfree(&out); gfree(&gw); gfree(&gb); gfree(&gs);
    }
    end_op();
}

/* 4/5. pixel unshuffle / shuffle ---------------------------------------- */
typedef int (*s2d_fn)(const sk_tensor *, const sk_tensor *, int, int);
static const s2d_fn s2d_tab[NLEVELS] = { sk_space_to_depth2x_ref, sk_space_to_depth2x_avx2,
                                         sk_space_to_depth2x_avx512,
    sk_space_to_depth2x_neon };
typedef int (*d2s_fn)(const sk_tensor *, const sk_tensor *, const sk_tensor *, int, int);
static const d2s_fn d2s_tab[NLEVELS] = { sk_depth_to_space2x_ref, sk_depth_to_space2x_avx2,
                                         sk_depth_to_space2x_avx512,
    sk_depth_to_space2x_neon };

static void test_s2d(void)
{
    begin_op("space_to_depth2x");
    for (int it = 0; it < g_iters; it++) {
        int c = rndi(1, 3), h = rndi(1, 9), w = 1 + it % 67;
        tbuf in = talloc(c, 2 * h, 2 * w, 0), out = talloc(4 * c, h, w, rndi(0, 1));
        tfill(&in);
        band b = rnd_band(h);
        snprintf(g_ctx, sizeof g_ctx, "c=%d h=%d w=%d band=[%d,%d)", c, h, w, b.y0, b.y1);
#define S2D_CALL(l, o, a0, a1) s2d_tab[l](&in.t, &(o)->t, a0, a1)
        RUN_LEVELS(out, b, S2D_CALL);
        check_untouched(&out, b.y0, b.y1);
        /* PyTorch: x.view(C, H, 2, W, 2).permute(0, 2, 4, 1, 3) */
        for (int oc = 0; oc < 4 * c; oc++)
            for (int y = b.y0; y < b.y1; y++)
                for (int x = 0; x < w; x++) {
                    int ci = oc / 4, i = (oc / 2) % 2, j = oc % 2;
                    g_checks[0]++;
                    if (!bits_eq(at(&out.t, oc, y, x), at(&in.t, ci, y * 2 + i, x * 2 + j)))
                        fail_ref("pixel_unshuffle order");
                }
        tfree(&in); tfree(&out);
    }
    end_op();
}

static void test_d2s(void)
{
    begin_op("depth_to_space2x");
    for (int it = 0; it < g_iters; it++) {
        int c = rndi(1, 3), h = rndi(1, 9), w = 1 + it % 67;
        int tight = rndi(0, 1);
        tbuf in = talloc(4 * c, h, w, 0), out = talloc(c, 2 * h, 2 * w, tight);
        tbuf base = talloc(c, 2 * h, 2 * w, tight);
        tfill(&in);
        tfill(&base);
        int bmode = rndi(0, 2); /* none, separate, in place */
        if (bmode == 2) { tfree(&out); out = tclone(&base); }
        band b = rnd_band(2 * h);
        snprintf(g_ctx, sizeof g_ctx, "c=%d h=%d w=%d base=%d band=[%d,%d)", c, h, w, bmode, b.y0, b.y1);
#define D2S_CALL(l, o, a0, a1) \
    d2s_tab[l](&in.t, &(o)->t, bmode == 0 ? NULL : bmode == 1 ? &base.t : &(o)->t, a0, a1)
        RUN_LEVELS(out, b, D2S_CALL);
        if (bmode != 2) check_untouched(&out, b.y0, b.y1);
        /* PyTorch: x.view(C, 2, 2, H, W).permute(0, 3, 1, 4, 2) */
        for (int oc = 0; oc < c; oc++)
            for (int oy = b.y0; oy < b.y1; oy++)
                for (int ox = 0; ox < 2 * w; ox++) {
                    float v = at(&in.t, oc * 4 + (oy % 2) * 2 + (ox % 2), oy / 2, ox / 2);
                    if (bmode) v = at(&base.t, oc, oy, ox) + v;
                    g_checks[0]++;
                    if (!bits_eq(at(&out.t, oc, oy, ox), v)) fail_ref("pixel_shuffle order");
                }
        tfree(&in); tfree(&out); tfree(&base);
    }
    end_op();
}

/* 6. transposed conv ----------------------------------------------------- */
typedef int (*tc_fn)(const sk_tensor *, const sk_tensor *, const float *, const float *, int, int,
                     int, const sk_tensor *, int, int);
static const tc_fn tc_tab[NLEVELS] = { sk_tconv2x_ref, sk_tconv2x_avx2, sk_tconv2x_avx512,
    sk_tconv2x_neon };

static void test_tconv(void)
{
    begin_op("tconv2x");
    for (int it = 0; it < g_iters; it++) {
        int cin = rndi(1, 5), cout = rndi(1, 2), h = rndi(1, 9), w = 1 + it % 45;
        int k = rndi(0, 2) ? (rndi(0, 1) ? 4 : 9) : rndi(1, 12);
        int pad = rndi(0, k), op = rndi(0, 1);
        int ho = (h - 1) * 2 - 2 * pad + k + op, wo = (w - 1) * 2 - 2 * pad + k + op;
        if (ho < 1 || wo < 1) { it--; continue; }
        tbuf in = talloc(cin, h, w, 0), out = talloc(cout, ho, wo, 0);
        tbuf res = talloc(cout, ho, wo, 0);
        tfill(&in);
        tfill(&res);
        gbuf gw, gb;
        float *wt = fbuf(cin * cout * k * k, &gw), *bias = fbuf(cout, &gb);
        const float *bp = rndi(0, 3) ? bias : NULL;
        int rmode = rndi(0, 1);
        band b = rnd_band(ho);
        snprintf(g_ctx, sizeof g_ctx, "cin=%d cout=%d h=%d w=%d k=%d p=%d op=%d res=%d band=[%d,%d)",
                 cin, cout, h, w, k, pad, op, rmode, b.y0, b.y1);
#define TC_CALL(l, o, a0, a1) \
    tc_tab[l](&in.t, &(o)->t, wt, bp, k, pad, op, rmode ? &res.t : NULL, a0, a1)
        RUN_LEVELS(out, b, TC_CALL);
        check_untouched(&out, b.y0, b.y1);
        /* Independent formulation: PyTorch's scatter definition. */
        double *acc = calloc((size_t)cout * ho * wo, sizeof(double));
        double *mag = calloc((size_t)cout * ho * wo, sizeof(double));
        int *cnt = calloc((size_t)cout * ho * wo, sizeof(int));
        for (int ci = 0; ci < cin; ci++)
            for (int iy = 0; iy < h; iy++)
                for (int ix = 0; ix < w; ix++)
                    for (int co = 0; co < cout; co++)
                        for (int ky = 0; ky < k; ky++)
                            for (int kx = 0; kx < k; kx++) {
                                int oy = iy * 2 - pad + ky, ox = ix * 2 - pad + kx;
                                if (oy < 0 || oy >= ho || ox < 0 || ox >= wo) continue;
                                double t = (double)at(&in.t, ci, iy, ix) *
                                           wt[((ci * cout + co) * k + ky) * k + kx];
                                size_t i = ((size_t)co * ho + oy) * wo + ox;
                                acc[i] += t; mag[i] += fabs(t); cnt[i]++;
                            }
        for (int co = 0; co < cout; co++)
            for (int oy = b.y0; oy < b.y1; oy++)
                for (int ox = 0; ox < wo; ox++) {
                    size_t i = ((size_t)co * ho + oy) * wo + ox;
                    double e = acc[i] + (bp ? bp[co] : 0), m = mag[i] + (bp ? fabs(bp[co]) : 0);
                    if (rmode) { e += at(&res.t, co, oy, ox); m += fabs(at(&res.t, co, oy, ox)); }
                    check_close(at(&out.t, co, oy, ox), e, m, cin * k * k / 2 + 2);
                }
        free(acc); free(mag); free(cnt);
        tfree(&in); tfree(&out); tfree(&res); gfree(&gw); gfree(&gb);
    }
    end_op();
}

/* 7. resampling ---------------------------------------------------------- */
typedef int (*bc_fn)(const sk_tensor *, const sk_tensor *, float, float *, int, int);
static const bc_fn bc_tab[NLEVELS] = { sk_bicubic2x_ref, sk_bicubic2x_avx2, sk_bicubic2x_avx512,
    sk_bicubic2x_neon };
typedef int (*bl_fn)(const sk_tensor *, const sk_tensor *, float *, int, int);
static const bl_fn bl_tab[NLEVELS] = { sk_bilinear2x_ref, sk_bilinear2x_avx2, sk_bilinear2x_avx512,
    sk_bilinear2x_neon };
typedef int (*ar_fn)(const sk_tensor *, const sk_tensor *, int, int);
static const ar_fn ar_tab[NLEVELS] = { sk_area_down2x_ref, sk_area_down2x_avx2, sk_area_down2x_avx512,
    sk_area_down2x_neon };

static double cubic_w(double x, double a) /* PyTorch cubic_convolution1/2 */
{
    x = fabs(x);
    if (x <= 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
    if (x < 2) return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
    return 0;
}

/* PyTorch upsample_bicubic2d / upsample_bilinear2d, align_corners=False,
 * scale 2, in double. Returns the value and the sum of |terms|. */
static double naive_up(const sk_tensor *in, int c, int oy, int ox, int cubic, double a, double *mag)
{
    double sy = (oy + 0.5) * 0.5 - 0.5, sx = (ox + 0.5) * 0.5 - 0.5;
    double s = 0, m = 0;
    if (cubic) {
        int fy = (int)floor(sy), fx = (int)floor(sx);
        double ty = sy - fy, tx = sx - fx;
        for (int i = -1; i <= 2; i++)
            for (int j = -1; j <= 2; j++) {
                int yy = fy + i, xx = fx + j;
                yy = yy < 0 ? 0 : yy >= in->h ? in->h - 1 : yy;
                xx = xx < 0 ? 0 : xx >= in->w ? in->w - 1 : xx;
                double t = cubic_w(i - ty, a) * cubic_w(j - tx, a) * at(in, c, yy, xx);
                s += t; m += fabs(t);
            }
    } else {
        if (sy < 0) sy = 0;
        if (sx < 0) sx = 0;
        int y0 = (int)sy, x0 = (int)sx;
        int y1 = y0 + 1 < in->h ? y0 + 1 : in->h - 1, x1 = x0 + 1 < in->w ? x0 + 1 : in->w - 1;
        double ly = sy - y0, lx = sx - x0;
        double v[4] = { (1 - ly) * (1 - lx) * at(in, c, y0, x0), (1 - ly) * lx * at(in, c, y0, x1),
                        ly * (1 - lx) * at(in, c, y1, x0), ly * lx * at(in, c, y1, x1) };
        for (int i = 0; i < 4; i++) { s += v[i]; m += fabs(v[i]); }
    }
    *mag = m;
    return s;
}

static void test_upscale(int cubic)
{
    begin_op(cubic ? "bicubic2x" : "bilinear2x");
    for (int it = 0; it < g_iters; it++) {
        int c = rndi(1, 2), h = rndi(1, 9), w = 1 + it % 67;
        float a = rndi(0, 1) ? -0.75f : -0.5f;
        tbuf in = talloc(c, h, w, 0), out = talloc(c, 2 * h, 2 * w, rndi(0, 1));
        tfill(&in);
        gbuf gs;
        float *scr = fbuf((int)sk_upscale2x_scratch_floats(2 * w), &gs);
        band b = rnd_band(2 * h);
        snprintf(g_ctx, sizeof g_ctx, "c=%d h=%d w=%d a=%g band=[%d,%d)", c, h, w, a, b.y0, b.y1);
#define BC_CALL(l, o, a0, a1) bc_tab[l](&in.t, &(o)->t, a, scr, a0, a1)
#define BL_CALL(l, o, a0, a1) bl_tab[l](&in.t, &(o)->t, scr, a0, a1)
        if (cubic) RUN_LEVELS(out, b, BC_CALL);
        else RUN_LEVELS(out, b, BL_CALL);
        check_untouched(&out, b.y0, b.y1);
        for (int ch = 0; ch < c; ch++)
            for (int y = b.y0; y < b.y1; y++)
                for (int x = 0; x < 2 * w; x++) {
                    double m, e = naive_up(&in.t, ch, y, x, cubic, a, &m);
                    check_close(at(&out.t, ch, y, x), e, m * 2, 8);
                }
        tfree(&in); tfree(&out); gfree(&gs);
    }
    end_op();
}

static void test_area(void)
{
    begin_op("area_down2x");
    for (int it = 0; it < g_iters; it++) {
        int c = rndi(1, 2), h = rndi(2, 19), w = 2 + it % 134;
        tbuf in = talloc(c, h, w, 0), out = talloc(c, h / 2, w / 2, rndi(0, 1));
        tfill(&in);
        band b = rnd_band(h / 2);
        snprintf(g_ctx, sizeof g_ctx, "c=%d h=%d w=%d band=[%d,%d)", c, h, w, b.y0, b.y1);
#define AR_CALL(l, o, a0, a1) ar_tab[l](&in.t, &(o)->t, a0, a1)
        RUN_LEVELS(out, b, AR_CALL);
        check_untouched(&out, b.y0, b.y1);
        for (int ch = 0; ch < c; ch++)
            for (int y = b.y0; y < b.y1; y++)
                for (int x = 0; x < w / 2; x++) {
                    double v[4] = { at(&in.t, ch, 2 * y, 2 * x), at(&in.t, ch, 2 * y, 2 * x + 1),
                                    at(&in.t, ch, 2 * y + 1, 2 * x), at(&in.t, ch, 2 * y + 1, 2 * x + 1) };
                    double e = (v[0] + v[1] + v[2] + v[3]) / 4;
                    double m = (fabs(v[0]) + fabs(v[1]) + fabs(v[2]) + fabs(v[3])) / 4;
                    check_close(at(&out.t, ch, y, x), e, m, 4);
                }
        tfree(&in); tfree(&out);
    }
    end_op();
}

/* 8. conversions --------------------------------------------------------- */
typedef int (*u2f_fn)(const uint8_t *, ptrdiff_t, float *, ptrdiff_t, int, int, float, int, int);
static const u2f_fn u2f_tab[NLEVELS] = { sk_u8_to_f32_ref, sk_u8_to_f32_avx2, sk_u8_to_f32_avx512,
    sk_u8_to_f32_neon };
typedef int (*f2u_fn)(const float *, ptrdiff_t, uint8_t *, ptrdiff_t, int, int, float, int, int);
static const f2u_fn f2u_tab[NLEVELS] = { sk_f32_to_u8_ref, sk_f32_to_u8_avx2, sk_f32_to_u8_avx512,
    sk_f32_to_u8_neon };

static void test_u8_to_f32(void)
{
    begin_op("u8_to_f32");
    for (int it = 0; it < g_iters; it++) {
        int h = rndi(1, 9), w = 1 + it % 67;
        ptrdiff_t ss = w + rndi(0, 9);
        float scale = rndi(0, 1) ? 1.0f / 255.0f : 1.0f;
        gbuf gsrc = galloc((size_t)((h - 1) * ss + w));
        uint8_t *src = gsrc.p;
        for (ptrdiff_t i = 0; i < (h - 1) * ss + w; i++) src[i] = (uint8_t)rnd64();
        tbuf out = talloc(1, h, w, rndi(0, 1));
        band b = rnd_band(h);
        snprintf(g_ctx, sizeof g_ctx, "h=%d w=%d scale=%g band=[%d,%d)", h, w, scale, b.y0, b.y1);
#define U2F_CALL(l, o, a0, a1) u2f_tab[l](src, ss, (o)->t.data, (o)->t.stride, w, h, scale, a0, a1)
        RUN_LEVELS(out, b, U2F_CALL);
        check_untouched(&out, b.y0, b.y1);
        for (int y = b.y0; y < b.y1; y++)
            for (int x = 0; x < w; x++, g_checks[0]++)
                if (at(&out.t, 0, y, x) != (float)((double)src[y * ss + x] * scale))
                    fail_ref("u8->f32 value");
        tfree(&out); gfree(&gsrc);
    }
    end_op();
}

static void test_f32_to_u8(void)
{
    begin_op("f32_to_u8");
    /* Exact rounding/clamping rules on hand-picked values. */
    {
        const float v[] = { -1.0f, -0.0f, 0.0f, 0.5f, 1.5f, 2.5f, 3.49999f, 127.5f, 128.5f, 254.5f,
                            254.50002f, 255.0f, 255.5f, 300.0f, INFINITY, -INFINITY, NAN };
        const uint8_t e[] = { 0, 0, 0, 0, 2, 2, 3, 128, 128, 254, 255, 255, 255, 255, 255, 0, 0 };
        const int n = (int)(sizeof v / sizeof v[0]);
        for (int l = 0; l < NLEVELS; l++) {
            if (!sk_level_supported(l)) continue;
            uint8_t d[32];
            memset(d, 0xAA, sizeof d);
            f2u_tab[l](v, n, d, n, n, 1, 1.0f, 0, 1);
            for (int i = 0; i < n; i++)
                if (d[i] != e[i]) {
                    fprintf(stderr, "  f32_to_u8/%s: %g -> %d, want %d\n", sk_level_name(l), v[i], d[i], e[i]);
                    g_level_fail[l] = 1;
                }
        }
    }
    for (int it = 0; it < g_iters; it++) {
        int h = rndi(1, 9), w = 1 + it % 67;
        float scale = rndi(0, 1) ? 255.0f : 1.0f;
        tbuf in = talloc(1, h, w, 0);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                float v = scale == 1.0f ? rndf() * 160.0f + 128.0f : rndf() * 0.6f + 0.5f;
                if (rndi(0, 7) == 0) v = (float)rndi(-2, 257) + 0.5f; /* exact ties */
                if (scale != 1.0f && rndi(0, 7) == 0) v /= 255.0f;
                if (rndi(0, 63) == 0) v = NAN;
                in.t.data[y * in.t.stride + x] = v;
            }
        ptrdiff_t ds = w + rndi(0, 9);
        size_t dn = (size_t)((h - 1) * ds + w);
        gbuf gr = galloc(dn), gl = galloc(dn);
        uint8_t *dr = gr.p, *dl = gl.p;
        band b = rnd_band(h);
        memset(dr, 0x5A, dn);
        f2u_tab[0](in.t.data, in.t.stride, dr, ds, w, h, scale, b.y0, b.y1);
        for (int l = 1; l < NLEVELS; l++) {
            if (!sk_level_supported(l)) continue;
            memset(dl, 0x5A, dn);
            for (int s = 0; s < b.n; s++) f2u_tab[l](in.t.data, in.t.stride, dl, ds, w, h, scale, b.cut[s], b.cut[s + 1]);
            g_checks[l]++;
            if (memcmp(dr, dl, dn)) {
                fprintf(stderr, "  MISMATCH f32_to_u8/%s h=%d w=%d\n", sk_level_name(l), h, w);
                g_level_fail[l] = 1;
            }
        }
        for (int y = 0; y < h; y++)
            for (int x = 0; x < (y == h - 1 ? w : ds); x++) {
                uint8_t got = dr[y * ds + x];
                if (y < b.y0 || y >= b.y1 || x >= w) {
                    if (got != 0x5A) fail_ref("f32->u8 wrote outside band");
                    continue;
                }
                g_checks[0]++;
                double v = (double)in.t.data[y * in.t.stride + x] * scale;
                double e = v != v ? 0 : v < 0 ? 0 : v > 255 ? 255 : nearbyint(v);
                if (fabs(got - e) > (fabs(v - floor(v) - 0.5) < 1e-4 ? 1 : 0)) fail_ref("f32->u8 value");
            }
        tfree(&in); gfree(&gr); gfree(&gl);
    }
    end_op();
}

/* Invalid arguments must be rejected identically by every level. */
static void test_errors(void)
{
    begin_op("argument checks");
    tbuf a = talloc(2, 4, 8, 1), o = talloc(2, 4, 8, 1), o3 = talloc(2, 4, 7, 1);
    float wt[2 * 49] = { 0 }, sc[1024];
    sk_act none = { 0, NULL }, prelu_null = { SK_ACT_PRELU, NULL };
    for (int l = 0; l < NLEVELS; l++) {
        if (!sk_level_supported(l)) continue;
        int bad = 0;
        bad |= dw_tab[l](&a.t, &o.t, wt, NULL, 4, 0, none, 0, 4) != SK_EINVAL;  /* even k */
        bad |= dw_tab[l](&a.t, &o.t, wt, NULL, 3, 0, none, 0, 5) != SK_EINVAL;  /* band */
        bad |= dw_tab[l](&a.t, &o.t, wt, NULL, 3, 0, none, 3, 2) != SK_EINVAL;  /* band */
        bad |= dw_tab[l](&a.t, &a.t, wt, NULL, 3, 0, none, 0, 4) != SK_EINVAL;  /* alias */
        bad |= dw_tab[l](&a.t, &o.t, wt, NULL, 3, 0, prelu_null, 0, 4) != SK_EINVAL;
        bad |= dw_tab[l](&a.t, &o3.t, wt, NULL, 3, 0, none, 0, 4) != SK_EINVAL; /* shape */
        bad |= dw_tab[l](&a.t, &o.t, wt, NULL, 3, 0, none, 2, 2) != SK_OK;      /* empty */
        {   /* residual partially overlapping the output */
            sk_tensor sh = o.t;
            sh.data += 1;
            bad |= pw_tab[l](&a.t, &o.t, wt, NULL, none, &sh, 0, 4) != SK_EINVAL;
        }
        bad |= s2d_tab[l](&a.t, &o.t, 0, 2) != SK_EINVAL;
        bad |= tc_tab[l](&a.t, &o.t, wt, NULL, 4, 1, 0, NULL, 0, 4) != SK_EINVAL;
        bad |= bc_tab[l](&a.t, &o.t, -0.75f, sc, 0, 4) != SK_EINVAL;
        bad |= bc_tab[l](&a.t, &o.t, -0.75f, NULL, 0, 4) != SK_EINVAL;
        g_checks[l]++;
        if (bad) { g_level_fail[l] = 1; fprintf(stderr, "  argument check mismatch at level %s\n", sk_level_name(l)); }
    }
    tfree(&a); tfree(&o); tfree(&o3);
    end_op();
}

/* -------------------------------------------------------------- benchmark */

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int g_quick;

/* Minimum wall time of one call over repeated runs (>= min_time total). */
#define TIME_IT(result, EXPR)                                                  \
    do {                                                                       \
        double best_ = 1e30, t0_ = now();                                      \
        int reps_ = 0;                                                         \
        do {                                                                   \
            double s_ = now();                                                 \
            EXPR;                                                              \
            double d_ = now() - s_;                                            \
            if (d_ < best_) best_ = d_;                                        \
            reps_++;                                                           \
        } while ((now() - t0_ < (g_quick ? 0.05 : 0.4) || reps_ < 3) &&        \
                 !(reps_ >= 2 && now() - t0_ > 2.0));                          \
        result = best_;                                                        \
    } while (0)

static double g_ghz;

#if defined(__x86_64__)
/* Core clock estimate: a chain of dependent 1-cycle integer adds. */
static double measure_ghz(void)
{
    const long n = 200000000;
    double best = 1e30;
    for (int r = 0; r < 5; r++) {
        long i = n / 8;
        uint64_t x = 0;
        double s = now();
        __asm__ volatile("1:\n\t"
                         "add $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\t"
                         "add $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\t"
                         "dec %1\n\tjnz 1b\n"
                         : "+r"(x), "+r"(i));
        double d = now() - s;
        if (d < best) best = d;
    }
    return n / best * 1e-9;
}

/* Attainable FMA throughput: 12 independent in-register FMA chains (enough
 * to cover 4-cycle latency on 2 pipes), written out so no compiler spills. */
#define PEAK_BODY(T, SET1, FMA, CVT, LANES)                                           \
    T m = SET1(0.999999f), c = SET1(1e-7f);                                           \
    T a0 = SET1(0), a1 = SET1(1), a2 = SET1(2), a3 = SET1(3), a4 = SET1(4), a5 = SET1(5); \
    T a6 = SET1(6), a7 = SET1(7), a8 = SET1(8), a9 = SET1(9), a10 = SET1(10), a11 = SET1(11); \
    const long n = 50000000;                                                          \
    double s = now();                                                                 \
    for (long k = 0; k < n; k++) {                                                    \
        a0 = FMA(a0, m, c); a1 = FMA(a1, m, c); a2 = FMA(a2, m, c);                   \
        a3 = FMA(a3, m, c); a4 = FMA(a4, m, c); a5 = FMA(a5, m, c);                   \
        a6 = FMA(a6, m, c); a7 = FMA(a7, m, c); a8 = FMA(a8, m, c);                   \
        a9 = FMA(a9, m, c); a10 = FMA(a10, m, c); a11 = FMA(a11, m, c);               \
        __asm__ volatile("" ::: "memory");                                            \
    }                                                                                 \
    double d = now() - s;                                                             \
    float sink = CVT(a0) + CVT(a1) + CVT(a2) + CVT(a3) + CVT(a4) + CVT(a5) + CVT(a6)  \
               + CVT(a7) + CVT(a8) + CVT(a9) + CVT(a10) + CVT(a11);                   \
    if (sink == 12345.0f) printf(" ");                                                \
    return n * 12.0 * LANES * 2 / d * 1e-9;

__attribute__((target("avx2,fma"))) static double peak_avx2(void)
{
    PEAK_BODY(__m256, _mm256_set1_ps, _mm256_fmadd_ps, _mm256_cvtss_f32, 8)
}

__attribute__((target("avx512f,fma"))) static double peak_avx512(void)
{
    PEAK_BODY(__m512, _mm512_set1_ps, _mm512_fmadd_ps, _mm512_cvtss_f32, 16)
}
#endif

static void bench_row(const char *name, int level, double sec, double pixels, double flops)
{
    printf("  %-30s %-9s %10.3f ms %9.3f ns/px", name, sk_level_name(level), sec * 1e3,
           sec * 1e9 / pixels);
    if (flops > 0) {
        double gf = flops / sec * 1e-9;
        double theo = g_ghz * 2 * 2 * (level == SK_LEVEL_AVX512 ? 16 : level == SK_LEVEL_AVX2 ? 8 : 1);
        printf(" %8.1f GFLOP/s", gf);
        if (level > 0 && g_ghz > 0) printf("  %5.1f%% of peak", 100 * gf / theo);
    }
    printf("\n");
}

static void bench(void)
{
    const int W = 960, H = 540, C = 16;
    double t;
#if defined(__x86_64__)
    g_ghz = measure_ghz();
    printf("clock estimate: %.2f GHz (dependent-add chain)\n", g_ghz);
    printf("theoretical FMA peak (2 FMA pipes x lanes x 2 flop x GHz): avx2 %.1f, avx512 %.1f GFLOP/s\n",
           g_ghz * 32, g_ghz * 64);
    if (sk_level_supported(SK_LEVEL_AVX2)) printf("measured in-register FMA peak: avx2 %.1f GFLOP/s\n", peak_avx2());
    if (sk_level_supported(SK_LEVEL_AVX512)) printf("measured in-register FMA peak: avx512 %.1f GFLOP/s\n", peak_avx512());
#endif
    printf("single thread; ns/px = ns per output pixel position (all channels); best of N runs\n\n");

    rng_state = 1;
    tbuf in16 = talloc(C, H, W, 1), out16 = talloc(C, H, W, 1), res16 = talloc(C, H, W, 1);
    tbuf in32 = talloc(32, H, W, 1), out32 = talloc(32, H, W, 1);
    tbuf in1 = talloc(1, H, W, 1);
    tbuf big1 = talloc(1, 2 * H, 2 * W, 1), big1b = talloc(1, 2 * H, 2 * W, 1);
    tbuf big4 = talloc(4, 2 * H, 2 * W, 1), big4b = talloc(4, 2 * H, 2 * W, 1);
    tbuf small1 = talloc(1, H, W, 1);
    tfill(&in16); tfill(&res16); tfill(&big1b); tfill(&in32); tfill(&in1); tfill(&big1); tfill(&big4); tfill(&big4b);
    gbuf g1, g2, g3, g4;
    float *wt = fbuf(32 * 32 * 25, &g1), *bias = fbuf(64, &g2), *slope = fbuf(64, &g3);
    float *scr = fbuf((int)sk_upscale2x_scratch_floats(2 * W), &g4);
    sk_act none = { 0, NULL }, relu = { SK_ACT_RELU, NULL }, prelu = { SK_ACT_PRELU, slope };
    (void)relu;
    gbuf gu8 = galloc((size_t)4 * H * W), gu8o = galloc((size_t)4 * H * W);
    uint8_t *u8 = gu8.p, *u8o = gu8o.p;
    for (int i = 0; i < 4 * H * W; i++) u8[i] = (uint8_t)rnd64();
    const double px = (double)W * H, px4 = 4.0 * W * H;

    for (int l = 0; l < NLEVELS; l++) {
        if (!sk_level_supported(l)) continue;
        sk_set_level(l);
        printf("[%s]\n", sk_cpu_name());
        /* The reference is slow (libm fmaf): time it on a band to keep the
         * run short, and scale to per-pixel numbers. */
        const int hb = l == 0 ? 16 : H;
        TIME_IT(t, sk_dwconv(&in16.t, &out16.t, wt, bias, 3, 0, prelu, 0, hb));
        bench_row("dwconv 3x3 16ch +PReLU", l, t * H / hb, px, 2.0 * 9 * C * px);
        {
            double tt;
            TIME_IT(tt, sk_dwconv(&in16.t, &out16.t, wt, bias, 3, 0, prelu, 0, 8));
            bench_row("dwconv 3x3 16ch (960x8, in L2)", l, tt, W * 8.0, 2.0 * 9 * C * W * 8);
        }
        TIME_IT(t, sk_dwconv(&in16.t, &out16.t, wt, bias, 5, 0, none, 0, hb));
        bench_row("dwconv 5x5 16ch", l, t * H / hb, px, 2.0 * 25 * C * px);
        TIME_IT(t, sk_pwconv(&in16.t, &out16.t, wt, bias, none, NULL, 0, hb));
        bench_row("pwconv 16->16", l, t * H / hb, px, 2.0 * 16 * 16 * px);
        TIME_IT(t, sk_pwconv(&in16.t, &out16.t, wt, bias, prelu, &res16.t, 0, hb));
        bench_row("pwconv 16->16 +PReLU +res", l, t * H / hb, px, 2.0 * 16 * 16 * px);
        TIME_IT(t, sk_pwconv(&in32.t, &out32.t, wt, bias, none, NULL, 0, hb));
        bench_row("pwconv 32->32", l, t * H / hb, px, 2.0 * 32 * 32 * px);
        {
            /* Cache-resident: 8 rows (~1 MB in+out) repeatedly. */
            double tt;
            TIME_IT(tt, sk_pwconv(&in16.t, &out16.t, wt, bias, none, NULL, 0, 8));
            bench_row("pwconv 16->16 (960x8, in L2)", l, tt, W * 8.0, 2.0 * 256 * W * 8);
            TIME_IT(tt, sk_pwconv(&in32.t, &out32.t, wt, bias, none, NULL, 0, 4));
            bench_row("pwconv 32->32 (960x4, in L2)", l, tt, W * 4.0, 2.0 * 1024 * W * 4);
        }
        TIME_IT(t, sk_conv(&in1.t, &out16.t, wt, bias, 3, 0, prelu, 0, hb));
        bench_row("conv 3x3 1->16 +PReLU", l, t * H / hb, px, 2.0 * 9 * 16 * px);
        {
            double tt;
            TIME_IT(tt, sk_conv(&in1.t, &out16.t, wt, bias, 3, 0, prelu, 0, 8));
            bench_row("conv 3x3 1->16 (960x8, in L2)", l, tt, W * 8.0, 2.0 * 9 * 16 * W * 8);
        }
        TIME_IT(t, sk_conv(&in1.t, &out16.t, wt, bias, 5, 0, prelu, 0, hb));
        bench_row("conv 5x5 1->16 +PReLU", l, t * H / hb, px, 2.0 * 25 * 16 * px);
        {
            tbuf i4 = in16; i4.t.c = 4;
            TIME_IT(t, sk_conv(&i4.t, &out16.t, wt, bias, 3, 0, prelu, 0, hb));
            bench_row("conv 3x3 4->16 +PReLU", l, t * H / hb, px, 2.0 * 9 * 64 * px);
        }
        TIME_IT(t, sk_space_to_depth2x(&big4.t, &out16.t, 0, hb));
        bench_row("space_to_depth 4x1080p->16ch", l, t * H / hb, px, 0);
        TIME_IT(t, sk_depth_to_space2x(&in16.t, &big4b.t, &big4.t, 0, 2 * hb));
        bench_row("depth_to_space 16ch->4 +base", l, t * H / hb, px4, 0);
        TIME_IT(t, sk_tconv2x(&in16.t, &big1.t, wt, bias, 4, 1, 0, NULL, 0, 2 * hb));
        bench_row("tconv k4 p1 16->1 (->1080p)", l, t * H / hb, px4, 2.0 * 16 * 4 * px4);
        {
            double tt;
            TIME_IT(tt, sk_tconv2x(&in16.t, &big1.t, wt, bias, 4, 1, 0, NULL, 0, 16));
            bench_row("tconv k4 16->1 (1920x16, in L2)", l, tt, 2 * W * 16.0, 2.0 * 16 * 4 * 2 * W * 16);
        }
        TIME_IT(t, sk_tconv2x(&in16.t, &big1.t, wt, bias, 9, 4, 1, &big1b.t, 0, 2 * hb));
        bench_row("tconv k9 p4 op1 16->1 +res", l, t * H / hb, px4, 2.0 * 16 * 81 / 4 * px4);
        TIME_IT(t, sk_bicubic2x(&in1.t, &big1.t, -0.75f, scr, 0, 2 * hb));
        bench_row("bicubic2x 1ch 540p->1080p", l, t * H / hb, px4, 0);
        TIME_IT(t, sk_bilinear2x(&in1.t, &big1.t, scr, 0, 2 * hb));
        bench_row("bilinear2x 1ch 540p->1080p", l, t * H / hb, px4, 0);
        TIME_IT(t, sk_area_down2x(&big1.t, &small1.t, 0, hb));
        bench_row("area_down2x 1ch 1080p->540p", l, t * H / hb, px, 0);
        TIME_IT(t, sk_u8_to_f32(u8, 2 * W, big1.t.data, 2 * W, 2 * W, 2 * H, 1.0f / 255, 0, 2 * hb));
        bench_row("u8_to_f32 1080p", l, t * H / hb, px4, 0);
        TIME_IT(t, sk_f32_to_u8(big1.t.data, 2 * W, u8o, 2 * W, 2 * W, 2 * H, 255.0f, 0, 2 * hb));
        bench_row("f32_to_u8 1080p", l, t * H / hb, px4, 0);
        printf("\n");
    }
    sk_set_level(SK_LEVEL_AVX512);
}

#include "fused_check.h"
#include "encoder_check.h"
#include "q8_check.h"

/* ------------------------------------------------------------------ main */

/* A guard-page hit means an out-of-bounds access: name the culprit. */
static void on_fault(int sig)
{
    fprintf(stderr, "\nFATAL: signal %d (out-of-bounds access?) in %s: %s\nFAILED\n", sig,
            g_op ? g_op : "?", g_ctx);
    _exit(1);
}

int main(int argc, char **argv)
{
    uint64_t seed = 0x5EEDull;
    int do_bench = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--bench")) do_bench = 1;
        else if (!strcmp(argv[i], "--bench-fused")) do_bench = 2;
        else if (!strcmp(argv[i], "--bench-q8")) do_bench = 3;
        else if (!strcmp(argv[i], "--quick")) g_quick = 1;
        else if (!strcmp(argv[i], "--seed") && i + 1 < argc) seed = strtoull(argv[++i], NULL, 0);
        else if (!strcmp(argv[i], "--iters") && i + 1 < argc) g_iters = atoi(argv[++i]);
        else { fprintf(stderr, "usage: %s [--bench [--quick] | --bench-fused | --bench-q8] [--seed N] [--iters N]\n", argv[0]); return 2; }
    }
    g_page = (size_t)sysconf(_SC_PAGESIZE);
    signal(SIGSEGV, on_fault);
    signal(SIGBUS, on_fault);
    printf("CSliceKernels checkasm: auto level = %s", sk_cpu_name());
    for (int l = 1; l < NLEVELS; l++) printf(", %s %s", sk_level_name(l), sk_level_supported(l) ? "yes" : "no");
#if defined(__aarch64__)
    printf(", dotprod %s", sk_q8_dotprod_supported() ? "yes" : "no");
#endif
    printf("\n");
    if (do_bench) {
        if (do_bench == 1) bench();
        if (do_bench != 3) {
            bench_fused();
            bench_encoder_fused();
        }
        bench_q8();
        return 0;
    }

    printf("seed 0x%llx, %d iterations per op\n", (unsigned long long)seed, g_iters);
    rng_state = seed;
    test_dwconv();
    test_pwconv();
    test_conv();
    test_s2d();
    test_d2s();
    test_tconv();
    test_upscale(1);
    test_upscale(0);
    test_area();
    test_u8_to_f32();
    test_f32_to_u8();
    test_subpixel_fused();
    test_slice_encoder_fused();
    test_subpixel_q8();
    test_errors();
    printf("%s\n", g_any_fail ? "FAILED" : "ALL PASSED");
    return g_any_fail ? 1 : 0;
}
