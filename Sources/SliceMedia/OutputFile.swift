import CFFmpeg
#if canImport(Glibc)
import Glibc
#endif

/// A local output file opened by us rather than by FFmpeg's `file:` protocol, wrapped in a custom
/// `AVIOContext`. FFmpeg 5.1 cannot be told not to follow a symbolic link, and a link planted where an
/// output will be written (`cam.ts → /etc/passwd`) would make the muxer overwrite its target; opening
/// with `O_NOFOLLOW` refuses it instead. Writes and seeks go straight to the descriptor, so muxers that
/// seek back (MP4 and Matroska trailers, faststart) work exactly as with `file:`.
final class OutputFile {
    /// The I/O context handed to the muxer (`AVFormatContext.pb`).
    let context: UnsafeMutablePointer<AVIOContext>
    private let descriptor: Int32

    /// Opens (creates or truncates) `path` for writing, never through a symbolic link.
    init(path: String, url: String) throws {
        // The /dev/std* and /dev/fd/* names are links the system owns (root's /dev), kept for
        // `output: /dev/stdout`; everything else must be the file itself.
        let systemLink = ["/dev/stdout", "/dev/stderr"].contains(path) || path.hasPrefix("/dev/fd/")
        let flags = O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | (systemLink ? 0 : O_NOFOLLOW)
        let fd = open(path, flags, 0o644)
        guard fd >= 0 else {
            let err = errno
            if err == ELOOP {
                throw MediaError(.openOutput, call: "open", averror: cff_averror(err),
                                 message: "the output is a symbolic link; outputs are never written through links (remove the link or name the real file)",
                                 context: url)
            }
            throw MediaError(.openOutput, call: "open", averror: cff_averror(err), context: url)
        }
        // The same buffer size as FFmpeg's file protocol, so the muxer writes the same way.
        let size: Int32 = 32768
        guard let buffer = av_malloc(Int(size))?.assumingMemoryBound(to: UInt8.self) else {
            _ = Glibc.close(fd)
            throw MediaError(.outOfMemory, call: "av_malloc", message: "cannot allocate an output buffer", context: url)
        }
        // The descriptor travels in the opaque pointer (offset by one so 0 is never a null pointer).
        let opaque = UnsafeMutableRawPointer(bitPattern: Int(fd) + 1)
        guard let pb = avio_alloc_context(buffer, size, 1, opaque, nil, OutputFile.writePacket, OutputFile.seek) else {
            av_free(buffer)
            _ = Glibc.close(fd)
            throw MediaError(.outOfMemory, call: "avio_alloc_context", message: "cannot allocate an output context", context: url)
        }
        var st = stat()
        // A FIFO cannot seek; like `file:`, tell the muxer so it writes a streamable layout.
        if fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFIFO { pb.pointee.seekable = 0 }
        self.descriptor = fd
        self.context = pb
    }

    /// Writes what is buffered, frees the context and closes the file.
    func close() {
        avio_flush(self.context)
        av_freep(&self.context.pointee.buffer)
        var pb: UnsafeMutablePointer<AVIOContext>? = self.context
        avio_context_free(&pb)
        _ = Glibc.close(self.descriptor)
    }

    private static func descriptor(_ opaque: UnsafeMutableRawPointer?) -> Int32 {
        Int32(truncatingIfNeeded: Int(bitPattern: opaque) - 1)
    }

    private static let writePacket: @convention(c) (UnsafeMutableRawPointer?, UnsafeMutablePointer<UInt8>?, Int32) -> Int32 = { opaque, buffer, size in
        guard let buffer, size > 0 else { return 0 }
        let fd = OutputFile.descriptor(opaque)
        var done = 0
        while done < Int(size) {
            let n = write(fd, buffer + done, Int(size) - done)
            if n < 0 {
                if errno == EINTR { continue }
                return cff_averror(errno)
            }
            done += n
        }
        return size
    }

    private static let seek: @convention(c) (UnsafeMutableRawPointer?, Int64, Int32) -> Int64 = { opaque, offset, whence in
        let fd = OutputFile.descriptor(opaque)
        let mode = whence & ~Int32(AVSEEK_FORCE)
        if mode == Int32(AVSEEK_SIZE) {
            var st = stat()
            return fstat(fd, &st) == 0 ? Int64(st.st_size) : Int64(cff_averror(errno))
        }
        let r = lseek(fd, off_t(offset), mode)
        return r < 0 ? Int64(cff_averror(errno)) : Int64(r)
    }
}
