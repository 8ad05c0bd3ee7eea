import CFFmpeg

extension PixelFormat {
    /// Whether samples are RGB (not YUV or gray).
    public var isRGB: Bool {
        guard let d = av_pix_fmt_desc_get(self.raw) else { return false }
        return (d.pointee.flags & UInt64(AV_PIX_FMT_FLAG_RGB)) != 0
    }

    /// Bits per sample of the first component (8 for yuv420p, 10 for yuv420p10le).
    public var bitDepth: Int {
        guard let d = av_pix_fmt_desc_get(self.raw) else { return 8 }
        return Int(d.pointee.comp.0.depth)
    }

    /// The deprecated full-range "J" formats (`yuvj420p`), full range whatever the frame says.
    var isJPEGRange: Bool { self.name.hasPrefix("yuvj") }
}

extension Scaler {
    /// What a conversion from `input` samples in `inputFormat` to `outputFormat` yields, and the colour
    /// tags that belong on the result. YUV input keeps its matrix and range (a full-range input stays
    /// full range, so nothing is squeezed twice); RGB input is converted with BT.709 coefficients for
    /// pictures 720 rows and up, BT.601 (SMPTE 170M) below, into limited range, and tagged so.
    public static func outputColor(input: ColorDescription, inputFormat: PixelFormat, outputFormat: PixelFormat, height: Int) -> ColorDescription {
        var c = input
        if outputFormat.isRGB {
            c.matrix = Int32(bitPattern: AVCOL_SPC_RGB.rawValue)
            c.range = Int32(bitPattern: AVCOL_RANGE_JPEG.rawValue)
            return c
        }
        if inputFormat.isRGB {
            c.matrix = height >= 720 ? Int32(bitPattern: AVCOL_SPC_BT709.rawValue) : Int32(bitPattern: AVCOL_SPC_SMPTE170M.rawValue)
            c.range = Int32(bitPattern: AVCOL_RANGE_MPEG.rawValue)
        } else if inputFormat.isJPEGRange {
            c.range = Int32(bitPattern: AVCOL_RANGE_JPEG.rawValue)
        }
        return c
    }

    /// Sets swscale's matrices and ranges to those of `color` (the input frame's) and the output's, on
    /// top of the defaults it chose (so an untagged input converts exactly as before: BT.601 tables,
    /// limited range). Without this a BT.709 or BT.2020 picture would go through RGB conversions with
    /// BT.601 coefficients and a full-range one would be squeezed to limited range.
    func configureColor(_ context: OpaquePointer, input color: ColorDescription, inputFormat: PixelFormat, output: ColorDescription) {
        var invTable: UnsafeMutablePointer<Int32>? = nil
        var table: UnsafeMutablePointer<Int32>? = nil
        var srcRange: Int32 = 0, dstRange: Int32 = 0, brightness: Int32 = 0, contrast: Int32 = 0, saturation: Int32 = 0
        guard sws_getColorspaceDetails(context, &invTable, &srcRange, &table, &dstRange, &brightness, &contrast, &saturation) >= 0,
              var inv = invTable.map({ UnsafePointer($0) }), var fwd = table.map({ UnsafePointer($0) }) else { return }
        // sws_getCoefficients takes H.273 matrix numbers (1 BT.709, 5/6 BT.601, 9/10 BT.2020, 2 → BT.601).
        if !inputFormat.isRGB, color.matrix != Int32(bitPattern: AVCOL_SPC_RGB.rawValue) { inv = sws_getCoefficients(color.matrix) }
        if !self.outputFormat.isRGB, output.matrix != Int32(bitPattern: AVCOL_SPC_RGB.rawValue) { fwd = sws_getCoefficients(output.matrix) }
        if !inputFormat.isRGB { srcRange = (color.isFullRange || inputFormat.isJPEGRange) ? 1 : 0 }
        if !self.outputFormat.isRGB { dstRange = output.isFullRange ? 1 : 0 }
        _ = sws_setColorspaceDetails(context, inv, srcRange, fwd, dstRange, brightness, contrast, saturation)
    }
}
