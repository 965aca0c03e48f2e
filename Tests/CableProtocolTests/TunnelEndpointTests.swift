import CableProtocol
import CableTestSupport
import Testing

@Suite struct TunnelEndpointTests {
    @Test func rejectsMalformedPaths() throws {
        let bad = [
            "", "/", "/cable", "/cable/", "/cable/new", "/cable/new/", "/cable/new/00",
            "/cable/new/" + String(repeating: "0", count: 33),
            "/cable/new/" + String(repeating: "g", count: 32), "/cable/connect/000000",
            "/cable/connect/00000/" + String(repeating: "0", count: 32),
            "/cable/connect/000000/" + String(repeating: "0", count: 32) + "/x",
            "/cable/old/" + String(repeating: "0", count: 32),
            "cable/new/" + String(repeating: "0", count: 32), "/CABLE/new/" + String(repeating: "0", count: 32),
            "/cable/new/" + String(repeating: "0", count: 32) + "?x=1", "/cable/contact/", "/cable/contact/a=",
            "/cable/contact/" + String(repeating: "A", count: 600),
        ]
        for p in bad {
            let e = try #require(throws: CableProtocolError.self, "\(p)") { try TunnelEndpoint(path: p) }
            #expect(e.code == .invalidTunnelPath, "\(p)")
        }
    }

    @Test func contactPathsUseUnpaddedBase64URL() throws {
        let id: [UInt8] = [0xFB, 0xFF, 0x01, 0x02]
        let e = TunnelEndpoint.contact(contactID: id)
        #expect(e.path == "/cable/contact/-_8BAg")
        #expect(try TunnelEndpoint(path: e.path) == e)
    }

    @Test func base64URLIsStrict() {
        #expect(Base64URL.decode("-_8BAg") == [0xFB, 0xFF, 0x01, 0x02])
        #expect(Base64URL.decode("-_8BAh") == nil)  // non-zero trailing bits
        #expect(Base64URL.decode("-_8BAg==") == nil)
        #expect(Base64URL.decode("A") == nil)
        var rng = DeterministicRNG(seed: 2)
        for n in 0..<40 {
            let b = (0..<n).map { _ in UInt8.random(in: 0...255, using: &rng) }
            #expect(Base64URL.decode(Base64URL.encode(b)) == b)
        }
    }

    @Test func hexAcceptsEitherCaseAndEmitsUpper() throws {
        #expect(try RoutingID(hex: "2a0000").hex == "2A0000")
        #expect(throws: CableProtocolError.self) { try RoutingID(hex: "2a00") }
        #expect(throws: CableProtocolError.self) { try RoutingID(hex: "2a000z") }
    }

    /// The one random-identifier helper: the right size for each identifier type, and from a seeded
    /// generator the same bytes that generator gives (so it draws every byte, in order).
    @Test func randomIdentifiersHaveTheirSizeAndUseTheGenerator() {
        var rng = DeterministicRNG(seed: 42)
        let routing = RoutingID.random(using: &rng)
        let tunnel = TunnelID.random(using: &rng)
        #expect(routing.bytes.count == RoutingID.byteCount)
        #expect(tunnel.bytes.count == TunnelID.byteCount)
        var replay = DeterministicRNG(seed: 42)
        let expected = (0..<(RoutingID.byteCount + TunnelID.byteCount)).map { _ in
            UInt8.random(in: .min ... .max, using: &replay)
        }
        #expect(routing.bytes + tunnel.bytes == expected)
        #expect(TunnelID.random() != TunnelID.random(), "the system generator (a 2^-128 chance of a false failure)")
    }
}
