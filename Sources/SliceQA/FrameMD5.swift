import Foundation

/// FFmpeg's `framemd5` format (what `ffmpeg -f framemd5` writes): `#` header lines, then one line per
/// packet — `stream, dts, pts, duration, size, md5`. For raw video, one packet is one frame.
public struct FrameMD5: Equatable, Sendable {
    /// One frame's line.
    public struct Entry: Equatable, Sendable {
        /// Stream index.
        public var stream: Int
        /// Decoding timestamp in the stream time base.
        public var dts: Int64
        /// Presentation timestamp in the stream time base.
        public var pts: Int64
        /// Duration.
        public var duration: Int64
        /// Payload size in bytes.
        public var size: Int
        /// MD5 of the payload, lower-case hex.
        public var md5: String
    }

    /// Header lines (without the leading `#`), e.g. `tb 0: 1/25`, `dimensions 0: 640x272`.
    public var header: [String]
    /// Frame lines in order.
    public var entries: [Entry]

    /// Parses framemd5 text; a malformed line is an error naming its line number.
    public static func parse(_ text: String, context: String = "") throws -> FrameMD5 {
        var header: [String] = []
        var entries: [Entry] = []
        for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty { continue }
            if line.hasPrefix("#") {
                header.append(String(line.dropFirst()))
                continue
            }
            let fields = line.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            guard fields.count == 6, let stream = Int(fields[0]), let dts = Int64(fields[1]), let pts = Int64(fields[2]),
                  let duration = Int64(fields[3]), let size = Int(fields[4]), fields[5].count == 32 else {
                throw QAError("\(context):\(n + 1): not a framemd5 line: \(line)")
            }
            entries.append(Entry(stream: stream, dts: dts, pts: pts, duration: duration, size: size, md5: fields[5].lowercased()))
        }
        return FrameMD5(header: header, entries: entries)
    }

    /// Reads a framemd5 file.
    public static func load(path: String) throws -> FrameMD5 {
        do {
            return try self.parse(try String(contentsOfFile: path, encoding: .utf8), context: path)
        } catch let error as QAError {
            throw error
        } catch {
            throw QAError("\(path): cannot read: \(error.localizedDescription)")
        }
    }
}

/// A QA failure outside a vector's comparison (bad manifest, unreadable file).
public struct QAError: Error, CustomStringConvertible, Sendable {
    /// What is wrong.
    public var message: String
    /// Creates an error.
    public init(_ message: String) { self.message = message }
    public var description: String { self.message }
}
