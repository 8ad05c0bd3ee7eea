/*
 * dispatch.c - the ONE place where the CPU level is chosen.
 *
 * sk_init() detects CPU features once (pthread_once), honours the
 * SLICESTREAM_CPU environment variable, and publishes a pointer to a table of
 * function pointers. Each sk_X() dispatcher is a single indirect call through
 * the active table.
 */
#include "sk_internal.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#if defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
#ifndef HWCAP_ASIMDDP
#define HWCAP_ASIMDDP (1UL << 20) /* linux/arch/arm64/include/uapi/asm/hwcap.h */
#endif
#elif defined(__aarch64__) && defined(__APPLE__)
#include <sys/sysctl.h>
#endif

#if defined(__clang__) || !defined(__GNUC__)
#pragma STDC FP_CONTRACT OFF
#endif

typedef struct sk_kernels {
    int level;
    int (*dwconv)(const sk_tensor *, const sk_tensor *, const float *, const float *, int, int,
                  sk_act, int, int);
    int (*pwconv)(const sk_tensor *, const sk_tensor *, const float *, const float *, sk_act,
                  const sk_tensor *, int, int);
    int (*conv)(const sk_tensor *, const sk_tensor *, const float *, const float *, int, int,
                sk_act, int, int);
    int (*s2d)(const sk_tensor *, const sk_tensor *, int, int);
    int (*d2s)(const sk_tensor *, const sk_tensor *, const sk_tensor *, int, int);
    int (*tconv)(const sk_tensor *, const sk_tensor *, const float *, const float *, int, int,
                 int, const sk_tensor *, int, int);
    int (*bicubic)(const sk_tensor *, const sk_tensor *, float, float *, int, int);
    int (*bilinear)(const sk_tensor *, const sk_tensor *, float *, int, int);
    int (*area)(const sk_tensor *, const sk_tensor *, int, int);
    int (*u8_to_f32)(const uint8_t *, ptrdiff_t, float *, ptrdiff_t, int, int, float, int, int);
    int (*f32_to_u8)(const float *, ptrdiff_t, uint8_t *, ptrdiff_t, int, int, float, int, int);
    int (*subpixel_fused)(const sk_subpixel_net *, const uint8_t *, ptrdiff_t, int, int, float, int,
                          int, int, int, uint8_t *, ptrdiff_t, float, float *);
    int (*slice_encoder_fused)(const sk_slice_encoder_net *, const uint8_t *, ptrdiff_t, int, int,
                               float, int, int, int, int, uint8_t *, ptrdiff_t, float, float *);
    int (*subpixel_q8)(const sk_subpixel_q8_net *, const uint8_t *, ptrdiff_t, int, int, float, int,
                       int, int, int, uint8_t *, ptrdiff_t, float, void *);
} sk_kernels;

#define SK_TABLE(lvl, sfx, q8sfx)                                                              \
    { lvl, sk_dwconv##sfx, sk_pwconv##sfx, sk_conv##sfx, sk_space_to_depth2x##sfx,      \
      sk_depth_to_space2x##sfx, sk_tconv2x##sfx, sk_bicubic2x##sfx, sk_bilinear2x##sfx, \
      sk_area_down2x##sfx, sk_u8_to_f32##sfx, sk_f32_to_u8##sfx, sk_subpixel_fused##sfx,       \
      sk_slice_encoder_fused##sfx, sk_subpixel_q8##q8sfx }

static const sk_kernels tbl_ref = SK_TABLE(SK_LEVEL_REFERENCE, _ref, _ref);
#if defined(__x86_64__) || defined(_M_X64)
static const sk_kernels tbl_avx2 = SK_TABLE(SK_LEVEL_AVX2, _avx2, _avx2);
static const sk_kernels tbl_avx512 = SK_TABLE(SK_LEVEL_AVX512, _avx512, _avx512);
/* AVX-512 without VNNI/VBMI: the int8 kernel's AVX2 body (bit-identical, just slower), or its
 * AVX-VNNI form where the CPU has that. */
static const sk_kernels tbl_avx512_novnni = SK_TABLE(SK_LEVEL_AVX512, _avx512, _avx2);
static const sk_kernels tbl_avx512_avxvnni = SK_TABLE(SK_LEVEL_AVX512, _avx512, _avxvnni);
static const sk_kernels tbl_avx2_avxvnni = SK_TABLE(SK_LEVEL_AVX2, _avx2, _avxvnni);
#endif
#if defined(__aarch64__)
/* The int8 kernel: its SDOT body where the CPU has the dot product, else the SMLAL one. */
static const sk_kernels tbl_neon = SK_TABLE(SK_LEVEL_NEON, _neon, _neon);
static const sk_kernels tbl_neon_dot = SK_TABLE(SK_LEVEL_NEON, _neon, _neondot);
#endif

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static int g_best = SK_LEVEL_REFERENCE;            /* best supported level */
static unsigned g_mask = 1u << SK_LEVEL_REFERENCE;  /* bit l: level l usable */
static int g_vnni;                                 /* AVX512_VNNI + AVX512_VBMI usable */
static int g_avxvnni;                              /* AVX-VNNI (VEX) usable, with AVX2 + FMA */
static int g_dotprod;                              /* AArch64 dot product (SDOT) usable */
static const sk_kernels *g_active = &tbl_ref;      /* accessed atomically   */

#if defined(__aarch64__)
/* The dot-product extension (SDOT/UDOT, optional from ARMv8.2): the kernel reports it (HWCAP_ASIMDDP
 * on Linux, set only where the kernel lets EL0 use it; hw.optional.arm.FEAT_DotProd on macOS). */
static int dotprod_cpu(void)
{
#if defined(__linux__)
    return (getauxval(AT_HWCAP) & HWCAP_ASIMDDP) != 0;
#elif defined(__APPLE__)
    int v = 0;
    size_t n = sizeof v;
    return sysctlbyname("hw.optional.arm.FEAT_DotProd", &v, &n, NULL, 0) == 0 && v != 0;
#else
    return 0;
#endif
}
#endif

static void detect(void)
{
    g_best = SK_LEVEL_REFERENCE;
    g_mask = 1u << SK_LEVEL_REFERENCE;
#if (defined(__x86_64__) || defined(_M_X64)) && (defined(__GNUC__) || defined(__clang__))
    /* __builtin_cpu_supports also checks that the OS saves the YMM/ZMM
     * state (XCR0), so a "supported" level is really usable. */
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
        g_best = SK_LEVEL_AVX2;
        if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
            __builtin_cpu_supports("avx512vl"))
            g_best = SK_LEVEL_AVX512;
    }
    /* The x86 levels form a chain: each implies the ones below it. */
    for (int l = SK_LEVEL_AVX2; l <= g_best; l++) g_mask |= 1u << l;
    /* The int8 kernel's vpdpbusd/vpermb body needs these on top of AVX-512 F/BW/VL. */
    g_vnni = g_best == SK_LEVEL_AVX512 && __builtin_cpu_supports("avx512vnni") &&
             __builtin_cpu_supports("avx512vbmi");
    g_avxvnni = g_best >= SK_LEVEL_AVX2 && __builtin_cpu_supports("avxvnni");
#endif
#if defined(__aarch64__)
    /* Advanced SIMD is part of the AArch64 base architecture. */
    g_best = SK_LEVEL_NEON;
    g_mask |= 1u << SK_LEVEL_NEON;
    g_dotprod = dotprod_cpu();
#endif
}

static const sk_kernels *table_for(int level)
{
#if defined(__x86_64__) || defined(_M_X64)
    if (level == SK_LEVEL_AVX512) return g_vnni ? &tbl_avx512 : g_avxvnni ? &tbl_avx512_avxvnni : &tbl_avx512_novnni;
    if (level == SK_LEVEL_AVX2) return g_avxvnni ? &tbl_avx2_avxvnni : &tbl_avx2;
#endif
#if defined(__aarch64__)
    if (level == SK_LEVEL_NEON) return g_dotprod ? &tbl_neon_dot : &tbl_neon;
#endif
    (void)level;
    return &tbl_ref;
}

static int level_ok(int level) { return level >= 0 && level < 32 && ((g_mask >> level) & 1u); }

/* An unsupported level gives the best supported one. On x86-64 that is the
 * best level <= the request (the x86 levels form a chain, so an unsupported
 * one lies above g_best); a level of another architecture (neon on x86-64,
 * avx2/avx512 on arm64) also gives the best here, so
 * sk_set_level(SK_LEVEL_AVX512) keeps meaning "best available" on arm64 and
 * SLICESTREAM_CPU=neon on x86-64 does not drop to the reference. */
static int clamp_level(int level)
{
    if (level <= SK_LEVEL_REFERENCE) return SK_LEVEL_REFERENCE;
    return level_ok(level) ? level : g_best;
}

static void publish(int level)
{
    __atomic_store_n(&g_active, table_for(clamp_level(level)), __ATOMIC_RELEASE);
}

static void init_once(void)
{
    detect();
    int want = g_best;
    const char *env = getenv("SLICESTREAM_CPU");
    if (env && *env) {
        if (!strcmp(env, "reference") || !strcmp(env, "ref") || !strcmp(env, "c"))
            want = SK_LEVEL_REFERENCE;
        else if (!strcmp(env, "avx2"))
            want = SK_LEVEL_AVX2;
        else if (!strcmp(env, "avx512"))
            want = SK_LEVEL_AVX512;
        else if (!strcmp(env, "neon"))
            want = SK_LEVEL_NEON;
        /* "auto" or anything unknown: best available. */
    }
    publish(want);
}

SK_INLINE const sk_kernels *active(void)
{
    pthread_once(&g_once, init_once);
    return __atomic_load_n(&g_active, __ATOMIC_ACQUIRE);
}

int sk_init(void) { return active()->level; }
int sk_get_level(void) { return active()->level; }
const char *sk_cpu_name(void) { return sk_level_name(active()->level); }

int sk_level_supported(int level)
{
    pthread_once(&g_once, init_once);
    return level_ok(level);
}

int sk_q8_vnni_supported(void)
{
    pthread_once(&g_once, init_once);
    return g_vnni;
}

int sk_q8_avxvnni_supported(void)
{
    pthread_once(&g_once, init_once);
    return g_avxvnni;
}

int sk_q8_dotprod_supported(void)
{
    pthread_once(&g_once, init_once);
    return g_dotprod;
}

int sk_set_level(int level)
{
    pthread_once(&g_once, init_once);
    publish(level);
    return active()->level;
}

const char *sk_level_name(int level)
{
    switch (level) {
    case SK_LEVEL_REFERENCE: return "reference";
    case SK_LEVEL_AVX2: return "avx2";
    case SK_LEVEL_AVX512: return "avx512";
    case SK_LEVEL_NEON: return "neon";
    default: return "?";
    }
}

/* ------------------------------------------------------------ dispatchers */

int sk_dwconv(const sk_tensor *in, const sk_tensor *out, const float *weight,
              const float *bias, int k, int border, sk_act act, int y0, int y1)
{ return active()->dwconv(in, out, weight, bias, k, border, act, y0, y1); }

int sk_pwconv(const sk_tensor *in, const sk_tensor *out, const float *weight,
              const float *bias, sk_act act, const sk_tensor *res, int y0, int y1)
{ return active()->pwconv(in, out, weight, bias, act, res, y0, y1); }

int sk_conv(const sk_tensor *in, const sk_tensor *out, const float *weight,
            const float *bias, int k, int border, sk_act act, int y0, int y1)
{ return active()->conv(in, out, weight, bias, k, border, act, y0, y1); }

int sk_space_to_depth2x(const sk_tensor *in, const sk_tensor *out, int y0, int y1)
{ return active()->s2d(in, out, y0, y1); }

int sk_depth_to_space2x(const sk_tensor *in, const sk_tensor *out,
                        const sk_tensor *base, int y0, int y1)
{ return active()->d2s(in, out, base, y0, y1); }

int sk_tconv2x(const sk_tensor *in, const sk_tensor *out, const float *weight,
               const float *bias, int k, int pad, int out_pad,
               const sk_tensor *res, int y0, int y1)
{ return active()->tconv(in, out, weight, bias, k, pad, out_pad, res, y0, y1); }

int sk_bicubic2x(const sk_tensor *in, const sk_tensor *out, float a,
                 float *scratch, int y0, int y1)
{ return active()->bicubic(in, out, a, scratch, y0, y1); }

int sk_bilinear2x(const sk_tensor *in, const sk_tensor *out, float *scratch, int y0, int y1)
{ return active()->bilinear(in, out, scratch, y0, y1); }

int sk_area_down2x(const sk_tensor *in, const sk_tensor *out, int y0, int y1)
{ return active()->area(in, out, y0, y1); }

int sk_u8_to_f32(const uint8_t *src, ptrdiff_t src_stride, float *dst,
                 ptrdiff_t dst_stride, int w, int h, float scale, int y0, int y1)
{ return active()->u8_to_f32(src, src_stride, dst, dst_stride, w, h, scale, y0, y1); }

int sk_f32_to_u8(const float *src, ptrdiff_t src_stride, uint8_t *dst,
                 ptrdiff_t dst_stride, int w, int h, float scale, int y0, int y1)
{ return active()->f32_to_u8(src, src_stride, dst, dst_stride, w, h, scale, y0, y1); }

int sk_subpixel_fused(const sk_subpixel_net *net, const uint8_t *src, ptrdiff_t src_stride,
                      int rw, int rh, float in_scale, int cx0, int cx1, int cy0, int cy1,
                      uint8_t *dst, ptrdiff_t dst_stride, float out_scale, float *scratch)
{
    return active()->subpixel_fused(net, src, src_stride, rw, rh, in_scale, cx0, cx1, cy0, cy1, dst,
                                    dst_stride, out_scale, scratch);
}

int sk_slice_encoder_fused(const sk_slice_encoder_net *net, const uint8_t *src, ptrdiff_t src_stride,
                           int rw, int rh, float in_scale, int cx0, int cx1, int cy0, int cy1,
                           uint8_t *dst, ptrdiff_t dst_stride, float out_scale, float *scratch)
{
    return active()->slice_encoder_fused(net, src, src_stride, rw, rh, in_scale, cx0, cx1, cy0,
                                         cy1, dst, dst_stride, out_scale, scratch);
}

int sk_subpixel_q8(const sk_subpixel_q8_net *net, const uint8_t *src, ptrdiff_t src_stride,
                   int rw, int rh, float in_scale, int cx0, int cx1, int cy0, int cy1,
                   uint8_t *dst, ptrdiff_t dst_stride, float out_scale, void *scratch)
{
    return active()->subpixel_q8(net, src, src_stride, rw, rh, in_scale, cx0, cx1, cy0, cy1, dst,
                                 dst_stride, out_scale, scratch);
}
