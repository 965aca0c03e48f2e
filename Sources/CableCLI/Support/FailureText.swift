import CableAuthenticator
import CableCeremonies
import CableDesktop
import CableProtocol
import CableTrust
import CableTunnel
import Foundation

/// The one place that turns a failure into the text of an `error:` line: one line, what happened
/// and, where known, what to do, with no Swift type or enum-case names (those are for logs and
/// tests, not for people).
enum FailureText {
    /// One line for people describing `error`.
    static func describe(_ error: any Error) -> String {
        let text: String
        switch error {
        case let e as TunnelError: text = self.tunnel(e)
        case let e as PhoneError: text = "\(self.phoneStep(e.step)): \(self.cause(of: e))"
        case let e as DesktopError: text = "\(self.desktopStep(e)): \(self.cause(of: e))"
        case let e as CableProtocolError: text = e.reason
        case let e as CredentialStoreError: text = e.reason
        case is CancellationError: text = "cancelled"
        case let e as CocoaError: text = e.localizedDescription
        default: text = String(describing: error)
        }
        return self.clean(text)
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

    /// Makes diagnostics built by lower layers fit an `error:` line: one line, no leading error-code
    /// names (`connectFailed: …`), no `[code]` suffixes, no `Type.case` spellings, and no dumped
    /// Swift values (a system call's own message is kept when there is one).
    static func clean(_ text: String) -> String {
        var s = text.split(whereSeparator: \.isNewline).joined(separator: " ")
        // A dumped value, e.g. `NIOConnectionError(host: …, connectionErrors: [… (errno: 111))])`.
        if let dump = s.range(of: #"\b[A-Z][A-Za-z0-9]*(\.[A-Z][A-Za-z0-9]*)*\("#, options: .regularExpression) {
            let tail = s[dump.lowerBound...]
            var kept = String(s[..<dump.lowerBound])
            // NIO writes `…: Connection refused) (errno: 111)`: keep the system's own words.
            if let errno = tail.range(of: #"[A-Za-z][A-Za-z ]*\)? ?\(errno: \d+\)"#, options: .regularExpression) {
                kept += tail[errno].replacingOccurrences(
                    of: #"\)? ?\(errno: \d+\)"#,
                    with: "",
                    options: .regularExpression
                )
            }
            // A hint the caller appended after the diagnostic (` — check --tunnel …`) stays.
            if let hint = tail.range(of: " — ", options: .backwards) { kept += tail[hint.lowerBound...] }
            s = kept.replacingOccurrences(of: "Connection errors: ", with: "")
        }
        // NIO's system-call errors: `bind(descriptor:ptr:bytes:): Address already in use) (errno: 98)`.
        s = s.replacingOccurrences(
            of: #"\b[a-z][A-Za-z0-9]*\(([A-Za-z0-9_]+:)*\): "#,
            with: "",
            options: .regularExpression
        )
        s = s.replacingOccurrences(of: #"\)? ?\(errno: \d+\)"#, with: "", options: .regularExpression)
        // `TypeError.someCase` → `some case`.
        while let r = s.range(of: #"\b[A-Z][A-Za-z0-9]*Error\.[a-z][A-Za-z0-9]*"#, options: .regularExpression) {
            let name = s[r].split(separator: ".").last.map(String.init) ?? ""
            s.replaceSubrange(r, with: self.words(name))
        }
        // `[someCode]` suffixes and `someCode: ` / `someCode at step: ` prefixes of clauses.
        s = s.replacingOccurrences(of: #" ?\[[a-z][a-z0-9]*[A-Z][A-Za-z0-9]*\]"#, with: "", options: .regularExpression)
        s = s.replacingOccurrences(
            of: #"(^|: |\()[a-z][a-z0-9]*[A-Z][A-Za-z0-9]*( at [a-zA-Z]+| \([^()]*\))?: "#,
            with: "$1",
            options: .regularExpression
        )
        // A code name left at the start of a clause (`CBOR rejected: incompleteData at offset 0`) → words.
        while let r = s.range(of: #"(^|: )[a-z][a-z0-9]*[A-Z][A-Za-z0-9]*\b"#, options: .regularExpression) {
            let match = String(s[r])
            let prefix = match.hasPrefix(": ") ? ": " : ""
            s.replaceSubrange(r, with: prefix + self.words(String(match.dropFirst(prefix.count))))
        }
        s = s.trimmingCharacters(in: CharacterSet(charactersIn: " :;,"))
        return s.isEmpty ? "an unexpected failure" : s
    }

    /// `someCase` → `some case`.
    static func words(_ identifier: String) -> String {
        var out = ""
        for c in identifier {
            if c.isUppercase, !out.isEmpty { out += " " }
            out += c.lowercased()
        }
        return out
    }
}
