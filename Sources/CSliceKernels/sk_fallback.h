/*
 * sk_fallback.h - where an ISA is absent, its entry points still exist
 * (so the API is identical everywhere) and forward to the reference.
 * Included by x86_avx2.c / x86_avx512.c (off x86-64) and arm_neon.c (off
 * AArch64) with SK_SFX defined.
 */
int SK_SFX(sk_dwconv)(const sk_tensor *in, const sk_tensor *out, const float *weight,
                      const float *bias, int k, int border, sk_act act, int y0, int y1)
{ return sk_dwconv_ref(in, out, weight, bias, k, border, act, y0, y1); }
int SK_SFX(sk_pwconv)(const sk_tensor *in, const sk_tensor *out, const float *weight,
                      const float *bias, sk_act act, const sk_tensor *res, int y0, int y1)
{ return sk_pwconv_ref(in, out, weight, bias, act, res, y0, y1); }
int SK_SFX(sk_conv)(const sk_tensor *in, const sk_tensor *out, const float *weight,
                    const float *bias, int k, int border, sk_act act, int y0, int y1)
{ return sk_conv_ref(in, out, weight, bias, k, border, act, y0, y1); }
int SK_SFX(sk_space_to_depth2x)(const sk_tensor *in, const sk_tensor *out, int y0, int y1)
{ return sk_space_to_depth2x_ref(in, out, y0, y1); }
int SK_SFX(sk_depth_to_space2x)(const sk_tensor *in, const sk_tensor *out,
                                const sk_tensor *base, int y0, int y1)
{ return sk_depth_to_space2x_ref(in, out, base, y0, y1); }
int SK_SFX(sk_tconv2x)(const sk_tensor *in, const sk_tensor *out, const float *weight,
                       const float *bias, int k, int pad, int out_pad,
                       const sk_tensor *res, int y0, int y1)
{ return sk_tconv2x_ref(in, out, weight, bias, k, pad, out_pad, res, y0, y1); }
int SK_SFX(sk_bicubic2x)(const sk_tensor *in, const sk_tensor *out, float a,
                         float *scratch, int y0, int y1)
{ return sk_bicubic2x_ref(in, out, a, scratch, y0, y1); }
int SK_SFX(sk_bilinear2x)(const sk_tensor *in, const sk_tensor *out, float *scratch,
                          int y0, int y1)
{ return sk_bilinear2x_ref(in, out, scratch, y0, y1); }
int SK_SFX(sk_area_down2x)(const sk_tensor *in, const sk_tensor *out, int y0, int y1)
{ return sk_area_down2x_ref(in, out, y0, y1); }
int SK_SFX(sk_u8_to_f32)(const uint8_t *src, ptrdiff_t src_stride, float *dst,
                         ptrdiff_t dst_stride, int w, int h, float scale, int y0, int y1)
{ return sk_u8_to_f32_ref(src, src_stride, dst, dst_stride, w, h, scale, y0, y1); }
int SK_SFX(sk_f32_to_u8)(const float *src, ptrdiff_t src_stride, uint8_t *dst,
                         ptrdiff_t dst_stride, int w, int h, float scale, int y0, int y1)
{ return sk_f32_to_u8_ref(src, src_stride, dst, dst_stride, w, h, scale, y0, y1); }
int SK_SFX(sk_subpixel_fused)(const sk_subpixel_net *net, const uint8_t *src, ptrdiff_t src_stride,
                              int rw, int rh, float in_scale, int cx0, int cx1, int cy0, int cy1,
                              uint8_t *dst, ptrdiff_t dst_stride, float out_scale, float *scratch)
{ return sk_subpixel_fused_ref(net, src, src_stride, rw, rh, in_scale, cx0, cx1, cy0, cy1, dst,
                               dst_stride, out_scale, scratch); }
int SK_SFX(sk_slice_encoder_fused)(const sk_slice_encoder_net *net, const uint8_t *src,
                                   ptrdiff_t src_stride, int rw, int rh, float in_scale, int cx0,
                                   int cx1, int cy0, int cy1, uint8_t *dst, ptrdiff_t dst_stride,
                                   float out_scale, float *scratch)
{ return sk_slice_encoder_fused_ref(net, src, src_stride, rw, rh, in_scale, cx0, cx1, cy0, cy1,
                                    dst, dst_stride, out_scale, scratch); }
int SK_SFX(sk_subpixel_q8)(const sk_subpixel_q8_net *net, const uint8_t *src, ptrdiff_t src_stride,
                           int rw, int rh, float in_scale, int cx0, int cx1, int cy0, int cy1,
                           uint8_t *dst, ptrdiff_t dst_stride, float out_scale, void *scratch)
{ return sk_subpixel_q8_ref(net, src, src_stride, rw, rh, in_scale, cx0, cx1, cy0, cy1, dst,
                            dst_stride, out_scale, scratch); }
