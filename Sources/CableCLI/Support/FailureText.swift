import CableAuthenticator
import CableBlueZ
import CableCTAP
import CableCeremonies
import CableDesktop
import CableProtocol
import CableRelyingParty
import CableTerminalQR
import CableTrust
import CableTunnel
import Foundation

/// The one place that turns a failure into the text of an `error:` line: one line, what happened
/// and, where known, what to do, built from the typed errors' fields (their reasons are plain words),
/// never from their descriptions, which carry code names for logs and tests.
enum FailureText {
    /// One line for people describing `error`.
    static func describe(_ error: any Error) -> String {
        switch error {
        case let e as TunnelError: return self.tunnel(e)
        case let e as PhoneError: return "\(self.phoneStep(e.step)): \(self.cause(of: e))"
        case let e as DesktopError: return "\(self.desktopStep(e)): \(self.cause(of: e))"
        case let e as CableProtocolError: return e.reason
        case let e as CredentialStoreError: return e.reason
        case let e as CeremonyError:
            if let rp = e.relyingPartyError { return "\(e.reason): \(rp.message)" }
            guard let underlying = e.underlying else { return e.reason }
            return "\(e.reason): \(self.describe(underlying))"
        case let e as RelyingPartyError: return e.message
        case let e as CTAPError: return "\(e.reason) (\(e.status))"
        case let e as TrustError: return "\(e.rule): \(e.reason)"
        case let e as QRCodeError: return e.reason
        case let e as BlueZError: return e.reason
        case let e as AttestationIdentityError: return e.reason
        case is CancellationError: return "cancelled"
        case let e as CocoaError: return e.localizedDescription
        default:
            // An error type this list does not know yet: its own words, on one line.
            return Self.oneLine(String(describing: error))
        }
    }

    /// `text` on one line: an `error:` line never spans lines, whatever a cause's words hold.
    static func oneLine(_ text: String) -> String {
        let joined = text.split(whereSeparator: \.isNewline).joined(separator: " ")
        return joined.isEmpty ? "an unexpected failure" : joined
    }

    /// The `step` of the `--json` failure line for `error` (cli.md, "Output conventions").
    static func step(of error: any Error) -> String {
        switch error {
        case let e as DesktopError:
            switch e.step {
            case .advert: return "advert"
            case .connect: return "connect"
            case .handshake: return "handshake"
            case .postHandshake: return "post-handshake"
            case .response: return "response"
            }
        case let e as CeremonyError:
            switch e.code {
            case .authenticatorError, .malformedResponse: return "response"
            case .recordStoreFailed: return "store"
            default:
                // A refusal by the registration policy or the trust policy, rather than a broken response.
                // The relying party reports the trust policy's refusals under the trust policy's code names.
                let policyCodes = Set(
                    [
                        TrustError.Code.aaguidNotAllowed, .aaguidBlocked, .attestationRequired, .aaguidNotInMetadata,
                        .authenticatorStatusRefused,
                    ]
                    .map(\.description)
                )
                return e.relyingPartyError.map { policyCodes.contains($0.code.rawValue) } == true ? "policy" : "verify"
            }
        case let e as PhoneError:
            switch e.step {
            case .scan: return "scan"
            case .registerTunnel: return "connect"
            case .awaitHandshake: return "handshake"
            case .serveRequests: return "request"
            }
        case is TunnelError: return "connect"
        case is CredentialStoreError: return "store"
        default: return "run"
        }
    }

    /// What a tunnel failure means for the person at the terminal.
    private static func tunnel(_ e: TunnelError) -> String {
        switch e.code {
        case .connectFailed, .connectTimedOut:
            // The client's reason names the address and what to check (`cable relay` for a refusal).
            return e.reason
        case .tunnelNotFound:
            return
                "the tunnel service has no such tunnel (HTTP 404): the QR code was already used or has expired; show a new one"
        case .unsupportedScheme:
            return "\(e.reason); use a ws:// tunnel service (--tunnel ws://HOST:PORT)"
        default:
            return e.reason
        }
    }

    /// What went wrong at a phone step, from the typed cause: the tunnel's own sentence (a refused or
    /// unreachable service says what to do), the broken rule, or the driver's reason.
    private static func cause(of e: PhoneError) -> String {
        switch e.underlying {
        case let tunnel as TunnelError: return self.tunnel(tunnel)
        case let rule as CableProtocolError: return e.reason.isEmpty ? rule.reason : "\(e.reason): \(rule.reason)"
        case let other?: return e.reason.isEmpty ? self.describe(other) : "\(e.reason): \(self.describe(other))"
        case nil: return e.reason
        }
    }

    /// What went wrong at a desktop step, from the typed cause (as for the phone).
    private static func cause(of e: DesktopError) -> String {
        switch e.underlying {
        case let tunnel as TunnelError: return self.tunnel(tunnel)
        case let rule as CableProtocolError: return e.reason.isEmpty ? rule.reason : "\(e.reason): \(rule.reason)"
        case let other?: return e.reason.isEmpty ? self.describe(other) : "\(e.reason): \(self.describe(other))"
        case nil: return e.reason.isEmpty ? "the connection closed" : e.reason
        }
    }

    private static func desktopStep(_ e: DesktopError) -> String {
        switch e.code {
        case .timeout: return "timed out \(e.step.waitingDescription)"
        case .protocolViolation, .unexpectedFrame, .receivedShutdown, .unsolicitedReply:
            return "the phone broke the protocol while \(e.step.waitingDescription)"
        case .closedByPeer: return "the phone closed the tunnel while \(e.step.waitingDescription)"
        default: return "the tunnel failed while \(e.step.waitingDescription)"
        }
    }

    private static func phoneStep(_ step: PhoneError.Step) -> String {
        switch step {
        case .scan: return "the QR code cannot be used"
        case .registerTunnel: return "cannot open a tunnel at the tunnel service"
        case .awaitHandshake: return "no handshake from the desktop"
        case .serveRequests: return "the session with the desktop failed"
        }
    }
}
