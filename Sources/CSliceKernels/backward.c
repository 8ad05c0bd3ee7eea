/*
 * backward.c - backward passes for training (see slice_kernels_backward.h).
 *
 * Structure:
 *   - argument validation (every public function validates completely before
 *     writing anything);
 *   - the hot kernels (k x k / pointwise / transposed convolutions, 2x
 *     upscale adjoints) live in sk_backward_template.h, written once in
 *     portable C and compiled here once per CPU level (generic; on x86-64
 *     also AVX2 and AVX-512 via target attributes). The level is the one
 *     chosen for the forward kernels (sk_get_level(), SLICESTREAM_CPU). All
 *     variants give bit-identical results (see the template header);
 *   - memory-bound element-wise operators, losses and the optimiser step are
 *     plain loops compiled once.
 *
 * No FP contraction anywhere (sk_internal.h + the pragma below): every
 * multiply-add is a separately rounded multiply and add, so the compiler
 * cannot make results depend on the instruction set.
 */
#include "sk_internal.h"
#include "slice_kernels_backward.h"

#include <string.h>

#if defined(__clang__) || !defined(__GNUC__)
#pragma STDC FP_CONTRACT OFF
#endif

#if !defined(__GNUC__) && !defined(__clang__)
#error "backward.c uses GCC/clang generic vector types"
#endif

/* ------------------------------------------------------------------------ */
/* Validation helpers                                                       */
/* ------------------------------------------------------------------------ */

static int t_ok(const sk_tensor *t)
{
    if (!t || !t->data) return 0;
    if (t->c < 1 || t->h < 1 || t->w < 1) return 0;
    if (t->stride < t->w) return 0;
    if (t->c > 1 && t->plane < (ptrdiff_t)(t->h - 1) * t->stride + t->w) return 0;
    return 1;
}

/* Byte range [lo, hi] touched by a view / a float array. */
static void t_range(const sk_tensor *t, uintptr_t *lo, uintptr_t *hi)
{
    ptrdiff_t last = (ptrdiff_t)(t->c - 1) * t->plane + (ptrdiff_t)(t->h - 1) * t->stride
                   + (t->w - 1);
    *lo = (uintptr_t)t->data;
    *hi = (uintptr_t)t->data + (uintptr_t)last * sizeof(float);
}

static int ranges_meet(uintptr_t alo, uintptr_t ahi, uintptr_t blo, uintptr_t bhi)
{
    return alo <= bhi && blo <= ahi;
}

static int t_overlap(const sk_tensor *a, const sk_tensor *b)
{
    uintptr_t alo, ahi, blo, bhi;
    t_range(a, &alo, &ahi);
    t_range(b, &blo, &bhi);
    return ranges_meet(alo, ahi, blo, bhi);
}

/* A float array p[0..n) overlaps tensor t (n == 0 or p == NULL: no). */
static int a_overlap_t(const float *p, size_t n, const sk_tensor *t)
{
    if (!p || n == 0 || !t) return 0;
    uintptr_t lo, hi;
    t_range(t, &lo, &hi);
    return ranges_meet((uintptr_t)p, (uintptr_t)(p + (n - 1)), lo, hi);
}

static int a_overlap_a(const float *p, size_t n, const float *q, size_t m)
{
    if (!p || !q || n == 0 || m == 0) return 0;
    return ranges_meet((uintptr_t)p, (uintptr_t)(p + (n - 1)), (uintptr_t)q,
                       (uintptr_t)(q + (m - 1)));
}

static int same_view(const sk_tensor *a, const sk_tensor *b)
{
    return a->data == b->data && a->stride == b->stride && (a->c == 1 || a->plane == b->plane);
}

static int same_shape(const sk_tensor *a, const sk_tensor *b)
{
    return a->c == b->c && a->h == b->h && a->w == b->w;
}

static int band_ok(const sk_tensor *t, int y0, int y1)
{
    return y0 >= 0 && y0 <= y1 && y1 <= t->h;
}

static int mode_ok(int mode) { return mode == SK_GRAD_OVERWRITE || mode == SK_GRAD_ACCUMULATE; }
static int k_ok(int k) { return k >= 1 && k <= SK_MAX_K && (k & 1); }
static int border_ok(int b) { return b == SK_BORDER_REPLICATE || b == SK_BORDER_ZERO; }

static size_t round16(size_t n) { return (n + 15u) & ~(size_t)15u; }

/* ------------------------------------------------------------------------ */
/* Per-level kernels                                                        */
/* ------------------------------------------------------------------------ */

typedef struct bw_kernels {
    void (*conv_in)(const sk_tensor *g, const sk_tensor *d, const float *weight, int k,
                    int border, int mode, int depthwise, float *S, int y0, int y1);
    void (*conv_params)(const sk_tensor *x, const sk_tensor *g, float *dw, float *db, int k,
                        int border, int depthwise, int y0, int y1);
    void (*pw_in)(const sk_tensor *g, const sk_tensor *d, const float *wt, int mode, int y0,
                  int y1);
    void (*pw_params)(const sk_tensor *x, const sk_tensor *g, float *dw, float *db,
                      float *lanes, int y0, int y1);
    void (*tconv_in)(const sk_tensor *g, const sk_tensor *d, const float *weight, int k,
                     int pad, int mode, float *S, int y0, int y1);
    void (*tconv_params)(const sk_tensor *x, const sk_tensor *g, float *dw, float *db, int k,
                         int pad, int y0, int y1);
    void (*up_in)(const sk_tensor *g, const sk_tensor *d, int ntap, const int off[2],
                  const float c[2][4], int mode, float *Vr, int y0, int y1);
} bw_kernels;

/* Generic: 16-byte vectors (SSE2 on x86-64, NEON on arm64). */
#define BW_SFX generic
#define BW_TGT
#define BW_VB 16
#define BW_PWI_CB 4
#define BW_PWW_CO 1
#define BW_PWW_CI 2
#include "sk_backward_template.h"

#if defined(__x86_64__) || defined(_M_X64)
/* No "fma" in the target lists: nothing could be contracted even if the
 * contraction pragmas were ignored (avx512f implies FMA in some compilers;
 * the pragmas in sk_internal.h / above keep it off there). */
#define BW_SFX avx2
#define BW_TGT __attribute__((target("avx2")))
#define BW_VB 32
#define BW_PWI_CB 4
#define BW_PWW_CO 2
#define BW_PWW_CI 2
#include "sk_backward_template.h"

#define BW_SFX avx512
#define BW_TGT __attribute__((target("avx512f,avx512vl,avx512bw")))
#define BW_VB 64
#define BW_PWI_CB 8
#define BW_PWW_CO 4
#define BW_PWW_CI 4
#include "sk_backward_template.h"
#endif

static const bw_kernels *bw_active(void)
{
#if defined(__x86_64__) || defined(_M_X64)
    const int level = sk_get_level();
    if (level >= SK_LEVEL_AVX512) return &bw_tbl_avx512;
    if (level >= SK_LEVEL_AVX2) return &bw_tbl_avx2;
#endif
    return &bw_tbl_generic;
}

/* ------------------------------------------------------------------------ */
/* Scratch sizes                                                            */
/* ------------------------------------------------------------------------ */

size_t sk_conv_backward_scratch_floats(int w, int k)
{
    if (w < 1) w = 1;
    if (k < 1) k = 1;
    return round16((size_t)w + (size_t)k - 1);
}

size_t sk_pwconv_backward_params_scratch_floats(int cin, int cout)
{
    if (cin < 1) cin = 1;
    if (cout < 1) cout = 1;
    return (size_t)SK_GRAD_LANES * (size_t)cout * ((size_t)cin + 1);
}

/* One grad_out row split into even / odd columns: (wo + 1) / 2 <= in_w + 9
 * floats each (wo <= 2*in_w + 16 for k <= 16, out_pad <= 1). */
static size_t tconv_eo_floats(int in_w) { return 2 * round16((size_t)in_w + 9); }

size_t sk_tconv2x_backward_scratch_floats(int in_w)
{
    if (in_w < 1) in_w = 1;
    return round16((size_t)in_w) + tconv_eo_floats(in_w);
}

size_t sk_upscale2x_backward_scratch_floats(int out_w)
{
    return 2 * round16((size_t)(out_w < 1 ? 1 : out_w)); /* row + its even/odd split */
}

/* ------------------------------------------------------------------------ */
/* 1 + 3. k x k convolutions                                                */
/* ------------------------------------------------------------------------ */

/* Shapes of grad_out (forward output) / grad_in (forward input). */
static int check_conv_in(const sk_tensor *g, const sk_tensor *d, const float *weight, int k,
                         int border, int mode, const float *scratch, int depthwise, int y0,
                         int y1)
{
    if (!t_ok(g) || !t_ok(d) || !weight || !scratch) return SK_EINVAL;
    if (g->h != d->h || g->w != d->w || (depthwise && g->c != d->c)) return SK_EINVAL;
    if (!k_ok(k) || !border_ok(border) || !mode_ok(mode)) return SK_EINVAL;
    if (!band_ok(d, y0, y1) || t_overlap(g, d)) return SK_EINVAL;
    const size_t ns = sk_conv_backward_scratch_floats(d->w, k);
    if (a_overlap_t(scratch, ns, g) || a_overlap_t(scratch, ns, d)) return SK_EINVAL;
    return SK_OK;
}

static int check_conv_params(const sk_tensor *x, const sk_tensor *g, const float *dw,
                             const float *db, int k, int border, int depthwise, int y0, int y1)
{
    if (!t_ok(x) || !t_ok(g) || !dw) return SK_EINVAL;
    if (g->h != x->h || g->w != x->w || (depthwise && g->c != x->c)) return SK_EINVAL;
    if (!k_ok(k) || !border_ok(border) || !band_ok(g, y0, y1)) return SK_EINVAL;
    const size_t nw = (size_t)g->c * (depthwise ? 1u : (size_t)x->c) * (size_t)(k * k);
    if (a_overlap_t(dw, nw, x) || a_overlap_t(dw, nw, g)) return SK_EINVAL;
    if (a_overlap_t(db, (size_t)g->c, x) || a_overlap_t(db, (size_t)g->c, g)) return SK_EINVAL;
    if (a_overlap_a(dw, nw, db, (size_t)g->c)) return SK_EINVAL;
    return SK_OK;
}

int sk_dwconv_backward_input(const sk_tensor *grad_out, const sk_tensor *grad_in,
                             const float *weight, int k, int border, int mode,
                             float *scratch, int y0, int y1)
{
    int e = check_conv_in(grad_out, grad_in, weight, k, border, mode, scratch, 1, y0, y1);
    if (e) return e;
    bw_active()->conv_in(grad_out, grad_in, weight, k, border, mode, 1, scratch, y0, y1);
    return SK_OK;
}

int sk_dwconv_backward_params(const sk_tensor *in, const sk_tensor *grad_out,
                              float *grad_weight, float *grad_bias, int k, int border,
                              int y0, int y1)
{
    int e = check_conv_params(in, grad_out, grad_weight, grad_bias, k, border, 1, y0, y1);
    if (e) return e;
    bw_active()->conv_params(in, grad_out, grad_weight, grad_bias, k, border, 1, y0, y1);
    return SK_OK;
}

int sk_conv_backward_input(const sk_tensor *grad_out, const sk_tensor *grad_in,
                           const float *weight, int k, int border, int mode,
                           float *scratch, int y0, int y1)
{
    int e = check_conv_in(grad_out, grad_in, weight, k, border, mode, scratch, 0, y0, y1);
    if (e) return e;
    bw_active()->conv_in(grad_out, grad_in, weight, k, border, mode, 0, scratch, y0, y1);
    return SK_OK;
}

int sk_conv_backward_params(const sk_tensor *in, const sk_tensor *grad_out,
                            float *grad_weight, float *grad_bias, int k, int border,
                            int y0, int y1)
{
    int e = check_conv_params(in, grad_out, grad_weight, grad_bias, k, border, 0, y0, y1);
    if (e) return e;
    bw_active()->conv_params(in, grad_out, grad_weight, grad_bias, k, border, 0, y0, y1);
    return SK_OK;
}

/* ------------------------------------------------------------------------ */
/* 2. Pointwise                                                             */
/* ------------------------------------------------------------------------ */

int sk_pwconv_backward_input(const sk_tensor *grad_out, const sk_tensor *grad_in,
                             const float *weight, int mode, int y0, int y1)
{
    if (!t_ok(grad_out) || !t_ok(grad_in) || !weight || !mode_ok(mode)) return SK_EINVAL;
    if (grad_out->h != grad_in->h || grad_out->w != grad_in->w) return SK_EINVAL;
    if (!band_ok(grad_in, y0, y1) || t_overlap(grad_out, grad_in)) return SK_EINVAL;
    bw_active()->pw_in(grad_out, grad_in, weight, mode, y0, y1);
    return SK_OK;
}

int sk_pwconv_backward_params(const sk_tensor *in, const sk_tensor *grad_out,
                              float *grad_weight, float *grad_bias, float *scratch,
                              int y0, int y1)
{
    if (!t_ok(in) || !t_ok(grad_out) || !grad_weight || !scratch) return SK_EINVAL;
    if (in->h != grad_out->h || in->w != grad_out->w) return SK_EINVAL;
    if (!band_ok(grad_out, y0, y1)) return SK_EINVAL;
    const size_t nw = (size_t)grad_out->c * (size_t)in->c, nb = (size_t)grad_out->c;
    const size_t ns = sk_pwconv_backward_params_scratch_floats(in->c, grad_out->c);
    if (a_overlap_t(grad_weight, nw, in) || a_overlap_t(grad_weight, nw, grad_out) ||
        a_overlap_t(grad_bias, nb, in) || a_overlap_t(grad_bias, nb, grad_out) ||
        a_overlap_a(grad_weight, nw, grad_bias, nb) || a_overlap_t(scratch, ns, in) ||
        a_overlap_t(scratch, ns, grad_out) || a_overlap_a(scratch, ns, grad_weight, nw) ||
        a_overlap_a(scratch, ns, grad_bias, nb))
        return SK_EINVAL;
    bw_active()->pw_params(in, grad_out, grad_weight, grad_bias, scratch, y0, y1);
    return SK_OK;
}

/* ------------------------------------------------------------------------ */
/* 4. Pixel (un)shuffle                                                     */
/* ------------------------------------------------------------------------ */

int sk_space_to_depth2x_backward(const sk_tensor *grad_out, const sk_tensor *grad_in,
                                 int mode, int y0, int y1)
{
    const sk_tensor *g = grad_out, *d = grad_in;
    if (!t_ok(g) || !t_ok(d) || !mode_ok(mode)) return SK_EINVAL;
    if (g->c != d->c * 4 || d->h != g->h * 2 || d->w != g->w * 2) return SK_EINVAL;
    if (!band_ok(d, y0, y1) || t_overlap(g, d)) return SK_EINVAL;
    for (int c = 0; c < d->c; c++)
        for (int y = y0; y < y1; y++) {
            const int dy = y & 1;
            const float *restrict s0 = sk_row(g, c * 4 + dy * 2, y >> 1);
            const float *restrict s1 = sk_row(g, c * 4 + dy * 2 + 1, y >> 1);
            float *restrict dr = sk_row(d, c, y);
            if (mode == SK_GRAD_ACCUMULATE)
                for (int x = 0; x < g->w; x++) {
                    dr[2 * x] = dr[2 * x] + s0[x];
                    dr[2 * x + 1] = dr[2 * x + 1] + s1[x];
                }
            else
                for (int x = 0; x < g->w; x++) {
                    dr[2 * x] = s0[x];
                    dr[2 * x + 1] = s1[x];
                }
        }
    return SK_OK;
}

int sk_depth_to_space2x_backward(const sk_tensor *grad_out, const sk_tensor *grad_in,
                                 int mode, int y0, int y1)
{
    const sk_tensor *g = grad_out, *d = grad_in;
    if (!t_ok(g) || !t_ok(d) || !mode_ok(mode)) return SK_EINVAL;
    if (d->c != g->c * 4 || g->h != d->h * 2 || g->w != d->w * 2) return SK_EINVAL;
    if (!band_ok(d, y0, y1) || t_overlap(g, d)) return SK_EINVAL;
    for (int oc = 0; oc < d->c; oc++) {
        const int c = oc >> 2, dy = (oc >> 1) & 1, dx = oc & 1;
        for (int y = y0; y < y1; y++) {
            const float *restrict src = sk_row(g, c, 2 * y + dy);
            float *restrict dr = sk_row(d, oc, y);
            if (mode == SK_GRAD_ACCUMULATE)
                for (int x = 0; x < d->w; x++) dr[x] = dr[x] + src[2 * x + dx];
            else
                for (int x = 0; x < d->w; x++) dr[x] = src[2 * x + dx];
        }
    }
    return SK_OK;
}

/* ------------------------------------------------------------------------ */
/* 5. Transposed convolution                                                */
/* ------------------------------------------------------------------------ */

static int tconv_shape_ok(const sk_tensor *x, const sk_tensor *g, int k, int pad, int out_pad)
{
    if (k < 1 || k > SK_MAX_TK || pad < 0 || pad > 4 * SK_MAX_TK) return 0;
    if (out_pad < 0 || out_pad > 1) return 0;
    long long ho = (long long)(x->h - 1) * 2 - 2LL * pad + k + out_pad;
    long long wo = (long long)(x->w - 1) * 2 - 2LL * pad + k + out_pad;
    return ho == g->h && wo == g->w;
}

int sk_tconv2x_backward_input(const sk_tensor *grad_out, const sk_tensor *grad_in,
                              const float *weight, int k, int pad, int out_pad, int mode,
                              float *scratch, int y0, int y1)
{
    const sk_tensor *g = grad_out, *d = grad_in;
    if (!t_ok(g) || !t_ok(d) || !weight || !scratch || !mode_ok(mode)) return SK_EINVAL;
    if (!tconv_shape_ok(d, g, k, pad, out_pad)) return SK_EINVAL;
    if (!band_ok(d, y0, y1) || t_overlap(g, d)) return SK_EINVAL;
    const size_t ns = sk_tconv2x_backward_scratch_floats(d->w);
    if (a_overlap_t(scratch, ns, g) || a_overlap_t(scratch, ns, d)) return SK_EINVAL;
    bw_active()->tconv_in(g, d, weight, k, pad, mode, scratch, y0, y1);
    return SK_OK;
}

int sk_tconv2x_backward_params(const sk_tensor *in, const sk_tensor *grad_out,
                               float *grad_weight, float *grad_bias, int k, int pad,
                               int out_pad, int y0, int y1)
{
    if (!t_ok(in) || !t_ok(grad_out) || !grad_weight) return SK_EINVAL;
    if (!tconv_shape_ok(in, grad_out, k, pad, out_pad) || !band_ok(grad_out, y0, y1))
        return SK_EINVAL;
    const size_t nw = (size_t)in->c * (size_t)grad_out->c * (size_t)(k * k);
    const size_t nb = (size_t)grad_out->c;
    if (a_overlap_t(grad_weight, nw, in) || a_overlap_t(grad_weight, nw, grad_out) ||
        a_overlap_t(grad_bias, nb, in) || a_overlap_t(grad_bias, nb, grad_out) ||
        a_overlap_a(grad_weight, nw, grad_bias, nb))
        return SK_EINVAL;
    bw_active()->tconv_params(in, grad_out, grad_weight, grad_bias, k, pad, y0, y1);
    return SK_OK;
}

/* ------------------------------------------------------------------------ */
/* 6. Resampling                                                            */
/* ------------------------------------------------------------------------ */

static int check_up(const sk_tensor *g, const sk_tensor *d, int mode, const float *scratch,
                    int y0, int y1)
{
    if (!t_ok(g) || !t_ok(d) || !scratch || !mode_ok(mode)) return SK_EINVAL;
    if (g->c != d->c || g->h != d->h * 2 || g->w != d->w * 2) return SK_EINVAL;
    if (!band_ok(d, y0, y1) || t_overlap(g, d)) return SK_EINVAL;
    const size_t ns = sk_upscale2x_backward_scratch_floats(g->w);
    if (a_overlap_t(scratch, ns, g) || a_overlap_t(scratch, ns, d)) return SK_EINVAL;
    return SK_OK;
}

int sk_bicubic2x_backward(const sk_tensor *grad_out, const sk_tensor *grad_in, float a,
                          int mode, float *scratch, int y0, int y1)
{
    int e = check_up(grad_out, grad_in, mode, scratch, y0, y1);
    if (e) return e;
    sk_phase_filter f;
    sk__bicubic_weights(a, &f); /* the forward's float weights */
    static const int off[2] = { -2, -1 };
    bw_active()->up_in(grad_out, grad_in, 4, off, (const float(*)[4])f.c, mode, scratch, y0, y1);
    return SK_OK;
}

int sk_bilinear2x_backward(const sk_tensor *grad_out, const sk_tensor *grad_in, int mode,
                           float *scratch, int y0, int y1)
{
    int e = check_up(grad_out, grad_in, mode, scratch, y0, y1);
    if (e) return e;
    static const float c[2][4] = { { 0.25f, 0.75f, 0, 0 }, { 0.75f, 0.25f, 0, 0 } };
    static const int off[2] = { -1, 0 };
    bw_active()->up_in(grad_out, grad_in, 2, off, c, mode, scratch, y0, y1);
    return SK_OK;
}

int sk_area_down2x_backward(const sk_tensor *grad_out, const sk_tensor *grad_in, int mode,
                            int y0, int y1)
{
    const sk_tensor *g = grad_out, *d = grad_in;
    if (!t_ok(g) || !t_ok(d) || !mode_ok(mode)) return SK_EINVAL;
    if (g->c != d->c || g->h != d->h / 2 || g->w != d->w / 2) return SK_EINVAL;
    if (!band_ok(d, y0, y1) || t_overlap(g, d)) return SK_EINVAL;
    const int wg = g->w;
    for (int c = 0; c < d->c; c++)
        for (int y = y0; y < y1; y++) {
            float *restrict dr = sk_row(d, c, y);
            if (y >= 2 * g->h) { /* trailing odd row: no gradient */
                if (mode == SK_GRAD_OVERWRITE)
                    for (int x = 0; x < d->w; x++) dr[x] = 0.0f;
                continue;
            }
            const float *restrict gr = sk_row(g, c, y >> 1);
            if (mode == SK_GRAD_ACCUMULATE)
                for (int x = 0; x < wg; x++) {
                    const float v = 0.25f * gr[x];
                    dr[2 * x] = dr[2 * x] + v;
                    dr[2 * x + 1] = dr[2 * x + 1] + v;
                }
            else {
                for (int x = 0; x < wg; x++) {
                    const float v = 0.25f * gr[x];
                    dr[2 * x] = v;
                    dr[2 * x + 1] = v;
                }
                if (d->w & 1) dr[d->w - 1] = 0.0f; /* trailing odd column */
            }
        }
    return SK_OK;
}

/* ------------------------------------------------------------------------ */
/* 7. Activations                                                           */
/* ------------------------------------------------------------------------ */

/* Output view that may be exactly the input view (element-wise in place). */
static int inplace_ok(const sk_tensor *src, const sk_tensor *dst)
{
    return same_view(src, dst) || !t_overlap(src, dst);
}

static int act_fwd(const sk_tensor *z, const sk_tensor *y, const float *slope, int prelu,
                   int y0, int y1)
{
    if (!t_ok(z) || !t_ok(y) || !same_shape(z, y) || !band_ok(z, y0, y1)) return SK_EINVAL;
    if (!inplace_ok(z, y) || (prelu && (!slope || a_overlap_t(slope, (size_t)z->c, y))))
        return SK_EINVAL;
    for (int c = 0; c < z->c; c++) {
        const float s = prelu ? slope[c] : 0.0f;
        for (int r = y0; r < y1; r++) {
            const float *zr = sk_row(z, c, r);
            float *yr = sk_row(y, c, r);
            /* zr and yr are either identical or disjoint: element-wise safe. */
            if (prelu)
                for (int x = 0; x < z->w; x++) yr[x] = zr[x] > 0.0f ? zr[x] : s * zr[x];
            else
                for (int x = 0; x < z->w; x++) yr[x] = zr[x] > 0.0f ? zr[x] : 0.0f;
        }
    }
    return SK_OK;
}

int sk_relu_forward(const sk_tensor *z, const sk_tensor *y, int y0, int y1)
{
    return act_fwd(z, y, NULL, 0, y0, y1);
}

int sk_prelu_forward(const sk_tensor *z, const sk_tensor *y, const float *slope, int y0, int y1)
{
    return act_fwd(z, y, slope, 1, y0, y1);
}

static float lanes_sum(const float *lanes)
{
    float t[SK_GRAD_LANES];
    for (int i = 0; i < SK_GRAD_LANES; i++) t[i] = lanes[i];
    for (int s = SK_GRAD_LANES / 2; s >= 1; s /= 2)
        for (int i = 0; i < s; i++) t[i] = t[i] + t[i + s];
    return t[0];
}

/* lanes[l] += (z > 0 ? 0 : g * z) over one row, lane l = x mod 16. */
static void slope_lanes(float *restrict lanes, const float *restrict zr,
                        const float *restrict gr, int w)
{
    /* Loads and the product are unconditional so the loop vectorises. */
    int x = 0;
    for (; x + SK_GRAD_LANES <= w; x += SK_GRAD_LANES)
        for (int l = 0; l < SK_GRAD_LANES; l++) {
            const float z = zr[x + l], p = gr[x + l] * z;
            lanes[l] = lanes[l] + (z > 0.0f ? 0.0f : p);
        }
    for (int l = 0; x + l < w; l++) {
        const float z = zr[x + l], p = gr[x + l] * z;
        lanes[l] = lanes[l] + (z > 0.0f ? 0.0f : p);
    }
}

static int act_bwd(const sk_tensor *z, const sk_tensor *g, const float *slope,
                   const sk_tensor *d, float *dslope, int prelu, int mode, int y0, int y1)
{
    if (!t_ok(z) || !t_ok(g) || !same_shape(z, g) || !mode_ok(mode) || !band_ok(g, y0, y1))
        return SK_EINVAL;
    if (!d && !dslope) return SK_EINVAL;
    if (d && (!t_ok(d) || !same_shape(d, g) || !inplace_ok(g, d) || t_overlap(z, d)))
        return SK_EINVAL;
    const size_t nc = (size_t)z->c;
    if (prelu && (!slope || a_overlap_t(slope, nc, d))) return SK_EINVAL;
    if (dslope && (a_overlap_t(dslope, nc, z) || a_overlap_t(dslope, nc, g) ||
                   a_overlap_t(dslope, nc, d) || a_overlap_a(dslope, nc, slope, nc)))
        return SK_EINVAL;
    const int w = z->w;
    for (int c = 0; c < z->c; c++) {
        const float s = prelu ? slope[c] : 0.0f;
        float lanes[SK_GRAD_LANES] = { 0 };
        for (int r = y0; r < y1; r++) {
            const float *zr = sk_row(z, c, r), *gr = sk_row(g, c, r);
            /* Slope gradient first: grad_in may overwrite grad_out in place. */
            if (dslope) slope_lanes(lanes, zr, gr, w);
            if (!d) continue;
            float *dr = sk_row(d, c, r); /* identical to gr or disjoint */
            /* ReLU is PReLU with slope 0 except that it yields +0.0f, not
             * 0 * g (which could be -0 or NaN): select, don't multiply. */
            if (!prelu) {
                if (mode == SK_GRAD_ACCUMULATE)
                    for (int x = 0; x < w; x++) {
                        const float gv = gr[x];
                        dr[x] = dr[x] + (zr[x] > 0.0f ? gv : 0.0f);
                    }
                else
                    for (int x = 0; x < w; x++) {
                        const float gv = gr[x];
                        dr[x] = zr[x] > 0.0f ? gv : 0.0f;
                    }
            } else {
                if (mode == SK_GRAD_ACCUMULATE)
                    for (int x = 0; x < w; x++) {
                        const float gv = gr[x];
                        dr[x] = dr[x] + (zr[x] > 0.0f ? gv : s * gv);
                    }
                else
                    for (int x = 0; x < w; x++) {
                        const float gv = gr[x];
                        dr[x] = zr[x] > 0.0f ? gv : s * gv;
                    }
            }
        }
        if (dslope) dslope[c] = dslope[c] + lanes_sum(lanes);
    }
    return SK_OK;
}

int sk_relu_backward(const sk_tensor *z, const sk_tensor *grad_out, const sk_tensor *grad_in,
                     int mode, int y0, int y1)
{
    if (!grad_in) return SK_EINVAL;
    return act_bwd(z, grad_out, NULL, grad_in, NULL, 0, mode, y0, y1);
}

int sk_prelu_backward(const sk_tensor *z, const sk_tensor *grad_out, const float *slope,
                      const sk_tensor *grad_in, float *grad_slope, int mode, int y0, int y1)
{
    return act_bwd(z, grad_out, slope, grad_in, grad_slope, 1, mode, y0, y1);
}

/* ------------------------------------------------------------------------ */
/* 8. Losses                                                                */
/* ------------------------------------------------------------------------ */

static double dlanes_sum(const double *lanes)
{
    double t[SK_GRAD_LANES];
    for (int i = 0; i < SK_GRAD_LANES; i++) t[i] = lanes[i];
    for (int s = SK_GRAD_LANES / 2; s >= 1; s /= 2)
        for (int i = 0; i < s; i++) t[i] = t[i] + t[i + s];
    return t[0];
}

static int check_loss(const sk_tensor *a, const sk_tensor *b, const sk_tensor *ga, int mode,
                      const double *loss, int y0, int y1)
{
    if (!t_ok(a) || !t_ok(b) || !same_shape(a, b) || !loss || !mode_ok(mode)) return SK_EINVAL;
    if (!band_ok(a, y0, y1)) return SK_EINVAL;
    if (ga && (!t_ok(ga) || !same_shape(ga, a) || t_overlap(ga, a) || t_overlap(ga, b)))
        return SK_EINVAL;
    return SK_OK;
}

int sk_mse_loss(const sk_tensor *a, const sk_tensor *b, double weight,
                const sk_tensor *grad_a, int mode, double *loss, int y0, int y1)
{
    int e = check_loss(a, b, grad_a, mode, loss, y0, y1);
    if (e) return e;
    const float gs = (float)(2.0 * weight);
    const int w = a->w;
    double lanes[SK_GRAD_LANES] = { 0 };
    for (int c = 0; c < a->c; c++)
        for (int y = y0; y < y1; y++) {
            const float *restrict ar = sk_row(a, c, y), *restrict br = sk_row(b, c, y);
            int x = 0;
            for (; x + SK_GRAD_LANES <= w; x += SK_GRAD_LANES)
                for (int l = 0; l < SK_GRAD_LANES; l++) {
                    const double dd = (double)ar[x + l] - (double)br[x + l];
                    lanes[l] = lanes[l] + dd * dd;
                }
            for (int l = 0; x + l < w; l++) {
                const double dd = (double)ar[x + l] - (double)br[x + l];
                lanes[l] = lanes[l] + dd * dd;
            }
            if (grad_a) {
                float *restrict gr = sk_row(grad_a, c, y);
                if (mode == SK_GRAD_ACCUMULATE)
                    for (int i = 0; i < w; i++) gr[i] = gr[i] + gs * (ar[i] - br[i]);
                else
                    for (int i = 0; i < w; i++) gr[i] = gs * (ar[i] - br[i]);
            }
        }
    *loss = weight * dlanes_sum(lanes);
    return SK_OK;
}

int sk_charbonnier_loss(const sk_tensor *a, const sk_tensor *b, double eps, double weight,
                        const sk_tensor *grad_a, int mode, double *loss, int y0, int y1)
{
    int e = check_loss(a, b, grad_a, mode, loss, y0, y1);
    if (e) return e;
    if (!(eps > 0.0) || eps > 1e150) return SK_EINVAL;
    const double e2 = eps * eps;
    const int w = a->w;
    double lanes[SK_GRAD_LANES] = { 0 };
    for (int c = 0; c < a->c; c++)
        for (int y = y0; y < y1; y++) {
            const float *restrict ar = sk_row(a, c, y), *restrict br = sk_row(b, c, y);
            float *restrict gr = grad_a ? sk_row(grad_a, c, y) : NULL;
            for (int x0 = 0; x0 < w; x0 += SK_GRAD_LANES) {
                const int n = w - x0 < SK_GRAD_LANES ? w - x0 : SK_GRAD_LANES;
                double dd[SK_GRAD_LANES], sq[SK_GRAD_LANES];
                for (int l = 0; l < n; l++) {
                    dd[l] = (double)ar[x0 + l] - (double)br[x0 + l];
                    sq[l] = sqrt(dd[l] * dd[l] + e2);
                    lanes[l] = lanes[l] + sq[l];
                }
                if (gr) {
                    if (mode == SK_GRAD_ACCUMULATE)
                        for (int l = 0; l < n; l++)
                            gr[x0 + l] = gr[x0 + l] + (float)(weight * dd[l] / sq[l]);
                    else
                        for (int l = 0; l < n; l++) gr[x0 + l] = (float)(weight * dd[l] / sq[l]);
                }
            }
        }
    *loss = weight * dlanes_sum(lanes);
    return SK_OK;
}

/* ------------------------------------------------------------------------ */
/* 9. Adam / AdamW                                                          */
/* ------------------------------------------------------------------------ */

int sk_adam_step(float *param, const float *grad, float *m, float *v, size_t n,
                 const sk_adam_config *cfg, long long t)
{
    if (!cfg || t < 1) return SK_EINVAL;
    const float lr = cfg->lr, b1 = cfg->beta1, b2 = cfg->beta2, eps = cfg->eps,
                wd = cfg->weight_decay;
    if (!(lr >= 0.0f) || !(b1 >= 0.0f && b1 < 1.0f) || !(b2 >= 0.0f && b2 < 1.0f) ||
        !(eps > 0.0f) || !(wd >= 0.0f) || (cfg->decoupled != 0 && cfg->decoupled != 1))
        return SK_EINVAL;
    if (n == 0) return SK_OK;
    if (!param || !grad || !m || !v) return SK_EINVAL;
    if (n > PTRDIFF_MAX / sizeof(float)) return SK_EINVAL;
    if (a_overlap_a(param, n, grad, n) || a_overlap_a(param, n, m, n) ||
        a_overlap_a(param, n, v, n) || a_overlap_a(grad, n, m, n) ||
        a_overlap_a(grad, n, v, n) || a_overlap_a(m, n, v, n))
        return SK_EINVAL;

    const double bc1 = 1.0 - pow((double)b1, (double)t);
    const double bc2 = 1.0 - pow((double)b2, (double)t);
    if (!(bc1 > 0.0) || !(bc2 > 0.0)) return SK_EINVAL; /* beta^t rounded to 1 */
    const float step = (float)((double)lr / bc1), nstep = -step;
    const float bc2s = (float)sqrt(bc2);
    const float w1 = (float)(1.0 - (double)b1), w2 = (float)(1.0 - (double)b2);
    const float w1c = 1.0f - w1; /* torch lerp, large-weight branch */
    const int small = w1 < 0.5f;
    const float decay = (float)(1.0 - (double)lr * (double)wd);
    const int l2 = !cfg->decoupled && wd != 0.0f, dec = cfg->decoupled && wd != 0.0f;

    float *restrict P = param, *restrict M = m, *restrict Vv = v;
    const float *restrict G = grad;
    for (size_t i = 0; i < n; i++) {
        float g = G[i], p = P[i];
        if (l2) g = g + wd * p;
        if (dec) p = p * decay;
        const float mi = small ? M[i] + w1 * (g - M[i]) : g - (g - M[i]) * w1c;
        const float vi = Vv[i] * b2 + w2 * (g * g);
        const float denom = sqrtf(vi) / bc2s + eps;
        M[i] = mi;
        Vv[i] = vi;
        P[i] = p + nstep * (mi / denom);
    }
    return SK_OK;
}
