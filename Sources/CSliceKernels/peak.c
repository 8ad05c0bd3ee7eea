/*
 * peak.c - FMA throughput probe for benchmarks (not a kernel: nothing here touches pixels).
 *
 * Twelve independent accumulators cover FMA latency (4 cycles) times two issue ports with room to
 * spare, so the loop is bound by FMA throughput alone.
 */
#include "sk_peak.h"
#include "slice_kernels.h"

#include <math.h>

#if defined(__x86_64__)
#include <immintrin.h>

__attribute__((target("avx512f,fma")))
static double probe_avx512(int64_t n)
{
    __m512 a[12];
    const __m512 m = _mm512_set1_ps(0.999999f), c = _mm512_set1_ps(1e-7f);
    for (int i = 0; i < 12; i++) a[i] = _mm512_set1_ps((float)i);
    for (int64_t k = 0; k < n; k++)
        for (int i = 0; i < 12; i++) a[i] = _mm512_fmadd_ps(a[i], m, c);
    __m512 s = a[0];
    for (int i = 1; i < 12; i++) s = _mm512_add_ps(s, a[i]);
    volatile float sink = _mm512_reduce_add_ps(s);
    (void)sink;
    return (double)n * 12 * 16 * 2;
}

__attribute__((target("avx2,fma")))
static double probe_avx2(int64_t n)
{
    __m256 a[12];
    const __m256 m = _mm256_set1_ps(0.999999f), c = _mm256_set1_ps(1e-7f);
    for (int i = 0; i < 12; i++) a[i] = _mm256_set1_ps((float)i);
    for (int64_t k = 0; k < n; k++)
        for (int i = 0; i < 12; i++) a[i] = _mm256_fmadd_ps(a[i], m, c);
    __m256 s = a[0];
    for (int i = 1; i < 12; i++) s = _mm256_add_ps(s, a[i]);
    float out[8];
    _mm256_storeu_ps(out, s);
    volatile float sink = out[0];
    (void)sink;
    return (double)n * 12 * 8 * 2;
}
#endif

#if defined(__aarch64__)
#include <arm_neon.h>

static double probe_neon(int64_t n)
{
    float32x4_t a[12];
    const float32x4_t m = vdupq_n_f32(0.999999f), c = vdupq_n_f32(1e-7f);
    for (int i = 0; i < 12; i++) a[i] = vdupq_n_f32((float)i);
    for (int64_t k = 0; k < n; k++)
        for (int i = 0; i < 12; i++) a[i] = vfmaq_f32(c, a[i], m);
    float32x4_t s = a[0];
    for (int i = 1; i < 12; i++) s = vaddq_f32(s, a[i]);
    volatile float sink = vaddvq_f32(s);
    (void)sink;
    return (double)n * 12 * 4 * 2;
}
#endif

static double probe_scalar(int64_t n)
{
    float a[12];
    for (int i = 0; i < 12; i++) a[i] = (float)i;
    for (int64_t k = 0; k < n; k++)
        for (int i = 0; i < 12; i++) a[i] = fmaf(a[i], 0.999999f, 1e-7f);
    volatile float sink = a[0] + a[11];
    (void)sink;
    return (double)n * 12 * 2;
}

double sk_fma_peak_probe(int64_t iterations)
{
    if (iterations < 1) iterations = 1;
    switch (sk_init()) {
#if defined(__x86_64__)
    case SK_LEVEL_AVX512: return probe_avx512(iterations);
    case SK_LEVEL_AVX2: return probe_avx2(iterations);
#endif
#if defined(__aarch64__)
    case SK_LEVEL_NEON: return probe_neon(iterations);
#endif
    default: return probe_scalar(iterations / 16 + 1);
    }
}
