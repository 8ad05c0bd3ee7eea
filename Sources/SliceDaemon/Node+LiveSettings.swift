import Foundation
import SliceConfig
import SliceControl
import SliceMedia
import SlicePipeline

// `set`: the settings that change a running stream, each either taking effect (and saying how) or
// refused with the reason; and the log line every changing command leaves (who, what, old → new).

extension Node {
    /// Settings that change a running stream without a restart.
    public static let liveSettings = ["bitrate", "crf", "upsampler", "model", "resolution"]

    func set(_ request: ControlRequest) throws -> ActionResult {
        let sup = try self.supervisor(request.name)
        guard let key = request.key, let value = request.value else { throw ControlFailure("bad-request", "'set' needs 'key' and 'value'") }
        var def = sup.definition
        let pipeline = sup.pipeline
        let old: String
        var new = value
        let effect: String
        switch key {
        case "bitrate", "crf":
            let current = pipeline?.encoderSettings ?? def.encoderSettings
            old = current.bitRate.map { "bitrate \(EncoderSettings.formatBitRate($0))" } ?? current.crf.map { "crf \(Self.number($0))" } ?? "codec default rate"
            let next: EncoderSettings
            if key == "bitrate" {
                guard let rate = EncoderSettings.parseBitRate(value) else { throw ControlFailure("bad-request", "'\(value)' is not a bit rate like 800k") }
                next = current.changingRate(to: rate)
            } else {
                guard let crf = Double(value), crf >= 0, crf <= 63 else { throw ControlFailure("bad-request", "crf must be a number from 0 to 63") }
                next = current.changingQuality(to: crf)
            }
            if let pipeline {
                do {
                    let how = try key == "bitrate" ? pipeline.setRate(bitRate: next.bitRate ?? 0) : pipeline.setRate(crf: next.crf ?? 0)
                    effect = "live: \(how.rawValue)"
                } catch {
                    throw ControlFailure("not-live-safe", error.description)
                }
            } else {
                if let reason = current.liveRateProblem { throw ControlFailure("not-live-safe", "'\(key)' cannot change: \(reason)") }
                if let (k, message) = next.problem { throw ControlFailure("bad-request", "\(k): \(message)") }
                effect = "applies when it starts"
            }
            def.adopt(rate: pipeline?.encoderSettings ?? next)
            new = "\(key) \(key == "bitrate" ? EncoderSettings.formatBitRate(next.bitRate ?? 0) : Self.number(next.crf ?? 0))"
        case "upsampler", "model":
            guard def.role == .receiver else { throw ControlFailure("not-live-safe", "'\(key)' can change live on receivers only") }
            old = key == "upsampler" ? def.upsampler : (def.model ?? "(default)")
            if key == "upsampler" { def.upsampler = value } else { def.model = value }
            do {
                try def.validate(file: "<set request>", key: sup.name)
                guard let spec = TransformSpec.receiver(def.upsampler, model: def.model) else {
                    throw ControlFailure("bad-request", "'\(def.upsampler)' is not an upsampler")
                }
                try pipeline?.setTransform(spec)
            } catch let error as ConfigError {
                throw ControlFailure("bad-request", error.description)
            } catch let failure as ControlFailure {
                throw failure
            } catch {
                throw ControlFailure("failed", "\(error)")
            }
            effect = pipeline == nil ? "applies when it starts" : "live: the new transform runs from the next frame"
        case "resolution":
            (old, effect) = try Self.setResolution(value, definition: &def, pipeline: pipeline)
        default:
            throw ControlFailure("not-live-safe", "'\(key)' cannot change while the stream runs; live settings: \(Node.liveSettings.joined(separator: ", ")). Edit the config and reload.")
        }
        self.replaceDefinition(def, of: sup)
        let what = key == "bitrate" || key == "crf" ? "" : "\(key) "
        return ActionResult(message: "stream '\(sup.name)': \(what)\(old) → \(new) (\(effect))")
    }

    /// Logs a changing command: who sent it (uid, user, pid from the socket's credentials), what it asked
    /// and what came of it (the reply states old → new for `set`).
    func logChange(_ request: ControlRequest, peer: PeerCredentials?, outcome: String) {
        let who = peer.map { "uid \($0.uid) (\(Self.userName($0.uid))) pid \($0.pid)" } ?? "in-process"
        var what = request.command
        if let name = request.name, !name.isEmpty { what += " \(name)" }
        if let key = request.key { what += " \(key)=\(request.value ?? "")" }
        if request.command == "add", let def = request.stream as? StreamDefinition { what += " \(def.name)" }
        // A command about one stream names it like every other line about it (`stream=NAME`).
        let stream = request.name.flatMap { $0.isEmpty ? nil : $0 } ?? (request.stream as? StreamDefinition)?.name
        self.logger.notice("control: \(who): \(what): \(outcome)", metadata: stream.map { ["stream": "\($0)"] })
    }

    private static func userName(_ uid: UInt32) -> String {
        var pwd = passwd()
        var result: UnsafeMutablePointer<passwd>? = nil
        var buffer = [CChar](repeating: 0, count: 4096)
        guard getpwuid_r(uid, &pwd, &buffer, buffer.count, &result) == 0, let entry = result else { return "?" }
        return String(cString: entry.pointee.pw_name)
    }

    private static func number(_ v: Double) -> String { v == v.rounded() ? String(Int(v)) : String(v) }
}
