import SliceConfig
import Synchronization

/// The limits a new control connection is admitted under (from the node settings, read at each accept so
/// a reload applies to the next connection).
struct ControlLimits: Sendable, Equatable {
    /// Connections served at once (`max_clients`).
    var maxClients: Int
    /// Of those, kept for admins (`admin_reserved_clients`).
    var reservedForAdmins: Int
    /// Connections one uid may hold, root and the daemon's user excepted (`max_clients_per_user`).
    var perUser: Int

    init(maxClients: Int, reservedForAdmins: Int, perUser: Int) {
        self.maxClients = maxClients
        self.reservedForAdmins = reservedForAdmins
        self.perUser = perUser
    }

    init(_ settings: NodeSettings) {
        self.init(maxClients: settings.maxClients, reservedForAdmins: settings.effectiveAdminReservedClients,
                  perUser: settings.maxClientsPerUser)
    }
}

/// Why a connection was refused or dropped: the `reason` label of the metrics and the log.
enum ControlDropReason: String, Sendable, CaseIterable {
    /// Every slot is taken.
    case full
    /// Only the slots kept for admins are left.
    case reserved
    /// The uid holds `max_clients_per_user` connections.
    case perUser = "per_user"
    /// No credentials could be read from the socket.
    case noCredentials = "no_credentials"
    /// Closed after `client_idle_seconds` without a request.
    case idle
}

/// Open control connections, in total and per uid, shared by every connection's handler. Admission and
/// release happen under one lock, so concurrent accepts cannot overshoot a limit.
final class ControlAdmission: Sendable {
    private struct State {
        var total = 0
        var perUID: [UInt32: Int] = [:]
    }
    private let state = Mutex(State())

    /// Connections open now.
    var count: Int { self.state.withLock { $0.total } }

    /// Takes a slot for a peer, or says why not. `admin`: may take reserved slots; `privileged` (root,
    /// the daemon's user): no per-user limit.
    func admit(uid: UInt32, admin: Bool, privileged: Bool, limits: ControlLimits) -> ControlDropReason? {
        self.state.withLock { s in
            if s.total >= limits.maxClients { return .full }
            if !admin && s.total >= limits.maxClients - limits.reservedForAdmins { return .reserved }
            if !privileged && s.perUID[uid, default: 0] >= limits.perUser { return .perUser }
            s.total += 1
            s.perUID[uid, default: 0] += 1
            return nil
        }
    }

    /// Gives back a slot taken by ``admit(uid:admin:privileged:limits:)``.
    func release(uid: UInt32) {
        self.state.withLock { s in
            s.total -= 1
            let left = s.perUID[uid, default: 1] - 1
            s.perUID[uid] = left > 0 ? left : nil
        }
    }
}
