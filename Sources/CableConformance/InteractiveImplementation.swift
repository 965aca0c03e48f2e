/// A person with a real device as the implementation under test (`cable conformance phone
/// --interactive`): each run shows the scenario's `{url}` (the command line renders it as a QR
/// code) and then simply waits while the person scans it; the scenario's judge sees the phone
/// arrive at the tunnel service and over the advert bus as it would a command's.
///
/// A run has no output lines; stopping it tells the person the scenario is over.
public struct InteractiveImplementation: ImplementationUnderTest {
    /// Shows one scenario's substitutions (`url`, `tunnel`, `advert`) to the person.
    public let present: @Sendable ([String: String]) async -> Void
    /// Called when a run ends, with how it ended.
    public let dismiss: @Sendable () async -> Void

    /// Creates an interactive implementation.
    public init(
        present: @escaping @Sendable ([String: String]) async -> Void,
        dismiss: @escaping @Sendable () async -> Void = {}
    ) {
        self.present = present
        self.dismiss = dismiss
    }

    public func start(substitutions: [String: String]) async throws -> any RunningImplementation {
        await self.present(substitutions)
        return InteractiveRun(dismiss: self.dismiss)
    }
}

/// One scenario shown to a person.
final class InteractiveRun: RunningImplementation {
    let outputLines: AsyncStream<String>
    private let continuation: AsyncStream<String>.Continuation
    private let dismiss: @Sendable () async -> Void
    private let stopped = FirstOf<Bool>()

    init(dismiss: @escaping @Sendable () async -> Void) {
        (self.outputLines, self.continuation) = AsyncStream<String>.makeStream()
        self.dismiss = dismiss
    }

    func stop() async -> ImplementationExit {
        self.stopped.offer(true)
        if await self.stopped.value() {
            self.continuation.finish()
        }
        await self.dismiss()
        return .stoppedByKit
    }
}
