/*
 * sk_fused_simd.h - SIMD row operations of the fused kernels, included by the
 * ISA files right after sk_simd_template.h. Each row operation runs the very
 * code of the layer kernel it stands for (dw_row_x, conv_row_x, pw_segment,
 * up_hpass, up_vpass, the conversion rows), pointed at ring rows in scratch
 * instead of whole planes, so every value comes out bit for bit the same.
 * Both fused kernels (sub-pixel and slicing encoder) are built from these.
 */
#ifndef SK_TGT
#error "include from an ISA file, after sk_simd_template.h"
#endif

#include "slice_kernels_fused.h"

SK_TGT SK_INLINE void fzop_u8row(const uint8_t *s, float *d, int w, float scale)
{
    cvt_u8_row(s, d, w, scale);
}

SK_TGT SK_INLINE void fzop_f32row(const float *s, uint8_t *d, int w, float scale)
{
    cvt_f32_row(s, d, w, scale);
}

/* Input rows carry replicated margins (sk_fused_driver.h), so every block
 * takes the interior path of conv_block; only the last one is stored masked. */
SK_TGT SK_INLINE void fzop_conv_row(const float *base, const ptrdiff_t *roff, int cin,
                                    ptrdiff_t in_plane, int w, const float *weight,
                                    const float *bias, int k, sk_act act, float *out,
                                    ptrdiff_t out_plane, int cout)
{
    const sk_tensor in = { (float *)base, cin, 1, w, 0, in_plane };
    const sk_tensor o = { out, cout, 1, w, 0, out_plane };
    int x0 = 0;
    for (; x0 + CV_NV * VL <= w; x0 += CV_NV * VL)
        conv_block(&in, &o, weight, bias, k, roff, 0, act, 0, x0, CV_NV, 0, CV_NV * VL);
    for (; x0 < w; x0 += VL)
        conv_block(&in, &o, weight, bias, k, roff, 0, act, 0, x0, 1, 0, sk_mini(VL, w - x0));
}

SK_TGT SK_INLINE void fzop_pad(float *row, int w, int channels, ptrdiff_t plane)
{
    for (int ch = 0; ch < channels; ch++) {
        float *p = row + (ptrdiff_t)ch * plane;
        const V l = vset1(p[0]), r = vset1(p[w - 1]);
        for (int i = VL; i <= 16; i += VL) vstore(p - i, l);
        for (int i = 0; i < 32; i += VL) vstore(p + w + i, r);
    }
}

/* One row of every channel from margin-padded rows: plain vector blocks, the
 * very arithmetic of dw_row_x's interior path, the last block stored masked. */
#define FZ_DW_INST(KK)                                                                        \
    static SK_TGT SK_NOINLINE void fz_dw_k##KK(const float *const *rows, ptrdiff_t in_plane,  \
                                               int c, int w, const float *weight,             \
                                               const float *bias, sk_act act, float *out,     \
                                               ptrdiff_t out_plane)                           \
    {                                                                                         \
        V wv[KK * KK];                                                                        \
        const float *rc[KK];                                                                  \
        for (int ch = 0; ch < c; ch++) {                                                      \
            for (int i = 0; i < KK * KK; i++) wv[i] = vset1(weight[(ptrdiff_t)ch * KK * KK + i]); \
            const V b = vset1(bias ? bias[ch] : 0.0f);                                        \
            const V sl = vset1(sk_slope(act, ch));                                            \
            float *o = out + (ptrdiff_t)ch * out_plane;                                       \
            int x0 = 0;                                                                       \
            for (; x0 + DW_NV * VL <= w; x0 += DW_NV * VL) {                                  \
                V acc[DW_NV];                                                                 \
                for (int ky = 0; ky < KK; ky++) rc[ky] = rows[ky] + (ptrdiff_t)ch * in_plane + x0 - KK / 2; \
                dw_compute(rc, KK, wv, b, DW_NV, acc);                                        \
                for (int v = 0; v < DW_NV; v++) vstore(o + x0 + v * VL, vact(acc[v], act.kind, sl)); \
            }                                                                                 \
            for (; x0 < w; x0 += VL) {                                                        \
                V acc[1];                                                                     \
                for (int ky = 0; ky < KK; ky++) rc[ky] = rows[ky] + (ptrdiff_t)ch * in_plane + x0 - KK / 2; \
                dw_compute(rc, KK, wv, b, 1, acc);                                            \
                if (w - x0 >= VL) vstore(o + x0, vact(acc[0], act.kind, sl));                 \
                else vstoren(o + x0, vact(acc[0], act.kind, sl), w - x0);                     \
            }                                                                                 \
        }                                                                                     \
    }
FZ_DW_INST(1)
FZ_DW_INST(3)
FZ_DW_INST(5)
FZ_DW_INST(7)

SK_TGT SK_INLINE void fzop_dw_row(const float *const *rows, ptrdiff_t in_plane, int c, int w,
                                  const float *weight, const float *bias, int k, sk_act act,
                                  float *out, ptrdiff_t out_plane)
{
    switch (k) {
    case 1: fz_dw_k1(rows, in_plane, c, w, weight, bias, act, out, out_plane); break;
    case 3: fz_dw_k3(rows, in_plane, c, w, weight, bias, act, out, out_plane); break;
    case 5: fz_dw_k5(rows, in_plane, c, w, weight, bias, act, out, out_plane); break;
    default: fz_dw_k7(rows, in_plane, c, w, weight, bias, act, out, out_plane); break;
    }
}

SK_TGT SK_INLINE void fzop_pw_row(const float *in, ptrdiff_t in_plane, int cin,
                                  const float *weight, const float *bias, sk_act act,
                                  const float *res, ptrdiff_t res_plane, float *out,
                                  ptrdiff_t out_plane, int cout, int len)
{
    const sk_tensor ti = { (float *)in, cin, 1, len, 0, in_plane };
    const sk_tensor to = { out, cout, 1, len, 0, out_plane };
    const sk_tensor tr = { (float *)res, cout, 1, len, 0, res_plane };
    pw_segment(&ti, &to, weight, bias, act, res ? &tr : NULL, in, out, res, len);
}

SK_TGT SK_INLINE void fzop_hpass(const float *row, int w, float *hrow, const sk_phase_filter *f)
{
    static const int off[2] = { -2, -1 };
    up_hpass(row, w, hrow, 4, off, (const float (*)[4])f->c);
}

SK_TGT SK_INLINE void fzop_vpass(const float *const *h, const float *c4, float *dst, int w)
{
    up_vpass(h, 4, c4, dst, w);
}

SK_TGT SK_INLINE void fzop_d2s_row(const float *t0, const float *t1, const float *base,
                                   float *out, int n)
{
    int x = 0;
    for (; x + VL <= n; x += VL) {
        V lo, hi;
        vinterleave(vload(t0 + x), vload(t1 + x), &lo, &hi);
        vstore(out + 2 * x, vadd(vload(base + 2 * x), lo));
        vstore(out + 2 * x + VL, vadd(vload(base + 2 * x + VL), hi));
    }
    for (; x < n; x++) {
        out[2 * x] = base[2 * x] + t0[x];
        out[2 * x + 1] = base[2 * x + 1] + t1[x];
    }
}

/* The two u8 rows converted by cvt_u8_row (sk_u8_to_f32's row kernel) into
 * tmp, then split into the 4 planes: plain copies, as sk_space_to_depth2x. */
SK_TGT SK_INLINE void fzop_s2d_row(const uint8_t *r0, const uint8_t *r1, int w, float scale,
                                   float *tmp, float *out, ptrdiff_t plane)
{
    for (int dy = 0; dy < 2; dy++) {
        cvt_u8_row(dy ? r1 : r0, tmp, 2 * w, scale);
        float *o0 = out + (ptrdiff_t)(2 * dy) * plane, *o1 = o0 + plane;
        int x = 0;
        for (; x + VL <= w; x += VL) {
            V ev, od;
            vdeinterleave(vload(tmp + 2 * x), vload(tmp + 2 * x + VL), &ev, &od);
            vstore(o0 + x, ev);
            vstore(o1 + x, od);
        }
        for (; x < w; x++) {
            o0[x] = tmp[2 * x];
            o1[x] = tmp[2 * x + 1];
        }
    }
}

/* sk_area_down2x's row arithmetic: ((a + b) + (c + d)) * 0.25. */
SK_TGT SK_INLINE void fzop_area_row(const float *r0, const float *r1, float *dst, int n)
{
    const V q = vset1(0.25f);
    int x = 0;
    for (; x + VL <= n; x += VL) {
        V a, b, cc, d;
        vdeinterleave(vload(r0 + 2 * x), vload(r0 + 2 * x + VL), &a, &b);
        vdeinterleave(vload(r1 + 2 * x), vload(r1 + 2 * x + VL), &cc, &d);
        vstore(dst + x, vmul(vadd(vadd(a, b), vadd(cc, d)), q));
    }
    for (; x < n; x++)
        dst[x] = ((r0[2 * x] + r0[2 * x + 1]) + (r1[2 * x] + r1[2 * x + 1])) * 0.25f;
}

#define FZ_TGT SK_TGT
#define FZ_ENTRY SK_SFX(sk_subpixel_fused)
#include "sk_fused_driver.h"
#define FZE_ENTRY SK_SFX(sk_slice_encoder_fused)
#include "sk_fused_encoder_driver.h"
