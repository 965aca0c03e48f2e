/// How a role's driver names what went wrong while it sent or waited on a ``MessageChannel``, so the
/// desktop's and the phone's drivers share one ``MessageChannel/send(_:step:failure:)`` and one
/// ``MessageChannel/receive(step:within:failure:)`` instead of a near-identical pair each.
package protocol ChannelFailure: Error {
    /// The driver's step type (`DesktopStep`, `PhoneError.Step`).
    associatedtype Step: Sendable
    /// Nothing arrived within `duration`.
    static func timedOut(at step: Step, after duration: Duration) -> Self
    /// The peer (or the tunnel service) closed the channel cleanly before the step finished.
    static func closedByPeer(at step: Step) -> Self
    /// The channel failed; `sending` says whether a send or a receive did.
    static func channelFailed(at step: Step, sending: Bool, cause: any Error) -> Self
}

extension MessageChannel {
    /// Sends one message, naming a failure with `Failure`. If the calling task was cancelled, throws
    /// `CancellationError` rather than a channel failure.
    package func send<Failure: ChannelFailure>(
        _ message: [UInt8],
        step: Failure.Step,
        failure: Failure.Type
    ) async throws {
        try await Self.namingSendFailure(at: step, as: failure) { try await self.send(message) }
    }

    /// Sends messages in order, possibly handed to the transport together
    /// (``MessageChannel/send(contentsOf:)``), naming a failure with `Failure` as
    /// ``send(_:step:failure:)`` does.
    package func send<Failure: ChannelFailure>(
        contentsOf messages: [[UInt8]],
        step: Failure.Step,
        failure: Failure.Type
    ) async throws {
        try await Self.namingSendFailure(at: step, as: failure) { try await self.send(contentsOf: messages) }
    }

    /// Runs a send, turning its failure into `Failure` (or `CancellationError` if the task was cancelled).
    private static func namingSendFailure<Failure: ChannelFailure>(
        at step: Failure.Step,
        as failure: Failure.Type,
        _ sending: () async throws -> Void
    ) async throws {
        do { try await sending() } catch {
            try Task.checkCancellation()
            throw Failure.channelFailed(at: step, sending: true, cause: error)
        }
    }

    /// Waits (bounded by `duration`) for the next message, naming a timeout, a clean close or a failure
    /// with `Failure`; on timeout the channel is closed so the wait ends. If the calling task is
    /// cancelled, the channel is closed too (a channel's `receive()` need not watch for cancellation)
    /// and `CancellationError` is thrown: a cancelled ceremony is not "the peer closed the tunnel".
    package func receive<Failure: ChannelFailure>(
        step: Failure.Step,
        within duration: Duration,
        clock: any Clock<Duration> = ContinuousClock(),
        failure: Failure.Type
    ) async throws -> [UInt8] {
        let message: [UInt8]?
        do {
            // In place: the message reaches this task without a hop through a child task (the close
            // on timeout ends the receive).
            message = try await withDeadline(
                duration,
                clock: clock,
                timeoutError: Failure.timedOut(at: step, after: duration),
                endingWith: { await self.close() }
            ) {
                try await withTaskCancellationHandler {
                    try await self.receive()
                } onCancel: {
                    Task { await self.close() }
                }
            }
        } catch let error as Failure {
            try Task.checkCancellation()
            throw error
        } catch {
            try Task.checkCancellation()
            if error is CancellationError { throw error }
            throw Failure.channelFailed(at: step, sending: false, cause: error)
        }
        try Task.checkCancellation()
        guard let message else { throw Failure.closedByPeer(at: step) }
        return message
    }
}
