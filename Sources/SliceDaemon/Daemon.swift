import Dispatch
import Foundation
import Logging
import SliceConfig
import SliceMedia
import Synchronization

/// `slicestreamd`'s whole life: load the config, listen on the control socket, start the streams, tell
/// systemd, keep the watchdog fed while every stage makes progress, reload on SIGHUP, and on SIGTERM stop
/// accepting work, drain every stream and finalise its output within the grace time.
public final class Daemon: Sendable {
    private let configPath: String
    private let socketOverride: String?
    private let notifier: SystemdNotifier
    private let logger = Logger(label: "slicestream.daemon")

    /// Creates a daemon for a config file; `socket` overrides `node.control_socket`.
    public init(configPath: String, socket: String? = nil, notifier: SystemdNotifier = SystemdNotifier()) {
        self.configPath = configPath
        self.socketOverride = socket
        self.notifier = notifier
    }

    /// Validates a config file deeply (`--check-config`, `ExecStartPre=`): throws ``ConfigError`` for a
    /// malformed file, ``ConfigProblems`` listing every model, preset, tune and (with `files`) input file,
    /// output folder and secret file problem.
    public static func checkConfig(path: String, files: Bool = true) throws -> NodeConfiguration {
        MediaLog.install { _, _, _ in }  // the problems say it all; FFmpeg's own lines would repeat them
        return try NodeConfiguration.loadChecked(path: path, environment: files)
    }

    /// `node.log_level` of a config file that parses (nil: none or unreadable).
    public static func configuredLogLevel(path: String) -> Logger.Level? {
        (try? NodeConfiguration.load(path: path)).flatMap { Logger.Level(rawValue: $0.node.logLevel) }
    }

    /// Runs until SIGTERM/SIGINT; returns the process exit code.
    public func run() -> Int32 {
        var config: NodeConfiguration
        do {
            config = try NodeConfiguration.load(path: self.configPath)
            try config.checkDeeply(file: self.configPath, logger: self.logger)
        } catch {
            self.logger.critical("cannot start: \(error)")
            return 78  // EX_CONFIG: systemd does not restart-loop on a bad config
        }
        if let socket = self.socketOverride { config.node.controlSocket = socket }
        let node = Node(configuration: config, configPath: self.configPath, notifier: self.notifier)
        // Signal handling is in place before the socket accepts anyone: a SIGTERM sent right after the
        // daemon answers must stop it, not fall into the moment between `signal(SIG_IGN)` and the source.
        let shutdown = DispatchSemaphore(value: 0)
        let signals = DispatchQueue(label: "slicestream.daemon.signals")
        var sources: [any DispatchSourceSignal] = []
        for sig in [SIGTERM, SIGINT] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: signals)
            source.setEventHandler { shutdown.signal() }
            source.resume()
            sources.append(source)
        }
        signal(SIGHUP, SIG_IGN)
        signal(SIGPIPE, SIG_IGN)
        let hup = DispatchSource.makeSignalSource(signal: SIGHUP, queue: signals)
        hup.setEventHandler { [logger] in
            do {
                _ = try node.reload()
            } catch {
                logger.error("SIGHUP reload refused: \(error)")
            }
        }
        hup.resume()
        sources.append(hup)
        // A changed config directory reloads through the same path, on the same queue, as SIGHUP.
        let watcher = config.node.watchConfig ? ConfigWatcher(path: self.configPath) { [logger] in
            signals.async {
                guard node.configuration.node.watchConfig else { return }
                do { _ = try node.reload() } catch { logger.error("config change not applied: \(error)") }
            }
        } : nil
        watcher?.start()
        defer { watcher?.stop() }
        let server: ControlServer
        do {
            server = try ControlServer(node: node, path: config.node.controlSocket, mode: config.node.socketModeValue ?? 0o660,
                                       group: config.node.socketGroup)
        } catch {
            self.logger.critical("cannot start: \(error)")
            return 1
        }
        self.logger.info("slicestreamd \(Node.version) listening on \(server.path) with \(config.streams.count) streams")
        let http: HTTPServer?
        do {
            http = try Self.startHTTP(node: node, settings: config.node, logger: self.logger)
        } catch {
            self.logger.critical("cannot start: \(error)")
            server.close()
            return 1
        }
        node.startAutostartStreams()
        node.lifecycle.markServing()
        self.notifier.ready(status: node.statusLine)

        // Health loop: ping the watchdog only while no stage is stuck, so systemd restarts a wedged node.
        let interval = min(5, (SystemdNotifier.watchdogInterval ?? 10) / 2)
        let health = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "slicestream.daemon.health"))
        let wasHealthy = Mutex(true)
        health.schedule(deadline: .now() + interval, repeating: interval)
        health.setEventHandler { [notifier, logger] in
            let healthy = node.isHealthy
            if healthy { notifier.watchdog() }
            let changed = wasHealthy.withLock { w -> Bool in defer { w = healthy }; return w != healthy }
            if changed {
                if healthy { logger.notice("all stages make progress again") } else { logger.error("a stage is stalled: watchdog pings withheld") }
            }
            notifier.status(healthy ? node.statusLine : "STALLED: " + node.statusLine)
            JournalLogHandler.flushSummaries()  // a retry storm that stopped is still summarised
        }
        health.resume()

        shutdown.wait()
        // Not ready from the first moment: an orchestrator stops sending work while the streams drain.
        node.lifecycle.beginDraining()
        self.logger.notice("shutting down: draining streams (grace \(node.configuration.node.shutdownGraceSeconds) s)")
        self.notifier.stopping()
        server.close()
        node.stopAll()
        http?.close()
        health.cancel()
        for s in sources { s.cancel() }
        self.logger.notice("stopped")
        return 0
    }
}
