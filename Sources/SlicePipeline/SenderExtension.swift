import SliceMedia

/// Sender-side work that rides on the pipeline without the pipeline knowing what it is: today content
/// adaptation (the `SliceAdaptation` module). The pipeline builds it when it opens and calls it from two
/// stages: the transform stage hands every working frame to ``originals`` before transforming it, and the
/// encode stage, per frame, asks for SEI payloads before encoding and shows the packets after. Only the
/// encode stage calls the methods, so an implementation need not be thread-safe apart from ``originals``.
public protocol SenderExtension: AnyObject {
    /// The receiver model the stream tag must name (catalogue name and short hash), when receivers must
    /// run that very model; nil leaves the tag as configured.
    var receiverModel: (name: String, hash: String)? { get }
    /// Where the transform stage puts each working frame before transforming it.
    var originals: any OriginalFrameSink { get }
    /// Called once, after the encoder is open, with the stream receivers will decode.
    func prepare(encodedStream: StreamParameters) throws
    /// SEI payloads to attach to the frame about to be encoded at `encoderPTS`, whose input pts was
    /// `inputPTS`; `mediaTime` is `encoderPTS` in seconds.
    func payloads(encoderPTS: Int64, inputPTS: Int64?, mediaTime: Double) -> [[UInt8]]
    /// The packets the encoder produced after that frame (possibly none).
    func encoded(_ packets: [Packet], mediaTime: Double) throws
    /// Ends the work. `drain` (the input ended by itself) lets work in flight finish; `abortIf` turns a
    /// drain into an abort (a stop request arriving meanwhile). Safe to call more than once.
    func finish(drain: Bool, abortIf: () -> Bool)
    /// Counters for the pipeline report.
    var report: AdaptationReport { get }
}

/// Receives the sender's original frames from the transform stage (thread-safe).
public protocol OriginalFrameSink: Sendable {
    /// Keeps what it needs of `frame` (at the pipeline's working size, yuv420p).
    func put(_ frame: Frame)
}
