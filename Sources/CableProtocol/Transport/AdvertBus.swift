import CableLocking

/// The seam where a phone's BLE advert leaves and a desktop's scanner receives it. A radio, the UDP
/// loopback bus of the `cable` tool and the in-process bus all sit behind it; nothing above changes.

/// Sends raw BLE advertising data (what a phone broadcasts).
public protocol AdvertTransmitter: Sendable {
    /// Broadcasts one advertising-data payload once.
    func transmit(_ advertisingData: [UInt8]) async throws
}

/// Receives raw BLE advertising data from anyone nearby (what a desktop scans). Callers must treat
/// every payload as a stranger's: parse defensively, ignore what does not decrypt.
public protocol AdvertScanner: Sendable {
    /// Payloads as they arrive from now on. The stream ends when the scanner is closed.
    func adverts() -> AsyncStream<[UInt8]>
}

/// An in-process advert bus for one-process runs and tests: every transmitted payload is delivered
/// to every current subscriber (bounded per subscriber; the oldest are dropped, as a radio drops).
public final class InProcessAdvertBus: AdvertTransmitter, AdvertScanner {
    private struct State {
        var continuations: [Int: AsyncStream<[UInt8]>.Continuation] = [:]
        var nextID = 0
    }
    private let state = LockedValue(State())
    private let bufferLimit: Int

    /// Creates a bus keeping at most `bufferLimit` undelivered adverts per subscriber.
    public init(bufferLimit: Int = 64) { self.bufferLimit = bufferLimit }

    public func transmit(_ advertisingData: [UInt8]) async throws {
        let targets = self.state.withLock { Array($0.continuations.values) }
        for c in targets { c.yield(advertisingData) }
    }

    public func adverts() -> AsyncStream<[UInt8]> {
        let (stream, continuation) = AsyncStream<[UInt8]>.makeStream(
            bufferingPolicy: .bufferingNewest(self.bufferLimit)
        )
        let id = self.state.withLock { s -> Int in
            let id = s.nextID
            s.nextID += 1
            s.continuations[id] = continuation
            return id
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.state.withLock { $0.continuations.removeValue(forKey: id) }
        }
        return stream
    }

    /// Ends every subscriber's stream.
    public func close() {
        let all = self.state.withLock { s -> [AsyncStream<[UInt8]>.Continuation] in
            defer { s.continuations.removeAll() }
            return Array(s.continuations.values)
        }
        for c in all { c.finish() }
    }
}
