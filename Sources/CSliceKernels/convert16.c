/* High-bit-depth plane conversions: see include/slice_kernels_u16.h. */
#include <math.h>
#include "slice_kernels.h"
#include "slice_kernels_u16.h"
#include "sk_internal.h"

int sk_u16_to_f32(const uint16_t *src, ptrdiff_t src_stride, float *dst,
                  ptrdiff_t dst_stride, int w, int h, float scale, int y0, int y1)
{
    int e = sk__check_conv_u8(src, src_stride, dst, dst_stride, w, h, y0, y1);
    if (e) return e;
    for (int y = y0; y < y1; y++)
        for (int x = 0; x < w; x++)
            dst[y * dst_stride + x] = (float)src[y * src_stride + x] * scale;
    return SK_OK;
}

int sk_f32_to_u16(const float *src, ptrdiff_t src_stride, uint16_t *dst,
                  ptrdiff_t dst_stride, int w, int h, float scale, int maxval, int y0, int y1)
{
    int e = sk__check_conv_u8(src, src_stride, dst, dst_stride, w, h, y0, y1);
    if (e) return e;
    if (maxval < 1 || maxval > 65535) return SK_EINVAL;
    const float top = (float)maxval;
    for (int y = y0; y < y1; y++)
        for (int x = 0; x < w; x++) {
            float v = src[y * src_stride + x] * scale;
            if (!(v > 0.0f)) v = 0.0f;          /* also maps NaN to 0 */
            if (v > top) v = top;
            dst[y * dst_stride + x] = (uint16_t)lrintf(v); /* nearest-even */
        }
    return SK_OK;
}
