/*
 * slice_kernels.h - CPU compute kernels for SliceStream.
 *
 * Every operator exists in up to five forms:
 *   sk_X_ref     portable C reference (the specification),
 *   sk_X_avx2    x86-64 AVX2+FMA   (call only if sk_level_supported(SK_LEVEL_AVX2)),
 *   sk_X_avx512  x86-64 AVX-512F/BW/VL (call only if sk_level_supported(SK_LEVEL_AVX512)),
 *   sk_X_neon    AArch64 Advanced SIMD (call only if sk_level_supported(SK_LEVEL_NEON)),
 *   sk_X         dispatcher: calls the variant chosen once by sk_init() /
 *                sk_set_level(); this is what production code uses.
 * Every symbol exists on every architecture: where an ISA is absent its
 * variants forward to _ref (the _avx2/_avx512 ones off x86-64, the _neon
 * ones off AArch64).
 *
 * DETERMINISM CONTRACT
 *   All variants produce BIT-IDENTICAL results for every non-NaN output
 *   (NaN payloads are not specified). This holds because:
 *     - every multiply-add is an explicit single-rounding fused multiply-add
 *       (fmaf() in the reference, vfmadd / vfmaq_f32 in SIMD), and plain products/sums are
 *       never contracted (files are compiled with FP_CONTRACT OFF);
 *     - SIMD vectorises across output pixels (x) only, never across a
 *       reduction, so each output pixel sees exactly the reduction order
 *       documented on each function;
 *     - results never depend on the band [y0, y1) used or on thread count.
 *   The default floating-point environment (round-to-nearest-even, no
 *   flush-to-zero / denormals-are-zero) is assumed.
 *
 * DATA LAYOUT
 *   Planar float32. A tensor is c planes; plane i starts at data + i*plane;
 *   row y of a plane starts at + y*stride; element x at + x. Strides are in
 *   floats (not bytes) and may exceed w (padding between rows / planes is
 *   never read or written).
 *
 * BANDS
 *   Every kernel takes [y0, y1): the half-open range of OUTPUT rows to
 *   produce. The kernel reads whatever input rows it needs from the full
 *   input tensor and writes only output rows y0..y1-1 (columns 0..w-1). A
 *   frame may therefore be split across threads in any way; the union of the
 *   bands is bit-identical to a single full-frame call. y0 == y1 is a no-op.
 *
 * ERRORS
 *   Functions return SK_OK (0) or SK_EINVAL (-1) for inconsistent shapes,
 *   NULL pointers, bad parameters, an out-of-range band, or an output that
 *   overlaps an input (in-place operation is not supported, except where a
 *   function explicitly allows an addend tensor identical to the output).
 *
 * THREADING
 *   All kernels are reentrant and allocate nothing. sk_init() is thread-safe
 *   and is called implicitly by the first dispatcher call.
 */
#ifndef SLICE_KERNELS_H
#define SLICE_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Basic types                                                              */
/* ------------------------------------------------------------------------ */

enum { SK_OK = 0, SK_EINVAL = -1 };

/** Planar float tensor view (no ownership). Input tensors are only read. */
typedef struct sk_tensor {
    float *data;      /* element (channel 0, row 0, column 0)             */
    int c, h, w;      /* channels, rows, columns; all >= 1                 */
    ptrdiff_t stride; /* floats between rows,     >= w                     */
    ptrdiff_t plane;  /* floats between channels, >= (h-1)*stride + w if c>1 */
} sk_tensor;

/** Border rule for convolutions: replicate (clamp coordinates) or zero. */
enum { SK_BORDER_REPLICATE = 0, SK_BORDER_ZERO = 1 };

/** Fused activation kinds. */
enum {
    SK_ACT_NONE = 0,
    SK_ACT_RELU = 1,  /* y = x > 0 ? x : +0.0f                                */
    SK_ACT_PRELU = 2  /* y = x > 0 ? x : slope[co] * x  (a plain multiply).   */
                      /* LeakyReLU = PReLU with every slope[co] equal.        */
};

/** Activation descriptor. slope: one float per OUTPUT channel (PRELU only). */
typedef struct sk_act {
    int kind;
    const float *slope;
} sk_act;

/* ------------------------------------------------------------------------ */
/* CPU level selection                                                      */
/* ------------------------------------------------------------------------ */

/* The values are stable (they cross into Swift and test tables). NEON comes
 * last, so on x86-64 the x86 levels keep their order and NEON is simply never
 * supported; on AArch64 the x86 levels are never supported.
 * The backward kernels (slice_kernels_backward.h) have no NEON-specific
 * build: on arm64 they run their generic 16-byte-vector build at every level. */
enum { SK_LEVEL_REFERENCE = 0, SK_LEVEL_AVX2 = 1, SK_LEVEL_AVX512 = 2, SK_LEVEL_NEON = 3 };

/** Detects CPU features (x86-64: avx2+fma; avx512f+bw+vl. AArch64: NEON,
 *  always present) and picks the level named by env var SLICESTREAM_CPU =
 *  reference | avx2 | avx512 | neon | auto (unset = auto = best available).
 *  An unsupported request of this architecture falls back to the best
 *  supported level <= the request; a level of another architecture (neon on
 *  x86-64, avx2/avx512 on arm64) selects the best available level.
 *  Idempotent and thread-safe (pthread_once). Returns the chosen level. */
int sk_init(void);

/** Name of the active level: "reference", "avx2", "avx512" or "neon". */
const char *sk_cpu_name(void);

/** Active level (SK_LEVEL_*). */
int sk_get_level(void);

/** Non-zero if this CPU (and OS) can run the given level. */
int sk_level_supported(int level);

/** Forces a level (for tests/benchmarks); falls back as sk_init() does for
 *  SLICESTREAM_CPU. Returns the level actually selected. Not intended to
 *  be called while other threads are running kernels (they may see either
 *  level; each individual call is still consistent). */
int sk_set_level(int level);

/** Name of an arbitrary level, or "?" . */
const char *sk_level_name(int level);

/* ------------------------------------------------------------------------ */
/* 1. Depthwise convolution k x k                                           */
/* ------------------------------------------------------------------------ */

/** Depthwise k x k convolution, stride 1, "same" output size.
 *  in, out: c x h x w (same shape). weight: [c][k][k] row-major, bias: [c]
 *  (NULL = zeros). k in {1,3,5,7}. r = k/2.
 *  Reduction for out[c][y][x], fixed:
 *      acc = bias[c];
 *      for ky in 0..k-1: for kx in 0..k-1:
 *          acc = fmaf(weight[c][ky][kx], X(c, y+ky-r, x+kx-r), acc);
 *      out = act(acc)
 *  Border: SK_BORDER_REPLICATE: X clamps coordinates into the plane;
 *  SK_BORDER_ZERO: X is +0.0f outside the plane (the tap is still evaluated).
 *  act.slope (PRELU) is indexed by channel. */
int sk_dwconv(const sk_tensor *in, const sk_tensor *out, const float *weight,
              const float *bias, int k, int border, sk_act act, int y0, int y1);
int sk_dwconv_ref(const sk_tensor *in, const sk_tensor *out, const float *weight,
                  const float *bias, int k, int border, sk_act act, int y0, int y1);
int sk_dwconv_avx2(const sk_tensor *in, const sk_tensor *out, const float *weight,
                   const float *bias, int k, int border, sk_act act, int y0, int y1);
int sk_dwconv_avx512(const sk_tensor *in, const sk_tensor *out, const float *weight,
                     const float *bias, int k, int border, sk_act act, int y0, int y1);
int sk_dwconv_neon(const sk_tensor *in, const sk_tensor *out, const float *weight,
                   const float *bias, int k, int border, sk_act act, int y0, int y1);

/* ------------------------------------------------------------------------ */
/* 2. Pointwise (1x1) convolution                                           */
/* ------------------------------------------------------------------------ */

/** 1x1 convolution Cin -> Cout. in: Cin x h x w, out: Cout x h x w.
 *  weight: [Cout][Cin] row-major (PyTorch [Cout][Cin][1][1]); bias: [Cout]
 *  or NULL. res: NULL or Cout x h x w residual (may be identical to out,
 *  i.e. same data/stride/plane, for an in-place residual add).
 *  Per output pixel, fixed order:
 *      acc = bias[co];
 *      for ci in 0..Cin-1: acc = fmaf(weight[co][ci], in[ci], acc);
 *      acc = act(acc);               (slope indexed by co)
 *      if (res) acc = acc + res[co]; (plain add, after the activation)  */
int sk_pwconv(const sk_tensor *in, const sk_tensor *out, const float *weight,
              const float *bias, sk_act act, const sk_tensor *res, int y0, int y1);
int sk_pwconv_ref(const sk_tensor *in, const sk_tensor *out, const float *weight,
                  const float *bias, sk_act act, const sk_tensor *res, int y0, int y1);
int sk_pwconv_avx2(const sk_tensor *in, const sk_tensor *out, const float *weight,
                   const float *bias, sk_act act, const sk_tensor *res, int y0, int y1);
int sk_pwconv_avx512(const sk_tensor *in, const sk_tensor *out, const float *weight,
                     const float *bias, sk_act act, const sk_tensor *res, int y0, int y1);
int sk_pwconv_neon(const sk_tensor *in, const sk_tensor *out, const float *weight,
                   const float *bias, sk_act act, const sk_tensor *res, int y0, int y1);

/* ------------------------------------------------------------------------ */
/* 3. Full k x k convolution                                                */
/* ------------------------------------------------------------------------ */

/** Dense k x k convolution Cin -> Cout, stride 1, "same" size.
 *  in: Cin x h x w, out: Cout x h x w, weight: [Cout][Cin][k][k] (PyTorch
 *  Conv2d layout), bias: [Cout] or NULL, k in {1,3,5,7}, r = k/2.
 *  Per output pixel, fixed order:
 *      acc = bias[co];
 *      for ci: for ky: for kx: acc = fmaf(weight[co][ci][ky][kx], X(ci, y+ky-r, x+kx-r), acc);
 *      out = act(acc)          (slope indexed by co)
 *  Border as sk_dwconv. Intended for first layers / small channel counts. */
int sk_conv(const sk_tensor *in, const sk_tensor *out, const float *weight,
            const float *bias, int k, int border, sk_act act, int y0, int y1);
int sk_conv_ref(const sk_tensor *in, const sk_tensor *out, const float *weight,
                const float *bias, int k, int border, sk_act act, int y0, int y1);
int sk_conv_avx2(const sk_tensor *in, const sk_tensor *out, const float *weight,
                 const float *bias, int k, int border, sk_act act, int y0, int y1);
int sk_conv_avx512(const sk_tensor *in, const sk_tensor *out, const float *weight,
                   const float *bias, int k, int border, sk_act act, int y0, int y1);
int sk_conv_neon(const sk_tensor *in, const sk_tensor *out, const float *weight,
                 const float *bias, int k, int border, sk_act act, int y0, int y1);

/* ------------------------------------------------------------------------ */
/* 4. space_to_depth 2x (PyTorch pixel_unshuffle(x, 2))                      */
/* ------------------------------------------------------------------------ */

/** in: C x 2H x 2W, out: 4C x H x W,
 *      out[c*4 + dy*2 + dx][y][x] = in[c][2y+dy][2x+dx]   (pure copy).
 *  The band is in output rows. */
int sk_space_to_depth2x(const sk_tensor *in, const sk_tensor *out, int y0, int y1);
int sk_space_to_depth2x_ref(const sk_tensor *in, const sk_tensor *out, int y0, int y1);
int sk_space_to_depth2x_avx2(const sk_tensor *in, const sk_tensor *out, int y0, int y1);
int sk_space_to_depth2x_avx512(const sk_tensor *in, const sk_tensor *out, int y0, int y1);
int sk_space_to_depth2x_neon(const sk_tensor *in, const sk_tensor *out, int y0, int y1);

/* ------------------------------------------------------------------------ */
/* 5. depth_to_space 2x (PyTorch pixel_shuffle(x, 2)) + optional base add     */
/* ------------------------------------------------------------------------ */

/** in: 4C x H x W, out: C x 2H x 2W,
 *      v = in[c*4 + dy*2 + dx][y][x];
 *      out[c][2y+dy][2x+dx] = base ? base[c][2y+dy][2x+dx] + v : v;
 *  base: NULL or C x 2H x 2W (may be identical to out for in-place add).
 *  The band is in output rows (any parity). */
int sk_depth_to_space2x(const sk_tensor *in, const sk_tensor *out,
                        const sk_tensor *base, int y0, int y1);
int sk_depth_to_space2x_ref(const sk_tensor *in, const sk_tensor *out,
                            const sk_tensor *base, int y0, int y1);
int sk_depth_to_space2x_avx2(const sk_tensor *in, const sk_tensor *out,
                             const sk_tensor *base, int y0, int y1);
int sk_depth_to_space2x_avx512(const sk_tensor *in, const sk_tensor *out,
                               const sk_tensor *base, int y0, int y1);
int sk_depth_to_space2x_neon(const sk_tensor *in, const sk_tensor *out,
                             const sk_tensor *base, int y0, int y1);

/* ------------------------------------------------------------------------ */
/* 6. Transposed convolution, stride 2                                      */
/* ------------------------------------------------------------------------ */

/** PyTorch ConvTranspose2d(Cin, Cout, k, stride=2, padding=pad,
 *  output_padding=out_pad) computed as a gather.
 *  in: Cin x H x W; out: Cout x Ho x Wo with Ho = (H-1)*2 - 2*pad + k + out_pad
 *  (same for Wo); weight: [Cin][Cout][k][k] (PyTorch layout); bias: [Cout]
 *  or NULL; 1 <= k <= 16, pad >= 0, out_pad in {0,1}.
 *  res: NULL or Cout x Ho x Wo addend (may be identical to out).
 *  Output pixel (oy, ox) receives tap (ky, kx) from input (iy, ix) when
 *  oy = 2*iy - pad + ky and ox = 2*ix - pad + kx. Fixed order:
 *      acc = bias[co];
 *      for ci in 0..Cin-1:
 *        for ky = (oy+pad)&1; ky < k; ky += 2:          (iy = (oy+pad-ky)/2)
 *          for kx = (ox+pad)&1; kx < k; kx += 2:        (ix = (ox+pad-kx)/2)
 *            acc = fmaf(weight[ci][co][ky][kx], Z(ci, iy, ix), acc);
 *      if (res) acc = acc + res[co][oy][ox];
 *  Z is the input, or +0.0f when (iy, ix) lies outside it (zero padding as
 *  PyTorch; such taps are still evaluated as fmaf(w, 0, acc), which equals
 *  acc except for the sign of an exact zero). */
int sk_tconv2x(const sk_tensor *in, const sk_tensor *out, const float *weight,
               const float *bias, int k, int pad, int out_pad,
               const sk_tensor *res, int y0, int y1);
int sk_tconv2x_ref(const sk_tensor *in, const sk_tensor *out, const float *weight,
                   const float *bias, int k, int pad, int out_pad,
                   const sk_tensor *res, int y0, int y1);
int sk_tconv2x_avx2(const sk_tensor *in, const sk_tensor *out, const float *weight,
                    const float *bias, int k, int pad, int out_pad,
                    const sk_tensor *res, int y0, int y1);
int sk_tconv2x_avx512(const sk_tensor *in, const sk_tensor *out, const float *weight,
                      const float *bias, int k, int pad, int out_pad,
                      const sk_tensor *res, int y0, int y1);
int sk_tconv2x_neon(const sk_tensor *in, const sk_tensor *out, const float *weight,
                    const float *bias, int k, int pad, int out_pad,
                    const sk_tensor *res, int y0, int y1);

/* ------------------------------------------------------------------------ */
/* 7. Resampling: bicubic / bilinear 2x up, area 2x down                    */
/* ------------------------------------------------------------------------ */

/** Scratch needed by sk_bicubic2x / sk_bilinear2x, in floats, for an output
 *  of width out_w (= 4 * (out_w rounded up to 16)). Each concurrently running
 *  call needs its own scratch. */
size_t sk_upscale2x_scratch_floats(int out_w);

/** Bicubic 2x upscale, per channel. in: C x H x W, out: C x 2H x 2W.
 *  PyTorch interpolate(mode="bicubic", align_corners=False) semantics: out
 *  pixel o samples input at (o + 0.5)/2 - 0.5; Keys cubic with parameter a
 *  (-0.75 = PyTorch/OpenCV, -0.5 = Catmull-Rom); taps clamped to the plane
 *  (replicate). For o = 2j (phase 0) taps j-2..j+1 with weights
 *  c0 = {W(1.75), W(0.75), W(0.25), W(1.25)}; for o = 2j+1 taps j-1..j+2 with
 *  c1 = {W(1.25), W(0.25), W(0.75), W(1.75)} (weights computed in double,
 *  rounded to float). Separable, horizontal pass first (into scratch), then
 *  vertical; both passes per output value, fixed order:
 *      acc = c[0]*t0; acc = fmaf(c[1], t1, acc); ... fmaf(c[3], t3, acc).
 *  scratch: sk_upscale2x_scratch_floats(2W) floats, not aliasing anything. */
int sk_bicubic2x(const sk_tensor *in, const sk_tensor *out, float a,
                 float *scratch, int y0, int y1);
int sk_bicubic2x_ref(const sk_tensor *in, const sk_tensor *out, float a,
                     float *scratch, int y0, int y1);
int sk_bicubic2x_avx2(const sk_tensor *in, const sk_tensor *out, float a,
                      float *scratch, int y0, int y1);
int sk_bicubic2x_avx512(const sk_tensor *in, const sk_tensor *out, float a,
                        float *scratch, int y0, int y1);
int sk_bicubic2x_neon(const sk_tensor *in, const sk_tensor *out, float a,
                      float *scratch, int y0, int y1);

/** Bilinear 2x upscale (PyTorch mode="bilinear", align_corners=False).
 *  Phase 0 (o = 2j): taps j-1, j weights {0.25, 0.75}; phase 1: taps j, j+1
 *  weights {0.75, 0.25}; taps clamped (identical to PyTorch's edge rule for
 *  2x). Horizontal then vertical, each acc = c[0]*t0; acc = fmaf(c[1], t1, acc).
 *  Shapes and scratch as sk_bicubic2x. */
int sk_bilinear2x(const sk_tensor *in, const sk_tensor *out, float *scratch,
                  int y0, int y1);
int sk_bilinear2x_ref(const sk_tensor *in, const sk_tensor *out, float *scratch,
                      int y0, int y1);
int sk_bilinear2x_avx2(const sk_tensor *in, const sk_tensor *out, float *scratch,
                       int y0, int y1);
int sk_bilinear2x_avx512(const sk_tensor *in, const sk_tensor *out, float *scratch,
                         int y0, int y1);
int sk_bilinear2x_neon(const sk_tensor *in, const sk_tensor *out, float *scratch,
                       int y0, int y1);

/** Area (2x2 mean) downscale. in: C x H x W, out: C x H/2 x W/2 (floor; a
 *  trailing odd row/column is ignored, as PyTorch avg_pool2d(2)).
 *      out[y][x] = ((a + b) + (c + d)) * 0.25f
 *  a = in[2y][2x], b = in[2y][2x+1], c = in[2y+1][2x], d = in[2y+1][2x+1]. */
int sk_area_down2x(const sk_tensor *in, const sk_tensor *out, int y0, int y1);
int sk_area_down2x_ref(const sk_tensor *in, const sk_tensor *out, int y0, int y1);
int sk_area_down2x_avx2(const sk_tensor *in, const sk_tensor *out, int y0, int y1);
int sk_area_down2x_avx512(const sk_tensor *in, const sk_tensor *out, int y0, int y1);
int sk_area_down2x_neon(const sk_tensor *in, const sk_tensor *out, int y0, int y1);

/* ------------------------------------------------------------------------ */
/* 8. Conversions                                                            */
/* ------------------------------------------------------------------------ */

/** u8 plane -> float plane: dst[y][x] = (float)src[y][x] * scale.
 *  Use scale = 1.0f/255.0f for [0,1] data, 1.0f for plain values.
 *  w x h plane, strides in elements; rows [y0, y1). */
int sk_u8_to_f32(const uint8_t *src, ptrdiff_t src_stride, float *dst,
                 ptrdiff_t dst_stride, int w, int h, float scale, int y0, int y1);
int sk_u8_to_f32_ref(const uint8_t *src, ptrdiff_t src_stride, float *dst,
                     ptrdiff_t dst_stride, int w, int h, float scale, int y0, int y1);
int sk_u8_to_f32_avx2(const uint8_t *src, ptrdiff_t src_stride, float *dst,
                      ptrdiff_t dst_stride, int w, int h, float scale, int y0, int y1);
int sk_u8_to_f32_avx512(const uint8_t *src, ptrdiff_t src_stride, float *dst,
                        ptrdiff_t dst_stride, int w, int h, float scale, int y0, int y1);
int sk_u8_to_f32_neon(const uint8_t *src, ptrdiff_t src_stride, float *dst,
                      ptrdiff_t dst_stride, int w, int h, float scale, int y0, int y1);

/** float plane -> u8 plane: v = src * scale; NaN and v <= 0 -> 0;
 *  v >= 255 -> 255; otherwise round half to even (0.5 -> 0, 1.5 -> 2).
 *  Use scale = 255.0f for [0,1] data, 1.0f for plain values. */
int sk_f32_to_u8(const float *src, ptrdiff_t src_stride, uint8_t *dst,
                 ptrdiff_t dst_stride, int w, int h, float scale, int y0, int y1);
int sk_f32_to_u8_ref(const float *src, ptrdiff_t src_stride, uint8_t *dst,
                     ptrdiff_t dst_stride, int w, int h, float scale, int y0, int y1);
int sk_f32_to_u8_avx2(const float *src, ptrdiff_t src_stride, uint8_t *dst,
                      ptrdiff_t dst_stride, int w, int h, float scale, int y0, int y1);
int sk_f32_to_u8_avx512(const float *src, ptrdiff_t src_stride, uint8_t *dst,
                        ptrdiff_t dst_stride, int w, int h, float scale, int y0, int y1);
int sk_f32_to_u8_neon(const float *src, ptrdiff_t src_stride, uint8_t *dst,
                      ptrdiff_t dst_stride, int w, int h, float scale, int y0, int y1);

#ifdef __cplusplus
}
#endif

#include "slice_kernels_u16.h"
/* Whole-network kernels (they need the declarations above); included here so a build that has the
 * module cached sees them as part of this header, not only through the umbrella directory. */
#include "slice_kernels_fused.h"
#include "slice_kernels_fused_encoder.h"
#include "slice_kernels_q8.h"

#endif /* SLICE_KERNELS_H */
