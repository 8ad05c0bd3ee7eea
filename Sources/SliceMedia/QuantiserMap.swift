import CFFmpeg

/// How hard the codec quantised one decoded picture: the per-block quantiser (QP) the decoder exports as
/// `AV_FRAME_DATA_VIDEO_ENC_PARAMS`. A receiver uses it to pick the model trained for that compression.
///
/// FFmpeg 5.1 exports it from H.264 (one block per macroblock, QP_Y 0–51), VP9 and MPEG-2. Its HEVC
/// decoder exports nothing, so HEVC frames (and y4m, rawvideo, images) have no map.
public struct QuantiserMap: Sendable, Equatable {
    /// One block of the picture and its quantiser.
    public struct Block: Sendable, Equatable {
        /// Left column, in luma pixels.
        public var x: Int
        /// Top row, in luma pixels.
        public var y: Int
        /// Width in luma pixels.
        public var width: Int
        /// Height in luma pixels.
        public var height: Int
        /// The block's quantiser (the frame's base plus the block's delta).
        public var qp: Int
    }

    /// Which codec's quantiser scale the values are on (`h264`, `vp9`, `mpeg2`).
    public var scale: String
    /// The frame's base quantiser (H.264: the PPS's initial QP_Y).
    public var baseQP: Int
    /// Per-block quantisers, in the decoder's order (H.264: macroblocks in raster order). Empty when the
    /// codec exports a frame-level value only.
    public var blocks: [Block]

    /// Creates a map.
    public init(scale: String, baseQP: Int, blocks: [Block]) {
        self.scale = scale
        self.baseQP = baseQP
        self.blocks = blocks
    }

    /// Area-weighted mean quantiser of the picture (the base QP when there are no blocks).
    public var meanQP: Double {
        var weighted = 0.0, area = 0.0
        for b in self.blocks {
            let a = Double(b.width * b.height)
            weighted += a * Double(b.qp)
            area += a
        }
        return area > 0 ? weighted / area : Double(self.baseQP)
    }
}

extension Frame {
    /// The decoder's per-block quantisers for this picture, or nil when the decoder exported none (HEVC in
    /// FFmpeg 5.1, raw video, images, frames made by the pipeline itself).
    public var quantisers: QuantiserMap? {
        guard let sd = av_frame_get_side_data(self.pointer, AV_FRAME_DATA_VIDEO_ENC_PARAMS), let raw = sd.pointee.data,
              sd.pointee.size >= MemoryLayout<AVVideoEncParams>.size else { return nil }
        let params = UnsafeMutableRawPointer(raw).assumingMemoryBound(to: AVVideoEncParams.self)
        let scale: String
        switch params.pointee.type {
        case AV_VIDEO_ENC_PARAMS_H264: scale = "h264"
        case AV_VIDEO_ENC_PARAMS_VP9: scale = "vp9"
        case AV_VIDEO_ENC_PARAMS_MPEG2: scale = "mpeg2"
        default: return nil
        }
        let base = Int(params.pointee.qp)
        let count = Int(params.pointee.nb_blocks)
        // The block array lies inside the side data; never read past what the decoder allocated.
        let end = Int(params.pointee.blocks_offset) + count * Int(params.pointee.block_size)
        guard count == 0 || end <= Int(sd.pointee.size) else { return nil }
        var blocks: [QuantiserMap.Block] = []
        blocks.reserveCapacity(count)
        for i in 0..<count {
            guard let b = av_video_enc_params_block(params, UInt32(i)) else { return nil }
            blocks.append(QuantiserMap.Block(x: Int(b.pointee.src_x), y: Int(b.pointee.src_y), width: Int(b.pointee.w),
                                             height: Int(b.pointee.h), qp: base + Int(b.pointee.delta_qp)))
        }
        return QuantiserMap(scale: scale, baseQP: base, blocks: blocks)
    }

    /// Mean quantiser of this picture (``QuantiserMap/meanQP``), or nil when unknown.
    public var meanQP: Double? { self.quantisers?.meanQP }
}

extension Decoder {
    /// Asks the decoder to export per-block quantisers (`export_side_data` `venc_params`); decoders that
    /// cannot (HEVC in FFmpeg 5.1) ignore the flag. Frame threading is turned off: FFmpeg 5.1's H.264
    /// decoder then exports the table of a picture whose buffers another thread may already reuse, and
    /// about one frame in 40 came out with wrong QPs (all zero, or another frame's) in our tests. Slice
    /// threads are exact. Called before `avcodec_open2`.
    static func requestQuantisers(_ context: UnsafeMutablePointer<AVCodecContext>) {
        context.pointee.export_side_data |= Int32(AV_CODEC_EXPORT_DATA_VIDEO_ENC_PARAMS)
        context.pointee.thread_type = FF_THREAD_SLICE
    }
}
