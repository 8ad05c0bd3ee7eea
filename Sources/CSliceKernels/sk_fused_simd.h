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

/* FZ_ROUND_UP (set by an ISA file): the dw and pw row operations compute a
 * row's last partial vector in full, i.e. up to the next multiple of VL
 * (< 16 more columns), instead of storing it masked. Legal because every
 * row they write (d_row, ring rows, t_row) has >= 32 columns of margin, the
 * extra columns are computed from margin copies (replicated edge values) or
 * from the extra columns of the previous op, and every reader either ignores
 * them or overwrites them (fzop_pad). Columns [0, w) are unchanged. */
#ifndef FZ_ROUND_UP
#define FZ_ROUND_UP 0
#endif

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
                if (w - x0 >= VL || FZ_ROUND_UP) vstore(o + x0, vact(acc[0], act.kind, sl));  \
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

/* Two consecutive output rows of every channel from the k + 1 input rows
 * rows[0..k] (row y uses rows[0..k-1], row y + 1 rows[1..k]). FZ_DW_PAIR
 * (set by an ISA file, k = 3): both rows in one pass, each input vector
 * loaded once for the two rows it feeds (12 loads per 18 FMAs instead of 18
 * per 18: the single-row kernel is load bound on 2x128-bit load ports).
 * Per value the same sequence as dw_compute: bias, then fma over ky, kx in
 * order, activation. */
#ifdef FZ_DW_PAIR
SK_TGT SK_INLINE void fz_dw_pair3(const float *const *s, const V *wv, V b, const int NV, V *a0,
                                  V *a1)
{
    for (int v = 0; v < NV; v++) a0[v] = a1[v] = b;
#ifdef FZ_DW_SHIFT
    /* The same values from aligned loads: the kx = 0 and kx = 2 vectors are the
     * centre ones shifted by a lane (FZ_DW_SHIFT's vshl1/vshr1), NV + 2 loads a row
     * instead of 3 NV. An AVX-512 vector load off its alignment splits a cache line
     * (every kx != 1 load), so the shifts measured 6 % faster on the fused sr2x. */
    for (int rr = 0; rr < 4; rr++) {
        V al[FZ_DW_PAIR + 2];
        for (int v = 0; v < NV + 2; v++) al[v] = vload(s[rr] + 1 + (v - 1) * VL);
        for (int kx = 0; kx < 3; kx++)
            for (int v = 0; v < NV; v++) {
                const V x = kx == 1 ? al[v + 1]
                          : kx == 0 ? vshl1(al[v + 1], al[v]) : vshr1(al[v + 2], al[v + 1]);
                if (rr < 3) a0[v] = vfma(wv[rr * 3 + kx], x, a0[v]);
                if (rr > 0) a1[v] = vfma(wv[(rr - 1) * 3 + kx], x, a1[v]);
            }
    }
#else
    for (int rr = 0; rr < 4; rr++)
        for (int kx = 0; kx < 3; kx++)
            for (int v = 0; v < NV; v++) {
                const V x = vload(s[rr] + v * VL + kx);
                if (rr < 3) a0[v] = vfma(wv[rr * 3 + kx], x, a0[v]);
                if (rr > 0) a1[v] = vfma(wv[(rr - 1) * 3 + kx], x, a1[v]);
            }
#endif
}

static SK_TGT SK_NOINLINE void fz_dw_pair_k3(const float *const *rows, ptrdiff_t in_plane, int c,
                                             int w, const float *weight, const float *bias,
                                             sk_act act, float *out0, float *out1,
                                             ptrdiff_t out_plane)
{
    V wv[9];
    const float *rc[4];
    const int nv = (w + VL - 1) / VL; /* full vectors: FZ_ROUND_UP */
    for (int ch = 0; ch < c; ch++) {
        for (int i = 0; i < 9; i++) wv[i] = vset1(weight[(ptrdiff_t)ch * 9 + i]);
        const V b = vset1(bias ? bias[ch] : 0.0f);
        const V sl = vset1(sk_slope(act, ch));
        float *o0 = out0 + (ptrdiff_t)ch * out_plane, *o1 = out1 + (ptrdiff_t)ch * out_plane;
        int v0 = 0;
        for (; v0 < nv; v0 += FZ_DW_PAIR) {
            const int NV = nv - v0 >= FZ_DW_PAIR ? FZ_DW_PAIR : 1;
            V a0[FZ_DW_PAIR], a1[FZ_DW_PAIR];
            for (int rr = 0; rr < 4; rr++) rc[rr] = rows[rr] + (ptrdiff_t)ch * in_plane + v0 * VL - 1;
            if (NV == FZ_DW_PAIR) fz_dw_pair3(rc, wv, b, FZ_DW_PAIR, a0, a1);
            else fz_dw_pair3(rc, wv, b, 1, a0, a1);
            for (int v = 0; v < NV; v++) {
                vstore(o0 + (v0 + v) * VL, vact(a0[v], act.kind, sl));
                vstore(o1 + (v0 + v) * VL, vact(a1[v], act.kind, sl));
            }
            if (NV == 1) v0 += 1 - FZ_DW_PAIR;
        }
    }
}
#endif

SK_TGT SK_INLINE void fzop_dw_row2(const float *const *rows, ptrdiff_t in_plane, int c, int w,
                                   const float *weight, const float *bias, int k, sk_act act,
                                   float *out0, float *out1, ptrdiff_t out_plane)
{
#ifdef FZ_DW_PAIR
    if (k == 3) {
        fz_dw_pair_k3(rows, in_plane, c, w, weight, bias, act, out0, out1, out_plane);
        return;
    }
#endif
    fzop_dw_row(rows, in_plane, c, w, weight, bias, k, act, out0, out_plane);
    fzop_dw_row(rows + 1, in_plane, c, w, weight, bias, k, act, out1, out_plane);
}

#ifdef FZ_PW_CB
/* Fused pointwise, ISAs that ask for it (AVX2: FZ_PW_CB 4, AVX-512: 8; FZ_PW_NV 3):
 * FZ_PW_CB output channels x NV vectors per tile, the block's weights packed
 * ci-major (wp[ci * CB + c]) so one pointer walks them. With 16 vector
 * registers, 4 x 3 needs 12 accumulators + 3 inputs + 1 weight, and clang
 * spills and shuffles accumulators in the generic loop (a store/reload on an
 * FMA chain every ci), packed weights or not; so the ISA file may supply the
 * 3-vector inner loop written out (FZ_PW_KERNEL_3), the 2- and 1-vector
 * tails stay in C. Full vectors only (FZ_ROUND_UP). Per value the same
 * operations as pw_tile: bias, fma over ci in order, activation, + residual. */
#if !FZ_ROUND_UP || FZ_PW_NV > 3
#error "FZ_PW_CB needs FZ_ROUND_UP and FZ_PW_NV <= 3"
#endif
SK_TGT SK_INLINE void fz_pw_tile(const float *ip, ptrdiff_t ipl, int cin, const float *wp,
                                 const float *bias, const int NV, int kind, const float *slope,
                                 float *op, ptrdiff_t opl, const float *rp, ptrdiff_t rpl)
{
    enum { CB = FZ_PW_CB };
    V acc[CB][FZ_PW_NV];
    for (int c = 0; c < CB; c++) {
        const V b = vset1(bias ? bias[c] : 0.0f);
        for (int v = 0; v < NV; v++) acc[c][v] = b;
    }
#ifdef FZ_PW_KERNEL_3
    if (NV == 3) {
        FZ_PW_KERNEL_3(acc, ip, ipl, wp, cin);
    } else
#endif
    {
        const float *src = ip;
        for (int ci = 0; ci < cin; ci++, src += ipl, wp += CB) {
            V xv[FZ_PW_NV];
            for (int v = 0; v < NV; v++) xv[v] = vload(src + v * VL);
            for (int c = 0; c < CB; c++) {
                const V wv = vset1(wp[c]);
                for (int v = 0; v < NV; v++) acc[c][v] = vfma(wv, xv[v], acc[c][v]);
            }
        }
    }
    /* Unrolled, so the accumulators go from registers to the activation instead
     * of through a stack copy (measured 5 % on the AVX-512 fused kernels). */
#pragma GCC unroll 8
    for (int c = 0; c < CB; c++) {
        const V sl = vset1(slope ? slope[c] : 0.0f);
        float *dst = op + (ptrdiff_t)c * opl;
        const float *rr = rp ? rp + (ptrdiff_t)c * rpl : NULL;
        for (int v = 0; v < NV; v++) {
            V a = vact(acc[c][v], kind, sl);
            if (rr) a = vadd(a, vload(rr + v * VL));
            vstore(dst + v * VL, a);
        }
    }
}

static SK_TGT SK_NOINLINE void fz_pw_rows(const float *in, ptrdiff_t in_plane, int cin,
                                          const float *weight, const float *bias, sk_act act,
                                          const float *res, ptrdiff_t res_plane, float *out,
                                          ptrdiff_t out_plane, int cout, int len)
{
    enum { CB = FZ_PW_CB };
    float wp[SK_SP_MAX_CHANNELS * CB];
    const int nv = (len + VL - 1) / VL;
    for (int co = 0; co < cout; co += CB) {
        for (int ci = 0; ci < cin; ci++)
            for (int c = 0; c < CB; c++) wp[ci * CB + c] = weight[(ptrdiff_t)(co + c) * cin + ci];
        const float *b = bias ? bias + co : NULL;
        const float *slope = act.kind == SK_ACT_PRELU ? act.slope + co : NULL;
        float *o = out + (ptrdiff_t)co * out_plane;
        const float *r = res ? res + (ptrdiff_t)co * res_plane : NULL;
        int v = 0;
        for (; v + FZ_PW_NV <= nv; v += FZ_PW_NV)
            fz_pw_tile(in + v * VL, in_plane, cin, wp, b, FZ_PW_NV, act.kind, slope, o + v * VL,
                       out_plane, r ? r + v * VL : NULL, res_plane);
        if (FZ_PW_NV == 3 && nv - v == 2)
            fz_pw_tile(in + v * VL, in_plane, cin, wp, b, 2, act.kind, slope, o + v * VL,
                       out_plane, r ? r + v * VL : NULL, res_plane);
        else if (nv - v == 1)
            fz_pw_tile(in + v * VL, in_plane, cin, wp, b, 1, act.kind, slope, o + v * VL,
                       out_plane, r ? r + v * VL : NULL, res_plane);
    }
}
#endif

SK_TGT SK_INLINE void fzop_pw_row(const float *in, ptrdiff_t in_plane, int cin,
                                  const float *weight, const float *bias, sk_act act,
                                  const float *res, ptrdiff_t res_plane, float *out,
                                  ptrdiff_t out_plane, int cout, int len)
{
#ifdef FZ_PW_CB
    if (cout % FZ_PW_CB == 0 && cin <= SK_SP_MAX_CHANNELS) {
        fz_pw_rows(in, in_plane, cin, weight, bias, act, res, res_plane, out, out_plane, cout, len);
        return;
    }
#endif
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
