import CBuildInfo
import Foundation
import SliceControl

/// What the daemon reports about its own build.
enum BuildInfo {
    /// The source revision: compiled in when the build had `SLICESTREAM_GIT_COMMIT` (the Makefile sets it),
    /// else `SLICESTREAM_GIT_COMMIT` from the daemon's environment (an image or unit may set it), else `unknown`.
    static let commit: String = {
        let built = String(cString: slicestream_build_commit())
        return built.isEmpty ? MetricsRenderer.buildCommit : built
    }()
}
