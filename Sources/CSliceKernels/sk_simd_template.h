/*
 * sk_simd_template.h - ISA-generic SIMD kernels, included once per ISA.
 *
 * The including file (x86_avx2.c, x86_avx512.c) defines:
 *   SK_TGT            function attribute enabling the ISA
 *   SK_SFX(name)      public-name suffixer (name##_avx2, ...)
 *   V, VL             vector type and lane count
 *   vload vstore vloadn vstoren vset1 vfma vmul vadd
 *   vact vinterleave vdeinterleave
 *   cvt_u8_row cvt_f32_row   (conversion row kernels)
 *   PW_CB PW_NV CV_CB CV_NV  (register blocking of pointwise / full conv)
 *
 * Design rules (see slice_kernels.h for the contract):
 *   - vectorise across output pixels only; each lane performs exactly the
 *     reference's scalar operation sequence, so results are bit-identical;
 *   - interior blocks load straight from the input rows; blocks whose taps
 *     leave the plane (left/right edges, short rows, zero-border rows) first
 *     copy the few needed input values into a small stack line with the
 *     border rule applied, then run the same vector code on it;
 *   - the last partial vector of a row is stored with a lane mask, so nothing
 *     outside [0, w) of an output row is ever written.
 */

#ifndef SK_TGT
#error "include from an ISA file"
#endif

/* ===================================================== depthwise conv */

#define DW_NV 4 /* vectors per interior block: 4 independent FMA chains */

SK_TGT SK_INLINE void dw_compute(const float *const *s, const int K, const V *wv,
                                 V b, const int NV, V *acc)
{
    for (int v = 0; v < NV; v++) acc[v] = b;
    for (int ky = 0; ky < K; ky++)
        for (int kx = 0; kx < K; kx++) {
            const V w = wv[ky * K + kx];
            for (int v = 0; v < NV; v++)
                acc[v] = vfma(w, vload(s[ky] + v * VL + kx), acc[v]);
        }
}

/* One output row of one channel: rows[ky] are the (clamped) input rows, NULL
 * for a zero-border row outside the plane (then rows_ok is 0). Shared by the
 * band kernel and the fused kernels (sk_fused_simd.h). */
SK_TGT SK_INLINE void dw_row_x(const float *const *rows, int rows_ok, float *o, int w,
                               const int K, const V *wv, V b, V sl, int kind, int zero)
{
    const int r = K / 2;
    float tmp[SK_MAX_K][VL + SK_MAX_K - 1];
    const float *s[SK_MAX_K];
    int x0 = 0;
    while (x0 < w) {
        if (rows_ok && x0 >= r && x0 + DW_NV * VL + r <= w) {
            V acc[DW_NV];
            for (int ky = 0; ky < K; ky++) s[ky] = rows[ky] + x0 - r;
            dw_compute(s, K, wv, b, DW_NV, acc);
            for (int v = 0; v < DW_NV; v++) vstore(o + x0 + v * VL, vact(acc[v], kind, sl));
            x0 += DW_NV * VL;
        } else if (rows_ok && x0 >= r && x0 + VL + r <= w) {
            V acc[1];
            for (int ky = 0; ky < K; ky++) s[ky] = rows[ky] + x0 - r;
            dw_compute(s, K, wv, b, 1, acc);
            vstore(o + x0, vact(acc[0], kind, sl));
            x0 += VL;
        } else {
            V acc[1];
            const int n = sk_mini(VL, w - x0);
            for (int ky = 0; ky < K; ky++) {
                sk_fetch_line(tmp[ky], rows[ky], w, x0 - r, VL + 2 * r, zero);
                s[ky] = tmp[ky];
            }
            dw_compute(s, K, wv, b, 1, acc);
            if (n == VL) vstore(o + x0, vact(acc[0], kind, sl));
            else vstoren(o + x0, vact(acc[0], kind, sl), n);
            x0 += VL;
        }
    }
}

SK_TGT SK_INLINE void dw_band(const sk_tensor *in, const sk_tensor *out,
                              const float *weight, const float *bias, const int K,
                              int border, sk_act act, int y0, int y1)
{
    const int r = K / 2, w = in->w, h = in->h, zero = border == SK_BORDER_ZERO;
    V wv[SK_MAX_K * SK_MAX_K];
    for (int c = 0; c < out->c; c++) {
        for (int i = 0; i < K * K; i++) wv[i] = vset1(weight[(ptrdiff_t)c * K * K + i]);
        const V b = vset1(bias ? bias[c] : 0.0f);
        const V sl = vset1(sk_slope(act, c));
        for (int y = y0; y < y1; y++) {
            const float *rows[SK_MAX_K];
            int rows_ok = 1;
            for (int ky = 0; ky < K; ky++) {
                int iy = y + ky - r;
                if (iy < 0 || iy >= h) {
                    if (zero) { rows[ky] = NULL; rows_ok = 0; continue; }
                    iy = sk_clampi(iy, 0, h - 1);
                }
                rows[ky] = sk_row(in, c, iy);
            }
            dw_row_x(rows, rows_ok, sk_row(out, c, y), w, K, wv, b, sl, act.kind, zero);
        }
    }
}

#define DW_INST(KK)                                                               \
    static SK_TGT SK_NOINLINE void dw_band_k##KK(const sk_tensor *in, const sk_tensor *out, \
        const float *weight, const float *bias, int border, sk_act act, int y0, int y1) \
    {                                                                             \
        dw_band(in, out, weight, bias, KK, border, act, y0, y1);                  \
    }
DW_INST(1)
DW_INST(3)
DW_INST(5)
DW_INST(7)

SK_TGT int SK_SFX(sk_dwconv)(const sk_tensor *in, const sk_tensor *out, const float *weight,
                             const float *bias, int k, int border, sk_act act, int y0, int y1)
{
    int e = sk__check_dwconv(in, out, weight, k, border, act, y0, y1);
    if (e) return e;
    switch (k) {
    case 1: dw_band_k1(in, out, weight, bias, border, act, y0, y1); break;
    case 3: dw_band_k3(in, out, weight, bias, border, act, y0, y1); break;
    case 5: dw_band_k5(in, out, weight, bias, border, act, y0, y1); break;
    default: dw_band_k7(in, out, weight, bias, border, act, y0, y1); break;
    }
    return SK_OK;
}

/* ===================================================== pointwise conv */

/* Software prefetch distances (floats) for the pointwise kernel. With Cin
 * input and Cout output planes streamed at once, the hardware prefetchers
 * alone leave full-frame (DRAM-resident) runs at about half the speed of
 * cache-resident ones; prefetching the inputs two strips ahead and the
 * outputs/residuals (for ownership) one strip ahead recovers most of it.
 * Prefetches never fault, and the addresses are formed as integers, so
 * running past the end of a buffer is harmless. */
#define PW_PF_IN 1920
#define PW_PF_OUT 960

SK_INLINE void sk_prefetch(const float *p, ptrdiff_t ahead, int write)
{
    const void *a = (const void *)((uintptr_t)p + (uintptr_t)ahead * sizeof(float));
    if (write) __builtin_prefetch(a, 1, 3);
    else __builtin_prefetch(a, 0, 3);
}

/* One tile: CB output channels x NV vectors of pixels, all accumulators in
 * registers; every input vector is loaded once and used CB times, every
 * broadcast weight NV times. MASK (NV == 1 only): the tile has n < VL valid
 * pixels and uses masked loads/stores. pf: also prefetch the inputs ahead
 * (done by the first channel block of a strip only). */
SK_TGT SK_INLINE void pw_tile(const float *ip, ptrdiff_t ipl, int cin, const float *wt,
                              const float *bias, const int CB, const int NV, const int MASK,
                              int n, int pf, int kind, const float *slope, float *op,
                              ptrdiff_t opl, const float *rp, ptrdiff_t rpl, const float *wpk)
{
    V acc[PW_CB * PW_NV];
    for (int c = 0; c < CB; c++) {
        const V b = vset1(bias ? bias[c] : 0.0f);
        for (int v = 0; v < NV; v++) acc[c * NV + v] = b;
    }
#ifdef FZ_PW_KERNEL_3
    /* The ISA's written-out 4 x 3 loop (see x86_avx2.c) on weights packed
     * ci-major (wpk), the same fma sequence per value. */
    if (!MASK && CB == 4 && NV == 3 && PW_CB == 4 && PW_NV == 3 && wpk) {
        if (pf)
            for (int ci = 0; ci < cin; ci++)
                for (int v = 0; v < NV; v++) sk_prefetch(ip + (ptrdiff_t)ci * ipl + v * VL, PW_PF_IN, 0);
        FZ_PW_KERNEL_3((V (*)[PW_NV])acc, ip, ipl, wpk, cin);
        cin = 0;
    }
#else
    (void)wpk;
#endif
    for (int ci = 0; ci < cin; ci++) {
        V xv[PW_NV];
        const float *src = ip + (ptrdiff_t)ci * ipl;
        for (int v = 0; v < NV; v++) xv[v] = MASK ? vloadn(src, n) : vload(src + v * VL);
        if (!MASK && pf)
            for (int v = 0; v < NV; v++) sk_prefetch(src + v * VL, PW_PF_IN, 0);
        for (int c = 0; c < CB; c++) {
            const V wv = vset1(wt[(ptrdiff_t)c * cin + ci]);
            for (int v = 0; v < NV; v++) acc[c * NV + v] = vfma(wv, xv[v], acc[c * NV + v]);
        }
    }
    for (int c = 0; c < CB; c++) {
        const V sl = vset1(slope ? slope[c] : 0.0f);
        float *dst = op + (ptrdiff_t)c * opl;
        const float *rr = rp ? rp + (ptrdiff_t)c * rpl : NULL;
        for (int v = 0; v < NV; v++) {
            V a = vact(acc[c * NV + v], kind, sl);
            if (MASK) {
                if (rr) a = vadd(a, vloadn(rr, n));
                vstoren(dst, a, n);
            } else {
                if (rr) {
                    sk_prefetch(rr + v * VL, PW_PF_OUT, 0);
                    a = vadd(a, vload(rr + v * VL));
                }
                sk_prefetch(dst + v * VL, PW_PF_OUT, 1);
                vstore(dst + v * VL, a);
            }
        }
    }
}

/* Output channels [co, co + CB) for pixels [x0, x1) of one run. */
SK_TGT SK_INLINE void pw_strip(const sk_tensor *in, const sk_tensor *out, const float *weight,
                               const float *bias, sk_act act, const sk_tensor *res,
                               const float *ip, float *op, const float *rp, ptrdiff_t x0,
                               ptrdiff_t x1, int co, const int CB)
{
    const int cin = in->c;
    const ptrdiff_t rpl = res ? res->plane : 0;
    const float *wt = weight + (ptrdiff_t)co * cin;
    const float *b = bias ? bias + co : NULL;
    const float *slope = act.kind == SK_ACT_PRELU ? act.slope + co : NULL;
    float *o = op + (ptrdiff_t)co * out->plane;
    const float *r = rp ? rp + (ptrdiff_t)co * rpl : NULL;
    const float *wpk = NULL;
#ifdef FZ_PW_KERNEL_3
    float pk[256 * 4];
    if (CB == 4 && cin <= 256) {
        for (int ci = 0; ci < cin; ci++)
            for (int c = 0; c < 4; c++) pk[ci * 4 + c] = wt[(ptrdiff_t)c * cin + ci];
        wpk = pk;
    }
#endif
    ptrdiff_t x = x0;
    for (; x + PW_NV * VL <= x1; x += PW_NV * VL)
        pw_tile(ip + x, in->plane, cin, wt, b, CB, PW_NV, 0, 0, co == 0, act.kind, slope, o + x,
                out->plane, r ? r + x : NULL, rpl, wpk);
    for (; x + VL <= x1; x += VL)
        pw_tile(ip + x, in->plane, cin, wt, b, CB, 1, 0, 0, 0, act.kind, slope, o + x,
                out->plane, r ? r + x : NULL, rpl, wpk);
    if (x < x1)
        pw_tile(ip + x, in->plane, cin, wt, b, CB, 1, 1, (int)(x1 - x), 0, act.kind, slope, o + x,
                out->plane, r ? r + x : NULL, rpl, wpk);
}

/* A run of len pixels (one row, or several unpadded rows). It is cut into
 * strips of PW_STRIP pixels; all output channels of a strip are produced
 * before moving on, so the strip's Cin input planes (PW_STRIP*4 bytes each)
 * stay in L1/L2 while every output-channel block re-reads them, and each
 * plane is streamed in long contiguous chunks (prefetcher friendly). */
#define PW_STRIP 960
static SK_TGT SK_NOINLINE void pw_segment(const sk_tensor *in, const sk_tensor *out,
                                          const float *weight, const float *bias, sk_act act,
                                          const sk_tensor *res, const float *ip, float *op,
                                          const float *rp, ptrdiff_t len)
{
    for (ptrdiff_t xs = 0; xs < len; xs += PW_STRIP) {
        const ptrdiff_t xe = len - xs < PW_STRIP ? len : xs + PW_STRIP;
        int co = 0;
        for (; co + PW_CB <= out->c; co += PW_CB)
            pw_strip(in, out, weight, bias, act, res, ip, op, rp, xs, xe, co, PW_CB);
#if PW_CB > 4
        /* e.g. a sub-pixel tail's 4 outputs: one strip, not four. */
        for (; co + 4 <= out->c; co += 4)
            pw_strip(in, out, weight, bias, act, res, ip, op, rp, xs, xe, co, 4);
#endif
        for (; co < out->c; co++)
            pw_strip(in, out, weight, bias, act, res, ip, op, rp, xs, xe, co, 1);
    }
}

SK_TGT int SK_SFX(sk_pwconv)(const sk_tensor *in, const sk_tensor *out, const float *weight,
                             const float *bias, sk_act act, const sk_tensor *res, int y0, int y1)
{
    int e = sk__check_pwconv(in, out, weight, act, res, y0, y1);
    if (e) return e;
    if (y0 == y1) return SK_OK;
    const int w = out->w;
    /* Rows without padding form one long run: fewer partial vectors. */
    if (in->stride == w && out->stride == w && (!res || res->stride == w)) {
        ptrdiff_t off = (ptrdiff_t)y0 * w;
        pw_segment(in, out, weight, bias, act, res, in->data + off, out->data + off,
                   res ? res->data + off : NULL, (ptrdiff_t)(y1 - y0) * w);
        return SK_OK;
    }
    for (int y = y0; y < y1; y++)
        pw_segment(in, out, weight, bias, act, res, sk_row(in, 0, y), sk_row(out, 0, y),
                   res ? sk_row(res, 0, y) : NULL, w);
    return SK_OK;
}

/* ========================================================== full conv */

/* Tile of CB output channels x NV vectors at column x0 of one output row.
 * roff[ky]: offset of the (clamped) input row inside a plane, or -1 for a
 * zero row. EDGE: build the input lines with the border rule (NV == 1). */
SK_TGT SK_INLINE void conv_tile(const sk_tensor *in, const ptrdiff_t *roff, const int K,
                                int x0, const int EDGE, int zero, const float *wt,
                                ptrdiff_t wco, const float *bias, const int CB, const int NV,
                                V *acc)
{
    const int r = K / 2, w = in->w;
    float tmp[SK_MAX_K][VL + SK_MAX_K - 1];
    const float *s[SK_MAX_K];
    for (int c = 0; c < CB; c++) {
        const V b = vset1(bias ? bias[c] : 0.0f);
        for (int v = 0; v < NV; v++) acc[c * NV + v] = b;
    }
    for (int ci = 0; ci < in->c; ci++) {
        const float *pl = in->data + (ptrdiff_t)ci * in->plane;
        for (int ky = 0; ky < K; ky++) {
            if (EDGE) {
                sk_fetch_line(tmp[ky], roff[ky] < 0 ? NULL : pl + roff[ky], w, x0 - r,
                              VL + 2 * r, zero);
                s[ky] = tmp[ky];
            } else {
                s[ky] = pl + roff[ky] + x0 - r;
            }
        }
        const float *wc = wt + (ptrdiff_t)ci * K * K;
        for (int ky = 0; ky < K; ky++)
            for (int kx = 0; kx < K; kx++) {
                V xv[CV_NV];
                for (int v = 0; v < NV; v++) xv[v] = vload(s[ky] + v * VL + kx);
                for (int c = 0; c < CB; c++) {
                    const V wv = vset1(wc[c * wco + ky * K + kx]);
                    for (int v = 0; v < NV; v++) acc[c * NV + v] = vfma(wv, xv[v], acc[c * NV + v]);
                }
            }
    }
}

SK_TGT SK_INLINE void conv_store(const sk_tensor *out, sk_act act, int co, const int CB,
                                 const int NV, int y, int x0, int n, const V *acc)
{
    for (int c = 0; c < CB; c++) {
        const V sl = vset1(sk_slope(act, co + c));
        float *o = sk_row(out, co + c, y) + x0;
        for (int v = 0; v < NV; v++) {
            V a = vact(acc[c * NV + v], act.kind, sl);
            if (n >= (v + 1) * VL) vstore(o + v * VL, a);
            else vstoren(o + v * VL, a, n - v * VL);
        }
    }
}

/* All output channels of one block of pixels starting at x0. */
SK_TGT SK_INLINE void conv_block(const sk_tensor *in, const sk_tensor *out, const float *weight,
                                 const float *bias, const int K, const ptrdiff_t *roff, int zero,
                                 sk_act act, int y, int x0, const int NV, const int EDGE, int n)
{
    const ptrdiff_t wco = (ptrdiff_t)in->c * K * K;
    V acc[CV_CB * CV_NV];
    int co = 0;
    for (; co + CV_CB <= out->c; co += CV_CB) {
        conv_tile(in, roff, K, x0, EDGE, zero, weight + co * wco, wco, bias ? bias + co : NULL,
                  CV_CB, NV, acc);
        conv_store(out, act, co, CV_CB, NV, y, x0, n, acc);
    }
    for (; co < out->c; co++) {
        conv_tile(in, roff, K, x0, EDGE, zero, weight + co * wco, wco, bias ? bias + co : NULL,
                  1, NV, acc);
        conv_store(out, act, co, 1, NV, y, x0, n, acc);
    }
}

/* One output row y of out from prepared row offsets (roff[ky] < 0: a zero
 * row; rows_ok: no such row). Shared with the fused kernels. */
SK_TGT SK_INLINE void conv_row_x(const sk_tensor *in, const sk_tensor *out, const float *weight,
                                 const float *bias, const int K, const ptrdiff_t *roff,
                                 int rows_ok, int zero, sk_act act, int y)
{
    const int r = K / 2, w = in->w;
    int x0 = 0;
    while (x0 < w) {
        if (rows_ok && x0 >= r && x0 + CV_NV * VL + r <= w) {
            conv_block(in, out, weight, bias, K, roff, zero, act, y, x0, CV_NV, 0, CV_NV * VL);
            x0 += CV_NV * VL;
        } else if (rows_ok && x0 >= r && x0 + VL + r <= w) {
            conv_block(in, out, weight, bias, K, roff, zero, act, y, x0, 1, 0, VL);
            x0 += VL;
        } else {
            conv_block(in, out, weight, bias, K, roff, zero, act, y, x0, 1, 1,
                       sk_mini(VL, w - x0));
            x0 += VL;
        }
    }
}

static SK_TGT SK_NOINLINE void conv_row(const sk_tensor *in, const sk_tensor *out,
                                        const float *weight, const float *bias, const int K,
                                        int border, sk_act act, int y)
{
    const int r = K / 2, zero = border == SK_BORDER_ZERO;
    ptrdiff_t roff[SK_MAX_K];
    int rows_ok = 1;
    for (int ky = 0; ky < K; ky++) {
        int iy = y + ky - r;
        if (iy < 0 || iy >= in->h) {
            if (zero) { roff[ky] = -1; rows_ok = 0; continue; }
            iy = sk_clampi(iy, 0, in->h - 1);
        }
        roff[ky] = (ptrdiff_t)iy * in->stride;
    }
    conv_row_x(in, out, weight, bias, K, roff, rows_ok, zero, act, y);
}

SK_TGT int SK_SFX(sk_conv)(const sk_tensor *in, const sk_tensor *out, const float *weight,
                           const float *bias, int k, int border, sk_act act, int y0, int y1)
{
    int e = sk__check_conv(in, out, weight, k, border, act, y0, y1);
    if (e) return e;
    for (int y = y0; y < y1; y++) conv_row(in, out, weight, bias, k, border, act, y);
    return SK_OK;
}

/* ============================================== space_to_depth 2x */

SK_TGT int SK_SFX(sk_space_to_depth2x)(const sk_tensor *in, const sk_tensor *out, int y0, int y1)
{
    int e = sk__check_s2d(in, out, y0, y1);
    if (e) return e;
    const int w = out->w;
    for (int c = 0; c < in->c; c++)
        for (int y = y0; y < y1; y++)
            for (int dy = 0; dy < 2; dy++) {
                const float *src = sk_row(in, c, 2 * y + dy);
                float *d0 = sk_row(out, c * 4 + dy * 2, y), *d1 = sk_row(out, c * 4 + dy * 2 + 1, y);
                int x = 0;
                for (; x + VL <= w; x += VL) {
                    V ev, od;
                    vdeinterleave(vload(src + 2 * x), vload(src + 2 * x + VL), &ev, &od);
                    vstore(d0 + x, ev);
                    vstore(d1 + x, od);
                }
                for (; x < w; x++) {
                    d0[x] = src[2 * x];
                    d1[x] = src[2 * x + 1];
                }
            }
    return SK_OK;
}

/* ============================================== depth_to_space 2x */

SK_TGT int SK_SFX(sk_depth_to_space2x)(const sk_tensor *in, const sk_tensor *out,
                                       const sk_tensor *base, int y0, int y1)
{
    int e = sk__check_d2s(in, out, base, y0, y1);
    if (e) return e;
    const int w = in->w;
    for (int c = 0; c < out->c; c++)
        for (int oy = y0; oy < y1; oy++) {
            const int y = oy >> 1, dy = oy & 1;
            const float *s0 = sk_row(in, c * 4 + dy * 2, y), *s1 = sk_row(in, c * 4 + dy * 2 + 1, y);
            float *dst = sk_row(out, c, oy);
            const float *bs = base ? sk_row(base, c, oy) : NULL;
            int x = 0;
            for (; x + VL <= w; x += VL) {
                V lo, hi;
                vinterleave(vload(s0 + x), vload(s1 + x), &lo, &hi);
                if (bs) {
                    lo = vadd(vload(bs + 2 * x), lo);
                    hi = vadd(vload(bs + 2 * x + VL), hi);
                }
                vstore(dst + 2 * x, lo);
                vstore(dst + 2 * x + VL, hi);
            }
            for (; x < w; x++) {
                float a = s0[x], b = s1[x];
                if (bs) {
                    a = bs[2 * x] + a;
                    b = bs[2 * x + 1] + b;
                }
                dst[2 * x] = a;
                dst[2 * x + 1] = b;
            }
        }
    return SK_OK;
}

/* ================================================ transposed conv 2x */

#define TC_NV 4

/* Geometry of one output row, shared by all its blocks. Output column
 * ox = 2j + e (phase e) takes taps kx = kx0[e] + 2t, t < nkx[e], from input
 * column j + (dmax[e] - t). Loads are made relative to j + dmin so that
 * every offset is >= 0. */
typedef struct tc_geom {
    int nky, kys[SK_MAX_TK];
    ptrdiff_t roff[SK_MAX_TK]; /* -1: input row out of range (zeros) */
    int rows_ok;
    int kx0[2], nkx[2], dmax[2];
    int dmin, dspan;           /* overall min offset, max - min */
} tc_geom;

/* Output pixels 2j, 2j+1 for j in [j0, j0 + NV*VL): phase accumulators. */
SK_TGT SK_INLINE void tc_tile(const sk_tensor *in, const tc_geom *g, const float *wco,
                              ptrdiff_t wci, const int K, int j0, float b, const int NV,
                              const int EDGE, V *a0, V *a1)
{
    float tmp[VL + SK_MAX_TK + 2];
    const V bv = vset1(b);
    for (int v = 0; v < NV; v++) a0[v] = a1[v] = bv;
    const int o0 = g->dmax[0] - g->dmin, o1 = g->dmax[1] - g->dmin;
    for (int ci = 0; ci < in->c; ci++) {
        const float *pl = in->data + (ptrdiff_t)ci * in->plane;
        for (int a = 0; a < g->nky; a++) {
            const float *s;
            if (EDGE) {
                sk_fetch_line(tmp, g->roff[a] < 0 ? NULL : pl + g->roff[a], in->w, j0 + g->dmin,
                              VL + g->dspan, 1);
                s = tmp;
            } else {
                s = pl + g->roff[a] + j0 + g->dmin;
            }
            const float *wr = wco + (ptrdiff_t)ci * wci + g->kys[a] * K;
            for (int t = 0; t < g->nkx[0]; t++) {
                const V wv = vset1(wr[g->kx0[0] + 2 * t]);
                for (int v = 0; v < NV; v++) a0[v] = vfma(wv, vload(s + v * VL + o0 - t), a0[v]);
            }
            for (int t = 0; t < g->nkx[1]; t++) {
                const V wv = vset1(wr[g->kx0[1] + 2 * t]);
                for (int v = 0; v < NV; v++) a1[v] = vfma(wv, vload(s + v * VL + o1 - t), a1[v]);
            }
        }
    }
}

SK_TGT SK_INLINE void tc_block(const sk_tensor *in, const sk_tensor *out, const tc_geom *g,
                               const float *wco, ptrdiff_t wci, const int K, float b,
                               float *dst, const float *rr, int j0, const int NV, const int EDGE)
{
    V a0[TC_NV], a1[TC_NV];
    tc_tile(in, g, wco, wci, K, j0, b, NV, EDGE, a0, a1);
    for (int v = 0; v < NV; v++) {
        const int ox = 2 * (j0 + v * VL);
        const int m = out->w - ox; /* valid outputs from ox on */
        if (m <= 0) break;
        V lo, hi;
        vinterleave(a0[v], a1[v], &lo, &hi);
        if (m >= 2 * VL) {
            if (rr) { lo = vadd(lo, vload(rr + ox)); hi = vadd(hi, vload(rr + ox + VL)); }
            vstore(dst + ox, lo);
            vstore(dst + ox + VL, hi);
        } else {
            const int n0 = sk_mini(m, VL), n1 = m - n0;
            if (rr) lo = vadd(lo, n0 == VL ? vload(rr + ox) : vloadn(rr + ox, n0));
            if (n0 == VL) vstore(dst + ox, lo); else vstoren(dst + ox, lo, n0);
            if (n1 > 0) {
                if (rr) hi = vadd(hi, vloadn(rr + ox + VL, n1));
                vstoren(dst + ox + VL, hi, n1);
            }
        }
    }
}

static SK_TGT SK_NOINLINE void tc_row(const sk_tensor *in, const sk_tensor *out,
                                      const float *weight, const float *bias, int K, int pad,
                                      const sk_tensor *res, int co, int oy)
{
    tc_geom g;
    const int ph = (oy + pad) & 1;
    g.nky = 0;
    g.rows_ok = 1;
    for (int ky = ph; ky < K; ky += 2) {
        const int iy = (oy + pad - ky) / 2;
        g.kys[g.nky] = ky;
        if (iy < 0 || iy >= in->h) { g.roff[g.nky] = -1; g.rows_ok = 0; }
        else g.roff[g.nky] = (ptrdiff_t)iy * in->stride;
        g.nky++;
    }
    int dmin = 0, dmax = 0, any = 0;
    for (int e = 0; e < 2; e++) {
        const int q = e + pad;
        g.kx0[e] = q & 1;
        g.nkx[e] = g.kx0[e] < K ? (K - g.kx0[e] + 1) / 2 : 0;
        g.dmax[e] = q >> 1;
        if (g.nkx[e] > 0) {
            const int lo = g.dmax[e] - (g.nkx[e] - 1);
            if (!any || lo < dmin) dmin = lo;
            if (!any || g.dmax[e] > dmax) dmax = g.dmax[e];
            any = 1;
        }
    }
    if (!any) { dmin = 0; dmax = 0; }
    /* A phase without taps still needs dmax[e] >= dmin for its offset. */
    for (int e = 0; e < 2; e++) if (g.nkx[e] == 0) g.dmax[e] = dmin;
    g.dmin = dmin;
    g.dspan = dmax - dmin;

    const float b = bias ? bias[co] : 0.0f;
    const ptrdiff_t wci = (ptrdiff_t)out->c * K * K;
    const float *wco = weight + (ptrdiff_t)co * K * K;
    float *dst = sk_row(out, co, oy);
    const float *rr = res ? sk_row(res, co, oy) : NULL;
    const int jn = (out->w + 1) / 2, W = in->w;
    int j0 = 0;
    while (j0 < jn) {
        if (g.rows_ok && j0 + dmin >= 0 && j0 + TC_NV * VL - 1 + dmax <= W - 1 &&
            j0 + TC_NV * VL <= jn) {
            tc_block(in, out, &g, wco, wci, K, b, dst, rr, j0, TC_NV, 0);
            j0 += TC_NV * VL;
        } else if (g.rows_ok && j0 + dmin >= 0 && j0 + VL - 1 + dmax <= W - 1) {
            tc_block(in, out, &g, wco, wci, K, b, dst, rr, j0, 1, 0);
            j0 += VL;
        } else {
            tc_block(in, out, &g, wco, wci, K, b, dst, rr, j0, 1, 1);
            j0 += VL;
        }
    }
}

SK_TGT int SK_SFX(sk_tconv2x)(const sk_tensor *in, const sk_tensor *out, const float *weight,
                              const float *bias, int k, int pad, int out_pad,
                              const sk_tensor *res, int y0, int y1)
{
    int e = sk__check_tconv(in, out, weight, k, pad, out_pad, res, y0, y1);
    if (e) return e;
    for (int co = 0; co < out->c; co++)
        for (int oy = y0; oy < y1; oy++) tc_row(in, out, weight, bias, k, pad, res, co, oy);
    return SK_OK;
}

/* ========================================================= resampling */

#define UP_NV 2

/* Horizontal 2x pass of one input row into hrow (2W floats). Phase e of
 * output 2j uses taps j + off[e] + t, t < T; loads are relative to j + dmin. */
SK_TGT SK_INLINE void up_h_block(const float *s, const int T, const int *off, int dmin,
                                 const float (*c)[4], const int NV, V *ev, V *od)
{
    for (int v = 0; v < NV; v++) {
        const float *p = s + v * VL;
        V a = vmul(vset1(c[0][0]), vload(p + off[0] - dmin));
        V b = vmul(vset1(c[1][0]), vload(p + off[1] - dmin));
        for (int t = 1; t < T; t++) {
            a = vfma(vset1(c[0][t]), vload(p + off[0] - dmin + t), a);
            b = vfma(vset1(c[1][t]), vload(p + off[1] - dmin + t), b);
        }
        ev[v] = a;
        od[v] = b;
    }
}

SK_TGT SK_INLINE void up_hpass(const float *row, int W, float *hrow, const int T,
                               const int *off, const float (*c)[4])
{
    const int dmin = off[0], dmax = off[1] + T - 1;
    float tmp[VL + 8];
    V ev[UP_NV], od[UP_NV], lo, hi;
    int j0 = 0;
    while (j0 < W) {
        if (j0 + dmin >= 0 && j0 + UP_NV * VL - 1 + dmax <= W - 1) {
            up_h_block(row + j0 + dmin, T, off, dmin, c, UP_NV, ev, od);
            for (int v = 0; v < UP_NV; v++) {
                vinterleave(ev[v], od[v], &lo, &hi);
                vstore(hrow + 2 * (j0 + v * VL), lo);
                vstore(hrow + 2 * (j0 + v * VL) + VL, hi);
            }
            j0 += UP_NV * VL;
        } else {
            sk_fetch_line(tmp, row, W, j0 + dmin, VL + dmax - dmin, 0);
            up_h_block(tmp, T, off, dmin, c, 1, ev, od);
            vinterleave(ev[0], od[0], &lo, &hi);
            const int m = 2 * sk_mini(VL, W - j0);
            if (m == 2 * VL) {
                vstore(hrow + 2 * j0, lo);
                vstore(hrow + 2 * j0 + VL, hi);
            } else if (m > VL) {
                vstore(hrow + 2 * j0, lo);
                vstoren(hrow + 2 * j0 + VL, hi, m - VL);
            } else {
                vstoren(hrow + 2 * j0, lo, m);
            }
            j0 += VL;
        }
    }
}

SK_TGT SK_INLINE void up_vpass(const float *const *h, const int T, const float *c, float *dst,
                               int w)
{
    const V c0 = vset1(c[0]);
    int x = 0;
    for (; x + 2 * VL <= w; x += 2 * VL) {
        V a = vmul(c0, vload(h[0] + x)), b = vmul(c0, vload(h[0] + x + VL));
        for (int t = 1; t < T; t++) {
            const V ct = vset1(c[t]);
            a = vfma(ct, vload(h[t] + x), a);
            b = vfma(ct, vload(h[t] + x + VL), b);
        }
        vstore(dst + x, a);
        vstore(dst + x + VL, b);
    }
    for (; x < w; x += VL) {
        const int n = sk_mini(VL, w - x);
        V a = vmul(c0, vloadn(h[0] + x, n));
        for (int t = 1; t < T; t++) a = vfma(vset1(c[t]), vloadn(h[t] + x, n), a);
        vstoren(dst + x, a, n);
    }
}

/* Horizontal results are cached in a ring of T scratch rows keyed by the
 * (clamped) input row, so each input row is filtered once per band. The
 * vertical taps of one output row are at most T distinct consecutive clamped
 * rows, which map to distinct slots modulo T, so a row is never evicted while
 * the output row that needs it is being computed. */
SK_TGT SK_INLINE void up_band(const sk_tensor *in, const sk_tensor *out, const int T,
                              const int *off, const float (*c)[4], float *scratch, int y0, int y1)
{
    const size_t ss = sk__upscale_slot_stride(out->w);
    const int ns = T;
    for (int ch = 0; ch < out->c; ch++) {
        int tag[4] = { -1, -1, -1, -1 };
        for (int oy = y0; oy < y1; oy++) {
            const int j = oy >> 1, ph = oy & 1;
            const float *h[4];
            for (int t = 0; t < T; t++) {
                const int iy = sk_clampi(j + off[ph] + t, 0, in->h - 1), sl = iy % ns;
                float *hr = scratch + (size_t)sl * ss;
                if (tag[sl] != iy) {
                    up_hpass(sk_row(in, ch, iy), in->w, hr, T, off, c);
                    tag[sl] = iy;
                }
                h[t] = hr;
            }
            up_vpass(h, T, c[ph], sk_row(out, ch, oy), out->w);
        }
    }
}

static SK_TGT SK_NOINLINE void up_band4(const sk_tensor *in, const sk_tensor *out,
                                        const float (*c)[4], float *scratch, int y0, int y1)
{
    static const int off[2] = { -2, -1 };
    up_band(in, out, 4, off, c, scratch, y0, y1);
}

static SK_TGT SK_NOINLINE void up_band2(const sk_tensor *in, const sk_tensor *out,
                                        const float (*c)[4], float *scratch, int y0, int y1)
{
    static const int off[2] = { -1, 0 };
    up_band(in, out, 2, off, c, scratch, y0, y1);
}

SK_TGT int SK_SFX(sk_bicubic2x)(const sk_tensor *in, const sk_tensor *out, float a,
                                float *scratch, int y0, int y1)
{
    int e = sk__check_upscale(in, out, scratch, y0, y1);
    if (e) return e;
    sk_phase_filter f;
    sk__bicubic_weights(a, &f);
    up_band4(in, out, (const float (*)[4])f.c, scratch, y0, y1);
    return SK_OK;
}

SK_TGT int SK_SFX(sk_bilinear2x)(const sk_tensor *in, const sk_tensor *out, float *scratch,
                                 int y0, int y1)
{
    int e = sk__check_upscale(in, out, scratch, y0, y1);
    if (e) return e;
    static const float c[2][4] = { { 0.25f, 0.75f, 0, 0 }, { 0.75f, 0.25f, 0, 0 } };
    up_band2(in, out, c, scratch, y0, y1);
    return SK_OK;
}

SK_TGT int SK_SFX(sk_area_down2x)(const sk_tensor *in, const sk_tensor *out, int y0, int y1)
{
    int e = sk__check_area(in, out, y0, y1);
    if (e) return e;
    const int w = out->w;
    const V q = vset1(0.25f);
    for (int c = 0; c < out->c; c++)
        for (int y = y0; y < y1; y++) {
            const float *r0 = sk_row(in, c, 2 * y), *r1 = sk_row(in, c, 2 * y + 1);
            float *dst = sk_row(out, c, y);
            int x = 0;
            for (; x + VL <= w; x += VL) {
                V a, b, cc, d;
                vdeinterleave(vload(r0 + 2 * x), vload(r0 + 2 * x + VL), &a, &b);
                vdeinterleave(vload(r1 + 2 * x), vload(r1 + 2 * x + VL), &cc, &d);
                vstore(dst + x, vmul(vadd(vadd(a, b), vadd(cc, d)), q));
            }
            for (; x < w; x++)
                dst[x] = ((r0[2 * x] + r0[2 * x + 1]) + (r1[2 * x] + r1[2 * x + 1])) * 0.25f;
        }
    return SK_OK;
}

/* ======================================================== conversions */

SK_TGT int SK_SFX(sk_u8_to_f32)(const uint8_t *src, ptrdiff_t src_stride, float *dst,
                                ptrdiff_t dst_stride, int w, int h, float scale, int y0, int y1)
{
    int e = sk__check_conv_u8(src, src_stride, dst, dst_stride, w, h, y0, y1);
    if (e) return e;
    for (int y = y0; y < y1; y++)
        cvt_u8_row(src + y * src_stride, dst + y * dst_stride, w, scale);
    return SK_OK;
}

SK_TGT int SK_SFX(sk_f32_to_u8)(const float *src, ptrdiff_t src_stride, uint8_t *dst,
                                ptrdiff_t dst_stride, int w, int h, float scale, int y0, int y1)
{
    int e = sk__check_conv_u8(src, src_stride, dst, dst_stride, w, h, y0, y1);
    if (e) return e;
    for (int y = y0; y < y1; y++)
        cvt_f32_row(src + y * src_stride, dst + y * dst_stride, w, scale);
    return SK_OK;
}
