#ifndef SLICESTREAM_CFFMPEG_SHIM_H
#define SLICESTREAM_CFFMPEG_SHIM_H
// FFmpeg headers plus tiny inline wrappers for what Swift cannot import: function-like macros
// (AVERROR, MKTAG-based error codes) and constants defined through casts.

#include <libavformat/avformat.h>
#include <libavformat/avio.h>
#include <libavdevice/avdevice.h>
#include <libavcodec/avcodec.h>
#include <libavutil/avutil.h>
#include <libavutil/error.h>
#include <libavutil/frame.h>
#include <libavutil/imgutils.h>
#include <libavutil/opt.h>
#include <libavutil/dict.h>
#include <libavutil/pixdesc.h>
#include <libavutil/mathematics.h>
#include <libavutil/log.h>
#include <libavutil/md5.h>
#include <libavutil/sha.h>
#include <libavutil/crc.h>
#include <libavutil/mastering_display_metadata.h>
#include <libavutil/video_enc_params.h>
#include <libswscale/swscale.h>

static inline int cff_averror(int e) { return AVERROR(e); }
static inline int cff_averror_eof(void) { return AVERROR_EOF; }
static inline int cff_averror_eagain(void) { return AVERROR(EAGAIN); }
static inline int cff_averror_exit(void) { return AVERROR_EXIT; }
static inline int cff_averror_invaliddata(void) { return AVERROR_INVALIDDATA; }
static inline int cff_averror_decoder_not_found(void) { return AVERROR_DECODER_NOT_FOUND; }
static inline int cff_averror_encoder_not_found(void) { return AVERROR_ENCODER_NOT_FOUND; }
static inline int cff_averror_muxer_not_found(void) { return AVERROR_MUXER_NOT_FOUND; }
static inline int cff_averror_demuxer_not_found(void) { return AVERROR_DEMUXER_NOT_FOUND; }
static inline int cff_averror_stream_not_found(void) { return AVERROR_STREAM_NOT_FOUND; }
static inline int64_t cff_nopts_value(void) { return AV_NOPTS_VALUE; }
static inline int cff_time_base_den(void) { return AV_TIME_BASE; }
static inline AVRational cff_time_base_q(void) { return AV_TIME_BASE_Q; }
static inline int cff_error_max_string_size(void) { return AV_ERROR_MAX_STRING_SIZE; }

/// `av_strerror` into a caller buffer, returning the buffer (never NULL).
static inline const char *cff_strerror(int err, char *buf, size_t size) {
    if (av_strerror(err, buf, size) < 0) {
        snprintf(buf, size, "unknown error %d", err);
    }
    return buf;
}

/// Defined in Swift (SliceMedia's `MediaLog`, `@_cdecl`): takes every formatted FFmpeg log line.
extern void slicestream_media_log_line(void *avcl, int level, const char *line);

/// The `av_log` callback: Swift cannot receive a `va_list` in a C callback, so the line is formatted here
/// (FFmpeg's `[libx264 @ 0x...]` prefix included) and handed over whole.
static inline void cff_log_callback(void *avcl, int level, const char *fmt, va_list vl) {
    if (level > av_log_get_level()) return;
    char line[2048];
    int print_prefix = 1;
    if (av_log_format_line2(avcl, level, fmt, vl, line, (int)sizeof line, &print_prefix) < 0) return;
    slicestream_media_log_line(avcl, level, line);
}

/// Routes FFmpeg's log through `cff_log_callback` (1) or back to FFmpeg's default printing (0).
static inline void cff_install_log_callback(int on) { av_log_set_callback(on ? cff_log_callback : av_log_default_callback); }

#endif
