import Foundation

/// Node-wide settings.
public struct NodeSettings: Codable, Sendable, Equatable {
    /// Control socket path.
    public var controlSocket: String = "/run/slicestream/control.sock"
    /// Control socket permissions, octal text.
    public var socketMode: String = "0660"
    /// Group given the control socket (read-only commands are open to it).
    public var socketGroup: String?
    /// Group whose members may run changing commands (root and the daemon's own user always may).
    public var adminGroup: String?
    /// Log level: trace, debug, info, notice, warning, error, critical.
    public var logLevel: String = "info"
    /// Seconds SIGTERM waits for streams to drain and finalise before aborting them.
    public var shutdownGraceSeconds: Double = 10
    /// Seconds between `watch` events.
    public var statsIntervalSeconds: Double = 1
    /// Control clients served at once; more are refused with an error.
    public var maxClients: Int = 64
    /// Control connections one uid may hold at once (root and the daemon's user are not limited).
    public var maxClientsPerUser: Int = 16
    /// Of `maxClients`, slots only admins may take; nil: the default, 4 (at most `maxClients - 1`).
    public var adminReservedClients: Int?
    /// A control connection with no request for this long (and no `watch`) is closed.
    public var clientIdleSeconds: Double = 30
    /// A stage busy on one item for longer than this stops the systemd watchdog pings.
    public var stallSeconds: Double = 30
    /// Most streams the node runs (config file and `add` together).
    public var maxStreams: Int = 64
    /// Directories file inputs must lie in; empty: config-file streams may read any file, `add` none.
    public var inputDirectories: [String] = []
    /// Directories file outputs must lie in; empty: config-file streams may write any file, `add` none.
    public var outputDirectories: [String] = []
    /// Protocols an input URL may use (`pipe` is further allowed in the config file, never over `add`).
    public var inputProtocols: [String] = NodeSettings.defaultProtocols
    /// Protocols an output URL may use (`pipe` as for inputs).
    public var outputProtocols: [String] = NodeSettings.defaultProtocols
    /// Demuxers an input may use (`input_format`, and what probing may pick).
    public var inputFormats: [String] = NodeSettings.defaultInputFormats
    /// Muxers an output may use (`output_format`, or guessed from the file name's extension).
    public var outputFormats: [String] = NodeSettings.defaultOutputFormats
    /// Reload when the config file's directory changes (an edit, a rename, Kubernetes swapping a ConfigMap's
    /// `..data` link), as SIGHUP does. Off by default: a systemd node reloads when told (`systemctl reload`).
    public var watchConfig: Bool = false
    /// `HOST:PORT` of the HTTP endpoint (`/metrics`, `/healthz`, `/readyz`, status page); nil or empty: off.
    public var httpListen: String?

    /// Protocols allowed by default: files and the live transports the node is built for.
    public static let defaultProtocols = ["file", "udp", "rtp", "srt", "tcp"]
    /// Demuxers allowed by default: containers and elementary streams that read only their own input.
    /// Not `tty`, `concat`, `hls`, `dash`, `image2` or capture devices: they read other files or hardware.
    public static let defaultInputFormats = ["mpegts", "mov", "mp4", "matroska", "webm", "flv", "avi", "mpeg", "nut", "ogg",
                                             "ivf", "h264", "hevc", "yuv4mpegpipe", "rawvideo", "lavfi"]
    /// Muxers allowed by default: single-file containers (not `tee`, `segment`, `hls`, `image2`: they write
    /// files the output path does not name).
    public static let defaultOutputFormats = ["mpegts", "mp4", "fmp4", "mov", "matroska", "webm", "flv", "avi", "nut", "ogg", "ivf",
                                              "h264", "hevc", "yuv4mpegpipe", "rtp_mpegts", "null"]

    /// Default settings.
    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case controlSocket = "control_socket", socketMode = "socket_mode", socketGroup = "socket_group", adminGroup = "admin_group"
        case logLevel = "log_level", shutdownGraceSeconds = "shutdown_grace_seconds", statsIntervalSeconds = "stats_interval_seconds"
        case maxClients = "max_clients", stallSeconds = "stall_seconds", maxStreams = "max_streams"
        case inputDirectories = "input_directories", outputDirectories = "output_directories"
        case inputProtocols = "input_protocols", outputProtocols = "output_protocols"
        case inputFormats = "input_formats", outputFormats = "output_formats"
        case maxClientsPerUser = "max_clients_per_user", adminReservedClients = "admin_reserved_clients", clientIdleSeconds = "client_idle_seconds"
        case watchConfig = "watch_config", httpListen = "http_listen"
    }

    public init(from decoder: any Swift.Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = NodeSettings()
        self.controlSocket = try c.decodeIfPresent(String.self, forKey: .controlSocket) ?? d.controlSocket
        self.socketMode = try c.decodeIfPresent(String.self, forKey: .socketMode) ?? d.socketMode
        self.socketGroup = try c.decodeIfPresent(String.self, forKey: .socketGroup)
        self.adminGroup = try c.decodeIfPresent(String.self, forKey: .adminGroup)
        self.logLevel = try c.decodeIfPresent(String.self, forKey: .logLevel) ?? d.logLevel
        self.shutdownGraceSeconds = try c.decodeIfPresent(Double.self, forKey: .shutdownGraceSeconds) ?? d.shutdownGraceSeconds
        self.statsIntervalSeconds = try c.decodeIfPresent(Double.self, forKey: .statsIntervalSeconds) ?? d.statsIntervalSeconds
        self.maxClients = try c.decodeIfPresent(Int.self, forKey: .maxClients) ?? d.maxClients
        self.stallSeconds = try c.decodeIfPresent(Double.self, forKey: .stallSeconds) ?? d.stallSeconds
        self.maxStreams = try c.decodeIfPresent(Int.self, forKey: .maxStreams) ?? d.maxStreams
        self.inputDirectories = try c.decodeIfPresent([String].self, forKey: .inputDirectories) ?? d.inputDirectories
        self.outputDirectories = try c.decodeIfPresent([String].self, forKey: .outputDirectories) ?? d.outputDirectories
        self.inputProtocols = try c.decodeIfPresent([String].self, forKey: .inputProtocols) ?? d.inputProtocols
        self.outputProtocols = try c.decodeIfPresent([String].self, forKey: .outputProtocols) ?? d.outputProtocols
        self.inputFormats = try c.decodeIfPresent([String].self, forKey: .inputFormats) ?? d.inputFormats
        self.outputFormats = try c.decodeIfPresent([String].self, forKey: .outputFormats) ?? d.outputFormats
        self.maxClientsPerUser = try c.decodeIfPresent(Int.self, forKey: .maxClientsPerUser) ?? d.maxClientsPerUser
        self.adminReservedClients = try c.decodeIfPresent(Int.self, forKey: .adminReservedClients)
        self.clientIdleSeconds = try c.decodeIfPresent(Double.self, forKey: .clientIdleSeconds) ?? d.clientIdleSeconds
        self.watchConfig = try c.decodeIfPresent(Bool.self, forKey: .watchConfig) ?? d.watchConfig
        self.httpListen = try c.decodeIfPresent(String.self, forKey: .httpListen)
    }

    /// Control slots kept for admins: `adminReservedClients`, or 4 but always leaving one for everyone.
    public var effectiveAdminReservedClients: Int { self.adminReservedClients ?? min(4, self.maxClients - 1) }

    /// The socket mode as a number.
    public var socketModeValue: UInt16? { UInt16(self.socketMode, radix: 8) }

    func validate(file: String) throws {
        guard let mode = self.socketModeValue, mode <= 0o777 else {
            throw ConfigError(file: file, key: "node.socket_mode", message: "'\(self.socketMode)' is not an octal mode like 0660")
        }
        guard !self.controlSocket.isEmpty, self.controlSocket.utf8.count < 100 else {
            throw ConfigError(file: file, key: "node.control_socket", message: "must be a path shorter than 100 bytes")
        }
        guard ["trace", "debug", "info", "notice", "warning", "error", "critical"].contains(self.logLevel) else {
            throw ConfigError(file: file, key: "node.log_level", message: "'\(self.logLevel)' is not a log level")
        }
        for (key, value, low, high) in [("shutdown_grace_seconds", self.shutdownGraceSeconds, 0.1, 3600.0),
                                        ("stats_interval_seconds", self.statsIntervalSeconds, 0.01, 3600),
                                        ("stall_seconds", self.stallSeconds, 1, 86400),
                                        ("client_idle_seconds", self.clientIdleSeconds, 0.1, 86400)] where !(value >= low && value <= high) {
            throw ConfigError(file: file, key: "node.\(key)", message: "must be between \(low) and \(high)")
        }
        guard self.maxClients > 0, self.maxClients <= 10_000 else { throw ConfigError(file: file, key: "node.max_clients", message: "must be between 1 and 10000") }
        guard self.maxClientsPerUser > 0, self.maxClientsPerUser <= 10_000 else {
            throw ConfigError(file: file, key: "node.max_clients_per_user", message: "must be between 1 and 10000")
        }
        if let reserved = self.adminReservedClients, !(reserved >= 0 && reserved < self.maxClients) {
            throw ConfigError(file: file, key: "node.admin_reserved_clients", message: "must be between 0 and max_clients - 1 (\(self.maxClients - 1))")
        }
        if let listen = self.httpListen, !listen.isEmpty {
            do { _ = try HTTPListenAddress(parsing: listen) } catch let error as HTTPListenAddress.ParseError {
                throw ConfigError(file: file, key: "node.http_listen", message: error.message)
            }
        }
        guard self.maxStreams > 0, self.maxStreams <= 10_000 else { throw ConfigError(file: file, key: "node.max_streams", message: "must be between 1 and 10000") }
        for (key, list) in [("input_directories", self.inputDirectories), ("output_directories", self.outputDirectories)] {
            for (i, directory) in list.enumerated() where StreamAccess.resolvedDirectory(directory) == nil {
                throw ConfigError(file: file, key: "node.\(key)[\(i)]", message: "'\(directory)' is not an existing directory")
            }
        }
        for (key, list) in [("input_protocols", self.inputProtocols), ("output_protocols", self.outputProtocols),
                            ("input_formats", self.inputFormats), ("output_formats", self.outputFormats)] {
            for (i, name) in list.enumerated() where name.isEmpty || !name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }) {
                throw ConfigError(file: file, key: "node.\(key)[\(i)]", message: "'\(name)' is not a name (letters, digits, '_')")
            }
        }
    }
}
