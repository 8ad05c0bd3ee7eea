import Foundation
import SliceMedia

/// MD5 of each plane of each decoded frame, so QA can say which plane of a mismatching frame differs.
enum PlaneHasher {
    static func hashes(of url: String) throws -> [[String]] {
        let demuxer = try Demuxer(url: url)
        let index = try demuxer.requireVideoStream()
        let decoder = try Decoder(demuxer: demuxer, stream: index, threads: 1)
        var result: [[String]] = []
        let visit: (Frame) -> Void = { frame in
            var planes: [String] = []
            for p in 0..<3 {
                let rows = p == 0 ? frame.size.height : (frame.size.height + 1) / 2
                let width = p == 0 ? frame.size.width : (frame.size.width + 1) / 2
                let md5 = MessageDigest(.md5)
                for y in 0..<rows { md5.update(frame.data(p) + y * frame.stride(p), count: width) }
                planes.append(md5.hexDigest())
            }
            result.append(planes)
        }
        while let packet = try demuxer.read() {
            if packet.streamIndex == index { try decoder.decode(packet, emit: visit) }
        }
        try decoder.decode(nil, emit: visit)
        return result
    }
}
