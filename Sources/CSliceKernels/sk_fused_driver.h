/*
 * sk_fused_driver.h - the row scheduler of the fused sub-pixel kernel,
 * included once per variant (fused_ref.c, and the SIMD template).
 *
 * The including file defines FZ_TGT (function attribute), FZ_ENTRY (public
 * name) and these row operations, each computing whole rows exactly as the
 * corresponding layer kernel computes them:
 *   fzop_u8row    u8 -> float row (sk_u8_to_f32)
 *   fzop_f32row   float -> u8 row (sk_f32_to_u8)
 *   fzop_conv_row one output row of sk_conv, replicate border (row offsets
 *                 already clamped)
 *   fzop_dw_row   one output row of sk_dwconv, all channels
 *   fzop_dw_row2  two consecutive output rows of sk_dwconv, all channels
 *   fzop_pw_row   len pixels of sk_pwconv (all output channels, residual)
 *   fzop_hpass    horizontal bicubic pass of one input row (sk_bicubic2x)
 *   fzop_vpass    vertical bicubic pass of one output row
 *   fzop_d2s_row  one output row of sk_depth_to_space2x with base
 *   fzop_pad      fills a ring row's margins with its edge values
 *
 * Ring rows carry FZ_PAD_L columns on the left and FZ_PAD_R on the right,
 * filled with copies of the row's first and last value: exactly the
 * replicate-border rule, so SIMD row operations can read past the edges with
 * plain vector loads instead of building edge vectors one value at a time.
 *
 * The input keeps its rows in a ring of k slots (row y in slot y % k), every
 * layer output x_i in a ring of k + 2 slots. Rows are produced on demand in
 * increasing order; producing row y of layer i needs rows y-r .. y+r
 * (clamped to the region) of layer i-1. Block rows are produced in pairs
 * (y, y+1: fzop_dw_row2 reads the k + 1 rows y-r .. y+1+r at once), and a
 * pair may run one row ahead of what its consumer asked for, so a consumer
 * pair needs k + 1 rows while the producer holds at most one more: k + 2
 * slots, and a slot is only overwritten once no consumer needs it. The
 * values do not depend on this schedule.
 */
#ifndef FZ_TGT
#error "define FZ_TGT, FZ_ENTRY and the fzop_* row operations first"
#endif

#define FZ_PAD_L 16
#define FZ_PAD_R 32

typedef struct fz_ctx {
    const sk_subpixel_net *net;
    const uint8_t *src;
    ptrdiff_t src_stride, rwp;
    int rw, rh, r, k, C;
    float in_scale;
    float *in_ring, *x_ring[SK_SP_MAX_BLOCKS + 1], *d_row, *t_row, *bic_in, *bic, *base, *orow;
    size_t bic_ss;
    int next_in, next_x[SK_SP_MAX_BLOCKS + 1], tag[4];
    sk_phase_filter f;
} fz_ctx;

FZ_TGT SK_INLINE float *fz_in_row(fz_ctx *c, int y)
{
    return c->in_ring + (ptrdiff_t)(y % c->k) * c->rwp + FZ_PAD_L;
}
FZ_TGT SK_INLINE float *fz_x_row(fz_ctx *c, int i, int y)
{
    return c->x_ring[i] + (ptrdiff_t)(y % (c->k + 2)) * c->C * c->rwp + FZ_PAD_L;
}

FZ_TGT static void fz_ensure_in(fz_ctx *c, int y)
{
    while (c->next_in <= y) {
        const int yy = c->next_in++;
        float *row = fz_in_row(c, yy);
        fzop_u8row(c->src + (ptrdiff_t)yy * c->src_stride, row, c->rw, c->in_scale);
        fzop_pad(row, c->rw, 1, c->rwp);
    }
}

/* Makes rows up to y of layer i (x_0 = head output, x_i = block i-1 output) available. */
FZ_TGT static void fz_ensure_x(fz_ctx *c, int i, int y)
{
    const sk_subpixel_net *n = c->net;
    while (c->next_x[i] <= y) {
        const int yy = c->next_x[i]++;
        const int last = sk_mini(yy + c->r, c->rh - 1);
        if (i == 0) {
            ptrdiff_t roff[SK_MAX_K];
            fz_ensure_in(c, last);
            for (int ky = 0; ky < c->k; ky++)
                roff[ky] = fz_in_row(c, sk_clampi(yy + ky - c->r, 0, c->rh - 1)) - c->in_ring;
            fzop_conv_row(c->in_ring, roff, 1, c->rwp, c->rw, n->head_weight, n->head_bias, c->k,
                          n->head_act, fz_x_row(c, 0, yy), c->rwp, c->C);
            fzop_pad(fz_x_row(c, 0, yy), c->rw, c->C, c->rwp);
        } else {
            /* Block rows come in pairs (yy, yy + 1) while the region has them. */
            const sk_sp_block *b = &n->block[i - 1];
            const int pair = yy + 1 < c->rh;
            const float *rows[SK_MAX_K + 1];
            const ptrdiff_t dpl = (ptrdiff_t)c->C * c->rwp;
            fz_ensure_x(c, i - 1, sk_mini(yy + pair + c->r, c->rh - 1));
            for (int ky = 0; ky < c->k + pair; ky++)
                rows[ky] = fz_x_row(c, i - 1, sk_clampi(yy + ky - c->r, 0, c->rh - 1));
            if (pair) {
                c->next_x[i]++;
                fzop_dw_row2(rows, c->rwp, c->C, c->rw, b->dw_weight, b->dw_bias, c->k, b->dw_act,
                             c->d_row, c->d_row + dpl, c->rwp);
            } else {
                fzop_dw_row(rows, c->rwp, c->C, c->rw, b->dw_weight, b->dw_bias, c->k, b->dw_act,
                            c->d_row, c->rwp);
            }
            for (int p = 0; p <= pair; p++) {
                fzop_pw_row(c->d_row + p * dpl, c->rwp, c->C, b->pw_weight, b->pw_bias, b->pw_act,
                            fz_x_row(c, i - 1, yy + p), c->rwp, fz_x_row(c, i, yy + p), c->rwp,
                            c->C, c->rw);
                fzop_pad(fz_x_row(c, i, yy + p), c->rw, c->C, c->rwp);
            }
        }
    }
}

/* Horizontal bicubic rows cached by input row (slot iy % 4), as sk_bicubic2x does. */
FZ_TGT static const float *fz_hrow(fz_ctx *c, int iy)
{
    const int sl = iy % 4;
    float *hr = c->bic + (size_t)sl * c->bic_ss;
    if (c->tag[sl] != iy) {
        fzop_u8row(c->src + (ptrdiff_t)iy * c->src_stride, c->bic_in, c->rw, c->in_scale);
        fzop_hpass(c->bic_in, c->rw, hr, &c->f);
        c->tag[sl] = iy;
    }
    return hr;
}

static size_t fz_layout(const sk_subpixel_net *n, int rw, fz_ctx *c, float *s)
{
    const ptrdiff_t rwp = ((ptrdiff_t)rw + FZ_PAD_L + FZ_PAD_R + 15) & ~(ptrdiff_t)15;
    const size_t ss = sk__upscale_slot_stride(2 * rw);
    size_t at = 0;
#define FZ_TAKE(field, count)                                  \
    do {                                                       \
        if (c) c->field = s + at;                              \
        at += ((size_t)(count) + 15u) & ~(size_t)15u;          \
    } while (0)
    FZ_TAKE(in_ring, (size_t)n->k * rwp);
    for (int i = 0; i <= n->blocks; i++) FZ_TAKE(x_ring[i], (size_t)(n->k + 2) * n->channels * rwp);
    FZ_TAKE(d_row, 2 * (size_t)n->channels * rwp);
    FZ_TAKE(t_row, 4 * (size_t)rwp);
    FZ_TAKE(bic_in, (size_t)rwp);
    FZ_TAKE(bic, 4 * ss);
    FZ_TAKE(base, 2 * (size_t)rwp);
    FZ_TAKE(orow, 2 * (size_t)rwp);
#undef FZ_TAKE
    if (c) {
        c->rwp = rwp;
        c->bic_ss = ss;
    }
    return at;
}

FZ_TGT int FZ_ENTRY(const sk_subpixel_net *net, const uint8_t *src, ptrdiff_t src_stride, int rw,
                    int rh, float in_scale, int cx0, int cx1, int cy0, int cy1, uint8_t *dst,
                    ptrdiff_t dst_stride, float out_scale, float *scratch)
{
    int e = sk__check_subpixel_fused(net, src, src_stride, rw, rh, cx0, cx1, cy0, cy1, dst,
                                     dst_stride, scratch);
    if (e) return e;
    fz_ctx c;
    c.net = net;
    c.src = src;
    c.src_stride = src_stride;
    c.rw = rw;
    c.rh = rh;
    c.k = net->k;
    c.r = net->k / 2;
    c.C = net->channels;
    c.in_scale = in_scale;
    fz_layout(net, rw, &c, scratch);
    /* Start each layer at the first row the centre depends on. */
    const int nb = net->blocks;
    c.next_in = sk_maxi(0, cy0 - (nb + 1) * c.r);
    for (int i = 0; i <= nb; i++) c.next_x[i] = sk_maxi(0, cy0 - (nb - i) * c.r);
    for (int t = 0; t < 4; t++) c.tag[t] = -1;
    sk__bicubic_weights(net->bicubic_a, &c.f);
    static const int off[2] = { -2, -1 };
    const int n = cx1 - cx0;
    for (int y = cy0; y < cy1; y++) {
        fz_ensure_x(&c, nb, y);
        fzop_pw_row(fz_x_row(&c, nb, y) + cx0, c.rwp, c.C, net->tail_weight, net->tail_bias,
                    net->tail_act, NULL, 0, c.t_row + cx0, c.rwp, 4, n);
        for (int dy = 0; dy < 2; dy++) {
            const float *h[4];
            for (int t = 0; t < 4; t++)
                h[t] = fz_hrow(&c, sk_clampi(y + off[dy] + t, 0, rh - 1)) + 2 * cx0;
            fzop_vpass(h, c.f.c[dy], c.base, 2 * n);
            fzop_d2s_row(c.t_row + (ptrdiff_t)(dy * 2) * c.rwp + cx0,
                         c.t_row + (ptrdiff_t)(dy * 2 + 1) * c.rwp + cx0, c.base, c.orow, n);
            fzop_f32row(c.orow, dst + (ptrdiff_t)(2 * (y - cy0) + dy) * dst_stride, 2 * n, out_scale);
        }
    }
    return SK_OK;
}
