/// The control protocol, shared by `slicestreamd` and `slicestream` so the two cannot drift apart. This module
/// needs Foundation only, so a client links neither the daemon, SwiftNIO nor FFmpeg.
///
/// A Unix stream socket carrying one JSON object per line each way, in the spirit of mpv's JSON IPC and
/// HAProxy's runtime API:
///
///     → {"id":1,"command":"stats","name":"cam1"}
///     ← {"id":1,"ok":true,"result":{...}}
///     ← {"id":1,"ok":false,"error":{"code":"no-such-stream","message":"..."}}
///
/// `watch` answers with one `{"id":…,"ok":true,"event":"stats","result":[…]}` line per interval until the
/// client closes the connection.
public enum ControlProtocol {
    /// Longest request line accepted; a longer one gets one `too-large` error reply and is skipped (the
    /// connection stays open).
    public static let maximumRequestBytes = 64 * 1024
    /// Protocol version, reported by `version`.
    public static let version = 1

    /// Commands anyone with access to the socket may run.
    public static let readOnlyCommands: Set<String> = ["version", "status", "streams", "stats", "metrics", "watch"]
    /// Commands that change the node (root, the daemon's user or the admin group).
    public static let changingCommands: Set<String> = ["start", "stop", "restart", "add", "remove", "set", "reload"]
}
