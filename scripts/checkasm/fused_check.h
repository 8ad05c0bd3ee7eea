/*
 * fused_check.h - checkasm test of the fused sub-pixel kernel (included by
 * checkasm.c; uses its rng, guarded buffers and reporting).
 *
 * Random networks of the class (C 1..20, 0..4 blocks, k 1/3/5/7, random
 * activations) on random regions and centres. The specification is the
 * layer path: the reference layer kernels run one after the other over the
 * whole region (u8_to_f32, conv, dwconv, pwconv + residual, pwconv, bicubic,
 * depth_to_space + base, f32_to_u8). Level 0 (the fused reference) must give
 * exactly its bytes in the centre; every SIMD level must give the fused
 * reference's bytes. Input, output and scratch sit against guard pages; the
 * output's row padding must stay untouched; the scratch is filled with NaN
 * garbage so a read of a value the kernel did not write shows up.
 */
typedef int (*spf_fn)(const sk_subpixel_net *, const uint8_t *, ptrdiff_t, int, int, float, int,
                      int, int, int, uint8_t *, ptrdiff_t, float, float *);
static const spf_fn spf_tab[NLEVELS] = { sk_subpixel_fused_ref, sk_subpixel_fused_avx2,
                                         sk_subpixel_fused_avx512, sk_subpixel_fused_neon };

static void tensor_over(sk_tensor *t, float *data, int c, int h, int w)
{
    t->data = data; t->c = c; t->h = h; t->w = w; t->stride = w; t->plane = (ptrdiff_t)h * w;
}

/* The layer path over the whole region: 2rh x 2rw u8 output in out. */
static int fused_spec(const sk_subpixel_net *n, const uint8_t *src, ptrdiff_t ss, int rw, int rh,
                      uint8_t *out)
{
    const int C = n->channels;
    size_t lo = (size_t)rw * rh, hi = 4 * lo;
    float *X = malloc(lo * 4), *a = malloc(C * lo * 4), *b = malloc(C * lo * 4),
          *d = malloc(C * lo * 4), *t = malloc(4 * lo * 4), *base = malloc(hi * 4),
          *y = malloc(hi * 4), *scr = malloc(sk_upscale2x_scratch_floats(2 * rw) * 4);
    sk_tensor tX, ta, tb, td, tt, tbase, ty;
    int e = 0;
    tensor_over(&tX, X, 1, rh, rw);
    tensor_over(&ta, a, C, rh, rw);
    tensor_over(&tb, b, C, rh, rw);
    tensor_over(&td, d, C, rh, rw);
    tensor_over(&tt, t, 4, rh, rw);
    tensor_over(&tbase, base, 1, 2 * rh, 2 * rw);
    tensor_over(&ty, y, 1, 2 * rh, 2 * rw);
    e |= sk_u8_to_f32_ref(src, ss, X, rw, rw, rh, 1.0f / 255.0f, 0, rh);
    e |= sk_conv_ref(&tX, &ta, n->head_weight, n->head_bias, n->k, SK_BORDER_REPLICATE, n->head_act, 0, rh);
    for (int i = 0; i < n->blocks; i++) {
        const sk_sp_block *bl = &n->block[i];
        e |= sk_dwconv_ref(&ta, &td, bl->dw_weight, bl->dw_bias, n->k, SK_BORDER_REPLICATE, bl->dw_act, 0, rh);
        e |= sk_pwconv_ref(&td, &tb, bl->pw_weight, bl->pw_bias, bl->pw_act, &ta, 0, rh);
        sk_tensor tmp = ta; ta = tb; tb = tmp;
    }
    e |= sk_pwconv_ref(&ta, &tt, n->tail_weight, n->tail_bias, n->tail_act, NULL, 0, rh);
    e |= sk_bicubic2x_ref(&tX, &tbase, n->bicubic_a, scr, 0, 2 * rh);
    e |= sk_depth_to_space2x_ref(&tt, &ty, &tbase, 0, 2 * rh);
    e |= sk_f32_to_u8_ref(y, 2 * rw, out, 2 * rw, 2 * rw, 2 * rh, 255.0f, 0, 2 * rh);
    free(X); free(a); free(b); free(d); free(t); free(base); free(y); free(scr);
    return e;
}

static void test_subpixel_fused(void)
{
    begin_op("subpixel_fused");
    static const int ks[4] = { 1, 3, 5, 7 };
    const int iters = g_iters / 4 > 0 ? g_iters / 4 : 1;
    for (int it = 0; it < iters; it++) {
        sk_subpixel_net n;
        sk_sp_block blk[4];
        gbuf g[32];
        int ng = 0;
        float *sl;
        n.channels = rndi(1, 20);
        n.blocks = rndi(0, 4);
        n.k = ks[rndi(0, 3)];
        n.bicubic_a = rndi(0, 1) ? -0.75f : -0.5f;
        const int C = n.channels, kk = n.k * n.k;
        n.head_weight = fbuf(C * kk, &g[ng++]);
        n.head_bias = rndi(0, 5) ? fbuf(C, &g[ng++]) : NULL;
        n.head_act = rnd_act(C, &sl, &g[ng++]);
        for (int i = 0; i < n.blocks; i++) {
            blk[i].dw_weight = fbuf(C * kk, &g[ng++]);
            blk[i].dw_bias = fbuf(C, &g[ng++]);
            blk[i].dw_act = rnd_act(C, &sl, &g[ng++]);
            float *pw = fbuf(C * C, &g[ng++]);
            for (int j = 0; j < C * C; j++) pw[j] *= 0.5f; /* keep values in a useful range */
            blk[i].pw_weight = pw;
            blk[i].pw_bias = fbuf(C, &g[ng++]);
            blk[i].pw_act = rnd_act(C, &sl, &g[ng++]);
        }
        n.block = blk;
        n.tail_weight = fbuf(4 * C, &g[ng++]);
        n.tail_bias = fbuf(4, &g[ng++]);
        n.tail_act = rnd_act(4, &sl, &g[ng++]);

        const int rw = rndi(1, 70), rh = rndi(1, 14);
        const int cx0 = rndi(0, rw - 1), cx1 = rndi(cx0 + 1, rw);
        const int cy0 = rndi(0, rh - 1), cy1 = rndi(cy0 + 1, rh);
        const ptrdiff_t ss = rw + rndi(0, 1) * rndi(1, 9);
        gbuf gs = galloc((size_t)(rh - 1) * ss + rw);
        uint8_t *src = gs.p;
        for (int y = 0; y < rh; y++)
            for (int x = 0; x < rw; x++) src[y * ss + x] = (uint8_t)rndi(0, 255);
        uint8_t *spec = malloc((size_t)4 * rw * rh);
        if (fused_spec(&n, src, ss, rw, rh, spec)) fail_ref("layer path refused its arguments");
        snprintf(g_ctx, sizeof g_ctx, "C=%d blocks=%d k=%d region %dx%d centre x[%d,%d) y[%d,%d)", C,
                 n.blocks, n.k, rw, rh, cx0, cx1, cy0, cy1);

        const int ow = 2 * (cx1 - cx0), oh = 2 * (cy1 - cy0);
        const ptrdiff_t ds = ow + rndi(0, 1) * rndi(1, 9);
        const size_t dn = (size_t)(oh - 1) * ds + ow, sn = sk_subpixel_fused_scratch_floats(&n, rw);
        uint8_t *first = malloc(dn);
        for (int l = 0; l < NLEVELS; l++) {
            if (!sk_level_supported(l)) continue;
            g_checks[l]++;
            gbuf gd = galloc(dn), gsc = galloc(sn * sizeof(float));
            uint8_t *dst = gd.p;
            memset(dst, 0xA5, dn);
            float *scratch = gsc.p, junk = sentinel();
            for (size_t i = 0; i < sn; i++) scratch[i] = junk;
            if (spf_tab[l](&n, src, ss, rw, rh, 1.0f / 255.0f, cx0, cx1, cy0, cy1, dst, ds, 255.0f,
                           scratch) != SK_OK) {
                g_level_fail[l] = 1;
            } else {
                compare_u8_region(l, dst, ds, dn, ow, oh, spec + (size_t)(2 * cy0) * 2 * rw + 2 * cx0, 2 * rw, first, " (vs layer path)");
                if (l == 0) memcpy(first, dst, dn);
            }
            gfree(&gd);
            gfree(&gsc);
        }
        free(first);
        free(spec);
        gfree(&gs);
        for (int i = 0; i < ng; i++) gfree(&g[i]);
    }
    g_ref_what = "bit-exact runs vs the layer path";
    end_op();
    g_ref_what = "values vs naive double";
}

/* Benchmark: the sr2x shape (16 ch, 3 blocks, k3, PReLU) over a 960x540
 * frame, single thread, tiled as InferenceEngine tiles it (halo 5), for a few
 * tile sizes, and the sr2x-hq shape (32 ch, 4 blocks) at 64x128. FLOP/s count
 * the network's multiply-adds as slicestream bench does (1440 / 5696 per LR pixel). */
/* One frame through the fused kernel, tile by tile with the engine's halo. */
static void fused_frame(spf_fn f, const sk_subpixel_net *n, const uint8_t *src, uint8_t *dst, int W,
                        int H, int tr, int tc, int halo, float *scratch)
{
    for (int y = 0; y < H; y += tr)
        for (int x = 0; x < W; x += tc) {
            const int ry0 = y - halo < 0 ? 0 : y - halo, ry1 = y + tr + halo > H ? H : y + tr + halo;
            const int rx0 = x - halo < 0 ? 0 : x - halo, rx1 = x + tc + halo > W ? W : x + tc + halo;
            const int cy1 = (y + tr > H ? H : y + tr) - ry0, cx1 = (x + tc > W ? W : x + tc) - rx0;
            f(n, src + (ptrdiff_t)ry0 * W + rx0, W, rx1 - rx0, ry1 - ry0, 1.0f / 255.0f, x - rx0, cx1,
              y - ry0, cy1, dst + (ptrdiff_t)2 * y * 2 * W + 2 * x, 2 * W, 255.0f, scratch);
        }
}

static void bench_fused(void)
{
    /* sr2x (16 ch, 3 blocks) over several tiles, then sr2x-hq (32 ch, 4 blocks) at the engine's default
     * 64x128: the float side of the int8 rows in bench_q8. */
    static const int shapes[2][2] = { { 16, 3 }, { 32, 4 } };
    const int W = 960, H = 540, HALO = 5;
    static const int tiles[][2] = { { 64, 128 }, { 64, 256 }, { 135, 480 }, { 270, 960 } };
    uint8_t *src = malloc((size_t)W * H), *dst = malloc((size_t)4 * W * H);
    for (int i = 0; i < W * H; i++) src[i] = (uint8_t)rnd64();
    for (int sh = 0; sh < 2; sh++) {
        const int C = shapes[sh][0], NB = shapes[sh][1];
        gbuf g[16];
        int ng = 0;
        float *sl;
        sk_subpixel_net n;
        sk_sp_block blk[4];
        n.channels = C; n.blocks = NB; n.k = 3; n.bicubic_a = -0.75f;
        n.head_weight = fbuf(C * 9, &g[ng++]); n.head_bias = fbuf(C, &g[ng++]);
        sl = fbuf(C, &g[ng++]);
        n.head_act = (sk_act){ SK_ACT_PRELU, sl };
        for (int i = 0; i < NB; i++) {
            blk[i].dw_weight = fbuf(C * 9, &g[ng++]); blk[i].dw_bias = n.head_bias; blk[i].dw_act = (sk_act){ 0, NULL };
            blk[i].pw_weight = fbuf(C * C, &g[ng++]); blk[i].pw_bias = n.head_bias; blk[i].pw_act = n.head_act;
        }
        n.block = blk;
        n.tail_weight = fbuf(4 * C, &g[ng++]); n.tail_bias = n.head_bias; n.tail_act = (sk_act){ 0, NULL };
        printf("\nfused sub-pixel (%s shape: %d ch, %d blocks, k3, PReLU), 960x540 -> 1920x1080, one thread:\n",
               sh ? "sr2x-hq" : "sr2x", C, NB);
        const double flops = 2.0 * (sh ? 5696 : 1440) * W * H; /* MACs per LR pixel as slicestream bench counts them */
        for (int l = 1; l < NLEVELS; l++) {
            if (!sk_level_supported(l)) continue;
            for (size_t ti = 0; ti < (sh ? 1 : sizeof tiles / sizeof tiles[0]); ti++) {
                const int tr = tiles[ti][0], tc = tiles[ti][1];
                const size_t sn = sk_subpixel_fused_scratch_floats(&n, tc + 2 * HALO);
                float *scratch = aligned_alloc(64, (sn * 4 + 63) / 64 * 64);
                double t;
                TIME_IT(t, fused_frame(spf_tab[l], &n, src, dst, W, H, tr, tc, HALO, scratch));
                char name[64];
                snprintf(name, sizeof name, "fused tile %dx%d (%zu KiB)", tr, tc, sn * 4 / 1024);
                bench_row(name, l, t, (double)W * H, flops);
                free(scratch);
            }
        }
        for (int i = 0; i < ng; i++) gfree(&g[i]);
    }
    free(src);
    free(dst);
}
