import Foundation
import XCTest

/// A control client running as another local user: `setpriv` sets uid, gid and supplementary groups, and a
/// small Perl program (Perl is in every Debian base system) speaks to the socket, driven over stdin/stdout.
///
/// Modes (the program's first argument):
/// - `request PATH JSON...`: one connection, one `reply LINE` per request.
/// - `handoff PATH JSON`: a child connects, forks, prints `pid P` and exits; the grandchild keeps the
///   socket, waits for `go` on stdin, sends JSON and prints `reply LINE`. The program is a child
///   subreaper (`prctl(PR_SET_CHILD_SUBREAPER)`), so it reaps both and prints `reaped` once pid P is free.
/// - `hold PATH N`: opens N connections, sends `version` on each and prints `conn ok` or `conn busy LINE`,
///   then `ready`; keeps the admitted ones open. On `closed` it prints `closed C`, the number the daemon
///   has closed (read without sending, so the connections stay idle); `quit` or EOF ends it.
final class LocalUserClient {
    static let script = #"""
    use strict; use warnings; use Socket; use IO::Handle; use POSIX ();
    $SIG{PIPE} = 'IGNORE'; STDOUT->autoflush(1);
    my ($mode, $path, @rest) = @ARGV;
    sub conn { socket(my $s, PF_UNIX, SOCK_STREAM, 0) or die "socket: $!"; connect($s, pack_sockaddr_un($path)) or die "connect: $!"; return $s; }
    sub say_to { my ($s, $t) = @_; syswrite($s, "$t\n"); }
    sub line_from { my ($s) = @_; my $line = ''; my $rin = ''; vec($rin, fileno($s), 1) = 1;
      while (1) { my $n = select(my $rout = $rin, undef, undef, 10); return 'TIMEOUT' if $n <= 0;
        my $r = sysread($s, my $c, 1); return ($line eq '' ? 'CLOSED' : $line) if !$r; return $line if $c eq "\n"; $line .= $c; } }
    if ($mode eq 'request') { my $s = conn(); for my $j (@rest) { say_to($s, $j); print "reply ", line_from($s), "\n"; } exit 0; }
    if ($mode eq 'handoff') { syscall((POSIX::uname())[4] eq 'aarch64' ? 167 : 157, 36, 1);
      my $c1 = fork(); die "fork: $!" unless defined $c1;
      if ($c1 == 0) { my $s = conn(); my $c2 = fork(); die "fork: $!" unless defined $c2;
        if ($c2) { print "pid $$\n"; POSIX::_exit(0); }
        my $go = <STDIN>; say_to($s, $rest[0]); print "reply ", line_from($s), "\n"; POSIX::_exit(0); }
      waitpid($c1, 0); print "reaped\n"; 1 while waitpid(-1, 0) > 0; exit 0; }
    if ($mode eq 'hold') { my @held; my %gone;
      for (1 .. $rest[0]) { my $s = conn(); say_to($s, '{"command":"version"}'); my $l = line_from($s);
        if ($l =~ /"ok":true/) { push @held, $s; print "conn ok\n"; } else { print "conn busy $l\n"; close($s); } }
      print "ready\n";
      while (my $cmd = <STDIN>) { chomp $cmd; last if $cmd eq 'quit';
        if ($cmd eq 'closed') { for my $i (0 .. $#held) { next if $gone{$i}; my $s = $held[$i];
            while (1) { my $rin = ''; vec($rin, fileno($s), 1) = 1; last if select(my $rout = $rin, undef, undef, 0) <= 0;
              my $r = sysread($s, my $buf, 65536); if (!$r) { $gone{$i} = 1; last; } } }
          print "closed ", scalar(keys %gone), "\n"; } }
      exit 0; }
    die "unknown mode $mode";
    """#

    let process = Process()
    private let stdinPipe = Pipe()
    private let stdoutPipe = Pipe()
    private var pending: [UInt8] = []

    /// Starts the program as `uid`/`gid` with exactly `groups` as supplementary groups.
    init(uid: UInt32, gid: UInt32, groups: [UInt32], _ arguments: [String]) throws {
        self.process.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
        let groupOption = groups.isEmpty ? ["--clear-groups"] : ["--groups=" + groups.map(String.init).joined(separator: ",")]
        self.process.arguments = ["--reuid=\(uid)", "--regid=\(gid)"] + groupOption + ["/usr/bin/perl", "-e", Self.script, "--"] + arguments
        self.process.currentDirectoryURL = URL(fileURLWithPath: "/")
        self.process.standardInput = self.stdinPipe
        self.process.standardOutput = self.stdoutPipe
        try self.process.run()
    }

    deinit {
        try? self.stdinPipe.fileHandleForWriting.close()
        if self.process.isRunning { kill(self.process.processIdentifier, SIGKILL) }
    }

    /// Writes one line to the program's stdin.
    func send(_ line: String) {
        self.stdinPipe.fileHandleForWriting.write(Data((line + "\n").utf8))
    }

    /// The program's next output line, or nil at EOF or after `timeout` seconds.
    func readLine(timeout: Double = 15) -> String? {
        let fd = self.stdoutPipe.fileHandleForReading.fileDescriptor
        let end = Date().addingTimeInterval(timeout)
        while true {
            if let i = self.pending.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: self.pending[..<i], as: UTF8.self)
                self.pending.removeSubrange(...i)
                return line
            }
            let left = end.timeIntervalSinceNow
            guard left > 0 else { return nil }
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&p, 1, Int32(left * 1000) + 1) > 0 else { continue }
            var buffer = [UInt8](repeating: 0, count: 4096)
            let n = read(fd, &buffer, buffer.count)
            guard n > 0 else { return nil }
            self.pending.append(contentsOf: buffer[0..<n])
        }
    }

    /// Runs `request` mode to the end and returns the reply lines.
    static func requests(uid: UInt32, gid: UInt32, groups: [UInt32] = [], socket: String, _ lines: [String]) throws -> [String] {
        let client = try LocalUserClient(uid: uid, gid: gid, groups: groups, ["request", socket] + lines)
        var replies: [String] = []
        while replies.count < lines.count, let line = client.readLine() {
            if line.hasPrefix("reply ") { replies.append(String(line.dropFirst(6))) }
        }
        return replies
    }
}

/// A throwaway system group, removed on deinit; the test is skipped where groups cannot be created.
final class ThrowawayGroup {
    let name: String
    let gid: UInt32

    init() throws {
        guard getuid() == 0 else { throw XCTSkip("needs root to create a group and run clients as other users") }
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv"), FileManager.default.isExecutableFile(atPath: "/usr/bin/perl") else {
            throw XCTSkip("needs /usr/bin/setpriv and /usr/bin/perl to run clients as other users")
        }
        let name = "sst" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(12).lowercased()
        let add = try runChild(URL(fileURLWithPath: "/usr/sbin/groupadd"), ["--system", name], timeout: 30)
        guard add.status == 0, let gid = PeerTestGroups.gid(of: name) else {
            throw XCTSkip("cannot create a group with groupadd: \(add.summary)")
        }
        self.name = name
        self.gid = gid
    }

    deinit { _ = try? runChild(URL(fileURLWithPath: "/usr/sbin/groupdel"), [self.name], timeout: 30) }
}

enum PeerTestGroups {
    static func gid(of name: String) -> UInt32? {
        guard let g = getgrnam(name) else { return nil }
        return g.pointee.gr_gid
    }
}
