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

/* act(rq(acc)) [+ (float)x * rs], then sat and + 128, as 16 bytes. */
Q8V_TGT SK_INLINE __m128i q8v_out(VI acc, V scale, int kind, V slope, const uint8_t *res, V rs)
{
    V v = vact(_mm512_mul_ps(_mm512_cvtepi32_ps(acc), scale), kind, slope);
    if (res) {
        const __m128i xb = _mm_xor_si128(_mm_loadu_si128((const __m128i *)res), _mm_set1_epi8((char)0x80));
        v = _mm512_add_ps(v, _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(xb)), rs));
    }
    v = _mm512_min_ps(_mm512_max_ps(v, _mm512_set1_ps(-127.0f)), _mm512_set1_ps(127.0f));
    return _mm_xor_si128(_mm512_cvtepi32_epi8(_mm512_cvtps_epi32(v)), _mm_set1_epi8((char)0x80));
}

/* Weights of a k x k layer as [g][ky][q] vectors: lane l, byte t = w[16g + l][ky][4q + t]. */
static Q8V_TGT void q8v_pack_kxk(uint8_t *dst, const int8_t *w, int C, int cp, int k)
{
    const int nq = (k + 3) / 4;
    int8_t *d = (int8_t *)dst;
    for (int g = 0; g < cp / 16; g++)
        for (int ky = 0; ky < k; ky++)
            for (int q = 0; q < nq; q++, d += 64)
                for (int l = 0; l < 16; l++)
                    for (int t = 0; t < 4; t++) {
                        const int ch = 16 * g + l, kx = 4 * q + t;
                        d[4 * l + t] = ch < C && kx < k ? w[(ch * k + ky) * k + kx] : 0;
                    }
}

static Q8V_TGT void qop_pack(q8_ctx *c)
{
    const sk_subpixel_q8_net *n = c->net;
    const int C = c->C, cp = c->Cp;
    q8_pack_common(c);
    q8v_pack_kxk(c->pk_head, n->head_weight, C, cp, c->k);
    for (int i = 0; i < n->blocks; i++) {
        q8v_pack_kxk(c->pk_dw[i], n->block[i].dw_weight, C, cp, c->k);
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

Q8V_TGT SK_INLINE void q8v_head(q8_ctx *c, const uint8_t *const *rows, uint8_t *out, const int k)
{
    const int r = k / 2, nq = (k + 3) / 4, cp = c->Cp, w = c->rw;
    for (int g = 0; g < cp / 16; g++) {
        VI wv[SK_MAX_K * 2];
        const uint8_t *rq[SK_MAX_K * 2];
        for (int i = 0; i < k * nq; i++) {
            wv[i] = _mm512_loadu_si512(c->pk_head + ((size_t)g * k * nq + i) * 64);
            rq[i] = rows[i / nq] + 4 * (i % nq) - r;
        }
        const VI b = _mm512_loadu_si512(c->pk_bias[0] + 16 * g);
        const V s = _mm512_loadu_ps(c->pk_scale[0] + 16 * g), sl = _mm512_loadu_ps(c->pk_slope[0] + 16 * g);
        const int kind = c->net->head_act.kind;
        for (int x = 0; x < w; x++) {
            VI acc = b;
            for (int i = 0; i < k * nq; i++) {
                int32_t a;
                memcpy(&a, rq[i] + x, 4);
                acc = q8v_dp(acc, _mm512_set1_epi32(a), wv[i]);
            }
            _mm_storeu_si128((__m128i *)(out + (ptrdiff_t)x * cp + 16 * g), q8v_out(acc, s, kind, sl, NULL, s));
        }
    }
}

static Q8V_TGT SK_NOINLINE void q8v_head3(q8_ctx *c, const uint8_t *const *r, uint8_t *o) { q8v_head(c, r, o, 3); }
static Q8V_TGT SK_NOINLINE void q8v_headn(q8_ctx *c, const uint8_t *const *r, uint8_t *o) { q8v_head(c, r, o, c->k); }

static Q8V_TGT void qop_head_row(q8_ctx *c, const uint8_t *const *rows, uint8_t *out)
{
    if (c->k == 3) q8v_head3(c, rows, out);
    else q8v_headn(c, rows, out);
}

/* Lane c, byte t = channel c of pixel p + t (p: pixel-major row at the window's first pixel). */
Q8V_TGT SK_INLINE VI q8v_window(const uint8_t *p, int cp, VI idx16, VI idx32)
{
    if (cp == 16) return _mm512_permutexvar_epi8(idx16, _mm512_loadu_si512(p));
    if (cp == 32) return _mm512_permutex2var_epi8(_mm512_loadu_si512(p), idx32, _mm512_loadu_si512(p + 64));
    VI z = _mm512_castsi128_si512(_mm_loadu_si128((const __m128i *)p));
    z = _mm512_inserti32x4(z, _mm_loadu_si128((const __m128i *)(p + cp)), 1);
    z = _mm512_inserti32x4(z, _mm_loadu_si128((const __m128i *)(p + 2 * cp)), 2);
    z = _mm512_inserti32x4(z, _mm_loadu_si128((const __m128i *)(p + 3 * cp)), 3);
    return _mm512_permutexvar_epi8(idx16, z);
}

/* The depthwise row for a constant CP (16 and 32 get their own copies, windows in registers). */
Q8V_TGT SK_INLINE void q8v_dw(q8_ctx *c, int i, const uint8_t *const *rows, uint8_t *out, const int cp, const int k)
{
    const int r = k / 2, nq = (k + 3) / 4, w = c->rw, L = 1 + 2 * i;
    const sk_act act = c->net->block[i].dw_act;
    uint8_t i16[64], i32[64];
    for (int l = 0; l < 16; l++)
        for (int t = 0; t < 4; t++) {
            i16[4 * l + t] = (uint8_t)(16 * t + l);
            i32[4 * l + t] = (uint8_t)(32 * t + l);
        }
    const VI idx16 = _mm512_loadu_si512(i16), idx32 = _mm512_loadu_si512(i32);
    for (int g = 0; g < cp / 16; g++) {
        VI wv[SK_MAX_K * 2];
        const uint8_t *rq[SK_MAX_K * 2];
        for (int j = 0; j < k * nq; j++) {
            wv[j] = _mm512_loadu_si512(c->pk_dw[i] + ((size_t)g * k * nq + j) * 64);
            rq[j] = rows[j / nq] + (ptrdiff_t)(4 * (j % nq) - r) * cp + 16 * g;
        }
        const VI b = _mm512_loadu_si512(c->pk_bias[L] + 16 * g);
        const V s = _mm512_loadu_ps(c->pk_scale[L] + 16 * g), sl = _mm512_loadu_ps(c->pk_slope[L] + 16 * g);
        for (int x = 0; x < w; x++) {
            VI acc = b;
            for (int j = 0; j < k * nq; j++)
                acc = q8v_dp(acc, q8v_window(rq[j] + (ptrdiff_t)x * cp, cp, idx16, idx32), wv[j]);
            _mm_storeu_si128((__m128i *)(out + (ptrdiff_t)x * cp + 16 * g), q8v_out(acc, s, act.kind, sl, NULL, s));
        }
    }
}

/* Copies for the shipped shapes (k 3; C 16, 32), so the taps unroll and the weights stay in registers. */
static Q8V_TGT SK_NOINLINE void q8v_dw16k3(q8_ctx *c, int i, const uint8_t *const *r, uint8_t *o) { q8v_dw(c, i, r, o, 16, 3); }
static Q8V_TGT SK_NOINLINE void q8v_dw32k3(q8_ctx *c, int i, const uint8_t *const *r, uint8_t *o) { q8v_dw(c, i, r, o, 32, 3); }
static Q8V_TGT SK_NOINLINE void q8v_dwn(q8_ctx *c, int i, const uint8_t *const *r, uint8_t *o) { q8v_dw(c, i, r, o, c->Cp, c->k); }

static Q8V_TGT void qop_dw_row(q8_ctx *c, int i, const uint8_t *const *rows, uint8_t *out)
{
    if (c->Cp == 16 && c->k == 3) q8v_dw16k3(c, i, rows, out);
    else if (c->Cp == 32 && c->k == 3) q8v_dw32k3(c, i, rows, out);
    else q8v_dwn(c, i, rows, out);
}

/* The pointwise row for a constant CP: weights of up to two groups stay in registers. */
Q8V_TGT SK_INLINE void q8v_pw(q8_ctx *c, int i, const uint8_t *d, const uint8_t *res, uint8_t *out, const int cp)
{
    const int J = cp / 4, L = 2 + 2 * i, w = c->rw;
    const sk_q8_block *bl = &c->net->block[i];
    const V rs = _mm512_set1_ps(bl->res_scale);
    if (cp <= 32) {
        VI wv[16], b[2];
        V s[2], sl[2];
        for (int g = 0; g < cp / 16; g++) {
            for (int j = 0; j < J; j++) wv[g * J + j] = _mm512_loadu_si512(c->pk_pw[i] + ((size_t)g * J + j) * 64);
            b[g] = _mm512_loadu_si512(c->pk_bias[L] + 16 * g);
            s[g] = _mm512_loadu_ps(c->pk_scale[L] + 16 * g);
            sl[g] = _mm512_loadu_ps(c->pk_slope[L] + 16 * g);
        }
        for (int x = 0; x < w; x++) {
            const uint8_t *px = d + (ptrdiff_t)x * cp;
            VI acc[2];
            for (int g = 0; g < cp / 16; g++) acc[g] = b[g];
            for (int j = 0; j < J; j++) {
                int32_t a;
                memcpy(&a, px + 4 * j, 4);
                const VI av = _mm512_set1_epi32(a);
                for (int g = 0; g < cp / 16; g++) acc[g] = q8v_dp(acc[g], av, wv[g * J + j]);
            }
            for (int g = 0; g < cp / 16; g++)
                _mm_storeu_si128((__m128i *)(out + (ptrdiff_t)x * cp + 16 * g),
                                 q8v_out(acc[g], s[g], bl->pw_act.kind, sl[g], res + (ptrdiff_t)x * cp + 16 * g, rs));
        }
        return;
    }
    for (int x = 0; x < w; x++) {
        const uint8_t *px = d + (ptrdiff_t)x * cp;
        for (int g = 0; g < cp / 16; g++) {
            VI acc = _mm512_loadu_si512(c->pk_bias[L] + 16 * g);
            for (int j = 0; j < J; j++) {
                int32_t a;
                memcpy(&a, px + 4 * j, 4);
                acc = q8v_dp(acc, _mm512_set1_epi32(a), _mm512_loadu_si512(c->pk_pw[i] + ((size_t)g * J + j) * 64));
            }
            _mm_storeu_si128((__m128i *)(out + (ptrdiff_t)x * cp + 16 * g),
                             q8v_out(acc, _mm512_loadu_ps(c->pk_scale[L] + 16 * g), bl->pw_act.kind,
                                     _mm512_loadu_ps(c->pk_slope[L] + 16 * g), res + (ptrdiff_t)x * cp + 16 * g, rs));
        }
    }
}

static Q8V_TGT SK_NOINLINE void q8v_pw16(q8_ctx *c, int i, const uint8_t *d, const uint8_t *r, uint8_t *o) { q8v_pw(c, i, d, r, o, 16); }
static Q8V_TGT SK_NOINLINE void q8v_pw32(q8_ctx *c, int i, const uint8_t *d, const uint8_t *r, uint8_t *o) { q8v_pw(c, i, d, r, o, 32); }
static Q8V_TGT SK_NOINLINE void q8v_pwn(q8_ctx *c, int i, const uint8_t *d, const uint8_t *r, uint8_t *o) { q8v_pw(c, i, d, r, o, c->Cp); }

static Q8V_TGT void qop_pw_row(q8_ctx *c, int i, const uint8_t *d, const uint8_t *res, uint8_t *out)
{
    if (c->Cp == 16) q8v_pw16(c, i, d, res, out);
    else if (c->Cp == 32) q8v_pw32(c, i, d, res, out);
    else q8v_pwn(c, i, d, res, out);
}

/* Tail: 16 pixels per vector, dword q of each pixel gathered; 4 planar float outputs. */
static Q8V_TGT void qop_tail_row(q8_ctx *c, const uint8_t *row, int x0, int n, float *t, ptrdiff_t plane)
{
    const int cp = c->Cp, nq = cp / 4, L = 1 + 2 * c->net->blocks, kind = c->net->tail_act.kind;
    const int32_t *wt = (const int32_t *)(const void *)c->pk_tail;
    const VI lane = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                       _mm512_set1_epi32(nq));
    for (int x = x0; x < x0 + n; x += 16) {
        const __mmask16 m = (__mmask16)(n - (x - x0) >= 16 ? 0xFFFF : (1u << (n - (x - x0))) - 1u);
        const uint8_t *p = row + (ptrdiff_t)x * cp;
        VI acc[4];
        for (int j = 0; j < 4; j++) acc[j] = _mm512_set1_epi32(c->pk_bias[L][j]);
        for (int q = 0; q < nq; q++) {
            const VI a = _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), m, _mm512_add_epi32(lane, _mm512_set1_epi32(q)), p, 4);
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
#define Q8_ENTRY sk_subpixel_q8_avx512
#include "sk_q8_driver.h"
