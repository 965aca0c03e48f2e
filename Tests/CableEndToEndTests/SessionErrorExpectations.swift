import CableAuthenticator
import CableDesktop
import CableProtocol
import Testing

/// Asserts that `body` fails the desktop session at `step` because the core's rule `rule` broke: a
/// `DesktopError` coded `protocolViolation` whose underlying `CableProtocolError` has exactly that code.
func expectDesktopViolation(
    _ rule: CableProtocolError.Code,
    at step: DesktopStep,
    sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () throws -> Void
) {
    do {
        try body()
        Issue.record("expected \(rule) at \(step), nothing was thrown", sourceLocation: sourceLocation)
    } catch let error as DesktopError {
        #expect(error.code == .protocolViolation, sourceLocation: sourceLocation)
        #expect(error.step == step, sourceLocation: sourceLocation)
        #expect(error.protocolError?.code == rule, "\(error)", sourceLocation: sourceLocation)
    } catch {
        Issue.record("expected a DesktopError, got \(error)", sourceLocation: sourceLocation)
    }
}

/// Asserts that `body` fails the phone session at `step` because the core's rule `rule` broke: a
/// `PhoneError` coded `protocolViolation` whose underlying `CableProtocolError` has exactly that code.
func expectPhoneViolation(
    _ rule: CableProtocolError.Code,
    at step: PhoneError.Step,
    sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () throws -> Void
) {
    do {
        try body()
        Issue.record("expected \(rule) at \(step), nothing was thrown", sourceLocation: sourceLocation)
    } catch let error as PhoneError {
        #expect(error.code == .protocolViolation, sourceLocation: sourceLocation)
        #expect(error.step == step, sourceLocation: sourceLocation)
        #expect(error.protocolError?.code == rule, "\(error)", sourceLocation: sourceLocation)
    } catch {
        Issue.record("expected a PhoneError, got \(error)", sourceLocation: sourceLocation)
    }
}

/// A test's own setup did not reach the state it needs.
struct SetupFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
