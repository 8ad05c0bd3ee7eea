import Foundation
import SlicePipeline
import XCTest

final class BoundedQueueTests: XCTestCase {
    func testKeepsOrderAndEndsWhenProducerFinishes() {
        let queue = BoundedQueue<Int>(capacity: 3)
        DispatchQueue.global().async {
            for i in 0..<100 { queue.push(i) }
            queue.finish()
        }
        var seen: [Int] = []
        while let x = queue.pop() { seen.append(x) }
        XCTAssertEqual(seen, Array(0..<100))
        XCTAssertLessThanOrEqual(queue.maximumDepth, 3)
    }

    func testPushBlocksWhileFull() {
        let queue = BoundedQueue<Int>(capacity: 2)
        XCTAssertTrue(queue.tryPush(1))
        XCTAssertTrue(queue.tryPush(2))
        XCTAssertFalse(queue.tryPush(3), "a full queue refuses without waiting")
        let pushed = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            queue.push(3)
            pushed.signal()
        }
        XCTAssertEqual(pushed.wait(timeout: .now() + 0.2), .timedOut, "push must wait for room")
        XCTAssertEqual(queue.pop(), 1)
        XCTAssertEqual(pushed.wait(timeout: .now() + 5), .success)
        XCTAssertEqual(queue.depth, 2)
    }

    func testEndsOnlyWhenEveryProducerFinished() {
        let queue = BoundedQueue<Int>(capacity: 4, producers: 2)
        queue.push(1)
        queue.finish()
        XCTAssertEqual(queue.pop(), 1)
        let ended = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            XCTAssertNil(queue.pop())
            ended.signal()
        }
        XCTAssertEqual(ended.wait(timeout: .now() + 0.2), .timedOut, "one producer is still open")
        queue.finish()
        XCTAssertEqual(ended.wait(timeout: .now() + 5), .success)
    }

    func testCancelWakesBlockedProducersAndConsumers() {
        let full = BoundedQueue<Int>(capacity: 1)
        full.push(0)
        let empty = BoundedQueue<Int>(capacity: 1)
        let done = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            XCTAssertFalse(full.push(1))
            done.signal()
        }
        DispatchQueue.global().async {
            XCTAssertNil(empty.pop())
            done.signal()
        }
        usleep(100_000)
        full.cancel()
        empty.cancel()
        XCTAssertEqual(done.wait(timeout: .now() + 5), .success)
        XCTAssertEqual(done.wait(timeout: .now() + 5), .success)
        XCTAssertNil(full.pop(), "cancelled queues drop what they held")
    }
}

final class StageStatisticsTests: XCTestCase {
    func testMeanAndP99OverTheWindow() {
        let stats = StageStatistics(name: "x")
        for i in 1...100 { stats.record(nanoseconds: UInt64(i) * 1_000_000) }
        stats.countIn(100)
        stats.countOut(99)
        stats.countDropped()
        let s = stats.snapshot()
        XCTAssertEqual(s.meanMilliseconds, 50.5, accuracy: 1e-9)
        XCTAssertEqual(s.p99Milliseconds, 99, accuracy: 1e-9)
        XCTAssertEqual(s.itemsIn, 100)
        XCTAssertEqual(s.itemsOut, 99)
        XCTAssertEqual(s.dropped, 1)
        XCTAssertEqual(s.busySeconds, 5.05, accuracy: 1e-9)
    }

    func testWindowIsBounded() {
        let stats = StageStatistics(name: "x")
        for _ in 0..<5000 { stats.record(nanoseconds: 1_000_000) }
        for _ in 0..<1024 { stats.record(nanoseconds: 2_000_000) }
        XCTAssertEqual(stats.snapshot().meanMilliseconds, 2, accuracy: 1e-9, "old samples leave the window")
    }
}
