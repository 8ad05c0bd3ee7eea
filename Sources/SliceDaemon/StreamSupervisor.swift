import Dispatch
import Foundation
import Logging
import SliceConfig
import SliceControl
import SliceMedia
import SlicePipeline
import Synchronization

/// Runs one stream: builds its pipeline, watches it, restarts it with back-off when it fails (the input
/// could not be opened, a stage failed), and stops it gracefully on request. One supervisor never touches
/// another's stream, so starting, stopping or failing one leaves the others alone.
public final class StreamSupervisor: Sendable {
    /// The lifecycle states reported by `streams` and `stats`.
    public enum State: String, Sendable {
        case stopped, starting, running, retrying, finished, failed
    }

    /// Stream name.
    public let name: String

    private struct Status {
        var definition: StreamDefinition
        var state: State = .stopped
        var pipeline: Pipeline? = nil
        var runStarted: Date? = nil
        var restarts = 0
        var lastError: String? = nil
        var lastErrorTime: Date? = nil
        var lastReport: PipelineReport? = nil
        var wanted = false       // should be running
        var generation = 0       // bumps on every start, so a stale run loop exits
    }

    private let status: Mutex<Status>
    private let logger: Logger
    private let finished = DispatchGroup()

    /// Creates a stopped supervisor.
    public init(definition: StreamDefinition) {
        self.name = definition.name
        self.status = Mutex(Status(definition: definition))
        var logger = Logger(label: "slicestream.stream")
        logger[metadataKey: "stream"] = "\(definition.name)"
        self.logger = logger
    }

    /// The stream's definition.
    public var definition: StreamDefinition { self.status.withLock { $0.definition } }

    /// The current state.
    public var state: State { self.status.withLock { $0.state } }

    /// Starts the stream (no-op if it runs).
    public func start() {
        let generation: Int? = self.status.withLock { s in
            if s.wanted && (s.state == .running || s.state == .starting || s.state == .retrying) { return nil }
            s.wanted = true
            s.generation += 1
            s.state = .starting
            s.lastError = nil
            s.lastErrorTime = nil
            return s.generation
        }
        guard let generation else { return }
        self.finished.enter()
        DispatchQueue(label: "slicestream.supervisor.\(self.name)").async {
            defer { self.finished.leave() }
            self.runLoop(generation: generation)
        }
    }

    /// Stops the stream: the input ends, queued frames drain and the output is finalised. Waits up to
    /// `grace` seconds, then aborts what is left. Returns whether it drained in time.
    @discardableResult
    public func stop(grace: Double) -> Bool {
        let pipeline = self.status.withLock { s -> Pipeline? in
            s.wanted = false
            return s.pipeline
        }
        pipeline?.stop()
        if self.finished.wait(timeout: .now() + min(3600, max(0, grace))) == .success { return true }
        self.logger.warning("did not drain within \(grace) s; aborting")
        pipeline?.cancel()
        _ = self.finished.wait(timeout: .now() + 5)
        return false
    }

    /// Replaces the definition (takes effect on the next start).
    public func update(_ definition: StreamDefinition) {
        self.status.withLock { $0.definition = definition }
    }

    /// The running pipeline, if any (for live changes).
    public var pipeline: Pipeline? { self.status.withLock { $0.pipeline } }

    /// Seconds the most stalled stage of the running pipeline has spent on one item.
    public var stallSeconds: Double { self.pipeline?.longestBusySeconds ?? 0 }

    private func runLoop(generation: Int) {
        var failures = 0
        while true {
            let (definition, proceed) = self.status.withLock { s in (s.definition, s.wanted && s.generation == generation) }
            guard proceed else { break }
            let pipeline: Pipeline
            do {
                // Refused before anything is renamed or opened: a folder where others could plant a link,
                // or an output that is the input (moving it aside would take the input away).
                try OutputSafety.checkDirectory(of: definition.output)
                try OutputSafety.checkDistinct(input: definition.input, output: definition.output)
                try self.preserveEarlierOutput(definition.output)
                var configuration = try definition.pipelineConfiguration()
                // A node's outputs must survive a crash or SIGKILL with what was written (fragmented MP4,
                // short Matroska clusters, flushed TS); offline tools keep faststart MP4 (see EncodeCommand).
                configuration.outputOptions.crashSafe = true
                // FFmpeg's lines while opening (and about the contexts opened) name this stream.
                pipeline = try MediaLog.withLabel(self.name) { try Pipeline(configuration: configuration) }
            } catch {
                failures += 1
                self.fail(error, failures: failures, generation: generation)
                if !self.backOff(failures: failures, generation: generation) { break }
                continue
            }
            let stillWanted = self.status.withLock { s -> Bool in
                guard s.wanted && s.generation == generation else { return false }
                s.pipeline = pipeline
                s.state = .running
                s.runStarted = Date()
                return true
            }
            guard stillWanted else { break }
            self.logger.info("running: \(definition.input) -> \(definition.output) (\(pipeline.transformName), \(pipeline.workingSize) -> \(pipeline.outputSize))")
            for notice in pipeline.configuration.mediaNotices { self.logger.notice("\(notice)") }
            pipeline.start()
            let outcome = Result { try pipeline.wait() }
            let report = pipeline.report()
            let wanted = self.status.withLock { s -> Bool in
                s.lastReport = report
                s.pipeline = nil
                return s.wanted && s.generation == generation
            }
            switch outcome {
            case .success:
                failures = 0
                if !wanted {
                    self.logger.info("stopped after \(report.framesEncoded) frames")
                    self.status.withLock { $0.state = .stopped }
                    return
                }
                // The input ended by itself (a file): the stream is done.
                self.logger.info("input ended after \(report.framesEncoded) frames")
                self.status.withLock { s in
                    s.state = .finished
                    s.wanted = false
                }
                return
            case .failure(let error):
                if !wanted {
                    self.status.withLock { $0.state = .stopped }
                    return
                }
                // Only a run that stayed up a while resets the back-off; an output that fails again after
                // a few frames (a full disk, a quota) must not restart in a tight loop.
                failures = report.elapsedSeconds >= 30 ? 1 : failures + 1
                self.fail(error, failures: failures, generation: generation)
                if !self.backOff(failures: failures, generation: generation) { return }
            }
        }
        self.status.withLock { s in if s.generation == generation && s.state != .failed { s.state = .stopped } }
    }

    /// A file output from an earlier run (or an earlier attempt of this one) is moved aside, never
    /// truncated: `cam.ts` becomes `cam.20261127-113500.ts`. Nothing here follows a link: a link at the
    /// output's name is refused (the muxer would refuse it too), and the new name is taken with `link(2)`,
    /// which never replaces an existing name. Throws when the earlier output cannot be kept.
    private func preserveEarlierOutput(_ output: String) throws {
        guard let path = Muxer.localPath(of: output), !path.hasPrefix("/dev/") else { return }
        var st = stat()
        guard lstat(path, &st) == 0 else { return }
        if (st.st_mode & S_IFMT) == S_IFLNK {
            throw OutputSafetyError(.symbolicLink, path: path, message: "the output is a symbolic link; outputs are never written through links (remove the link or name the real file)")
        }
        guard (st.st_mode & S_IFMT) == S_IFREG, st.st_size > 0 else { return }
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyyMMdd-HHmmss"
        formatter.locale = Locale(identifier: "en_US_POSIX")
        let url = URL(fileURLWithPath: path)
        let ext = url.pathExtension.isEmpty ? "" : "." + url.pathExtension
        let stem = url.deletingPathExtension().path + "." + formatter.string(from: Date())
        for n in 0..<1000 {
            let target = stem + (n == 0 ? "" : "-\(n)") + ext
            if link(path, target) == 0 {
                // Both names are the same file now; if the old name cannot go, writing it would
                // truncate the kept copy too.
                guard unlink(path) == 0 else {
                    let err = String(cString: strerror(errno))
                    _ = unlink(target)
                    throw OutputSafetyError(.cannotSetAside, path: path, message: "cannot move the earlier output aside: \(err)")
                }
                self.logger.notice("kept the earlier output as \(target)")
                return
            }
            let err = errno
            if err == EEXIST { continue }
            // A file system without hard links: rename, after making sure the name is free.
            var other = stat()
            if (err == EPERM || err == ENOTSUP), lstat(target, &other) != 0, rename(path, target) == 0 {
                self.logger.notice("kept the earlier output as \(target)")
                return
            }
            throw OutputSafetyError(.cannotSetAside, path: path, message: "cannot move the earlier output aside: \(String(cString: strerror(err)))")
        }
        throw OutputSafetyError(.cannotSetAside, path: path, message: "cannot move the earlier output aside: 1000 names taken")
    }

    private func fail(_ error: any Error, failures: Int, generation: Int) {
        self.logger.error("failed (attempt \(failures)): \(error)")
        self.status.withLock { s in
            guard s.generation == generation else { return }
            s.lastError = Redaction.redact("\(error)")
            s.lastErrorTime = Date()
            s.state = .retrying
            s.restarts += 1
        }
    }

    /// Waits before the next attempt (0.5 s doubling to 30 s); false if the stream was stopped meanwhile.
    private func backOff(failures: Int, generation: Int) -> Bool {
        let delay = min(30, 0.5 * Double(1 << min(6, failures - 1)))
        let end = Date().addingTimeInterval(delay)
        while Date() < end {
            if !self.status.withLock({ $0.wanted && $0.generation == generation }) { return false }
            usleep(50_000)
        }
        return self.status.withLock { $0.wanted && $0.generation == generation }
    }

    /// Counters for `stats`.
    public func stats() -> StreamStats {
        let (s, pipeline) = self.status.withLock { ($0, $0.pipeline) }
        let report = pipeline?.report() ?? s.lastReport
        // Frames over the last few seconds (the pipeline's window), not since the start: a change shows.
        let fps = pipeline != nil ? report?.recentFramesPerSecond ?? 0 : 0
        let uptime = s.state == .running ? (s.runStarted.map { Date().timeIntervalSince($0) } ?? 0) : 0
        var stats = StreamStats(
            name: self.name, role: s.definition.role.rawValue, state: s.state.rawValue, uptimeSeconds: uptime,
            input: Redaction.redact(s.definition.input), output: Redaction.redact(s.definition.output), fps: fps,
            restarts: s.restarts, lastError: s.lastError, report: report)
        stats.lastError = Redaction.redact(stats.lastError)
        // The supervisor's own error (the run failed), else the running input's last loss.
        stats.lastErrorTime = (s.lastError != nil ? s.lastErrorTime : report?.lastInputErrorTime).map(Self.iso8601)
        if s.definition.role == .sender, s.definition.adapt != nil {
            stats.adaptation = report.flatMap(AdaptationStats.init(report:))
        }
        if s.definition.role == .receiver {
            stats.modelUpdates = report.map(ModelUpdateStats.init(report:))
        }
        return stats
    }
}

extension StreamSupervisor {
    /// `2026-12-05T21:20:00Z`: the time format of `lastErrorTime`.
    static func iso8601(_ date: Date) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        return f.string(from: date)
    }
}
