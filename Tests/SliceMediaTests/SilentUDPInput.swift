import Foundation
import SliceMedia
import SliceTestSupport

/// A demuxer on a UDP input that received half a second of MPEG-TS (so it opens) and then went silent:
/// its next reads block until cancelled, stopped or timed out (30 s). For tests of ending a blocked read.
func makeSilentUDPDemuxer() throws -> Demuxer {
    let port = FreePort.next()
    let sender = try UDPSender(port: port)
    let media = try TestMedia()
    let ts = try media.makeClip("a.ts", size: Size(width: 64, height: 48), seconds: 0.5, audio: false, format: "mpegts")
    let payload = try Data(contentsOf: URL(fileURLWithPath: ts))
    let group = DispatchGroup()
    DispatchQueue.global().async(group: group) {
        for _ in 0..<20 {
            sender.send(payload)
            usleep(50_000)
        }
    }
    let demuxer = try Demuxer(url: "udp://127.0.0.1:\(port)", options: InputOptions(format: "mpegts", openTimeout: 5, readTimeout: 30))
    group.wait()
    return demuxer
}
