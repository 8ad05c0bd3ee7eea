import SliceConfig
import SliceControl
import SlicePipeline

extension Node {
    /// `set NAME resolution auto|half|full` on a sender: the running pipeline switches from its next frame
    /// (at a keyframe); a stream started without `resolution:` has no switching machinery and needs a
    /// restart. Returns the old value and how the change lands.
    static func setResolution(_ value: String, definition def: inout StreamDefinition, pipeline: Pipeline?) throws -> (old: String, effect: String) {
        guard def.role == .sender else { throw ControlFailure("not-live-safe", "'resolution' is a sender setting; receivers follow the stream") }
        guard let mode = ResolutionMode(rawValue: value) else { throw ControlFailure("bad-request", "resolution is one of auto, half, full") }
        let old = def.resolution ?? "half (no resolution control)"
        def.resolution = mode.rawValue
        guard let pipeline else { return (old, "applies when it starts") }
        guard let control = pipeline.configuration.resolution else {
            throw ControlFailure("not-live-safe", "this stream was started without 'resolution:'; set it in the config (half sends as today) and restart it to switch live")
        }
        do {
            try control.setMode(mode)
        } catch {
            throw ControlFailure("not-live-safe", error.description)
        }
        return (old, "live: from the next frame")
    }
}
