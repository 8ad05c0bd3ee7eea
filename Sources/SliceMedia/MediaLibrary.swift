import CFFmpeg
import Foundation

/// One-time FFmpeg set-up shared by every media object.
public enum MediaLibrary {
    private static let initialised: Bool = {
        avdevice_register_all()  // lavfi and friends as input formats
        // A write past RLIMIT_FSIZE (a file-size limit, a quota) must fail with EFBIG, not kill us.
        signal(SIGXFSZ, SIG_IGN)
        avformat_network_init()
        av_log_set_level(AV_LOG_ERROR)
        return true
    }()

    /// Initialises FFmpeg once (idempotent, thread-safe).
    public static func initialise() { _ = MediaLibrary.initialised }

    /// Version strings of the linked libraries.
    public static var versions: [String: String] {
        func v(_ x: UInt32) -> String { "\(x >> 16).\((x >> 8) & 0xff).\(x & 0xff)" }
        return [
            "libavformat": v(avformat_version()), "libavcodec": v(avcodec_version()),
            "libswscale": v(swscale_version()), "libavutil": v(avutil_version()),
        ]
    }

    /// Whether an encoder with this name is available.
    public static func hasEncoder(_ name: String) -> Bool { avcodec_find_encoder_by_name(name) != nil }

    /// Whether encoder `name` takes pictures in `format` (an encoder that lists no formats is assumed to
    /// take any, as FFmpeg does).
    public static func encoder(_ name: String, accepts format: PixelFormat) -> Bool {
        guard let codec = avcodec_find_encoder_by_name(name) else { return false }
        guard var p = codec.pointee.pix_fmts else { return true }
        while p.pointee != AV_PIX_FMT_NONE {
            if p.pointee == format.raw { return true }
            p += 1
        }
        return false
    }
}
