/*
 * sk_q8_avx2.h - AVX2 trunk rows of the int8 sub-pixel kernel
 * (slice_kernels_q8.h), included by x86_avx2.c after sk_fused_simd.h; also
 * what the dispatcher's AVX-512 level runs on CPUs without AVX512_VNNI/VBMI.
 *
 * Rows are pixel-major, u8 = q + 128 as in the reference. Without VNNI the
 * products are exact in two ways:
 *  - pointwise and tail, u8 x s8 dot products of 4 channels: with q = u8 ^ 0x80
 *    (as s8, in [-127, 127]: sat never makes -128), vpmaddubsw(|w|, vpsignb(q, w))
 *    gives |w0| q0 sign(w0) + |w1| q1 sign(w1) = w0 q0 + w1 q1, at most
 *    2 * 127 * 127 = 32258 in magnitude: never saturates. vpmaddwd with ones
 *    widens the pair sums to int32. The biases are the net's own (q, not q + 128,
 *    is multiplied), so these layers' bias vectors are overwritten in qop_pack.
 *  - head and depthwise, k x k taps of one channel: vpmaddwd on 16-bit words,
 *    two taps per dword (head: the u8 pixels; depthwise: q of rows 2m and 2m+1
 *    interleaved once per row chunk, the last row paired with itself one pixel
 *    right), so every tap costs half a vpmaddwd lane pair instead of a whole one.
 * The AVX-VNNI rows (sk_subpixel_q8_avxvnni) keep u8 inputs and vpdpbusd in the
 * pointwise layer; the depthwise row then writes u8 for it (s8 otherwise).
 */
#ifndef SK_TGT
#error "include from x86_avx2.c"
#endif

#include "sk_q8_ctx.h"

typedef __m256i VI;

/* Pixels per depthwise/head chunk: the chunk's interleaved taps stay in L1 (stack). */
#define Q8A_NX 64

/* act(rq(acc)) [+ (float)x * rs], then sat and + 128, as 8 bytes (the AVX-VNNI pointwise row). */
SK_TGT SK_INLINE void q8a_out(uint8_t *dst, VI acc, V scale, int kind, V slope, const uint8_t *res, V rs)
{
    V v = vact(_mm256_mul_ps(_mm256_cvtepi32_ps(acc), scale), kind, slope);
    if (res) {
        const VI xr = _mm256_sub_epi32(_mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)res)), _mm256_set1_epi32(128));
        v = _mm256_add_ps(v, _mm256_mul_ps(_mm256_cvtepi32_ps(xr), rs));
    }
    v = _mm256_min_ps(_mm256_max_ps(v, _mm256_set1_ps(-127.0f)), _mm256_set1_ps(127.0f));
    const VI i = _mm256_add_epi32(_mm256_cvtps_epi32(v), _mm256_set1_epi32(128));
    const __m128i p = _mm_packus_epi32(_mm256_castsi256_si128(i), _mm256_extracti128_si256(i, 1));
    _mm_storel_epi64((__m128i *)dst, _mm_packus_epi16(p, p));
}

/* act(rq(acc)) for 8 channels at p (bias already in acc). */
SK_TGT SK_INLINE V q8a_val(VI acc, const float *scale, const float *slope, int kind)
{
    return vact(_mm256_mul_ps(_mm256_cvtepi32_ps(acc), _mm256_loadu_ps(scale)), kind, _mm256_loadu_ps(slope));
}
/* sat(v) for 16 channels -> 16 bytes q ^ flip (flip 0x80: u8 storage). The same bytes as q8a_out's float
 * clamp, NaN included: vminps returns its second operand v when v is NaN, vcvtps2dq makes INT_MIN of NaN
 * and of anything below -2^31, and the saturating packs then max with -127 finish the clamp. */
SK_TGT SK_INLINE __m128i q8a_sat16(V v0, V v1, __m128i flip)
{
    const V hi = _mm256_set1_ps(127.0f);
    const VI a = _mm256_cvtps_epi32(_mm256_min_ps(hi, v0)), b = _mm256_cvtps_epi32(_mm256_min_ps(hi, v1));
    const __m128i x = _mm_packs_epi32(_mm256_castsi256_si128(a), _mm256_extracti128_si256(a, 1));
    const __m128i y = _mm_packs_epi32(_mm256_castsi256_si128(b), _mm256_extracti128_si256(b, 1));
    return _mm_xor_si128(_mm_max_epi8(_mm_packs_epi16(x, y), _mm_set1_epi8(-127)), flip);
}
/* The same for two pixels' 16 channels (a, b): 32 bytes, pixel a's first, one pack sequence. */
SK_TGT SK_INLINE VI q8a_sat32(V a0, V a1, V b0, V b1, VI flip)
{
    const V hi = _mm256_set1_ps(127.0f);
    const VI pa = _mm256_packs_epi32(_mm256_cvtps_epi32(_mm256_min_ps(hi, a0)), _mm256_cvtps_epi32(_mm256_min_ps(hi, a1)));
    const VI pb = _mm256_packs_epi32(_mm256_cvtps_epi32(_mm256_min_ps(hi, b0)), _mm256_cvtps_epi32(_mm256_min_ps(hi, b1)));
    /* dwords: a0-3 a8-11 b0-3 b8-11 | a4-7 a12-15 b4-7 b12-15 */
    const VI p = _mm256_permutevar8x32_epi32(_mm256_packs_epi16(pa, pb), _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
    return _mm256_xor_si256(_mm256_max_epi8(p, _mm256_set1_epi8(-127)), flip);
}
/* acc + w . q over 4-byte groups, exact (see the top): q as s8, sw = w, aw = |w|. */
SK_TGT SK_INLINE VI q8a_sdp(VI acc, VI q, VI sw, VI aw)
{
    return _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(aw, _mm256_sign_epi8(q, sw)), _mm256_set1_epi16(1)));
}

/* Head/depthwise tap pairs: slot s multiplies taps ta and tb (-1: none, weight 0). Head: taps 2s, 2s + 1
 * in row-major order. Depthwise: rows (2m, 2m + 1) at column kx for m < (k - 1) / 2, then the last row's
 * columns (2n, 2n + 1). Both make (k * k + 1) / 2 slots. */
static void q8a_slot(int k, int dw, int s, int *ta, int *tb)
{
    const int np = (k - 1) / 2;
    if (!dw) {
        *ta = 2 * s;
        *tb = 2 * s + 1 < k * k ? 2 * s + 1 : -1;
    } else if (s < np * k) {
        *ta = (2 * (s / k)) * k + s % k;
        *tb = *ta + k;
    } else {
        const int n = s - np * k;
        *ta = (k - 1) * k + 2 * n;
        *tb = 2 * n + 1 < k ? *ta + 1 : -1;
    }
}

/* A k x k layer as [slot][g] vectors, lane l: the words (w[8g + l][ta], w[8g + l][tb]). */
static SK_TGT void q8a_pack_pairs(uint8_t *dst, const int8_t *w, int C, int cp, int k, int dw)
{
    int16_t *d = (int16_t *)(void *)dst;
    const int kk = k * k;
    for (int s = 0; s < (kk + 1) / 2; s++) {
        int ta, tb;
        q8a_slot(k, dw, s, &ta, &tb);
        for (int ch = 0; ch < cp; ch++, d += 2) {
            d[0] = ch < C ? w[ch * kk + ta] : 0;
            d[1] = ch < C && tb >= 0 ? w[ch * kk + tb] : 0;
        }
    }
}

/* The net's own biases for a layer whose inputs enter as q (see the top), zero-padded like q8_pack_common's. */
static void q8a_raw_bias(int32_t *pb, const int32_t *bias, int cout, int cp)
{
    for (int o = 0; o < cp + 16; o++) pb[o] = o < cout ? bias[o] : 0;
}

static SK_TGT void qop_pack(q8_ctx *c)
{
    const sk_subpixel_q8_net *n = c->net;
    const int C = c->C, cp = c->Cp, nb = n->blocks;
    q8_pack_common(c);
    q8a_pack_pairs(c->pk_head, n->head_weight, C, cp, c->k, 0);
    for (int i = 0; i < nb; i++) {
        const sk_q8_block *b = &n->block[i];
        q8a_pack_pairs(c->pk_dw[i], b->dw_weight, C, cp, c->k, 1);
        q8a_raw_bias(c->pk_bias[1 + 2 * i], b->dw_bias, C, cp);
        int8_t *d = (int8_t *)c->pk_pw[i];
        if (c->vnni) {
            /* Pointwise for vpdpbusd (u8 inputs, corrected bias), [g][j]: lane l, byte t = w[8g + l][4j + t]. */
            for (int g = 0; g < cp / 8; g++)
                for (int j = 0; j < cp / 4; j++, d += 32)
                    for (int l = 0; l < 8; l++)
                        for (int t = 0; t < 4; t++) {
                            const int co = 8 * g + l, ci = 4 * j + t;
                            d[4 * l + t] = co < C && ci < C ? b->pw_weight[co * C + ci] : 0;
                        }
            continue;
        }
        /* Pointwise [g][j]: w then |w|, lane l, byte t: w[8g + l][4j + t]. */
        for (int g = 0; g < cp / 8; g++)
            for (int j = 0; j < cp / 4; j++, d += 64)
                for (int l = 0; l < 8; l++)
                    for (int t = 0; t < 4; t++) {
                        const int co = 8 * g + l, ci = 4 * j + t;
                        const int v = co < C && ci < C ? b->pw_weight[co * C + ci] : 0;
                        d[4 * l + t] = (int8_t)v;
                        d[32 + 4 * l + t] = (int8_t)(v < 0 ? -v : v);
                    }
        q8a_raw_bias(c->pk_bias[2 + 2 * i], b->pw_bias, C, cp);
    }
    /* Tail [j][q]: the dword w[j][4q..4q+3], then |w|. */
    int8_t *d = (int8_t *)c->pk_tail;
    for (int j = 0; j < 4; j++)
        for (int q = 0; q < cp / 4; q++, d += 8)
            for (int t = 0; t < 4; t++) {
                const int ci = 4 * q + t, v = ci < C ? n->tail_weight[j * C + ci] : 0;
                d[t] = (int8_t)v;
                d[4 + t] = (int8_t)(v < 0 ? -v : v);
            }
    q8a_raw_bias(c->pk_bias[1 + 2 * nb], n->tail_bias, 4, cp);
}

static SK_TGT SK_NOINLINE void qop_head_row(q8_ctx *c, const uint8_t *const *rows, uint8_t *out)
{
    const int k = c->k, r = c->r, S = (k * k + 1) / 2, cp = c->Cp, G = cp / 8, w = c->rw;
    const int kind = c->net->head_act.kind;
    const VI *wv = (const VI *)(const void *)c->pk_head;
    const __m128i flip = _mm_set1_epi8((char)0x80);
    int32_t T[(SK_MAX_K * SK_MAX_K + 1) / 2][Q8A_NX];
    for (int x0 = 0; x0 < w; x0 += Q8A_NX) {
        const int nx = sk_mini(Q8A_NX, w - x0);
        /* T[s][x]: the two taps' pixels as a word pair, made once and broadcast for every channel group. */
        for (int s = 0; s < S; s++) {
            int ta, tb;
            q8a_slot(k, 0, s, &ta, &tb);
            const uint8_t *pa = rows[ta / k] + x0 + ta % k - r;
            const uint8_t *pb = tb >= 0 ? rows[tb / k] + x0 + tb % k - r : NULL;
            int x = 0;
            for (; x + 8 <= nx; x += 8) {
                VI v = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(pa + x)));
                if (pb) v = _mm256_or_si256(v, _mm256_slli_epi32(_mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(pb + x))), 16));
                _mm256_storeu_si256((VI *)(T[s] + x), v);
            }
            for (; x < nx; x++) T[s][x] = pa[x] | (pb ? pb[x] << 16 : 0);
        }
        for (int x = 0; x < nx; x++)
            for (int g = 0; g < G; g += 2) {
                VI a0 = _mm256_loadu_si256((const VI *)(c->pk_bias[0] + 8 * g));
                VI a1 = _mm256_loadu_si256((const VI *)(c->pk_bias[0] + 8 * g + 8));
                for (int s = 0; s < S; s++) {
                    const VI t = _mm256_set1_epi32(T[s][x]);
                    a0 = _mm256_add_epi32(a0, _mm256_madd_epi16(t, _mm256_loadu_si256(wv + s * G + g)));
                    a1 = _mm256_add_epi32(a1, _mm256_madd_epi16(t, _mm256_loadu_si256(wv + s * G + g + 1)));
                }
                const V v0 = q8a_val(a0, c->pk_scale[0] + 8 * g, c->pk_slope[0] + 8 * g, kind);
                const V v1 = q8a_val(a1, c->pk_scale[0] + 8 * g + 8, c->pk_slope[0] + 8 * g + 8, kind);
                _mm_storeu_si128((__m128i *)(out + (ptrdiff_t)(x0 + x) * cp + 8 * g), q8a_sat16(v0, v1, flip));
            }
    }
}

/* One 16-channel block of a depthwise row, k a constant after inlining. */
SK_TGT SK_INLINE void q8a_dw_block(q8_ctx *c, int i, const uint8_t *const *rows, uint8_t *out, int cb, const int k)
{
    const int r = k / 2, np = (k - 1) / 2, cp = c->Cp, G = cp / 8, w = c->rw, L = 1 + 2 * i;
    const int kind = c->net->block[i].dw_act.kind, off = 16 * cb;
    const VI *wv = (const VI *)(const void *)c->pk_dw[i] + 2 * cb;
    const __m128i u8 = _mm_set1_epi8((char)0x80), flip = c->vnni ? u8 : _mm_setzero_si128();
    /* buf[m][p][h]: words (q[2m][p][ch], q[2m + 1][p][ch]) of channels off + 8h .. + 7; buf[np]: the last
     * row's (q[p][ch], q[p + 1][ch]). */
    VI buf[(SK_MAX_K + 1) / 2][Q8A_NX + SK_MAX_K - 1][2];
    for (int x0 = 0; x0 < w; x0 += Q8A_NX) {
        const int nx = sk_mini(Q8A_NX, w - x0);
        for (int m = 0; m <= np; m++) {
            const uint8_t *ra = rows[m < np ? 2 * m : k - 1] + off, *rb = m < np ? rows[2 * m + 1] + off : ra + cp;
            for (int p = 0; p < nx + 2 * r; p++) {
                const ptrdiff_t o = (ptrdiff_t)(x0 + p - r) * cp;
                const __m128i a = _mm_loadu_si128((const __m128i *)(ra + o)), b = _mm_loadu_si128((const __m128i *)(rb + o));
                buf[m][p][0] = _mm256_cvtepi8_epi16(_mm_xor_si128(_mm_unpacklo_epi8(a, b), u8));
                buf[m][p][1] = _mm256_cvtepi8_epi16(_mm_xor_si128(_mm_unpackhi_epi8(a, b), u8));
            }
        }
        for (int x = 0; x < nx; x++) {
            VI a0 = _mm256_loadu_si256((const VI *)(c->pk_bias[L] + off));
            VI a1 = _mm256_loadu_si256((const VI *)(c->pk_bias[L] + off + 8));
            int s = 0;
            for (int m = 0; m < np; m++)
                for (int kx = 0; kx < k; kx++, s++) {
                    a0 = _mm256_add_epi32(a0, _mm256_madd_epi16(buf[m][x + kx][0], _mm256_loadu_si256(wv + s * G)));
                    a1 = _mm256_add_epi32(a1, _mm256_madd_epi16(buf[m][x + kx][1], _mm256_loadu_si256(wv + s * G + 1)));
                }
            for (int n = 0; 2 * n < k; n++, s++) {
                a0 = _mm256_add_epi32(a0, _mm256_madd_epi16(buf[np][x + 2 * n][0], _mm256_loadu_si256(wv + s * G)));
                a1 = _mm256_add_epi32(a1, _mm256_madd_epi16(buf[np][x + 2 * n][1], _mm256_loadu_si256(wv + s * G + 1)));
            }
            const V v0 = q8a_val(a0, c->pk_scale[L] + off, c->pk_slope[L] + off, kind);
            const V v1 = q8a_val(a1, c->pk_scale[L] + off + 8, c->pk_slope[L] + off + 8, kind);
            _mm_storeu_si128((__m128i *)(out + (ptrdiff_t)(x0 + x) * cp + off), q8a_sat16(v0, v1, flip));
        }
    }
}

static SK_TGT SK_NOINLINE void qop_dw_row(q8_ctx *c, int i, const uint8_t *const *rows, uint8_t *out)
{
    for (int cb = 0; cb < c->Cp / 16; cb++) switch (c->k) {
        case 1: q8a_dw_block(c, i, rows, out, cb, 1); break;
        case 3: q8a_dw_block(c, i, rows, out, cb, 3); break;
        case 5: q8a_dw_block(c, i, rows, out, cb, 5); break;
        default: q8a_dw_block(c, i, rows, out, cb, 7); break;
        }
}

/* AVX-VNNI (VEX vpdpbusd, CPUs with it but without AVX-512): the pointwise row, one instruction per
 * 4 input channels x 8 output channels; two groups at a time share the broadcast. */
#define Q8A_VNNI_TGT __attribute__((target("avx2,fma,avxvnni")))
static Q8A_VNNI_TGT SK_NOINLINE void q8a_pw_vnni(q8_ctx *c, int i, const uint8_t *d, const uint8_t *res, uint8_t *out)
{
    const int cp = c->Cp, J = cp / 4, L = 2 + 2 * i, w = c->rw;
    const sk_q8_block *bl = &c->net->block[i];
    const V rs = _mm256_set1_ps(bl->res_scale);
    const VI *wv = (const VI *)(const void *)c->pk_pw[i];
    for (int x = 0; x < w; x++) {
        const uint8_t *px = d + (ptrdiff_t)x * cp;
        for (int g = 0; g < cp / 8; g += 2) {
            VI a0 = _mm256_loadu_si256((const VI *)(c->pk_bias[L] + 8 * g));
            VI a1 = _mm256_loadu_si256((const VI *)(c->pk_bias[L] + 8 * g + 8));
            for (int j = 0; j < J; j++) {
                int32_t a;
                memcpy(&a, px + 4 * j, 4);
                const VI av = _mm256_set1_epi32(a);
                a0 = _mm256_dpbusd_avx_epi32(a0, av, _mm256_loadu_si256(wv + (size_t)g * J + j));
                a1 = _mm256_dpbusd_avx_epi32(a1, av, _mm256_loadu_si256(wv + (size_t)(g + 1) * J + j));
            }
            q8a_out(out + (ptrdiff_t)x * cp + 8 * g, a0, _mm256_loadu_ps(c->pk_scale[L] + 8 * g), bl->pw_act.kind,
                    _mm256_loadu_ps(c->pk_slope[L] + 8 * g), res + (ptrdiff_t)x * cp + 8 * g, rs);
            q8a_out(out + (ptrdiff_t)x * cp + 8 * g + 8, a1, _mm256_loadu_ps(c->pk_scale[L] + 8 * g + 8), bl->pw_act.kind,
                    _mm256_loadu_ps(c->pk_slope[L] + 8 * g + 8), res + (ptrdiff_t)x * cp + 8 * g + 8, rs);
        }
    }
}

/* One pixel's 16 pointwise outputs from their sums: act(rq) + residual, sat, stored as u8. */
SK_TGT SK_INLINE void q8a_pw_px(V *v0, V *v1, VI a0, VI a1, const q8_ctx *c, int L, int o, int kind, const uint8_t *res, V rs)
{
    const __m128i xr = _mm_xor_si128(_mm_loadu_si128((const __m128i *)res), _mm_set1_epi8((char)0x80));
    const V r0 = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(xr)), rs);
    const V r1 = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(xr, 8))), rs);
    *v0 = _mm256_add_ps(q8a_val(a0, c->pk_scale[L] + o, c->pk_slope[L] + o, kind), r0);
    *v1 = _mm256_add_ps(q8a_val(a1, c->pk_scale[L] + o + 8, c->pk_slope[L] + o + 8, kind), r1);
}

/* Pointwise: two pixels x 16 output channels per step, sharing every weight load. d holds q (s8). A row
 * of odd width also makes the pixel after its last: d, res and out have margins there (out's is
 * rewritten by q8_pad_x afterwards). */
SK_TGT SK_INLINE void q8a_pw_rows(q8_ctx *c, int i, const uint8_t *d, const uint8_t *res, uint8_t *out, const int cp)
{
    const int J = cp / 4, L = 2 + 2 * i, w = c->rw, kind = c->net->block[i].pw_act.kind;
    const V rs = _mm256_set1_ps(c->net->block[i].res_scale);
    const VI *wv = (const VI *)(const void *)c->pk_pw[i], u8 = _mm256_set1_epi8((char)0x80);
    for (int x = 0; x < w; x += 2) {
        const uint8_t *pa = d + (ptrdiff_t)x * cp, *pb = pa + cp;
        for (int g = 0; g < cp / 8; g += 2) {
            VI a0 = _mm256_loadu_si256((const VI *)(c->pk_bias[L] + 8 * g)), a1 = _mm256_loadu_si256((const VI *)(c->pk_bias[L] + 8 * g + 8));
            VI b0 = a0, b1 = a1;
            const VI *w0 = wv + 2 * (size_t)g * J, *w1 = w0 + 2 * J;
            for (int j = 0; j < J; j++) {
                int32_t qa, qb;
                memcpy(&qa, pa + 4 * j, 4);
                memcpy(&qb, pb + 4 * j, 4);
                const VI va = _mm256_set1_epi32(qa), vb = _mm256_set1_epi32(qb);
                const VI s0 = _mm256_loadu_si256(w0 + 2 * j), m0 = _mm256_loadu_si256(w0 + 2 * j + 1);
                const VI s1 = _mm256_loadu_si256(w1 + 2 * j), m1 = _mm256_loadu_si256(w1 + 2 * j + 1);
                a0 = q8a_sdp(a0, va, s0, m0);
                b0 = q8a_sdp(b0, vb, s0, m0);
                a1 = q8a_sdp(a1, va, s1, m1);
                b1 = q8a_sdp(b1, vb, s1, m1);
            }
            const ptrdiff_t o = (ptrdiff_t)x * cp + 8 * g;
            V va0, va1, vb0, vb1;
            q8a_pw_px(&va0, &va1, a0, a1, c, L, 8 * g, kind, res + o, rs);
            q8a_pw_px(&vb0, &vb1, b0, b1, c, L, 8 * g, kind, res + o + cp, rs);
            const VI q = q8a_sat32(va0, va1, vb0, vb1, u8);
            _mm_storeu_si128((__m128i *)(out + o), _mm256_castsi256_si128(q));
            _mm_storeu_si128((__m128i *)(out + o + cp), _mm256_extracti128_si256(q, 1));
        }
    }
}

static SK_TGT SK_NOINLINE void qop_pw_row(q8_ctx *c, int i, const uint8_t *d, const uint8_t *res, uint8_t *out)
{
    /* Cp 16 (sr2x) as a constant: its inner loop unrolled (32 measured slower so). */
    if (c->vnni) q8a_pw_vnni(c, i, d, res, out);
    else if (c->Cp == 16) q8a_pw_rows(c, i, d, res, out, 16);
    else q8a_pw_rows(c, i, d, res, out, c->Cp);
}

/* Tail: 8 pixels per vector (their dwords transposed from 16-byte rows, pixels 0-3 in the low lane),
 * 4 planar float outputs. */
static SK_TGT SK_NOINLINE void qop_tail_row(q8_ctx *c, const uint8_t *row, int x0, int n, float *t, ptrdiff_t plane)
{
    const int cp = c->Cp, nq = cp / 4, L = 1 + 2 * c->net->blocks, kind = c->net->tail_act.kind;
    const int32_t *wt = (const int32_t *)(const void *)c->pk_tail;
    const VI u8 = _mm256_set1_epi8((char)0x80);
    for (int x = x0; x < x0 + n; x += 8) {
        const int left = x0 + n - x;
        const VI m = _mm256_cmpgt_epi32(_mm256_set1_epi32(left), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
        VI acc[4];
        for (int j = 0; j < 4; j++) acc[j] = _mm256_set1_epi32(c->pk_bias[L][j]);
        for (int cb = 0; cb < cp / 16; cb++) {
            const uint8_t *p = row + (ptrdiff_t)x * cp + 16 * cb;
#define Q8A_LD(a, b) _mm256_xor_si256(_mm256_inserti128_si256(_mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)(p + (a) * cp))), \
                                                            _mm_loadu_si128((const __m128i *)(p + (b) * cp)), 1), u8)
            const VI A = Q8A_LD(0, 4), B = Q8A_LD(1, 5), C = Q8A_LD(2, 6), D = Q8A_LD(3, 7);
#undef Q8A_LD
            const VI t0 = _mm256_unpacklo_epi32(A, B), t1 = _mm256_unpackhi_epi32(A, B);
            const VI t2 = _mm256_unpacklo_epi32(C, D), t3 = _mm256_unpackhi_epi32(C, D);
            const VI q[4] = { _mm256_unpacklo_epi64(t0, t2), _mm256_unpackhi_epi64(t0, t2), _mm256_unpacklo_epi64(t1, t3),
                              _mm256_unpackhi_epi64(t1, t3) };
            for (int qq = 0; qq < 4; qq++)
                for (int j = 0; j < 4; j++) {
                    const int32_t *wq = wt + 2 * (j * nq + 4 * cb + qq);
                    acc[j] = q8a_sdp(acc[j], q[qq], _mm256_set1_epi32(wq[0]), _mm256_set1_epi32(wq[1]));
                }
        }
        for (int j = 0; j < 4; j++) {
            const V v = vact(_mm256_mul_ps(_mm256_cvtepi32_ps(acc[j]), _mm256_set1_ps(c->pk_scale[L][j])), kind,
                             _mm256_set1_ps(c->pk_slope[L][j]));
            _mm256_maskstore_ps(t + (ptrdiff_t)j * plane + x, m, v);
        }
    }
}

#define Q8_TGT SK_TGT
#define Q8_ENTRY sk_subpixel_q8_avx2
#define Q8_ENTRY_VNNI sk_subpixel_q8_avxvnni
#include "sk_q8_driver.h"
