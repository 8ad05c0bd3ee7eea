import Foundation
import Logging
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Watches the config file's directory and calls `onChange` when the file's *content* changed, after the
/// directory has been quiet for `debounce` seconds. A Kubernetes ConfigMap volume updates by pointing a
/// `..data` symlink at a new timestamped folder (a rename in the mounted directory); an editor saves by
/// rename or by write-and-close; both show up as events on the directory, never on the file itself, which is
/// why the directory is watched (inotify), and why the content is compared: the daemon's own files in the
/// same folder (socket, logs) and a kubelet's intermediate steps do not reload anything.
///
/// Where inotify cannot be used (no more instances, a filesystem without events), the file is read once a
/// second instead; `SLICESTREAM_CONFIG_WATCH=poll` forces that, for tests and odd filesystems.
public final class ConfigWatcher: Sendable {
    /// How changes are noticed.
    public enum Mode: String, Sendable {
        /// inotify on the directory (a change is seen within the debounce time).
        case inotify
        /// The file is read once a second.
        case poll
    }

    /// The config file (as given; symlinks are followed when reading it).
    public let path: String
    /// Seconds of quiet after the last event before the file is compared.
    public let debounce: Double
    private let onChange: @Sendable () -> Void
    private let stopped = Atomic<Bool>(false)
    private let state = Mutex<(mode: Mode?, thread: Thread?)>((nil, nil))
    private let logger = Logger(label: "slicestream.config-watch")

    /// Creates a watcher; nothing happens until ``start()``.
    public init(path: String, debounce: Double = 0.3, onChange: @escaping @Sendable () -> Void) {
        self.path = path
        self.debounce = debounce
        self.onChange = onChange
    }

    /// How the running watcher notices changes; nil before ``start()``.
    public var mode: Mode? { self.state.withLock { $0.mode } }

    /// Starts watching on a thread of its own; returns the mode used.
    @discardableResult
    public func start() -> Mode {
        let directory = (self.path as NSString).deletingLastPathComponent.isEmpty ? "." : (self.path as NSString).deletingLastPathComponent
        var fd: Int32 = -1
        if ProcessInfo.processInfo.environment["SLICESTREAM_CONFIG_WATCH"] != "poll" {
            fd = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
            if fd >= 0 {
                let mask = UInt32(IN_CREATE | IN_MOVED_TO | IN_DELETE | IN_CLOSE_WRITE | IN_ATTRIB | IN_MOVED_FROM)
                if inotify_add_watch(fd, directory, mask) < 0 {
                    self.logger.warning("cannot watch \(directory) with inotify (\(String(cString: strerror(errno)))): reading the config once a second")
                    close(fd)
                    fd = -1
                }
            } else {
                self.logger.warning("inotify is not available (\(String(cString: strerror(errno)))): reading the config once a second")
            }
        }
        let mode: Mode = fd >= 0 ? .inotify : .poll
        let initial = self.fingerprint()
        let watchFD = fd
        let thread = Thread { [self] in self.loop(fd: watchFD, last: initial) }
        thread.name = "slicestream.config-watch"
        self.state.withLock { $0 = (mode, thread) }
        thread.start()
        self.logger.info("watching \(self.path) for changes (\(mode.rawValue))")
        return mode
    }

    /// Stops watching (the thread ends within a fraction of a second).
    public func stop() {
        self.stopped.store(true, ordering: .releasing)
    }

    /// The file's bytes through any symlinks; nil while it cannot be read (mid-swap, removed).
    private func fingerprint() -> Data? {
        FileManager.default.contents(atPath: self.path)
    }

    private func loop(fd: Int32, last initial: Data?) {
        defer { if fd >= 0 { close(fd) } }
        var last = initial
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while !self.stopped.load(ordering: .acquiring) {
            if fd >= 0 {
                // Wait for the first event, then until the directory has been quiet for `debounce`.
                guard Self.wait(fd, milliseconds: 250) else { continue }
                Self.drain(fd, &buffer)
                let quiet = Int32(self.debounce * 1000)
                var rounds = 0
                while Self.wait(fd, milliseconds: quiet), rounds < 50, !self.stopped.load(ordering: .acquiring) {
                    Self.drain(fd, &buffer)
                    rounds += 1
                }
            } else {
                for _ in 0..<4 where !self.stopped.load(ordering: .acquiring) { usleep(250_000) }
            }
            guard !self.stopped.load(ordering: .acquiring) else { return }
            guard let now = self.fingerprint() else { continue }  // mid-swap or removed: the next event tells
            if now != last {
                last = now
                self.logger.notice("\(self.path) changed: reloading")
                self.onChange()
            }
        }
    }

    /// Whether `fd` became readable within `milliseconds`.
    private static func wait(_ fd: Int32, milliseconds: Int32) -> Bool {
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&p, 1, milliseconds) > 0 && (p.revents & Int16(POLLIN)) != 0
    }

    /// Reads and discards every pending event: which names changed does not matter, the content does.
    private static func drain(_ fd: Int32, _ buffer: inout [UInt8]) {
        while buffer.withUnsafeMutableBytes({ read(fd, $0.baseAddress, $0.count) }) > 0 {}
    }
}
