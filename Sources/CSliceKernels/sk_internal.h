/*
 * sk_internal.h - private helpers shared by the reference and SIMD variants.
 * Not part of the public API.
 */
#ifndef SK_INTERNAL_H
#define SK_INTERNAL_H

#include "slice_kernels.h"
#include "slice_kernels_fused.h"
#include "slice_kernels_fused_encoder.h"
#include "slice_kernels_q8.h"

#include <math.h>
#include <stddef.h>
#include <stdint.h>

/* Never let the compiler fuse a*b+c on its own: the bit-exactness between
 * variants relies on every fused multiply-add being written explicitly.
 * clang honours the STDC pragma; GCC ignores it (and would default to
 * -ffp-contract=fast in GNU modes), so it gets its own spelling. */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#else
#pragma STDC FP_CONTRACT OFF
#endif

#if defined(__GNUC__) || defined(__clang__)
#define SK_INLINE static inline __attribute__((always_inline))
#define SK_NOINLINE __attribute__((noinline))
#else
#define SK_INLINE static inline
#define SK_NOINLINE
#endif

/* Kernel size / tap limits (they size small on-stack edge buffers). */
#define SK_MAX_K 7        /* conv / dwconv: k in {1,3,5,7}                  */
#define SK_MAX_TK 16      /* transposed conv k                              */

SK_INLINE int sk_clampi(int v, int lo, int hi) { return v < lo ? lo : (v > hi ? hi : v); }
SK_INLINE int sk_mini(int a, int b) { return a < b ? a : b; }
SK_INLINE int sk_maxi(int a, int b) { return a > b ? a : b; }

/* Scalar activation: the definition every SIMD variant must reproduce. */
SK_INLINE float sk_act_scalar(float v, int kind, float slope)
{
    if (kind == SK_ACT_RELU) return v > 0.0f ? v : 0.0f;
    if (kind == SK_ACT_PRELU) return v > 0.0f ? v : slope * v;
    return v;
}

SK_INLINE float sk_slope(sk_act act, int c)
{
    return (act.kind == SK_ACT_PRELU) ? act.slope[c] : 0.0f;
}

/* Pointer to row y of channel c. */
SK_INLINE float *sk_row(const sk_tensor *t, int c, int y)
{
    return t->data + (ptrdiff_t)c * t->plane + (ptrdiff_t)y * t->stride;
}

/* Fills dst[0..n) with row[x_start + i] where out-of-range columns are either
 * clamped into [0, w) (replicate) or +0.0f (zero). row == NULL means "the
 * whole row is outside the input" and yields zeros. Used by SIMD variants to
 * build the few edge vectors whose taps leave the plane, so that all interior
 * and edge pixels go through the same vector arithmetic. */
SK_INLINE void sk_fetch_line(float *dst, const float *row, int w, int x_start,
                             int n, int zero_border)
{
    for (int i = 0; i < n; i++) {
        int x = x_start + i;
        if (row == NULL) {
            dst[i] = 0.0f;
        } else if (x < 0 || x >= w) {
            dst[i] = zero_border ? 0.0f : row[x < 0 ? 0 : w - 1];
        } else {
            dst[i] = row[x];
        }
    }
}

/* Resampling phase filters (see sk_bicubic2x). */
typedef struct sk_phase_filter {
    float c[2][4];
} sk_phase_filter;

void sk__bicubic_weights(float a, sk_phase_filter *f);

size_t sk__upscale_slot_stride(int out_w);

/* Argument validation shared by all variants (common.c). */
int sk__check_dwconv(const sk_tensor *in, const sk_tensor *out, const float *weight,
                     int k, int border, sk_act act, int y0, int y1);
int sk__check_pwconv(const sk_tensor *in, const sk_tensor *out, const float *weight,
                     sk_act act, const sk_tensor *res, int y0, int y1);
int sk__check_conv(const sk_tensor *in, const sk_tensor *out, const float *weight,
                   int k, int border, sk_act act, int y0, int y1);
int sk__check_s2d(const sk_tensor *in, const sk_tensor *out, int y0, int y1);
int sk__check_d2s(const sk_tensor *in, const sk_tensor *out, const sk_tensor *base,
                  int y0, int y1);
int sk__check_tconv(const sk_tensor *in, const sk_tensor *out, const float *weight,
                    int k, int pad, int out_pad, const sk_tensor *res, int y0, int y1);
int sk__check_upscale(const sk_tensor *in, const sk_tensor *out, const float *scratch,
                      int y0, int y1);
int sk__check_area(const sk_tensor *in, const sk_tensor *out, int y0, int y1);
int sk__check_conv_u8(const void *src, ptrdiff_t src_stride, const void *dst,
                      ptrdiff_t dst_stride, int w, int h, int y0, int y1);

int sk__check_subpixel_fused(const sk_subpixel_net *n, const uint8_t *src, ptrdiff_t src_stride,
                             int rw, int rh, int cx0, int cx1, int cy0, int cy1,
                             const uint8_t *dst, ptrdiff_t dst_stride, const float *scratch);
int sk__check_slice_encoder_fused(const sk_slice_encoder_net *n, const uint8_t *src,
                                  ptrdiff_t src_stride, int rw, int rh, int cx0, int cx1, int cy0,
                                  int cy1, const uint8_t *dst, ptrdiff_t dst_stride,
                                  const float *scratch);

int sk__check_subpixel_q8(const sk_subpixel_q8_net *n, const uint8_t *src, ptrdiff_t src_stride,
                          int rw, int rh, int cx0, int cx1, int cy0, int cy1, const uint8_t *dst,
                          ptrdiff_t dst_stride, const void *scratch);

#endif /* SK_INTERNAL_H */
