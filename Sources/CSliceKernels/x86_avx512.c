/*
 * x86_avx512.c - AVX-512 F/BW/VL + FMA variants (16 float lanes).
 *
 * Functions carry __attribute__((target("avx512f,avx512bw,avx512vl,fma")))
 * so the file needs no special compiler flags; they are only called after
 * runtime detection (dispatch.c) or by tests that check
 * sk_level_supported() first. Row tails use AVX-512 lane masks.
 */
#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#endif

#include "sk_internal.h"

#if defined(__clang__) || !defined(__GNUC__)
#pragma STDC FP_CONTRACT OFF
#endif

#define SK_SFX(name) name##_avx512

#if defined(__x86_64__) || defined(_M_X64)

#define SK_TGT __attribute__((target("avx512f,avx512bw,avx512vl,fma")))

typedef __m512 V;
#define VL 16
/* Register blocking (32 zmm registers): pointwise 8 channels x 3 vectors =
 * 24 accumulators + 3 inputs + broadcast weight. */
#define PW_CB 8
#define PW_NV 3
#define CV_CB 8
#define CV_NV 2
/* Fused kernels (sk_fused_simd.h), as on AVX2: packed-weight pointwise tiles
 * (8 channels x 3 vectors = 24 accumulators, which the allocator keeps in
 * registers without help), rows up to a multiple of VL into their margins, and
 * the row-pair depthwise k3 (its side vectors shifted from aligned loads:
 * FZ_DW_SHIFT). Measured single thread (checkasm --bench-fused, 64x512 tiles,
 * Xeon with AVX-512, medians): sr2x 20.3 -> 15.0 ms, encoder 14.4 -> 11.5 ms
 * (MODELS.md, AVX-512). */
#define FZ_PW_CB 8
#define FZ_PW_NV 3
#define FZ_ROUND_UP 1
#define FZ_DW_PAIR 2

SK_TGT SK_INLINE __mmask16 vmask(int n) { return (__mmask16)((1u << n) - 1u); }
SK_TGT SK_INLINE V vload(const float *p) { return _mm512_loadu_ps(p); }
SK_TGT SK_INLINE void vstore(float *p, V v) { _mm512_storeu_ps(p, v); }
/* Masked-off lanes are neither read (no fault) nor written. */
SK_TGT SK_INLINE V vloadn(const float *p, int n) { return _mm512_maskz_loadu_ps(vmask(n), p); }
SK_TGT SK_INLINE void vstoren(float *p, V v, int n) { _mm512_mask_storeu_ps(p, vmask(n), v); }
/* Lane shifts for the row-pair depthwise (FZ_DW_SHIFT): vshl1(cur, prev) =
 * prev[15], cur[0..14]; vshr1(next, cur) = cur[1..15], next[0]. */
#define FZ_DW_SHIFT 1
SK_TGT SK_INLINE V vshl1(V cur, V prev)
{
    return _mm512_castsi512_ps(_mm512_alignr_epi32(_mm512_castps_si512(cur), _mm512_castps_si512(prev), 15));
}
SK_TGT SK_INLINE V vshr1(V next, V cur)
{
    return _mm512_castsi512_ps(_mm512_alignr_epi32(_mm512_castps_si512(next), _mm512_castps_si512(cur), 1));
}
SK_TGT SK_INLINE V vset1(float x) { return _mm512_set1_ps(x); }
SK_TGT SK_INLINE V vfma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
SK_TGT SK_INLINE V vmul(V a, V b) { return _mm512_mul_ps(a, b); }
SK_TGT SK_INLINE V vadd(V a, V b) { return _mm512_add_ps(a, b); }

/* Same results as sk_act_scalar for every input (see x86_avx2.c). */
SK_TGT SK_INLINE V vact(V v, int kind, V slope)
{
    if (kind == SK_ACT_RELU) return _mm512_max_ps(v, _mm512_setzero_ps());
    if (kind == SK_ACT_PRELU) {
        /* slope * v in the lanes where !(v > 0) (NaN included), v elsewhere: the blend's
         * values in two instructions instead of three. */
        const __mmask16 le = _mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_NGT_UQ);
        return _mm512_mask_mul_ps(v, le, v, slope);
    }
    return v;
}

SK_TGT SK_INLINE void vinterleave(V a, V b, V *lo, V *hi)
{
    const __m512i il = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    const __m512i ih = _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    *lo = _mm512_permutex2var_ps(a, il, b);
    *hi = _mm512_permutex2var_ps(a, ih, b);
}

SK_TGT SK_INLINE void vdeinterleave(V p0, V p1, V *ev, V *od)
{
    const __m512i ie = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i io = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    *ev = _mm512_permutex2var_ps(p0, ie, p1);
    *od = _mm512_permutex2var_ps(p0, io, p1);
}

SK_TGT SK_INLINE void cvt_u8_row(const uint8_t *s, float *d, int w, float scale)
{
    const V k = _mm512_set1_ps(scale);
    int x = 0;
    for (; x + 16 <= w; x += 16) {
        __m512i i = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(s + x)));
        _mm512_storeu_ps(d + x, _mm512_mul_ps(_mm512_cvtepi32_ps(i), k));
    }
    if (x < w) {
        const __mmask16 m = vmask(w - x);
        __m512i i = _mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(m, s + x));
        _mm512_mask_storeu_ps(d + x, m, _mm512_mul_ps(_mm512_cvtepi32_ps(i), k));
    }
}

SK_TGT SK_INLINE void cvt_f32_row(const float *s, uint8_t *d, int w, float scale)
{
    const V k = _mm512_set1_ps(scale), lim = _mm512_set1_ps(255.0f);
    for (int x = 0; x < w; x += 16) {
        const int n = sk_mini(16, w - x);
        const __mmask16 m = vmask(n);
        V v = _mm512_maskz_loadu_ps(m, s + x);
        /* maxps(v, 0) maps NaN to 0 (2nd operand), like the reference. */
        v = _mm512_min_ps(_mm512_max_ps(_mm512_mul_ps(v, k), _mm512_setzero_ps()), lim);
        __m512i i = _mm512_cvtps_epi32(v); /* MXCSR: round to nearest even */
        _mm512_mask_cvtusepi32_storeu_epi8(d + x, m, i);
    }
}

#include "sk_simd_template.h"
#include "sk_fused_simd.h"
#include "sk_q8_avx512.h"

#else /* not x86-64 */

#include "sk_fallback.h"

#endif
