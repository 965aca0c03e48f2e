import CableDesktop
import CableLocking
import CableProtocol
import Foundation
import Glibc

/// Records when each step of a ceremony happened and keeps a live status line on stderr (what the
/// desktop is waiting for and how long is left) while it waits for the phone.
///
/// The status line is the last line of the terminal and never draws over anything else: it starts
/// only once the QR code and its URL are on screen (``showingQRCode(_:)``), it is erased before
/// every step line, and every write to the terminal happens under one lock, so a redraw can never
/// land in the middle of the QR code or of a step line.
final class StepTimer: Sendable {
    struct Step: Sendable {
        let name: String
        let milliseconds: Double
    }
    private struct State {
        var steps: [Step] = []
        var waitingFor = "waiting for the phone to scan the QR code"
        var deadline: ContinuousClock.Instant
        var finished = false
        /// The QR code and its URL are on screen; the status line may be drawn below them.
        var qrShown = false
        /// The status line is on screen (the cursor is at its end, not at a line start).
        var statusDrawn = false
    }
    private let start = ContinuousClock.now
    private let state: LockedValue<State>
    private let ceremony: String
    private let live: Bool
    private let quiet: Bool

    /// - Parameters:
    ///   - ceremony: prefix for step names ("register", "sign-in").
    ///   - quiet: print nothing (JSON mode still records).
    init(ceremony: String, timeout: Duration, quiet: Bool) {
        self.ceremony = ceremony
        self.quiet = quiet
        self.live = !quiet && isatty(STDERR_FILENO) == 1
        self.state = LockedValue(State(deadline: .now + timeout))
    }

    var steps: [Step] { self.state.withLock { $0.steps } }

    /// Marks a step as done now and prints it.
    func mark(_ name: String, next waitingFor: String? = nil) {
        let ms = Self.milliseconds(ContinuousClock.now - self.start)
        let label = "\(self.ceremony): \(name)"
        let padded = label.count < 52 ? label + String(repeating: " ", count: 52 - label.count) : label
        self.state.withLock {
            $0.steps.append(Step(name: name, milliseconds: ms))
            if let waitingFor { $0.waitingFor = waitingFor }
            guard !self.quiet else { return }
            Self.eraseStatus(&$0)
            Output.diagnostic("  " + padded + String(format: "%9.1f ms", ms))
            if self.live, $0.qrShown, !$0.finished { Self.drawStatus(&$0) }
        }
    }

    /// Runs `draw` (which prints the QR code and its URL on stdout) with the status line erased and
    /// held off, and lets the status line start below what it drew.
    func showingQRCode(_ draw: () -> Void) {
        self.state.withLock {
            Self.eraseStatus(&$0)
            draw()
            Output.flushStdout()
            $0.qrShown = true
        }
    }

    /// Clears the status line if it is on screen (the caller holds the lock).
    private static func eraseStatus(_ state: inout State) {
        guard state.statusDrawn else { return }
        Output.rawDiagnostic("\r\u{1B}[2K")
        state.statusDrawn = false
    }

    /// Draws the status line in place (the caller holds the lock).
    private static func drawStatus(_ state: inout State) {
        let left = max(0, Int((state.deadline - .now).components.seconds))
        Output.rawDiagnostic("\r\u{1B}[2K  \(state.waitingFor)… \(left) s left")
        state.statusDrawn = true
    }

    /// Maps desktop progress to steps.
    func desktopEvent(_ event: DesktopEvent) {
        switch event {
        case .qrCode: self.mark("qr shown", next: DesktopStep.advert.waitingDescription)
        case .advertReceived(let domain, _):
            self.mark("advert received (domain \(domain))", next: DesktopStep.connect.waitingDescription)
        case .tunnelConnected: self.mark("tunnel connected", next: DesktopStep.handshake.waitingDescription)
        case .handshakeComplete: self.mark("handshake done", next: DesktopStep.postHandshake.waitingDescription)
        case .postHandshakeReceived(let revision):
            self.mark("post-handshake (\(revision))", next: DesktopStep.response.waitingDescription)
        case .requestSent: self.mark("request sent")
        case .responseReceived: self.mark("reply received")
        }
    }

    /// Redraws the status line every second until ``finish()`` (only on a terminal).
    func runStatusLine() -> Task<Void, Never>? {
        guard self.live else { return nil }
        return Task { [self] in
            while !Task.isCancelled {
                let finished = self.state.withLock { s -> Bool in
                    if s.finished { return true }
                    if s.qrShown { Self.drawStatus(&s) }
                    return false
                }
                if finished { return }
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }

    func finish() {
        self.state.withLock {
            $0.finished = true
            Self.eraseStatus(&$0)
        }
    }

    var totalMilliseconds: Double { Self.milliseconds(ContinuousClock.now - self.start) }

    static func milliseconds(_ d: Duration) -> Double {
        Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15
    }
}
