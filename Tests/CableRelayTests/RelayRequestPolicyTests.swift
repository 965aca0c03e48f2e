import CableProtocol
import CableTestSupport
import CableTunnel
import Testing

@testable import CableRelay

/// The static request rules, in their documented order.
@Suite struct RelayRequestPolicyTests {
    static let tunnelHex = "68656C6C6F2C20776562617574686E21"

    func route(
        _ uri: String,
        method: String = "GET",
        upgrade: Bool = true,
        protocols: [String] = ["fido.cable"]
    ) -> Result<RelayRoute, RelayRefusal> {
        RelayRequestPolicy.route(method: method, uri: uri, isWebSocketUpgrade: upgrade, offeredSubprotocols: protocols)
    }

    @Test func newAndConnectRouteWithEitherHexCase() throws {
        let tunnel = try TunnelID(hex: Self.tunnelHex)
        #expect(self.route("/cable/new/\(Self.tunnelHex)") == .success(.create(tunnel)))
        #expect(self.route("/cable/new/\(Self.tunnelHex.lowercased())") == .success(.create(tunnel)))
        let routing = try RoutingID(hex: "2A0000")
        #expect(self.route("/cable/connect/2a0000/\(Self.tunnelHex.lowercased())") == .success(.join(routing, tunnel)))
    }

    @Test func thePathsOfThePeerVectorsRoute() throws {
        for vector in SpecVectorFile.load("tunnel-paths").vectors {
            guard let path = vector.expected?["path"]?.string else { continue }
            guard case .success = self.route(path) else {
                Issue.record("\(vector.id): \(path) did not route")
                continue
            }
        }
    }

    @Test func onlyGETIsServed() {
        for method in ["POST", "PUT", "HEAD", "DELETE", "get"] {
            #expect(self.route("/cable/new/\(Self.tunnelHex)", method: method) == .failure(.methodNotAllowed))
        }
    }

    @Test func malformedPathsAre400() {
        for uri in [
            "/", "/cable", "/cable/", "/cable/new/", "/cable/new/00", "/cable/new/\(String(repeating: "g", count: 32))",
            "/cable/connect/ABCD/\(Self.tunnelHex)", "/cable/connect/\(Self.tunnelHex)",
            "/cable/new/\(Self.tunnelHex)/x", "/cable/new/\(Self.tunnelHex)?q=1",
            "http://host/cable/new/\(Self.tunnelHex)",
            "/" + String(repeating: "a", count: 600),
        ] {
            guard case .failure(let refusal) = self.route(uri) else {
                Issue.record("\(uri) routed")
                continue
            }
            #expect(refusal.status == 400, "\(uri)")
        }
    }

    @Test func contactIsGoneEvenWithoutUpgradeOrSubprotocol() {
        #expect(self.route("/cable/contact/AAECAwQ", upgrade: false, protocols: []) == .failure(.contactGone))
        #expect(self.route("/cable/contact/AAECAwQ") == .failure(.contactGone))
    }

    @Test func aPlainRequestForAValidPathNeedsTheUpgrade() {
        #expect(self.route("/cable/new/\(Self.tunnelHex)", upgrade: false) == .failure(.notWebSocket))
    }

    @Test func theSubprotocolMustBeOffered() throws {
        let tunnel = try TunnelID(hex: Self.tunnelHex)
        #expect(self.route("/cable/new/\(Self.tunnelHex)", protocols: []) == .failure(.missingSubprotocol))
        #expect(self.route("/cable/new/\(Self.tunnelHex)", protocols: ["FIDO.CABLE"]) == .failure(.missingSubprotocol))
        #expect(
            self.route("/cable/new/\(Self.tunnelHex)", protocols: ["chat", "fido.cable"])
                == .success(.create(tunnel))
        )
    }

    @Test func everyRefusalHasAReasonPhrase() {
        for refusal in [
            RelayRefusal.methodNotAllowed, .malformedPath("x"), .contactGone, .invalidUpgrade, .notWebSocket,
            .missingSubprotocol,
            .unknownTunnel, .wrongRoutingID, .tunnelExists, .tunnelAlreadyJoined, .tooManyTunnels,
            .tooManyConnections, .shuttingDown, .headTooLarge,
        ] {
            #expect(refusal.reasonPhrase != "Error", "\(refusal)")
        }
    }
}
