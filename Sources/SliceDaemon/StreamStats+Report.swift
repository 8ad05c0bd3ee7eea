import SliceControl
import SlicePipeline

// The conversions from the pipeline's report to the control protocol's stats, kept together in one file:
// SliceControl cannot see `PipelineReport` (it links Foundation only), and a change to the report should
// need an edit here and nowhere else.

extension StreamStats {
    /// The counters of a stream from its pipeline's report (nil: it has not run yet); the supervisor adds
    /// what it knows itself (state, uptime, fps, restarts, its last error).
    init(name: String, role: String, state: String, uptimeSeconds: Double, input: String, output: String, fps: Double,
         restarts: Int, lastError: String?, report: PipelineReport?) {
        let stages = report?.stages.map(StageStats.init(snapshot:)) ?? []
        self.init(
            name: name, role: role, state: state, uptimeSeconds: uptimeSeconds,
            input: input, output: output, transform: report?.transform ?? "-",
            framesIn: report?.framesDecoded ?? 0, framesOut: report?.framesEncoded ?? 0, framesDropped: report?.framesDropped ?? 0,
            framesDegraded: report?.framesDegraded ?? 0, fps: fps,
            inputBitRate: report?.recentInputBitRate ?? 0,
            outputBitRate: report?.recentVideoBitRate ?? 0, stages: stages,
            pipelineLatencyMilliseconds: stages.reduce(0) { $0 + $1.meanMilliseconds },
            reconnects: report?.reconnects ?? 0, restarts: restarts,
            lastError: lastError ?? report?.lastInputError, corruptPackets: report?.corruptPackets ?? 0)
        self.rateWindowSeconds = RateWindow.seconds
        self.inputBytes = report?.inputBytes ?? 0
        self.outputBytes = report?.videoBytes ?? 0
        self.encoderReopens = report?.encoderReopens ?? 0
        self.precision = report?.precision
        self.inputSize = report?.inputSize
        self.outputSize = report?.outputSize
        self.media = report?.media.map {
            MediaStats(workingFormat: $0.workingFormat, primaries: $0.primaries, transfer: $0.transfer, matrix: $0.matrix, range: $0.range,
                       chromaLocation: $0.chromaLocation, hdr: $0.hdr, notices: $0.notices)
        }
        self.resolution = report?.resolution.map(ResolutionStats.init(report:))
    }
}

extension StageStats {
    /// The protocol's copy of a stage snapshot.
    public init(snapshot: StageSnapshot) {
        self.init(name: snapshot.name, itemsIn: snapshot.itemsIn, itemsOut: snapshot.itemsOut, dropped: snapshot.dropped,
                  meanMilliseconds: snapshot.meanMilliseconds, p99Milliseconds: snapshot.p99Milliseconds,
                  busySeconds: snapshot.busySeconds)
        self.latency = snapshot.latency.map {
            HistogramStats(boundsSeconds: LatencyHistogram.boundsSeconds, counts: $0.counts, sumSeconds: $0.sumSeconds)
        }
    }
}

extension AdaptationStats {
    /// Creates the stats from a pipeline report (nil when the stream does not adapt).
    public init?(report: PipelineReport) {
        guard let a = report.adaptation else { return nil }
        // A struct from another module must be built through one of its own initialisers.
        self.init(
            mode: a.mode,
            updatesSent: a.updatesSent,
            updateBytes: a.updateBytes,
            updateBitRate: report.updateBitRate,
            updateShare: report.updateShare,
            rounds: a.rounds,
            roundsAborted: a.roundsAborted,
            deferred: a.deferred,
            lastGain: a.lastGain,
            cpuSeconds: a.cpuSeconds,
            cpuShare: report.adaptationCPUShare,
            sceneResets: a.sceneResets,
            rejected: a.rejected,
            rejectedInARow: a.rejectedInARow,
            threadNice: a.threadNice,
            error: a.error)
    }
}

extension ModelUpdateStats {
    /// Creates the stats from a pipeline report.
    public init(report: PipelineReport) {
        self.init(
            generation: report.updates.generation,
            received: report.updates.received,
            applied: report.updates.applied,
            rejected: report.updates.rejected,
            updateBytes: report.updates.bytes,
            updateBitRate: report.receivedUpdateBitRate,
            droppedChunks: report.updates.droppedChunks,
            droppedBytes: report.updates.droppedBytes,
            tagsRejected: report.updates.tagsRejected)
        self.switchedToFloat = report.updates.switchedToFloat
    }
}

extension ResolutionStats {
    /// The protocol's copy of a sender's resolution counters.
    init(report r: ResolutionReport) {
        self.init(mode: r.mode, secondsFull: r.secondsFull, secondsHalf: r.secondsHalf, framesFull: r.framesFull, framesHalf: r.framesHalf,
                  segmentsFull: r.segmentsFull, segmentsHalf: r.segmentsHalf, switches: r.switches, decisions: r.decisions,
                  lastDecision: r.lastDecision, lastMarginDB: r.lastMarginDB, lastReason: r.lastReason, probeCPUSeconds: r.probeSeconds)
    }
}
