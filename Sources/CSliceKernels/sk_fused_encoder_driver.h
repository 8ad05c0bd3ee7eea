/*
 * sk_fused_encoder_driver.h - the row scheduler of the fused slicing encoder,
 * included once per variant right after sk_fused_driver.h (fused_ref.c, and
 * sk_fused_simd.h), in the same translation unit, so both fused kernels run
 * on the very same row operations and ring layout (FZ_PAD_L/FZ_PAD_R margins
 * filled with the edge values = the replicate border).
 *
 * Besides the sub-pixel driver's fzop_u8row, fzop_f32row, fzop_dw_row,
 * fzop_pw_row and fzop_pad, the including file defines
 *   fzop_s2d_row   one row of all 4 planes of sk_space_to_depth2x, straight
 *                  from the two u8 input rows (sk_u8_to_f32 fused in; tmp
 *                  holds 2w floats)
 *   fzop_area_row  n values of one sk_area_down2x row from two float rows
 *
 * Layer 0 (S) is the sliced input, layer 1 the head (dw on S, pw 4 -> C),
 * layers 2.. the residual blocks; each keeps k + 2 rows in a ring (row y in
 * slot y % (k + 2)), produced on demand in increasing order, layers 1.. in
 * row pairs (fzop_dw_row2), as in sk_fused_driver.h.
 * The area base and the tail are computed for the centre's columns only.
 */
#ifndef FZE_ENTRY
#error "define FZ_TGT, FZE_ENTRY and the fzop_* row operations first"
#endif

typedef struct fze_ctx {
    const sk_slice_encoder_net *net;
    const uint8_t *src;
    ptrdiff_t src_stride, rwp;
    int rw, rh, r, k, C;
    float in_scale;
    float *s_ring, *x_ring[SK_SE_MAX_BLOCKS + 1], *d_row, *cvt, *base, *orow;
    int next_s, next_x[SK_SE_MAX_BLOCKS + 1];
} fze_ctx;

FZ_TGT SK_INLINE float *fze_s_row(fze_ctx *c, int y)
{
    return c->s_ring + (ptrdiff_t)(y % (c->k + 2)) * 4 * c->rwp + FZ_PAD_L;
}
FZ_TGT SK_INLINE float *fze_x_row(fze_ctx *c, int i, int y)
{
    return c->x_ring[i] + (ptrdiff_t)(y % (c->k + 2)) * c->C * c->rwp + FZ_PAD_L;
}

FZ_TGT static void fze_ensure_s(fze_ctx *c, int y)
{
    while (c->next_s <= y) {
        const int yy = c->next_s++;
        float *row = fze_s_row(c, yy);
        const uint8_t *r0 = c->src + (ptrdiff_t)(2 * yy) * c->src_stride;
        fzop_s2d_row(r0, r0 + c->src_stride, c->rw, c->in_scale, c->cvt, row, c->rwp);
        fzop_pad(row, c->rw, 4, c->rwp);
    }
}

/* Makes rows up to y of layer i (x_0 = head output, x_i = block i-1 output) available. */
FZ_TGT static void fze_ensure_x(fze_ctx *c, int i, int y)
{
    const sk_slice_encoder_net *n = c->net;
    while (c->next_x[i] <= y) {
        /* Rows come in pairs (yy, yy + 1) while the region has them. */
        const int yy = c->next_x[i]++;
        const int pair = yy + 1 < c->rh;
        const int last = sk_mini(yy + pair + c->r, c->rh - 1);
        const float *rows[SK_MAX_K + 1];
        const sk_sp_block *b = i == 0 ? &n->head : &n->block[i - 1];
        const int cin = i == 0 ? 4 : c->C;
        const ptrdiff_t dpl = (ptrdiff_t)sk_maxi(4, c->C) * c->rwp;
        if (i == 0) {
            fze_ensure_s(c, last);
            for (int ky = 0; ky < c->k + pair; ky++)
                rows[ky] = fze_s_row(c, sk_clampi(yy + ky - c->r, 0, c->rh - 1));
        } else {
            fze_ensure_x(c, i - 1, last);
            for (int ky = 0; ky < c->k + pair; ky++)
                rows[ky] = fze_x_row(c, i - 1, sk_clampi(yy + ky - c->r, 0, c->rh - 1));
        }
        if (pair) {
            c->next_x[i]++;
            fzop_dw_row2(rows, c->rwp, cin, c->rw, b->dw_weight, b->dw_bias, c->k, b->dw_act,
                         c->d_row, c->d_row + dpl, c->rwp);
        } else {
            fzop_dw_row(rows, c->rwp, cin, c->rw, b->dw_weight, b->dw_bias, c->k, b->dw_act,
                        c->d_row, c->rwp);
        }
        for (int p = 0; p <= pair; p++) {
            fzop_pw_row(c->d_row + p * dpl, c->rwp, cin, b->pw_weight, b->pw_bias, b->pw_act,
                        i == 0 ? NULL : fze_x_row(c, i - 1, yy + p), c->rwp,
                        fze_x_row(c, i, yy + p), c->rwp, c->C, c->rw);
            fzop_pad(fze_x_row(c, i, yy + p), c->rw, c->C, c->rwp);
        }
    }
}

static size_t fze_layout(const sk_slice_encoder_net *n, int rw, fze_ctx *c, float *s)
{
    const ptrdiff_t rwp = ((ptrdiff_t)rw + FZ_PAD_L + FZ_PAD_R + 15) & ~(ptrdiff_t)15;
    const size_t cw = ((size_t)2 * rw + 15u) & ~(size_t)15u;
    size_t at = 0;
#define FZE_TAKE(field, count)                                 \
    do {                                                       \
        if (c) c->field = s + at;                              \
        at += ((size_t)(count) + 15u) & ~(size_t)15u;          \
    } while (0)
    FZE_TAKE(s_ring, (size_t)(n->k + 2) * 4 * rwp);
    for (int i = 0; i <= n->blocks; i++)
        FZE_TAKE(x_ring[i], (size_t)(n->k + 2) * n->channels * rwp);
    FZE_TAKE(d_row, 2 * (size_t)sk_maxi(4, n->channels) * rwp);
    FZE_TAKE(cvt, 2 * cw);
    FZE_TAKE(base, (size_t)rwp);
    FZE_TAKE(orow, (size_t)rwp);
#undef FZE_TAKE
    if (c) c->rwp = rwp;
    return at;
}

FZ_TGT int FZE_ENTRY(const sk_slice_encoder_net *net, const uint8_t *src, ptrdiff_t src_stride,
                     int rw, int rh, float in_scale, int cx0, int cx1, int cy0, int cy1,
                     uint8_t *dst, ptrdiff_t dst_stride, float out_scale, float *scratch)
{
    int e = sk__check_slice_encoder_fused(net, src, src_stride, rw, rh, cx0, cx1, cy0, cy1, dst,
                                          dst_stride, scratch);
    if (e) return e;
    fze_ctx c;
    c.net = net;
    c.src = src;
    c.src_stride = src_stride;
    c.rw = rw;
    c.rh = rh;
    c.k = net->k;
    c.r = net->k / 2;
    c.C = net->channels;
    c.in_scale = in_scale;
    fze_layout(net, rw, &c, scratch);
    /* Start each layer at the first row the centre depends on. */
    const int nb = net->blocks;
    c.next_s = sk_maxi(0, cy0 - (nb + 1) * c.r);
    for (int i = 0; i <= nb; i++) c.next_x[i] = sk_maxi(0, cy0 - (nb - i) * c.r);
    const int n = cx1 - cx0;
    const size_t cw = ((size_t)2 * rw + 15u) & ~(size_t)15u;
    for (int y = cy0; y < cy1; y++) {
        fze_ensure_x(&c, nb, y);
        /* The area base of the centre's columns, from the input rows 2y and 2y+1. */
        const uint8_t *r0 = src + (ptrdiff_t)(2 * y) * src_stride + 2 * cx0;
        fzop_u8row(r0, c.cvt, 2 * n, in_scale);
        fzop_u8row(r0 + src_stride, c.cvt + cw, 2 * n, in_scale);
        fzop_area_row(c.cvt, c.cvt + cw, c.base, n);
        fzop_pw_row(fze_x_row(&c, nb, y) + cx0, c.rwp, c.C, net->tail_weight, net->tail_bias,
                    net->tail_act, c.base, c.rwp, c.orow, c.rwp, 1, n);
        fzop_f32row(c.orow, dst + (ptrdiff_t)(y - cy0) * dst_stride, n, out_scale);
    }
    return SK_OK;
}
