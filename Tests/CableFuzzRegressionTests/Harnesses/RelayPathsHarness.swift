import CableProtocol
import CableTunnel

/// Fuzzes what a tunnel service parses from a stranger's request line and what a client parses from
/// configuration: request paths (`TunnelEndpoint(path:)`), identifiers (`RoutingID(hex:)`,
/// `TunnelID(hex:)`, which decode hex) and service URLs (`TunnelServiceURL(string:)`). The raw hex and
/// base64url codecs are package-internal; they are reached through these parsers and the relying
/// party's JSON (`FuzzRelyingParty`).
///
/// The relay's HTTP head scanner and request policy (`HTTPHeadScanner`, `RelayRequestPolicy.route`) are
/// internal to CableTunnel, so a separate package cannot call them; see `Fuzz/README.md`.
public enum RelayPathsHarness {
    /// Parses `input` read as UTF-8 with each parser.
    ///
    /// Invariant: an accepted path re-formats to a path that parses to the same endpoint.
    public static func run(_ input: [UInt8]) -> FuzzReport {
        var report = FuzzReport()
        let text = String(decoding: input, as: UTF8.self)
        if let endpoint = report.attempt(
            "TunnelEndpoint(path:)",
            { () throws(CableProtocolError) in
                try TunnelEndpoint(path: text)
            }
        ) {
            let again = try? TunnelEndpoint(path: endpoint.path)
            fuzzInvariant(again == endpoint, "a parsed path re-formats to one that parses the same")
        }
        report.attempt("RoutingID(hex:)") { () throws(CableProtocolError) in try RoutingID(hex: text) }
        report.attempt("TunnelID(hex:)") { () throws(CableProtocolError) in try TunnelID(hex: text) }
        report.attempt("TunnelServiceURL(string:)") { () throws(TunnelError) in try TunnelServiceURL(string: text) }

        return report
    }
}
