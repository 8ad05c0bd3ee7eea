/*
 * sk_q8_neon.h - AArch64 NEON trunk rows of the int8 sub-pixel kernel
 * (slice_kernels_q8.h), included by arm_neon.c after sk_fused_simd.h (whose
 * bicubic/output rows the driver reuses).
 *
 * Pixel-major rows like the reference (16 channels per vector). NEON has no
 * u8 x s8 product, so every load turns the u8 q + 128 storage back into s8 q
 * (one EOR 0x80) and the layers add their own biases, not q8_pack_common's
 * -128 * sum(w) corrected ones. Products are exact: the baseline body widens
 * (SMULL/SMLAL s8 -> s16, at most two products per s16 lane: weights and
 * activations lie in [-127, 127] (sat never makes -128), |a*b + c*d| <= 2 *
 * 127 * 128 < 2^15 even if one side were -128; SADDW/SADALP/SMLAL into s32).
 * sk_subpixel_q8_neondot (ARMv8.2 dot product, call only if
 * sk_q8_dotprod_supported()) runs the pointwise and tail rows in SDOT
 * (4 s8 products into each s32 lane, exact); head and depthwise are shared.
 * int32 sums wrap like the reference's (vector adds are modular); the float
 * requantisation is the reference's operations lane by lane: SCVTF, one
 * multiply, vact, [+ (float)x * rs as a separate multiply and add], clamp to
 * [-127, 127] in float, FCVTNS (round half to even, as lrintf by default).
 */
#ifndef SK_TGT
#error "include from arm_neon.c"
#endif

#include "sk_q8_ctx.h"

/* The dotprod functions only; the file still builds for baseline armv8-a. (GCC wants the arch=
 * form: its "+dotprod" alone does not let arm_neon.h's SDOT intrinsics inline.) */
#define Q8N_DOT_TGT __attribute__((target("arch=armv8.2-a+dotprod")))

/* s8 q of 16 channels stored as u8 q + 128. */
SK_INLINE int8x16_t q8n_ld(const uint8_t *p) { return vreinterpretq_s8_u8(veorq_u8(vld1q_u8(p), vdupq_n_u8(0x80))); }

/* One quarter of q8n_out16: act(rq(acc)) [+ (float)res * rs], clamped and rounded to int32. */
SK_INLINE int32x4_t q8n_req(int32x4_t acc, const float *scale, const float *slope, int kind, const int32x4_t *res, V rs)
{
    V v = vact(vmulq_f32(vcvtq_f32_s32(acc), vld1q_f32(scale)), kind, vld1q_f32(slope));
    if (res) v = vaddq_f32(v, vmulq_f32(vcvtq_f32_s32(*res), rs));
    v = vminq_f32(vmaxq_f32(v, vdupq_n_f32(-127.0f)), vdupq_n_f32(127.0f));
    return vcvtnq_s32_f32(v);
}

/* 16 channels of a trunk row (bytes q + 128) from their int32 sums; res (or NULL) the residual
 * row's 16 stored bytes at the same channels. */
SK_INLINE void q8n_out16(uint8_t *dst, const int32x4_t acc[4], const float *scale, const float *slope, int kind,
                         const uint8_t *res, float res_scale)
{
    int32x4_t r[4], q[4];
    const V rs = vdupq_n_f32(res_scale);
    if (res) {
        const int8x16_t x = q8n_ld(res);
        const int16x8_t lo = vmovl_s8(vget_low_s8(x)), hi = vmovl_high_s8(x);
        r[0] = vmovl_s16(vget_low_s16(lo));
        r[1] = vmovl_high_s16(lo);
        r[2] = vmovl_s16(vget_low_s16(hi));
        r[3] = vmovl_high_s16(hi);
    }
    for (int i = 0; i < 4; i++) q[i] = q8n_req(acc[i], scale + 4 * i, slope + 4 * i, kind, res ? &r[i] : NULL, rs);
    const int16x8_t lo = vcombine_s16(vmovn_s32(q[0]), vmovn_s32(q[1]));
    const int16x8_t hi = vcombine_s16(vmovn_s32(q[2]), vmovn_s32(q[3]));
    const int8x16_t s = vcombine_s8(vmovn_s16(lo), vmovn_s16(hi));
    vst1q_u8(dst, veorq_u8(vreinterpretq_u8_s8(s), vdupq_n_u8(0x80)));
}

/* The layers' own biases (the trunk is read as s8 q, so no -128 * sum(w) correction), zero-padded. */
static void q8n_raw_bias(q8_ctx *c)
{
    const sk_subpixel_q8_net *n = c->net;
    const int nb = n->blocks;
    for (int L = 0; L < 2 * nb + 2; L++) {
        const int32_t *b = L == 0 ? n->head_bias : L == 2 * nb + 1 ? n->tail_bias
                         : (L & 1) ? n->block[(L - 1) / 2].dw_bias : n->block[(L - 2) / 2].pw_bias;
        const int cout = L == 2 * nb + 1 ? 4 : c->C;
        for (int o = 0; o < c->Cp + 16; o++) c->pk_bias[L][o] = o < cout ? b[o] : 0;
    }
}

/* Head taps as s16 [g16][tap][16]; depthwise taps as s8 [g16][tap][16] (both zero past C). */
static void q8n_pack_taps16(uint8_t *dst, const int8_t *w, int C, int cp, int kk)
{
    int16_t *d = (int16_t *)(void *)dst;
    for (int g = 0; g < cp / 16; g++)
        for (int t = 0; t < kk; t++)
            for (int l = 0; l < 16; l++, d++) *d = 16 * g + l < C ? w[(16 * g + l) * kk + t] : 0;
}
static void q8n_pack_taps8(uint8_t *dst, const int8_t *w, int C, int cp, int kk)
{
    int8_t *d = (int8_t *)dst;
    for (int g = 0; g < cp / 16; g++)
        for (int t = 0; t < kk; t++)
            for (int l = 0; l < 16; l++, d++) *d = 16 * g + l < C ? w[(16 * g + l) * kk + t] : 0;
}

static void qop_pack(q8_ctx *c)
{
    const sk_subpixel_q8_net *n = c->net;
    const int C = c->C, cp = c->Cp, kk = c->k * c->k;
    q8_pack_common(c);
    q8n_raw_bias(c);
    q8n_pack_taps16(c->pk_head, n->head_weight, C, cp, kk);
    for (int i = 0; i < n->blocks; i++) {
        const int8_t *w = n->block[i].pw_weight;
        q8n_pack_taps8(c->pk_dw[i], n->block[i].dw_weight, C, cp, kk);
        if (c->vnni) {
            /* SDOT: [g4][cc][j] 16 bytes, byte 4l + t = w[4 g4 + l][16 cc + 4 j + t]. */
            int8_t *d = (int8_t *)c->pk_pw[i];
            for (int g = 0; g < cp / 4; g++)
                for (int ci0 = 0; ci0 < cp; ci0 += 4, d += 16)
                    for (int l = 0; l < 4; l++)
                        for (int t = 0; t < 4; t++) {
                            const int co = 4 * g + l, ci = ci0 + t;
                            d[4 * l + t] = co < C && ci < C ? w[co * C + ci] : 0;
                        }
            continue;
        }
        /* SMLAL by element: [g8][ci] s16x8, lane l = w[8 g8 + l][ci]. */
        int16_t *d = (int16_t *)(void *)c->pk_pw[i];
        for (int g = 0; g < cp / 8; g++)
            for (int ci = 0; ci < cp; ci++)
                for (int l = 0; l < 8; l++, d++) *d = 8 * g + l < C && ci < C ? w[(8 * g + l) * C + ci] : 0;
    }
    int8_t *d = (int8_t *)c->pk_tail;
    for (int j = 0; j < 4; j++)
        for (int ci = 0; ci < cp; ci++) d[j * cp + ci] = ci < C ? n->tail_weight[j * C + ci] : 0;
}

/* Head: u8 pixels (0..255) times s16 taps, SMLAL by scalar into 16 channels. */
static void qop_head_row(q8_ctx *c, const uint8_t *const *rows, uint8_t *out)
{
    const int k = c->k, r = c->r, kk = k * k, cp = c->Cp, w = c->rw, kind = c->net->head_act.kind;
    for (int g = 0; g < cp / 16; g++) {
        const int16_t *wg = (const int16_t *)(const void *)c->pk_head + (size_t)g * kk * 16;
        const int32_t *b = c->pk_bias[0] + 16 * g;
        for (int x = 0; x < w; x++) {
            int32x4_t acc[4] = { vld1q_s32(b), vld1q_s32(b + 4), vld1q_s32(b + 8), vld1q_s32(b + 12) };
            for (int ky = 0; ky < k; ky++)
                for (int kx = 0; kx < k; kx++) {
                    const int16_t p = rows[ky][x + kx - r];
                    const int16x8_t w0 = vld1q_s16(wg + (ky * k + kx) * 16), w1 = vld1q_s16(wg + (ky * k + kx) * 16 + 8);
                    acc[0] = vmlal_n_s16(acc[0], vget_low_s16(w0), p);
                    acc[1] = vmlal_high_n_s16(acc[1], w0, p);
                    acc[2] = vmlal_n_s16(acc[2], vget_low_s16(w1), p);
                    acc[3] = vmlal_high_n_s16(acc[3], w1, p);
                }
            q8n_out16(out + (ptrdiff_t)x * cp + 16 * g, acc, c->pk_scale[0] + 16 * g, c->pk_slope[0] + 16 * g, kind,
                      NULL, 0.0f);
        }
    }
}

/* Depthwise: 16 channels per vector, taps in pairs summed in s16 (exact, see the top), then
 * widened into the int32 sums. */
static void qop_dw_row(q8_ctx *c, int i, const uint8_t *const *rows, uint8_t *out)
{
    const int k = c->k, r = c->r, kk = k * k, cp = c->Cp, w = c->rw, L = 1 + 2 * i;
    const int kind = c->net->block[i].dw_act.kind;
    const uint8_t *tp[SK_MAX_K * SK_MAX_K];
    for (int g = 0; g < cp / 16; g++) {
        const int8_t *wg = (const int8_t *)c->pk_dw[i] + (size_t)g * kk * 16;
        const int32_t *b = c->pk_bias[L] + 16 * g;
        for (int ky = 0; ky < k; ky++)
            for (int kx = 0; kx < k; kx++) tp[ky * k + kx] = rows[ky] + (ptrdiff_t)(kx - r) * cp + 16 * g;
        for (int x = 0; x < w; x++) {
            const ptrdiff_t o = (ptrdiff_t)x * cp;
            int32x4_t acc[4] = { vld1q_s32(b), vld1q_s32(b + 4), vld1q_s32(b + 8), vld1q_s32(b + 12) };
            int t = 0;
            for (; t < kk; t += 2) {
                const int8x16_t a0 = q8n_ld(tp[t] + o), w0 = vld1q_s8(wg + t * 16);
                int16x8_t pl = vmull_s8(vget_low_s8(a0), vget_low_s8(w0)), ph = vmull_high_s8(a0, w0);
                if (t + 1 < kk) {
                    const int8x16_t a1 = q8n_ld(tp[t + 1] + o), w1 = vld1q_s8(wg + (t + 1) * 16);
                    pl = vmlal_s8(pl, vget_low_s8(a1), vget_low_s8(w1));
                    ph = vmlal_high_s8(ph, a1, w1);
                }
                acc[0] = vaddw_s16(acc[0], vget_low_s16(pl));
                acc[1] = vaddw_high_s16(acc[1], pl);
                acc[2] = vaddw_s16(acc[2], vget_low_s16(ph));
                acc[3] = vaddw_high_s16(acc[3], ph);
            }
            q8n_out16(out + o + 16 * g, acc, c->pk_scale[L] + 16 * g, c->pk_slope[L] + 16 * g, kind, NULL, 0.0f);
        }
    }
}

/* One input channel (lane l of the widened input vector a) into 16 output channels. */
#define Q8N_PW_LANE(a, l, ci)                                                        \
    do {                                                                             \
        const int16x8_t w0 = vld1q_s16(w0p + (ci) * 8), w1 = vld1q_s16(w1p + (ci) * 8); \
        acc[0] = vmlal_laneq_s16(acc[0], vget_low_s16(w0), a, l);                    \
        acc[1] = vmlal_high_laneq_s16(acc[1], w0, a, l);                             \
        acc[2] = vmlal_laneq_s16(acc[2], vget_low_s16(w1), a, l);                    \
        acc[3] = vmlal_high_laneq_s16(acc[3], w1, a, l);                             \
    } while (0)
#define Q8N_PW_8(a, ci0)                                                                                      \
    do {                                                                                                      \
        Q8N_PW_LANE(a, 0, (ci0) + 0); Q8N_PW_LANE(a, 1, (ci0) + 1); Q8N_PW_LANE(a, 2, (ci0) + 2);             \
        Q8N_PW_LANE(a, 3, (ci0) + 3); Q8N_PW_LANE(a, 4, (ci0) + 4); Q8N_PW_LANE(a, 5, (ci0) + 5);             \
        Q8N_PW_LANE(a, 6, (ci0) + 6); Q8N_PW_LANE(a, 7, (ci0) + 7);                                           \
    } while (0)

static Q8N_DOT_TGT SK_NOINLINE void q8n_pw_dot(q8_ctx *c, int i, const uint8_t *d, const uint8_t *res, uint8_t *out);

/* Pointwise: 16 output channels at a time, each input channel one SMLAL by element per 4 outputs. */
static void qop_pw_row(q8_ctx *c, int i, const uint8_t *d, const uint8_t *res, uint8_t *out)
{
    if (c->vnni) {
        q8n_pw_dot(c, i, d, res, out);
        return;
    }
    const int cp = c->Cp, L = 2 + 2 * i, w = c->rw;
    const sk_q8_block *bl = &c->net->block[i];
    const int16_t *W = (const int16_t *)(const void *)c->pk_pw[i];
    for (int x = 0; x < w; x++) {
        const ptrdiff_t o = (ptrdiff_t)x * cp;
        for (int g = 0; g < cp / 16; g++) {
            const int32_t *b = c->pk_bias[L] + 16 * g;
            const int16_t *w0p = W + (size_t)(2 * g) * cp * 8, *w1p = W + (size_t)(2 * g + 1) * cp * 8;
            int32x4_t acc[4] = { vld1q_s32(b), vld1q_s32(b + 4), vld1q_s32(b + 8), vld1q_s32(b + 12) };
            for (int cc = 0; cc < cp; cc += 16) {
                const int8x16_t a = q8n_ld(d + o + cc);
                const int16x8_t alo = vmovl_s8(vget_low_s8(a)), ahi = vmovl_high_s8(a);
                Q8N_PW_8(alo, cc);
                Q8N_PW_8(ahi, cc + 8);
            }
            q8n_out16(out + o + 16 * g, acc, c->pk_scale[L] + 16 * g, c->pk_slope[L] + 16 * g, bl->pw_act.kind,
                      res + o + 16 * g, bl->res_scale);
        }
    }
}

/* SDOT form: 16 inputs x 16 outputs in 16 instructions (lane j of a: inputs 4j..4j+3). */
static Q8N_DOT_TGT SK_NOINLINE void q8n_pw_dot(q8_ctx *c, int i, const uint8_t *d, const uint8_t *res, uint8_t *out)
{
    const int cp = c->Cp, L = 2 + 2 * i, w = c->rw;
    const sk_q8_block *bl = &c->net->block[i];
    const int8_t *W = (const int8_t *)c->pk_pw[i];
    for (int x = 0; x < w; x++) {
        const ptrdiff_t o = (ptrdiff_t)x * cp;
        for (int g = 0; g < cp / 16; g++) {
            const int32_t *b = c->pk_bias[L] + 16 * g;
            int32x4_t acc[4] = { vld1q_s32(b), vld1q_s32(b + 4), vld1q_s32(b + 8), vld1q_s32(b + 12) };
            for (int cc = 0; cc < cp; cc += 16) {
                const int8x16_t a = q8n_ld(d + o + cc);
                for (int q = 0; q < 4; q++) {
                    const int8_t *wq = W + ((size_t)(4 * g + q) * cp + cc) * 4;
                    acc[q] = vdotq_laneq_s32(acc[q], vld1q_s8(wq), a, 0);
                    acc[q] = vdotq_laneq_s32(acc[q], vld1q_s8(wq + 16), a, 1);
                    acc[q] = vdotq_laneq_s32(acc[q], vld1q_s8(wq + 32), a, 2);
                    acc[q] = vdotq_laneq_s32(acc[q], vld1q_s8(wq + 48), a, 3);
                }
            }
            q8n_out16(out + o + 16 * g, acc, c->pk_scale[L] + 16 * g, c->pk_slope[L] + 16 * g, bl->pw_act.kind,
                      res + o + 16 * g, bl->res_scale);
        }
    }
}

/* The tail's 4 sums of a pixel (s[j] lane partials reduced pairwise; addition is modular, so any
 * order gives the reference's int32), requantised and stored to the 4 planes. */
SK_INLINE void q8n_tail_store(q8_ctx *c, const int32x4_t s[4], float *t, ptrdiff_t plane, int x)
{
    const int L = 1 + 2 * c->net->blocks;
    const int32x4_t sum = vaddq_s32(vld1q_s32(c->pk_bias[L]), vpaddq_s32(vpaddq_s32(s[0], s[1]), vpaddq_s32(s[2], s[3])));
    float v[4];
    vst1q_f32(v, vact(vmulq_f32(vcvtq_f32_s32(sum), vld1q_f32(c->pk_scale[L])), c->net->tail_act.kind,
                      vld1q_f32(c->pk_slope[L])));
    for (int j = 0; j < 4; j++) t[(ptrdiff_t)j * plane + x] = v[j];
}

static Q8N_DOT_TGT SK_NOINLINE void q8n_tail_dot(q8_ctx *c, const uint8_t *row, int x0, int n, float *t, ptrdiff_t plane);

static void qop_tail_row(q8_ctx *c, const uint8_t *row, int x0, int n, float *t, ptrdiff_t plane)
{
    if (c->vnni) {
        q8n_tail_dot(c, row, x0, n, t, plane);
        return;
    }
    const int cp = c->Cp;
    const int8_t *W = (const int8_t *)c->pk_tail;
    for (int x = x0; x < x0 + n; x++) {
        int32x4_t s[4] = { vdupq_n_s32(0), vdupq_n_s32(0), vdupq_n_s32(0), vdupq_n_s32(0) };
        for (int cc = 0; cc < cp; cc += 16) {
            const int8x16_t a = q8n_ld(row + (ptrdiff_t)x * cp + cc);
            for (int j = 0; j < 4; j++) {
                const int8x16_t wj = vld1q_s8(W + j * cp + cc);
                s[j] = vpadalq_s16(s[j], vmlal_high_s8(vmull_s8(vget_low_s8(a), vget_low_s8(wj)), a, wj));
            }
        }
        q8n_tail_store(c, s, t, plane, x);
    }
}

static Q8N_DOT_TGT SK_NOINLINE void q8n_tail_dot(q8_ctx *c, const uint8_t *row, int x0, int n, float *t, ptrdiff_t plane)
{
    const int cp = c->Cp;
    const int8_t *W = (const int8_t *)c->pk_tail;
    for (int x = x0; x < x0 + n; x++) {
        int32x4_t s[4] = { vdupq_n_s32(0), vdupq_n_s32(0), vdupq_n_s32(0), vdupq_n_s32(0) };
        for (int cc = 0; cc < cp; cc += 16) {
            const int8x16_t a = q8n_ld(row + (ptrdiff_t)x * cp + cc);
            for (int j = 0; j < 4; j++) s[j] = vdotq_s32(s[j], a, vld1q_s8(W + j * cp + cc));
        }
        q8n_tail_store(c, s, t, plane, x);
    }
}

#define Q8_TGT SK_TGT
#define Q8_ENTRY sk_subpixel_q8_neon
#define Q8_ENTRY_VNNI sk_subpixel_q8_neondot
#include "sk_q8_driver.h"
