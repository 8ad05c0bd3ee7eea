import ArgumentParser
import Foundation
import SliceMedia
import SliceEngine
import SliceQA

/// `slicestream qa`: runs the test vectors and compares every output frame with its framemd5 reference.
struct QACommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "qa", abstract: "Run test vectors and compare output frames with their framemd5 references.", discussion: CommandExamples.of("qa"))

    @Argument(help: "Vector directory (holding manifest.yaml); same as --vectors.") var directory: String?
    @Option(help: "Vector directory (default: $SLICESTREAM_TESTVECTORS, the checkout, then PREFIX/share/slicestream/testvectors).") var vectors: String?
    @Option(help: "Run only this vector (repeatable).") var vector: [String] = []
    @Flag(help: "Regenerate the references and expected PSNRs (on purpose only; review the diff). Nothing is written unless every selected vector runs, matches FFmpeg where anchored, and keeps its PSNR-Y.") var update = false
    @Flag(name: .customLong("accept-quality-change"), help: "With --update: accept a mean PSNR-Y drop of more than \(QAGate.maximumDrop) dB (say why in the commit).") var acceptQualityChange = false
    @Flag(name: .customLong("check-psnr"), help: "Also measure each vector's output against its source and check it with FFmpeg's psnr filter.") var checkPSNR = false
    @Flag(help: "Print JSON.") var json = false
    @Option(name: .customLong("keep-failures"), help: "Keep each failing vector's output in DIR/<vector>/ with a luma error heat map (PNG) per mismatching frame and a PSNR-Y per frame plot (SVG).")
    var keepFailures: String?

    func run() throws {
        ReproducibleHeap.enable()
        let directory: URL
        do {
            directory = try TestVectorLocator(flag: self.directory ?? self.vectors).locate()
        } catch {
            throw reportFailure(error)
        }
        let runner = QARunner(directory: directory)
        var manifest: TestVectorManifest
        do {
            manifest = try runner.manifest()
        } catch {
            throw reportFailure(error)
        }
        let unknown = Set(self.vector).subtracting(manifest.vectors.map(\.name))
        if !unknown.isEmpty { throw reportFailure(QAError("no vector named \(unknown.sorted().joined(separator: ", "))")) }
        var results: [VectorResult] = []
        let staging = FileManager.default.temporaryDirectory.appendingPathComponent("slicestream-qa-update-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: staging) }
        var updated = manifest
        for (i, vector) in manifest.vectors.enumerated() where self.vector.isEmpty || self.vector.contains(vector.name) {
            var (result, changed) = runner.run(vector, staging: self.update ? staging : nil, checkPSNR: self.checkPSNR,
                                               keepFailures: self.keepFailures.map { URL(fileURLWithPath: $0) })
            if self.update, result.error == nil, let refusal = QAGate.refusal(result, accepted: self.acceptQualityChange) {
                result.error = refusal
                result.passed = false
            }
            updated.vectors[i] = changed
            results.append(result)
            if !self.json { Self.printResult(result, update: self.update) }
        }
        if self.update {
            // All or nothing: a failed or refused vector leaves every reference and the manifest as they were.
            if results.allSatisfy(\.passed) {
                try QAGate.commit(staging: staging, into: directory)
                try updated.write(path: directory.appendingPathComponent("manifest.yaml").path)
            } else if !self.json {
                print("qa: nothing written (\(results.filter { !$0.passed }.count) vectors failed or were refused)")
            }
        }
        let failed = results.filter { !$0.passed }.count
        if self.json {
            try printJSON(results)
        } else {
            print("CPU level \(CPULevel.active)")
            print("qa: \(results.count - failed) passed, \(failed) failed")
        }
        if failed > 0 { throw ExitCode(1) }
    }

    static func printResult(_ r: VectorResult, update: Bool) {
        let verdict = update ? (r.passed ? "UPDATED" : "REFUSED") : (r.passed ? "PASS" : "FAIL")
        print(verdict.padding(toLength: 8, withPad: " ", startingAt: 0) + r.name.padding(toLength: 36, withPad: " ", startingAt: 0)
              + String(format: "%4d frames  %6.2f s", r.frames, r.seconds)
              + (r.anchored == true ? "  = FFmpeg" : "")
              + (r.psnrChange.map { String(format: "  PSNR-Y %+.3f dB", $0) } ?? ""))
        if let e = r.error { print("        error: \(e)") }
        if let kept = r.keptFailure { print("        kept in \(kept)") }
        if !r.passed && !update && r.error == nil {
            print("        \(r.mismatchedFrames) of \(max(r.frames, r.expectedFrames)) frames differ; first: frame \(r.firstMismatch ?? -1)"
                  + (r.firstMismatchPlanes.map { " (planes \($0.joined(separator: ",")))" } ?? ""))
            for m in r.mismatchPSNR.prefix(5) {
                print(String(format: "        frame %d: PSNR-Y %.3f dB", m.frame, m.psnr) + (m.expectedPSNR.map { String(format: " (reference %.3f dB)", $0) } ?? ""))
            }
        }
    }
}
