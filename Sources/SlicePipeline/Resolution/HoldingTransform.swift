import SliceMedia

/// A transform that may hold frames back for a short lookahead and then hand several on at once (the
/// sender's resolution decision probes a scene's first frames before sending any of them). The transform
/// stage calls ``take(_:)`` instead of ``FrameTransform/process(_:)``, and ``drain()`` at the end.
public protocol HoldingTransform: FrameTransform {
    /// Takes one frame; returns the frames ready to go on, in input order (possibly none).
    func take(_ frame: Frame) throws -> [Frame]
    /// At the end of the input: the frames still held.
    func drain() throws -> [Frame]
}
