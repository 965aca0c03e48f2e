import CableClient
import CableProtocol
import CableRelyingParty
import Foundation

/// Turns ceremony results and failures into the outputs of `cli.md`.
enum CeremonyOutput {
    static func json(_ outcome: RegistrationOutcome) -> JSONLine {
        var line = JSONLine()
        line.add("ok", true)
        line.add("ceremony", "register")
        line.add("credentialId", Base64URL.encode(outcome.credentialID))
        line.add("aaguid", outcome.aaguid.uuidString)
        line.add("attestationFormat", outcome.attestationFormat)
        line.add("userVerified", outcome.userVerified)
        line.add("signCount", Int64(outcome.signCount))
        return line
    }

    static func json(_ outcome: SignInOutcome) -> JSONLine {
        var line = JSONLine()
        line.add("ok", true)
        line.add("ceremony", "sign-in")
        line.add("credentialId", Base64URL.encode(outcome.credentialID))
        line.add("aaguid", outcome.aaguid.uuidString)
        line.add("userVerified", outcome.userVerified)
        line.add("signCount", Int64(outcome.signCount))
        return line
    }

    static func human(_ outcome: RegistrationOutcome) -> [String] {
        [
            "registered passkey \(Base64URL.encode(outcome.credentialID))",
            "  authenticator  \(outcome.aaguid.uuidString)",
            "  attestation    \(outcome.attestationFormat) (verified)",
            "  user verified  \(outcome.userVerified ? "yes" : "no")",
            "  sign count     \(outcome.signCount)",
        ]
    }

    static func human(_ outcome: SignInOutcome) -> [String] {
        [
            "signed in as \(outcome.userName) with passkey \(Base64URL.encode(outcome.credentialID))",
            "  authenticator  \(outcome.aaguid.uuidString)",
            "  user verified  \(outcome.userVerified ? "yes" : "no")",
            "  sign count     \(outcome.signCount) (signature verified)",
        ]
    }

    /// One line naming what failed and what to do.
    static func message(for error: any Error) -> String {
        switch error {
        case let e as DesktopError:
            switch e.code {
            case .timeout:
                return "\(e) — is the phone running (`cable phone URL`) and sending adverts to this --advert-listen address?"
            // The tunnel's own error already says what to do (start `cable relay`, --ca-file, a new QR code).
            case .tunnelFailed: return e.description
            case .protocolViolation, .closedByPeer: return e.description
            }
        case let e as CeremonyError:
            if let rp = e.relyingPartyError, rp.code == .aaguidNotAllowed {
                return "registration refused by policy: \(rp)"
            }
            return e.description
        default:
            return "\(error)"
        }
    }
}
