import ArgumentParser
import CableCeremonies
import CableDesktop
import CableProtocol
import CableRelyingParty
import CableTrust
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
        if let trust = outcome.trust { line.add("attestationType", trust.attestationType.rawValue) }
        if let status = outcome.trust?.metadataStatus { line.add("metadataStatus", status.rawValue) }
        if let name = outcome.trust?.authenticatorName { line.add("authenticatorName", name) }
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
            "  attestation    \(outcome.attestationFormat)\(outcome.trust.map { " \($0.attestationType.rawValue)" } ?? "") (verified)",
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

    /// One line naming what failed and what to do, built from the typed errors' values.
    static func message(for error: any Error) -> String {
        switch error {
        case let e as DesktopError:
            switch e.code {
            case .timeout:
                return
                    "\(FailureText.describe(e)) — is the phone running (`cable phone URL`) and sending adverts to this --advert-listen address?"
            default:
                // The tunnel's own error already says what to do (start `cable relay`, --ca-file, a new QR code).
                return FailureText.describe(e)
            }
        case let e as CeremonyError:
            if let rp = e.relyingPartyError { return Self.message(for: rp, ceremony: e.code) }
            return FailureText.describe(e)
        default:
            return FailureText.describe(error)
        }
    }

    /// Policy and record refusals in the words of the options that change them.
    static func message(for error: RelyingPartyError, ceremony: CeremonyError.Code) -> String {
        switch error.code {
        case .aaguidNotAllowed:
            let aaguid = error.aaguid?.uuidString ?? "(unknown)"
            return "registration refused by policy (allow list): authenticator AAGUID \(aaguid) is not allowed; "
                + "an administrator must add \(aaguid) to the allowed AAGUIDs list (--allow-aaguid \(aaguid))"
        case .aaguidBlocked:
            let aaguid = error.aaguid?.uuidString ?? "(unknown)"
            return "registration refused by policy (block list): authenticator AAGUID \(aaguid) is blocked by "
                + "--block-aaguid \(aaguid); remove it from the block list to admit this authenticator model"
        case .unknownCredential:
            return "sign-in refused: the phone used a credential this relying party does not know (removed with "
                + "`cable registrations remove`, or never registered in this --rp-store); register it again with `cable register`"
        default:
            if ceremony == .recordStoreFailed { return "relying-party records (--rp-store): \(error.message)" }
            return "verification failed: \(error.message)"
        }
    }

    /// Prints `error: <message>` on stderr and, with `--json`, `{"ok": false, "error": …, "step": …}` as the
    /// last stdout line (``Output/failure(_:step:)`` decides that from the command line); returns the exit
    /// code to throw.
    static func failure(_ message: String, step: String, json _: Bool) -> ExitCode {
        Output.failure(message, step: step)
    }
}
