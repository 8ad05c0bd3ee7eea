/*
 * ref.c - portable reference implementations: THE specification.
 *
 * Written for clarity, one output value at a time, in exactly the reduction
 * order documented in slice_kernels.h. The SIMD variants must reproduce these
 * results bit for bit (scripts/checkasm verifies it). fmaf() is the C99
 * correctly-rounded fused multiply-add; without hardware FMA it is a libm
 * call, which is slow but exact.
 */
#include "sk_internal.h"

#if defined(__clang__) || !defined(__GNUC__)
#pragma STDC FP_CONTRACT OFF
#endif

/* Input sample with the convolution border rule applied. */
static float conv_tap(const sk_tensor *t, int c, int y, int x, int border)
{
    if (y < 0 || y >= t->h || x < 0 || x >= t->w) {
        if (border == SK_BORDER_ZERO) return 0.0f;
        y = sk_clampi(y, 0, t->h - 1);
        x = sk_clampi(x, 0, t->w - 1);
    }
    return sk_row(t, c, y)[x];
}

/* ---------------------------------------------------------------- dwconv */

int sk_dwconv_ref(const sk_tensor *in, const sk_tensor *out, const float *weight,
                  const float *bias, int k, int border, sk_act act, int y0, int y1)
{
    int e = sk__check_dwconv(in, out, weight, k, border, act, y0, y1);
    if (e) return e;
    const int r = k / 2;
    for (int c = 0; c < out->c; c++) {
        const float *wc = weight + (ptrdiff_t)c * k * k;
        const float b = bias ? bias[c] : 0.0f, s = sk_slope(act, c);
        for (int y = y0; y < y1; y++) {
            float *o = sk_row(out, c, y);
            for (int x = 0; x < out->w; x++) {
                float acc = b;
                for (int ky = 0; ky < k; ky++)
                    for (int kx = 0; kx < k; kx++)
                        acc = fmaf(wc[ky * k + kx],
                                   conv_tap(in, c, y + ky - r, x + kx - r, border), acc);
                o[x] = sk_act_scalar(acc, act.kind, s);
            }
        }
    }
    return SK_OK;
}

/* ---------------------------------------------------------------- pwconv */

int sk_pwconv_ref(const sk_tensor *in, const sk_tensor *out, const float *weight,
                  const float *bias, sk_act act, const sk_tensor *res, int y0, int y1)
{
    int e = sk__check_pwconv(in, out, weight, act, res, y0, y1);
    if (e) return e;
    const int cin = in->c;
    for (int co = 0; co < out->c; co++) {
        const float *wr = weight + (ptrdiff_t)co * cin;
        const float b = bias ? bias[co] : 0.0f, s = sk_slope(act, co);
        for (int y = y0; y < y1; y++) {
            float *o = sk_row(out, co, y);
            const float *rr = res ? sk_row(res, co, y) : NULL;
            for (int x = 0; x < out->w; x++) {
                float acc = b;
                for (int ci = 0; ci < cin; ci++)
                    acc = fmaf(wr[ci], sk_row(in, ci, y)[x], acc);
                acc = sk_act_scalar(acc, act.kind, s);
                if (rr) acc = acc + rr[x];
                o[x] = acc;
            }
        }
    }
    return SK_OK;
}

/* ------------------------------------------------------------------ conv */

int sk_conv_ref(const sk_tensor *in, const sk_tensor *out, const float *weight,
                const float *bias, int k, int border, sk_act act, int y0, int y1)
{
    int e = sk__check_conv(in, out, weight, k, border, act, y0, y1);
    if (e) return e;
    const int r = k / 2, cin = in->c;
    for (int co = 0; co < out->c; co++) {
        const float b = bias ? bias[co] : 0.0f, s = sk_slope(act, co);
        for (int y = y0; y < y1; y++) {
            float *o = sk_row(out, co, y);
            for (int x = 0; x < out->w; x++) {
                float acc = b;
                for (int ci = 0; ci < cin; ci++) {
                    const float *wk = weight + ((ptrdiff_t)co * cin + ci) * k * k;
                    for (int ky = 0; ky < k; ky++)
                        for (int kx = 0; kx < k; kx++)
                            acc = fmaf(wk[ky * k + kx],
                                       conv_tap(in, ci, y + ky - r, x + kx - r, border), acc);
                }
                o[x] = sk_act_scalar(acc, act.kind, s);
            }
        }
    }
    return SK_OK;
}

/* ------------------------------------------------------- space/depth 2x */

int sk_space_to_depth2x_ref(const sk_tensor *in, const sk_tensor *out, int y0, int y1)
{
    int e = sk__check_s2d(in, out, y0, y1);
    if (e) return e;
    for (int c = 0; c < in->c; c++)
        for (int dy = 0; dy < 2; dy++)
            for (int dx = 0; dx < 2; dx++)
                for (int y = y0; y < y1; y++) {
                    const float *src = sk_row(in, c, 2 * y + dy);
                    float *dst = sk_row(out, c * 4 + dy * 2 + dx, y);
                    for (int x = 0; x < out->w; x++) dst[x] = src[2 * x + dx];
                }
    return SK_OK;
}

int sk_depth_to_space2x_ref(const sk_tensor *in, const sk_tensor *out,
                            const sk_tensor *base, int y0, int y1)
{
    int e = sk__check_d2s(in, out, base, y0, y1);
    if (e) return e;
    for (int c = 0; c < out->c; c++)
        for (int oy = y0; oy < y1; oy++) {
            const int y = oy >> 1, dy = oy & 1;
            float *dst = sk_row(out, c, oy);
            const float *bs = base ? sk_row(base, c, oy) : NULL;
            for (int ox = 0; ox < out->w; ox++) {
                float v = sk_row(in, c * 4 + dy * 2 + (ox & 1), y)[ox >> 1];
                dst[ox] = bs ? bs[ox] + v : v;
            }
        }
    return SK_OK;
}

/* -------------------------------------------------------- tconv stride 2 */

int sk_tconv2x_ref(const sk_tensor *in, const sk_tensor *out, const float *weight,
                   const float *bias, int k, int pad, int out_pad,
                   const sk_tensor *res, int y0, int y1)
{
    int e = sk__check_tconv(in, out, weight, k, pad, out_pad, res, y0, y1);
    if (e) return e;
    const int cin = in->c, cout = out->c;
    for (int co = 0; co < cout; co++) {
        const float b = bias ? bias[co] : 0.0f;
        for (int oy = y0; oy < y1; oy++) {
            float *dst = sk_row(out, co, oy);
            const float *rr = res ? sk_row(res, co, oy) : NULL;
            for (int ox = 0; ox < out->w; ox++) {
                float acc = b;
                for (int ci = 0; ci < cin; ci++) {
                    const float *wk = weight + ((ptrdiff_t)ci * cout + co) * k * k;
                    for (int ky = (oy + pad) & 1; ky < k; ky += 2) {
                        const int iy = (oy + pad - ky) / 2; /* exact: numerator even */
                        for (int kx = (ox + pad) & 1; kx < k; kx += 2) {
                            const int ix = (ox + pad - kx) / 2;
                            float v = 0.0f;
                            if (iy >= 0 && iy < in->h && ix >= 0 && ix < in->w)
                                v = sk_row(in, ci, iy)[ix];
                            acc = fmaf(wk[ky * k + kx], v, acc);
                        }
                    }
                }
                if (rr) acc = acc + rr[ox];
                dst[ox] = acc;
            }
        }
    }
    return SK_OK;
}

/* ------------------------------------------------------------ resampling */

/* One horizontally filtered value of the 2x upscale at output column ox of
 * input row `row` (taps clamped). ntap = 4 (bicubic) or 2 (bilinear); first
 * tap offset relative to j = ox/2 is off[phase]. */
static float hpass(const float *row, int w, int ox, int ntap, const int off[2],
                   const float c[2][4])
{
    const int j = ox >> 1, ph = ox & 1;
    float acc = c[ph][0] * row[sk_clampi(j + off[ph], 0, w - 1)];
    for (int t = 1; t < ntap; t++)
        acc = fmaf(c[ph][t], row[sk_clampi(j + off[ph] + t, 0, w - 1)], acc);
    return acc;
}

static void upscale_ref(const sk_tensor *in, const sk_tensor *out, int ntap,
                        const int off[2], const float c[2][4], int y0, int y1)
{
    for (int ch = 0; ch < out->c; ch++)
        for (int oy = y0; oy < y1; oy++) {
            const int j = oy >> 1, ph = oy & 1;
            const float *rows[4];
            for (int t = 0; t < ntap; t++)
                rows[t] = sk_row(in, ch, sk_clampi(j + off[ph] + t, 0, in->h - 1));
            float *dst = sk_row(out, ch, oy);
            for (int ox = 0; ox < out->w; ox++) {
                float acc = c[ph][0] * hpass(rows[0], in->w, ox, ntap, off, c);
                for (int t = 1; t < ntap; t++)
                    acc = fmaf(c[ph][t], hpass(rows[t], in->w, ox, ntap, off, c), acc);
                dst[ox] = acc;
            }
        }
}

int sk_bicubic2x_ref(const sk_tensor *in, const sk_tensor *out, float a,
                     float *scratch, int y0, int y1)
{
    int e = sk__check_upscale(in, out, scratch, y0, y1);
    if (e) return e;
    sk_phase_filter f;
    sk__bicubic_weights(a, &f);
    static const int off[2] = { -2, -1 };
    upscale_ref(in, out, 4, off, f.c, y0, y1);
    return SK_OK;
}

int sk_bilinear2x_ref(const sk_tensor *in, const sk_tensor *out, float *scratch,
                      int y0, int y1)
{
    int e = sk__check_upscale(in, out, scratch, y0, y1);
    if (e) return e;
    static const float c[2][4] = { { 0.25f, 0.75f, 0, 0 }, { 0.75f, 0.25f, 0, 0 } };
    static const int off[2] = { -1, 0 };
    upscale_ref(in, out, 2, off, c, y0, y1);
    return SK_OK;
}

int sk_area_down2x_ref(const sk_tensor *in, const sk_tensor *out, int y0, int y1)
{
    int e = sk__check_area(in, out, y0, y1);
    if (e) return e;
    for (int c = 0; c < out->c; c++)
        for (int y = y0; y < y1; y++) {
            const float *r0 = sk_row(in, c, 2 * y), *r1 = sk_row(in, c, 2 * y + 1);
            float *dst = sk_row(out, c, y);
            for (int x = 0; x < out->w; x++)
                dst[x] = ((r0[2 * x] + r0[2 * x + 1]) + (r1[2 * x] + r1[2 * x + 1])) * 0.25f;
        }
    return SK_OK;
}

/* ----------------------------------------------------------- conversions */

int sk_u8_to_f32_ref(const uint8_t *src, ptrdiff_t src_stride, float *dst,
                     ptrdiff_t dst_stride, int w, int h, float scale, int y0, int y1)
{
    int e = sk__check_conv_u8(src, src_stride, dst, dst_stride, w, h, y0, y1);
    if (e) return e;
    for (int y = y0; y < y1; y++)
        for (int x = 0; x < w; x++)
            dst[y * dst_stride + x] = (float)src[y * src_stride + x] * scale;
    return SK_OK;
}

int sk_f32_to_u8_ref(const float *src, ptrdiff_t src_stride, uint8_t *dst,
                     ptrdiff_t dst_stride, int w, int h, float scale, int y0, int y1)
{
    int e = sk__check_conv_u8(src, src_stride, dst, dst_stride, w, h, y0, y1);
    if (e) return e;
    for (int y = y0; y < y1; y++)
        for (int x = 0; x < w; x++) {
            float v = src[y * src_stride + x] * scale;
            if (!(v > 0.0f)) v = 0.0f;          /* also maps NaN to 0 */
            if (v > 255.0f) v = 255.0f;
            dst[y * dst_stride + x] = (uint8_t)lrintf(v); /* nearest-even */
        }
    return SK_OK;
}
