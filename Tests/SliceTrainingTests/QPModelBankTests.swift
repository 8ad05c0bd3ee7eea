import SliceModels
import SliceTraining
import XCTest

/// Choosing a bank member by the decoder's QP, and the three-point BD-rate the low-rate evaluation reports.
final class QPModelBankTests: XCTestCase {
    func testFramesGoToTheirQPRangeAndUnknownQPToTheFallback() throws {
        let models = try ["sr2x", "sr2x", "sr2x"].map { try ModelRegistry.resolve("untrained:" + $0) }
        let bank = try QPModelBank(thresholds: [30, 36], models: models, fallback: try ModelRegistry.resolve("untrained:sr2x"))
        XCTAssertEqual(bank.index(for: 12), 0)
        XCTAssertEqual(bank.index(for: 29.9), 0)
        XCTAssertEqual(bank.index(for: 30), 1)
        XCTAssertEqual(bank.index(for: 35.99), 1)
        XCTAssertEqual(bank.index(for: 36), 2)
        XCTAssertEqual(bank.index(for: 51), 2)
        XCTAssertNil(bank.index(for: nil))
    }

    func testMalformedBanksAreRefused() throws {
        let sr = try ModelRegistry.resolve("untrained:sr2x"), hq = try ModelRegistry.resolve("untrained:sr2x-hq")
        XCTAssertThrowsError(try QPModelBank(thresholds: [30], models: [sr, sr, sr], fallback: sr))
        XCTAssertThrowsError(try QPModelBank(thresholds: [36, 30], models: [sr, sr, sr], fallback: sr))
        XCTAssertThrowsError(try QPModelBank(thresholds: [30], models: [sr, hq], fallback: sr)) { error in
            XCTAssertTrue("\(error)".contains("untrained:sr2x-hq"), "\(error)")
        }
    }

    func testThreePointBDRate() throws {
        let reference = [(bytes: 1000, psnr: 30.0), (bytes: 2000, psnr: 33.0), (bytes: 4000, psnr: 36.0)]
        // The same PSNR for 10 % fewer bytes at every point: −10 %.
        let cheaper = reference.map { (bytes: Int(Double($0.bytes) * 0.9), psnr: $0.psnr) }
        XCTAssertEqual(try XCTUnwrap(LowRateEvaluation.bdRate(reference: reference, test: cheaper)), -10, accuracy: 0.2)
        // +0.5 dB at the same bytes on a 3 dB-per-doubling curve: 2^(−0.5/3) − 1 = −10.9 %.
        let better = reference.map { (bytes: $0.bytes, psnr: $0.psnr + 0.5) }
        XCTAssertEqual(try XCTUnwrap(LowRateEvaluation.bdRate(reference: reference, test: better)), -10.9, accuracy: 0.2)
        XCTAssertEqual(try XCTUnwrap(LowRateEvaluation.bdRate(reference: reference, test: reference)), 0, accuracy: 1e-9)
        XCTAssertNil(LowRateEvaluation.bdRate(reference: reference, test: [(bytes: 10, psnr: 10), (bytes: 20, psnr: 12)]), "no overlap")
    }
}
