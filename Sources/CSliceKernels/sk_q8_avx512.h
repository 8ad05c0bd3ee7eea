/*
 * sk_q8_avx512.h - AVX-512 VNNI trunk rows of the int8 sub-pixel kernel
 * (slice_kernels_q8.h), included by x86_avx512.c after sk_fused_simd.h.
 *
 * Pixel-major rows, 16 channels per zmm (one int32 lane per channel):
 *   head       per kernel row, 4 neighbouring u8 pixels as one broadcast dword
 *              against a weight vector (lane c: its 4 taps, zero past k);
 *   depthwise  vpermb gathers channel c's 4 neighbouring values into lane c;
 *   pointwise  input dword j (channels 4j..4j+3) broadcast against weight
 *              vector j (lane co: w[co][4j..4j+3]);
 *   tail       lanes are 16 pixels (a dword gather), output planar floats.
 * All sums are vpdpbusd (u8 activations + 128 against s8 weights, the bias
 * corrected), exact int32; requantisation is the reference's single float
 * multiply, activation, residual multiply and add, float clamp, cvtps2dq
 * (MXCSR round to nearest even = lrintf).
 */
#ifndef SK_TGT
#error "include from x86_avx512.c"
#endif

#include "sk_q8_ctx.h"

#define Q8V_TGT __attribute__((target("avx512f,avx512bw,avx512vl,fma,avx512vnni,avx512vbmi")))
typedef __m512i VI;

Q8V_TGT SK_INLINE VI q8v_dp(VI acc, VI a_u8, VI w_s8) { return _mm512_dpbusd_epi32(acc, a_u8, w_s8); }

/* act(rq(acc)) for a constant activation kind: one multiply, then the reference's select
 * (ReLU: +0 where v <= 0; PReLU: slope * v where !(v > 0)). */
Q8V_TGT SK_INLINE V q8v_rq(VI acc, V scale, V slope, const int kind)
{
    const V v = _mm512_mul_ps(_mm512_cvtepi32_ps(acc), scale);
    if (kind == SK_ACT_RELU) return _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_GT_OQ), v);
    if (kind == SK_ACT_PRELU)
        return _mm512_mask_mul_ps(v, _mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_NGT_UQ), v, slope);
    return v;
}

/* (float)x of the 16 stored bytes 16m..16m+15 of r (x + 128 each), exactly: each byte becomes the
 * low mantissa byte of 2^23 (bits 0x4B0000uu = 2^23 + u), minus 2^23 + 128. The bytes are zero-extended
 * (a zeroing permute, which compilers emit as vpmovzxbd) and or-ed with the exponent: a merging permute
 * into the exponent constant costs a register copy per vector, which was 2.8 % of the whole int8 frame. */
Q8V_TGT SK_INLINE V q8v_resf(VI r, int m)
{
    const VI idx = _mm512_add_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                    _mm512_set1_epi32(16 * m));
    const VI bits = _mm512_or_si512(_mm512_maskz_permutexvar_epi8(0x1111111111111111ull, idx, r), _mm512_set1_epi32(0x4B000000));
    return _mm512_sub_ps(_mm512_castsi512_ps(bits), _mm512_set1_ps(8388736.0f));
}

/* sat(v) + 128 of four vectors of 16 channels, as the 64 bytes v0 | v1 | v2 | v3. A wide layer
 * (q8_wide) is clamped at 127 in float first (cvtps2dq, round to nearest even = lrintf, gives INT_MIN
 * for anything at or above 2^31); any other converts as it is (|v| < 2^30), and the saturating packs to
 * int8 then clamp at 127 the same way. A max at -127 does the lower clamp; the packs interleave 4-byte
 * groups, one dword permute puts them back. Skipping the clamp took 8 % off the sr2x int8 frame. */
Q8V_TGT SK_INLINE VI q8v_pack4(V v0, V v1, V v2, V v3, const int wide)
{
    if (wide) {
        const V hi = _mm512_set1_ps(127.0f);
        v0 = _mm512_min_ps(v0, hi);
        v1 = _mm512_min_ps(v1, hi);
        v2 = _mm512_min_ps(v2, hi);
        v3 = _mm512_min_ps(v3, hi);
    }
    const VI i0 = _mm512_cvtps_epi32(v0), i1 = _mm512_cvtps_epi32(v1);
    const VI i2 = _mm512_cvtps_epi32(v2), i3 = _mm512_cvtps_epi32(v3);
    VI q = _mm512_packs_epi16(_mm512_packs_epi32(i0, i1), _mm512_packs_epi32(i2, i3));
    /* q's dword 4L + m holds vector m's channels 4L..4L+3: move it to dword 4m + L. */
    q = _mm512_permutexvar_epi32(_mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15), q);
    return _mm512_xor_si512(_mm512_max_epi8(q, _mm512_set1_epi8(-127)), _mm512_set1_epi8((char)0x80));
}

/* Weights of a k x k layer as [g][ky][q] vectors: lane l, byte t = w[16g + l][ky][4q + t - sh]
 * (sh 0; zero outside the kernel). With shifted (depthwise) a second set with sh = 1 follows: the
 * window of pixels x - r + 4q .. + 3 then serves output x + 1 too. */
static Q8V_TGT void q8v_pack_kxk(uint8_t *dst, const int8_t *w, int C, int cp, int k, int shifted)
{
    const int nq = (k + 3) / 4;
    int8_t *d = (int8_t *)dst;
    for (int sh = 0; sh <= shifted; sh++)
        for (int g = 0; g < cp / 16; g++)
            for (int ky = 0; ky < k; ky++)
                for (int q = 0; q < nq; q++, d += 64)
                    for (int l = 0; l < 16; l++)
                        for (int t = 0; t < 4; t++) {
                            const int ch = 16 * g + l, kx = 4 * q + t - sh;
                            d[4 * l + t] = ch < C && kx >= 0 && kx < k ? w[(ch * k + ky) * k + kx] : 0;
                        }
}

static Q8V_TGT void qop_pack(q8_ctx *c)
{
    const sk_subpixel_q8_net *n = c->net;
    const int C = c->C, cp = c->Cp;
    q8_pack_common(c);
    q8v_pack_kxk(c->pk_head, n->head_weight, C, cp, c->k, 0);
    for (int i = 0; i < n->blocks; i++) {
        q8v_pack_kxk(c->pk_dw[i], n->block[i].dw_weight, C, cp, c->k, 1);
        int8_t *d = (int8_t *)c->pk_pw[i];
        for (int g = 0; g < cp / 16; g++)
            for (int j = 0; j < cp / 4; j++, d += 64)
                for (int l = 0; l < 16; l++)
                    for (int t = 0; t < 4; t++) {
                        const int co = 16 * g + l, ci = 4 * j + t;
                        d[4 * l + t] = co < C && ci < C ? n->block[i].pw_weight[co * C + ci] : 0;
                    }
    }
    int8_t *d = (int8_t *)c->pk_tail;
    for (int j = 0; j < 4; j++)
        for (int ci = 0; ci < cp; ci++) d[j * cp + ci] = ci < C ? n->tail_weight[j * C + ci] : 0;
}

/*
 * The trunk rows, in 16-channel planes (Q8_PLANES: plane g of a row holds channels 16g..16g+15 of
 * every pixel, 16 bytes a pixel, c->plane bytes after plane g - 1). Every step makes pixels
 * x..x+3 of one or two planes: four vectors a plane, requantised together and stored with one
 * 64-byte write. A row is finished to a multiple of 4 pixels: the up to 3 pixels past the width
 * land in the plane's right margin, which q8_pad overwrites next (their inputs, read from the
 * margins, are bytes written earlier, never past them). G: planes as a constant (1, 2: weights in
 * registers), or 0 for Cp 64k (planes one at a time, weights reloaded). KIND: the activation.
 */
#define Q8V_MAXJ (SK_SP_MAX_CHANNELS / 4)

/* Two steps per loop trip: each step's chains (vpdpbusd, then the requantisation) are long, and the
 * scheduler overlaps two steps far better than one (about 1.2x here). */
#if defined(__clang__)
#define Q8V_UNROLL2 _Pragma("clang loop unroll_count(2)")
#elif defined(__GNUC__)
#define Q8V_UNROLL2 _Pragma("GCC unroll 2")
#else
#define Q8V_UNROLL2
#endif

/* Head: per kernel row and group of 4 taps, the 4 neighbouring u8 pixels as one broadcast dword. */
Q8V_TGT SK_INLINE void q8v_head_step(const q8_ctx *c, const uint8_t *const *rows, uint8_t *out, int x, int g0,
                                     const int NG, const int k, const int kind, const int wide, VI wv[][SK_MAX_K * 2], const VI *b,
                                     const V *s, const V *sl)
{
    const int r = k / 2, nq = (k + 3) / 4, nt = k * nq;
    VI acc[2][4];
    for (int g = 0; g < NG; g++)
        for (int m = 0; m < 4; m++) acc[g][m] = b[g];
    for (int t = 0; t < nt; t++)
        for (int m = 0; m < 4; m++) {
            int32_t a;
            memcpy(&a, rows[t / nq] + x + m + 4 * (t % nq) - r, 4);
            const VI av = _mm512_set1_epi32(a);
            for (int g = 0; g < NG; g++) acc[g][m] = q8v_dp(acc[g][m], av, wv[g][t]);
        }
    for (int g = 0; g < NG; g++) {
        V v[4];
        for (int m = 0; m < 4; m++) v[m] = q8v_rq(acc[g][m], s[g], sl[g], kind);
        _mm512_storeu_si512(out + (ptrdiff_t)(g0 + g) * c->plane + (ptrdiff_t)x * 16, q8v_pack4(v[0], v[1], v[2], v[3], wide));
    }
}

Q8V_TGT SK_INLINE void q8v_head(q8_ctx *c, const uint8_t *const *rows, uint8_t *out, const int G, const int k,
                                const int kind, const int wide)
{
    const int nt = k * ((k + 3) / 4), Gr = G ? G : c->Cp / 16, NG = G ? G : 1, w = c->rw;
    VI wv[2][SK_MAX_K * 2], b[2];
    V s[2], sl[2];
    for (int g0 = 0; g0 < Gr; g0 += NG) {
        for (int g = 0; g < NG; g++) {
            for (int t = 0; t < nt; t++) wv[g][t] = _mm512_loadu_si512(c->pk_head + ((size_t)(g0 + g) * nt + t) * 64);
            b[g] = _mm512_loadu_si512(c->pk_bias[0] + 16 * (g0 + g));
            s[g] = _mm512_loadu_ps(c->pk_scale[0] + 16 * (g0 + g));
            sl[g] = _mm512_loadu_ps(c->pk_slope[0] + 16 * (g0 + g));
        }
        Q8V_UNROLL2 for (int x = 0; x < w; x += 4) q8v_head_step(c, rows, out, x, g0, NG, k, kind, wide, wv, b, s, sl);
    }
}

/* Depthwise: vpermb gathers channel c's 4 neighbouring values into lane c (one 64-byte load of
 * the plane), one vpdpbusd per kernel row and group of 4 taps; pixels x, x + 1 share their
 * windows (wa: taps of the even pixel, wb: shifted by one, for the odd one). */
Q8V_TGT SK_INLINE void q8v_dw_step(const q8_ctx *c, const uint8_t *const *rows, uint8_t *out, int x, int g0,
                                   const int NG, const int k, const int kind, const int wide, VI wa[][SK_MAX_K * 2],
                                   VI wb[][SK_MAX_K * 2], const VI *b, const V *s, const V *sl, VI idx)
{
    const int r = k / 2, nq = (k + 3) / 4, nt = k * nq;
    VI acc[2][4];
    for (int g = 0; g < NG; g++)
        for (int m = 0; m < 4; m++) acc[g][m] = b[g];
    for (int g = 0; g < NG; g++)
        for (int px = 0; px < 4; px += 2)
            for (int t = 0; t < nt; t++) {
                const uint8_t *p = rows[t / nq] + (ptrdiff_t)(g0 + g) * c->plane + (ptrdiff_t)(x + px + 4 * (t % nq) - r) * 16;
                const VI win = _mm512_permutexvar_epi8(idx, _mm512_loadu_si512(p));
                acc[g][px] = q8v_dp(acc[g][px], win, wa[g][t]);
                acc[g][px + 1] = q8v_dp(acc[g][px + 1], win, wb[g][t]);
            }
    for (int g = 0; g < NG; g++) {
        V v[4];
        for (int m = 0; m < 4; m++) v[m] = q8v_rq(acc[g][m], s[g], sl[g], kind);
        _mm512_storeu_si512(out + (ptrdiff_t)(g0 + g) * c->plane + (ptrdiff_t)x * 16, q8v_pack4(v[0], v[1], v[2], v[3], wide));
    }
}

Q8V_TGT SK_INLINE void q8v_dw(q8_ctx *c, int i, const uint8_t *const *rows, uint8_t *out, const int G, const int k,
                              const int kind, const int wide)
{
    const int nt = k * ((k + 3) / 4), Gr = G ? G : c->Cp / 16, NG = G ? G : 1, w = c->rw, L = 1 + 2 * i;
    uint8_t i16[64];
    for (int l = 0; l < 16; l++)
        for (int t = 0; t < 4; t++) i16[4 * l + t] = (uint8_t)(16 * t + l);
    const VI idx = _mm512_loadu_si512(i16);
    VI wa[2][SK_MAX_K * 2], wb[2][SK_MAX_K * 2], b[2];
    V s[2], sl[2];
    for (int g0 = 0; g0 < Gr; g0 += NG) {
        for (int g = 0; g < NG; g++) {
            for (int t = 0; t < nt; t++) {
                wa[g][t] = _mm512_loadu_si512(c->pk_dw[i] + ((size_t)(g0 + g) * nt + t) * 64);
                wb[g][t] = _mm512_loadu_si512(c->pk_dw[i] + ((size_t)(Gr + g0 + g) * nt + t) * 64);
            }
            b[g] = _mm512_loadu_si512(c->pk_bias[L] + 16 * (g0 + g));
            s[g] = _mm512_loadu_ps(c->pk_scale[L] + 16 * (g0 + g));
            sl[g] = _mm512_loadu_ps(c->pk_slope[L] + 16 * (g0 + g));
        }
        if (NG == 1) {
            Q8V_UNROLL2 for (int x = 0; x < w; x += 4) q8v_dw_step(c, rows, out, x, g0, 1, k, kind, wide, wa, wb, b, s, sl, idx);
        } else {
            for (int x = 0; x < w; x += 4) q8v_dw_step(c, rows, out, x, g0, NG, k, kind, wide, wa, wb, b, s, sl, idx);
        }
    }
}

/* Pointwise: input dword j (channels 4j..4j+3: plane j / 4) broadcast against weight vector j
 * (lane co: w[co][4j..4j+3]); the residual's 64 bytes sit where the output's go. */
Q8V_TGT SK_INLINE void q8v_pw_step(const q8_ctx *c, const uint8_t *d, const uint8_t *res, uint8_t *out, int x, int g0,
                                   const int NG, const int J, const int kind, const int wide, VI wv[][Q8V_MAXJ], const VI *b,
                                   const V *s, const V *sl, V rs)
{
    VI acc[2][4];
    for (int g = 0; g < NG; g++)
        for (int m = 0; m < 4; m++) acc[g][m] = b[g];
    for (int j = 0; j < J; j++)
        for (int m = 0; m < 4; m++) {
            int32_t a;
            memcpy(&a, d + (ptrdiff_t)(j / 4) * c->plane + (ptrdiff_t)(x + m) * 16 + 4 * (j % 4), 4);
            const VI av = _mm512_set1_epi32(a);
            for (int g = 0; g < NG; g++) acc[g][m] = q8v_dp(acc[g][m], av, wv[g][j]);
        }
    for (int g = 0; g < NG; g++) {
        const ptrdiff_t o = (ptrdiff_t)(g0 + g) * c->plane + (ptrdiff_t)x * 16;
        const VI rb = _mm512_loadu_si512(res + o);
        V v[4];
        for (int m = 0; m < 4; m++)
            v[m] = _mm512_add_ps(q8v_rq(acc[g][m], s[g], sl[g], kind), _mm512_mul_ps(q8v_resf(rb, m), rs));
        _mm512_storeu_si512(out + o, q8v_pack4(v[0], v[1], v[2], v[3], wide));
    }
}

Q8V_TGT SK_INLINE void q8v_pw(q8_ctx *c, int i, const uint8_t *d, const uint8_t *res, uint8_t *out, const int G,
                              const int kind, const int wide)
{
    const int Gr = G ? G : c->Cp / 16, NG = G ? G : 1, J = G ? 4 * G : c->Cp / 4, w = c->rw, L = 2 + 2 * i;
    const V rs = _mm512_set1_ps(c->net->block[i].res_scale);
    VI wv[2][Q8V_MAXJ], b[2];
    V s[2], sl[2];
    for (int g0 = 0; g0 < Gr; g0 += NG) {
        for (int g = 0; g < NG; g++) {
            for (int j = 0; j < J; j++) wv[g][j] = _mm512_loadu_si512(c->pk_pw[i] + ((size_t)(g0 + g) * J + j) * 64);
            b[g] = _mm512_loadu_si512(c->pk_bias[L] + 16 * (g0 + g));
            s[g] = _mm512_loadu_ps(c->pk_scale[L] + 16 * (g0 + g));
            sl[g] = _mm512_loadu_ps(c->pk_slope[L] + 16 * (g0 + g));
        }
        if (NG == 1) {
            Q8V_UNROLL2 for (int x = 0; x < w; x += 4) q8v_pw_step(c, d, res, out, x, g0, 1, J, kind, wide, wv, b, s, sl, rs);
        } else {
            for (int x = 0; x < w; x += 4) q8v_pw_step(c, d, res, out, x, g0, NG, J, kind, wide, wv, b, s, sl, rs);
        }
    }
}

/* One copy per (groups, k 3 or any, activation, wide or not): the shipped shapes (k 3; Cp 16, 32) keep
 * their weights in registers and their taps unrolled; a wide layer's copy (suffix _w) clamps before
 * converting (q8v_pack4). */
#define Q8V_KINDS(X, name, ...) \
    X(name##_n, __VA_ARGS__, SK_ACT_NONE, 0) X(name##_r, __VA_ARGS__, SK_ACT_RELU, 0) X(name##_p, __VA_ARGS__, SK_ACT_PRELU, 0) \
    X(name##_n_w, __VA_ARGS__, SK_ACT_NONE, 1) X(name##_r_w, __VA_ARGS__, SK_ACT_RELU, 1) X(name##_p_w, __VA_ARGS__, SK_ACT_PRELU, 1)
#define Q8V_HEAD(name, G, K, KIND, WIDE) \
    static Q8V_TGT SK_NOINLINE void name(q8_ctx *c, const uint8_t *const *r, uint8_t *o) { q8v_head(c, r, o, G, K, KIND, WIDE); }
#define Q8V_DW(name, G, K, KIND, WIDE) \
    static Q8V_TGT SK_NOINLINE void name(q8_ctx *c, int i, const uint8_t *const *r, uint8_t *o) { q8v_dw(c, i, r, o, G, K, KIND, WIDE); }
#define Q8V_PW(name, G, KIND, WIDE) \
    static Q8V_TGT SK_NOINLINE void name(q8_ctx *c, int i, const uint8_t *d, const uint8_t *r, uint8_t *o) { q8v_pw(c, i, d, r, o, G, KIND, WIDE); }
Q8V_KINDS(Q8V_HEAD, q8v_head1k3, 1, 3)
Q8V_KINDS(Q8V_HEAD, q8v_head2k3, 2, 3)
Q8V_KINDS(Q8V_HEAD, q8v_head0k3, 0, 3)
Q8V_KINDS(Q8V_HEAD, q8v_head1kn, 1, c->k)
Q8V_KINDS(Q8V_HEAD, q8v_head2kn, 2, c->k)
Q8V_KINDS(Q8V_HEAD, q8v_head0kn, 0, c->k)
Q8V_KINDS(Q8V_DW, q8v_dw1k3, 1, 3)
Q8V_KINDS(Q8V_DW, q8v_dw2k3, 2, 3)
Q8V_KINDS(Q8V_DW, q8v_dw0k3, 0, 3)
Q8V_KINDS(Q8V_DW, q8v_dw1kn, 1, c->k)
Q8V_KINDS(Q8V_DW, q8v_dw2kn, 2, c->k)
Q8V_KINDS(Q8V_DW, q8v_dw0kn, 0, c->k)
Q8V_KINDS(Q8V_PW, q8v_pw1, 1)
Q8V_KINDS(Q8V_PW, q8v_pw2, 2)
Q8V_KINDS(Q8V_PW, q8v_pw0, 0)

#define Q8V_PICK1(kind, name) ((kind) == SK_ACT_RELU ? name##_r : (kind) == SK_ACT_PRELU ? name##_p : name##_n)
#define Q8V_PICKW(kind, name) ((kind) == SK_ACT_RELU ? name##_r_w : (kind) == SK_ACT_PRELU ? name##_p_w : name##_n_w)
#define Q8V_PICK(kind, name) (wide ? Q8V_PICKW(kind, name) : Q8V_PICK1(kind, name))

static Q8V_TGT void qop_head_row(q8_ctx *c, const uint8_t *const *rows, uint8_t *out)
{
    const int kind = c->net->head_act.kind, k3 = c->k == 3, wide = c->wide[0];
    if (c->Cp == 16) (k3 ? Q8V_PICK(kind, q8v_head1k3) : Q8V_PICK(kind, q8v_head1kn))(c, rows, out);
    else if (c->Cp == 32) (k3 ? Q8V_PICK(kind, q8v_head2k3) : Q8V_PICK(kind, q8v_head2kn))(c, rows, out);
    else (k3 ? Q8V_PICK(kind, q8v_head0k3) : Q8V_PICK(kind, q8v_head0kn))(c, rows, out);
}

static Q8V_TGT void qop_dw_row(q8_ctx *c, int i, const uint8_t *const *rows, uint8_t *out)
{
    const int kind = c->net->block[i].dw_act.kind, k3 = c->k == 3, wide = c->wide[1 + 2 * i];
    if (c->Cp == 16) (k3 ? Q8V_PICK(kind, q8v_dw1k3) : Q8V_PICK(kind, q8v_dw1kn))(c, i, rows, out);
    else if (c->Cp == 32) (k3 ? Q8V_PICK(kind, q8v_dw2k3) : Q8V_PICK(kind, q8v_dw2kn))(c, i, rows, out);
    else (k3 ? Q8V_PICK(kind, q8v_dw0k3) : Q8V_PICK(kind, q8v_dw0kn))(c, i, rows, out);
}

static Q8V_TGT void qop_pw_row(q8_ctx *c, int i, const uint8_t *d, const uint8_t *res, uint8_t *out)
{
    const int kind = c->net->block[i].pw_act.kind, wide = c->wide[2 + 2 * i];
    if (c->Cp == 16) Q8V_PICK(kind, q8v_pw1)(c, i, d, res, out);
    else if (c->Cp == 32) Q8V_PICK(kind, q8v_pw2)(c, i, d, res, out);
    else Q8V_PICK(kind, q8v_pw0)(c, i, d, res, out);
}

/* Tail: 16 pixels per vector, dword q of each pixel gathered from its plane; 4 planar float outputs. */
static Q8V_TGT void qop_tail_row(q8_ctx *c, const uint8_t *row, int x0, int n, float *t, ptrdiff_t plane)
{
    const int cp = c->Cp, nq = cp / 4, L = 1 + 2 * c->net->blocks, kind = c->net->tail_act.kind;
    const int32_t *wt = (const int32_t *)(const void *)c->pk_tail;
    const VI lane = _mm512_setr_epi32(0, 4, 8, 12, 16, 20, 24, 28, 32, 36, 40, 44, 48, 52, 56, 60);
    for (int x = x0; x < x0 + n; x += 16) {
        const __mmask16 m = (__mmask16)(n - (x - x0) >= 16 ? 0xFFFF : (1u << (n - (x - x0))) - 1u);
        VI acc[4];
        for (int j = 0; j < 4; j++) acc[j] = _mm512_set1_epi32(c->pk_bias[L][j]);
        for (int q = 0; q < nq; q++) {
            const uint8_t *p = row + (ptrdiff_t)(q / 4) * c->plane + (ptrdiff_t)x * 16 + 4 * (q % 4);
            const VI a = _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), m, lane, p, 4);
            for (int j = 0; j < 4; j++) {
                int32_t wq;
                memcpy(&wq, wt + j * nq + q, 4);
                acc[j] = q8v_dp(acc[j], a, _mm512_set1_epi32(wq));
            }
        }
        for (int j = 0; j < 4; j++) {
            const V v = vact(_mm512_mul_ps(_mm512_cvtepi32_ps(acc[j]), _mm512_set1_ps(c->pk_scale[L][j])), kind,
                             _mm512_set1_ps(c->pk_slope[L][j]));
            _mm512_mask_storeu_ps(t + (ptrdiff_t)j * plane + x, m, v);
        }
    }
}

#define Q8_TGT Q8V_TGT
#define Q8_PLANES 1
#define Q8_ENTRY sk_subpixel_q8_avx512
#include "sk_q8_driver.h"
