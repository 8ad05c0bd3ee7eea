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

    /// Sets libav*'s log verbosity (`quiet`, `error`, `warning`, `info`, `verbose`, `debug`).
    public static func setLogLevel(_ name: String) {
        let levels: [String: Int32] = [
            "quiet": AV_LOG_QUIET, "error": AV_LOG_ERROR, "warning": AV_LOG_WARNING,
            "info": AV_LOG_INFO, "verbose": AV_LOG_VERBOSE, "debug": AV_LOG_DEBUG,
        ]
        av_log_set_level(levels[name] ?? AV_LOG_ERROR)
    }

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
}
