/*
 * arm_neon.c - AArch64 Advanced SIMD (NEON) variants (4 float lanes).
 *
 * NEON is mandatory in AArch64, so the file needs no target attributes or
 * special flags and the level is always available on arm64 (dispatch.c).
 * The kernels are the shared templates (sk_simd_template.h,
 * sk_fused_simd.h) over float32x4_t; only the primitives below are NEON.
 * vfmaq_f32 is a single-rounding fused multiply-add like fmaf, so every lane
 * performs exactly the reference's operations (slice_kernels.h).
 * On other architectures the _neon entry points forward to the reference.
 * The int8 sub-pixel kernel's trunk rows are sk_q8_neon.h: a baseline body
 * (sk_subpixel_q8_neon) and an SDOT one (sk_subpixel_q8_neondot, its
 * functions compiled for armv8.2-a+dotprod by attribute, called only where
 * dispatch.c found the dot product).
 * Not here: the backward kernels (on arm64 every level runs backward.c's
 * generic 16-byte-vector build).
 */
#if defined(__aarch64__)
#include <arm_neon.h>
#endif

#include "sk_internal.h"

#if defined(__clang__) || !defined(__GNUC__)
#pragma STDC FP_CONTRACT OFF
#endif

#define SK_SFX(name) name##_neon

#if defined(__aarch64__)

/* Baseline AArch64: nothing to enable per function. */
#define SK_TGT

typedef float32x4_t V;
#define VL 4
/* Register blocking (32 vector registers, as AVX-512): pointwise 8 channels
 * x 3 vectors = 24 accumulators + 3 inputs + 1 broadcast weight. */
#define PW_CB 8
#define PW_NV 3
#define CV_CB 8
#define CV_NV 2

SK_INLINE V vload(const float *p) { return vld1q_f32(p); }
SK_INLINE void vstore(float *p, V v) { vst1q_f32(p, v); }
/* NEON has no masked loads/stores: partial vectors go through a stack copy,
 * so lanes n.. are neither read (no fault) nor written, as on x86. */
SK_INLINE V vloadn(const float *p, int n)
{
    float t[VL] = { 0.0f, 0.0f, 0.0f, 0.0f };
    for (int i = 0; i < n; i++) t[i] = p[i];
    return vld1q_f32(t);
}
SK_INLINE void vstoren(float *p, V v, int n)
{
    float t[VL];
    vst1q_f32(t, v);
    for (int i = 0; i < n; i++) p[i] = t[i];
}
SK_INLINE V vset1(float x) { return vdupq_n_f32(x); }
/* a*b + c rounded once: vfmaq_f32(addend, x, y). */
SK_INLINE V vfma(V a, V b, V c) { return vfmaq_f32(c, a, b); }
SK_INLINE V vmul(V a, V b) { return vmulq_f32(a, b); }
SK_INLINE V vadd(V a, V b) { return vaddq_f32(a, b); }

/* Same results as sk_act_scalar for every input, NaN included. Not vmaxq:
 * FMAX propagates NaN, while "v > 0 ? v : 0" gives +0. An ordered compare
 * (false for NaN and -0) and a bit select reproduce the scalar rule. */
SK_INLINE V vact(V v, int kind, V slope)
{
    if (kind == SK_ACT_RELU) return vbslq_f32(vcgtq_f32(v, vdupq_n_f32(0.0f)), v, vdupq_n_f32(0.0f));
    if (kind == SK_ACT_PRELU) return vbslq_f32(vcgtq_f32(v, vdupq_n_f32(0.0f)), v, vmulq_f32(v, slope));
    return v;
}

/* (a0..a3, b0..b3) -> lo = a0 b0 a1 b1, hi = a2 b2 a3 b3 */
SK_INLINE void vinterleave(V a, V b, V *lo, V *hi)
{
    *lo = vzip1q_f32(a, b);
    *hi = vzip2q_f32(a, b);
}

/* (x0..x3, x4..x7) -> even = x0 x2 x4 x6, odd = x1 x3 x5 x7 */
SK_INLINE void vdeinterleave(V p0, V p1, V *ev, V *od)
{
    *ev = vuzp1q_f32(p0, p1);
    *od = vuzp2q_f32(p0, p1);
}

/* u8 -> u32 -> float is exact, then the one multiply of the reference. */
SK_INLINE void cvt_u8_row(const uint8_t *s, float *d, int w, float scale)
{
    const V k = vdupq_n_f32(scale);
    int x = 0;
    for (; x + 16 <= w; x += 16) {
        const uint8x16_t b = vld1q_u8(s + x);
        const uint16x8_t lo = vmovl_u8(vget_low_u8(b)), hi = vmovl_u8(vget_high_u8(b));
        vst1q_f32(d + x, vmulq_f32(vcvtq_f32_u32(vmovl_u16(vget_low_u16(lo))), k));
        vst1q_f32(d + x + 4, vmulq_f32(vcvtq_f32_u32(vmovl_u16(vget_high_u16(lo))), k));
        vst1q_f32(d + x + 8, vmulq_f32(vcvtq_f32_u32(vmovl_u16(vget_low_u16(hi))), k));
        vst1q_f32(d + x + 12, vmulq_f32(vcvtq_f32_u32(vmovl_u16(vget_high_u16(hi))), k));
    }
    for (; x < w; x++) d[x] = (float)s[x] * scale;
}

SK_INLINE uint16x4_t cvt_f32_u16x4(const float *s, V k)
{
    const V zero = vdupq_n_f32(0.0f);
    V v = vmulq_f32(vld1q_f32(s), k);
    /* NaN and v <= 0 -> +0 (ordered compare), then the clamp; FCVTNU rounds
     * to nearest even regardless of FPCR, like lrintf in the default mode. */
    v = vbslq_f32(vcgtq_f32(v, zero), v, zero);
    v = vminq_f32(v, vdupq_n_f32(255.0f));
    return vmovn_u32(vcvtnq_u32_f32(v));
}

SK_INLINE void cvt_f32_row(const float *s, uint8_t *d, int w, float scale)
{
    const V k = vdupq_n_f32(scale);
    int x = 0;
    for (; x + 8 <= w; x += 8)
        vst1_u8(d + x, vmovn_u16(vcombine_u16(cvt_f32_u16x4(s + x, k), cvt_f32_u16x4(s + x + 4, k))));
    for (; x < w; x++) {
        float v = s[x] * scale;
        if (!(v > 0.0f)) v = 0.0f;
        if (v > 255.0f) v = 255.0f;
        d[x] = (uint8_t)lrintf(v);
    }
}

#include "sk_simd_template.h"
#include "sk_fused_simd.h"
#include "sk_q8_neon.h"

#else /* not AArch64 */

#include "sk_fallback.h"
int sk_subpixel_q8_neondot(const sk_subpixel_q8_net *net, const uint8_t *src, ptrdiff_t src_stride, int rw, int rh,
                           float in_scale, int cx0, int cx1, int cy0, int cy1, uint8_t *dst, ptrdiff_t dst_stride,
                           float out_scale, void *scratch)
{ return sk_subpixel_q8_ref(net, src, src_stride, rw, rh, in_scale, cx0, cx1, cy0, cy1, dst,
                            dst_stride, out_scale, scratch); }

#endif
