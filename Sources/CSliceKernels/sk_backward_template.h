/*
 * sk_backward_template.h - the hot backward kernels, written once in portable
 * GNU C (plain loops plus GCC/clang generic vector types) and included by
 * backward.c once per CPU level with:
 *
 *   BW_SFX     name suffix (generic, avx2, avx512)
 *   BW_TGT     function attribute selecting the instruction set (or empty)
 *   BW_VB      native vector size in bytes (16, 32, 64)
 *   BW_PWI_CB  pointwise grad-input: input channels per register block
 *   BW_PWW_CO, BW_PWW_CI  pointwise grad-weight: register block shape
 *
 * Every variant performs exactly the same IEEE operations per output element
 * in the same order (only the number of elements processed per instruction
 * and the register blocking differ, and neither changes any element's
 * sequence of operations): results are bit-identical across levels. Nothing
 * is fused: the file is compiled with FP contraction off, and every
 * multiply-add is written as a plain a * b + c. Lane-structured reductions
 * (parameter gradients) always use SK_GRAD_LANES = 16 lanes, whatever the
 * native vector width.
 *
 * Arguments have been validated by backward.c.
 */

#define BW_CAT2(a, b) a##_##b
#define BW_CAT(a, b) BW_CAT2(a, b)
#define FN(name) BW_CAT(name, BW_SFX)
#define V FN(bw_vec)
#define VW (BW_VB / 4)          /* floats per native vector            */
#define NL (SK_GRAD_LANES / VW) /* native vectors per 16-lane set      */

typedef float V __attribute__((vector_size(BW_VB)));

BW_TGT SK_INLINE V FN(vld)(const float *p)
{
    V v;
    memcpy(&v, p, sizeof v);
    return v;
}
BW_TGT SK_INLINE void FN(vst)(float *p, V v) { memcpy(p, &v, sizeof v); }
BW_TGT SK_INLINE V FN(vsplat)(float s)
{
    V v;
    for (int i = 0; i < VW; i++) v[i] = s;
    return v;
}
BW_TGT SK_INLINE V FN(vzero)(void) { return FN(vsplat)(0.0f); }

/* dst (=|+=) src over n floats. */
BW_TGT SK_INLINE void FN(write_row)(float *restrict dst, const float *restrict src, int n, int mode)
{
    if (mode == SK_GRAD_ACCUMULATE)
        for (int x = 0; x < n; x++) dst[x] = dst[x] + src[x];
    else
        for (int x = 0; x < n; x++) dst[x] = src[x];
}

/* ------------------------------------------------- k x k convolutions: grad_in */

/* S[i] += sum_kx wr[kx] * g[i - kx] (terms with i - kx outside [0, w) skipped),
 * i in [0, w + K - 1); kx ascending, each term added to S[i] in turn. */
BW_TGT SK_INLINE void FN(hadj_k)(float *restrict S, const float *restrict g,
                                 const float *restrict wr, int w, const int K)
{
    const int n = w + K - 1, a = K - 1 < n ? K - 1 : n, b = w > a ? w : a;
    for (int i = 0; i < a; i++) {
        float s = S[i];
        for (int kx = 0; kx < K; kx++)
            if (i - kx >= 0 && i - kx < w) s = s + wr[kx] * g[i - kx];
        S[i] = s;
    }
    for (int i = a; i < w; i++) { /* every tap inside the row */
        float s = S[i];
        for (int kx = 0; kx < K; kx++) s = s + wr[kx] * g[i - kx];
        S[i] = s;
    }
    for (int i = b; i < n; i++) {
        float s = S[i];
        for (int kx = 0; kx < K; kx++)
            if (i - kx >= 0 && i - kx < w) s = s + wr[kx] * g[i - kx];
        S[i] = s;
    }
}

BW_TGT static void FN(hadj)(float *restrict S, const float *restrict g,
                            const float *restrict wr, int w, int k)
{
    switch (k) {
    case 1: FN(hadj_k)(S, g, wr, w, 1); break;
    case 3: FN(hadj_k)(S, g, wr, w, 3); break;
    case 5: FN(hadj_k)(S, g, wr, w, 5); break;
    default: FN(hadj_k)(S, g, wr, w, 7); break;
    }
}

/* grad_in of the depthwise (depthwise != 0) or dense k x k convolution. */
BW_TGT static void FN(conv_in)(const sk_tensor *g, const sk_tensor *d, const float *weight,
                               int k, int border, int mode, int depthwise, float *S,
                               int y0, int y1)
{
    const int r = k / 2, h = d->h, w = d->w, cin = d->c, cout = g->c, kk = k * k;
    const int n = w + k - 1; /* S[i] holds padded column x' = i - r */
    for (int y = y0; y < y1; y++) {
        int ylo = y, yhi = y; /* padded rows y' folded onto row y */
        if (border == SK_BORDER_REPLICATE) {
            if (y == 0) ylo = -r;
            if (y == h - 1) yhi = h - 1 + r;
        }
        for (int ci = 0; ci < cin; ci++) {
            for (int i = 0; i < n; i++) S[i] = 0.0f;
            const int c0 = depthwise ? ci : 0, c1 = depthwise ? ci + 1 : cout;
            for (int co = c0; co < c1; co++) {
                const float *wk = weight + (depthwise ? (ptrdiff_t)ci * kk
                                                      : ((ptrdiff_t)co * cin + ci) * kk);
                for (int yp = ylo; yp <= yhi; yp++)
                    for (int ky = 0; ky < k; ky++) {
                        const int oy = yp - ky + r;
                        if (oy < 0 || oy >= h) continue;
                        FN(hadj)(S, sk_row(g, co, oy), wk + ky * k, w, k);
                    }
            }
            float *dr = sk_row(d, ci, y);
            if (border == SK_BORDER_ZERO || w == 1) {
                if (border == SK_BORDER_REPLICATE) { /* w == 1: fold everything */
                    float v = S[0];
                    for (int i = 1; i < n; i++) v = v + S[i];
                    S[r] = v;
                }
                FN(write_row)(dr, S + r, w, mode);
            } else {
                /* Fold the padded columns onto the edge pixels, ascending x'. */
                float vl = S[0], vr = S[w - 1 + r];
                for (int i = 1; i <= r; i++) vl = vl + S[i];
                for (int i = w + r; i < n; i++) vr = vr + S[i];
                S[r] = vl;
                S[w - 1 + r] = vr;
                FN(write_row)(dr, S + r, w, mode);
            }
        }
    }
}

/* ------------------------------------------- k x k convolutions: grad_params */

/* Lane reduction tree: lane i += lane i+8, +4, +2, +1. */
BW_TGT SK_INLINE float FN(lanes_sum)(const float *lanes)
{
    float t[SK_GRAD_LANES];
    for (int i = 0; i < SK_GRAD_LANES; i++) t[i] = lanes[i];
    for (int s = SK_GRAD_LANES / 2; s >= 1; s /= 2)
        for (int i = 0; i < s; i++) t[i] = t[i] + t[i + s];
    return t[0];
}

/* acc[l] += sum over the row, lane l = x mod 16. */
BW_TGT SK_INLINE void FN(sum16)(float *restrict acc, const float *restrict a, int n)
{
    V s[NL];
    for (int j = 0; j < NL; j++) s[j] = FN(vld)(acc + j * VW);
    int i = 0;
    for (; i + SK_GRAD_LANES <= n; i += SK_GRAD_LANES)
        for (int j = 0; j < NL; j++) s[j] = s[j] + FN(vld)(a + i + j * VW);
    for (int j = 0; j < NL; j++) FN(vst)(acc + j * VW, s[j]);
    for (int l = 0; i + l < n; l++) acc[l] = acc[l] + a[i + l];
}

/* One (output row, ky) of a k x k weight gradient, all K taps kx at once:
 * acc[kx*16 + lane] += g[ox] * X(ox + kx - r). Pixels ox in [r, w - r) (all
 * taps inside the row) go to lane (ox - r) mod 16; the <= 2r edge pixels go
 * to lane 0 in ascending ox, before (left) and after (right) the middle. */
BW_TGT SK_INLINE void FN(cparams_row_k)(float *restrict acc, const float *restrict gr,
                                        const float *restrict xr, int w, int border,
                                        const int K)
{
    const int r = K / 2;
    const int le = r < w ? r : w;                 /* left edge  [0, le)  */
    const int rs = w - r > le ? w - r : le;       /* right edge [rs, w)  */
    for (int ox = 0; ox < le; ox++)
        for (int kx = 0; kx < K; kx++) {
            int ix = ox + kx - r;
            if (ix < 0 || ix >= w) {
                if (border == SK_BORDER_ZERO) continue;
                ix = ix < 0 ? 0 : w - 1;
            }
            acc[kx * SK_GRAD_LANES] = acc[kx * SK_GRAD_LANES] + gr[ox] * xr[ix];
        }
    if (rs > le) { /* middle [r, w - r) */
        const float *g0 = gr + r, *x0 = xr; /* x index ox + kx - r = (ox - r) + kx */
        const int n = rs - le;
        V s[SK_MAX_K][NL]; /* K <= SK_MAX_K; fixed size keeps it in registers */
        for (int kx = 0; kx < K; kx++)
            for (int j = 0; j < NL; j++) s[kx][j] = FN(vld)(acc + kx * SK_GRAD_LANES + j * VW);
        int i = 0;
        for (; i + SK_GRAD_LANES <= n; i += SK_GRAD_LANES)
            for (int j = 0; j < NL; j++) {
                const V gv = FN(vld)(g0 + i + j * VW);
                for (int kx = 0; kx < K; kx++)
                    s[kx][j] = s[kx][j] + gv * FN(vld)(x0 + i + j * VW + kx);
            }
        for (int kx = 0; kx < K; kx++)
            for (int j = 0; j < NL; j++) FN(vst)(acc + kx * SK_GRAD_LANES + j * VW, s[kx][j]);
        for (int l = 0; i + l < n; l++)
            for (int kx = 0; kx < K; kx++)
                acc[kx * SK_GRAD_LANES + l] =
                    acc[kx * SK_GRAD_LANES + l] + g0[i + l] * x0[i + l + kx];
    }
    for (int ox = rs; ox < w; ox++)
        for (int kx = 0; kx < K; kx++) {
            int ix = ox + kx - r;
            if (ix < 0 || ix >= w) {
                if (border == SK_BORDER_ZERO) continue;
                ix = ix < 0 ? 0 : w - 1;
            }
            acc[kx * SK_GRAD_LANES] = acc[kx * SK_GRAD_LANES] + gr[ox] * xr[ix];
        }
}

BW_TGT static void FN(cparams_row)(float *acc, const float *gr, const float *xr, int w,
                                   int border, int k)
{
    switch (k) {
    case 1: FN(cparams_row_k)(acc, gr, xr, w, border, 1); break;
    case 3: FN(cparams_row_k)(acc, gr, xr, w, border, 3); break;
    case 5: FN(cparams_row_k)(acc, gr, xr, w, border, 5); break;
    default: FN(cparams_row_k)(acc, gr, xr, w, border, 7); break;
    }
}

BW_TGT static void FN(conv_params)(const sk_tensor *x, const sk_tensor *g, float *dw,
                                   float *db, int k, int border, int depthwise, int y0, int y1)
{
    const int r = k / 2, h = x->h, w = x->w, cin = x->c, cout = g->c, kk = k * k;
    float acc[SK_MAX_K * SK_MAX_K * SK_GRAD_LANES];
    for (int co = 0; co < cout; co++) {
        const int c0 = depthwise ? co : 0, c1 = depthwise ? co + 1 : cin;
        for (int ci = c0; ci < c1; ci++) {
            for (int i = 0; i < kk * SK_GRAD_LANES; i++) acc[i] = 0.0f;
            for (int oy = y0; oy < y1; oy++)
                for (int ky = 0; ky < k; ky++) {
                    int iy = oy + ky - r;
                    if (iy < 0 || iy >= h) {
                        if (border == SK_BORDER_ZERO) continue;
                        iy = iy < 0 ? 0 : h - 1;
                    }
                    FN(cparams_row)(acc + ky * k * SK_GRAD_LANES, sk_row(g, co, oy),
                                    sk_row(x, ci, iy), w, border, k);
                }
            float *dst = dw + (depthwise ? (ptrdiff_t)co * kk : ((ptrdiff_t)co * cin + ci) * kk);
            for (int j = 0; j < kk; j++) dst[j] = dst[j] + FN(lanes_sum)(acc + j * SK_GRAD_LANES);
        }
        if (db) {
            for (int i = 0; i < SK_GRAD_LANES; i++) acc[i] = 0.0f;
            for (int oy = y0; oy < y1; oy++) FN(sum16)(acc, sk_row(g, co, oy), w);
            db[co] = db[co] + FN(lanes_sum)(acc);
        }
    }
}

/* ------------------------------------------------------- pointwise: grad_in */

/* CB input channels x NV vectors of pixels starting at x, per row y. */
BW_TGT SK_INLINE void FN(pw_in_blk)(const float *restrict g0, ptrdiff_t gplane,
                                    const float *restrict wt, int cin, int cout, int ci0,
                                    float *restrict d0, ptrdiff_t dplane, int x, int mode,
                                    const int CB, const int NV)
{
    V acc[BW_PWI_CB][2]; /* CB <= BW_PWI_CB, NV <= 2 */
    for (int b = 0; b < CB; b++)
        for (int j = 0; j < NV; j++) acc[b][j] = FN(vzero)();
    for (int co = 0; co < cout; co++) {
        const float *gr = g0 + (ptrdiff_t)co * gplane + x;
        const float *wr = wt + (ptrdiff_t)co * cin + ci0;
        V gv[2];
        for (int j = 0; j < NV; j++) gv[j] = FN(vld)(gr + j * VW);
        for (int b = 0; b < CB; b++) {
            const V wv = FN(vsplat)(wr[b]);
            for (int j = 0; j < NV; j++) acc[b][j] = acc[b][j] + wv * gv[j];
        }
    }
    for (int b = 0; b < CB; b++) {
        float *dr = d0 + (ptrdiff_t)(ci0 + b) * dplane + x;
        for (int j = 0; j < NV; j++) {
            V v = acc[b][j];
            if (mode == SK_GRAD_ACCUMULATE) v = FN(vld)(dr + j * VW) + v;
            FN(vst)(dr + j * VW, v);
        }
    }
}

BW_TGT SK_INLINE void FN(pw_in_cols)(const float *g0, ptrdiff_t gplane, const float *wt,
                                     int cin, int cout, int ci0, float *d0, ptrdiff_t dplane,
                                     int w, int mode, const int CB)
{
    int x = 0;
    for (; x + 2 * VW <= w; x += 2 * VW)
        FN(pw_in_blk)(g0, gplane, wt, cin, cout, ci0, d0, dplane, x, mode, CB, 2);
    for (; x + VW <= w; x += VW)
        FN(pw_in_blk)(g0, gplane, wt, cin, cout, ci0, d0, dplane, x, mode, CB, 1);
    for (; x < w; x++)
        for (int b = 0; b < CB; b++) {
            float s = 0.0f;
            for (int co = 0; co < cout; co++)
                s = s + wt[(ptrdiff_t)co * cin + ci0 + b] * g0[(ptrdiff_t)co * gplane + x];
            float *dp = d0 + (ptrdiff_t)(ci0 + b) * dplane + x;
            *dp = mode == SK_GRAD_ACCUMULATE ? *dp + s : s;
        }
}

BW_TGT static void FN(pw_in)(const sk_tensor *g, const sk_tensor *d, const float *wt, int mode,
                             int y0, int y1)
{
    const int cin = d->c, cout = g->c, w = d->w;
    for (int y = y0; y < y1; y++) {
        const float *g0 = sk_row(g, 0, y);
        float *d0 = sk_row(d, 0, y);
        int ci = 0;
        for (; ci + BW_PWI_CB <= cin; ci += BW_PWI_CB)
            FN(pw_in_cols)(g0, g->plane, wt, cin, cout, ci, d0, d->plane, w, mode, BW_PWI_CB);
        for (; ci < cin; ci++)
            FN(pw_in_cols)(g0, g->plane, wt, cin, cout, ci, d0, d->plane, w, mode, 1);
    }
}

/* --------------------------------------------------- pointwise: grad_params */

/* lanes[(co*cin + ci)*16 + l] += g[co][x] * in[ci][x] over one row, for a
 * COB x CIB block of (co, ci) pairs; lane l = x mod 16. */
BW_TGT SK_INLINE void FN(pw_w_blk)(float *restrict lanes, const float *restrict g0,
                                   ptrdiff_t gplane, const float *restrict x0, ptrdiff_t xplane,
                                   int cin, int co0, int ci0, int w, const int COB, const int CIB)
{
    const float *gr[BW_PWW_CO], *xr[BW_PWW_CI]; /* COB <= BW_PWW_CO, CIB <= BW_PWW_CI */
    for (int a = 0; a < COB; a++) gr[a] = g0 + (ptrdiff_t)(co0 + a) * gplane;
    for (int b = 0; b < CIB; b++) xr[b] = x0 + (ptrdiff_t)(ci0 + b) * xplane;
    V acc[BW_PWW_CO][BW_PWW_CI][NL];
    for (int a = 0; a < COB; a++)
        for (int b = 0; b < CIB; b++)
            for (int j = 0; j < NL; j++)
                acc[a][b][j] = FN(vld)(lanes + ((ptrdiff_t)(co0 + a) * cin + ci0 + b) * SK_GRAD_LANES + j * VW);
    int x = 0;
    for (; x + SK_GRAD_LANES <= w; x += SK_GRAD_LANES)
        for (int j = 0; j < NL; j++) {
            V gv[BW_PWW_CO], xv[BW_PWW_CI];
            for (int a = 0; a < COB; a++) gv[a] = FN(vld)(gr[a] + x + j * VW);
            for (int b = 0; b < CIB; b++) xv[b] = FN(vld)(xr[b] + x + j * VW);
            for (int a = 0; a < COB; a++)
                for (int b = 0; b < CIB; b++) acc[a][b][j] = acc[a][b][j] + gv[a] * xv[b];
        }
    for (int a = 0; a < COB; a++)
        for (int b = 0; b < CIB; b++) {
            float *ln = lanes + ((ptrdiff_t)(co0 + a) * cin + ci0 + b) * SK_GRAD_LANES;
            for (int j = 0; j < NL; j++) FN(vst)(ln + j * VW, acc[a][b][j]);
            for (int l = 0; x + l < w; l++) ln[l] = ln[l] + gr[a][x + l] * xr[b][x + l];
        }
}

BW_TGT SK_INLINE void FN(pw_w_cirow)(float *lanes, const float *g0, ptrdiff_t gplane,
                                     const float *x0, ptrdiff_t xplane, int cin, int co0, int w,
                                     const int COB)
{
    int ci = 0;
    for (; ci + BW_PWW_CI <= cin; ci += BW_PWW_CI)
        FN(pw_w_blk)(lanes, g0, gplane, x0, xplane, cin, co0, ci, w, COB, BW_PWW_CI);
    for (; ci < cin; ci++) FN(pw_w_blk)(lanes, g0, gplane, x0, xplane, cin, co0, ci, w, COB, 1);
}

BW_TGT static void FN(pw_params)(const sk_tensor *x, const sk_tensor *g, float *dw, float *db,
                                 float *lanes, int y0, int y1)
{
    const int cin = x->c, cout = g->c, w = x->w;
    const size_t nl = (size_t)SK_GRAD_LANES * cout * (cin + 1);
    float *blanes = lanes + (size_t)SK_GRAD_LANES * cout * cin;
    for (size_t i = 0; i < nl; i++) lanes[i] = 0.0f;
    /* Rows outermost: one row of every channel stays in L1 while all the
     * (co, ci) blocks consume it; the lane sums live in `lanes`. */
    for (int y = y0; y < y1; y++) {
        const float *g0 = sk_row(g, 0, y), *x0 = sk_row(x, 0, y);
        int co = 0;
        for (; co + BW_PWW_CO <= cout; co += BW_PWW_CO)
            FN(pw_w_cirow)(lanes, g0, g->plane, x0, x->plane, cin, co, w, BW_PWW_CO);
        for (; co < cout; co++) FN(pw_w_cirow)(lanes, g0, g->plane, x0, x->plane, cin, co, w, 1);
        if (db)
            for (int c = 0; c < cout; c++)
                FN(sum16)(blanes + (size_t)c * SK_GRAD_LANES, g0 + (ptrdiff_t)c * g->plane, w);
    }
    for (int j = 0; j < cout * cin; j++)
        dw[j] = dw[j] + FN(lanes_sum)(lanes + (size_t)j * SK_GRAD_LANES);
    if (db)
        for (int c = 0; c < cout; c++)
            db[c] = db[c] + FN(lanes_sum)(blanes + (size_t)c * SK_GRAD_LANES);
}

/* ------------------------------------------------ transposed conv stride 2 */

/* Input columns ix whose output column ox = 2*ix - pad + kx lies in [0, wo):
 * [*lo, *hi] (empty if *lo > *hi). */
SK_INLINE void FN(tc_cols)(int pad, int kx, int wo, int w, int *lo, int *hi)
{
    const int n = pad - kx, m = wo - 1 + pad - kx;
    *lo = n <= 0 ? 0 : (n + 1) / 2;
    *hi = m < 0 ? -1 : (m / 2 < w - 1 ? m / 2 : w - 1);
}

/* Splits grad_out row gr (wo floats) into E[m] = gr[2m], O[m] = gr[2m+1]. */
BW_TGT SK_INLINE void FN(tc_split)(float *restrict E, float *restrict O, const float *restrict gr,
                                   int wo)
{
    for (int m = 0; m < wo / 2; m++) {
        E[m] = gr[2 * m];
        O[m] = gr[2 * m + 1];
    }
    if (wo & 1) E[wo / 2] = gr[wo - 1];
}

/* Column ox = 2*ix + t of a split row, t = kx - pad: E[ix + t/2] for even t,
 * O[ix + (t-1)/2] for odd t. */
SK_INLINE int FN(tc_off)(int t) { return (t & 1) ? (t - 1) / 2 : t / 2; }

/* Sc[ix] += sum_kx wk[kx] * g[2*ix - pad + kx] (kx ascending, terms outside
 * the row skipped), for one (co, ky) row given split as E / O. */
BW_TGT SK_INLINE void FN(tc_row)(float *restrict Sc, const float *restrict E,
                                 const float *restrict O, const float *restrict wk, int k,
                                 int pad, int w, int wo)
{
    int lo_all, hi0, lo1, hi_all;
    FN(tc_cols)(pad, 0, wo, w, &lo_all, &hi0);      /* kx = 0 limits the left  */
    FN(tc_cols)(pad, k - 1, wo, w, &lo1, &hi_all);  /* kx = k-1 limits the right */
    const int lo_i = lo_all < w ? lo_all : w;       /* interior [lo_i, hi_all] */
    if (hi_all < lo_i - 1) hi_all = lo_i - 1;       /* (hi_all <= w - 1 always) */
    int ix = 0;
    for (int pass = 0; pass < 2; pass++) {
        const int end = pass == 0 ? lo_i : w;
        for (; ix < end; ix++) { /* edge columns: check each tap */
            float s = Sc[ix];
            for (int kx = 0; kx < k; kx++) {
                const int q = 2 * ix - pad + kx;
                if (q < 0 || q >= wo) continue;
                const int t = kx - pad;
                s = s + wk[kx] * ((t & 1) ? O : E)[ix + FN(tc_off)(t)];
            }
            Sc[ix] = s;
        }
        if (pass == 1) break;
        /* interior [lo_all, hi_all]: every tap inside the row */
        for (; ix + VW <= hi_all + 1; ix += VW) {
            V s = FN(vld)(Sc + ix);
            for (int kx = 0; kx < k; kx++) {
                const int t = kx - pad;
                const float *src = (t & 1) ? O : E;
                s = s + FN(vsplat)(wk[kx]) * FN(vld)(src + (ix + FN(tc_off)(t)));
            }
            FN(vst)(Sc + ix, s);
        }
        for (; ix <= hi_all; ix++) {
            float s = Sc[ix];
            for (int kx = 0; kx < k; kx++) {
                const int t = kx - pad;
                s = s + wk[kx] * ((t & 1) ? O : E)[ix + FN(tc_off)(t)];
            }
            Sc[ix] = s;
        }
    }
}

BW_TGT static void FN(tconv_in)(const sk_tensor *g, const sk_tensor *d, const float *weight,
                                int k, int pad, int mode, float *scr, int y0, int y1)
{
    const int cin = d->c, cout = g->c, w = d->w, ho = g->h, wo = g->w, kk = k * k;
    const size_t sw = ((size_t)w + 15u) & ~(size_t)15u, eo = ((size_t)w + 9 + 15u) & ~(size_t)15u;
    float *S = scr, *E = scr + sw, *O = E + eo;
    /* Per grad_in element the terms are added in (co, ky, kx) order. */
    for (int iy = y0; iy < y1; iy++)
        for (int ci = 0; ci < cin; ci++) {
            for (int x = 0; x < w; x++) S[x] = 0.0f;
            for (int co = 0; co < cout; co++)
                for (int ky = 0; ky < k; ky++) {
                    const int oy = 2 * iy - pad + ky;
                    if (oy < 0 || oy >= ho) continue;
                    FN(tc_split)(E, O, sk_row(g, co, oy), wo);
                    FN(tc_row)(S, E, O, weight + ((ptrdiff_t)ci * cout + co) * kk + ky * k, k, pad,
                               w, wo);
                }
            FN(write_row)(sk_row(d, ci, iy), S, w, mode);
        }
}

/* acc[(l0 + i) mod 16] += a[i] * b[i]: a run continuing at lane l0. */
BW_TGT SK_INLINE void FN(dot16_at)(float *restrict acc, const float *restrict a,
                                   const float *restrict b, int n, int l0)
{
    int i = 0;
    for (; i < n && ((l0 + i) & (SK_GRAD_LANES - 1)); i++) {
        const int l = (l0 + i) & (SK_GRAD_LANES - 1);
        acc[l] = acc[l] + a[i] * b[i];
    }
    if (i == n) return;
    V s[NL];
    for (int j = 0; j < NL; j++) s[j] = FN(vld)(acc + j * VW);
    for (; i + SK_GRAD_LANES <= n; i += SK_GRAD_LANES)
        for (int j = 0; j < NL; j++)
            s[j] = s[j] + FN(vld)(a + i + j * VW) * FN(vld)(b + i + j * VW);
    for (int j = 0; j < NL; j++) FN(vst)(acc + j * VW, s[j]);
    for (int l = 0; i + l < n; l++) acc[l] = acc[l] + a[i + l] * b[i + l];
}

#define TC_CI 8    /* input channels whose lanes are kept on the stack at once */
#define TC_CH 256  /* input columns per split chunk (a multiple of 16)        */

/* Parameter (ci, co, ky, kx): per lane, terms in ascending grad_out row, then
 * ascending ix, lane (ix - lo) mod 16 over the run [lo, hi] of valid ix. The
 * grad_out row is split into even/odd columns chunk by chunk on the stack,
 * shared by a block of TC_CI input channels and every kx. */
BW_TGT static void FN(tconv_params)(const sk_tensor *x, const sk_tensor *g, float *dw,
                                    float *db, int k, int pad, int y0, int y1)
{
    const int cin = x->c, cout = g->c, h = x->h, w = x->w, wo = g->w, kk = k * k;
    float acc[TC_CI][SK_MAX_TK][SK_GRAD_LANES];
    float El[TC_CH + SK_MAX_TK + 2], Ol[TC_CH + SK_MAX_TK + 2];
    int lo[SK_MAX_TK], hi[SK_MAX_TK], off[SK_MAX_TK];
    for (int kx = 0; kx < k; kx++) {
        FN(tc_cols)(pad, kx, wo, w, &lo[kx], &hi[kx]);
        off[kx] = FN(tc_off)(kx - pad);
    }
    const int omin = off[0], omax = off[k - 1]; /* tc_off is monotonic in kx */
    for (int co = 0; co < cout; co++)
        for (int ky = 0; ky < k; ky++)
            for (int cb = 0; cb < cin; cb += TC_CI) {
                const int nci = cin - cb < TC_CI ? cin - cb : TC_CI;
                for (int c = 0; c < nci; c++)
                    for (int kx = 0; kx < k; kx++)
                        for (int l = 0; l < SK_GRAD_LANES; l++) acc[c][kx][l] = 0.0f;
                for (int oy = y0; oy < y1; oy++) {
                    const int n = oy + pad - ky;
                    if (n < 0 || (n & 1) || n / 2 >= h) continue;
                    const float *gr = sk_row(g, co, oy);
                    for (int c0 = 0; c0 < w; c0 += TC_CH) {
                        const int c1 = w - c0 < TC_CH ? w : c0 + TC_CH;
                        /* split columns: El[j] = g[2*(base + j)], Ol[j] = g[2*(base + j) + 1] */
                        const int base = c0 + omin, len = c1 - c0 + omax - omin;
                        for (int j = 0; j < len; j++) {
                            const int q = 2 * (base + j);
                            El[j] = q >= 0 && q < wo ? gr[q] : 0.0f;
                            Ol[j] = q + 1 >= 0 && q + 1 < wo ? gr[q + 1] : 0.0f;
                        }
                        for (int c = 0; c < nci; c++) {
                            const float *xr = sk_row(x, cb + c, n / 2);
                            for (int kx = 0; kx < k; kx++) {
                                const int a = lo[kx] > c0 ? lo[kx] : c0;
                                const int b = hi[kx] < c1 - 1 ? hi[kx] : c1 - 1;
                                if (a > b) continue;
                                const float *src = ((kx - pad) & 1) ? Ol : El;
                                FN(dot16_at)(acc[c][kx], xr + a, src + (a + off[kx] - base), b - a + 1,
                                             (a - lo[kx]) & (SK_GRAD_LANES - 1));
                            }
                        }
                    }
                }
                for (int c = 0; c < nci; c++) {
                    float *p = dw + ((ptrdiff_t)(cb + c) * cout + co) * kk + (ptrdiff_t)ky * k;
                    for (int kx = 0; kx < k; kx++) p[kx] = p[kx] + FN(lanes_sum)(acc[c][kx]);
                }
            }
    if (db) {
        float bl[SK_GRAD_LANES];
        for (int co = 0; co < cout; co++) {
            for (int l = 0; l < SK_GRAD_LANES; l++) bl[l] = 0.0f;
            for (int oy = y0; oy < y1; oy++) FN(sum16)(bl, sk_row(g, co, oy), wo);
            db[co] = db[co] + FN(lanes_sum)(bl);
        }
    }
}

#undef TC_CI
#undef TC_CH

/* ----------------------------------------------------- 2x upscale: grad_in */

/* Interior columns: NU taps e[u] at V[2*ix + dmin + u], u ascending, with V
 * split into even (E) / odd (O) columns so every tap is a contiguous load. */
BW_TGT SK_INLINE void FN(up_h_k)(float *restrict dr, const float *restrict E,
                                 const float *restrict O, const float *restrict e, int dmin,
                                 int lo, int hi, int mode, const int NU)
{
    const float *src[8];
    int off[8];
    for (int u = 0; u < NU; u++) {
        const int t = dmin + u;
        src[u] = (t & 1) ? O : E;
        off[u] = FN(tc_off)(t);
    }
    int ix = lo;
    for (; ix + VW <= hi; ix += VW) {
        V s = FN(vzero)();
        for (int u = 0; u < NU; u++) s = s + FN(vsplat)(e[u]) * FN(vld)(src[u] + (ix + off[u]));
        if (mode == SK_GRAD_ACCUMULATE) s = FN(vld)(dr + ix) + s;
        FN(vst)(dr + ix, s);
    }
    for (; ix < hi; ix++) {
        float s = 0.0f;
        for (int u = 0; u < NU; u++) s = s + e[u] * src[u][ix + off[u]];
        dr[ix] = mode == SK_GRAD_ACCUMULATE ? dr[ix] + s : s;
    }
}

/* Generic column adjoint for one column (any ix, including clamped edges):
 * ox ascending, tap ascending, over the only ox that can reach ix. Every ox
 * whose taps reach ix, clamped or not, lies in [2*ix + dmin, 2*ix + dmax]
 * (dmin/dmax: the extreme unclamped offsets; the clamped taps reaching the
 * edge columns come from a prefix / suffix of ox inside that window, since
 * a phase's taps move monotonically with ox). */
SK_INLINE float FN(up_h_one)(const float *Vr, int ix, int w, int ntap, const int off[2],
                             const float c[2][4], int dmin, int dmax)
{
    const int ow = 2 * w;
    const int a = sk_maxi(2 * ix + dmin, 0), b = sk_mini(2 * ix + dmax, ow - 1);
    float s = 0.0f;
    for (int ox = a; ox <= b; ox++) {
        const int j = ox >> 1, ph = ox & 1;
        for (int t = 0; t < ntap; t++)
            if (sk_clampi(j + off[ph] + t, 0, w - 1) == ix) s = s + c[ph][t] * Vr[ox];
    }
    return s;
}

BW_TGT static void FN(up_in)(const sk_tensor *g, const sk_tensor *d, int ntap, const int off[2],
                             const float c[2][4], int mode, float *Vr, int y0, int y1)
{
    const int h = d->h, w = d->w, oh = g->h, ow = g->w;
    const size_t sv = ((size_t)ow + 15u) & ~(size_t)15u;
    float *E = Vr + sv, *O = E + sv / 2; /* (sv/2 >= w: the split row) */
    /* Interior filter: offsets ox - 2*ix of every (phase, tap). */
    float e[8] = { 0 };
    int dmin = 1 << 20, dmax = -(1 << 20);
    for (int ph = 0; ph < 2; ph++)
        for (int t = 0; t < ntap; t++) {
            const int dd = 2 * (-off[ph] - t) + ph;
            dmin = dd < dmin ? dd : dmin;
            dmax = dd > dmax ? dd : dmax;
        }
    for (int ph = 0; ph < 2; ph++)
        for (int t = 0; t < ntap; t++) e[2 * (-off[ph] - t) + ph - dmin] = c[ph][t];
    /* Columns [lo, hi) with every tap unclamped and inside the row (not the
     * edge columns 0 and w-1, which also receive the clamped taps). */
    int lo = (-dmin + 1) / 2, hi = (ow - 1 - dmax) / 2 + 1;
    lo = sk_mini(sk_maxi(lo, 1), w);
    hi = sk_maxi(sk_mini(hi, w - 1), lo);
    const int dense = dmax - dmin + 1 == 2 * ntap; /* every interior offset has a tap */
    for (int iy = y0; iy < y1; iy++) {
        const int a = sk_maxi(2 * iy + dmin, 0), b = sk_mini(2 * iy + dmax, oh - 1);
        for (int ch = 0; ch < d->c; ch++) {
            /* The (row, weight) pairs reaching row iy, in (oy, t) order; V is
             * their sum from 0 in that order, one pass in registers. */
            const float *rows[16 * 4]; /* (dmax - dmin + 1) rows x ntap taps */
            float cw[16 * 4];
            int np = 0;
            for (int oy = a; oy <= b; oy++) {
                const int j = oy >> 1, ph = oy & 1;
                for (int t = 0; t < ntap; t++)
                    if (sk_clampi(j + off[ph] + t, 0, h - 1) == iy) {
                        rows[np] = sk_row(g, ch, oy);
                        cw[np++] = c[ph][t];
                    }
            }
            int x = 0;
            for (; x + VW <= ow; x += VW) {
                V sv = FN(vzero)();
                for (int q = 0; q < np; q++) sv = sv + FN(vsplat)(cw[q]) * FN(vld)(rows[q] + x);
                FN(vst)(Vr + x, sv);
            }
            for (; x < ow; x++) {
                float sx = 0.0f;
                for (int q = 0; q < np; q++) sx = sx + cw[q] * rows[q][x];
                Vr[x] = sx;
            }
            FN(tc_split)(E, O, Vr, ow);
            float *dr = sk_row(d, ch, iy);
            int ia = lo, ib = hi;
            if (!dense || (ntap != 4 && ntap != 2)) ia = ib = w; /* not our filters: all generic */
            for (int ix = 0; ix < ia; ix++) {
                const float s = FN(up_h_one)(Vr, ix, w, ntap, off, c, dmin, dmax);
                dr[ix] = mode == SK_GRAD_ACCUMULATE ? dr[ix] + s : s;
            }
            if (ntap == 4) FN(up_h_k)(dr, E, O, e, dmin, ia, ib, mode, 8);
            else FN(up_h_k)(dr, E, O, e, dmin, ia, ib, mode, 4);
            for (int ix = ib; ix < w; ix++) {
                const float s = FN(up_h_one)(Vr, ix, w, ntap, off, c, dmin, dmax);
                dr[ix] = mode == SK_GRAD_ACCUMULATE ? dr[ix] + s : s;
            }
        }
    }
}

/* ------------------------------------------------------------ table */

static const bw_kernels FN(bw_tbl) = {
    FN(conv_in), FN(conv_params), FN(pw_in), FN(pw_params),
    FN(tconv_in), FN(tconv_params), FN(up_in),
};

#undef FN
#undef V
#undef VW
#undef NL
#undef BW_SFX
#undef BW_TGT
#undef BW_VB
#undef BW_PWI_CB
#undef BW_PWW_CO
#undef BW_PWW_CI
