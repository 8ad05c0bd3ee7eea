/*
 * slice_kernels_fused_encoder.h - the slicing encoder (sender, slice2x class)
 * as one fused, cache-resident kernel call per tile.
 *
 * Same scheme and contract as the fused sub-pixel kernel
 * (slice_kernels_fused.h): every layer keeps only the k rows its consumer
 * needs in a ring in the caller's scratch, the u8 -> float conversion is
 * fused into the slicing (first) layer and float -> u8 into the tail, and for
 * every value the operation sequence is exactly the layer kernels', so the
 * output equals the layer path's bit for bit and the _ref/_avx2/_avx512
 * variants equal each other (scripts/checkasm checks both).
 */
#ifndef SLICE_KERNELS_FUSED_ENCODER_H
#define SLICE_KERNELS_FUSED_ENCODER_H

#include "slice_kernels.h"
#include "slice_kernels_fused.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Limits of the encoder class the fused kernel runs. */
enum { SK_SE_MAX_BLOCKS = 16, SK_SE_MAX_CHANNELS = 256 };

/** The slicing encoder on an area base (ModelArchitecture .sliceEncoder):
 *      X    = u8 input * in_scale               (1 plane, 2rh x 2rw, the region)
 *      S    = space_to_depth2x(X)                (4 planes, rh x rw)
 *      B    = area_down2x(X)                     (1 plane,  rh x rw)
 *      x0   = head.pw_act(pw(head.dw_act(dwconv_kxk(S))))   (4 -> C, no residual)
 *      x_i+1 = pw_act(pw(dw_act(dwconv_kxk(x_i)))) + x_i      (i < blocks)
 *      out  = f32_to_u8(tail_act(pw(x_blocks)) + B, out_scale)  (C -> 1)
 *  i.e. exactly sk_u8_to_f32, sk_space_to_depth2x, sk_area_down2x, sk_dwconv
 *  (replicate border), sk_pwconv (residual), sk_pwconv with the base as
 *  residual and sk_f32_to_u8 run one after the other on the whole region. */
typedef struct sk_slice_encoder_net {
    int channels;              /* C, 1..SK_SE_MAX_CHANNELS                */
    int blocks;                /* residual blocks after the head, 0..SK_SE_MAX_BLOCKS */
    int k;                     /* depthwise kernel: 1, 3, 5, 7            */
    sk_sp_block head;          /* dw [4][k][k] on the sliced planes, pw [C][4] (no residual) */
    const sk_sp_block *block;  /* [blocks], C channels                    */
    const float *tail_weight;  /* [1][C]                                  */
    const float *tail_bias;    /* [1] or NULL                             */
    sk_act tail_act;
} sk_slice_encoder_net;

/** Scratch floats sk_slice_encoder_fused needs for a region `region_w`
 *  half-resolution columns wide (independent of its height). One buffer per
 *  concurrent call. 0 for an invalid net. */
size_t sk_slice_encoder_fused_scratch_floats(const sk_slice_encoder_net *net, int region_w);

/** Runs the encoder on the full-resolution region at src: 2*rh rows of 2*rw
 *  8-bit samples, src_stride bytes apart (rw x rh is the region on the
 *  half-resolution grid; every layer's border is the region's edge,
 *  replicated). Writes the half-resolution output rows [cy0, cy1) x columns
 *  [cx0, cx1) (0 <= cx0 < cx1 <= rw, 0 <= cy0 < cy1 <= rh) to dst, which
 *  points at output pixel (cy0, cx0). Only the layer rows the centre depends
 *  on are computed. scratch: sk_slice_encoder_fused_scratch_floats() floats,
 *  64-byte aligned, not aliasing anything else.
 *  Returns SK_OK, or SK_EINVAL for bad shapes, limits or NULL pointers. */
int sk_slice_encoder_fused(const sk_slice_encoder_net *net, const uint8_t *src, ptrdiff_t src_stride,
                           int rw, int rh, float in_scale, int cx0, int cx1, int cy0, int cy1,
                           uint8_t *dst, ptrdiff_t dst_stride, float out_scale, float *scratch);
int sk_slice_encoder_fused_ref(const sk_slice_encoder_net *net, const uint8_t *src,
                               ptrdiff_t src_stride, int rw, int rh, float in_scale, int cx0,
                               int cx1, int cy0, int cy1, uint8_t *dst, ptrdiff_t dst_stride,
                               float out_scale, float *scratch);
int sk_slice_encoder_fused_avx2(const sk_slice_encoder_net *net, const uint8_t *src,
                                ptrdiff_t src_stride, int rw, int rh, float in_scale, int cx0,
                                int cx1, int cy0, int cy1, uint8_t *dst, ptrdiff_t dst_stride,
                                float out_scale, float *scratch);
int sk_slice_encoder_fused_avx512(const sk_slice_encoder_net *net, const uint8_t *src,
                                  ptrdiff_t src_stride, int rw, int rh, float in_scale, int cx0,
                                  int cx1, int cy0, int cy1, uint8_t *dst, ptrdiff_t dst_stride,
                                  float out_scale, float *scratch);
int sk_slice_encoder_fused_neon(const sk_slice_encoder_net *net, const uint8_t *src,
                                ptrdiff_t src_stride, int rw, int rh, float in_scale, int cx0,
                                int cx1, int cy0, int cy1, uint8_t *dst, ptrdiff_t dst_stride,
                                float out_scale, float *scratch);

#ifdef __cplusplus
}
#endif

#endif /* SLICE_KERNELS_FUSED_ENCODER_H */
