/*
 * gradcheck.c - correctness, determinism and speed of the CSliceKernels
 * backward passes (slice_kernels_backward.h), in the spirit of checkasm.
 *
 *   gradcheck [--seed N] [--iters N]   correctness (default)
 *   gradcheck --bench                  timing at 16 channels on a 64x128 tile
 *
 * For every operator, on random small shapes (w and h down to 1 and 2, odd
 * sizes, k = 1..7, every border, tconv k/pad/out_pad over the forward's
 * supported set, random row/plane padding):
 *   1. GRADIENTS vs central finite differences of an independent naive
 *      DOUBLE-precision forward (PyTorch formulation; h = 1e-3, or 1e-6 for
 *      the smooth nonlinear losses), with the scalar loss L = sum(out * R)
 *      for a random R, so dL/dout = R. Every element is perturbed (a random
 *      sample of 48 for larger tensors). Tolerance 2e-5 relative to the
 *      gradient's magnitude (the double forward is exact up to rounding, so
 *      the error measured is the float backward's).
 *   2. ADJOINT identities with the library's own float FORWARD kernels,
 *      <A x, y> == <x, A^T y> for every linear map (grad_in of every conv,
 *      resamplers, shuffles, area) and <A(W) x, y> == <W, dW> for the weights.
 *   3. DETERMINISM, bit for bit (memcmp over the whole allocation, padding
 *      included): repeated calls; grad_in with random band splits (and rows
 *      outside the band untouched); grad_in/params at every CPU level
 *      (reference/generic, avx2, avx512) against the reference;
 *      ACCUMULATE == old + OVERWRITE value; parameter gradients with the same
 *      partition twice.
 *   4. Argument validation (SK_EINVAL cases).
 * Prints PASS/FAIL per op; exits non-zero on any failure.
 */
#define _GNU_SOURCE
#include "slice_kernels.h"
#include "slice_kernels_backward.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) { perror("malloc"); exit(2); }
    return p;
}

/* -------------------------------------------------------------- tensors */

typedef struct tb {
    sk_tensor t;
    size_t n; /* floats from data[0] to the last element, inclusive */
} tb;

static float sentinel(void)
{
    uint32_t u = 0x7F8BAD00u;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

/* Random row / plane padding (filled with sentinels). */
static tb tnew(int c, int h, int w)
{
    tb b;
    b.t.c = c; b.t.h = h; b.t.w = w;
    b.t.stride = w + (rndi(0, 1) ? rndi(1, 5) : 0);
    b.t.plane = (ptrdiff_t)h * b.t.stride + rndi(0, 3);
    b.n = (size_t)((ptrdiff_t)(c - 1) * b.t.plane + (ptrdiff_t)(h - 1) * b.t.stride + w);
    b.t.data = xmalloc(b.n * sizeof(float));
    const float s = sentinel();
    for (size_t i = 0; i < b.n; i++) b.t.data[i] = s;
    return b;
}
static void tfree(tb *b) { free(b->t.data); b->t.data = NULL; }
static float *tat(const tb *b, int c, int y, int x)
{
    return b->t.data + (ptrdiff_t)c * b->t.plane + (ptrdiff_t)y * b->t.stride + x;
}
static size_t tcount(const tb *b) { return (size_t)b->t.c * b->t.h * b->t.w; }
static void tfill(tb *b)
{
    for (int c = 0; c < b->t.c; c++)
        for (int y = 0; y < b->t.h; y++)
            for (int x = 0; x < b->t.w; x++) *tat(b, c, y, x) = rndf();
}
static tb tclone(const tb *src)
{
    tb b = *src;
    b.t.data = xmalloc(b.n * sizeof(float));
    memcpy(b.t.data, src->t.data, b.n * sizeof(float));
    return b;
}
static void to_dense(const tb *b, double *d)
{
    size_t i = 0;
    for (int c = 0; c < b->t.c; c++)
        for (int y = 0; y < b->t.h; y++)
            for (int x = 0; x < b->t.w; x++) d[i++] = *tat(b, c, y, x);
}
static void to_densef(const tb *b, float *d)
{
    size_t i = 0;
    for (int c = 0; c < b->t.c; c++)
        for (int y = 0; y < b->t.h; y++)
            for (int x = 0; x < b->t.w; x++) d[i++] = *tat(b, c, y, x);
}
static int t_same_bits(const tb *a, const tb *b)
{
    return a->n == b->n && memcmp(a->t.data, b->t.data, a->n * sizeof(float)) == 0;
}
static float *fnew(size_t n, int random)
{
    float *p = xmalloc(n * sizeof(float));
    for (size_t i = 0; i < n; i++) p[i] = random ? rndf() : 0.0f;
    return p;
}

/* ------------------------------------------------------------- reporting */

static const char *g_op;
static char g_ctx[256];
static long g_checks, g_fd_checks, g_adj_checks, g_det_checks;
static int g_op_fail, g_any_fail;
static double g_worst_fd, g_worst_adj;

static void begin_op(const char *op)
{
    g_op = op;
    g_checks = g_fd_checks = g_adj_checks = g_det_checks = 0;
    g_op_fail = 0;
    g_worst_fd = g_worst_adj = 0;
}

static void fail(const char *fmt, const char *what)
{
    if (!g_op_fail) fprintf(stderr, "  FAIL %s: %s%s (%s)\n", g_op, fmt, what ? what : "", g_ctx);
    g_op_fail = 1;
}

static void end_op(void)
{
    printf("  %-22s %s  (%ld finite-difference, %ld adjoint, %ld bit-exact checks; worst fd %.1e, adj %.1e)\n",
           g_op, g_op_fail ? "FAIL" : "PASS", g_fd_checks, g_adj_checks, g_det_checks, g_worst_fd,
           g_worst_adj);
    if (g_op_fail) g_any_fail = 1;
}

static void expect_ok(int rc, const char *what)
{
    if (rc != SK_OK) fail("call returned error: ", what);
}

static void det_check(int same, const char *what)
{
    g_det_checks++;
    if (!same) fail("not bit-identical: ", what);
}

/* ------------------------------------------------- finite differences */

typedef struct fdx fdx;
struct fdx {
    void (*fwd)(fdx *);
    int p[12];
    double dp[4];
    const double *cf;   /* resampling weights [2][4] */
    int nslot;
    double *slot[4];
    size_t slen[4];
    double *out;
    size_t olen;
    double *R;
    int multilinear;    /* every output is a sum of products, one factor per slot */
};

static double fd_loss(fdx *f)
{
    f->fwd(f);
    double L = 0;
    for (size_t i = 0; i < f->olen; i++) L += f->out[i] * f->R[i];
    return L;
}

/* For a multilinear forward: sum of |terms| of dL/d(slot s)[i], i.e. the
 * same derivative with every slot value, every weight and R replaced by its
 * absolute value. Bounds the float rounding of the analytic gradient. */
static double fd_abs_mag(fdx *f, int s, size_t i, double h)
{
    double *keep[4], *keepR = f->R, cfa[8];
    const double *keepcf = f->cf;
    for (int k = 0; k < f->nslot; k++) {
        keep[k] = f->slot[k];
        f->slot[k] = xmalloc(f->slen[k] * sizeof(double));
        for (size_t j = 0; j < f->slen[k]; j++) f->slot[k][j] = fabs(keep[k][j]);
    }
    f->R = xmalloc(f->olen * sizeof(double));
    for (size_t j = 0; j < f->olen; j++) f->R[j] = fabs(keepR[j]);
    if (keepcf) {
        for (int j = 0; j < 8; j++) cfa[j] = fabs(keepcf[j]);
        f->cf = cfa;
    }
    double v0 = f->slot[s][i];
    f->slot[s][i] = v0 + h;
    double lp = fd_loss(f);
    f->slot[s][i] = v0 - h;
    double lm = fd_loss(f);
    for (int k = 0; k < f->nslot; k++) { free(f->slot[k]); f->slot[k] = keep[k]; }
    free(f->R);
    f->R = keepR;
    f->cf = keepcf;
    return fabs(lp - lm) / (2 * h);
}

/* Analytic gradient an[0..len) of slot s vs central differences. Accepted
 * error: 2e-5 of the gradient's scale, plus (multilinear ops, or a caller
 * supplied mag[]) 16 float epsilons of the sum of |terms| of the element,
 * which covers cancellation in long sums (e.g. a bias gradient). */
static void fd_check_mag(fdx *f, int s, const float *an, double h, const char *name,
                         const double *mag)
{
    const size_t n = f->slen[s];
    const int all = n <= 64;
    const int cnt = all ? (int)n : 48;
    double scale = 0;
    /* Not fmax() here: GCC 12 for aarch64 (-O3) dies vectorising that
     * reduction (internal compiler error); this is the same maximum, a NaN
     * element being skipped as fmax skips it. */
    for (size_t i = 0; i < n; i++) {
        const double a = fabs(an[i]);
        if (a > scale) scale = a;
    }
    double *fd = xmalloc((size_t)cnt * sizeof(double));
    size_t *idx = xmalloc((size_t)cnt * sizeof(size_t));
    for (int j = 0; j < cnt; j++) {
        size_t i = all ? (size_t)j : (size_t)(rnd64() % n);
        idx[j] = i;
        double *v = &f->slot[s][i], v0 = *v;
        *v = v0 + h;
        double lp = fd_loss(f);
        *v = v0 - h;
        double lm = fd_loss(f);
        *v = v0;
        fd[j] = (lp - lm) / (2 * h);
        scale = fmax(scale, fabs(fd[j]));
    }
    for (int j = 0; j < cnt; j++) {
        double err = fabs(an[idx[j]] - fd[j]);
        double m = mag ? mag[idx[j]] : f->multilinear ? fd_abs_mag(f, s, idx[j], h) : 0;
        double tol = 2e-5 * scale + 16 * FLT_EPSILON * m + 1e-12;
        double rel = err / (scale + 1e-30);
        g_fd_checks++;
        if (rel > g_worst_fd) g_worst_fd = rel;
        if (!(err <= tol)) {
            char msg[200];
            snprintf(msg, sizeof msg, "%s[%zu] analytic %.9g vs fd %.9g (scale %.3g)", name, idx[j],
                     an[idx[j]], fd[j], scale);
            fail("gradient mismatch: ", msg);
            break;
        }
    }
    free(fd);
    free(idx);
}

static void fd_check(fdx *f, int s, const float *an, double h, const char *name)
{
    fd_check_mag(f, s, an, h, name, NULL);
}

/* |lhs - rhs| small relative to the magnitude of the terms. */
static void adj_check(double lhs, double rhs, double mag, const char *what)
{
    g_adj_checks++;
    double rel = fabs(lhs - rhs) / (mag + 1e-30);
    if (rel > g_worst_adj) g_worst_adj = rel;
    if (!(rel <= 2e-6)) {
        char msg[200];
        snprintf(msg, sizeof msg, "%s: %.12g vs %.12g (mag %.3g)", what, lhs, rhs, mag);
        fail("adjoint identity: ", msg);
    }
}

/* <a, b> over two same-shape tensors, and sum |a*b|. */
static double tdot(const tb *a, const tb *b, double *mag)
{
    double s = 0, m = 0;
    for (int c = 0; c < a->t.c; c++)
        for (int y = 0; y < a->t.h; y++)
            for (int x = 0; x < a->t.w; x++) {
                double p = (double)*tat(a, c, y, x) * *tat(b, c, y, x);
                s += p; m += fabs(p);
            }
    *mag = m;
    return s;
}

/* ------------------------------------------------- double forwards */

static int clampi(int v, int lo, int hi) { return v < lo ? lo : v > hi ? hi : v; }

/* Dense or depthwise k x k conv (k = 1 covers pointwise), p: cin cout h w k border dw */
static void fwd_conv(fdx *f)
{
    const int cin = f->p[0], cout = f->p[1], h = f->p[2], w = f->p[3], k = f->p[4];
    const int border = f->p[5], dw = f->p[6], r = k / 2;
    const double *x = f->slot[0], *wt = f->slot[1], *b = f->slot[2];
    for (int co = 0; co < cout; co++)
        for (int y = 0; y < h; y++)
            for (int xx = 0; xx < w; xx++) {
                double s = b[co];
                for (int ci = dw ? co : 0; ci < (dw ? co + 1 : cin); ci++)
                    for (int ky = 0; ky < k; ky++)
                        for (int kx = 0; kx < k; kx++) {
                            int iy = y + ky - r, ix = xx + kx - r;
                            if (iy < 0 || iy >= h || ix < 0 || ix >= w) {
                                if (border == SK_BORDER_ZERO) continue;
                                iy = clampi(iy, 0, h - 1);
                                ix = clampi(ix, 0, w - 1);
                            }
                            double wv = dw ? wt[(co * k + ky) * k + kx]
                                           : wt[((co * cin + ci) * k + ky) * k + kx];
                            s += wv * x[(ci * h + iy) * w + ix];
                        }
                f->out[(co * h + y) * w + xx] = s;
            }
}

/* p: cin cout h w k pad out_pad ho wo -- PyTorch's scatter definition. */
static void fwd_tconv(fdx *f)
{
    const int cin = f->p[0], cout = f->p[1], h = f->p[2], w = f->p[3], k = f->p[4];
    const int pad = f->p[5], ho = f->p[7], wo = f->p[8];
    const double *x = f->slot[0], *wt = f->slot[1], *b = f->slot[2];
    for (int co = 0; co < cout; co++)
        for (int i = 0; i < ho * wo; i++) f->out[co * ho * wo + i] = b[co];
    for (int ci = 0; ci < cin; ci++)
        for (int iy = 0; iy < h; iy++)
            for (int ix = 0; ix < w; ix++)
                for (int co = 0; co < cout; co++)
                    for (int ky = 0; ky < k; ky++)
                        for (int kx = 0; kx < k; kx++) {
                            int oy = 2 * iy - pad + ky, ox = 2 * ix - pad + kx;
                            if (oy < 0 || oy >= ho || ox < 0 || ox >= wo) continue;
                            f->out[(co * ho + oy) * wo + ox] +=
                                wt[((ci * cout + co) * k + ky) * k + kx] * x[(ci * h + iy) * w + ix];
                        }
}

/* p: c h w mode (0 s2d: in C x 2h x 2w -> 4C x h x w; 1 d2s: in 4C x h x w -> C x 2h x 2w) */
static void fwd_shuffle(fdx *f)
{
    const int c = f->p[0], h = f->p[1], w = f->p[2], mode = f->p[3];
    const double *x = f->slot[0];
    for (int ch = 0; ch < c; ch++)
        for (int dy = 0; dy < 2; dy++)
            for (int dx = 0; dx < 2; dx++)
                for (int y = 0; y < h; y++)
                    for (int xx = 0; xx < w; xx++) {
                        size_t big = ((size_t)ch * 2 * h + 2 * y + dy) * 2 * w + 2 * xx + dx;
                        size_t small = (((size_t)ch * 4 + dy * 2 + dx) * h + y) * w + xx;
                        if (mode == 0) f->out[small] = x[big];
                        else f->out[big] = x[small];
                    }
}

/* p: c h w ntap off0 off1; cf = weights [2][4]: in C x h x w -> C x 2h x 2w */
static void fwd_up(fdx *f)
{
    const int c = f->p[0], h = f->p[1], w = f->p[2], nt = f->p[3], off[2] = { f->p[4], f->p[5] };
    const double *x = f->slot[0], *cf = f->cf;
    const int oh = 2 * h, ow = 2 * w;
    double *tmp = xmalloc((size_t)h * ow * sizeof(double));
    for (int ch = 0; ch < c; ch++) {
        for (int y = 0; y < h; y++)
            for (int ox = 0; ox < ow; ox++) {
                int j = ox >> 1, ph = ox & 1;
                double s = 0;
                for (int t = 0; t < nt; t++)
                    s += cf[ph * 4 + t] * x[((size_t)ch * h + y) * w + clampi(j + off[ph] + t, 0, w - 1)];
                tmp[y * ow + ox] = s;
            }
        for (int oy = 0; oy < oh; oy++)
            for (int ox = 0; ox < ow; ox++) {
                int j = oy >> 1, ph = oy & 1;
                double s = 0;
                for (int t = 0; t < nt; t++)
                    s += cf[ph * 4 + t] * tmp[clampi(j + off[ph] + t, 0, h - 1) * ow + ox];
                f->out[((size_t)ch * oh + oy) * ow + ox] = s;
            }
    }
    free(tmp);
}

/* p: c h w (input C x h x w -> C x h/2 x w/2) */
static void fwd_area(fdx *f)
{
    const int c = f->p[0], h = f->p[1], w = f->p[2], oh = h / 2, ow = w / 2;
    const double *x = f->slot[0];
    for (int ch = 0; ch < c; ch++)
        for (int y = 0; y < oh; y++)
            for (int xx = 0; xx < ow; xx++) {
                const double *r0 = x + ((size_t)ch * h + 2 * y) * w, *r1 = r0 + w;
                f->out[((size_t)ch * oh + y) * ow + xx] =
                    ((r0[2 * xx] + r0[2 * xx + 1]) + (r1[2 * xx] + r1[2 * xx + 1])) * 0.25;
            }
}

/* p: c h w prelu; slot0 = z, slot1 = slope */
static void fwd_act(fdx *f)
{
    const int c = f->p[0], hw = f->p[1] * f->p[2], prelu = f->p[3];
    for (int ch = 0; ch < c; ch++)
        for (int i = 0; i < hw; i++) {
            double z = f->slot[0][ch * hw + i];
            f->out[ch * hw + i] = z > 0 ? z : prelu ? f->slot[1][ch] * z : 0;
        }
}

/* p: n charbonnier; dp: weight eps; slot0 = a, slot1 = b; out[0] = loss */
static void fwd_loss(fdx *f)
{
    const int n = f->p[0], ch = f->p[1];
    double s = 0;
    for (int i = 0; i < n; i++) {
        double d = f->slot[0][i] - f->slot[1][i];
        s += ch ? sqrt(d * d + f->dp[1] * f->dp[1]) : d * d;
    }
    f->out[0] = f->dp[0] * s;
}

/* ------------------------------------------------- generic op harness */

/* One test case of an operator with a grad_in call and (optionally) a
 * params call. The harness runs the determinism checks on it. */
typedef struct opcase opcase;
struct opcase {
    tb x, g;            /* forward input, grad_out                      */
    float *w, *b;       /* weights, bias                                */
    size_t nw, nb;
    int k, border, pad, opad;
    float a;
    float *scratch;     /* big enough for any call of the case          */
    int (*bin)(opcase *, const sk_tensor *d, int mode, int y0, int y1);
    int (*bpar)(opcase *, float *dw, float *db, int y0, int y1);
    int din_c, din_h, din_w;
};

static int levels_supported(int l) { return sk_level_supported(l); }

/* Runs the full determinism battery; returns the reference grad_in (level
 * reference, whole tensor, OVERWRITE) in *d_out and params in dw/db. */
static void run_determinism(opcase *oc, tb *d_out, float *dw_out, float *db_out)
{
    const int dh = oc->din_h;
    sk_set_level(SK_LEVEL_REFERENCE);
    tb d = tnew(oc->din_c, dh, oc->din_w);
    expect_ok(oc->bin(oc, &d.t, SK_GRAD_OVERWRITE, 0, dh), "grad_in");
    /* Every element written: no sentinel left in the tensor. */
    {
        const float s = sentinel();
        for (int c = 0; c < d.t.c; c++)
            for (int y = 0; y < dh; y++)
                for (int x = 0; x < d.t.w; x++)
                    if (memcmp(tat(&d, c, y, x), &s, 4) == 0) { fail("grad_in element unwritten", NULL); c = d.t.c; y = dh; break; }
    }
    /* Repeat: identical. */
    {
        tb d2 = tclone(&d); /* same geometry */
        const float s = sentinel();
        for (size_t i = 0; i < d2.n; i++) d2.t.data[i] = s;
        expect_ok(oc->bin(oc, &d2.t, SK_GRAD_OVERWRITE, 0, dh), "grad_in");
        det_check(t_same_bits(&d, &d2), "grad_in repeated");
        /* Random band split [y0,y1) in up to 3 pieces; rest untouched. */
        for (size_t i = 0; i < d2.n; i++) d2.t.data[i] = s;
        int y0 = rndi(0, dh - 1), y1 = rndi(y0 + 1, dh), cut1 = rndi(y0, y1), cut2 = rndi(cut1, y1);
        expect_ok(oc->bin(oc, &d2.t, SK_GRAD_OVERWRITE, y0, cut1), "band");
        expect_ok(oc->bin(oc, &d2.t, SK_GRAD_OVERWRITE, cut1, cut2), "band");
        expect_ok(oc->bin(oc, &d2.t, SK_GRAD_OVERWRITE, cut2, y1), "band");
        int ok = 1;
        for (size_t i = 0; i < d.n && ok; i++) {
            ptrdiff_t rem = (ptrdiff_t)i % d.t.plane, y = rem / d.t.stride, x = rem % d.t.stride;
            int inside = y >= y0 && y < y1 && x < d.t.w && y < dh;
            const float *want = inside ? &d.t.data[i] : &s;
            ok = memcmp(&d2.t.data[i], want, 4) == 0;
        }
        det_check(ok, "grad_in band split / untouched outside band");
        /* ACCUMULATE == prior + OVERWRITE value. */
        tb p = tclone(&d);
        tfill(&p);
        tb q = tclone(&p);
        expect_ok(oc->bin(oc, &q.t, SK_GRAD_ACCUMULATE, 0, dh), "accumulate");
        ok = 1;
        for (int c = 0; c < d.t.c && ok; c++)
            for (int y = 0; y < dh && ok; y++)
                for (int x = 0; x < d.t.w && ok; x++) {
                    float want = *tat(&p, c, y, x) + *tat(&d, c, y, x);
                    ok = memcmp(tat(&q, c, y, x), &want, 4) == 0;
                }
        det_check(ok, "ACCUMULATE == prior + OVERWRITE");
        tfree(&p); tfree(&q); tfree(&d2);
    }
    /* Params: same partition twice identical. */
    float *dw = NULL, *db = NULL;
    int pc0 = 0, pc1 = 0, hg = oc->g.t.h;
    if (oc->bpar) {
        dw = fnew(oc->nw, 0); db = fnew(oc->nb, 0);
        expect_ok(oc->bpar(oc, dw, db, 0, hg), "params");
        pc0 = rndi(0, hg); pc1 = rndi(pc0, hg);
        float *w1 = fnew(oc->nw, 0), *b1 = fnew(oc->nb, 0), *w2 = fnew(oc->nw, 0), *b2 = fnew(oc->nb, 0);
        for (int rep = 0; rep < 2; rep++) {
            float *pw = rep ? w2 : w1, *pb = rep ? b2 : b1;
            expect_ok(oc->bpar(oc, pw, pb, 0, pc0), "params");
            expect_ok(oc->bpar(oc, pw, pb, pc0, pc1), "params");
            expect_ok(oc->bpar(oc, pw, pb, pc1, hg), "params");
        }
        det_check(!memcmp(w1, w2, oc->nw * 4) && !memcmp(b1, b2, oc->nb * 4), "params same partition");
        /* NULL bias accepted and weight result unchanged. */
        memset(w2, 0, oc->nw * 4);
        expect_ok(oc->bpar(oc, w2, NULL, 0, hg), "params (no bias)");
        det_check(!memcmp(w2, dw, oc->nw * 4), "params with NULL bias");
        free(w1); free(b1); free(w2); free(b2);
    }
    /* Every CPU level gives the same bits. */
    for (int l = 1; l < NLEVELS; l++) {
        if (!levels_supported(l)) continue;
        sk_set_level(l);
        tb dl = tclone(&d);
        const float s = sentinel();
        for (size_t i = 0; i < dl.n; i++) dl.t.data[i] = s;
        expect_ok(oc->bin(oc, &dl.t, SK_GRAD_OVERWRITE, 0, dh), "grad_in level");
        det_check(t_same_bits(&d, &dl), sk_level_name(l));
        tfree(&dl);
        if (oc->bpar) {
            float *wl = fnew(oc->nw, 0), *bl = fnew(oc->nb, 0);
            expect_ok(oc->bpar(oc, wl, bl, 0, hg), "params level");
            det_check(!memcmp(wl, dw, oc->nw * 4) && !memcmp(bl, db, oc->nb * 4), sk_level_name(l));
            free(wl); free(bl);
        }
    }
    sk_set_level(SK_LEVEL_AVX512); /* best available */
    *d_out = d;
    if (oc->bpar) {
        memcpy(dw_out, dw, oc->nw * 4);
        memcpy(db_out, db, oc->nb * 4);
        free(dw); free(db);
    }
}

/* Adjoint identities with the library's float forward `fwd` (bias NULL):
 *   <fwd(x; W), g> == <x, d>      and (params)  == <W, dW>. */
static void run_adjoint(opcase *oc, int (*fwd)(opcase *, const sk_tensor *out), const tb *d,
                        const float *dw)
{
    tb out = tclone(&oc->g);
    expect_ok(fwd(oc, &out.t), "forward");
    double m1, m2;
    double lhs = tdot(&out, &oc->g, &m1);
    double rhs = tdot(&oc->x, d, &m2);
    adj_check(lhs, rhs, m1 + m2, "<Ax,y> vs <x,A^T y>");
    if (dw) {
        double s = 0, m = 0;
        for (size_t i = 0; i < oc->nw; i++) { s += (double)oc->w[i] * dw[i]; m += fabs((double)oc->w[i] * dw[i]); }
        adj_check(lhs, s, m1 + m, "<A(W)x,y> vs <W,dW>");
    }
    tfree(&out);
}

static void free_case(opcase *oc)
{
    tfree(&oc->x); tfree(&oc->g);
    free(oc->w); free(oc->b); free(oc->scratch);
}

static int g_iters = 60;

/* ------------------------------------------------- 1-3: k x k convs */

enum { K_DW, K_PW, K_CONV };
static int g_kind;

static int bin_conv(opcase *oc, const sk_tensor *d, int mode, int y0, int y1)
{
    if (g_kind == K_DW) return sk_dwconv_backward_input(&oc->g.t, d, oc->w, oc->k, oc->border, mode, oc->scratch, y0, y1);
    if (g_kind == K_PW) return sk_pwconv_backward_input(&oc->g.t, d, oc->w, mode, y0, y1);
    return sk_conv_backward_input(&oc->g.t, d, oc->w, oc->k, oc->border, mode, oc->scratch, y0, y1);
}
static int bpar_conv(opcase *oc, float *dw, float *db, int y0, int y1)
{
    if (g_kind == K_DW) return sk_dwconv_backward_params(&oc->x.t, &oc->g.t, dw, db, oc->k, oc->border, y0, y1);
    if (g_kind == K_PW) return sk_pwconv_backward_params(&oc->x.t, &oc->g.t, dw, db, oc->scratch, y0, y1);
    return sk_conv_backward_params(&oc->x.t, &oc->g.t, dw, db, oc->k, oc->border, y0, y1);
}
static int fwd_conv_lib(opcase *oc, const sk_tensor *out)
{
    sk_act none = { SK_ACT_NONE, NULL };
    int h = out->h;
    if (g_kind == K_DW) return sk_dwconv(&oc->x.t, out, oc->w, NULL, oc->k, oc->border, none, 0, h);
    if (g_kind == K_PW) return sk_pwconv(&oc->x.t, out, oc->w, NULL, none, NULL, 0, h);
    return sk_conv(&oc->x.t, out, oc->w, NULL, oc->k, oc->border, none, 0, h);
}

static void test_conv_family(int kind)
{
    static const char *names[3] = { "dwconv backward", "pwconv backward", "conv backward" };
    begin_op(names[kind]);
    g_kind = kind;
    for (int it = 0; it < g_iters; it++) {
        const int ks[4] = { 1, 3, 5, 7 };
        int k = kind == K_PW ? 1 : ks[it % 4];
        int border = (it / 4) % 2;
        int h = it < 18 ? 1 + it % 3 : rndi(1, 9), w = it < 18 ? 1 + (it / 3) % 3 : rndi(1, 21);
        if (it % 7 == 3) w = rndi(30, 50); /* vector bodies + tails */
        int cin = rndi(1, kind == K_PW ? 19 : 3), cout = kind == K_DW ? cin : rndi(1, kind == K_PW ? 19 : 4);
        if (kind == K_PW && it % 5 == 0) { cin = 16; cout = 16; }
        opcase oc = { 0 };
        oc.x = tnew(cin, h, w); tfill(&oc.x);
        oc.g = tnew(cout, h, w); tfill(&oc.g);
        oc.k = k; oc.border = border;
        oc.nw = (size_t)cout * (kind == K_DW ? 1 : cin) * k * k;
        oc.nb = (size_t)cout;
        oc.w = fnew(oc.nw, 1); oc.b = fnew(oc.nb, 1);
        size_t ns = sk_conv_backward_scratch_floats(w, k);
        size_t np = sk_pwconv_backward_params_scratch_floats(cin, cout);
        oc.scratch = fnew(ns > np ? ns : np, 1);
        oc.bin = bin_conv; oc.bpar = bpar_conv;
        oc.din_c = cin; oc.din_h = h; oc.din_w = w;
        snprintf(g_ctx, sizeof g_ctx, "cin=%d cout=%d h=%d w=%d k=%d border=%d", cin, cout, h, w, k, border);

        tb d;
        float *dw = fnew(oc.nw, 0), *db = fnew(oc.nb, 0);
        run_determinism(&oc, &d, dw, db);
        run_adjoint(&oc, fwd_conv_lib, &d, dw);

        fdx f = { 0 };
        f.fwd = fwd_conv;
        f.multilinear = 1;
        f.p[0] = cin; f.p[1] = cout; f.p[2] = h; f.p[3] = w; f.p[4] = k; f.p[5] = border;
        f.p[6] = kind == K_DW;
        f.nslot = 3;
        f.slen[0] = tcount(&oc.x); f.slen[1] = oc.nw; f.slen[2] = oc.nb;
        for (int s = 0; s < 3; s++) f.slot[s] = xmalloc(f.slen[s] * sizeof(double));
        to_dense(&oc.x, f.slot[0]);
        for (size_t i = 0; i < oc.nw; i++) f.slot[1][i] = oc.w[i];
        for (size_t i = 0; i < oc.nb; i++) f.slot[2][i] = oc.b[i];
        f.olen = tcount(&oc.g);
        f.out = xmalloc(f.olen * sizeof(double));
        f.R = xmalloc(f.olen * sizeof(double));
        to_dense(&oc.g, f.R);
        float *dd = xmalloc(tcount(&d) * sizeof(float));
        to_densef(&d, dd);
        fd_check(&f, 0, dd, 1e-3, "grad_in");
        fd_check(&f, 1, dw, 1e-3, "grad_weight");
        fd_check(&f, 2, db, 1e-3, "grad_bias");
        for (int s = 0; s < 3; s++) free(f.slot[s]);
        free(f.out); free(f.R); free(dd); free(dw); free(db);
        tfree(&d);
        free_case(&oc);
    }
    end_op();
}

/* ------------------------------------------------- 4: shuffles */

static int g_shuffle_mode;
static int bin_shuffle(opcase *oc, const sk_tensor *d, int mode, int y0, int y1)
{
    return g_shuffle_mode == 0 ? sk_space_to_depth2x_backward(&oc->g.t, d, mode, y0, y1)
                               : sk_depth_to_space2x_backward(&oc->g.t, d, mode, y0, y1);
}
static int fwd_shuffle_lib(opcase *oc, const sk_tensor *out)
{
    return g_shuffle_mode == 0 ? sk_space_to_depth2x(&oc->x.t, out, 0, out->h)
                               : sk_depth_to_space2x(&oc->x.t, out, NULL, 0, out->h);
}

static void test_shuffle(int mode)
{
    begin_op(mode == 0 ? "space_to_depth2x bwd" : "depth_to_space2x bwd");
    g_shuffle_mode = mode;
    for (int it = 0; it < g_iters; it++) {
        int c = rndi(1, 3), h = it < 9 ? 1 + it % 3 : rndi(1, 7), w = it < 9 ? 1 + it / 3 : rndi(1, 19);
        opcase oc = { 0 };
        if (mode == 0) { oc.x = tnew(c, 2 * h, 2 * w); oc.g = tnew(4 * c, h, w); }
        else { oc.x = tnew(4 * c, h, w); oc.g = tnew(c, 2 * h, 2 * w); }
        tfill(&oc.x); tfill(&oc.g);
        oc.bin = bin_shuffle;
        oc.din_c = oc.x.t.c; oc.din_h = oc.x.t.h; oc.din_w = oc.x.t.w;
        snprintf(g_ctx, sizeof g_ctx, "c=%d h=%d w=%d", c, h, w);
        tb d;
        run_determinism(&oc, &d, NULL, NULL);
        run_adjoint(&oc, fwd_shuffle_lib, &d, NULL);
        fdx f = { 0 };
        f.fwd = fwd_shuffle;
        f.multilinear = 1;
        f.p[0] = c; f.p[1] = h; f.p[2] = w; f.p[3] = mode;
        f.nslot = 1; f.slen[0] = tcount(&oc.x);
        f.slot[0] = xmalloc(f.slen[0] * sizeof(double));
        to_dense(&oc.x, f.slot[0]);
        f.olen = tcount(&oc.g);
        f.out = xmalloc(f.olen * sizeof(double)); f.R = xmalloc(f.olen * sizeof(double));
        to_dense(&oc.g, f.R);
        float *dd = xmalloc(tcount(&d) * sizeof(float));
        to_densef(&d, dd);
        fd_check(&f, 0, dd, 1e-3, "grad_in");
        free(f.slot[0]); free(f.out); free(f.R); free(dd);
        tfree(&d);
        free_case(&oc);
    }
    end_op();
}

/* ------------------------------------------------- 5: transposed conv */

static int bin_tconv(opcase *oc, const sk_tensor *d, int mode, int y0, int y1)
{
    return sk_tconv2x_backward_input(&oc->g.t, d, oc->w, oc->k, oc->pad, oc->opad, mode, oc->scratch, y0, y1);
}
static int bpar_tconv(opcase *oc, float *dw, float *db, int y0, int y1)
{
    return sk_tconv2x_backward_params(&oc->x.t, &oc->g.t, dw, db, oc->k, oc->pad, oc->opad, y0, y1);
}
static int fwd_tconv_lib(opcase *oc, const sk_tensor *out)
{
    return sk_tconv2x(&oc->x.t, out, oc->w, NULL, oc->k, oc->pad, oc->opad, NULL, 0, out->h);
}

static void test_tconv(void)
{
    begin_op("tconv2x backward");
    for (int it = 0; it < g_iters; it++) {
        int cin = it % 10 == 9 ? rndi(9, 13) : rndi(1, 3), cout = rndi(1, 3);
        int h = it < 12 ? 1 + it % 3 : rndi(1, 6);
        int w = it < 12 ? 1 + (it / 3) % 4 : rndi(1, 11);
        if (it % 9 == 4) w = rndi(20, 40);
        if (it % 15 == 7) { w = rndi(250, 540); h = rndi(1, 3); } /* several split chunks */
        int k = rndi(0, 2) ? (rndi(0, 1) ? 4 : rndi(1, 9)) : rndi(1, 16);
        int pad = rndi(0, k), op = rndi(0, 1);
        if (it % 6 == 0) { /* pad beyond k: crops more than the kernel adds */
            pad = k + rndi(0, 2);
            h = h > pad + 1 ? h : pad + 1;
            w = w > pad + 1 ? w : pad + 1;
        }
        int ho = (h - 1) * 2 - 2 * pad + k + op, wo = (w - 1) * 2 - 2 * pad + k + op;
        if (ho < 1 || wo < 1) { it--; continue; }
        opcase oc = { 0 };
        oc.x = tnew(cin, h, w); tfill(&oc.x);
        oc.g = tnew(cout, ho, wo); tfill(&oc.g);
        oc.k = k; oc.pad = pad; oc.opad = op;
        oc.nw = (size_t)cin * cout * k * k; oc.nb = (size_t)cout;
        oc.w = fnew(oc.nw, 1); oc.b = fnew(oc.nb, 1);
        oc.scratch = fnew(sk_tconv2x_backward_scratch_floats(w), 1);
        oc.bin = bin_tconv; oc.bpar = bpar_tconv;
        oc.din_c = cin; oc.din_h = h; oc.din_w = w;
        snprintf(g_ctx, sizeof g_ctx, "cin=%d cout=%d h=%d w=%d k=%d pad=%d out_pad=%d", cin, cout, h, w, k, pad, op);
        tb d;
        float *dw = fnew(oc.nw, 0), *db = fnew(oc.nb, 0);
        run_determinism(&oc, &d, dw, db);
        run_adjoint(&oc, fwd_tconv_lib, &d, dw);
        fdx f = { 0 };
        f.fwd = fwd_tconv;
        f.multilinear = 1;
        f.p[0] = cin; f.p[1] = cout; f.p[2] = h; f.p[3] = w; f.p[4] = k; f.p[5] = pad;
        f.p[6] = op; f.p[7] = ho; f.p[8] = wo;
        f.nslot = 3;
        f.slen[0] = tcount(&oc.x); f.slen[1] = oc.nw; f.slen[2] = oc.nb;
        for (int s = 0; s < 3; s++) f.slot[s] = xmalloc(f.slen[s] * sizeof(double));
        to_dense(&oc.x, f.slot[0]);
        for (size_t i = 0; i < oc.nw; i++) f.slot[1][i] = oc.w[i];
        for (size_t i = 0; i < oc.nb; i++) f.slot[2][i] = oc.b[i];
        f.olen = tcount(&oc.g);
        f.out = xmalloc(f.olen * sizeof(double)); f.R = xmalloc(f.olen * sizeof(double));
        to_dense(&oc.g, f.R);
        float *dd = xmalloc(tcount(&d) * sizeof(float));
        to_densef(&d, dd);
        fd_check(&f, 0, dd, 1e-3, "grad_in");
        fd_check(&f, 1, dw, 1e-3, "grad_weight");
        fd_check(&f, 2, db, 1e-3, "grad_bias");
        for (int s = 0; s < 3; s++) free(f.slot[s]);
        free(f.out); free(f.R); free(dd); free(dw); free(db);
        tfree(&d);
        free_case(&oc);
    }
    end_op();
}

/* ------------------------------------------------- 6: resampling */

static int g_rs_kind; /* 0 bicubic, 1 bilinear, 2 area */
static int bin_rs(opcase *oc, const sk_tensor *d, int mode, int y0, int y1)
{
    if (g_rs_kind == 0) return sk_bicubic2x_backward(&oc->g.t, d, oc->a, mode, oc->scratch, y0, y1);
    if (g_rs_kind == 1) return sk_bilinear2x_backward(&oc->g.t, d, mode, oc->scratch, y0, y1);
    return sk_area_down2x_backward(&oc->g.t, d, mode, y0, y1);
}
static int fwd_rs_lib(opcase *oc, const sk_tensor *out)
{
    float *scr = fnew(sk_upscale2x_scratch_floats(out->w), 0);
    int rc;
    if (g_rs_kind == 0) rc = sk_bicubic2x(&oc->x.t, out, oc->a, scr, 0, out->h);
    else if (g_rs_kind == 1) rc = sk_bilinear2x(&oc->x.t, out, scr, 0, out->h);
    else rc = sk_area_down2x(&oc->x.t, out, 0, out->h);
    free(scr);
    return rc;
}

static double keys(double d, double a)
{
    d = fabs(d);
    if (d <= 1.0) return ((a + 2.0) * d - (a + 3.0)) * d * d + 1.0;
    if (d < 2.0) return ((a * d - 5.0 * a) * d + 8.0 * a) * d - 4.0 * a;
    return 0.0;
}

static void test_resample(int kind)
{
    static const char *names[3] = { "bicubic2x backward", "bilinear2x backward", "area_down2x backward" };
    begin_op(names[kind]);
    g_rs_kind = kind;
    for (int it = 0; it < g_iters; it++) {
        int c = rndi(1, 2);
        int h = it < 25 ? 1 + it % 5 : rndi(1, 9), w = it < 25 ? 1 + it / 5 : rndi(1, 24);
        if (it % 8 == 5) w = rndi(25, 45);
        opcase oc = { 0 };
        oc.a = it % 2 ? -0.75f : -0.5f;
        if (kind == 2) {
            h += rndi(0, 1) + 1; w += rndi(0, 1) + 1; /* >= 2, odd or even */
            oc.x = tnew(c, h, w); oc.g = tnew(c, h / 2, w / 2);
        } else {
            oc.x = tnew(c, h, w); oc.g = tnew(c, 2 * h, 2 * w);
        }
        tfill(&oc.x); tfill(&oc.g);
        oc.scratch = fnew(sk_upscale2x_backward_scratch_floats(2 * w), 1);
        oc.bin = bin_rs;
        oc.din_c = c; oc.din_h = h; oc.din_w = w;
        snprintf(g_ctx, sizeof g_ctx, "c=%d h=%d w=%d a=%g", c, h, w, oc.a);
        tb d;
        run_determinism(&oc, &d, NULL, NULL);
        run_adjoint(&oc, fwd_rs_lib, &d, NULL);
        fdx f = { 0 };
        double cf[8] = { 0 };
        if (kind == 0) {
            static const double d0[4] = { 1.75, 0.75, 0.25, 1.25 }, d1[4] = { 1.25, 0.25, 0.75, 1.75 };
            for (int i = 0; i < 4; i++) {
                cf[i] = (float)keys(d0[i], oc.a);
                cf[4 + i] = (float)keys(d1[i], oc.a);
            }
            f.p[3] = 4; f.p[4] = -2; f.p[5] = -1;
        } else if (kind == 1) {
            cf[0] = 0.25; cf[1] = 0.75; cf[4] = 0.75; cf[5] = 0.25;
            f.p[3] = 2; f.p[4] = -1; f.p[5] = 0;
        }
        f.cf = cf;
        f.fwd = kind == 2 ? fwd_area : fwd_up;
        f.multilinear = 1;
        f.p[0] = c; f.p[1] = h; f.p[2] = w;
        f.nslot = 1; f.slen[0] = tcount(&oc.x);
        f.slot[0] = xmalloc(f.slen[0] * sizeof(double));
        to_dense(&oc.x, f.slot[0]);
        f.olen = tcount(&oc.g);
        f.out = xmalloc(f.olen * sizeof(double)); f.R = xmalloc(f.olen * sizeof(double));
        to_dense(&oc.g, f.R);
        float *dd = xmalloc(tcount(&d) * sizeof(float));
        to_densef(&d, dd);
        fd_check(&f, 0, dd, 1e-3, "grad_in");
        free(f.slot[0]); free(f.out); free(f.R); free(dd);
        tfree(&d);
        free_case(&oc);
    }
    end_op();
}

/* ------------------------------------------------- 7: activations */

static int g_prelu;
static float *g_slope;
static int bin_act(opcase *oc, const sk_tensor *d, int mode, int y0, int y1)
{
    if (g_prelu) return sk_prelu_backward(&oc->x.t, &oc->g.t, g_slope, d, NULL, mode, y0, y1);
    return sk_relu_backward(&oc->x.t, &oc->g.t, d, mode, y0, y1);
}
static int bpar_act(opcase *oc, float *dw, float *db, int y0, int y1)
{
    (void)db;
    return sk_prelu_backward(&oc->x.t, &oc->g.t, g_slope, NULL, dw, SK_GRAD_OVERWRITE, y0, y1);
}

static void test_act(int prelu)
{
    begin_op(prelu ? "prelu fwd/backward" : "relu fwd/backward");
    g_prelu = prelu;
    for (int it = 0; it < g_iters; it++) {
        int c = rndi(1, 3), h = rndi(1, 5), w = it % 3 ? rndi(1, 9) : rndi(15, 40);
        opcase oc = { 0 };
        oc.x = tnew(c, h, w); tfill(&oc.x);
        /* keep z away from the kink so finite differences are exact */
        for (int ch = 0; ch < c; ch++)
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++) {
                    float *z = tat(&oc.x, ch, y, x);
                    if (fabsf(*z) < 0.01f) *z = *z < 0 ? -0.5f : 0.5f;
                }
        oc.g = tnew(c, h, w); tfill(&oc.g);
        g_slope = fnew((size_t)c, 1);
        oc.nw = (size_t)c; oc.nb = 0;
        oc.bin = bin_act; oc.bpar = prelu ? bpar_act : NULL;
        oc.din_c = c; oc.din_h = h; oc.din_w = w;
        snprintf(g_ctx, sizeof g_ctx, "c=%d h=%d w=%d", c, h, w);
        tb d;
        float *ds = fnew((size_t)c, 0), dummy[1];
        run_determinism(&oc, &d, ds, dummy);
        /* Forward op vs definition (and in place). */
        {
            tb y = tclone(&oc.x), y2 = tclone(&oc.x);
            expect_ok(prelu ? sk_prelu_forward(&oc.x.t, &y.t, g_slope, 0, h) : sk_relu_forward(&oc.x.t, &y.t, 0, h), "forward");
            expect_ok(prelu ? sk_prelu_forward(&y2.t, &y2.t, g_slope, 0, h) : sk_relu_forward(&y2.t, &y2.t, 0, h), "forward in place");
            int ok = t_same_bits(&y, &y2);
            for (int ch = 0; ch < c; ch++)
                for (int yy = 0; yy < h; yy++)
                    for (int x = 0; x < w; x++) {
                        float z = *tat(&oc.x, ch, yy, x), want = z > 0 ? z : prelu ? g_slope[ch] * z : 0.0f;
                        ok &= memcmp(tat(&y, ch, yy, x), &want, 4) == 0;
                    }
            det_check(ok, "forward definition / in place");
            /* backward in place (grad_in == grad_out) equals out of place; slope grad taken first */
            tb gi = tclone(&oc.g);
            float *ds2 = fnew((size_t)c, 0);
            expect_ok(prelu ? sk_prelu_backward(&oc.x.t, &gi.t, g_slope, &gi.t, ds2, SK_GRAD_OVERWRITE, 0, h)
                            : sk_relu_backward(&oc.x.t, &gi.t, &gi.t, SK_GRAD_OVERWRITE, 0, h), "in place");
            ok = 1;
            for (int ch = 0; ch < c; ch++)
                for (int yy = 0; yy < h; yy++)
                    ok &= memcmp(tat(&gi, ch, yy, 0), tat(&d, ch, yy, 0), (size_t)w * 4) == 0;
            if (prelu) ok &= memcmp(ds2, ds, (size_t)c * 4) == 0;
            det_check(ok, "backward in place");
            free(ds2);
            tfree(&y); tfree(&y2); tfree(&gi);
        }
        fdx f = { 0 };
        f.fwd = fwd_act;
        f.p[0] = c; f.p[1] = h; f.p[2] = w; f.p[3] = prelu;
        f.nslot = 2; f.slen[0] = tcount(&oc.x); f.slen[1] = (size_t)c;
        f.slot[0] = xmalloc(f.slen[0] * sizeof(double));
        f.slot[1] = xmalloc(f.slen[1] * sizeof(double));
        to_dense(&oc.x, f.slot[0]);
        for (int i = 0; i < c; i++) f.slot[1][i] = g_slope[i];
        f.olen = tcount(&oc.g);
        f.out = xmalloc(f.olen * sizeof(double)); f.R = xmalloc(f.olen * sizeof(double));
        to_dense(&oc.g, f.R);
        float *dd = xmalloc(tcount(&d) * sizeof(float));
        to_densef(&d, dd);
        fd_check(&f, 0, dd, 1e-3, "grad_in");
        if (prelu) {
            double mag[3] = { 0, 0, 0 }; /* sum |g*z| over z <= 0, per channel */
            for (int ch = 0; ch < c; ch++)
                for (int i = 0; i < h * w; i++) {
                    double z = f.slot[0][ch * h * w + i];
                    if (z <= 0) mag[ch] += fabs(z * f.R[ch * h * w + i]);
                }
            fd_check_mag(&f, 1, ds, 1e-3, "grad_slope", mag);
        }
        free(f.slot[0]); free(f.slot[1]); free(f.out); free(f.R); free(dd); free(ds);
        free(g_slope);
        tfree(&d);
        free_case(&oc);
    }
    end_op();
}

/* ------------------------------------------------- 8: losses */

static void test_loss(int charb)
{
    begin_op(charb ? "charbonnier loss" : "mse loss");
    for (int it = 0; it < g_iters; it++) {
        int c = rndi(1, 3), h = rndi(1, 6), w = it % 3 ? rndi(1, 9) : rndi(16, 40);
        tb a = tnew(c, h, w), b = tnew(c, h, w), ga = tnew(c, h, w);
        tfill(&a); tfill(&b);
        const int n = c * h * w;
        double weight = 1.0 / n, eps = it % 2 ? 1e-3 : 0.1;
        snprintf(g_ctx, sizeof g_ctx, "c=%d h=%d w=%d eps=%g", c, h, w, eps);
        double L, L2, L3a, L3b;
        expect_ok(charb ? sk_charbonnier_loss(&a.t, &b.t, eps, weight, &ga.t, SK_GRAD_OVERWRITE, &L, 0, h)
                        : sk_mse_loss(&a.t, &b.t, weight, &ga.t, SK_GRAD_OVERWRITE, &L, 0, h), "loss");
        /* determinism: repeat; NULL grad gives the same loss; band sums add up */
        tb ga2 = tclone(&ga);
        expect_ok(charb ? sk_charbonnier_loss(&a.t, &b.t, eps, weight, &ga2.t, SK_GRAD_OVERWRITE, &L2, 0, h)
                        : sk_mse_loss(&a.t, &b.t, weight, &ga2.t, SK_GRAD_OVERWRITE, &L2, 0, h), "loss");
        det_check(t_same_bits(&ga, &ga2) && memcmp(&L, &L2, sizeof L) == 0, "loss repeated");
        expect_ok(charb ? sk_charbonnier_loss(&a.t, &b.t, eps, weight, NULL, SK_GRAD_OVERWRITE, &L2, 0, h)
                        : sk_mse_loss(&a.t, &b.t, weight, NULL, SK_GRAD_OVERWRITE, &L2, 0, h), "loss");
        det_check(memcmp(&L, &L2, sizeof L) == 0, "loss without gradient");
        int cut = rndi(0, h);
        expect_ok(charb ? sk_charbonnier_loss(&a.t, &b.t, eps, weight, NULL, 0, &L3a, 0, cut)
                        : sk_mse_loss(&a.t, &b.t, weight, NULL, 0, &L3a, 0, cut), "loss");
        expect_ok(charb ? sk_charbonnier_loss(&a.t, &b.t, eps, weight, NULL, 0, &L3b, cut, h)
                        : sk_mse_loss(&a.t, &b.t, weight, NULL, 0, &L3b, cut, h), "loss");
        adj_check(L, L3a + L3b, fabs(L), "loss over two bands");
        /* accumulate */
        tb acc = tclone(&ga);
        tfill(&acc);
        tb acc0 = tclone(&acc);
        expect_ok(charb ? sk_charbonnier_loss(&a.t, &b.t, eps, weight, &acc.t, SK_GRAD_ACCUMULATE, &L2, 0, h)
                        : sk_mse_loss(&a.t, &b.t, weight, &acc.t, SK_GRAD_ACCUMULATE, &L2, 0, h), "loss");
        int ok = 1;
        for (int ch = 0; ch < c; ch++)
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++) {
                    float want = *tat(&acc0, ch, y, x) + *tat(&ga, ch, y, x);
                    ok &= memcmp(tat(&acc, ch, y, x), &want, 4) == 0;
                }
        det_check(ok, "ACCUMULATE == prior + OVERWRITE");
        /* value and gradient vs double */
        fdx f = { 0 };
        f.fwd = fwd_loss;
        f.p[0] = n; f.p[1] = charb;
        f.dp[0] = weight; f.dp[1] = eps;
        f.nslot = 2; f.slen[0] = f.slen[1] = (size_t)n;
        f.slot[0] = xmalloc((size_t)n * sizeof(double));
        f.slot[1] = xmalloc((size_t)n * sizeof(double));
        to_dense(&a, f.slot[0]);
        to_dense(&b, f.slot[1]);
        double one = 1, outv;
        f.out = &outv; f.olen = 1; f.R = &one;
        double exact = fd_loss(&f);
        adj_check(L, exact, fabs(exact), "loss value vs double");
        float *dd = xmalloc((size_t)n * sizeof(float));
        to_densef(&ga, dd);
        fd_check(&f, 0, dd, charb ? 1e-6 : 1e-3, "grad_a");
        free(f.slot[0]); free(f.slot[1]); free(dd);
        tfree(&a); tfree(&b); tfree(&ga); tfree(&ga2); tfree(&acc); tfree(&acc0);
    }
    end_op();
}

/* ------------------------------------------------- 9: Adam */

static void test_adam(void)
{
    begin_op("adam/adamw step");
    for (int it = 0; it < 40; it++) {
        const size_t n = (size_t)rndi(1, 300);
        sk_adam_config cfg = { 1e-3f * (float)rndi(1, 50), it % 4 == 3 ? 0.4f : 0.9f, 0.999f, 1e-8f,
                               it % 3 ? 0.01f * (float)rndi(0, 5) : 0.0f, it % 2 };
        snprintf(g_ctx, sizeof g_ctx, "n=%zu lr=%g b1=%g wd=%g decoupled=%d", n, cfg.lr, cfg.beta1,
                 cfg.weight_decay, cfg.decoupled);
        float *p = fnew(n, 1), *m = fnew(n, 0), *v = fnew(n, 0);
        float *p2 = fnew(n, 0), *m2 = fnew(n, 0), *v2 = fnew(n, 0);
        memcpy(p2, p, n * 4);
        double *pd = xmalloc(n * sizeof(double)), *md = xmalloc(n * sizeof(double)), *vd = xmalloc(n * sizeof(double));
        for (size_t i = 0; i < n; i++) { pd[i] = p[i]; md[i] = vd[i] = 0; }
        float *g = fnew(n, 1);
        double worst = 0;
        for (int t = 1; t <= 20; t++) {
            for (size_t i = 0; i < n; i++) g[i] = rndf() + 0.3f * (float)sin(pd[i] * 3);
            expect_ok(sk_adam_step(p, g, m, v, n, &cfg, t), "adam");
            expect_ok(sk_adam_step(p2, g, m2, v2, n, &cfg, t), "adam");
            /* textbook Adam/AdamW in double */
            double b1 = cfg.beta1, b2 = cfg.beta2, lr = cfg.lr, wd = cfg.weight_decay;
            for (size_t i = 0; i < n; i++) {
                double gi = g[i];
                if (!cfg.decoupled) gi += wd * pd[i];
                else pd[i] *= 1 - lr * wd;
                md[i] = b1 * md[i] + (1 - b1) * gi;
                vd[i] = b2 * vd[i] + (1 - b2) * gi * gi;
                double mh = md[i] / (1 - pow(b1, t)), vh = vd[i] / (1 - pow(b2, t));
                pd[i] -= lr * mh / (sqrt(vh) + cfg.eps);
                /* one float step from the same state: a few ulps of p, plus
                 * float rounding of the (lr-sized) update */
                double err = fabs(p[i] - pd[i]) / (4 * FLT_EPSILON * fabs(pd[i]) + 1e-5 * lr);
                if (err > worst) worst = err;
                pd[i] = p[i]; /* resynchronise to isolate single-step error */
                md[i] = m[i]; vd[i] = v[i];
            }
        }
        g_fd_checks += (long)n * 20;
        if (worst > g_worst_fd) g_worst_fd = worst;
        if (!(worst <= 1.0)) {
            char msg[64];
            snprintf(msg, sizeof msg, "%.3g", worst);
            fail("adam vs double textbook: ", msg);
        }
        det_check(!memcmp(p, p2, n * 4) && !memcmp(m, m2, n * 4) && !memcmp(v, v2, n * 4), "repeat");
        free(p); free(m); free(v); free(p2); free(m2); free(v2); free(pd); free(md); free(vd); free(g);
    }
    /* argument checks */
    {
        float a[4] = { 0 }, b[4] = { 0 }, c[4] = { 0 }, d[4] = { 0 };
        sk_adam_config cfg = { 1e-3f, 0.9f, 0.999f, 1e-8f, 0, 0 };
        int bad = 0;
        bad |= sk_adam_step(a, b, c, d, 4, &cfg, 0) != SK_EINVAL;
        bad |= sk_adam_step(a, a, c, d, 4, &cfg, 1) != SK_EINVAL;
        cfg.beta1 = 1.0f;
        bad |= sk_adam_step(a, b, c, d, 4, &cfg, 1) != SK_EINVAL;
        g_det_checks++;
        if (bad) fail("adam argument checks", NULL);
    }
    end_op();
}

/* ------------------------------------------------- argument validation */

static void test_errors(void)
{
    begin_op("argument checks");
    snprintf(g_ctx, sizeof g_ctx, "fixed cases");
    tb a = tnew(2, 4, 8), g = tnew(2, 4, 8), g3 = tnew(2, 4, 7), big = tnew(2, 8, 16);
    tfill(&a); tfill(&g); tfill(&g3); tfill(&big);
    float wt[2 * 2 * 49] = { 0 }, dw[2 * 2 * 49], db[2], scr[4096];
    int bad = 0;
    bad |= sk_dwconv_backward_input(&g.t, &a.t, wt, 4, 0, 0, scr, 0, 4) != SK_EINVAL; /* even k */
    bad |= sk_dwconv_backward_input(&g.t, &a.t, wt, 3, 2, 0, scr, 0, 4) != SK_EINVAL; /* border */
    bad |= sk_dwconv_backward_input(&g.t, &a.t, wt, 3, 0, 2, scr, 0, 4) != SK_EINVAL; /* mode */
    bad |= sk_dwconv_backward_input(&g.t, &a.t, wt, 3, 0, 0, scr, 0, 5) != SK_EINVAL; /* band */
    bad |= sk_dwconv_backward_input(&g.t, &a.t, wt, 3, 0, 0, NULL, 0, 4) != SK_EINVAL; /* scratch */
    bad |= sk_dwconv_backward_input(&g.t, &g.t, wt, 3, 0, 0, scr, 0, 4) != SK_EINVAL; /* alias */
    bad |= sk_dwconv_backward_input(&g3.t, &a.t, wt, 3, 0, 0, scr, 0, 4) != SK_EINVAL; /* shape */
    bad |= sk_dwconv_backward_input(&g.t, &a.t, wt, 3, 0, 0, scr, 2, 2) != SK_OK;      /* empty */
    bad |= sk_dwconv_backward_input(&g.t, &a.t, wt, 3, 0, 0, g.t.data, 0, 4) != SK_EINVAL; /* scratch alias */
    bad |= sk_dwconv_backward_params(&a.t, &g.t, NULL, db, 3, 0, 0, 4) != SK_EINVAL;
    bad |= sk_dwconv_backward_params(&a.t, &g.t, g.t.data, db, 3, 0, 0, 4) != SK_EINVAL; /* dw alias */
    bad |= sk_conv_backward_params(&a.t, &g.t, dw, db, 3, 0, 1, 0) != SK_EINVAL; /* band */
    bad |= sk_pwconv_backward_params(&a.t, &g.t, dw, db, NULL, 0, 4) != SK_EINVAL;
    bad |= sk_pwconv_backward_input(&g3.t, &a.t, wt, 0, 0, 4) != SK_EINVAL;
    bad |= sk_space_to_depth2x_backward(&g.t, &a.t, 0, 0, 4) != SK_EINVAL;
    bad |= sk_tconv2x_backward_input(&big.t, &a.t, wt, 4, 2, 0, 0, scr, 0, 4) != SK_EINVAL; /* 4x8 k4 p2 -> 6x14 */
    bad |= sk_tconv2x_backward_input(&big.t, &a.t, wt, 4, 1, 0, 0, scr, 0, 4) != SK_OK;     /* -> 8x16 */
    bad |= sk_tconv2x_backward_params(&a.t, &big.t, dw, db, 4, 1, 2, 0, 8) != SK_EINVAL; /* out_pad */
    bad |= sk_tconv2x_backward_params(&a.t, &big.t, dw, db, 4, 1, 0, 0, 8) != SK_OK;
    bad |= sk_bicubic2x_backward(&big.t, &a.t, -0.75f, 0, NULL, 0, 4) != SK_EINVAL;
    bad |= sk_bicubic2x_backward(&g.t, &a.t, -0.75f, 0, scr, 0, 4) != SK_EINVAL;
    bad |= sk_area_down2x_backward(&a.t, &big.t, 0, 0, 9) != SK_EINVAL;
    bad |= sk_prelu_backward(&a.t, &g.t, NULL, &big.t, NULL, 0, 0, 4) != SK_EINVAL;
    bad |= sk_prelu_backward(&a.t, &g.t, db, NULL, NULL, 0, 0, 4) != SK_EINVAL;
    bad |= sk_relu_backward(&a.t, &g.t, &a.t, 0, 0, 4) != SK_EINVAL; /* grad_in aliases z */
    {
        double L;
        bad |= sk_mse_loss(&a.t, &g3.t, 1.0, NULL, 0, &L, 0, 4) != SK_EINVAL;
        bad |= sk_mse_loss(&a.t, &g.t, 1.0, &a.t, 0, &L, 0, 4) != SK_EINVAL;
        bad |= sk_charbonnier_loss(&a.t, &g.t, 0.0, 1.0, NULL, 0, &L, 0, 4) != SK_EINVAL;
        bad |= sk_mse_loss(&a.t, &g.t, 1.0, NULL, 0, NULL, 0, 4) != SK_EINVAL;
    }
    g_det_checks++;
    if (bad) fail("an invalid call was accepted or a valid one rejected", NULL);
    tfree(&a); tfree(&g); tfree(&g3); tfree(&big);
    end_op();
}

/* -------------------------------------------------------------- benchmark */

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

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
        } while (now() - t0_ < 0.15 || reps_ < 5);                             \
        result = best_;                                                        \
    } while (0)

static void row(const char *name, double fwd, double bin, double bpar, double px)
{
    printf("  %-30s", name);
    if (fwd > 0) printf(" %9.2f", fwd * 1e9 / px); else printf(" %9s", "-");
    if (bin > 0) printf(" %9.2f", bin * 1e9 / px); else printf(" %9s", "-");
    if (bpar > 0) printf(" %9.2f", bpar * 1e9 / px); else printf(" %9s", "-");
    double tot = (bin > 0 ? bin : 0) + (bpar > 0 ? bpar : 0);
    if (fwd > 0 && tot > 0) printf("   %5.1fx", tot / fwd);
    printf("\n");
}

static void bench(void)
{
    const int C = 16, H = 64, W = 128;
    const double px = (double)H * W;
    rng_state = 1;
    tb x = tnew(C, H, W), y = tnew(C, H, W), g = tnew(C, H, W), d = tnew(C, H, W);
    tb x1 = tnew(1, H, W), d1 = tnew(1, H, W);
    tb big = tnew(C, 2 * H, 2 * W), gbig = tnew(C, 2 * H, 2 * W), x4 = tnew(4, H, W), d4 = tnew(4, H, W);
    tb small = tnew(C, H / 2, W / 2), gsmall = tnew(C, H / 2, W / 2);
    tb s2dg = tnew(4 * C, H / 2, W / 2);
    tfill(&x); tfill(&g); tfill(&x1); tfill(&big); tfill(&gbig); tfill(&x4); tfill(&gsmall); tfill(&s2dg);
    float *wt = fnew(16 * 16 * 49, 1), *dw = fnew(16 * 16 * 49, 0), *db = fnew(64, 0), *bias = fnew(64, 1);
    float *slope = fnew(64, 1), *ds = fnew(64, 0);
    float *scr = fnew(sk_pwconv_backward_params_scratch_floats(C, C) + 4096, 0);
    float *uscr = fnew(sk_upscale2x_scratch_floats(2 * W), 0);
    sk_act none = { SK_ACT_NONE, NULL };
    double tf, ti, tp;
    for (int l = 0; l < NLEVELS; l++) {
        if (!sk_level_supported(l)) continue;
        sk_set_level(l);
        printf("\n[%s] 16 channels, 64x128 tile, single thread, ns per tile pixel (all channels)\n", sk_cpu_name());
        printf("  %-30s %9s %9s %9s   %s\n", "op", "forward", "bwd-in", "bwd-par", "bwd/fwd");
        TIME_IT(tf, sk_dwconv(&x.t, &y.t, wt, bias, 3, 0, none, 0, H));
        TIME_IT(ti, sk_dwconv_backward_input(&g.t, &d.t, wt, 3, 0, 0, scr, 0, H));
        TIME_IT(tp, sk_dwconv_backward_params(&x.t, &g.t, dw, db, 3, 0, 0, H));
        row("dwconv 3x3 replicate", tf, ti, tp, px);
        TIME_IT(tf, sk_dwconv(&x.t, &y.t, wt, bias, 5, 1, none, 0, H));
        TIME_IT(ti, sk_dwconv_backward_input(&g.t, &d.t, wt, 5, 1, 0, scr, 0, H));
        TIME_IT(tp, sk_dwconv_backward_params(&x.t, &g.t, dw, db, 5, 1, 0, H));
        row("dwconv 5x5 zero", tf, ti, tp, px);
        TIME_IT(tf, sk_pwconv(&x.t, &y.t, wt, bias, none, NULL, 0, H));
        TIME_IT(ti, sk_pwconv_backward_input(&g.t, &d.t, wt, 0, 0, H));
        TIME_IT(tp, sk_pwconv_backward_params(&x.t, &g.t, dw, db, scr, 0, H));
        row("pwconv 16->16", tf, ti, tp, px);
        TIME_IT(tf, sk_conv(&x4.t, &y.t, wt, bias, 3, 0, none, 0, H));
        TIME_IT(ti, sk_conv_backward_input(&g.t, &d4.t, wt, 3, 0, 0, scr, 0, H));
        TIME_IT(tp, sk_conv_backward_params(&x4.t, &g.t, dw, db, 3, 0, 0, H));
        row("conv 3x3 4->16", tf, ti, tp, px);
        TIME_IT(tf, sk_conv(&x1.t, &y.t, wt, bias, 3, 0, none, 0, H));
        TIME_IT(ti, sk_conv_backward_input(&g.t, &d1.t, wt, 3, 0, 0, scr, 0, H));
        TIME_IT(tp, sk_conv_backward_params(&x1.t, &g.t, dw, db, 3, 0, 0, H));
        row("conv 3x3 1->16", tf, ti, tp, px);
        TIME_IT(tf, sk_conv(&x.t, &y.t, wt, bias, 3, 0, none, 0, H));
        TIME_IT(ti, sk_conv_backward_input(&g.t, &d.t, wt, 3, 0, 0, scr, 0, H));
        TIME_IT(tp, sk_conv_backward_params(&x.t, &g.t, dw, db, 3, 0, 0, H));
        row("conv 3x3 16->16", tf, ti, tp, px);
        {   /* 16 x 64x128 -> 4 x 128x256 */
            tb o4 = tnew(4, 2 * H, 2 * W), g4 = tnew(4, 2 * H, 2 * W);
            tfill(&g4);
            TIME_IT(tf, sk_tconv2x(&x.t, &o4.t, wt, bias, 4, 1, 0, NULL, 0, 2 * H));
            TIME_IT(ti, sk_tconv2x_backward_input(&g4.t, &d.t, wt, 4, 1, 0, 0, scr, 0, H));
            TIME_IT(tp, sk_tconv2x_backward_params(&x.t, &g4.t, dw, db, 4, 1, 0, 0, 2 * H));
            row("tconv k4 p1 16->4 (2x up)", tf, ti, tp, px);
            tfree(&o4); tfree(&g4);
        }
        TIME_IT(tf, sk_space_to_depth2x(&x.t, &s2dg.t, 0, H / 2));
        TIME_IT(ti, sk_space_to_depth2x_backward(&s2dg.t, &d.t, 0, 0, H));
        row("space_to_depth2x 16ch", tf, ti, 0, px);
        {
            tb b4 = tnew(4, 2 * H, 2 * W), gb4 = tnew(4, 2 * H, 2 * W);
            tfill(&gb4);
            TIME_IT(tf, sk_depth_to_space2x(&x.t, &b4.t, NULL, 0, 2 * H));
            TIME_IT(ti, sk_depth_to_space2x_backward(&gb4.t, &d.t, 0, 0, H));
            tfree(&b4); tfree(&gb4);
        }
        row("depth_to_space2x 16->4ch", tf, ti, 0, px);
        TIME_IT(tf, sk_bicubic2x(&x.t, &big.t, -0.75f, uscr, 0, 2 * H));
        TIME_IT(ti, sk_bicubic2x_backward(&gbig.t, &d.t, -0.75f, 0, scr, 0, H));
        row("bicubic2x 16ch (64x128 in)", tf, ti, 0, px);
        TIME_IT(tf, sk_bilinear2x(&x.t, &big.t, uscr, 0, 2 * H));
        TIME_IT(ti, sk_bilinear2x_backward(&gbig.t, &d.t, 0, scr, 0, H));
        row("bilinear2x 16ch (64x128 in)", tf, ti, 0, px);
        TIME_IT(tf, sk_area_down2x(&x.t, &small.t, 0, H / 2));
        TIME_IT(ti, sk_area_down2x_backward(&gsmall.t, &d.t, 0, 0, H));
        row("area_down2x 16ch (64x128 in)", tf, ti, 0, px);
        TIME_IT(tf, sk_relu_forward(&x.t, &y.t, 0, H));
        TIME_IT(ti, sk_relu_backward(&x.t, &g.t, &d.t, 0, 0, H));
        row("relu 16ch", tf, ti, 0, px);
        TIME_IT(tf, sk_prelu_forward(&x.t, &y.t, slope, 0, H));
        TIME_IT(ti, sk_prelu_backward(&x.t, &g.t, slope, &d.t, NULL, 0, 0, H));
        TIME_IT(tp, sk_prelu_backward(&x.t, &g.t, slope, NULL, ds, 0, 0, H));
        row("prelu 16ch", tf, ti, tp, px);
        double L;
        TIME_IT(ti, sk_mse_loss(&x.t, &y.t, 1.0 / (C * px), &d.t, 0, &L, 0, H));
        row("mse loss + grad 16ch", 0, ti, 0, px);
        TIME_IT(ti, sk_charbonnier_loss(&x.t, &y.t, 1e-3, 1.0 / (C * px), &d.t, 0, &L, 0, H));
        row("charbonnier loss + grad 16ch", 0, ti, 0, px);
        {
            const size_t n = 1 << 16;
            float *p = fnew(n, 1), *gg = fnew(n, 1), *m = fnew(n, 0), *v = fnew(n, 0);
            sk_adam_config cfg = { 1e-3f, 0.9f, 0.999f, 1e-8f, 1e-2f, 1 };
            double ta;
            TIME_IT(ta, sk_adam_step(p, gg, m, v, n, &cfg, 10));
            printf("  %-30s %9.2f ns per parameter\n", "adamw step", ta * 1e9 / n);
            free(p); free(gg); free(m); free(v);
        }
    }
    printf("\nbwd-par = parameter gradients over the whole tile (one band); bwd/fwd = (bwd-in + bwd-par) / forward\n");
}

/* ------------------------------------------------------------------ main */

int main(int argc, char **argv)
{
    uint64_t seed = 0x5EEDull;
    int do_bench = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--bench")) do_bench = 1;
        else if (!strcmp(argv[i], "--quick")) continue; /* checkasm's bench flag: ignored */
        else if (!strcmp(argv[i], "--seed") && i + 1 < argc) seed = strtoull(argv[++i], NULL, 0);
        else if (!strcmp(argv[i], "--iters") && i + 1 < argc) g_iters = atoi(argv[++i]);
        else { fprintf(stderr, "usage: %s [--bench] [--seed N] [--iters N]\n", argv[0]); return 2; }
    }
    printf("CSliceKernels gradcheck: levels");
    for (int l = 0; l < NLEVELS; l++) printf(" %s=%s", sk_level_name(l), sk_level_supported(l) ? "yes" : "no");
    printf("\n");
    if (do_bench) { bench(); return 0; }
    printf("seed 0x%llx, %d cases per op\n", (unsigned long long)seed, g_iters);
    rng_state = seed;
    test_conv_family(K_DW);
    test_conv_family(K_PW);
    test_conv_family(K_CONV);
    test_shuffle(0);
    test_shuffle(1);
    test_tconv();
    test_resample(0);
    test_resample(1);
    test_resample(2);
    test_act(0);
    test_act(1);
    test_loss(0);
    test_loss(1);
    test_adam();
    test_errors();
    printf("%s\n", g_any_fail ? "GRADCHECK FAILED" : "GRADCHECK ALL PASSED");
    return g_any_fail ? 1 : 0;
}
