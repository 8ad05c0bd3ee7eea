/*
 * sk_q8_ctx.h - the int8 sub-pixel kernel's context, scratch layout and the
 * parameter vectors its SIMD variants share; included once per variant
 * before its trunk rows (which take a q8_ctx), then sk_q8_driver.h.
 * See sk_q8_driver.h for the layout.
 */
#ifndef SK_Q8_CTX_H
#define SK_Q8_CTX_H

#include <string.h>

#define Q8_PAD 8

typedef struct q8_ctx {
    const sk_subpixel_q8_net *net;
    const uint8_t *src;
    ptrdiff_t src_stride, rwp, plane; /* plane: bytes between 16-channel planes (Q8_PLANES) */
    int rw, rh, r, k, C, Cp, vnni; /* vnni: the variant's dot-product rows allowed (AVX-VNNI, SDOT) */
    size_t rowb, inb, bic_ss;
    float in_scale;
    uint8_t *in_ring, *x_ring[SK_SP_MAX_BLOCKS + 1], *d_row, *pack;
    /* Repacked parameters (SIMD variants; see q8_pack_common). Layer L: 0 head, 1 + 2i block i's
     * depthwise, 2 + 2i its pointwise, 1 + 2 * blocks the tail. */
    uint8_t *pk_head, *pk_dw[SK_SP_MAX_BLOCKS], *pk_pw[SK_SP_MAX_BLOCKS], *pk_tail;
    int32_t *pk_bias[2 * SK_SP_MAX_BLOCKS + 2];
    float *pk_scale[2 * SK_SP_MAX_BLOCKS + 2], *pk_slope[2 * SK_SP_MAX_BLOCKS + 2];
    /* Layer L may requantise to |v| >= 2^30 (q8_wide): its bodies clamp in float before converting. */
    unsigned char wide[2 * SK_SP_MAX_BLOCKS + 2];
    float *t_row, *bic_in, *bic, *base, *orow;
    int next_in, next_x[SK_SP_MAX_BLOCKS + 1], tag[4];
    sk_phase_filter f;
} q8_ctx;

/* Bytes per pixel of a trunk row: C rounded up to 16 or 32, above that to a multiple of 64, so a
 * row is a whole number of 64-byte vectors every 4 / 2 / 1 pixels (the AVX-512 body packs and
 * stores its results 64 bytes at a time). */
static inline int q8_cp(int C) { return C <= 16 ? 16 : C <= 32 ? 32 : (C + 63) & ~63; }

/* Bytes of one k x k layer's repacked taps: 4 bytes per tap and channel (the AVX2 body's 16-bit tap pairs
 * take 2 per tap, rounded up to whole pairs), or
 * two sets of [k][(k + 3) / 4] dwords per channel (vpdpbusd, plain and shifted by a pixel). */
static inline size_t q8_kxk_bytes(size_t cp, int k)
{
    const size_t kk = (size_t)k * k, two = 2 * (size_t)k * (size_t)((k + 3) / 4);
    return cp * 4 * (kk > two ? kk : two);
}

/* Bytes of the repacked parameters every variant may use (the largest format). */
static size_t q8_pack_bytes(const sk_subpixel_q8_net *n)
{
    const size_t cp = (size_t)q8_cp(n->channels);
    const size_t layers = 1 + 2 * (size_t)n->blocks + 1;
    return (1 + (size_t)n->blocks) * q8_kxk_bytes(cp, n->k) /* head + depthwise taps  */
         + (size_t)n->blocks * 2 * cp * cp            /* pointwise                    */
         + 2 * 4 * cp                                 /* tail                         */
         + layers * 3 * (cp + 16) * 4 + 64;           /* bias, scale, slope per layer */
}

static size_t q8_layout(const sk_subpixel_q8_net *n, int rw, q8_ctx *c, uint8_t *s)
{
    const ptrdiff_t rwp = ((ptrdiff_t)rw + FZ_PAD_L + FZ_PAD_R + 15) & ~(ptrdiff_t)15;
    const size_t ss = sk__upscale_slot_stride(2 * rw);
    const int cp = q8_cp(n->channels);
    const size_t rowb = ((size_t)(rw + 2 * Q8_PAD) * cp + 63) & ~(size_t)63;
    const size_t inb = ((size_t)(rw + 2 * Q8_PAD) + 63) & ~(size_t)63;
    size_t at = 0;
#define Q8_TAKE(field, type, bytes)                            \
    do {                                                       \
        if (c) c->field = (type *)(s + at);                    \
        at += ((size_t)(bytes) + 63u) & ~(size_t)63u;          \
    } while (0)
    Q8_TAKE(t_row, float, 4 * (size_t)rwp * 4);
    Q8_TAKE(bic_in, float, (size_t)rwp * 4);
    Q8_TAKE(bic, float, 4 * ss * 4);
    Q8_TAKE(base, float, 2 * (size_t)rwp * 4);
    Q8_TAKE(orow, float, 2 * (size_t)rwp * 4);
    Q8_TAKE(pack, uint8_t, q8_pack_bytes(n));
    Q8_TAKE(in_ring, uint8_t, (size_t)n->k * inb);
    for (int i = 0; i <= n->blocks; i++) Q8_TAKE(x_ring[i], uint8_t, (size_t)n->k * rowb);
    Q8_TAKE(d_row, uint8_t, rowb);
#undef Q8_TAKE
    if (c) {
        c->rwp = rwp;
        c->bic_ss = ss;
        c->rowb = rowb;
        c->inb = inb;
        c->Cp = cp;
        c->plane = (ptrdiff_t)(rw + 2 * Q8_PAD) * 16;
    }
    return at + 64; /* + 64: room to align a scratch that is not */
}

/* Whether a layer's requantised values, act(acc * scale) (+ res * rs for a pointwise), may reach 2^30
 * in magnitude for some input. Below that, a SIMD body may convert to int32 without clamping first:
 * cvtps2dq is exact for |v| < 2^31 and the saturating packs then give clamp(lrintf(v), -128, 127);
 * at or above 2^31 it gives INT_MIN, so such a layer must clamp at 127 in float as the spec reads.
 * The bound is over the worst input: |acc| <= |bias| + amax * sum |w| (amax 255 for the head's u8
 * pixels, 127 for trunk values; never above 2^31, acc being an int32), times |scale|, times a PReLU
 * slope above 1, plus 128 |rs| (a residual byte), with room for the roundings. NaN scales are wide. */
static inline int q8_wide(const int32_t *bias, const int8_t *w, int taps, double amax, const float *scale, sk_act act,
                          float rs, int cout)
{
    for (int o = 0; o < cout; o++) {
        double a = fabs((double)bias[o]);
        for (int t = 0; t < taps; t++) a += amax * fabs((double)w[(size_t)o * taps + t]);
        if (a > 2147483648.0) a = 2147483648.0;
        double g = fabs((double)scale[o]);
        if (act.kind == SK_ACT_PRELU && fabs((double)sk_slope(act, o)) > 1.0) g *= fabs((double)sk_slope(act, o));
        const double b = (a * g + 128.0 * fabs((double)rs)) * 1.001 + 1.0;
        if (!(b < 1073741824.0)) return 1;
    }
    return 0;
}

/* Carves c->pack (q8_pack_bytes) and fills the per-channel vectors every SIMD variant uses: the
 * biases corrected for the u8 + 128 storage of their layer's input (-128 * sum of the weights, in
 * wrapping int32 like the sums themselves; the head reads the real u8 pixel, uncorrected), the
 * scales and the PReLU slopes (0 otherwise), zero-padded to Cp (the tail: to 16). */
static inline void q8_pack_common(q8_ctx *c)
{
    const sk_subpixel_q8_net *n = c->net;
    const int C = c->C, cp = c->Cp, kk = c->k * c->k, nb = n->blocks;
    uint8_t *p = c->pack;
    c->pk_head = p;
    p += q8_kxk_bytes((size_t)cp, c->k);
    for (int i = 0; i < nb; i++) {
        c->pk_dw[i] = p;
        p += q8_kxk_bytes((size_t)cp, c->k);
        c->pk_pw[i] = p;
        p += 2 * (size_t)cp * cp;
    }
    c->pk_tail = p;
    p += 8 * (size_t)cp;
    for (int L = 0; L < 2 * nb + 2; L++) {
        const int32_t *bias;
        const float *scale;
        const int8_t *wt;
        sk_act act;
        int taps, cout = L == 2 * nb + 1 ? 4 : C;
        if (L == 0) bias = n->head_bias, scale = n->head_scale, act = n->head_act, wt = NULL, taps = 0;
        else if (L == 2 * nb + 1) bias = n->tail_bias, scale = n->tail_scale, act = n->tail_act, wt = n->tail_weight, taps = C;
        else if (L & 1) {
            const sk_q8_block *b = &n->block[(L - 1) / 2];
            bias = b->dw_bias, scale = b->dw_scale, act = b->dw_act, wt = b->dw_weight, taps = kk;
        } else {
            const sk_q8_block *b = &n->block[(L - 2) / 2];
            bias = b->pw_bias, scale = b->pw_scale, act = b->pw_act, wt = b->pw_weight, taps = C;
        }
        if (L == 0) c->wide[L] = (unsigned char)q8_wide(bias, n->head_weight, kk, 255.0, scale, act, 0.0f, C);
        else if (L < 2 * nb + 1)
            c->wide[L] = (unsigned char)q8_wide(bias, wt, taps, 127.0, scale, act, L & 1 ? 0.0f : n->block[(L - 2) / 2].res_scale, C);
        int32_t *pb = (int32_t *)p;
        float *ps = (float *)(p + (size_t)(cp + 16) * 4), *pl = ps + cp + 16;
        p += (size_t)(cp + 16) * 12;
        c->pk_bias[L] = pb;
        c->pk_scale[L] = ps;
        c->pk_slope[L] = pl;
        for (int o = 0; o < cp + 16; o++) {
            uint32_t b = 0;
            if (o < cout) {
                b = (uint32_t)bias[o];
                for (int t = 0; t < taps; t++) b -= 128u * (uint32_t)(int32_t)wt[(size_t)o * taps + t];
            }
            pb[o] = (int32_t)b;
            ps[o] = o < cout ? scale[o] : 0.0f;
            pl[o] = o < cout ? sk_slope(act, o) : 0.0f;
        }
    }
}

#endif /* SK_Q8_CTX_H */
