import Logging
import NIOCore

#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// Accept failures and capacity refusals, counted so that a burst of them is logged once, not
/// once per connection (a flood would otherwise turn the log into the bottleneck).
struct AcceptFailureLog: Sendable {
    /// Accept failures since the start.
    var total = 0
    /// Failures since the last line that reported them.
    var inBurst = 0
    /// When a failure was last logged.
    var lastLogged: ContinuousClock.Instant?
    /// Capacity refusals since the last line that reported them.
    var refusalsInBurst = 0
    /// When a capacity refusal was last logged.
    var lastRefusalLogged: ContinuousClock.Instant?

    /// How long one burst lasts for logging.
    static let burstWindow: Duration = .seconds(10)

    /// Records one failure at `now`; returns how many earlier ones go unreported in the line to
    /// log now, or `nil` when this one falls inside a burst already logged.
    mutating func recordFailure(now: ContinuousClock.Instant) -> Int? {
        self.total += 1
        self.inBurst += 1
        if let last = self.lastLogged, now - last < Self.burstWindow { return nil }
        self.lastLogged = now
        defer { self.inBurst = 0 }
        return self.inBurst - 1
    }

    /// An accept succeeded: returns the failures of the burst that just ended (not yet
    /// reported), or `nil` when there was no burst.
    mutating func recordSuccess() -> Int? {
        guard self.lastLogged != nil else { return nil }
        self.lastLogged = nil
        defer { self.inBurst = 0 }
        return self.inBurst
    }
}

/// On the listening socket, behind NIO's `AcceptBackoffHandler` (which stops accepting for a
/// while after a failed accept, so running out of file descriptors does not spin the CPU): logs
/// the first failure of a burst with its errno, and the recovery when accepts work again. No
/// client data is involved, so nothing secret can reach the log.
final class AcceptFailureLogger: ChannelInboundHandler {
    typealias InboundIn = any Channel
    typealias InboundOut = any Channel

    private let server: TunnelService

    init(server: TunnelService) { self.server = server }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        let now = ContinuousClock.now
        self.server.services.metrics.acceptFailures.increment()
        if let unreported = self.server.acceptFailures.withLock({ $0.recordFailure(now: now) }) {
            var metadata: Logger.Metadata = ["error": "\(error)", "unreportedFailures": "\(unreported)"]
            if let io = error as? IOError { metadata["errno"] = "\(io.errnoCode)" }
            self.server.logger.error(
                "accept failed; backing off (logged once per burst)",
                metadata: metadata
            )
        }
        context.fireErrorCaught(error)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if let failures = self.server.acceptFailures.withLock({ $0.recordSuccess() }) {
            self.server.logger.notice(
                "accepting connections again",
                metadata: ["failuresSinceLastLine": "\(failures)"]
            )
        }
        context.fireChannelRead(data)
    }
}

/// The process's open-file limit, which bounds how many connections can be accepted.
enum FileDescriptorLimit {
    /// Descriptors kept for everything but client connections (event loops, logs, listeners).
    static let reserve = 64

    /// Raises the soft limit to the hard limit; returns the limit now in force (`nil` when it
    /// cannot be read).
    static func raiseToHardLimit() -> Int? {
        #if os(Linux)
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return nil }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
        }
        return Int(clamping: limit.rlim_cur)
        #else
        return nil
        #endif
    }
}
