/*
 * sk_q8_avx2.h - AVX2 trunk rows of the int8 sub-pixel kernel
 * (slice_kernels_q8.h), included by x86_avx2.c after sk_fused_simd.h; also
 * what the dispatcher's AVX-512 level runs on CPUs without AVX512_VNNI/VBMI.
 *
 * Same pixel-major rows as the AVX-512 VNNI body, 8 channels per ymm. Without
 * VNNI, a 4-byte dot product u8 x s8 is two vpmaddwd on 16-bit halves (the
 * u8 bytes zero-extended, the s8 weights sign-extended): exact int32, never
 * vpmaddubsw (its int16 pair sums saturate at 255 * 127 * 2). Depthwise and
 * head taps are one vpmaddwd each against (w, 0) word pairs.
 */
#ifndef SK_TGT
#error "include from x86_avx2.c"
#endif

#include "sk_q8_ctx.h"

typedef __m256i VI;

/* acc + sum_t a[t] * w[t] per dword: a as u8 bytes, w pre-split into sign-extended words
 * we = (w0, w2), wo = (w1, w3). */
SK_TGT SK_INLINE VI q8a_dp(VI acc, VI a, VI we, VI wo)
{
    const VI ae = _mm256_and_si256(a, _mm256_set1_epi16(0x00FF)), ao = _mm256_srli_epi16(a, 8);
    return _mm256_add_epi32(acc, _mm256_add_epi32(_mm256_madd_epi16(ae, we), _mm256_madd_epi16(ao, wo)));
}
SK_TGT SK_INLINE VI q8a_even(VI w) { return _mm256_srai_epi16(_mm256_slli_epi16(w, 8), 8); }
SK_TGT SK_INLINE VI q8a_odd(VI w) { return _mm256_srai_epi16(w, 8); }

/* act(rq(acc)) [+ (float)x * rs], then sat and + 128, as 8 bytes. */
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

/* A k x k layer as [g][tap] vectors, lane l: the word pair (w[8g + l][tap], 0). */
static SK_TGT void q8a_pack_taps(uint8_t *dst, const int8_t *w, int C, int cp, int kk)
{
    int32_t *d = (int32_t *)(void *)dst;
    for (int g = 0; g < cp / 8; g++)
        for (int t = 0; t < kk; t++)
            for (int l = 0; l < 8; l++, d++) {
                const int ch = 8 * g + l;
                const int32_t v = (uint16_t)(int16_t)(ch < C ? w[ch * kk + t] : 0);
                memcpy(d, &v, 4);
            }
}

static SK_TGT void qop_pack(q8_ctx *c)
{
    const sk_subpixel_q8_net *n = c->net;
    const int C = c->C, cp = c->Cp, kk = c->k * c->k;
    q8_pack_common(c);
    q8a_pack_taps(c->pk_head, n->head_weight, C, cp, kk);
    for (int i = 0; i < n->blocks; i++) {
        q8a_pack_taps(c->pk_dw[i], n->block[i].dw_weight, C, cp, kk);
        if (c->vnni) {
            /* Pointwise for vpdpbusd, [g][j]: lane l, byte t = w[8g + l][4j + t]. */
            int8_t *d = (int8_t *)c->pk_pw[i];
            for (int g = 0; g < cp / 8; g++)
                for (int j = 0; j < cp / 4; j++, d += 32)
                    for (int l = 0; l < 8; l++)
                        for (int t = 0; t < 4; t++) {
                            const int co = 8 * g + l, ci = 4 * j + t;
                            d[4 * l + t] = co < C && ci < C ? n->block[i].pw_weight[co * C + ci] : 0;
                        }
            continue;
        }
        /* Pointwise [g][j]: we then wo, lane l: words (w[co][4j], w[co][4j+2]) and (..+1, ..+3). */
        int16_t *d = (int16_t *)(void *)c->pk_pw[i];
        for (int g = 0; g < cp / 8; g++)
            for (int j = 0; j < cp / 4; j++, d += 32)
                for (int l = 0; l < 8; l++)
                    for (int t = 0; t < 4; t++) {
                        const int co = 8 * g + l, ci = 4 * j + t;
                        const int16_t v = co < C && ci < C ? n->block[i].pw_weight[co * C + ci] : 0;
                        memcpy(d + (t & 1) * 16 + 2 * l + (t >> 1), &v, 2);
                    }
    }
    int8_t *d = (int8_t *)c->pk_tail;
    for (int j = 0; j < 4; j++)
        for (int ci = 0; ci < cp; ci++) d[j * cp + ci] = ci < C ? n->tail_weight[j * C + ci] : 0;
}

static SK_TGT void qop_head_row(q8_ctx *c, const uint8_t *const *rows, uint8_t *out)
{
    const int k = c->k, r = c->r, kk = k * k, cp = c->Cp, w = c->rw, kind = c->net->head_act.kind;
    for (int g = 0; g < cp / 8; g++) {
        const VI *wv = (const VI *)(const void *)(c->pk_head + (size_t)g * kk * 32);
        const VI b = _mm256_loadu_si256((const VI *)(c->pk_bias[0] + 8 * g));
        const V s = _mm256_loadu_ps(c->pk_scale[0] + 8 * g), sl = _mm256_loadu_ps(c->pk_slope[0] + 8 * g);
        for (int x = 0; x < w; x++) {
            VI acc = b;
            for (int ky = 0; ky < k; ky++)
                for (int kx = 0; kx < k; kx++)
                    acc = _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_set1_epi32(rows[ky][x + kx - r]),
                                                                  _mm256_loadu_si256(wv + ky * k + kx)));
            q8a_out(out + (ptrdiff_t)x * cp + 8 * g, acc, s, kind, sl, NULL, s);
        }
    }
}

static SK_TGT void qop_dw_row(q8_ctx *c, int i, const uint8_t *const *rows, uint8_t *out)
{
    const int k = c->k, r = c->r, kk = k * k, cp = c->Cp, w = c->rw, L = 1 + 2 * i;
    const int kind = c->net->block[i].dw_act.kind;
    for (int g = 0; g < cp / 8; g++) {
        const VI *wv = (const VI *)(const void *)(c->pk_dw[i] + (size_t)g * kk * 32);
        const VI b = _mm256_loadu_si256((const VI *)(c->pk_bias[L] + 8 * g));
        const V s = _mm256_loadu_ps(c->pk_scale[L] + 8 * g), sl = _mm256_loadu_ps(c->pk_slope[L] + 8 * g);
        for (int x = 0; x < w; x++) {
            VI acc = b;
            for (int ky = 0; ky < k; ky++) {
                const uint8_t *p = rows[ky] + (ptrdiff_t)(x - r) * cp + 8 * g;
                for (int kx = 0; kx < k; kx++) {
                    const VI v = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(p + (ptrdiff_t)kx * cp)));
                    acc = _mm256_add_epi32(acc, _mm256_madd_epi16(v, _mm256_loadu_si256(wv + ky * k + kx)));
                }
            }
            q8a_out(out + (ptrdiff_t)x * cp + 8 * g, acc, s, kind, sl, NULL, s);
        }
    }
}

/* AVX-VNNI (VEX vpdpbusd, CPUs with it but without AVX-512): the pointwise row, one instruction per
 * 4 input channels x 8 output channels instead of six; two groups at a time share the broadcast. */
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

static SK_TGT void qop_pw_row(q8_ctx *c, int i, const uint8_t *d, const uint8_t *res, uint8_t *out)
{
    if (c->vnni) {
        q8a_pw_vnni(c, i, d, res, out);
        return;
    }
    const int cp = c->Cp, J = cp / 4, L = 2 + 2 * i, w = c->rw;
    const sk_q8_block *bl = &c->net->block[i];
    const V rs = _mm256_set1_ps(bl->res_scale);
    const VI *wv = (const VI *)(const void *)c->pk_pw[i];
    for (int x = 0; x < w; x++) {
        const uint8_t *px = d + (ptrdiff_t)x * cp;
        for (int g = 0; g < cp / 8; g++) {
            VI acc = _mm256_loadu_si256((const VI *)(c->pk_bias[L] + 8 * g));
            for (int j = 0; j < J; j++) {
                int32_t a;
                memcpy(&a, px + 4 * j, 4);
                acc = q8a_dp(acc, _mm256_set1_epi32(a), _mm256_loadu_si256(wv + 2 * (g * J + j)),
                             _mm256_loadu_si256(wv + 2 * (g * J + j) + 1));
            }
            q8a_out(out + (ptrdiff_t)x * cp + 8 * g, acc, _mm256_loadu_ps(c->pk_scale[L] + 8 * g), bl->pw_act.kind,
                    _mm256_loadu_ps(c->pk_slope[L] + 8 * g), res + (ptrdiff_t)x * cp + 8 * g, rs);
        }
    }
}

/* Tail: 8 pixels per vector, dword q of each pixel gathered; 4 planar float outputs. */
static SK_TGT void qop_tail_row(q8_ctx *c, const uint8_t *row, int x0, int n, float *t, ptrdiff_t plane)
{
    const int cp = c->Cp, nq = cp / 4, L = 1 + 2 * c->net->blocks, kind = c->net->tail_act.kind;
    const int32_t *wt = (const int32_t *)(const void *)c->pk_tail;
    const VI lane = _mm256_mullo_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), _mm256_set1_epi32(nq));
    for (int x = x0; x < x0 + n; x += 8) {
        const int left = x0 + n - x;
        const VI m = _mm256_cmpgt_epi32(_mm256_set1_epi32(left), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
        const int *p = (const int *)(const void *)(row + (ptrdiff_t)x * cp);
        VI acc[4];
        for (int j = 0; j < 4; j++) acc[j] = _mm256_set1_epi32(c->pk_bias[L][j]);
        for (int q = 0; q < nq; q++) {
            const VI a = _mm256_mask_i32gather_epi32(_mm256_setzero_si256(), p, _mm256_add_epi32(lane, _mm256_set1_epi32(q)), m, 4);
            for (int j = 0; j < 4; j++) {
                int32_t wq;
                memcpy(&wq, wt + j * nq + q, 4);
                const VI wb = _mm256_set1_epi32(wq);
                acc[j] = q8a_dp(acc[j], a, q8a_even(wb), q8a_odd(wb));
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
