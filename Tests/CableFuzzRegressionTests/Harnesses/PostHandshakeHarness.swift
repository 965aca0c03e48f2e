import CableCBOR
@_spi(Fuzzing) import CableProtocol

/// Fuzzes the messages a desktop decodes after the handshake: the post-handshake message
/// (`PostHandshakeMessage.decode`), update messages (`UpdateMessage(decoding:)`,
/// `UpdateMessage.validateDesktopUpdate`), revision-0 padded maps (`PaddedCBORMap.decode`) and linking
/// info (`LinkingInfo(cbor:)`).
///
/// Linking signatures are not verified here: `LinkingVerifier` has no public initialiser, so
/// ``LinkingHandling/verify(_:)`` is out of reach of a separate package; `.parse` covers the structure.
public enum PostHandshakeHarness {
    /// Runs every post-handshake parser over `input`.
    ///
    /// Invariants: whatever a desktop accepts, a phone encoding the same content in the same revision
    /// produces bytes the desktop accepts as the same message; the same holds for update messages,
    /// linking info and padded maps in both padding formats.
    public static func run(_ input: [UInt8]) -> FuzzReport {
        var report = FuzzReport()
        for requiresCTAP in [true, false] {
            for (name, linking) in [("parse", LinkingHandling.parse), ("ignore", .ignore)] {
                let options = PostHandshakeMessage.DecodingOptions(requiresCTAP: requiresCTAP, linking: linking)
                let label = "PostHandshakeMessage.decode [requiresCTAP: \(requiresCTAP), linking: \(name)]"
                guard
                    let decoded = report.attempt(
                        label,
                        { () throws(CableProtocolError) in
                            try PostHandshakeMessage.decode(input, options: options)
                        }
                    )
                else { continue }
                let reencoded = decoded.message.encoded(revision: decoded.revision)
                let again = try? PostHandshakeMessage.decode(reencoded, options: options)
                fuzzInvariant(
                    again?.message == decoded.message && again?.revision == decoded.revision,
                    "a post-handshake message re-encodes to one that decodes the same"
                )
            }
        }

        for (name, linking) in [("parse", LinkingHandling.parse), ("ignore", .ignore)] {
            if let update = report.attempt(
                "UpdateMessage(decoding:) [linking: \(name)]",
                {
                    () throws(CableProtocolError) in try UpdateMessage(decoding: input, linking: linking)
                }
            ) {
                let rebuilt = UpdateMessage(linkingInfo: update.linkingInfo)
                let again = try? UpdateMessage(decoding: rebuilt.payload, linking: linking)
                fuzzInvariant(again == rebuilt, "an update message re-encodes to one that decodes the same")
            }
        }
        report.attempt("UpdateMessage.validateDesktopUpdate") { () throws(CableProtocolError) in
            try UpdateMessage.validateDesktopUpdate(input)
        }

        if let map = report.attempt(
            "PaddedCBORMap.decode",
            { () throws(CableProtocolError) in
                try PaddedCBORMap.decode(input)
            }
        ) {
            for format in PaddedCBORMap.Format.allCases {
                let again = try? PaddedCBORMap.decode(PaddedCBORMap.encode(map, format: format))
                fuzzInvariant(again == map, "a padded map re-pads to one that decodes the same")
            }
        }

        if let value = try? CBORValue(decoding: input) {
            if let info = report.attempt(
                "LinkingInfo(cbor:)",
                { () throws(CableProtocolError) in
                    try LinkingInfo(cbor: value)
                }
            ) {
                fuzzInvariant((try? LinkingInfo(cbor: info.cbor)) == info, "linking info re-encodes to the same fields")
            }
        }
        return report
    }
}
