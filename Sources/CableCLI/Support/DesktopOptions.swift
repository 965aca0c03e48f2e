import ArgumentParser
import CableCTAP
import CableDesktop
import CableRelyingParty
import CableTunnel
import Foundation

/// Options shared by `register` and `sign-in` (the desktop and its relying party); the registration
/// policy is `register`'s alone (``RegistrationPolicyOptions``).
struct DesktopOptions: ParsableArguments {
    @Option(help: "Relying party ID (the site).")
    var rpId = "login.example.com"

    @Option(
        help:
            "Tunnel service to use for every tunnel domain, e.g. ws://127.0.0.1:8080 (without it, wss://<domain from the advert>)."
    )
    var tunnel: String?

    @Option(help: "PEM file of CA certificates trusted for wss:// tunnel services, in addition to the system's.")
    var caFile: String?

    @Option(help: "Where the advert bus delivers adverts (UDP on loopback).")
    var advertListen = "127.0.0.1:65529"

    @Option(help: RadioChoice.help)
    var radio: RadioChoice = .auto

    @Option(
        help:
            "The relying party's record of registered credentials (SQLite; a JSON store is imported once). Default: $XDG_DATA_HOME/cable/registrations.sqlite, else ~/.local/share/cable/registrations.sqlite."
    )
    var rpStore: String?

    @Option(help: "Seconds to wait at each step for the phone.")
    var timeout: Int = 120

    @Flag(help: "Print one JSON object as the last line of stdout.")
    var json = false

    func validate() throws {
        guard self.timeout > 0 else { throw ValidationError("--timeout must be positive") }
        if let t = self.tunnel {
            do { _ = try TunnelServiceURL(string: t) } catch { throw ValidationError("--tunnel \(t): \(error.reason)") }
        }
        _ = try HostPort(self.advertListen, option: "--advert-listen")
    }

    var tunnelService: TunnelServiceURL? { self.tunnel.flatMap { try? TunnelServiceURL(string: $0) } }

    /// The trust for wss:// services: the system's store, plus --ca-file.
    func tunnelTrust() throws -> TunnelTLSTrust {
        guard let caFile = self.caFile else { return .systemTrustStore }
        do throws(TunnelError) {
            return try .systemTrustStore(plusCAFile: caFile)
        } catch {
            throw Output.failure("--ca-file: \(FailureText.describe(error))")
        }
    }
}

/// A policy option whose value is not an AAGUID.
struct PolicyOptionError: Error, CustomStringConvertible {
    let option: String
    let value: String

    var description: String {
        "\(self.option) \(self.value.prefix(80)) is not an AAGUID: expected the form xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx "
            + "(32 hex digits in groups of 8-4-4-4-12), e.g. \(AAGUID.microsoftAuthenticatorAndroid.uuidString)"
    }
}

/// `HOST:PORT` for the advert bus options.
struct HostPort: Sendable {
    let host: String
    let port: Int

    init(_ text: String, option: String) throws {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (1...65535).contains(port)
        else { throw ValidationError("\(option) must be HOST:PORT, got \(text)") }
        self.host = String(text[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        self.port = port
    }
}
