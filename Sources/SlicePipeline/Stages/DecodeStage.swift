import SliceMedia
import SliceUpdate

/// Decodes video packets into frames. A damaged packet is counted and skipped; a new input session
/// (reconnect, loop) arrives as a new decoder, and the old one is drained first. It also reads the
/// in-band stream tag and enforces the frame limit.
final class DecodeStage {
    /// The decode stage's counters.
    struct Counters {
        var framesDecoded = 0
        var corruptPackets = 0
        /// Frames the decoder returned with damage concealed (errors inside a packet it could still use).
        var damagedFrames = 0
        /// The last SliceStream tag seen (in-band, or the container's until one is).
        var inputTag: StreamTag? = nil
    }

    private let state: PipelineState
    private let stats: StageStatistics
    private let input: BoundedQueue<DecodeItem>
    private let output: BoundedQueue<Frame>
    private var decoder: Decoder
    private var corruptBefore = 0
    private var damagedBefore = 0
    private var decoded: [Frame] = []
    private var limitReached = false

    init(state: PipelineState, stats: StageStatistics, input: BoundedQueue<DecodeItem>, output: BoundedQueue<Frame>, decoder: Decoder) {
        self.state = state
        self.stats = stats
        self.input = input
        self.output = output
        self.decoder = decoder
    }

    func run() throws {
        defer { self.output.finish() }
        while let item = self.input.pop() {
            switch item {
            case .packet(let packet):
                self.stats.countIn()
                try self.stats.time { try self.decoder.decode(packet) { self.decoded.append($0) } }
                self.publishDamage()
            case .decoder(let next):
                // A new input session: drain what the old decoder holds, then switch.
                try self.stats.time { try self.decoder.decode(nil) { self.decoded.append($0) } }
                self.corruptBefore += self.decoder.corruptPackets
                self.damagedBefore += self.decoder.damagedFrames
                self.decoder = next.value
            }
            self.handOn()
        }
        if self.state.isHealthy {
            try self.stats.time { try self.decoder.decode(nil) { self.decoded.append($0) } }
            // The flush can report a held packet's damage too (a file cut inside its only packet).
            self.publishDamage()
            self.handOn()
        }
    }

    private func publishDamage() {
        let corrupt = self.corruptBefore + self.decoder.corruptPackets
        let damaged = self.damagedBefore + self.decoder.damagedFrames
        self.state.decode.withLock { c in
            c.corruptPackets = corrupt
            c.damagedFrames = damaged
        }
    }

    private func handOn() {
        for frame in self.decoded {
            if let limit = self.state.configuration.maximumFrames, self.state.decode.withLock({ $0.framesDecoded }) >= limit {
                if !self.limitReached {
                    self.limitReached = true
                    self.state.requestStop()
                }
                self.stats.countDropped()
                continue
            }
            let tag = StreamTag.find(in: frame)
            self.state.decode.withLock { c in
                c.framesDecoded += 1
                if let tag { c.inputTag = tag }
            }
            if self.output.push(frame) { self.stats.countOut() }
        }
        self.decoded.removeAll(keepingCapacity: true)
    }
}
