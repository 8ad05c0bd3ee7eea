/*
 * encoder_check.h - checkasm test of the fused slicing encoder (included by
 * checkasm.c after fused_check.h; uses its rng, guarded buffers, reporting
 * and tensor_over).
 *
 * Random networks of the class (C 1..32, 0..4 residual blocks after the head,
 * k 1/3/5/7, random activations and optional biases) on random regions (odd
 * sizes included) and centres. The specification is the layer path: the
 * reference layer kernels one after the other over the whole region
 * (u8_to_f32, space_to_depth, area_down, dwconv, pwconv, dwconv, pwconv +
 * residual ..., pwconv + base, f32_to_u8). Level 0 (the fused reference) must
 * give exactly its bytes in the centre; every SIMD level must give the fused
 * reference's bytes. Input, output and scratch sit against guard pages (the
 * input ends at the last byte of the region, so a read of a trailing odd
 * column or row faults); the output's row padding must stay untouched; the
 * scratch is filled with NaN garbage.
 */
typedef int (*sef_fn)(const sk_slice_encoder_net *, const uint8_t *, ptrdiff_t, int, int, float,
                      int, int, int, int, uint8_t *, ptrdiff_t, float, float *);
static const sef_fn sef_tab[NLEVELS] = { sk_slice_encoder_fused_ref, sk_slice_encoder_fused_avx2,
                                         sk_slice_encoder_fused_avx512, sk_slice_encoder_fused_neon };

/* The layer path over the whole region: rh x rw u8 output in out. */
static int encoder_spec(const sk_slice_encoder_net *n, const uint8_t *src, ptrdiff_t ss, int rw,
                        int rh, uint8_t *out)
{
    const int C = n->channels, CD = C > 4 ? C : 4;
    size_t lo = (size_t)rw * rh;
    float *X = malloc(4 * lo * 4), *S = malloc(4 * lo * 4), *B = malloc(lo * 4),
          *a = malloc(C * lo * 4), *b = malloc(C * lo * 4), *d = malloc(CD * lo * 4),
          *y = malloc(lo * 4);
    sk_tensor tX, tS, tB, ta, tb, td, ty;
    int e = 0;
    tensor_over(&tX, X, 1, 2 * rh, 2 * rw);
    tensor_over(&tS, S, 4, rh, rw);
    tensor_over(&tB, B, 1, rh, rw);
    tensor_over(&ta, a, C, rh, rw);
    tensor_over(&tb, b, C, rh, rw);
    tensor_over(&td, d, 4, rh, rw);
    tensor_over(&ty, y, 1, rh, rw);
    e |= sk_u8_to_f32_ref(src, ss, X, 2 * rw, 2 * rw, 2 * rh, 1.0f / 255.0f, 0, 2 * rh);
    e |= sk_space_to_depth2x_ref(&tX, &tS, 0, rh);
    e |= sk_area_down2x_ref(&tX, &tB, 0, rh);
    e |= sk_dwconv_ref(&tS, &td, n->head.dw_weight, n->head.dw_bias, n->k, SK_BORDER_REPLICATE,
                       n->head.dw_act, 0, rh);
    e |= sk_pwconv_ref(&td, &ta, n->head.pw_weight, n->head.pw_bias, n->head.pw_act, NULL, 0, rh);
    tensor_over(&td, d, C, rh, rw);
    for (int i = 0; i < n->blocks; i++) {
        const sk_sp_block *bl = &n->block[i];
        e |= sk_dwconv_ref(&ta, &td, bl->dw_weight, bl->dw_bias, n->k, SK_BORDER_REPLICATE, bl->dw_act, 0, rh);
        e |= sk_pwconv_ref(&td, &tb, bl->pw_weight, bl->pw_bias, bl->pw_act, &ta, 0, rh);
        sk_tensor tmp = ta; ta = tb; tb = tmp;
    }
    e |= sk_pwconv_ref(&ta, &ty, n->tail_weight, n->tail_bias, n->tail_act, &tB, 0, rh);
    e |= sk_f32_to_u8_ref(y, rw, out, rw, rw, rh, 255.0f, 0, rh);
    free(X); free(S); free(B); free(a); free(b); free(d); free(y);
    return e;
}

/* Weights scaled so the values stay in a range where the u8 output is not
 * mostly clipped (a test of saturation alone would prove little). */
static float *enc_weights(int n, float scale, gbuf *g)
{
    float *w = fbuf(n, g);
    for (int i = 0; i < n; i++) w[i] *= scale;
    return w;
}

static void enc_block(sk_sp_block *b, int cin, int cout, int k, gbuf *g, int *ng)
{
    float *sl;
    b->dw_weight = enc_weights(cin * k * k, 2.0f / (float)(k * k), &g[(*ng)++]);
    b->dw_bias = rndi(0, 5) ? enc_weights(cin, 0.2f, &g[(*ng)++]) : NULL;
    b->dw_act = rnd_act(cin, &sl, &g[(*ng)++]);
    b->pw_weight = enc_weights(cout * cin, 1.5f / (float)cin, &g[(*ng)++]);
    b->pw_bias = rndi(0, 5) ? enc_weights(cout, 0.2f, &g[(*ng)++]) : NULL;
    b->pw_act = rnd_act(cout, &sl, &g[(*ng)++]);
}

static void test_slice_encoder_fused(void)
{
    begin_op("slice_encoder_fused");
    static const int ks[4] = { 1, 3, 5, 7 };
    const int iters = g_iters / 4 > 0 ? g_iters / 4 : 1;
    long unclipped = 0, total = 0;
    for (int it = 0; it < iters; it++) {
        sk_slice_encoder_net n;
        sk_sp_block blk[4];
        gbuf g[40];
        int ng = 0;
        float *sl;
        n.channels = rndi(1, 32);
        n.blocks = rndi(0, 4);
        n.k = ks[rndi(0, 3)];
        const int C = n.channels;
        enc_block(&n.head, 4, C, n.k, g, &ng);
        for (int i = 0; i < n.blocks; i++) enc_block(&blk[i], C, C, n.k, g, &ng);
        n.block = blk;
        n.tail_weight = enc_weights(C, 0.5f / (float)C, &g[ng++]);
        n.tail_bias = rndi(0, 3) ? enc_weights(1, 0.1f, &g[ng++]) : NULL;
        n.tail_act = rnd_act(1, &sl, &g[ng++]);

        const int rw = rndi(1, 70), rh = rndi(1, 14);
        const int cx0 = rndi(0, rw - 1), cx1 = rndi(cx0 + 1, rw);
        const int cy0 = rndi(0, rh - 1), cy1 = rndi(cy0 + 1, rh);
        /* The picture may go on (an odd column, or more) beyond the region's 2*rw. */
        const ptrdiff_t ss = 2 * rw + rndi(0, 1) * rndi(1, 9);
        gbuf gs = galloc((size_t)(2 * rh - 1) * ss + 2 * rw);
        uint8_t *src = gs.p;
        for (int y = 0; y < 2 * rh; y++)
            for (int x = 0; x < 2 * rw; x++) src[y * ss + x] = (uint8_t)rndi(0, 255);
        uint8_t *spec = malloc((size_t)rw * rh);
        if (encoder_spec(&n, src, ss, rw, rh, spec)) fail_ref("layer path refused its arguments");
        for (int i = 0; i < rw * rh; i++) unclipped += spec[i] != 0 && spec[i] != 255;
        total += rw * rh;
        snprintf(g_ctx, sizeof g_ctx, "C=%d blocks=%d k=%d region %dx%d centre x[%d,%d) y[%d,%d)", C,
                 n.blocks, n.k, rw, rh, cx0, cx1, cy0, cy1);

        const int ow = cx1 - cx0, oh = cy1 - cy0;
        const ptrdiff_t ds = ow + rndi(0, 1) * rndi(1, 9);
        const size_t dn = (size_t)(oh - 1) * ds + ow, sn = sk_slice_encoder_fused_scratch_floats(&n, rw);
        uint8_t *first = malloc(dn);
        for (int l = 0; l < NLEVELS; l++) {
            if (!sk_level_supported(l)) continue;
            g_checks[l]++;
            gbuf gd = galloc(dn), gsc = galloc(sn * sizeof(float));
            uint8_t *dst = gd.p;
            memset(dst, 0xA5, dn);
            float *scratch = gsc.p, junk = sentinel();
            for (size_t i = 0; i < sn; i++) scratch[i] = junk;
            if (sef_tab[l](&n, src, ss, rw, rh, 1.0f / 255.0f, cx0, cx1, cy0, cy1, dst, ds, 255.0f,
                           scratch) != SK_OK) {
                g_level_fail[l] = 1;
            } else {
                compare_u8_region(l, dst, ds, dn, ow, oh, spec + (size_t)cy0 * rw + cx0, rw, first, " (vs layer path)");
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
    /* A net whose outputs all clip would not test the arithmetic: most must not. */
    if (unclipped * 2 < total) fail_ref("layer-path outputs mostly clipped: weak test");
    g_ref_what = "bit-exact runs vs the layer path";
    end_op();
    g_ref_what = "values vs naive double";
}

/* Benchmark: the slice2x shape (16 ch, head + 2 residual blocks, k3, PReLU)
 * over 1920x1080 -> 960x540, single thread, tiled as InferenceEngine tiles it
 * (halo 3). MAC/s count the network's multiply-adds (916 per LR pixel). */
static void encoder_frame(sef_fn f, const sk_slice_encoder_net *n, const uint8_t *src, uint8_t *dst,
                          int W, int H, int tr, int tc, int halo, float *scratch)
{
    for (int y = 0; y < H; y += tr)
        for (int x = 0; x < W; x += tc) {
            const int ry0 = y - halo < 0 ? 0 : y - halo, ry1 = y + tr + halo > H ? H : y + tr + halo;
            const int rx0 = x - halo < 0 ? 0 : x - halo, rx1 = x + tc + halo > W ? W : x + tc + halo;
            const int cy1 = (y + tr > H ? H : y + tr) - ry0, cx1 = (x + tc > W ? W : x + tc) - rx0;
            f(n, src + (ptrdiff_t)2 * ry0 * 2 * W + 2 * rx0, 2 * W, rx1 - rx0, ry1 - ry0,
              1.0f / 255.0f, x - rx0, cx1, y - ry0, cy1, dst + (ptrdiff_t)y * W + x, W, 255.0f, scratch);
        }
}

static void bench_encoder_fused(void)
{
    const int W = 960, H = 540, C = 16, HALO = 3;
    static const int tiles[][2] = { { 64, 128 }, { 64, 256 }, { 64, 512 }, { 135, 960 } };
    gbuf g[40];
    int ng = 0;
    sk_slice_encoder_net n;
    sk_sp_block blk[2];
    n.channels = C; n.blocks = 2; n.k = 3;
    enc_block(&n.head, 4, C, 3, g, &ng);
    for (int i = 0; i < 2; i++) enc_block(&blk[i], C, C, 3, g, &ng);
    n.block = blk;
    n.tail_weight = enc_weights(C, 0.1f, &g[ng++]); n.tail_bias = NULL; n.tail_act = (sk_act){ 0, NULL };
    uint8_t *src = malloc((size_t)4 * W * H), *dst = malloc((size_t)W * H);
    for (int i = 0; i < 4 * W * H; i++) src[i] = (uint8_t)rnd64();
    printf("\nfused slicing encoder (slice2x shape: 16 ch, 3 blocks, k3), 1920x1080 -> 960x540, one thread:\n");
    for (int l = 1; l < NLEVELS; l++) {
        if (!sk_level_supported(l)) continue;
        for (size_t ti = 0; ti < sizeof tiles / sizeof tiles[0]; ti++) {
            const int tr = tiles[ti][0], tc = tiles[ti][1];
            const size_t sn = sk_slice_encoder_fused_scratch_floats(&n, tc + 2 * HALO);
            float *scratch = aligned_alloc(64, (sn * 4 + 63) / 64 * 64);
            double t;
            TIME_IT(t, encoder_frame(sef_tab[l], &n, src, dst, W, H, tr, tc, HALO, scratch));
            char name[64];
            snprintf(name, sizeof name, "encoder tile %dx%d (%zu KiB)", tr, tc, sn * 4 / 1024);
            bench_row(name, l, t, (double)W * H, 2.0 * 916 * W * H);
            free(scratch);
        }
    }
    free(src);
    free(dst);
    for (int i = 0; i < ng; i++) gfree(&g[i]);
}
