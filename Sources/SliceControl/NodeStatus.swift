/// `status`.
public struct NodeStatus: Codable, Sendable {
    /// Daemon version.
    public var version: String
    /// Process id.
    public var pid: Int32
    /// Seconds since start.
    public var uptimeSeconds: Double
    /// Config file in use.
    public var configPath: String
    /// Streams by state.
    public var streams: [String: Int]
    /// Streams in total.
    public var streamCount: Int
    /// Whether the health check passes (no stage stalled).
    public var healthy: Bool
    /// Config reloads so far (accepted, rejected).
    public var reloads: Int
    /// Rejected reloads so far.
    public var rejectedReloads: Int
    /// Control requests answered with an error (malformed, denied, ...).
    public var failedRequests: Int
    /// `ok`, `degraded` (some streams failing or retrying, or a stage stalled) or `failing` (every
    /// stream that should run is failing); ``healthy`` alone says only that no stage is stalled.
    public var health: String? = nil
    /// The streams behind a `degraded` or `failing` health, by name.
    public var failingStreams: [String]? = nil

    /// Creates a status.
    public init(version: String, pid: Int32, uptimeSeconds: Double, configPath: String, streams: [String: Int], streamCount: Int,
                healthy: Bool, reloads: Int, rejectedReloads: Int, failedRequests: Int) {
        self.version = version
        self.pid = pid
        self.uptimeSeconds = uptimeSeconds
        self.configPath = configPath
        self.streams = streams
        self.streamCount = streamCount
        self.healthy = healthy
        self.reloads = reloads
        self.rejectedReloads = rejectedReloads
        self.failedRequests = failedRequests
    }
}
