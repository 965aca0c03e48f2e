import CableProtocol
import CableTestSupport
import CableTunnel
import CableTunnelTestSupport
import Testing

@testable import CableRelay

/// The tunnel service driven by an independent client: Python's `websockets` library, plus raw
/// sockets for what no WebSocket library sends (`Python/relay_client.py`). The script reports what
/// it observed; the rules are asserted here. Serialized: each scenario starts a Python process, and
/// twenty of them at once would starve the timing-sensitive tests running beside them.
@Suite(.serialized, .timeLimit(.minutes(2))) struct TunnelServiceInteropTests {
    func run(
        _ scenario: String,
        _ extra: [String] = [],
        configure: (inout TunnelService.Configuration) -> Void = { _ in }
    ) async throws -> (JSONValue, RelayHarness) {
        let (relay, loops) = try await startRelayOnOwnLoops(configure)
        defer { loops.shutdownGracefully { _ in } }
        do {
            let result = try await PythonTool.run(
                "relay_client.py",
                [scenario, "--port", String(relay.address.port)] + extra
            )
            await relay.server.shutdown()
            return (result, relay)
        } catch {
            await relay.server.shutdown()
            throw error
        }
    }

    @Test func theMessageCheckerCatchesAReorderedOrChangedMessage() {
        let a: JSONValue = .object([
            "type": .string("binary"), "length": .number(3), "sha256": .string(String(repeating: "a", count: 64)),
        ])
        let b: JSONValue = .object([
            "type": .string("binary"), "length": .number(3), "sha256": .string(String(repeating: "b", count: 64)),
        ])
        withKnownIssue("reordered") { expectSameMessages(.array([b, a]), .array([a, b]), "reordered") }
        withKnownIssue("changed") { expectSameMessages(.array([a, a]), .array([a, b]), "changed") }
        withKnownIssue("missing") { expectSameMessages(.array([a]), .array([a, b]), "missing") }
        expectSameMessages(.array([a, b]), .array([a, b]), "same")
    }

    @Test func pairingAndForwardingBothWaysWithOneMebibyteMessages() async throws {
        let (r, relay) = try await self.run("pair-forward")
        #expect(r["phoneSubprotocol"]?.string == "fido.cable")
        #expect(r["desktopSubprotocol"]?.string == "fido.cable")
        #expect(r["routingHeader"]?.string == relay.server.routingID.hex)
        expectSameMessages(r["phoneReceived"], r["sentToPhone"], "desktop → phone")
        expectSameMessages(r["desktopReceived"], r["sentToDesktop"], "phone → desktop")
        #expect(r["sentToPhone"]?.array?.last?["length"]?.int == 1 << 20)
        #expect(r["phoneCloseCode"]?.int == Int(WebSocketCloseCode.normalClosure.rawValue))
    }

    @Test func framesBeforeTheJoinAreHeldAndDeliveredInOrder() async throws {
        let (r, _) = try await self.run("held-frames")
        // The held messages first, in order, then the live one.
        let sent = (r["sentEarly"]?.array ?? []) + [r["sentLate"]].compactMap { $0 }
        expectSameMessages(r["desktopReceived"], .array(sent), "held then live")
        #expect(r["desktopCloseCode"]?.int == 1000)
    }

    @Test func everyRefusalHasItsStatus() async throws {
        let (r, _) = try await self.run("refusals")
        #expect(r["noSubprotocol"]?.int == 400)
        #expect(r["otherSubprotocol"]?.int == 400)
        #expect(r["unknownTunnel"]?.int == 404)
        #expect(r["wrongRoutingID"]?.int == 404)
        #expect(r["duplicateNew"]?.int == 409)
        #expect(r["secondJoin"]?.int == 409)
        #expect(r["contact"]?.int == 410)
        let malformed = try #require(r["malformed"]?.object)
        #expect(malformed.count == 9)
        for (path, status) in malformed {
            #expect(status.int == 400, "\(path)")
        }
    }

    @Test func methodsOtherThanGETAre405AndAPlainGETIs426() async throws {
        let (r, _) = try await self.run("method")
        let methods = try #require(r["methods"]?.object)
        #expect(methods.count == 4)
        for (method, status) in methods {
            #expect(status.int == 405, "\(method)")
        }
        #expect(r["plainGet"]?.int == 426)
    }

    @Test func anOversizedFrameIs1009AndThePeerIsTold1001() async throws {
        let (r, _) = try await self.run("oversized-frame")
        #expect(r["senderCloseCode"]?.int == 1009)
        #expect(r["peerCloseCode"]?.int == 1001)
    }

    @Test func anOversizedFragmentedMessageIs1009() async throws {
        let (r, _) = try await self.run("oversized-fragmented")
        #expect(r["senderCloseCode"]?.int == 1009)
        #expect(r["peerCloseCode"]?.int == 1001)
    }

    @Test func fragmentedMessagesAreReassembledUpToTheLimit() async throws {
        let (r, _) = try await self.run("fragmented-ok")
        #expect(r["sentFragments"]?.array?.count == 10)
        expectSameMessages(
            .array([r["received"]].compactMap { $0 }),
            .array([r["sentWhole"]].compactMap { $0 }),
            "10 fragments"
        )
        expectSameMessages(
            .array([r["receivedAtLimit"]].compactMap { $0 }),
            .array([r["sentAtLimit"]].compactMap { $0 }),
            "1 MiB in 16 fragments"
        )
        #expect(r["receivedAtLimit"]?["length"]?.int == 1 << 20)
    }

    @Test func aTextFrameIs1003() async throws {
        let (r, _) = try await self.run("text-frame")
        #expect(r["senderCloseCode"]?.int == 1003)
        #expect(r["peerCloseCode"]?.int == 1001)
    }

    @Test func anAbruptDisconnectIsReportedToThePeerAs1001() async throws {
        let (r, relay) = try await self.run("abrupt-disconnect")
        #expect(r["peerCloseCode"]?.int == 1001)
        #expect(relay.server.statistics.tunnels == 0)
    }

    @Test func pingsAreAnsweredUpToTheBudgetThenTheFloodIsClosedWith1008() async throws {
        let (r, _) = try await self.run("ping-flood", ["--limit", "5"]) { $0.maxPingsPerWindow = 5 }
        #expect(r["answered"]?.int == 5)
        #expect(r["senderCloseCode"]?.int == 1008)
        #expect(r["peerCloseCode"]?.int == 1001)
    }

    @Test func garbageBeforeTheUpgradeIs400() async throws {
        let (r, relay) = try await self.run("garbage")
        #expect(r["binaryGarbage"]?.int == 400)
        #expect(r["badRequestLine"]?.int == 400)
        let slowest = try #require(r["slowestClose"].flatMap { if case .number(let n) = $0 { n } else { nil } })
        #expect(slowest < 2, "the connection is closed right after the 400, not at the upgrade timeout")
        #expect(relay.server.statistics.openConnections == 0)
    }

    @Test func aStalledRequestHeadIsClosedAtTheUpgradeTimeout() async throws {
        let (r, relay) = try await self.run("slowloris") { $0.upgradeTimeout = .milliseconds(300) }
        #expect(
            ["eof", "reset"].contains(r["end"]?.string),
            "the relay closed the socket: \(String(describing: r["end"]))"
        )
        let seconds = try #require(r["seconds"].flatMap { if case .number(let n) = $0 { n } else { nil } })
        #expect(seconds >= 0.25 && seconds < 5)
        #expect(relay.logs.all.contains { $0.contains("upgrade not completed in time") })
    }

    @Test func anOversizedRequestHeadIs431() async throws {
        let (r, _) = try await self.run("head-too-large")
        #expect(r["status"]?.int == 431)
    }

    @Test func anUnmaskedClientFrameIs1002() async throws {
        let (r, _) = try await self.run("unmasked-frame")
        #expect(r["opcode"]?.int == 8)
        #expect(r["closeCode"]?.int == 1002)
        #expect(r["peerCloseCode"]?.int == 1001)
    }

    @Test(.timeLimit(.minutes(2))) func threeHundredTunnelsAtOnce() async throws {
        let (r, relay) = try await self.run("many-tunnels", ["--limit", "300"])
        let tunnels = try #require(r["tunnels"]?.array)
        #expect(tunnels.count == 300, "\(r["failures"].map { "\($0)" } ?? "")")
        for tunnel in tunnels {
            expectSameMessages(tunnel["received"], tunnel["sent"], "ping and pong")
            #expect(tunnel["phoneCloseCode"]?.int == 1000)
        }
        #expect(relay.server.statistics.tunnels == 0)
    }
}

/// RFC 6455's own wire examples (`Spec/vectors/websocket-rfc6455.json`) sent to and expected from
/// the relay by a hand-made desktop.
@Suite(.serialized, .timeLimit(.minutes(1))) struct TunnelServiceRFC6455Tests {
    static let vectors = SpecVectorFile.load("websocket-rfc6455").vectors

    func vector(_ id: String) throws -> SpecVector {
        try #require(Self.vectors.first { $0.id == id })
    }

    func exchange(frames: [String] = [], phoneSends: [Int] = [], key: String? = nil) async throws -> JSONValue {
        try await withRelay { relay in
            var arguments = ["raw-exchange", "--port", String(relay.address.port)]
            if let key { arguments += ["--key", key] }
            if !frames.isEmpty { arguments += ["--frames", frames.joined(separator: ",")] }
            if !phoneSends.isEmpty {
                arguments += ["--phone-sends", phoneSends.map(String.init).joined(separator: ",")]
            }
            return try await PythonTool.run("relay_client.py", arguments)
        }
    }

    func frameStrings(_ vector: SpecVector) throws -> [String] {
        let frames = vector.input["frames"]?.array?.compactMap { $0.string }
        return try #require(frames)
    }

    @Test func theOpeningHandshakeAnswersTheRFCAcceptValue() async throws {
        let v = try self.vector("opening_handshake_accept")
        let r = try await self.exchange(key: try #require(v.input["key"]?.string))
        #expect(r["status"]?.int == 101)
        let accept = r["accept"]?.array?.compactMap { $0.string }
        #expect(accept == [try #require(v.expected?["accept"]?.string)])
    }

    @Test func relayedMessagesUseTheRFCsUnmaskedFrameHeaders() async throws {
        let headers = try ["binary_256_unmasked_header", "binary_65536_unmasked_header"].map(self.vector)
        let lengths = try headers.map { try #require($0.expected?["payloadLength"]?.int) }
        let r = try await self.exchange(phoneSends: lengths)
        let relayed = try #require(r["relayedFrames"]?.array)
        #expect(relayed.count == headers.count)
        for (frame, vector) in zip(relayed, headers) {
            #expect(frame["header"]?.string == vector.input["header"]?.string, "\(vector.id)")
            #expect(frame["opcode"]?.int == 2, "\(vector.id)")
            #expect(frame["masked"]?.bool == false, "\(vector.id): server frames are never masked")
            expectSameMessages(
                .array([frame["received"]].compactMap { $0 }),
                .array([frame["sent"]].compactMap { $0 }),
                vector.id
            )
        }
    }

    @Test func theRFCsMaskedTextFrameIsRefusedWith1003() async throws {
        let v = try self.vector("single_frame_masked_text")
        #expect(v.expected?["opcode"]?.string == "text")
        let r = try await self.exchange(frames: try self.frameStrings(v))
        let close = try #require(r["framesBack"]?.array?.last)
        #expect(close["opcode"]?.int == 8)
        #expect(close["masked"]?.bool == false, "server frames are never masked")
        #expect(close["payload"]?.string?.hasPrefix("03eb") == true)  // 1003
        #expect(r["phoneReceived"] == .null, "the probe after the refused frame must not reach the phone")
        #expect(r["phoneCloseCode"]?.int == 1001)
    }

    @Test(arguments: ["single_frame_unmasked_text", "fragmented_unmasked_text", "unmasked_ping"])
    func theRFCsUnmaskedFramesFromAClientAreRefusedWith1002(id: String) async throws {
        let v = try self.vector(id)
        #expect(v.expected?["masked"]?.bool == false)
        let r = try await self.exchange(frames: try self.frameStrings(v))
        let close = try #require(r["framesBack"]?.array?.last)
        #expect(close["opcode"]?.int == 8)
        #expect(close["payload"]?.string?.hasPrefix("03ea") == true)  // 1002
    }

    @Test func theRFCsMaskedPongIsIgnoredAndTheTunnelCarriesOn() async throws {
        let v = try self.vector("masked_pong")
        let r = try await self.exchange(frames: try self.frameStrings(v))
        #expect(r["framesBack"]?.array?.isEmpty == true)
        #expect(r["phoneReceived"]?.string == r["probe"]?.string)
        #expect(
            r["probe"]?.string
                == Array("probe after the frames".utf8).map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
        )
    }
}

/// Checks that `received` is exactly `sent`: the same number of messages, each binary with the
/// same length and SHA-256, in the same order. The script only reports what it saw; the verdict
/// is made here (a checker that cannot fail would prove nothing: see the test after this one).
func expectSameMessages(
    _ received: JSONValue?,
    _ sent: JSONValue?,
    _ what: String,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    guard let received = received?.array, let sent = sent?.array, !sent.isEmpty else {
        Issue.record("\(what): no messages reported", sourceLocation: sourceLocation)
        return
    }
    #expect(received.count == sent.count, "\(what): message count", sourceLocation: sourceLocation)
    for (index, (got, expected)) in zip(received, sent).enumerated() {
        #expect(got["type"]?.string == "binary", "\(what) #\(index): type", sourceLocation: sourceLocation)
        #expect(got["length"] == expected["length"], "\(what) #\(index): length", sourceLocation: sourceLocation)
        #expect(
            got["sha256"]?.string?.count == 64 && got["sha256"] == expected["sha256"],
            "\(what) #\(index): bytes",
            sourceLocation: sourceLocation
        )
    }
}
