import ArgumentParser
import CableProtocol

/// `cable decode URL [--json]`: decodes a `FIDO:/…` URL with Chromium's rules.
struct DecodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decode",
        abstract: "Decode a FIDO:/ QR URL and print its fields.",
        discussion: """
            Decoding follows Chromium: case-insensitive prefix, strict canonical CBOR, unknown keys \
            ignored, unknown request types read as "ga". A malformed URL exits non-zero with one \
            error line naming the reason.
            """
    )

    @Argument(help: "The FIDO:/… URL (quote it in the shell).")
    var url: String

    @Flag(help: "Print one JSON object as the last line of stdout.")
    var json = false

    func run() throws {
        let payload: QRCodePayload
        do {
            payload = try QRCodePayload(url: self.url)
        } catch {
            throw Output.failure("invalid FIDO:/ URL: \(error.reason) [\(error.code)]")
        }
        let publicKey = Hex.lower(payload.compressedPublicKey)
        let secret = Hex.lower(payload.secret.bytes)
        if self.json {
            var line = JSONLine()
            line.add("publicKey", publicKey)
            line.add("secret", secret)
            line.add("knownDomains", payload.knownDomainCount)
            line.add("timestamp", payload.timestamp)
            line.add("linking", payload.supportsLinking)
            line.add("requestType", payload.requestType.wireValue)
            print(line.text)
        } else {
            print("public key     \(publicKey) (P-256, compressed, on curve)")
            print("secret         \(secret)")
            print("known domains  \(payload.knownDomainCount)")
            print("timestamp      \(payload.timestamp.map(String.init) ?? "absent")")
            print("linking        \(payload.supportsLinking.map { $0 ? "supported" : "not supported" } ?? "absent (unknown)")")
            print("request type   \(payload.requestType.wireValue)")
            print("tunnel ID      \(payload.secret.tunnelID.hex)")
        }
    }
}
