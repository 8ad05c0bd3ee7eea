/*
 * x86_avx2.c - AVX2 + FMA variants (8 float lanes).
 *
 * Functions carry __attribute__((target("avx2,fma"))) so the file needs no
 * special compiler flags; they are only called after runtime detection
 * (dispatch.c) or by tests that check sk_level_supported() first.
 */
#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#endif

#include "sk_internal.h"

#if defined(__clang__) || !defined(__GNUC__)
#pragma STDC FP_CONTRACT OFF
#endif

#define SK_SFX(name) name##_avx2

#if defined(__x86_64__) || defined(_M_X64)

#define SK_TGT __attribute__((target("avx2,fma")))

typedef __m256 V;
#define VL 8
/* Register blocking (16 ymm registers): pointwise 4 channels x 3 vectors =
 * 12 accumulators + 3 inputs + 1 broadcast weight. */
#define PW_CB 4
#define PW_NV 3
#define CV_CB 4
#define CV_NV 2
/* Fused kernels (sk_fused_simd.h): packed-weight pointwise tiles of 4
 * channels, rows computed up to a multiple of VL into their margins. */
#define FZ_PW_CB 4
#define FZ_PW_NV 3
#define FZ_ROUND_UP 1
#define FZ_DW_PAIR 2 /* row-pair depthwise (k3): 2 vectors x 2 rows */

/* maskload/maskstore lane masks: n leading lanes enabled. */
static const int32_t sk_avx2_mask_tbl[16] = { -1, -1, -1, -1, -1, -1, -1, -1,
                                              0, 0, 0, 0, 0, 0, 0, 0 };

SK_TGT SK_INLINE __m256i vmask(int n) { return _mm256_loadu_si256((const __m256i *)(sk_avx2_mask_tbl + 8 - n)); }
SK_TGT SK_INLINE V vload(const float *p) { return _mm256_loadu_ps(p); }
SK_TGT SK_INLINE void vstore(float *p, V v) { _mm256_storeu_ps(p, v); }
/* Masked-off lanes are neither read (no fault) nor written. */
SK_TGT SK_INLINE V vloadn(const float *p, int n) { return _mm256_maskload_ps(p, vmask(n)); }
SK_TGT SK_INLINE void vstoren(float *p, V v, int n) { _mm256_maskstore_ps(p, vmask(n), v); }
SK_TGT SK_INLINE V vset1(float x) { return _mm256_set1_ps(x); }
SK_TGT SK_INLINE V vfma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
SK_TGT SK_INLINE V vmul(V a, V b) { return _mm256_mul_ps(a, b); }
SK_TGT SK_INLINE V vadd(V a, V b) { return _mm256_add_ps(a, b); }

/* Same results as sk_act_scalar for every input, NaN included:
 * maxps(v, 0) returns its 2nd operand (+0) when v is NaN or -0, exactly like
 * "v > 0 ? v : 0"; PReLU selects v where v > 0 (ordered), else slope*v. */
SK_TGT SK_INLINE V vact(V v, int kind, V slope)
{
    if (kind == SK_ACT_RELU) return _mm256_max_ps(v, _mm256_setzero_ps());
    if (kind == SK_ACT_PRELU) {
        V gt = _mm256_cmp_ps(v, _mm256_setzero_ps(), _CMP_GT_OQ);
        return _mm256_blendv_ps(_mm256_mul_ps(v, slope), v, gt);
    }
    return v;
}

/* (a0..a7, b0..b7) -> lo = a0 b0 a1 b1 a2 b2 a3 b3, hi = a4 b4 ... a7 b7 */
SK_TGT SK_INLINE void vinterleave(V a, V b, V *lo, V *hi)
{
    V l = _mm256_unpacklo_ps(a, b), h = _mm256_unpackhi_ps(a, b);
    *lo = _mm256_permute2f128_ps(l, h, 0x20);
    *hi = _mm256_permute2f128_ps(l, h, 0x31);
}

/* (x0..x7, x8..x15) -> even = x0 x2 .. x14, odd = x1 x3 .. x15 */
SK_TGT SK_INLINE void vdeinterleave(V p0, V p1, V *ev, V *od)
{
    V e = _mm256_shuffle_ps(p0, p1, 0x88), o = _mm256_shuffle_ps(p0, p1, 0xDD);
    *ev = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(e), 0xD8));
    *od = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(o), 0xD8));
}

SK_TGT SK_INLINE void cvt_u8_row(const uint8_t *s, float *d, int w, float scale)
{
    const V k = _mm256_set1_ps(scale);
    int x = 0;
    for (; x + 8 <= w; x += 8) {
        __m256i i = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(s + x)));
        _mm256_storeu_ps(d + x, _mm256_mul_ps(_mm256_cvtepi32_ps(i), k));
    }
    for (; x < w; x++) d[x] = (float)s[x] * scale;
}

SK_TGT SK_INLINE void cvt_f32_row(const float *s, uint8_t *d, int w, float scale)
{
    const V k = _mm256_set1_ps(scale), lim = _mm256_set1_ps(255.0f);
    int x = 0;
    for (; x + 8 <= w; x += 8) {
        /* maxps(v, 0) maps NaN to 0 (2nd operand), like the reference. */
        V v = _mm256_max_ps(_mm256_mul_ps(_mm256_loadu_ps(s + x), k), _mm256_setzero_ps());
        v = _mm256_min_ps(v, lim);
        __m256i i = _mm256_cvtps_epi32(v); /* MXCSR: round to nearest even */
        __m128i p = _mm_packus_epi32(_mm256_castsi256_si128(i), _mm256_extracti128_si256(i, 1));
        _mm_storel_epi64((__m128i *)(d + x), _mm_packus_epi16(p, p));
    }
    for (; x < w; x++) {
        float v = s[x] * scale;
        if (!(v > 0.0f)) v = 0.0f;
        if (v > 255.0f) v = 255.0f;
        d[x] = (uint8_t)lrintf(v);
    }
}

/* The fused pointwise's 4 channels x 3 vectors inner loop, written out: 12
 * accumulators + 3 inputs + 1 broadcast weight use all 16 ymm registers and
 * clang's allocator then shuffles and spills accumulators every iteration
 * (measured: slower than 4 x 2). vfmadd231ps a, b, acc is fmaf(b, a, acc)
 * per lane, exactly _mm256_fmadd_ps; ci in order, as pw_tile. cin >= 1. */
SK_TGT SK_INLINE void fz_avx2_pw_4x3(V acc[4][FZ_PW_NV], const float *src, ptrdiff_t ipl,
                                     const float *wp, int cin)
{
    V a00 = acc[0][0], a01 = acc[0][1], a02 = acc[0][2], a10 = acc[1][0], a11 = acc[1][1],
      a12 = acc[1][2], a20 = acc[2][0], a21 = acc[2][1], a22 = acc[2][2], a30 = acc[3][0],
      a31 = acc[3][1], a32 = acc[3][2];
    /* Weights addressed from their end by a negative byte count, so the loop
     * needs one counter (gcc allows 30 operands, "+" ones counting twice). */
    const float *wend = wp + (ptrdiff_t)4 * cin;
    ptrdiff_t n = -(ptrdiff_t)16 * cin, step = ipl * (ptrdiff_t)sizeof(float);
#define FZ_ROW4(off, a0, a1, a2)                                                   \
    "vbroadcastss " #off "(%[w], %[n]), %%ymm15\n\t"                              \
    "vfmadd231ps %%ymm12, %%ymm15, %[" #a0 "]\n\t"                                 \
    "vfmadd231ps %%ymm13, %%ymm15, %[" #a1 "]\n\t"                                 \
    "vfmadd231ps %%ymm14, %%ymm15, %[" #a2 "]\n\t"
    __asm__("1:\n\t"
            "vmovups (%[s]), %%ymm12\n\t"
            "vmovups 32(%[s]), %%ymm13\n\t"
            "vmovups 64(%[s]), %%ymm14\n\t"
            FZ_ROW4(0, a00, a01, a02) FZ_ROW4(4, a10, a11, a12)
            FZ_ROW4(8, a20, a21, a22) FZ_ROW4(12, a30, a31, a32)
            "add %[step], %[s]\n\t"
            "add $16, %[n]\n\t"
            "jnz 1b\n\t"
            : [a00] "+x"(a00), [a01] "+x"(a01), [a02] "+x"(a02), [a10] "+x"(a10),
              [a11] "+x"(a11), [a12] "+x"(a12), [a20] "+x"(a20), [a21] "+x"(a21),
              [a22] "+x"(a22), [a30] "+x"(a30), [a31] "+x"(a31), [a32] "+x"(a32),
              [s] "+r"(src), [n] "+r"(n)
            : [step] "r"(step), [w] "r"(wend)
            : "xmm12", "xmm13", "xmm14", "xmm15", "cc", "memory");
#undef FZ_ROW4
    acc[0][0] = a00; acc[0][1] = a01; acc[0][2] = a02; acc[1][0] = a10; acc[1][1] = a11;
    acc[1][2] = a12; acc[2][0] = a20; acc[2][1] = a21; acc[2][2] = a22; acc[3][0] = a30;
    acc[3][1] = a31; acc[3][2] = a32;
}
#define FZ_PW_KERNEL_3 fz_avx2_pw_4x3

#include "sk_simd_template.h"
#include "sk_fused_simd.h"
#include "sk_q8_avx2.h"

#else /* not x86-64 */

#include "sk_fallback.h"
int sk_subpixel_q8_avxvnni(const sk_subpixel_q8_net *net, const uint8_t *src, ptrdiff_t src_stride, int rw, int rh,
                           float in_scale, int cx0, int cx1, int cy0, int cy1, uint8_t *dst, ptrdiff_t dst_stride,
                           float out_scale, void *scratch)
{ return sk_subpixel_q8_ref(net, src, src_stride, rw, rh, in_scale, cx0, cx1, cy0, cy1, dst,
                            dst_stride, out_scale, scratch); }

#endif
