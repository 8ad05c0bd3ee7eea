import Synchronization

/// Where the node is in its life, for `/readyz`: starting until the daemon has started its streams,
/// serving, then draining from the first moment of shutdown (set before anything else stops, so an
/// orchestrator takes the node out of rotation while the streams still drain).
public final class NodeLifecycle: Sendable {
    /// The phases, in order; a node never goes back.
    public enum Phase: String, Sendable {
        case starting, serving, draining
    }

    private let phase = Mutex(Phase.starting)

    /// Starts in `starting`.
    public init() {}

    /// The current phase.
    public var current: Phase { self.phase.withLock { $0 } }

    /// The daemon has started its autostart streams (ignored once draining).
    public func markServing() { self.phase.withLock { if $0 == .starting { $0 = .serving } } }

    /// Shutdown has begun.
    public func beginDraining() { self.phase.withLock { $0 = .draining } }
}
