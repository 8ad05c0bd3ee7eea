/// The int8 twin of a sub-pixel upsampler (`sr2x` class): int8 weights and activations with int32
/// accumulation, float requantisation multipliers, and the float bicubic base and output stage of the
/// float model. The arithmetic is specified once, in `slice_kernels_q8.h`; this type only carries the
/// numbers the kernel takes, so a quantiser (training side) and the kernel (engine side) meet here.
public struct SubPixelQ8Net: Sendable, Equatable {
    /// One depthwise-separable residual block.
    public struct Block: Sendable, Equatable {
        /// Depthwise weights `[C][k][k]`, in [-127, 127].
        public var depthwiseWeight: [Int8]
        /// Depthwise biases `[C]`, in accumulator units.
        public var depthwiseBias: [Int32]
        /// Depthwise requantisation multipliers `[C]`.
        public var depthwiseScale: [Float]
        /// Depthwise activation and its per-channel slopes (PReLU), if any.
        public var depthwiseActivation: Activation
        public var depthwiseSlope: [Float]
        /// Pointwise weights `[C][C]`, output-channel major.
        public var pointwiseWeight: [Int8]
        public var pointwiseBias: [Int32]
        public var pointwiseScale: [Float]
        public var pointwiseActivation: Activation
        public var pointwiseSlope: [Float]
        /// Scale of the block's input over the scale of its output (the residual's requantisation).
        public var residualScale: Float

        public init(depthwiseWeight: [Int8], depthwiseBias: [Int32], depthwiseScale: [Float],
                    depthwiseActivation: Activation, depthwiseSlope: [Float],
                    pointwiseWeight: [Int8], pointwiseBias: [Int32], pointwiseScale: [Float],
                    pointwiseActivation: Activation, pointwiseSlope: [Float], residualScale: Float) {
            self.depthwiseWeight = depthwiseWeight
            self.depthwiseBias = depthwiseBias
            self.depthwiseScale = depthwiseScale
            self.depthwiseActivation = depthwiseActivation
            self.depthwiseSlope = depthwiseSlope
            self.pointwiseWeight = pointwiseWeight
            self.pointwiseBias = pointwiseBias
            self.pointwiseScale = pointwiseScale
            self.pointwiseActivation = pointwiseActivation
            self.pointwiseSlope = pointwiseSlope
            self.residualScale = residualScale
        }
    }

    /// Feature channels C.
    public var channels: Int
    /// Head and depthwise kernel size k.
    public var kernel: Int
    /// Keys `a` of the bicubic base.
    public var bicubicA: Float
    /// Head conv weights `[C][k][k]` (one input channel: the u8 pixel itself).
    public var headWeight: [Int8]
    public var headBias: [Int32]
    public var headScale: [Float]
    public var headActivation: Activation
    public var headSlope: [Float]
    public var blocks: [Block]
    /// Tail pointwise weights `[4][C]`; its output is float in the model's real units.
    public var tailWeight: [Int8]
    public var tailBias: [Int32]
    public var tailScale: [Float]
    public var tailActivation: Activation
    public var tailSlope: [Float]

    public init(channels: Int, kernel: Int, bicubicA: Float, headWeight: [Int8], headBias: [Int32],
                headScale: [Float], headActivation: Activation, headSlope: [Float], blocks: [Block],
                tailWeight: [Int8], tailBias: [Int32], tailScale: [Float], tailActivation: Activation,
                tailSlope: [Float]) {
        self.channels = channels
        self.kernel = kernel
        self.bicubicA = bicubicA
        self.headWeight = headWeight
        self.headBias = headBias
        self.headScale = headScale
        self.headActivation = headActivation
        self.headSlope = headSlope
        self.blocks = blocks
        self.tailWeight = tailWeight
        self.tailBias = tailBias
        self.tailScale = tailScale
        self.tailActivation = tailActivation
        self.tailSlope = tailSlope
    }
}
