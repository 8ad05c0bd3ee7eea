#ifndef SLICE_KERNELS_U16_H
#define SLICE_KERNELS_U16_H
/* High-bit-depth plane conversions (10/12-bit samples stored in uint16_t, as FFmpeg's yuv420p10le),
 * for the learned transforms' float working domain. Portable C only: these run once per pixel per
 * frame next to convolutions that cost hundreds of times more, so they have no SIMD variants (and
 * hence nothing for scripts/checkasm to compare). Strides are in samples (uint16_t), not bytes.
 * Return SK_OK (0) or SK_EINVAL (-1) like every sk_ kernel. */
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** u16 plane -> float plane: dst = src * scale, rows y0..y1-1. */
int sk_u16_to_f32(const uint16_t *src, ptrdiff_t src_stride, float *dst,
                  ptrdiff_t dst_stride, int w, int h, float scale, int y0, int y1);

/** float plane -> u16 plane: v = src * scale; NaN and v <= 0 -> 0; v >= maxval -> maxval; otherwise
 *  round half to even. maxval is (1 << bits) - 1, between 1 and 65535. */
int sk_f32_to_u16(const float *src, ptrdiff_t src_stride, uint16_t *dst,
                  ptrdiff_t dst_stride, int w, int h, float scale, int maxval, int y0, int y1);

#ifdef __cplusplus
}
#endif

#endif /* SLICE_KERNELS_U16_H */
