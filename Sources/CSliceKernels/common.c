/*
 * common.c - argument validation and small shared helpers.
 *
 * Every public variant (ref / avx2 / avx512) validates its arguments through
 * these functions, so all variants accept and reject exactly the same calls.
 */
#include "sk_internal.h"

#if defined(__clang__) || !defined(__GNUC__)
#pragma STDC FP_CONTRACT OFF
#endif

/* A tensor view is usable: non-NULL, positive sizes, non-overlapping rows and
 * planes. */
static int tensor_ok(const sk_tensor *t)
{
    if (!t || !t->data) return 0;
    if (t->c < 1 || t->h < 1 || t->w < 1) return 0;
    if (t->stride < t->w) return 0;
    if (t->c > 1 && t->plane < (ptrdiff_t)(t->h - 1) * t->stride + t->w) return 0;
    return 1;
}

/* Address range [first, last] (in bytes) touched by a tensor view. */
static void tensor_range(const sk_tensor *t, uintptr_t *lo, uintptr_t *hi)
{
    ptrdiff_t last = (ptrdiff_t)(t->c - 1) * t->plane + (ptrdiff_t)(t->h - 1) * t->stride
                   + (t->w - 1);
    *lo = (uintptr_t)t->data;
    *hi = (uintptr_t)t->data + (uintptr_t)last * sizeof(float);
}

/* Coarse aliasing check: the bounding byte ranges of two views intersect.
 * Interleaved views (e.g. two channels of one tensor) are conservatively
 * rejected as well; callers pass distinct buffers. */
static int overlaps(const sk_tensor *a, const sk_tensor *b)
{
    uintptr_t alo, ahi, blo, bhi;
    tensor_range(a, &alo, &ahi);
    tensor_range(b, &blo, &bhi);
    return alo <= bhi && blo <= ahi;
}

static int same_view(const sk_tensor *a, const sk_tensor *b)
{
    return a->data == b->data && a->stride == b->stride &&
           (a->c == 1 || a->plane == b->plane);
}

static int same_shape(const sk_tensor *a, const sk_tensor *b)
{
    return a->c == b->c && a->h == b->h && a->w == b->w;
}

static int band_ok(const sk_tensor *out, int y0, int y1)
{
    return y0 >= 0 && y0 <= y1 && y1 <= out->h;
}

/* An addend tensor (residual / base) must match out's shape and either be
 * exactly the output view (in-place add: each element is read before it is
 * written, by the same lane) or not overlap it at all. */
static int addend_ok(const sk_tensor *add, const sk_tensor *out)
{
    if (!add) return 1;
    if (!tensor_ok(add) || !same_shape(add, out)) return 0;
    return same_view(add, out) || !overlaps(add, out);
}

static int act_ok(sk_act act)
{
    if (act.kind == SK_ACT_NONE || act.kind == SK_ACT_RELU) return 1;
    return act.kind == SK_ACT_PRELU && act.slope != NULL;
}

static int k_ok(int k) { return k >= 1 && k <= SK_MAX_K && (k & 1); }

int sk__check_dwconv(const sk_tensor *in, const sk_tensor *out, const float *weight,
                     int k, int border, sk_act act, int y0, int y1)
{
    if (!tensor_ok(in) || !tensor_ok(out) || !weight) return SK_EINVAL;
    if (!same_shape(in, out) || !k_ok(k) || !act_ok(act)) return SK_EINVAL;
    if (border != SK_BORDER_REPLICATE && border != SK_BORDER_ZERO) return SK_EINVAL;
    if (!band_ok(out, y0, y1) || overlaps(in, out)) return SK_EINVAL;
    return SK_OK;
}

int sk__check_pwconv(const sk_tensor *in, const sk_tensor *out, const float *weight,
                     sk_act act, const sk_tensor *res, int y0, int y1)
{
    if (!tensor_ok(in) || !tensor_ok(out) || !weight) return SK_EINVAL;
    if (in->h != out->h || in->w != out->w || !act_ok(act)) return SK_EINVAL;
    if (!band_ok(out, y0, y1) || overlaps(in, out) || !addend_ok(res, out)) return SK_EINVAL;
    return SK_OK;
}

int sk__check_conv(const sk_tensor *in, const sk_tensor *out, const float *weight,
                   int k, int border, sk_act act, int y0, int y1)
{
    if (!tensor_ok(in) || !tensor_ok(out) || !weight) return SK_EINVAL;
    if (in->h != out->h || in->w != out->w || !k_ok(k) || !act_ok(act)) return SK_EINVAL;
    if (border != SK_BORDER_REPLICATE && border != SK_BORDER_ZERO) return SK_EINVAL;
    if (!band_ok(out, y0, y1) || overlaps(in, out)) return SK_EINVAL;
    return SK_OK;
}

int sk__check_s2d(const sk_tensor *in, const sk_tensor *out, int y0, int y1)
{
    if (!tensor_ok(in) || !tensor_ok(out)) return SK_EINVAL;
    if ((in->h & 1) || (in->w & 1)) return SK_EINVAL;
    if (out->c != in->c * 4 || out->h * 2 != in->h || out->w * 2 != in->w) return SK_EINVAL;
    if (!band_ok(out, y0, y1) || overlaps(in, out)) return SK_EINVAL;
    return SK_OK;
}

int sk__check_d2s(const sk_tensor *in, const sk_tensor *out, const sk_tensor *base,
                  int y0, int y1)
{
    if (!tensor_ok(in) || !tensor_ok(out)) return SK_EINVAL;
    if (in->c != out->c * 4 || out->h != in->h * 2 || out->w != in->w * 2) return SK_EINVAL;
    if (!band_ok(out, y0, y1) || overlaps(in, out) || !addend_ok(base, out)) return SK_EINVAL;
    return SK_OK;
}

int sk__check_tconv(const sk_tensor *in, const sk_tensor *out, const float *weight,
                    int k, int pad, int out_pad, const sk_tensor *res, int y0, int y1)
{
    if (!tensor_ok(in) || !tensor_ok(out) || !weight) return SK_EINVAL;
    if (k < 1 || k > SK_MAX_TK || pad < 0 || pad > 4 * SK_MAX_TK) return SK_EINVAL;
    if (out_pad < 0 || out_pad > 1) return SK_EINVAL;
    /* Computed in 64 bits: the shape check must not overflow. */
    long long ho = (long long)(in->h - 1) * 2 - 2LL * pad + k + out_pad;
    long long wo = (long long)(in->w - 1) * 2 - 2LL * pad + k + out_pad;
    if (ho != out->h || wo != out->w) return SK_EINVAL;
    if (!band_ok(out, y0, y1) || overlaps(in, out) || !addend_ok(res, out)) return SK_EINVAL;
    return SK_OK;
}

int sk__check_upscale(const sk_tensor *in, const sk_tensor *out, const float *scratch,
                      int y0, int y1)
{
    if (!tensor_ok(in) || !tensor_ok(out) || !scratch) return SK_EINVAL;
    if (out->c != in->c || out->h != in->h * 2 || out->w != in->w * 2) return SK_EINVAL;
    if (!band_ok(out, y0, y1) || overlaps(in, out)) return SK_EINVAL;
    return SK_OK;
}

int sk__check_area(const sk_tensor *in, const sk_tensor *out, int y0, int y1)
{
    if (!tensor_ok(in) || !tensor_ok(out)) return SK_EINVAL;
    if (out->c != in->c || out->h != in->h / 2 || out->w != in->w / 2) return SK_EINVAL;
    if (!band_ok(out, y0, y1) || overlaps(in, out)) return SK_EINVAL;
    return SK_OK;
}

int sk__check_conv_u8(const void *src, ptrdiff_t src_stride, const void *dst,
                      ptrdiff_t dst_stride, int w, int h, int y0, int y1)
{
    if (!src || !dst || w < 1 || h < 1) return SK_EINVAL;
    if (src_stride < w || dst_stride < w) return SK_EINVAL;
    if (y0 < 0 || y0 > y1 || y1 > h) return SK_EINVAL;
    return SK_OK;
}

/* Keys cubic convolution kernel, evaluated in double and rounded once, so
 * the weights are the same for every variant (and exact for a = -0.5/-0.75). */
static double keys(double d, double a)
{
    d = fabs(d);
    if (d <= 1.0) return ((a + 2.0) * d - (a + 3.0)) * d * d + 1.0;
    if (d < 2.0) return ((a * d - 5.0 * a) * d + 8.0 * a) * d - 4.0 * a;
    return 0.0;
}

void sk__bicubic_weights(float a, sk_phase_filter *f)
{
    /* phase 0: output 2j samples j - 0.25 -> taps j-2..j+1 (t = 0.75)
     * phase 1: output 2j+1 samples j + 0.25 -> taps j-1..j+2 (t = 0.25) */
    static const double d0[4] = { 1.75, 0.75, 0.25, 1.25 };
    static const double d1[4] = { 1.25, 0.25, 0.75, 1.75 };
    for (int i = 0; i < 4; i++) {
        f->c[0][i] = (float)keys(d0[i], a);
        f->c[1][i] = (float)keys(d1[i], a);
    }
}

/* Rows in upscale scratch are padded to 16 floats (64 bytes). */
size_t sk__upscale_slot_stride(int out_w)
{
    if (out_w < 1) out_w = 1;
    return ((size_t)out_w + 15u) & ~(size_t)15u;
}

size_t sk_upscale2x_scratch_floats(int out_w)
{
    return 4u * sk__upscale_slot_stride(out_w);
}
