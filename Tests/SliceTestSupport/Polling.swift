import Foundation

/// Polls `condition` every 100 ms until it holds or `seconds` have passed; returns whether it held. Tests
/// wait for a state this way instead of sleeping a fixed time, and the ceiling only bounds a failure (it is
/// generous, since a debug build on a loaded 2-core machine can be slow to get anywhere).
public func waitUntil(_ seconds: Double, _ condition: () throws -> Bool) rethrows -> Bool {
    let end = Date().addingTimeInterval(seconds)
    while Date() < end {
        if try condition() { return true }
        usleep(100_000)
    }
    return try condition()
}
