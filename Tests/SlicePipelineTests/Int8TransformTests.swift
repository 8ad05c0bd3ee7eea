import SliceEngine
import SliceMedia
import SliceModels
@testable import SlicePipeline
import SliceTestSupport
import SliceUpdate
import XCTest

/// The receiver's int8 path: `NeuralTransform` at `precision: int8` is exactly ``QuantizedSubPixel`` on the
/// luma (chroma as in float), `auto` follows the CPU's fast path, and an applied in-band update moves the
/// stream to float with the new weights.
final class Int8TransformTests: XCTestCase {
    private let size = Size(width: 96, height: 64)

    /// A yuv420p frame with gradients plus noise in every plane.
    private static func frame(_ size: Size, seed: UInt64) throws -> Frame {
        let frame = try Frame(size: size, format: .yuv420p)
        var rng = SplitMix64(seed: seed)
        for plane in 0..<3 {
            let w = plane == 0 ? size.width : (size.width + 1) / 2
            let h = plane == 0 ? size.height : (size.height + 1) / 2
            for y in 0..<h {
                let row = frame.data(plane) + y * frame.stride(plane)
                for x in 0..<w { row[x] = UInt8(max(0, min(255, Double((x * 3 + y * 5 + plane * 40) % 256) + (rng.nextUnit() - 0.5) * 60))) }
            }
        }
        return frame
    }

    /// The visible bytes of each plane.
    private static func planes(_ frame: Frame) -> [[UInt8]] {
        (0..<3).map { plane in
            let w = plane == 0 ? frame.size.width : (frame.size.width + 1) / 2
            let h = plane == 0 ? frame.size.height : (frame.size.height + 1) / 2
            return (0..<h).flatMap { y in Array(UnsafeBufferPointer(start: frame.data(plane) + y * frame.stride(plane), count: w)) }
        }
    }

    func testInt8LumaIsQuantizedSubPixelBitForBitAndChromaIsTheFloatOnes() throws {
        let model = try ModelRegistry.resolve("sr2x")
        let twin = try XCTUnwrap(try ModelRegistry.int8Twin(of: "sr2x"))
        let input = try Self.frame(self.size, seed: 5)
        let int8 = try NeuralTransform(model: model, inputSize: self.size, threads: 2, tileRows: 16, tileColumns: 16, precision: .int8)
        XCTAssertEqual(int8.precision, .int8)
        XCTAssertEqual(int8.tags["slicestream_precision"], "int8")
        XCTAssertFalse(int8.usesFusedKernel, "the float engine is not built while the twin runs")
        let got = Self.planes(try int8.process(input))

        // The engine alone, other tiles and one thread: the transform adds nothing to the kernel's luma.
        let engine = try QuantizedSubPixel(net: twin, tileRows: 32, tileColumns: 48, threads: 1)
        let luma = [UInt8](unsafeUninitializedCapacity: 4 * self.size.area) { buffer, count in
            count = 4 * self.size.area
            try? engine.run(input: Plane8(base: input.data(0), stride: input.stride(0), width: self.size.width, height: self.size.height),
                            output: MutablePlane8(base: buffer.baseAddress!, stride: 2 * self.size.width, width: 2 * self.size.width, height: 2 * self.size.height))
        }
        XCTAssertTrue(got[0] == luma, "int8 luma differs from QuantizedSubPixel's")
        let float = try NeuralTransform(model: model, inputSize: self.size, threads: 2, tileRows: 16, tileColumns: 16, precision: .float)
        let floatPlanes = Self.planes(try float.process(input))
        XCTAssertFalse(got[0] == floatPlanes[0], "the int8 luma is the twin's, not the float model's")
        XCTAssertTrue(got[1] == floatPlanes[1] && got[2] == floatPlanes[2], "chroma is swscale lanczos whatever the precision")
        // Chroma overlapped beside the int8 tiles gives the serial bytes.
        int8.overlapsChroma = false
        XCTAssertTrue(Self.planes(try int8.process(input)) == got, "overlapped chroma changed the bytes")
    }

    /// Whether /proc/cpuinfo lists what the VNNI body needs (read independently of the dispatcher).
    private static var cpuHasVNNI: Bool {
        let info = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let flags = Set(info.split(separator: "\n").first { $0.hasPrefix("flags") }?.split(separator: " ").map(String.init) ?? [])
        return flags.isSuperset(of: ["avx512f", "avx512bw", "avx512vl", "avx512_vnni", "avx512vbmi"])
    }

    func testAutoPicksInt8OnlyWithTheFastPathAndATwin() throws {
        let sr2x = try ModelRegistry.resolve("sr2x")
        let saved = CPULevel.active
        defer { CPULevel.force(saved) }
        for level in CPULevel.supported {
            CPULevel.force(level)
            // The reference and AVX2 bodies are no fast path, even on a VNNI CPU: dispatch says so.
            let fast = level == .avx512 && Self.cpuHasVNNI
            XCTAssertEqual(QuantizedSubPixel.hasFastPath, fast, "\(level): the fast path is the AVX-512 level on a VNNI + VBMI CPU")
            let auto = try NeuralTransform(model: sr2x, inputSize: self.size, threads: 1, precision: .auto)
            XCTAssertEqual(auto.precision, fast ? .int8 : .float, "\(level): \(auto.precisionReason)")
        }
        // No twin: auto is float, an explicit int8 a typed error.
        let noTwin = try ModelRegistry.resolve("slice2x-up")
        XCTAssertEqual(try NeuralTransform(model: noTwin, inputSize: self.size, threads: 1, precision: .auto).precision, .float)
        XCTAssertThrowsError(try NeuralTransform(model: noTwin, inputSize: self.size, threads: 1, precision: .int8)) { error in
            XCTAssertEqual((error as? PrecisionError)?.code, .noTwin, "\(error)")
        }
        // Weights that are not the twin's float model (same name, other hash) get no twin.
        var rng = SplitMix64(seed: 3)
        let other = try Model(name: "sr2x", architecture: sr2x.architecture, parameters: try ParameterStore(
            network: sr2x.network, values: Dictionary(uniqueKeysWithValues: sr2x.parameters.specs.map { spec in
                (spec.name, sr2x.parameters.values(spec.name)!.map { $0 + Float(rng.nextUnit() - 0.5) * 0.01 })
            })))
        XCTAssertThrowsError(try NeuralTransform(model: other, inputSize: self.size, threads: 1, precision: .int8))
        // 10-bit frames stay float even when int8 is asked (the kernel takes 8-bit planes).
        let deep = try NeuralTransform(model: sr2x, inputSize: self.size, format: .yuv420p10le, threads: 1, precision: .int8)
        XCTAssertEqual(deep.precision, .float)
    }

    func testAnAppliedUpdateSwitchesToFloatWithTheNewWeights() throws {
        let model = try ModelRegistry.resolve("sr2x")
        var rng = SplitMix64(seed: 9)
        var weights: [Float] = []
        for spec in model.parameters.specs {
            weights += model.parameters.values(spec.name)!.map { $0 + Float(rng.nextUnit() - 0.5) * 0.02 }
        }
        let update = ModelUpdate(sequence: 1, base: model, weights: weights)
        let updated = try Model(name: model.name, architecture: model.architecture,
                                parameters: try update.parameters(base: model.parameters, network: model.network))
        let int8 = try NeuralTransform(model: model, inputSize: self.size, threads: 2, tileRows: 16, tileColumns: 16, precision: .int8)
        let reference = try NeuralTransform(model: updated, inputSize: self.size, threads: 2, tileRows: 16, tileColumns: 16, precision: .float)
        let stale = try NeuralTransform(model: model, inputSize: self.size, threads: 2, tileRows: 16, tileColumns: 16, precision: .int8)

        let before = try Self.frame(self.size, seed: 21)
        XCTAssertTrue(Self.planes(try int8.process(before)) == Self.planes(try stale.process(before)))
        XCTAssertEqual(int8.precision, .int8)

        let carrying = try Self.frame(self.size, seed: 22)
        for payload in update.seiPayloads() { try carrying.addUserDataSEI(payload) }
        let switched = Self.planes(try int8.process(carrying))
        XCTAssertEqual(int8.updateCounters.applied, 1)
        XCTAssertEqual(int8.updateCounters.switchedToFloat, 1)
        XCTAssertEqual(int8.precision, .float)
        XCTAssertEqual(int8.tags["slicestream_precision"], "float")
        // From the frame that completes the update: the float model with the new weights, bit for bit.
        XCTAssertTrue(switched == Self.planes(try reference.process(carrying)), "the update's frame is not the updated float model's")
        let after = try Self.frame(self.size, seed: 23)
        XCTAssertTrue(Self.planes(try int8.process(after)) == Self.planes(try reference.process(after)), "later frames are not the updated float model's")
        XCTAssertFalse(Self.planes(try stale.process(after)) == Self.planes(try reference.process(after)), "the stale twin would differ")
    }

    func testPipelineReportsThePrecision() throws {
        let media = try TestMedia()
        let source = try media.makeClip("s.mkv", size: Size(width: 128, height: 96), seconds: 1)
        var expected: [(TransformSpec, InferencePrecision, String?)] = [
            (.learned("sr2x"), .int8, "int8"), (.learned("sr2x"), .float, "float"), (.upscale2x(.lanczos), .int8, nil),
            (.learned("sr2x"), .auto, QuantizedSubPixel.hasFastPath ? "int8" : "float"),
        ]
        if InferencePrecision.environmentOverride != nil { expected.removeLast() }
        for (i, (transform, precision, want)) in expected.enumerated() {
            var config = PipelineConfiguration(input: source, output: media.path("o\(i).mkv"), transform: transform)
            config.maximumFrames = 3
            config.precision = precision
            let report = try Pipeline(configuration: config).run()
            XCTAssertEqual(report.precision, want, "\(transform) at \(precision)")
        }
        // The CLI's default is auto; the library's float (what embedding code pinned before stays).
        XCTAssertEqual(StreamRecipe(role: .receiver, input: "a", output: "b").precision, .auto)
        XCTAssertEqual(try StreamRecipe(role: .sender, input: "a", output: "b").pipelineConfiguration().precision, .float)
    }
}
