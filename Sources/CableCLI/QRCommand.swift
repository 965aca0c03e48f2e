import ArgumentParser
internal import CableCrypto
import CableProtocol
import Foundation

/// `cable qr`: a fresh pairing QR code and its `FIDO:/…` URL (keys are made and thrown away).
struct QRCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "qr",
        abstract: "Print a fresh pairing QR code and its FIDO:/ URL.",
        discussion: "The keys are generated and thrown away: this shows what a desktop displays."
    )

    @Option(help: "Request type hint: mc (register) or ga (sign in).")
    var request: RequestKind = .ga

    @OptionGroup var drawing: QRStyleOptions

    func run() throws {
        var rng = SecureRandomNumberGenerator()
        let url: String
        do {
            let key = try QRGeneratorKey.random(using: &rng)
            url = try key.payload(timestamp: Int64(Date().timeIntervalSince1970), requestType: self.request.hint).url
        } catch {
            throw Output.failure("cannot make a QR payload: \(error.reason)")
        }
        try QRDisplay.show(url: url, options: self.drawing)
    }
}

/// `--request mc|ga`.
enum RequestKind: String, ExpressibleByArgument, CaseIterable {
    case mc, ga
    var hint: RequestTypeHint { self == .mc ? .makeCredential : .getAssertion }
}
