import Foundation

/// Linux `struct ucred` (pid, uid, gid), declared here because Glibc hides it behind _GNU_SOURCE.
struct RawPeerCredentials: Sendable {
    var pid: Int32 = 0
    var uid: UInt32 = 0
    var gid: UInt32 = 0
}

/// Why a control client's credentials could not be read from its socket.
struct PeerCredentialsError: Error, CustomStringConvertible {
    /// `getsockopt` option that failed: `SO_PEERCRED` or `SO_PEERGROUPS`.
    var option: String
    /// `errno` of the failure.
    var errno: Int32

    var description: String { "getsockopt(\(self.option)): \(String(cString: strerror(self.errno)))" }
}

/// Credentials of a Unix-socket client, as the kernel recorded them when the client called `connect()`.
///
/// Taken once, at accept, from the socket itself (`SO_PEERCRED`, `SO_PEERGROUPS`) and never from
/// `/proc/<pid>`: a pid names a process only while it lives, and a client that hands its socket to a
/// child and exits may see its pid reused by a more privileged process.
struct PeerCredentials: Sendable, Equatable {
    /// The connecting process's pid at connect time: for logs only, never for decisions.
    var pid: Int32
    /// Effective uid at connect time.
    var uid: UInt32
    /// Effective gid at connect time.
    var gid: UInt32
    /// Supplementary groups at connect time.
    var groups: [UInt32]

    /// `SO_PEERGROUPS` (Linux 4.13): Glibc only defines it in headers Swift may not import.
    static let peerGroupsOption: Int32 = 59
    /// The kernel's `NGROUPS_MAX`: no peer can have more groups, so the buffer is bounded.
    static let maximumGroups = 65536

    /// Reads the credentials of the peer of connected Unix socket `fd`.
    static func of(socket fd: Int32) throws(PeerCredentialsError) -> PeerCredentials {
        var raw = RawPeerCredentials()
        var length = socklen_t(MemoryLayout<RawPeerCredentials>.size)
        guard getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &raw, &length) == 0 else {
            throw PeerCredentialsError(option: "SO_PEERCRED", errno: errno)
        }
        var groups = [UInt32](repeating: 0, count: 64)
        while true {
            var size = socklen_t(groups.count * MemoryLayout<UInt32>.size)
            let rc = groups.withUnsafeMutableBytes { getsockopt(fd, SOL_SOCKET, Self.peerGroupsOption, $0.baseAddress, &size) }
            if rc == 0 {
                // The kernel says how many it wrote: the zeroed tail is not gid 0.
                groups.removeLast(groups.count - min(groups.count, Int(size) / MemoryLayout<UInt32>.size))
                break
            }
            let needed = Int(size) / MemoryLayout<UInt32>.size
            guard errno == ERANGE, needed > groups.count, needed <= Self.maximumGroups else {
                throw PeerCredentialsError(option: "SO_PEERGROUPS", errno: errno)
            }
            groups = [UInt32](repeating: 0, count: needed)
        }
        return PeerCredentials(pid: raw.pid, uid: raw.uid, gid: raw.gid, groups: groups)
    }

    /// Whether the peer may run changing commands and take the slots kept for admins: root, the
    /// daemon's own user, or a member (primary or supplementary) of `adminGroup`.
    func isAdmin(adminGroup: String?, daemonUID: UInt32 = getuid()) -> Bool {
        if self.isPrivileged(daemonUID: daemonUID) { return true }
        guard let adminGroup, let gid = Self.groupID(named: adminGroup) else { return false }
        return self.gid == gid || self.groups.contains(gid)
    }

    /// Root or the daemon's own user: never limited per user.
    func isPrivileged(daemonUID: UInt32 = getuid()) -> Bool {
        self.uid == 0 || self.uid == daemonUID
    }

    /// The gid of group `name` (thread-safe lookup: requests run on many threads).
    static func groupID(named name: String) -> UInt32? {
        var group = group()
        var result: UnsafeMutablePointer<group>? = nil
        var buffer = [CChar](repeating: 0, count: 4096)
        while true {
            let rc = getgrnam_r(name, &group, &buffer, buffer.count, &result)
            if rc == ERANGE && buffer.count < 1 << 20 {
                buffer = [CChar](repeating: 0, count: buffer.count * 4)
                continue
            }
            return rc == 0 && result != nil ? group.gr_gid : nil
        }
    }
}
