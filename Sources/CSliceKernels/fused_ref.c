/*
 * fused_ref.c - reference (portable C) fused kernels (sub-pixel upsampler and
 * slicing encoder), their argument checks and scratch sizes. The row
 * operations are scalar and follow ref.c's reduction orders value for value;
 * the row schedules are sk_fused_driver.h and sk_fused_encoder_driver.h,
 * shared with the SIMD variants.
 */
#include "sk_internal.h"
#include "slice_kernels_fused.h"

#if defined(__clang__) || !defined(__GNUC__)
#pragma STDC FP_CONTRACT OFF
#endif

static void fzop_u8row(const uint8_t *s, float *d, int w, float scale)
{
    for (int x = 0; x < w; x++) d[x] = (float)s[x] * scale;
}

static void fzop_f32row(const float *s, uint8_t *d, int w, float scale)
{
    for (int x = 0; x < w; x++) {
        float v = s[x] * scale;
        if (!(v > 0.0f)) v = 0.0f; /* also maps NaN to 0 */
        if (v > 255.0f) v = 255.0f;
        d[x] = (uint8_t)lrintf(v);
    }
}

static void fzop_conv_row(const float *base, const ptrdiff_t *roff, int cin, ptrdiff_t in_plane,
                          int w, const float *weight, const float *bias, int k, sk_act act,
                          float *out, ptrdiff_t out_plane, int cout)
{
    const int r = k / 2;
    for (int co = 0; co < cout; co++) {
        const float b = bias ? bias[co] : 0.0f, s = sk_slope(act, co);
        float *o = out + (ptrdiff_t)co * out_plane;
        for (int x = 0; x < w; x++) {
            float acc = b;
            for (int ci = 0; ci < cin; ci++) {
                const float *wk = weight + ((ptrdiff_t)co * cin + ci) * k * k;
                for (int ky = 0; ky < k; ky++) {
                    const float *row = base + (ptrdiff_t)ci * in_plane + roff[ky];
                    for (int kx = 0; kx < k; kx++)
                        acc = fmaf(wk[ky * k + kx], row[sk_clampi(x + kx - r, 0, w - 1)], acc);
                }
            }
            o[x] = sk_act_scalar(acc, act.kind, s);
        }
    }
}

static void fzop_dw_row(const float *const *rows, ptrdiff_t in_plane, int c, int w,
                        const float *weight, const float *bias, int k, sk_act act, float *out,
                        ptrdiff_t out_plane)
{
    const int r = k / 2;
    for (int ch = 0; ch < c; ch++) {
        const float *wc = weight + (ptrdiff_t)ch * k * k;
        const float b = bias ? bias[ch] : 0.0f, s = sk_slope(act, ch);
        float *o = out + (ptrdiff_t)ch * out_plane;
        for (int x = 0; x < w; x++) {
            float acc = b;
            for (int ky = 0; ky < k; ky++) {
                const float *row = rows[ky] + (ptrdiff_t)ch * in_plane;
                for (int kx = 0; kx < k; kx++)
                    acc = fmaf(wc[ky * k + kx], row[sk_clampi(x + kx - r, 0, w - 1)], acc);
            }
            o[x] = sk_act_scalar(acc, act.kind, s);
        }
    }
}

/* Rows y and y + 1 from rows[0..k] (the SIMD variants may compute both in one pass). */
static void fzop_dw_row2(const float *const *rows, ptrdiff_t in_plane, int c, int w,
                         const float *weight, const float *bias, int k, sk_act act, float *out0,
                         float *out1, ptrdiff_t out_plane)
{
    fzop_dw_row(rows, in_plane, c, w, weight, bias, k, act, out0, out_plane);
    fzop_dw_row(rows + 1, in_plane, c, w, weight, bias, k, act, out1, out_plane);
}

static void fzop_pw_row(const float *in, ptrdiff_t in_plane, int cin, const float *weight,
                        const float *bias, sk_act act, const float *res, ptrdiff_t res_plane,
                        float *out, ptrdiff_t out_plane, int cout, int len)
{
    for (int co = 0; co < cout; co++) {
        const float *wr = weight + (ptrdiff_t)co * cin;
        const float b = bias ? bias[co] : 0.0f, s = sk_slope(act, co);
        float *o = out + (ptrdiff_t)co * out_plane;
        const float *rr = res ? res + (ptrdiff_t)co * res_plane : NULL;
        for (int x = 0; x < len; x++) {
            float acc = b;
            for (int ci = 0; ci < cin; ci++) acc = fmaf(wr[ci], in[(ptrdiff_t)ci * in_plane + x], acc);
            acc = sk_act_scalar(acc, act.kind, s);
            if (rr) acc = acc + rr[x];
            o[x] = acc;
        }
    }
}

static void fzop_hpass(const float *row, int w, float *hrow, const sk_phase_filter *f)
{
    static const int off[2] = { -2, -1 };
    for (int ox = 0; ox < 2 * w; ox++) {
        const int j = ox >> 1, ph = ox & 1;
        float acc = f->c[ph][0] * row[sk_clampi(j + off[ph], 0, w - 1)];
        for (int t = 1; t < 4; t++)
            acc = fmaf(f->c[ph][t], row[sk_clampi(j + off[ph] + t, 0, w - 1)], acc);
        hrow[ox] = acc;
    }
}

static void fzop_vpass(const float *const *h, const float *c4, float *dst, int w)
{
    for (int x = 0; x < w; x++) {
        float acc = c4[0] * h[0][x];
        for (int t = 1; t < 4; t++) acc = fmaf(c4[t], h[t][x], acc);
        dst[x] = acc;
    }
}

static void fzop_d2s_row(const float *t0, const float *t1, const float *base, float *out, int n)
{
    for (int x = 0; x < n; x++) {
        out[2 * x] = base[2 * x] + t0[x];
        out[2 * x + 1] = base[2 * x + 1] + t1[x];
    }
}

/* Margins as the driver defines them (FZ_PAD_L left, FZ_PAD_R right); the
 * reference rows never read them, but the layout is shared. */
static void fzop_pad(float *row, int w, int channels, ptrdiff_t plane)
{
    for (int ch = 0; ch < channels; ch++) {
        float *p = row + (ptrdiff_t)ch * plane;
        for (int i = 1; i <= 16; i++) p[-i] = p[0];
        for (int i = 0; i < 32; i++) p[w + i] = p[w - 1];
    }
}

/* sk_space_to_depth2x of the u8 rows 2y, 2y+1 converted as sk_u8_to_f32 does. */
static void fzop_s2d_row(const uint8_t *r0, const uint8_t *r1, int w, float scale, float *tmp,
                         float *out, ptrdiff_t plane)
{
    (void)tmp;
    for (int dy = 0; dy < 2; dy++)
        for (int dx = 0; dx < 2; dx++) {
            const uint8_t *s = dy ? r1 : r0;
            float *o = out + (ptrdiff_t)(dy * 2 + dx) * plane;
            for (int x = 0; x < w; x++) o[x] = (float)s[2 * x + dx] * scale;
        }
}

static void fzop_area_row(const float *r0, const float *r1, float *dst, int n)
{
    for (int x = 0; x < n; x++)
        dst[x] = ((r0[2 * x] + r0[2 * x + 1]) + (r1[2 * x] + r1[2 * x + 1])) * 0.25f;
}

#define FZ_TGT
#define FZ_ENTRY sk_subpixel_fused_ref
#include "sk_fused_driver.h"
#define FZE_ENTRY sk_slice_encoder_fused_ref
#include "sk_fused_encoder_driver.h"

static int bad_act(sk_act a)
{
    if (a.kind != SK_ACT_NONE && a.kind != SK_ACT_RELU && a.kind != SK_ACT_PRELU) return 1;
    return a.kind == SK_ACT_PRELU && a.slope == NULL;
}

int sk__check_subpixel_fused(const sk_subpixel_net *n, const uint8_t *src, ptrdiff_t src_stride,
                             int rw, int rh, int cx0, int cx1, int cy0, int cy1,
                             const uint8_t *dst, ptrdiff_t dst_stride, const float *scratch)
{
    if (!n || !src || !dst || !scratch) return SK_EINVAL;
    if (n->channels < 1 || n->channels > SK_SP_MAX_CHANNELS) return SK_EINVAL;
    if (n->blocks < 0 || n->blocks > SK_SP_MAX_BLOCKS || (n->blocks > 0 && !n->block)) return SK_EINVAL;
    if (n->k != 1 && n->k != 3 && n->k != 5 && n->k != 7) return SK_EINVAL;
    if (!n->head_weight || !n->tail_weight || bad_act(n->head_act) || bad_act(n->tail_act))
        return SK_EINVAL;
    for (int i = 0; i < n->blocks; i++) {
        const sk_sp_block *b = &n->block[i];
        if (!b->dw_weight || !b->pw_weight || bad_act(b->dw_act) || bad_act(b->pw_act))
            return SK_EINVAL;
    }
    if (rw < 1 || rh < 1 || src_stride < rw) return SK_EINVAL;
    if (cx0 < 0 || cx1 > rw || cx0 >= cx1 || cy0 < 0 || cy1 > rh || cy0 >= cy1) return SK_EINVAL;
    if (dst_stride < 2 * (ptrdiff_t)(cx1 - cx0)) return SK_EINVAL;
    return SK_OK;
}

int sk__check_slice_encoder_fused(const sk_slice_encoder_net *n, const uint8_t *src,
                                  ptrdiff_t src_stride, int rw, int rh, int cx0, int cx1, int cy0,
                                  int cy1, const uint8_t *dst, ptrdiff_t dst_stride,
                                  const float *scratch)
{
    if (!n || !src || !dst || !scratch) return SK_EINVAL;
    if (n->channels < 1 || n->channels > SK_SE_MAX_CHANNELS) return SK_EINVAL;
    if (n->blocks < 0 || n->blocks > SK_SE_MAX_BLOCKS || (n->blocks > 0 && !n->block)) return SK_EINVAL;
    if (n->k != 1 && n->k != 3 && n->k != 5 && n->k != 7) return SK_EINVAL;
    if (!n->tail_weight || bad_act(n->tail_act)) return SK_EINVAL;
    for (int i = -1; i < n->blocks; i++) {
        const sk_sp_block *b = i < 0 ? &n->head : &n->block[i];
        if (!b->dw_weight || !b->pw_weight || bad_act(b->dw_act) || bad_act(b->pw_act))
            return SK_EINVAL;
    }
    if (rw < 1 || rh < 1 || src_stride < 2 * (ptrdiff_t)rw) return SK_EINVAL;
    if (cx0 < 0 || cx1 > rw || cx0 >= cx1 || cy0 < 0 || cy1 > rh || cy0 >= cy1) return SK_EINVAL;
    if (dst_stride < (ptrdiff_t)(cx1 - cx0)) return SK_EINVAL;
    return SK_OK;
}

size_t sk_slice_encoder_fused_scratch_floats(const sk_slice_encoder_net *net, int region_w)
{
    if (!net || region_w < 1 || net->blocks < 0 || net->blocks > SK_SE_MAX_BLOCKS ||
        net->channels < 1 || net->channels > SK_SE_MAX_CHANNELS || net->k < 1 || net->k > SK_MAX_K)
        return 0;
    return fze_layout(net, region_w, NULL, NULL);
}

size_t sk_subpixel_fused_scratch_floats(const sk_subpixel_net *net, int region_w)
{
    if (!net || region_w < 1 || net->blocks < 0 || net->blocks > SK_SP_MAX_BLOCKS ||
        net->channels < 1 || net->k < 1)
        return 0;
    return fz_layout(net, region_w, NULL, NULL);
}

/* The int8 twin's reference trunk, in this file so its driver reuses the bicubic/output rows above. */
#include "sk_q8_ref.h"
