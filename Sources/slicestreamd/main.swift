// slicestreamd: the streaming daemon. The service itself (config, control socket, supervisor) is built in
// its own issue; until then it reports its version and refuses to run rather than pretending to.
import Foundation

let version = "0.1.0"
let arguments = CommandLine.arguments.dropFirst()
if arguments.contains("--version") || arguments.contains("-V") {
    print("slicestreamd \(version)")
    exit(0)
}
FileHandle.standardError.write(Data("slicestreamd \(version): the daemon is not implemented yet; use `slicestream encode|decode` for offline work\n".utf8))
exit(78)  // EX_CONFIG: systemd will not restart-loop on it
