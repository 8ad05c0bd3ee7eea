import Foundation

/// A fixed-capacity FIFO linking two pipeline stages, with backpressure: `push` blocks while the queue is
/// full, `pop` blocks while it is empty. There is no unbounded queue anywhere in the pipeline; this is the
/// only way frames travel between stages.
///
/// Several producers may feed one queue; it ends (pop returns nil) when every producer has called
/// ``finish()`` and the queue is drained, or at once after ``cancel()``. Thread-safe (one lock).
public final class BoundedQueue<Element: Sendable>: @unchecked Sendable {
    /// Maximum number of queued elements.
    public let capacity: Int

    private let condition = NSCondition()
    private var ring: [Element?]
    private var head = 0
    private var count = 0
    private var openProducers: Int
    private var cancelled = false
    private var highWater = 0

    /// Creates a queue holding at most `capacity` elements, fed by `producers` producers.
    public init(capacity: Int, producers: Int = 1) {
        precondition(capacity > 0 && producers > 0, "a queue needs room and a producer")
        self.capacity = capacity
        self.ring = Array(repeating: nil, count: capacity)
        self.openProducers = producers
    }

    /// Appends `element`, waiting while the queue is full. Returns false (dropping the element) if the
    /// queue was cancelled.
    @discardableResult
    public func push(_ element: Element) -> Bool {
        self.condition.lock()
        defer { self.condition.unlock() }
        while self.count == self.capacity && !self.cancelled { self.condition.wait() }
        if self.cancelled { return false }
        self.append(element)
        return true
    }

    /// Appends `element` only if there is room now; never waits. Returns false when full or cancelled.
    public func tryPush(_ element: Element) -> Bool {
        self.condition.lock()
        defer { self.condition.unlock() }
        if self.cancelled || self.count == self.capacity { return false }
        self.append(element)
        return true
    }

    private func append(_ element: Element) {
        self.ring[(self.head + self.count) % self.capacity] = element
        self.count += 1
        self.highWater = max(self.highWater, self.count)
        self.condition.broadcast()
    }

    /// Removes the oldest element, waiting while the queue is empty. Returns nil once every producer
    /// finished and the queue is drained, or after cancellation.
    public func pop() -> Element? {
        self.condition.lock()
        defer { self.condition.unlock() }
        while self.count == 0 && self.openProducers > 0 && !self.cancelled { self.condition.wait() }
        if self.cancelled || self.count == 0 { return nil }
        let element = self.ring[self.head]
        self.ring[self.head] = nil
        self.head = (self.head + 1) % self.capacity
        self.count -= 1
        self.condition.broadcast()
        return element
    }

    /// One producer is done; when all are, consumers drain what is left and then see the end.
    public func finish() {
        self.condition.lock()
        self.openProducers = max(0, self.openProducers - 1)
        self.condition.broadcast()
        self.condition.unlock()
    }

    /// Drops everything queued and wakes every waiting producer and consumer.
    public func cancel() {
        self.condition.lock()
        self.cancelled = true
        for i in 0..<self.capacity { self.ring[i] = nil }
        self.count = 0
        self.condition.broadcast()
        self.condition.unlock()
    }

    /// Elements queued now.
    public var depth: Int {
        self.condition.lock()
        defer { self.condition.unlock() }
        return self.count
    }

    /// The most elements ever queued at once.
    public var maximumDepth: Int {
        self.condition.lock()
        defer { self.condition.unlock() }
        return self.highWater
    }
}
