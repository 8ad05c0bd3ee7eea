/*
 * sk_q8_ref.h - reference (portable C) trunk rows of the int8 sub-pixel
 * kernel, written as the spec in slice_kernels_q8.h reads: explicit clamps
 * for the replicate border, int32 sums (wrapping, in uint32), one float
 * multiply to requantise. Included by fused_ref.c after the float fused
 * reference, whose bicubic/output rows the driver reuses.
 */
#include "slice_kernels_q8.h"

#include "sk_q8_ctx.h"

/* sat(v) = clamp(lrintf(v), -127, 127), clamped in float first: the same value for every
 * finite v, and lrintf never sees a value out of its range. */
static inline int q8_sat(float v)
{
    if (v < -127.0f) v = -127.0f;
    if (v > 127.0f) v = 127.0f;
    return (int)lrintf(v);
}

static inline int q8_get(const uint8_t *row, int x, int cp, int ch) { return (int)row[(ptrdiff_t)x * cp + ch] - 128; }

static void qop_pack(q8_ctx *c) { (void)c; }

static void qop_head_row(q8_ctx *c, const uint8_t *const *rows, uint8_t *out)
{
    const sk_subpixel_q8_net *n = c->net;
    const int k = c->k, r = c->r, w = c->rw;
    for (int x = 0; x < w; x++)
        for (int co = 0; co < c->C; co++) {
            uint32_t acc = (uint32_t)n->head_bias[co];
            for (int ky = 0; ky < k; ky++)
                for (int kx = 0; kx < k; kx++)
                    acc += (uint32_t)((int32_t)n->head_weight[(co * k + ky) * k + kx] *
                                      (int32_t)rows[ky][sk_clampi(x + kx - r, 0, w - 1)]);
            float v = (float)(int32_t)acc * n->head_scale[co];
            v = sk_act_scalar(v, n->head_act.kind, sk_slope(n->head_act, co));
            out[(ptrdiff_t)x * c->Cp + co] = (uint8_t)(q8_sat(v) + 128);
        }
}

static void qop_dw_row(q8_ctx *c, int i, const uint8_t *const *rows, uint8_t *out)
{
    const sk_q8_block *b = &c->net->block[i];
    const int k = c->k, r = c->r, w = c->rw, cp = c->Cp;
    for (int x = 0; x < w; x++)
        for (int ch = 0; ch < c->C; ch++) {
            uint32_t acc = (uint32_t)b->dw_bias[ch];
            for (int ky = 0; ky < k; ky++)
                for (int kx = 0; kx < k; kx++)
                    acc += (uint32_t)((int32_t)b->dw_weight[(ch * k + ky) * k + kx] *
                                      q8_get(rows[ky], sk_clampi(x + kx - r, 0, w - 1), cp, ch));
            float v = (float)(int32_t)acc * b->dw_scale[ch];
            v = sk_act_scalar(v, b->dw_act.kind, sk_slope(b->dw_act, ch));
            out[(ptrdiff_t)x * cp + ch] = (uint8_t)(q8_sat(v) + 128);
        }
}

static void qop_pw_row(q8_ctx *c, int i, const uint8_t *d, const uint8_t *res, uint8_t *out)
{
    const sk_q8_block *b = &c->net->block[i];
    const int C = c->C, cp = c->Cp;
    for (int x = 0; x < c->rw; x++)
        for (int co = 0; co < C; co++) {
            uint32_t acc = (uint32_t)b->pw_bias[co];
            for (int ci = 0; ci < C; ci++)
                acc += (uint32_t)((int32_t)b->pw_weight[co * C + ci] * q8_get(d, x, cp, ci));
            float v = (float)(int32_t)acc * b->pw_scale[co];
            v = sk_act_scalar(v, b->pw_act.kind, sk_slope(b->pw_act, co));
            const float rv = (float)q8_get(res, x, cp, co) * b->res_scale;
            v = v + rv;
            out[(ptrdiff_t)x * cp + co] = (uint8_t)(q8_sat(v) + 128);
        }
}

static void qop_tail_row(q8_ctx *c, const uint8_t *row, int x0, int n, float *t, ptrdiff_t plane)
{
    const sk_subpixel_q8_net *net = c->net;
    const int C = c->C;
    for (int x = x0; x < x0 + n; x++)
        for (int j = 0; j < 4; j++) {
            uint32_t acc = (uint32_t)net->tail_bias[j];
            for (int ci = 0; ci < C; ci++)
                acc += (uint32_t)((int32_t)net->tail_weight[j * C + ci] * q8_get(row, x, c->Cp, ci));
            const float v = (float)(int32_t)acc * net->tail_scale[j];
            t[(ptrdiff_t)j * plane + x] = sk_act_scalar(v, net->tail_act.kind, sk_slope(net->tail_act, j));
        }
}

#define Q8_TGT
#define Q8_ENTRY sk_subpixel_q8_ref
#include "sk_q8_driver.h"

static int q8_bad_act(sk_act a)
{
    if (a.kind != SK_ACT_NONE && a.kind != SK_ACT_RELU && a.kind != SK_ACT_PRELU) return 1;
    return a.kind == SK_ACT_PRELU && a.slope == NULL;
}

int sk__check_subpixel_q8(const sk_subpixel_q8_net *n, const uint8_t *src, ptrdiff_t src_stride,
                          int rw, int rh, int cx0, int cx1, int cy0, int cy1, const uint8_t *dst,
                          ptrdiff_t dst_stride, const void *scratch)
{
    if (!n || !src || !dst || !scratch) return SK_EINVAL;
    if (n->channels < 1 || n->channels > SK_SP_MAX_CHANNELS) return SK_EINVAL;
    if (n->blocks < 0 || n->blocks > SK_SP_MAX_BLOCKS || (n->blocks > 0 && !n->block)) return SK_EINVAL;
    if (n->k != 1 && n->k != 3 && n->k != 5 && n->k != 7) return SK_EINVAL;
    if (!n->head_weight || !n->head_bias || !n->head_scale || !n->tail_weight || !n->tail_bias ||
        !n->tail_scale || q8_bad_act(n->head_act) || q8_bad_act(n->tail_act))
        return SK_EINVAL;
    for (int i = 0; i < n->blocks; i++) {
        const sk_q8_block *b = &n->block[i];
        if (!b->dw_weight || !b->dw_bias || !b->dw_scale || !b->pw_weight || !b->pw_bias ||
            !b->pw_scale || q8_bad_act(b->dw_act) || q8_bad_act(b->pw_act))
            return SK_EINVAL;
    }
    if (rw < 1 || rh < 1 || src_stride < rw) return SK_EINVAL;
    if (cx0 < 0 || cx1 > rw || cx0 >= cx1 || cy0 < 0 || cy1 > rh || cy0 >= cy1) return SK_EINVAL;
    if (dst_stride < 2 * (ptrdiff_t)(cx1 - cx0)) return SK_EINVAL;
    return SK_OK;
}

size_t sk_subpixel_q8_scratch_bytes(const sk_subpixel_q8_net *net, int region_w)
{
    if (!net || region_w < 1 || net->blocks < 0 || net->blocks > SK_SP_MAX_BLOCKS ||
        net->channels < 1 || net->channels > SK_SP_MAX_CHANNELS || net->k < 1 || net->k > SK_MAX_K)
        return 0;
    return q8_layout(net, region_w, NULL, NULL);
}
