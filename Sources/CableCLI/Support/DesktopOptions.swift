import ArgumentParser
import CableClient
import CableCTAP
import CableRelyingParty
import CableTunnel
import Foundation

/// Options shared by `register` and `sign-in` (the desktop and its relying party).
struct DesktopOptions: ParsableArguments {
    @Option(help: "Relying party ID (the site).")
    var rpId = "login.example.com"

    @Option(help: "Tunnel service to use for every tunnel domain, e.g. ws://127.0.0.1:8080 (without it, wss://<domain from the advert>).")
    var tunnel: String?

    @Option(help: "Where the advert bus delivers adverts (UDP on loopback).")
    var advertListen = "127.0.0.1:65529"

    @Option(help: RadioChoice.help)
    var radio: RadioChoice = .auto

    @Option(help: "The relying party's record of registered credentials (JSON).")
    var rpStore = "cable-rp-store.json"

    @Option(name: .customLong("allow-aaguid"), help: "Allow registration only from this authenticator model (repeatable).")
    var allowAAGUIDs: [String] = []

    @Flag(help: "Refuse registrations with `none` attestation.")
    var enforceAttestation = false

    @Option(help: "Seconds to wait at each step for the phone.")
    var timeout: Int = 120

    @Flag(help: "Print one JSON object as the last line of stdout.")
    var json = false

    func validate() throws {
        guard self.timeout > 0 else { throw ValidationError("--timeout must be positive") }
        for a in self.allowAAGUIDs where AAGUID(uuidString: a) == nil {
            throw ValidationError("--allow-aaguid \(a) is not a UUID")
        }
        if let t = self.tunnel {
            do { _ = try TunnelServiceURL(string: t) } catch { throw ValidationError("--tunnel \(t): \(error.reason)") }
        }
        _ = try HostPort(self.advertListen, option: "--advert-listen")
    }

    var policy: RelyingParty.Policy {
        RelyingParty.Policy(
            allowedAAGUIDs: self.allowAAGUIDs.isEmpty ? nil : Set(self.allowAAGUIDs.compactMap { AAGUID(uuidString: $0) }),
            enforceAttestation: self.enforceAttestation)
    }

    var tunnelService: TunnelServiceURL? { self.tunnel.flatMap { try? TunnelServiceURL(string: $0) } }
}

/// `HOST:PORT` for the advert bus options.
struct HostPort: Sendable {
    let host: String
    let port: Int

    init(_ text: String, option: String) throws {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (1...65535).contains(port)
        else { throw ValidationError("\(option) must be HOST:PORT, got \(text)") }
        self.host = String(text[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        self.port = port
    }
}
