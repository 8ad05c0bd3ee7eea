/*
 * q8_check.h - checkasm test of the int8 sub-pixel kernel (included by
 * checkasm.c after fused_check.h; uses its rng, guarded buffers, reporting).
 *
 * Random int8 nets (C 4/8/16/32 and odd sizes, 0..4 blocks, k 1/3/5/7, every
 * activation, requantisation multipliers from tiny to saturating) on random
 * regions and centres. The specification is q8_spec below: the spec of
 * slice_kernels_q8.h written layer by layer over the whole region in plain
 * int arrays (int64 sums reduced mod 2^32, no rings, no padding), then the
 * float reference layer kernels for the bicubic base, depth_to_space and the
 * u8 output. Level 0 (the kernel's reference) must give its bytes in the
 * centre, so the ring schedule is checked too; every SIMD level must give the
 * reference's bytes. Input, output and scratch sit against guard pages, the
 * output's row padding must stay untouched, the scratch starts as garbage.
 */
typedef int (*q8_fn)(const sk_subpixel_q8_net *, const uint8_t *, ptrdiff_t, int, int, float, int,
                     int, int, int, uint8_t *, ptrdiff_t, float, void *);
/* One entry per SK_LEVEL_* (a short table would call NULL at the neon level); neon is the baseline
 * SMLAL body, run on every AArch64 CPU (the SDOT body is forced separately below where the CPU has
 * the dot product, as the avxvnni one is). */
static const q8_fn q8_tab[NLEVELS] = { sk_subpixel_q8_ref, sk_subpixel_q8_avx2, sk_subpixel_q8_avx512,
                                       sk_subpixel_q8_neon };

/* Runs body f on the case with a fresh destination (0xA5) and random scratch, as every level gets;
 * 1 if it accepted the case and wrote exactly `first` (the reference's bytes). */
static int q8_same(q8_fn f, const sk_subpixel_q8_net *n, const uint8_t *src, ptrdiff_t ss, int rw, int rh, int cx0,
                   int cx1, int cy0, int cy1, ptrdiff_t ds, size_t dn, size_t sn, const uint8_t *first)
{
    gbuf gd = galloc(dn), gsc = galloc(sn);
    uint8_t *dst = gd.p, *scratch = gsc.p;
    memset(dst, 0xA5, dn);
    for (size_t i = 0; i < sn; i++) scratch[i] = (uint8_t)rnd64();
    const int ok = f(n, src, ss, rw, rh, 1.0f / 255.0f, cx0, cx1, cy0, cy1, dst, ds, 255.0f, scratch) == SK_OK &&
                   !memcmp(dst, first, dn);
    gfree(&gd);
    gfree(&gsc);
    return ok;
}

static long g_q8_dot_runs; /* sk_subpixel_q8_neondot runs compared (0: not run on this CPU) */
static int g_q8_dot_fail;

static int q8_level_ok(int l) { return sk_level_supported(l) && (l != SK_LEVEL_AVX512 || sk_q8_vnni_supported()); }

static int32_t q8s_wrap(int64_t v) { return (int32_t)(uint32_t)(uint64_t)v; }

/* sat as the spec words it: clamp(lrintf(v), -127, 127), for any finite v. */
static int q8s_sat(float v)
{
    if (v >= 128.0f) return 127;
    if (v <= -128.0f) return -127;
    long r = lrintf(v);
    return r < -127 ? -127 : r > 127 ? 127 : (int)r;
}

static float q8s_act(float v, sk_act a, int c)
{
    if (a.kind == SK_ACT_RELU) return v > 0.0f ? v : 0.0f;
    if (a.kind == SK_ACT_PRELU) return v > 0.0f ? v : a.slope[c] * v;
    return v;
}

static int q8s_cl(int v, int n) { return v < 0 ? 0 : v >= n ? n - 1 : v; }

/* The whole region, layer by layer: 2rh x 2rw u8 output in out. */
static int q8_spec(const sk_subpixel_q8_net *n, const uint8_t *src, ptrdiff_t ss, int rw, int rh, uint8_t *out)
{
    const int C = n->channels, k = n->k, r = k / 2;
    const size_t lo = (size_t)rw * rh;
    int *x = malloc(C * lo * sizeof(int)), *xn = malloc(C * lo * sizeof(int)), *d = malloc(C * lo * sizeof(int));
    float *X = malloc(lo * 4), *t = malloc(4 * lo * 4), *base = malloc(16 * lo), *y = malloc(16 * lo),
          *scr = malloc(sk_upscale2x_scratch_floats(2 * rw) * 4);
#define P(c, yy, xx) ((size_t)(c) * lo + (size_t)(yy) * rw + (xx))
    for (int co = 0; co < C; co++)
        for (int yy = 0; yy < rh; yy++)
            for (int xx = 0; xx < rw; xx++) {
                int64_t acc = n->head_bias[co];
                for (int ky = 0; ky < k; ky++)
                    for (int kx = 0; kx < k; kx++)
                        acc += (int64_t)n->head_weight[(co * k + ky) * k + kx] *
                               src[q8s_cl(yy + ky - r, rh) * ss + q8s_cl(xx + kx - r, rw)];
                x[P(co, yy, xx)] = q8s_sat(q8s_act((float)q8s_wrap(acc) * n->head_scale[co], n->head_act, co));
            }
    for (int i = 0; i < n->blocks; i++) {
        const sk_q8_block *b = &n->block[i];
        for (int c = 0; c < C; c++)
            for (int yy = 0; yy < rh; yy++)
                for (int xx = 0; xx < rw; xx++) {
                    int64_t acc = b->dw_bias[c];
                    for (int ky = 0; ky < k; ky++)
                        for (int kx = 0; kx < k; kx++)
                            acc += (int64_t)b->dw_weight[(c * k + ky) * k + kx] *
                                   x[P(c, q8s_cl(yy + ky - r, rh), q8s_cl(xx + kx - r, rw))];
                    d[P(c, yy, xx)] = q8s_sat(q8s_act((float)q8s_wrap(acc) * b->dw_scale[c], b->dw_act, c));
                }
        for (int co = 0; co < C; co++)
            for (size_t p = 0; p < lo; p++) {
                int64_t acc = b->pw_bias[co];
                for (int ci = 0; ci < C; ci++) acc += (int64_t)b->pw_weight[co * C + ci] * d[ci * lo + p];
                float v = q8s_act((float)q8s_wrap(acc) * b->pw_scale[co], b->pw_act, co);
                volatile float res = (float)x[co * lo + p] * b->res_scale; /* two roundings, no FMA */
                xn[co * lo + p] = q8s_sat(v + res);
            }
        int *tmp = x; x = xn; xn = tmp;
    }
    for (int j = 0; j < 4; j++)
        for (size_t p = 0; p < lo; p++) {
            int64_t acc = n->tail_bias[j];
            for (int ci = 0; ci < C; ci++) acc += (int64_t)n->tail_weight[j * C + ci] * x[ci * lo + p];
            t[j * lo + p] = q8s_act((float)q8s_wrap(acc) * n->tail_scale[j], n->tail_act, j);
        }
#undef P
    sk_tensor tX, tt, tbase, ty;
    tensor_over(&tX, X, 1, rh, rw);
    tensor_over(&tt, t, 4, rh, rw);
    tensor_over(&tbase, base, 1, 2 * rh, 2 * rw);
    tensor_over(&ty, y, 1, 2 * rh, 2 * rw);
    int e = sk_u8_to_f32_ref(src, ss, X, rw, rw, rh, 1.0f / 255.0f, 0, rh);
    e |= sk_bicubic2x_ref(&tX, &tbase, n->bicubic_a, scr, 0, 2 * rh);
    e |= sk_depth_to_space2x_ref(&tt, &ty, &tbase, 0, 2 * rh);
    e |= sk_f32_to_u8_ref(y, 2 * rw, out, 2 * rw, 2 * rw, 2 * rh, 255.0f, 0, 2 * rh);
    free(x); free(xn); free(d); free(X); free(t); free(base); free(y); free(scr);
    return e;
}

static int8_t *q8_wbuf(int n, gbuf *g)
{
    *g = galloc((size_t)n);
    int8_t *p = g->p;
    for (int i = 0; i < n; i++) p[i] = (int8_t)rndi(-127, 127);
    return p;
}
static int32_t *q8_bbuf(int n, int mag, gbuf *g)
{
    *g = galloc((size_t)n * 4);
    int32_t *p = g->p;
    for (int i = 0; i < n; i++) p[i] = rndi(-mag, mag);
    return p;
}
/* Set per net by q8_random_net: its multipliers are powers of two, so acc * m lands exactly on
 * half-integers often and sat's round-half-to-even is checked (a body rounding half away from zero
 * passes random mantissas). */
static int g_q8_pow2;

/* Multipliers around 1/(typical |acc|) times 2^-3..2^5 (the top ones saturate often), a few negative. */
static float *q8_sbuf(int n, double typical, gbuf *g)
{
    float *p = fbuf(n, g);
    for (int i = 0; i < n; i++) {
        const double mant = g_q8_pow2 ? 1.0 : 0.5 + 0.5 * fabs(p[i]);
        p[i] = (float)(ldexp(g_q8_pow2 ? ldexp(1.0, ilogb(90.0 / typical)) : 90.0 / typical, rndi(-3, 5)) * mant) *
               (rndi(0, 9) ? 1.0f : -1.0f);
    }
    return p;
}

/* A random net; fc, fb, fk > 0 force channels, blocks, k. */
static void q8_random_net(sk_subpixel_q8_net *n, sk_q8_block *blk, gbuf *g, int *ng, int fc, int fb, int fk)
{
    static const int ks[4] = { 1, 3, 5, 7 }, cs[4] = { 4, 8, 16, 32 };
    float *sl;
    n->channels = rndi(0, 4) ? cs[rndi(0, 3)] : rndi(1, 40);
    n->blocks = rndi(0, 4);
    n->k = ks[rndi(0, 7) ? rndi(0, 2) : 3];
    if (fc > 0) n->channels = fc;
    if (fb > 0) n->blocks = fb;
    if (fk > 0) n->k = fk;
    n->bicubic_a = rndi(0, 1) ? -0.75f : -0.5f;
    g_q8_pow2 = rndi(0, 3) == 0;
    const int C = n->channels, kk = n->k * n->k;
    n->head_weight = q8_wbuf(C * kk, &g[(*ng)++]);
    n->head_bias = q8_bbuf(C, 40000, &g[(*ng)++]);
    n->head_scale = q8_sbuf(C, sqrt(kk) * 127 * 128, &g[(*ng)++]);
    n->head_act = rnd_act(C, &sl, &g[(*ng)++]);
    for (int i = 0; i < n->blocks; i++) {
        blk[i].dw_weight = q8_wbuf(C * kk, &g[(*ng)++]);
        blk[i].dw_bias = q8_bbuf(C, 20000, &g[(*ng)++]);
        blk[i].dw_scale = q8_sbuf(C, sqrt(kk) * 127 * 60, &g[(*ng)++]);
        blk[i].dw_act = rnd_act(C, &sl, &g[(*ng)++]);
        blk[i].pw_weight = q8_wbuf(C * C, &g[(*ng)++]);
        blk[i].pw_bias = q8_bbuf(C, 20000, &g[(*ng)++]);
        blk[i].pw_scale = q8_sbuf(C, sqrt(C) * 127 * 60, &g[(*ng)++]);
        blk[i].pw_act = rnd_act(C, &sl, &g[(*ng)++]);
        blk[i].res_scale = (float)ldexp(g_q8_pow2 ? 1.0 : 1.0 + rndf() * 0.5, rndi(-2, 1));
    }
    n->block = blk;
    n->tail_weight = q8_wbuf(4 * C, &g[(*ng)++]);
    n->tail_bias = q8_bbuf(4, 20000, &g[(*ng)++]);
    n->tail_scale = q8_sbuf(4, sqrt(C) * 127 * 60 * 100, &g[(*ng)++]);
    n->tail_act = rnd_act(4, &sl, &g[(*ng)++]);
    /* One net in four has a layer whose multipliers are 2^20..2^36 times larger: its values pass 2^31,
     * where a body converting to int32 without clamping first gets INT_MIN (q8_wide must send that
     * layer to the clamping copy), and lie either side of the 2^30 bound. */
    if (rndi(0, 3) == 0) {
        const int L = rndi(0, 2 * n->blocks);
        float *sc = (float *)(L == 0 ? n->head_scale : L & 1 ? blk[(L - 1) / 2].dw_scale : blk[(L - 2) / 2].pw_scale);
        const float m = (float)ldexp(1.0, rndi(20, 36));
        for (int o = 0; o < C; o++) sc[o] *= m;
    }
}

static void test_subpixel_q8(void)
{
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    /* Dispatch must pick the VNNI body wherever the CPU has it: a detection slip only costs speed
     * (the AVX2 body gives the same bytes), so no comparison below would notice it. */
    __builtin_cpu_init();
    const int want = sk_level_supported(SK_LEVEL_AVX512) && __builtin_cpu_supports("avx512vnni") &&
                     __builtin_cpu_supports("avx512vbmi");
    if (sk_q8_vnni_supported() != want) {
        printf("FAIL subpixel_q8: sk_q8_vnni_supported() = %d, CPU says %d\n", sk_q8_vnni_supported(), want);
        g_any_fail = 1;
    }
    /* The same for AVX-VNNI (VEX): CPUs with AVX2 + FMA + AVX-VNNI get sk_subpixel_q8_avxvnni. */
    const int want_avx = sk_level_supported(SK_LEVEL_AVX2) && __builtin_cpu_supports("avxvnni");
    if (sk_q8_avxvnni_supported() != want_avx) {
        printf("FAIL subpixel_q8: sk_q8_avxvnni_supported() = %d, CPU says %d\n", sk_q8_avxvnni_supported(), want_avx);
        g_any_fail = 1;
    }
#endif
#if defined(__aarch64__)
    /* The dot-product detection, against what the runner knows of the CPU it chose
     * (CHECKASM_EXPECT_DOTPROD=0/1, set by run.sh for its qemu -cpu runs): a wrong 0 only costs speed,
     * so no comparison below would notice it; a wrong 1 would crash the dispatcher with SIGILL. */
    const char *want_dot = getenv("CHECKASM_EXPECT_DOTPROD");
    if (want_dot && *want_dot && sk_q8_dotprod_supported() != atoi(want_dot)) {
        printf("FAIL subpixel_q8: sk_q8_dotprod_supported() = %d, runner says %s\n", sk_q8_dotprod_supported(), want_dot);
        g_any_fail = 1;
    }
#endif
    begin_op("subpixel_q8");
    g_q8_dot_runs = 0;
    g_q8_dot_fail = 0;
    const int iters = g_iters / 3 > 0 ? g_iters / 3 : 1;
    for (int it = 0; it < iters; it++) {
        sk_subpixel_q8_net n;
        sk_q8_block blk[4];
        gbuf g[48];
        int ng = 0;
        q8_random_net(&n, blk, g, &ng, 0, 0, 0);
        const int rw = rndi(1, 70), rh = rndi(1, 14);
        const int cx0 = rndi(0, rw - 1), cx1 = rndi(cx0 + 1, rw);
        const int cy0 = rndi(0, rh - 1), cy1 = rndi(cy0 + 1, rh);
        const ptrdiff_t ss = rw + rndi(0, 1) * rndi(1, 9);
        gbuf gs = galloc((size_t)(rh - 1) * ss + rw);
        uint8_t *src = gs.p;
        for (int y = 0; y < rh; y++)
            for (int x = 0; x < rw; x++) src[y * ss + x] = (uint8_t)(rndi(0, 7) ? rndi(0, 255) : rndi(0, 1) * 255);
        uint8_t *spec = malloc((size_t)4 * rw * rh);
        if (q8_spec(&n, src, ss, rw, rh, spec)) fail_ref("spec's float layers refused their arguments");
        snprintf(g_ctx, sizeof g_ctx, "C=%d blocks=%d k=%d region %dx%d centre x[%d,%d) y[%d,%d)", n.channels,
                 n.blocks, n.k, rw, rh, cx0, cx1, cy0, cy1);
        const int ow = 2 * (cx1 - cx0), oh = 2 * (cy1 - cy0);
        const ptrdiff_t ds = ow + rndi(0, 1) * rndi(1, 9);
        const size_t dn = (size_t)(oh - 1) * ds + ow, sn = sk_subpixel_q8_scratch_bytes(&n, rw);
        uint8_t *first = malloc(dn);
        for (int l = 0; l < NLEVELS; l++) {
            if (!q8_level_ok(l)) continue;
            g_checks[l]++;
            gbuf gd = galloc(dn), gsc = galloc(sn);
            uint8_t *dst = gd.p, *scratch = gsc.p;
            memset(dst, 0xA5, dn);
            for (size_t i = 0; i < sn; i++) scratch[i] = (uint8_t)rnd64();
            if (q8_tab[l](&n, src, ss, rw, rh, 1.0f / 255.0f, cx0, cx1, cy0, cy1, dst, ds, 255.0f, scratch) != SK_OK) {
                fprintf(stderr, "  %s/%s refused %s\n", g_op, sk_level_name(l), g_ctx);
                g_level_fail[l] = 1;
            } else {
                compare_u8_region(l, dst, ds, dn, ow, oh, spec + (size_t)(2 * cy0) * 2 * rw + 2 * cx0, 2 * rw, first, " (vs layer-by-layer spec)");
                if (l == 0) memcpy(first, dst, dn);
            }
            gfree(&gd);
            gfree(&gsc);
        }
        /* The AVX-VNNI body (no level of its own: the dispatcher's avx2/avx512 choice where the CPU has
         * AVX-VNNI and not AVX512_VNNI), forced here wherever the CPU can run it; its failures count
         * against the avx2 level. */
        if (sk_q8_avxvnni_supported()) {
            g_checks[SK_LEVEL_AVX2]++;
            if (!q8_same(sk_subpixel_q8_avxvnni, &n, src, ss, rw, rh, cx0, cx1, cy0, cy1, ds, dn, sn, first)) {
                fprintf(stderr, "  MISMATCH %s/avxvnni %s (vs reference)\n", g_op, g_ctx);
                g_level_fail[SK_LEVEL_AVX2] = 1;
            }
        }
        /* The dispatcher at the active level (its table's body: on arm64 the one detection chose, so a
         * dot-product slip on a CPU without it dies of SIGILL here). */
        {
            const int l = sk_get_level();
            g_checks[l]++;
            if (!q8_same(sk_subpixel_q8, &n, src, ss, rw, rh, cx0, cx1, cy0, cy1, ds, dn, sn, first)) {
                if (!g_level_fail[l]) fprintf(stderr, "  MISMATCH %s/dispatcher %s (vs reference)\n", g_op, g_ctx);
                g_level_fail[l] = 1;
            }
        }
        /* The SDOT body (the neon level's choice where the CPU has the dot product), forced here wherever
         * it can run; it has its own verdict line. */
        if (sk_q8_dotprod_supported()) {
            g_q8_dot_runs++;
            if (!q8_same(sk_subpixel_q8_neondot, &n, src, ss, rw, rh, cx0, cx1, cy0, cy1, ds, dn, sn, first)) {
                if (!g_q8_dot_fail) fprintf(stderr, "  MISMATCH %s/neondot %s (vs reference)\n", g_op, g_ctx);
                g_q8_dot_fail = 1;
            }
        }
        free(first);
        free(spec);
        gfree(&gs);
        for (int i = 0; i < ng; i++) gfree(&g[i]);
    }
    /* A NULL bias (the spec wants zeros, never NULL) is refused by every level and the SDOT body. */
    {
        sk_subpixel_q8_net n;
        sk_q8_block blk[4];
        gbuf g[48];
        int ng = 0;
        q8_random_net(&n, blk, g, &ng, 0, 0, 0);
        n.head_bias = NULL;
        uint8_t src[4] = { 0 }, dst[16], scratch[64];
        for (int l = 0; l < NLEVELS; l++)
            if (q8_level_ok(l) && q8_tab[l](&n, src, 2, 2, 2, 1.0f / 255.0f, 0, 2, 0, 2, dst, 4, 255.0f, scratch) != SK_EINVAL) {
                fprintf(stderr, "  %s/%s accepted a NULL head bias\n", g_op, sk_level_name(l));
                g_level_fail[l] = 1;
            }
        if (sk_q8_dotprod_supported() &&
            sk_subpixel_q8_neondot(&n, src, 2, 2, 2, 1.0f / 255.0f, 0, 2, 0, 2, dst, 4, 255.0f, scratch) != SK_EINVAL) {
            fprintf(stderr, "  %s/neondot accepted a NULL head bias\n", g_op);
            g_q8_dot_fail = 1;
        }
        for (int i = 0; i < ng; i++) gfree(&g[i]);
    }
    g_ref_what = "bit-exact runs vs the layer-by-layer spec";
    end_op();
    if (sk_level_supported(SK_LEVEL_NEON)) {
        if (g_q8_dot_runs)
            printf("  %-18s %-9s %s  (%ld bit-exact runs vs reference)\n", g_op, "neondot", g_q8_dot_fail ? "FAIL" : "PASS",
                   g_q8_dot_runs);
        else
            printf("  %-18s %-9s skipped (no dot product on this CPU)\n", g_op, "neondot");
        if (g_q8_dot_fail) { g_fail_ops[SK_LEVEL_NEON]++; g_any_fail = 1; }
    }
    g_ref_what = "values vs naive double";
}

/* Benchmark: the sr2x shape (16 ch, 3 blocks, k3, PReLU) and sr2x-hq (32 ch, 4 blocks) in int8 over a
 * 960x540 frame, one thread, tiled as InferenceEngine tiles it. GMAC/s count the trunk's multiply-adds. */
static void q8_frame(q8_fn f, const sk_subpixel_q8_net *n, const uint8_t *src, uint8_t *dst, int W, int H,
                     int tr, int tc, int halo, void *scratch)
{
    for (int y = 0; y < H; y += tr)
        for (int x = 0; x < W; x += tc) {
            const int ry0 = y - halo < 0 ? 0 : y - halo, ry1 = y + tr + halo > H ? H : y + tr + halo;
            const int rx0 = x - halo < 0 ? 0 : x - halo, rx1 = x + tc + halo > W ? W : x + tc + halo;
            const int cy1 = (y + tr > H ? H : y + tr) - ry0, cx1 = (x + tc > W ? W : x + tc) - rx0;
            f(n, src + (ptrdiff_t)ry0 * W + rx0, W, rx1 - rx0, ry1 - ry0, 1.0f / 255.0f, x - rx0, cx1, y - ry0, cy1,
              dst + (ptrdiff_t)2 * y * 2 * W + 2 * x, 2 * W, 255.0f, scratch);
        }
}

static void bench_q8(void)
{
    static const int shapes[2][2] = { { 16, 3 }, { 32, 4 } };
    const int W = 960, H = 540, HALO = 6;
    uint8_t *src = malloc((size_t)W * H), *dst = malloc((size_t)4 * W * H);
    for (int i = 0; i < W * H; i++) src[i] = (uint8_t)rnd64();
    printf("\nint8 sub-pixel, 960x540 -> 1920x1080, one thread, tile 64x512:\n");
    for (int s = 0; s < 2; s++) {
        sk_subpixel_q8_net n;
        sk_q8_block blk[4];
        gbuf g[48];
        int ng = 0;
        q8_random_net(&n, blk, g, &ng, shapes[s][0], shapes[s][1], 3);
        const int C = n.channels;
        const double macs = (double)W * H * (9.0 * C + n.blocks * (9.0 * C + C * C) + 4.0 * C);
        for (int l = 1; l < NLEVELS; l++) {
            if (!q8_level_ok(l)) continue;
            const int tr = 64, tc = 512;
            const size_t sn = sk_subpixel_q8_scratch_bytes(&n, tc + 2 * HALO);
            uint8_t *scratch = aligned_alloc(64, (sn + 63) / 64 * 64);
            double t;
            TIME_IT(t, q8_frame(q8_tab[l], &n, src, dst, W, H, tr, tc, HALO, scratch));
            char name[64];
            snprintf(name, sizeof name, "q8 C%d b%d (%zu KiB)", C, n.blocks, sn / 1024);
            printf("  %-30s %-9s %10.3f ms  %7.1f GMAC/s\n", name, sk_level_name(l), t * 1e3, macs / t * 1e-9);
            if (l == SK_LEVEL_AVX2 && sk_q8_avxvnni_supported()) {
                TIME_IT(t, q8_frame(sk_subpixel_q8_avxvnni, &n, src, dst, W, H, tr, tc, HALO, scratch));
                printf("  %-30s %-9s %10.3f ms  %7.1f GMAC/s\n", name, "avxvnni", t * 1e3, macs / t * 1e-9);
            }
            if (l == SK_LEVEL_NEON && sk_q8_dotprod_supported()) {
                TIME_IT(t, q8_frame(sk_subpixel_q8_neondot, &n, src, dst, W, H, tr, tc, HALO, scratch));
                printf("  %-30s %-9s %10.3f ms  %7.1f GMAC/s\n", name, "neondot", t * 1e3, macs / t * 1e-9);
            }
            free(scratch);
        }
        for (int i = 0; i < ng; i++) gfree(&g[i]);
    }
    free(src);
    free(dst);
}
