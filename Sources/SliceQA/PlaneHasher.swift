import CFFmpeg
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
                guard let md5 = av_md5_alloc() else { return }
                av_md5_init(md5)
                for y in 0..<rows { av_md5_update(md5, frame.data(p) + y * frame.stride(p), width) }
                var digest = [UInt8](repeating: 0, count: 16)
                av_md5_final(md5, &digest)
                av_free(UnsafeMutableRawPointer(md5))
                planes.append(digest.map { String(format: "%02x", $0) }.joined())
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
