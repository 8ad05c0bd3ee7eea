/*
 * sk_q8_driver.h - the row scheduler of the int8 sub-pixel kernel
 * (slice_kernels_q8.h), included once per variant after the float fused
 * kernel's row operations (its bicubic base and output rows are reused as they
 * are: fzop_u8row, fzop_hpass, fzop_vpass, fzop_d2s_row, fzop_f32row).
 *
 * The including file defines Q8_TGT (function attribute), Q8_ENTRY (public
 * name) and the trunk row operations:
 *   qop_pack      repacks weights/biases into c->pack (variant's own format)
 *   qop_head_row  one row of x_0 from k padded u8 input rows
 *   qop_dw_row    one row of block i's depthwise output d
 *   qop_pw_row    one row of x_{i+1} from d and the residual row x_i
 *   qop_tail_row  t for pixels [x0, x0+n) of a row of x_B, 4 float planes
 *
 * Layout: a trunk row holds Cp bytes per pixel (q8_cp: C rounded up to 16,
 * 32 or a multiple of 64; channels >= C hold unspecified bytes and meet zero
 * weights), value q stored as u8 q + 128: pixel-major (ref, AVX2), or with
 * Q8_PLANES 1 (AVX-512) as Cp / 16 planes of 16 channels per pixel, each
 * c->plane bytes after the last (so every 16-channel group is a row of its
 * own, whose windows one vpermb makes). Rows carry Q8_PAD pixels of
 * margin each side, copies of the edge pixel: the replicate border, so SIMD
 * windows read past the edge with plain loads. Layer i keeps k rows in a
 * ring (row y in slot y % k), produced on demand in increasing order as in
 * sk_fused_driver.h; the values do not depend on this schedule.
 */
#ifndef Q8_TGT
#error "define Q8_TGT, Q8_ENTRY and the qop_* row operations first"
#endif
#ifndef SK_Q8_CTX_H
#error "include sk_q8_ctx.h first"
#endif

Q8_TGT SK_INLINE uint8_t *q8_in_row(q8_ctx *c, int y)
{
    return c->in_ring + (size_t)(y % c->k) * c->inb + Q8_PAD;
}
#ifndef Q8_PLANES
#define Q8_PLANES 0
#endif
/* Bytes per pixel within one plane, and planes per row. */
#define Q8_PXB(c) (Q8_PLANES ? 16 : (c)->Cp)
#define Q8_NPL(c) (Q8_PLANES ? (c)->Cp / 16 : 1)

Q8_TGT SK_INLINE uint8_t *q8_x_row(q8_ctx *c, int i, int y)
{
    return c->x_ring[i] + (size_t)(y % c->k) * c->rowb + (size_t)Q8_PAD * Q8_PXB(c);
}

/* Replicates a row's edge pixels into its margins (bytes: same for every variant). */
Q8_TGT static void q8_pad(uint8_t *row, int w, int cp)
{
    for (int i = 1; i <= Q8_PAD; i++) {
        memcpy(row - (ptrdiff_t)i * cp, row, (size_t)cp);
        memcpy(row + (ptrdiff_t)(w - 1 + i) * cp, row + (ptrdiff_t)(w - 1) * cp, (size_t)cp);
    }
}
Q8_TGT static void q8_pad_x(q8_ctx *c, uint8_t *row)
{
    for (int g = 0; g < Q8_NPL(c); g++) q8_pad(row + (ptrdiff_t)g * c->plane, c->rw, Q8_PXB(c));
}

Q8_TGT static void q8_ensure_in(q8_ctx *c, int y)
{
    while (c->next_in <= y) {
        const int yy = c->next_in++;
        uint8_t *row = q8_in_row(c, yy);
        memcpy(row, c->src + (ptrdiff_t)yy * c->src_stride, (size_t)c->rw);
        q8_pad(row, c->rw, 1);
    }
}

/* Makes rows up to y of layer i (x_0 = head output, x_i = block i-1 output) available. */
Q8_TGT static void q8_ensure_x(q8_ctx *c, int i, int y)
{
    while (c->next_x[i] <= y) {
        const int yy = c->next_x[i]++;
        const int last = sk_mini(yy + c->r, c->rh - 1);
        const uint8_t *rows[SK_MAX_K];
        if (i == 0) {
            q8_ensure_in(c, last);
            for (int ky = 0; ky < c->k; ky++) rows[ky] = q8_in_row(c, sk_clampi(yy + ky - c->r, 0, c->rh - 1));
            qop_head_row(c, rows, q8_x_row(c, 0, yy));
        } else {
            q8_ensure_x(c, i - 1, last);
            for (int ky = 0; ky < c->k; ky++) rows[ky] = q8_x_row(c, i - 1, sk_clampi(yy + ky - c->r, 0, c->rh - 1));
            qop_dw_row(c, i - 1, rows, c->d_row);
            qop_pw_row(c, i - 1, c->d_row, q8_x_row(c, i - 1, yy), q8_x_row(c, i, yy));
        }
        q8_pad_x(c, q8_x_row(c, i, yy));
    }
}

/* Horizontal bicubic rows cached by input row (slot iy % 4), as the float kernel does. */
Q8_TGT static const float *q8_hrow(q8_ctx *c, int iy)
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

/* vnni: the variant's VEX vpdpbusd rows may be used (Q8_ENTRY_VNNI's entry; the caller checked the CPU). */
Q8_TGT static int q8_run(const sk_subpixel_q8_net *net, const uint8_t *src, ptrdiff_t src_stride, int rw,
                         int rh, float in_scale, int cx0, int cx1, int cy0, int cy1, uint8_t *dst,
                         ptrdiff_t dst_stride, float out_scale, void *scratch, int vnni)
{
    int e = sk__check_subpixel_q8(net, src, src_stride, rw, rh, cx0, cx1, cy0, cy1, dst, dst_stride,
                                  scratch);
    if (e) return e;
    q8_ctx c;
    c.vnni = vnni;
    c.net = net;
    c.src = src;
    c.src_stride = src_stride;
    c.rw = rw;
    c.rh = rh;
    c.k = net->k;
    c.r = net->k / 2;
    c.C = net->channels;
    c.in_scale = in_scale;
    uint8_t *s = (uint8_t *)(((uintptr_t)scratch + 63) & ~(uintptr_t)63);
    q8_layout(net, rw, &c, s);
    qop_pack(&c);
    /* Start each layer at the first row the centre depends on. */
    const int nb = net->blocks;
    c.next_in = sk_maxi(0, cy0 - (nb + 1) * c.r);
    for (int i = 0; i <= nb; i++) c.next_x[i] = sk_maxi(0, cy0 - (nb - i) * c.r);
    for (int t = 0; t < 4; t++) c.tag[t] = -1;
    sk__bicubic_weights(net->bicubic_a, &c.f);
    static const int off[2] = { -2, -1 };
    const int n = cx1 - cx0;
    for (int y = cy0; y < cy1; y++) {
        q8_ensure_x(&c, nb, y);
        qop_tail_row(&c, q8_x_row(&c, nb, y), cx0, n, c.t_row, c.rwp);
        for (int dy = 0; dy < 2; dy++) {
            const float *h[4];
            for (int t = 0; t < 4; t++)
                h[t] = q8_hrow(&c, sk_clampi(y + off[dy] + t, 0, rh - 1)) + 2 * cx0;
            fzop_vpass(h, c.f.c[dy], c.base, 2 * n);
            fzop_d2s_row(c.t_row + (ptrdiff_t)(dy * 2) * c.rwp + cx0,
                         c.t_row + (ptrdiff_t)(dy * 2 + 1) * c.rwp + cx0, c.base, c.orow, n);
            fzop_f32row(c.orow, dst + (ptrdiff_t)(2 * (y - cy0) + dy) * dst_stride, 2 * n, out_scale);
        }
    }
    return SK_OK;
}

Q8_TGT int Q8_ENTRY(const sk_subpixel_q8_net *net, const uint8_t *src, ptrdiff_t src_stride, int rw, int rh,
                    float in_scale, int cx0, int cx1, int cy0, int cy1, uint8_t *dst, ptrdiff_t dst_stride,
                    float out_scale, void *scratch)
{
    return q8_run(net, src, src_stride, rw, rh, in_scale, cx0, cx1, cy0, cy1, dst, dst_stride, out_scale, scratch, 0);
}

#ifdef Q8_ENTRY_VNNI
Q8_TGT int Q8_ENTRY_VNNI(const sk_subpixel_q8_net *net, const uint8_t *src, ptrdiff_t src_stride, int rw, int rh,
                         float in_scale, int cx0, int cx1, int cy0, int cy1, uint8_t *dst, ptrdiff_t dst_stride,
                         float out_scale, void *scratch)
{
    return q8_run(net, src, src_stride, rw, rh, in_scale, cx0, cx1, cy0, cy1, dst, dst_stride, out_scale, scratch, 1);
}
#endif
