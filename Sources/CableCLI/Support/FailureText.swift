import CableAuthenticator
import CableCeremonies
import CableDesktop
import CableProtocol
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
        case let e as PhoneError:
            var line = "\(self.phoneStep(e.step)): \(self.clean(e.detail))"
            if e.code == .tunnelFailed, e.step == .registerTunnel, e.detail.contains("cannot connect") {
                line += "; is `cable relay` running at the --tunnel address?"
            }
            text = line
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
            case .verificationFailed:
                // A refusal by the registration policy or the trust policy, rather than a broken response.
                let policyCodes: Set = [
                    "aaguidNotAllowed", "aaguidBlocked", "attestationRequired", "aaguidNotInMetadata",
                    "authenticatorStatusRefused",
                ]
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
            return "cannot reach the tunnel service (\(self.clean(e.reason))); is `cable relay` running at the --tunnel address?"
        case .tunnelNotFound:
            return "the tunnel service has no such tunnel (HTTP 404): the QR code was already used or has expired; show a new one"
        case .unsupportedScheme:
            return "\(e.reason); use a ws:// tunnel service (--tunnel ws://HOST:PORT)"
        default:
            return e.reason
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
                kept += tail[errno].replacingOccurrences(of: #"\)? ?\(errno: \d+\)"#, with: "", options: .regularExpression)
            }
            // A hint the caller appended after the diagnostic (` — check --tunnel …`) stays.
            if let hint = tail.range(of: " — ", options: .backwards) { kept += tail[hint.lowerBound...] }
            s = kept.replacingOccurrences(of: "Connection errors: ", with: "")
        }
        // NIO's system-call errors: `bind(descriptor:ptr:bytes:): Address already in use) (errno: 98)`.
        s = s.replacingOccurrences(of: #"\b[a-z][A-Za-z0-9]*\(([A-Za-z0-9_]+:)*\): "#, with: "", options: .regularExpression)
        s = s.replacingOccurrences(of: #"\)? ?\(errno: \d+\)"#, with: "", options: .regularExpression)
        // `TypeError.someCase` → `some case`.
        while let r = s.range(of: #"\b[A-Z][A-Za-z0-9]*Error\.[a-z][A-Za-z0-9]*"#, options: .regularExpression) {
            let name = s[r].split(separator: ".").last.map(String.init) ?? ""
            s.replaceSubrange(r, with: self.words(name))
        }
        // `[someCode]` suffixes and `someCode: ` / `someCode at step: ` prefixes of clauses.
        s = s.replacingOccurrences(of: #" ?\[[a-z][a-z0-9]*[A-Z][A-Za-z0-9]*\]"#, with: "", options: .regularExpression)
        s = s.replacingOccurrences(
            of: #"(^|: |\()[a-z][a-z0-9]*[A-Z][A-Za-z0-9]*( at [a-zA-Z]+| \([^()]*\))?: "#, with: "$1", options: .regularExpression)
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
