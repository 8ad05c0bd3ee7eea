/*
 * sk_peak.h - measures the machine's practical FMA throughput, so benchmarks can report kernel speed as a
 * share of what this core really reaches.
 */
#ifndef SK_PEAK_H
#define SK_PEAK_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Runs `iterations` rounds of independent fused multiply-add chains at the active SIMD level (see
 *  sk_init) and returns the floating-point operations performed (2 per FMA lane). Time it from the
 *  caller. The result is kept live so the compiler cannot drop the work. */
double sk_fma_peak_probe(int64_t iterations);

#ifdef __cplusplus
}
#endif

#endif
