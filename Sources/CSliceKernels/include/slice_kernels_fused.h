/*
 * slice_kernels_fused.h - fused, cache-resident execution of whole networks.
 *
 * The layer-by-layer path (slice_kernels.h) writes every layer's C-channel
 * float planes to memory and reads them back. A fused kernel runs a whole
 * network over one tile region row by row instead: each layer keeps only the
 * k rows its consumer needs, in a ring in the caller's scratch (tens to a
 * hundred KiB, so it stays in L1/L2), and only the 8-bit input and the 8-bit
 * output plane touch memory. The u8 -> float conversion is fused into the
 * first layer and float -> u8 into the last.
 *
 * BIT EXACTNESS
 *   A fused kernel performs, for every value, exactly the operation sequence
 *   of the layer kernels it replaces (same fmaf order per value, activation,
 *   then residual), so its output equals the layer path's bit for bit; the
 *   usual variants (_ref, _avx2, _avx512, _neon, dispatcher) are bit-identical to
 *   each other (scripts/checkasm checks both properties).
 */
#ifndef SLICE_KERNELS_FUSED_H
#define SLICE_KERNELS_FUSED_H

#include "slice_kernels.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Limits of the sub-pixel class the fused kernel runs. */
enum { SK_SP_MAX_BLOCKS = 16, SK_SP_MAX_CHANNELS = 256 };

/** One depthwise-separable residual block: x' = act_pw(pw(act_dw(dw(x)))) + x. */
typedef struct sk_sp_block {
    const float *dw_weight; /* [C][k][k]                 */
    const float *dw_bias;   /* [C] or NULL               */
    sk_act dw_act;
    const float *pw_weight; /* [C][C] (Cout x Cin)       */
    const float *pw_bias;   /* [C] or NULL               */
    sk_act pw_act;
} sk_sp_block;

/** The sub-pixel (ESPCN-family) upsampler on a bicubic base, the sr2x class:
 *      X    = u8 input * in_scale                       (1 plane, the region)
 *      x0   = head_act(conv_kxk(X))                     (1 -> C, replicate border)
 *      x_i+1 = pw_act(pw(dw_act(dwconv_kxk(x_i)))) + x_i   (i < blocks)
 *      t    = tail_act(pw(x_blocks))                    (C -> 4)
 *      Y    = depth_to_space2x(t) + bicubic2x(X, a)
 *      out  = f32_to_u8(Y, out_scale)
 *  i.e. exactly sk_conv, sk_dwconv, sk_pwconv (residual), sk_pwconv,
 *  sk_bicubic2x, sk_depth_to_space2x (base) and sk_f32_to_u8 run one after
 *  the other on the whole region. */
typedef struct sk_subpixel_net {
    int channels;            /* C, 1..SK_SP_MAX_CHANNELS               */
    int blocks;              /* 0..SK_SP_MAX_BLOCKS                    */
    int k;                   /* head and depthwise kernel: 1, 3, 5, 7  */
    float bicubic_a;         /* Keys a of the base (-0.75)             */
    const float *head_weight; /* [C][1][k][k]                          */
    const float *head_bias;   /* [C] or NULL                           */
    sk_act head_act;
    const sk_sp_block *block; /* [blocks]                              */
    const float *tail_weight; /* [4][C]                                */
    const float *tail_bias;   /* [4] or NULL                           */
    sk_act tail_act;
} sk_subpixel_net;

/** Scratch floats sk_subpixel_fused needs for a region `region_w` columns
 *  wide (independent of its height). One buffer per concurrent call. */
size_t sk_subpixel_fused_scratch_floats(const sk_subpixel_net *net, int region_w);

/** Runs the network on the rw x rh region at src (8-bit, src_stride bytes
 *  between rows; every layer's border is the region's edge, replicated) and
 *  writes the output rows [2*cy0, 2*cy1) x columns [2*cx0, 2*cx1) (the
 *  region's centre, 0 <= cx0 < cx1 <= rw, 0 <= cy0 < cy1 <= rh) to dst, which
 *  points at output pixel (2*cy0, 2*cx0). Only the layer rows the centre
 *  depends on are computed. scratch: sk_subpixel_fused_scratch_floats() floats,
 *  64-byte aligned, not aliasing anything else.
 *  Returns SK_OK, or SK_EINVAL for bad shapes, limits or NULL pointers. */
int sk_subpixel_fused(const sk_subpixel_net *net, const uint8_t *src, ptrdiff_t src_stride,
                      int rw, int rh, float in_scale, int cx0, int cx1, int cy0, int cy1,
                      uint8_t *dst, ptrdiff_t dst_stride, float out_scale, float *scratch);
int sk_subpixel_fused_ref(const sk_subpixel_net *net, const uint8_t *src, ptrdiff_t src_stride,
                          int rw, int rh, float in_scale, int cx0, int cx1, int cy0, int cy1,
                          uint8_t *dst, ptrdiff_t dst_stride, float out_scale, float *scratch);
int sk_subpixel_fused_avx2(const sk_subpixel_net *net, const uint8_t *src, ptrdiff_t src_stride,
                           int rw, int rh, float in_scale, int cx0, int cx1, int cy0, int cy1,
                           uint8_t *dst, ptrdiff_t dst_stride, float out_scale, float *scratch);
int sk_subpixel_fused_avx512(const sk_subpixel_net *net, const uint8_t *src, ptrdiff_t src_stride,
                             int rw, int rh, float in_scale, int cx0, int cx1, int cy0, int cy1,
                             uint8_t *dst, ptrdiff_t dst_stride, float out_scale, float *scratch);
int sk_subpixel_fused_neon(const sk_subpixel_net *net, const uint8_t *src, ptrdiff_t src_stride,
                           int rw, int rh, float in_scale, int cx0, int cx1, int cy0, int cy1,
                           uint8_t *dst, ptrdiff_t dst_stride, float out_scale, float *scratch);

#ifdef __cplusplus
}
#endif

#endif /* SLICE_KERNELS_FUSED_H */
