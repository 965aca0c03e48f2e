import CableProtocol
import CableTunnel

/// Fuzzes what a tunnel service parses from a stranger's request line and what a client parses from
/// configuration: request paths (`TunnelEndpoint(path:)`), identifiers (`RoutingID(hex:)`,
/// `TunnelID(hex:)`), their encodings (`Hex.decode`, `Base64URL.decode`) and service URLs
/// (`TunnelServiceURL(string:)`).
///
/// The relay's HTTP head scanner and request policy (`HTTPHeadScanner`, `RelayRequestPolicy.route`) are
/// internal to CableTunnel, so a separate package cannot call them; see `Fuzz/README.md`.
public enum RelayPathsHarness {
    /// Parses `input` read as UTF-8 with each parser.
    ///
    /// Invariants: an accepted path re-formats to a path that parses to the same endpoint; decoded hex and
    /// base64url re-encode to the input (up to hex case).
    public static func run(_ input: [UInt8]) -> FuzzReport {
        var report = FuzzReport()
        let text = String(decoding: input, as: UTF8.self)
        if let endpoint = report.attempt("TunnelEndpoint(path:)", { () throws(CableProtocolError) in
            try TunnelEndpoint(path: text)
        }) {
            let again = try? TunnelEndpoint(path: endpoint.path)
            fuzzInvariant(again == endpoint, "a parsed path re-formats to one that parses the same")
        }
        report.attempt("RoutingID(hex:)") { () throws(CableProtocolError) in try RoutingID(hex: text) }
        report.attempt("TunnelID(hex:)") { () throws(CableProtocolError) in try TunnelID(hex: text) }
        report.attempt("TunnelServiceURL(string:)") { () throws(TunnelError) in try TunnelServiceURL(string: text) }

        if let bytes = Hex.decode(text) {
            fuzzInvariant(Hex.lower(bytes) == text.lowercased(), "decoded hex re-encodes to the input")
            report.record("Hex.decode", .accepted)
        } else {
            report.record("Hex.decode", .rejected(code: "nil"))
        }
        if let bytes = Base64URL.decode(text) {
            fuzzInvariant(Base64URL.encode(bytes) == text, "decoded base64url re-encodes to the input")
            report.record("Base64URL.decode", .accepted)
        } else {
            report.record("Base64URL.decode", .rejected(code: "nil"))
        }
        return report
    }
}
