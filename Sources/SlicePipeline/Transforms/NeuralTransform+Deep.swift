import SliceEngine
import SliceMedia

extension NeuralTransform {
    /// Runs the luma of a 10-bit frame through the engine's 16-bit plane path (FFmpeg's planes are
    /// 64-byte aligned, so their strides are whole samples).
    func runDeep(frame: Frame, output: Frame, lumaIn: Size, alongside: (@Sendable () throws -> Void)?) throws {
        let bits = self.format.bitDepth
        let input = UnsafeRawPointer(frame.data(0)).assumingMemoryBound(to: UInt16.self)
        let target = UnsafeMutableRawPointer(output.data(0)).assumingMemoryBound(to: UInt16.self)
        try self.engineForDeepPath.run(
            input: Plane16(base: input, stride: frame.stride(0) / 2, width: lumaIn.width, height: lumaIn.height, bitDepth: bits),
            output: MutablePlane16(base: target, stride: output.stride(0) / 2, width: self.outputSize.width, height: self.outputSize.height, bitDepth: bits),
            alongside: alongside)
    }
}
