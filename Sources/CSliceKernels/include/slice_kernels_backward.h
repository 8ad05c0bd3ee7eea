/*
 * slice_kernels_backward.h - backward passes (training) for CSliceKernels.
 *
 * Every forward operator of slice_kernels.h has its adjoint here, plus the
 * pieces a trainer needs around them: standalone activations (the trainer
 * runs convolutions with SK_ACT_NONE and applies the activation separately so
 * it can keep the pre-activation z), two losses and an Adam/AdamW step.
 * Layout, tensor views and error codes are those of slice_kernels.h.
 *
 * NAMING
 *   grad_out  dL/d(forward output), same shape as the forward output;
 *   grad_in   dL/d(forward input),  same shape as the forward input;
 *   in        the forward input (needed for parameter gradients only).
 *   Weight layouts are the forward ones (PyTorch), and so are the gradient
 *   buffers: grad_weight has the shape of weight, grad_bias of bias.
 *
 * TWO KINDS OF BACKWARD CALLS, TWO KINDS OF BANDS
 *   X_backward_input  computes grad_in. [y0, y1) is a range of grad_in rows
 *                     (the rows WRITTEN). The kernel reads whatever
 *                     grad_out rows it needs. Each grad_in element is one
 *                     fixed-order sum that does not depend on the band, so
 *                     any split of grad_in rows across threads gives
 *                     bit-identical results (exactly like the forward).
 *   X_backward_params computes grad_weight / grad_bias. [y0, y1) is a range
 *                     of grad_out rows (forward OUTPUT rows) whose
 *                     contribution is summed. The result is ADDED (+=) to
 *                     the caller's buffers, so images, tiles and threads can
 *                     be summed.
 *
 * ACCUMULATE vs OVERWRITE (grad_in)
 *   mode = SK_GRAD_OVERWRITE:  grad_in[i] = v
 *   mode = SK_GRAD_ACCUMULATE: grad_in[i] = grad_in[i] + v   (one rounding)
 *   where v is the value OVERWRITE would store. Use ACCUMULATE when a tensor
 *   feeds several nodes (residuals, skip connections). Parameter gradients
 *   always accumulate.
 *
 * DETERMINISM CONTRACT
 *   - Every result is a fixed function of the inputs: same inputs, same bits,
 *     on every run, every thread count, and every CPU level (reference / avx2
 *     / avx512 / neon: the vectorised variants perform the same IEEE
 *     operations in the same order per element; nothing is fused: plain
 *     a*b + c, compiled with FP contraction off). There is no NEON-specific
 *     backward build: on arm64 every level runs the generic build (GCC/clang
 *     16-byte vectors, which the compiler emits as NEON).
 *   - grad_in (and every other per-element output) is independent of the
 *     band split, as stated above.
 *   - Parameter gradients (grad_weight, grad_bias, grad_slope) are reduced in
 *     a fixed order: within ONE call, each parameter's sum is kept in
 *     SK_GRAD_LANES (16) float partial sums, all starting at +0. Rows y are
 *     visited in ascending order, then x in ascending order within the row;
 *     each term goes to a lane that depends only on its column and the
 *     shapes: lane (x - x_first) mod 16 of the run of columns being summed
 *     (x_first = 0 for pointwise, bias and PReLU slope; r for k x k
 *     convolutions, whose first and last r columns - the ones whose taps may
 *     leave the row - go to lane 0 instead; the first valid input column for
 *     transposed convolutions). At the end of the call the lanes are combined
 *     by a fixed pairwise tree (lane i += lane i+8, then +4, +2, +1) and the
 *     result is added ONCE to the caller's float: p[j] = p[j] + partial.
 *     Consequently the parameter gradient DEPENDS ON THE BAND PARTITION
 *     (a call over [0,8) differs in the last bits from [0,4) + [4,8)).
 *     Identical partitions processed in the same order give identical bits.
 *     Recommended use: split each tile into a FIXED set of bands (e.g. one
 *     band per tile, or a fixed number of rows per band, independent of the
 *     thread count), give each band its own zeroed gradient buffer, and add
 *     the per-band buffers together in a fixed order (band 0, 1, 2, ...).
 *   The default floating-point environment is assumed (as for the forward).
 *
 * ERRORS, THREADING, MEMORY
 *   SK_OK or SK_EINVAL (bad shape, NULL pointer, bad parameter, band out of
 *   range, outputs overlapping inputs). On SK_EINVAL nothing is written.
 *   Kernels are reentrant and allocate nothing; functions that need
 *   temporary memory take a caller-owned `scratch` (size given by the
 *   matching *_scratch_floats() function, one per concurrent call, not
 *   aliasing any tensor). grad_in never aliases grad_out or in, except where
 *   a function says so (element-wise ops allow exact in-place use).
 *   Parameter-gradient buffers must not alias any tensor or weight buffer.
 */
#ifndef SLICE_KERNELS_BACKWARD_H
#define SLICE_KERNELS_BACKWARD_H

#include "slice_kernels.h"

#ifdef __cplusplus
extern "C" {
#endif

/** grad_in write mode (see ACCUMULATE vs OVERWRITE above). */
enum { SK_GRAD_OVERWRITE = 0, SK_GRAD_ACCUMULATE = 1 };

/** Number of float partial sums kept per parameter within one call. */
#define SK_GRAD_LANES 16

/* ------------------------------------------------------------------------ */
/* 1. Depthwise convolution k x k                                           */
/* ------------------------------------------------------------------------ */

/** Scratch (floats) for sk_dwconv_backward_input / sk_conv_backward_input:
 *  one padded row, (w + k - 1) rounded up to 16. */
size_t sk_conv_backward_scratch_floats(int w, int k);

/** dL/d(in) of sk_dwconv (act NONE): grad_in = A^T grad_out, where A is the
 *  forward linear map for fixed weights.
 *  Reads grad_out (c x h x w) and weight [c][k][k]; writes grad_in rows
 *  [y0,y1) (c x h x w), overwrite or accumulate per `mode`.
 *  Border: SK_BORDER_ZERO: taps outside the plane carry no gradient.
 *  SK_BORDER_REPLICATE: a tap that read a clamped coordinate sends its
 *  gradient to the edge pixel it was read from (the padded-plane adjoint is
 *  folded back onto the edge rows/columns).
 *  Per grad_in element, fixed order: a sum T[x'] for every padded column x'
 *  that maps to x (just x itself for interior pixels / zero border), each
 *  T = 0 + ... over (y' ascending among padded rows mapping to y, ky
 *  ascending, kx ascending) of weight[c][ky][kx] * grad_out[c][y'-ky+r][x'-kx+r]
 *  (terms with grad_out outside the plane skipped); then the T of the padded
 *  columns mapping to x are added in ascending x'.
 *  scratch: sk_conv_backward_scratch_floats(w, k) floats. */
int sk_dwconv_backward_input(const sk_tensor *grad_out, const sk_tensor *grad_in,
                             const float *weight, int k, int border, int mode,
                             float *scratch, int y0, int y1);

/** dL/d(weight), dL/d(bias) of sk_dwconv (act NONE), ADDED to the buffers:
 *      grad_weight[c][ky][kx] += sum_{y in [y0,y1), x} grad_out[c][y][x] * X(c, y+ky-r, x+kx-r)
 *      grad_bias[c]           += sum_{y in [y0,y1), x} grad_out[c][y][x]
 *  X applies the forward border rule to `in`. grad_bias may be NULL.
 *  [y0,y1) are grad_out rows; reduction order as in the header comment. */
int sk_dwconv_backward_params(const sk_tensor *in, const sk_tensor *grad_out,
                              float *grad_weight, float *grad_bias, int k, int border,
                              int y0, int y1);

/* ------------------------------------------------------------------------ */
/* 2. Pointwise (1x1) convolution                                           */
/* ------------------------------------------------------------------------ */

/** dL/d(in) of sk_pwconv (act NONE; a residual's gradient is grad_out
 *  itself and is the caller's business):
 *      grad_in[ci][y][x] = 0 + w[0][ci]*g[0][y][x] + w[1][ci]*g[1][y][x] + ...
 *  (co ascending, plain multiply and add). Reads grad_out (Cout x h x w) and
 *  weight [Cout][Cin]; writes grad_in (Cin x h x w) rows [y0,y1). */
int sk_pwconv_backward_input(const sk_tensor *grad_out, const sk_tensor *grad_in,
                             const float *weight, int mode, int y0, int y1);

/** Scratch (floats) for sk_pwconv_backward_params: the lane accumulators,
 *  SK_GRAD_LANES * cout * (cin + 1). */
size_t sk_pwconv_backward_params_scratch_floats(int cin, int cout);

/** dL/d(weight), dL/d(bias) of sk_pwconv, ADDED to the buffers:
 *      grad_weight[co][ci] += sum_{y in [y0,y1), x} grad_out[co][y][x] * in[ci][y][x]
 *      grad_bias[co]       += sum grad_out[co][y][x]        (grad_bias may be NULL)
 *  scratch: sk_pwconv_backward_params_scratch_floats(Cin, Cout) floats. */
int sk_pwconv_backward_params(const sk_tensor *in, const sk_tensor *grad_out,
                              float *grad_weight, float *grad_bias, float *scratch,
                              int y0, int y1);

/* ------------------------------------------------------------------------ */
/* 3. Full k x k convolution                                                */
/* ------------------------------------------------------------------------ */

/** dL/d(in) of sk_conv (act NONE). Reads grad_out (Cout x h x w) and weight
 *  [Cout][Cin][k][k]; writes grad_in (Cin x h x w) rows [y0,y1). Border rule
 *  and order as sk_dwconv_backward_input, with co ascending as the outermost
 *  index of each T sum (co, then y', ky, kx).
 *  scratch: sk_conv_backward_scratch_floats(w, k) floats. */
int sk_conv_backward_input(const sk_tensor *grad_out, const sk_tensor *grad_in,
                           const float *weight, int k, int border, int mode,
                           float *scratch, int y0, int y1);

/** dL/d(weight), dL/d(bias) of sk_conv, ADDED to the buffers:
 *      grad_weight[co][ci][ky][kx] += sum_{y in [y0,y1), x} g[co][y][x] * X(ci, y+ky-r, x+kx-r)
 *      grad_bias[co]               += sum g[co][y][x]       (grad_bias may be NULL) */
int sk_conv_backward_params(const sk_tensor *in, const sk_tensor *grad_out,
                            float *grad_weight, float *grad_bias, int k, int border,
                            int y0, int y1);

/* ------------------------------------------------------------------------ */
/* 4. Pixel (un)shuffle                                                     */
/* ------------------------------------------------------------------------ */

/** Backward of sk_space_to_depth2x (= depth_to_space of the gradient):
 *      grad_in[c][2y+dy][2x+dx] (=|+=) grad_out[c*4+dy*2+dx][y][x]
 *  grad_out: 4C x H x W, grad_in: C x 2H x 2W; band = grad_in rows (any
 *  parity). */
int sk_space_to_depth2x_backward(const sk_tensor *grad_out, const sk_tensor *grad_in,
                                 int mode, int y0, int y1);

/** Backward of sk_depth_to_space2x w.r.t. its `in` (= space_to_depth of the
 *  gradient):  grad_in[c*4+dy*2+dx][y][x] (=|+=) grad_out[c][2y+dy][2x+dx]
 *  grad_out: C x 2H x 2W, grad_in: 4C x H x W; band = grad_in rows.
 *  If the forward had a `base` addend, dL/d(base) = grad_out: the caller
 *  uses grad_out directly (or accumulates it). */
int sk_depth_to_space2x_backward(const sk_tensor *grad_out, const sk_tensor *grad_in,
                                 int mode, int y0, int y1);

/* ------------------------------------------------------------------------ */
/* 5. Transposed convolution, stride 2                                      */
/* ------------------------------------------------------------------------ */

/** Scratch (floats) for sk_tconv2x_backward_input, for an input (= grad_in)
 *  width in_w: one accumulator row plus one grad_out row split into even /
 *  odd columns (about 3 * in_w + 32). */
size_t sk_tconv2x_backward_scratch_floats(int in_w);

/** dL/d(in) of sk_tconv2x (PyTorch ConvTranspose2d, zero padding): a
 *  stride-2 correlation of the gradient,
 *      grad_in[ci][iy][ix] = 0 + sum over co, ky, kx (ascending) of
 *          weight[ci][co][ky][kx] * grad_out[co][2*iy-pad+ky][2*ix-pad+kx]
 *  (terms outside grad_out skipped). grad_out: Cout x Ho x Wo, grad_in:
 *  Cin x H x W (shapes as the forward; k, pad, out_pad as the forward).
 *  Band = grad_in rows. A residual's gradient is grad_out (caller).
 *  scratch: sk_tconv2x_backward_scratch_floats(W) floats. */
int sk_tconv2x_backward_input(const sk_tensor *grad_out, const sk_tensor *grad_in,
                              const float *weight, int k, int pad, int out_pad, int mode,
                              float *scratch, int y0, int y1);

/** dL/d(weight), dL/d(bias) of sk_tconv2x, ADDED to the buffers:
 *      grad_weight[ci][co][ky][kx] += sum over grad_out rows oy in [y0,y1)
 *          with oy = 2*iy - pad + ky, 0 <= iy < H, and columns ix with
 *          0 <= ox = 2*ix - pad + kx < Wo, of in[ci][iy][ix] * g[co][oy][ox]
 *      grad_bias[co] += sum_{oy in [y0,y1), ox} g[co][oy][ox]  (may be NULL)
 *  Needs no scratch (about 10 KB of stack). */
int sk_tconv2x_backward_params(const sk_tensor *in, const sk_tensor *grad_out,
                               float *grad_weight, float *grad_bias, int k, int pad,
                               int out_pad, int y0, int y1);

/* ------------------------------------------------------------------------ */
/* 6. Resampling                                                            */
/* ------------------------------------------------------------------------ */

/** Scratch (floats) for the 2x upscale backward passes, for a forward output
 *  (= grad_out) width out_w: 2 * (out_w rounded up to 16). */
size_t sk_upscale2x_backward_scratch_floats(int out_w);

/** Adjoint of sk_bicubic2x (same `a`, same float weights c0/c1, replicate
 *  taps): grad_in = A^T grad_out. grad_out: C x 2H x 2W, grad_in: C x H x W,
 *  band = grad_in rows. Separable, vertical first: per grad_in row iy,
 *      V[ox] = 0 + sum over (oy ascending, tap t ascending) with
 *              clamp(oy/2 + off[oy&1] + t) == iy of c[oy&1][t] * g[oy][ox]
 *  then grad_in[iy][ix] = 0 + sum over (ox ascending, tap s ascending) with
 *              clamp(ox/2 + off[ox&1] + s) == ix of c[ox&1][s] * V[ox].
 *  scratch: sk_upscale2x_backward_scratch_floats(2W) floats. */
int sk_bicubic2x_backward(const sk_tensor *grad_out, const sk_tensor *grad_in, float a,
                          int mode, float *scratch, int y0, int y1);

/** Adjoint of sk_bilinear2x; as sk_bicubic2x_backward with the bilinear
 *  taps (weights {0.25, 0.75} / {0.75, 0.25}). */
int sk_bilinear2x_backward(const sk_tensor *grad_out, const sk_tensor *grad_in, int mode,
                           float *scratch, int y0, int y1);

/** Adjoint of sk_area_down2x. grad_out: C x H/2 x W/2, grad_in: C x H x W.
 *      grad_in[y][x] (=|+=) 0.25f * grad_out[y/2][x/2]   for y < 2*(H/2), x < 2*(W/2)
 *  A trailing odd row/column gets 0 (OVERWRITE) or is left unchanged
 *  (ACCUMULATE). Band = grad_in rows. */
int sk_area_down2x_backward(const sk_tensor *grad_out, const sk_tensor *grad_in, int mode,
                            int y0, int y1);

/* ------------------------------------------------------------------------ */
/* 7. Activations (standalone, on the pre-activation z)                     */
/* ------------------------------------------------------------------------ */

/** y = z > 0 ? z : +0.0f (as SK_ACT_RELU). z, y: same shape; y may be the
 *  same view as z (in place) or must not overlap it. Band = rows. */
int sk_relu_forward(const sk_tensor *z, const sk_tensor *y, int y0, int y1);

/** y = z > 0 ? z : slope[c] * z (as SK_ACT_PRELU; plain multiply).
 *  slope: one float per channel. In place allowed as sk_relu_forward. */
int sk_prelu_forward(const sk_tensor *z, const sk_tensor *y, const float *slope,
                     int y0, int y1);

/** grad_in (=|+=) z > 0 ? grad_out : 0. z, grad_out, grad_in: same shape.
 *  grad_in may be the same view as grad_out (in place); otherwise no
 *  overlap. Band = rows. */
int sk_relu_backward(const sk_tensor *z, const sk_tensor *grad_out, const sk_tensor *grad_in,
                     int mode, int y0, int y1);

/** PReLU backward on the pre-activation z:
 *      grad_in (=|+=) z > 0 ? grad_out : slope[c] * grad_out
 *      grad_slope[c] += sum over rows [y0,y1) and x with !(z > 0) of grad_out * z
 *  (lane order as the header comment). grad_in or grad_slope may be NULL
 *  (not both). grad_in may be the same view as grad_out. */
int sk_prelu_backward(const sk_tensor *z, const sk_tensor *grad_out, const float *slope,
                      const sk_tensor *grad_in, float *grad_slope, int mode, int y0, int y1);

/* ------------------------------------------------------------------------ */
/* 8. Losses                                                                 */
/* ------------------------------------------------------------------------ */

/** Weighted squared error over rows [y0,y1) of a and b (same shape):
 *      *loss = weight * sum (a - b)^2              (differences and sum in double)
 *      grad_a (=|+=) (float)(2*weight) * (a - b)   (float difference)
 *  Use weight = 1.0 / (c*h*w) for the mean squared error of a whole tensor
 *  (and divide further by the batch size if the batch loss is a mean).
 *  The sum uses SK_GRAD_LANES double partial sums (lane = x mod 16, rows,
 *  then channels, ascending; fixed tree), so it is deterministic; it depends
 *  on the band partition like the parameter gradients. grad_a may be NULL;
 *  it must not overlap a or b. */
int sk_mse_loss(const sk_tensor *a, const sk_tensor *b, double weight,
                const sk_tensor *grad_a, int mode, double *loss, int y0, int y1);

/** Charbonnier loss (a smooth L1), eps > 0:
 *      *loss = weight * sum sqrt((a - b)^2 + eps^2)            (double)
 *      grad_a (=|+=) (float)(weight * d / sqrt(d^2 + eps^2))   (d = a - b, double)
 *  Order, NULL grad_a and aliasing as sk_mse_loss. */
int sk_charbonnier_loss(const sk_tensor *a, const sk_tensor *b, double eps, double weight,
                        const sk_tensor *grad_a, int mode, double *loss, int y0, int y1);

/* ------------------------------------------------------------------------ */
/* 9. Optimiser                                                              */
/* ------------------------------------------------------------------------ */

/** Adam / AdamW hyper-parameters (PyTorch defaults: lr 1e-3, betas 0.9 and
 *  0.999, eps 1e-8; AdamW weight_decay 1e-2). */
typedef struct sk_adam_config {
    float lr;           /* >= 0                                           */
    float beta1, beta2; /* in [0, 1)                                      */
    float eps;          /* > 0                                            */
    float weight_decay; /* >= 0                                           */
    int decoupled;      /* 0 = Adam (L2 added to the gradient), 1 = AdamW */
} sk_adam_config;

/** One Adam/AdamW step on n parameters, element-wise, in float, following
 *  torch.optim.Adam/AdamW (single-tensor path) for step number t >= 1:
 *      bc1 = 1 - beta1^t, bc2 = 1 - beta2^t                       (double)
 *      step = (float)(lr / bc1), bc2s = (float)sqrt(bc2)
 *      Adam:  g = grad + wd * p        AdamW: p = p * (float)(1 - lr*wd)
 *      w1 = (float)(1 - beta1), w2 = (float)(1 - beta2)
 *      m = m + w1 * (g - m)             (torch lerp_; if w1 >= 0.5, as torch:
 *                                        m = g - (g - m) * (1 - w1))
 *      v = v * beta2 + w2 * (g * g)
 *      p = p + (-step) * (m / (sqrtf(v) / bc2s + eps))
 *  Reads grad; updates param, m, v in place (m and v start at zero). The
 *  four arrays must not overlap. Deterministic and element-wise (any
 *  split of the vector gives the same bits). Checked against
 *  torch.optim.Adam/AdamW (foreach=False): equal to within a few tens of
 *  ulps after 50 steps (torch's vectorised kernels round differently). */
int sk_adam_step(float *param, const float *grad, float *m, float *v, size_t n,
                 const sk_adam_config *cfg, long long t);

#ifdef __cplusplus
}
#endif

#endif /* SLICE_KERNELS_BACKWARD_H */
