/*
 * slice_kernels_q8.h - the int8 sub-pixel upsampler (sr2x class), fused like
 * sk_subpixel_fused: the trunk (head conv, depthwise-separable residual
 * blocks, tail pointwise) runs on int8 activations and int8 weights with
 * int32 accumulation; the bicubic base and the float -> u8 output are the
 * float fused kernel's own row functions.
 *
 * ARITHMETIC (the spec; the reference follows it literally)
 *   rq(acc, m)  = (float)acc * m                 one IEEE single multiply
 *   act(v)      = NONE v | RELU v > 0 ? v : 0 | PRELU v > 0 ? v : slope[c] * v
 *   sat(v)      = clamp(lrintf(v), -127, 127)    round half to even; -128 never made
 *   int32 sums wrap modulo 2^32 (two's complement) if a net ever overflows them.
 *   1. head:  acc = head_bias[co] + sum_ky,kx head_weight[co][ky][kx] * p[clamp][clamp]
 *             (p the u8 pixel; replicate border at the region edge)
 *             x0[co] = sat(act(rq(acc, head_scale[co])))
 *   2. block: acc = dw_bias[c] + sum_taps dw_weight[c][ky][kx] * x[c][clamp][clamp]
 *             d[c] = sat(act(rq(acc, dw_scale[c])))
 *             acc = pw_bias[co] + sum_ci pw_weight[co][ci] * d[ci]
 *             v = act(rq(acc, pw_scale[co])); v = v + (float)x[co] * res_scale  (no FMA)
 *             x'[co] = sat(v)
 *   3. tail:  t[j] = act(rq(tail_bias[j] + sum_ci tail_weight[j][ci] * x_B[ci], tail_scale[j]))
 *             (float, the model's real units; not requantised)
 *   4. Y = depth_to_space2x(t) + bicubic2x(p * in_scale, a); out = f32_to_u8(Y, out_scale)
 *      exactly as sk_subpixel_fused computes it.
 * Every variant (_ref, _avx2, _avx512, _avxvnni, _neon, _neondot, dispatcher) is bit-identical to the
 * reference: the trunk is integer or single float multiplies/adds in the same
 * order (scripts/checkasm checks every level, and the reference against a
 * plain layer-by-layer implementation of this spec).
 *
 * SIMD: activations live in scratch as u8 = q + 128 (so vpdpbusd's u8 x s8
 * form applies; the biases are corrected by -128 * sum(weights), giving the
 * same int32). AVX-512 uses vpdpbusd and vpermb (AVX512_VNNI + AVX512_VBMI);
 * AVX2, and AVX-512 CPUs without them, use vpmaddubsw(|w|, vpsignb(q, w)) on
 * q = u8 ^ 0x80 for the pointwise and tail layers (pair sums at most
 * 2 * 127 * 127: never saturated; the net's own biases) and vpmaddwd on
 * 16-bit tap pairs for the head and depthwise layers, or where the CPU has
 * AVX-VNNI the VEX vpdpbusd in their pointwise rows (sk_subpixel_q8_avxvnni).
 * AArch64 reads the bytes back as s8 q (EOR 0x80) and uses the uncorrected
 * biases: SMULL/SMLAL (sk_subpixel_q8_neon), or SDOT in the pointwise and tail
 * rows where the CPU has the dot product (sk_subpixel_q8_neondot).
 */
#ifndef SLICE_KERNELS_Q8_H
#define SLICE_KERNELS_Q8_H

#include "slice_kernels.h"
#include "slice_kernels_fused.h"

#ifdef __cplusplus
extern "C" {
#endif

/** One depthwise-separable residual block, int8. */
typedef struct sk_q8_block {
    const int8_t *dw_weight; /* [C][k][k], in [-127, 127]                 */
    const int32_t *dw_bias;  /* [C] (never NULL)                          */
    const float *dw_scale;   /* [C]                                       */
    sk_act dw_act;           /* slope (PReLU): float, per channel         */
    const int8_t *pw_weight; /* [C][C], co-major (co x ci)                */
    const int32_t *pw_bias;  /* [C]                                       */
    const float *pw_scale;   /* [C]                                       */
    sk_act pw_act;
    float res_scale;         /* s_{x_i} / s_{x_{i+1}}                     */
} sk_q8_block;

/** The int8 sub-pixel upsampler (limits as sk_subpixel_net: C 1..256, blocks 0..16, k 1/3/5/7). */
typedef struct sk_subpixel_q8_net {
    int channels, blocks, k;
    float bicubic_a;
    const int8_t *head_weight; /* [C][k][k] */
    const int32_t *head_bias;  /* [C]       */
    const float *head_scale;   /* [C]       */
    sk_act head_act;
    const sk_q8_block *block;  /* [blocks]  */
    const int8_t *tail_weight; /* [4][C]    */
    const int32_t *tail_bias;  /* [4]       */
    const float *tail_scale;   /* [4]       */
    sk_act tail_act;
} sk_subpixel_q8_net;

/** Scratch bytes sk_subpixel_q8 needs for a region `region_w` columns wide
 *  (independent of its height); 0 for a bad net. One buffer per concurrent call. */
size_t sk_subpixel_q8_scratch_bytes(const sk_subpixel_q8_net *net, int region_w);

/** Region, centre and output exactly as sk_subpixel_fused (see
 *  slice_kernels_fused.h): runs the int8 net on the rw x rh region at src and
 *  writes output rows [2*cy0, 2*cy1) x columns [2*cx0, 2*cx1) to dst. Layer
 *  rows are made on demand in k-row rings in scratch; only src and dst touch
 *  memory. scratch: sk_subpixel_q8_scratch_bytes() bytes, 64-byte aligned
 *  preferred, contents ignored. Returns SK_OK or SK_EINVAL. */
int sk_subpixel_q8(const sk_subpixel_q8_net *net, const uint8_t *src, ptrdiff_t src_stride,
                   int rw, int rh, float in_scale, int cx0, int cx1, int cy0, int cy1,
                   uint8_t *dst, ptrdiff_t dst_stride, float out_scale, void *scratch);
int sk_subpixel_q8_ref(const sk_subpixel_q8_net *net, const uint8_t *src, ptrdiff_t src_stride,
                       int rw, int rh, float in_scale, int cx0, int cx1, int cy0, int cy1,
                       uint8_t *dst, ptrdiff_t dst_stride, float out_scale, void *scratch);
int sk_subpixel_q8_avx2(const sk_subpixel_q8_net *net, const uint8_t *src, ptrdiff_t src_stride,
                        int rw, int rh, float in_scale, int cx0, int cx1, int cy0, int cy1,
                        uint8_t *dst, ptrdiff_t dst_stride, float out_scale, void *scratch);
/** Needs AVX512_VNNI and AVX512_VBMI besides the AVX-512 level: call only if
 *  sk_q8_vnni_supported(). (The dispatcher's AVX-512 level runs the AVX2 body
 *  on AVX-512 CPUs without them.) */
int sk_subpixel_q8_avx512(const sk_subpixel_q8_net *net, const uint8_t *src, ptrdiff_t src_stride,
                          int rw, int rh, float in_scale, int cx0, int cx1, int cy0, int cy1,
                          uint8_t *dst, ptrdiff_t dst_stride, float out_scale, void *scratch);

/** The AVX2 body with its pointwise rows in VEX vpdpbusd (AVX-VNNI): for CPUs that have AVX-VNNI but
 *  not AVX512_VNNI (the dispatcher picks it there). Call only if sk_q8_avxvnni_supported(). */
int sk_subpixel_q8_avxvnni(const sk_subpixel_q8_net *net, const uint8_t *src, ptrdiff_t src_stride,
                           int rw, int rh, float in_scale, int cx0, int cx1, int cy0, int cy1,
                           uint8_t *dst, ptrdiff_t dst_stride, float out_scale, void *scratch);

/** AArch64 NEON body (baseline armv8-a: widening SMULL/SMLAL multiply-accumulates); what the
 *  dispatcher's neon level runs on CPUs without the dot-product extension. Elsewhere: the reference. */
int sk_subpixel_q8_neon(const sk_subpixel_q8_net *net, const uint8_t *src, ptrdiff_t src_stride,
                        int rw, int rh, float in_scale, int cx0, int cx1, int cy0, int cy1,
                        uint8_t *dst, ptrdiff_t dst_stride, float out_scale, void *scratch);
/** The NEON body with its pointwise and tail rows in SDOT (ARMv8.2 dot product): the neon level's
 *  choice where the CPU has it. Call only if sk_q8_dotprod_supported(). Elsewhere: the reference. */
int sk_subpixel_q8_neondot(const sk_subpixel_q8_net *net, const uint8_t *src, ptrdiff_t src_stride,
                           int rw, int rh, float in_scale, int cx0, int cx1, int cy0, int cy1,
                           uint8_t *dst, ptrdiff_t dst_stride, float out_scale, void *scratch);

/** 1 if this CPU (and OS) can run sk_subpixel_q8_avx512. */
int sk_q8_vnni_supported(void);
/** 1 if this CPU (and OS) can run sk_subpixel_q8_avxvnni (AVX2, FMA and AVX-VNNI). */
int sk_q8_avxvnni_supported(void);
/** 1 if this CPU (and OS) can run sk_subpixel_q8_neondot (AArch64 with the dot-product extension,
 *  Linux HWCAP_ASIMDDP / macOS FEAT_DotProd); 0 elsewhere. */
int sk_q8_dotprod_supported(void);

#ifdef __cplusplus
}
#endif

#endif /* SLICE_KERNELS_Q8_H */
