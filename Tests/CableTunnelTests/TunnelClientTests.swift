import CableProtocol
import CableTestSupport
import CableTunnelTestSupport
import Foundation
import Testing

@testable import CableTunnel

/// The client against a scripted tunnel service (`Python/fake_tunnel_service.py`) that answers as
/// told, including everything a correct relay never does. Serialized: each test starts a Python
/// process, and forty of them starting at once beside the other suites would starve two cores.
@Suite(.serialized, .timeLimit(.minutes(3))) struct TunnelClientTests {
    static let rfc = SpecVectorFile.load("websocket-rfc6455").vectors
    static let paths = SpecVectorFile.load("tunnel-paths").vectors
    static let tunnel = TunnelID.random()
    static let goodNewHeaders = [
        "--header", "Sec-WebSocket-Protocol:fido.cable", "--header", "X-caBLE-Routing-ID:2A0000",
    ]

    /// A fake service and the URL to reach it.
    func fake(_ arguments: [String]) async throws -> (PythonProcess, TunnelServiceURL) {
        let process = try PythonProcess(script: "fake_tunnel_service.py", arguments: arguments)
        let port = try await process.firstLine(withPrefix: "PORT ")
        return (process, try TunnelServiceURL(host: "127.0.0.1", port: Int(port)))
    }

    /// Connects to a fake and returns the error, or `nil` when the connect succeeded.
    func connectError(_ arguments: [String], endpoint: TunnelEndpoint = .new(Self.tunnel)) async throws -> TunnelError?
    {
        // The fake holds the connection until the client closes it (a caller's --read-seconds wins).
        let (process, url) = try await self.fake(["--read-seconds", "30"] + arguments)
        defer { process.terminate() }
        do {
            // Generous: the fake answers at once; only a loaded machine (tests run in parallel) is slow.
            let connection = try await TunnelClient.connect(to: url, endpoint: endpoint, timeout: .seconds(60))
            await connection.close()
            return nil
        } catch {
            return error
        }
    }

    func rfcFrames(_ id: String) throws -> String {
        let vector = try #require(Self.rfc.first { $0.id == id })
        let frames = vector.input["frames"]?.array?.compactMap { $0.string }
        return try #require(frames).joined(separator: ",")
    }

    /// What the fake received: each frame's opcode, mask bit and unmasked payload.
    func framesSent(by process: PythonProcess) async throws -> [(opcode: Int, masked: Bool, payload: String)] {
        let result = try await process.result()
        return (result["frames"]?.array ?? []).map {
            ($0["opcode"]?.int ?? -1, $0["masked"]?.bool ?? false, $0["payload"]?.string ?? "")
        }
    }

    // MARK: - The request

    @Test func theRequestUsesThePeerVectorPathsHostAndSubprotocol() async throws {
        for vector in Self.paths.filter({ $0.expected?["path"] != nil }) {
            let tunnel = try TunnelID(bytes: try #require(vector.input["tunnelID"]).bytes)
            let endpoint: TunnelEndpoint
            if let routing = vector.input["routingID"] {
                endpoint = .connect(try RoutingID(bytes: routing.bytes), tunnel)
            } else {
                endpoint = .new(tunnel)
            }
            // The fake holds the connection until the client closes it (bounded by --read-seconds).
            let (process, url) = try await self.fake(Self.goodNewHeaders + ["--then", "hold", "--read-seconds", "30"])
            let connection = try await TunnelClient.connect(to: url, endpoint: endpoint, timeout: .seconds(60))
            try await connection.send([1, 2, 3])
            await connection.close()
            let result = try await process.result()
            let request = try #require(result["request"]?.array?.compactMap { $0.string })
            #expect(request.first == "GET \(try #require(vector.expected?["path"]?.string)) HTTP/1.1", "\(vector.id)")
            let headers = Set(request.dropFirst().map { $0.lowercased() })
            #expect(headers.contains("host: 127.0.0.1:\(url.port)"))
            #expect(headers.contains("sec-websocket-protocol: fido.cable"))
            #expect(headers.contains("sec-websocket-version: 13"))
            #expect(headers.contains("origin: ws://127.0.0.1:\(url.port)"), "Chromium's origin header")
            let frames = (result["frames"]?.array ?? []).map {
                ($0["opcode"]?.int, $0["masked"]?.bool, $0["payload"]?.string)
            }
            #expect(
                frames.first?.0 == 2 && frames.first?.1 == true && frames.first?.2 == "010203",
                "client frames are masked"
            )
            #expect(frames.last?.0 == 8 && frames.last?.2 == "03e8", "close() sends 1000")
        }
    }

    // MARK: - The response

    @Test func aLowerCaseRoutingIDIsAccepted() async throws {
        let (process, url) = try await self.fake([
            "--header", "Sec-WebSocket-Protocol:fido.cable", "--header", "x-cable-routing-id:2a0000",
        ])
        defer { process.terminate() }
        let connection = try await TunnelClient.connect(
            to: url,
            endpoint: .new(Self.tunnel),
            timeout: generousUpgradeTimeout
        )
        #expect(connection.routingID?.hex == "2A0000")
        await connection.close()
    }

    @Test func theSubprotocolMustBeExactlyFidoCable() async throws {
        #expect(try await self.connectError(["--header", "X-caBLE-Routing-ID:2A0000"])?.code == .subprotocolMismatch)
        #expect(
            try await self.connectError([
                "--header", "Sec-WebSocket-Protocol:chat", "--header", "X-caBLE-Routing-ID:2A0000",
            ])?
            .code == .subprotocolMismatch
        )
        #expect(
            try await self.connectError([
                "--header", "Sec-WebSocket-Protocol:fido.cable", "--header", "Sec-WebSocket-Protocol:fido.cable",
                "--header", "X-caBLE-Routing-ID:2A0000",
            ])?.code == .subprotocolMismatch
        )
    }

    @Test func theRoutingIDOnNewMustBeOneHeaderOfThreeHexBytes() async throws {
        let subprotocol = ["--header", "Sec-WebSocket-Protocol:fido.cable"]
        #expect(try await self.connectError(subprotocol)?.code == .missingRoutingID)
        for bad in ["ZZZZZZ", "0102", "01020304", "", "2A 000"] {
            #expect(
                try await self.connectError(subprotocol + ["--header", "X-caBLE-Routing-ID:\(bad)"])?.code
                    == .invalidRoutingID,
                "\(bad)"
            )
        }
        #expect(
            try await self.connectError(
                subprotocol + ["--header", "X-caBLE-Routing-ID:2A0000", "--header", "X-caBLE-Routing-ID:2A0000"]
            )?.code
                == .duplicateRoutingID
        )
    }

    @Test func connectNeedsNoRoutingID() async throws {
        let error = try await self.connectError(
            ["--header", "Sec-WebSocket-Protocol:fido.cable"],
            endpoint: .connect(try RoutingID(hex: "2A0000"), Self.tunnel)
        )
        #expect(error == nil)
    }

    @Test(arguments: [
        (400, TunnelError.Code.badRequest), (404, .tunnelNotFound), (409, .tunnelConflict), (410, .pairingGone),
        (503, .serviceUnavailable), (500, .httpRefused), (302, .httpRefused),
    ])
    func httpStatusesBecomeTypedErrors(status: Int, code: TunnelError.Code) async throws {
        let error = try await self.connectError(["--status", String(status)])
        #expect(error?.code == code)
        #expect(error?.httpStatus == status)
    }

    @Test func aSilentServiceTimesOut() async throws {
        // The fake stays silent far longer than the timeout; the bound below only rules out a hang.
        let (process, url) = try await self.fake(["--silent", "--read-seconds", "60"])
        defer { process.terminate() }
        let started = ContinuousClock.now
        await #expect(throws: TunnelError(.connectTimedOut, "")) {
            _ = try await TunnelClient.connect(to: url, endpoint: .new(Self.tunnel), timeout: .seconds(2))
        }
        #expect(ContinuousClock.now - started < .seconds(40))
    }

    @Test func nothingListeningIsAConnectFailureThatSaysToStartTheRelay() async throws {
        // Bind a relay, learn its port, stop it: nothing listens there afterwards.
        let relay = try await RelayHarness.start()
        await relay.server.shutdown()
        let error = await #expect(throws: TunnelError.self) {
            _ = try await TunnelClient.connect(to: relay.url, endpoint: .new(Self.tunnel), timeout: .seconds(30))
        }
        #expect(error?.code == .connectFailed)
        #expect(error?.host == "127.0.0.1:\(relay.address.port)")
        #expect(error?.description.contains("connection refused") == true)
        #expect(error?.description.contains("`cable relay`") == true)
        #expect(error?.underlying != nil, "the socket error is kept")
        #expect(error?.description.contains("NIO") == false, "no internal type names")
    }

    /// Issue 16: a phone that scanned a QR code the desktop no longer waits for is told so.
    @Test(arguments: [404, 410])
    func aGoneTunnelSaysTheQRCodeWasUsedOrExpired(status: Int) async throws {
        let error = try #require(try await self.connectError(["--status", String(status)]))
        #expect(error.httpStatus == status)
        #expect(error.description.contains("no longer waiting for this QR code"))
        #expect(error.description.contains("show a new QR code"))
    }

    /// The relay closing a phone's tunnel because no desktop came is explained the same way.
    @Test func aTunnelNobodyJoinedSaysTheDesktopIsNoLongerWaiting() async throws {
        try await withRelay({
            $0.peerWaitTimeout = .milliseconds(200)
        }) { relay in
            let (phone, _) = try await relay.newTunnel()
            let error = await #expect(throws: TunnelError.self) { _ = try await phone.receive() }
            #expect(error?.code == .closedByRemote)
            #expect(error?.closeCode == .policyViolation)
            #expect(error?.description.contains("no longer waiting for this QR code") == true)
            await phone.close()
        }
    }

    /// Chromium's `FidoTunnelDevice` constructors pass `url::Origin::Create(url)` to
    /// `CreateWebSocket`, so every tunnel request carries the service URL's origin: scheme, lower-case
    /// host, and the port only when it is not the scheme's default.
    @Test(arguments: [
        ("wss://cable.ua5v.com", "wss://cable.ua5v.com"), ("wss://cable.auth.com:443", "wss://cable.auth.com"),
        ("wss://Cable.Example.ORG:8443", "wss://cable.example.org:8443"),
        ("ws://127.0.0.1:8080", "ws://127.0.0.1:8080"),
        ("ws://[::1]:80", "ws://[::1]"),
    ])
    func theOriginIsTheServiceURLsOriginAsChromiumSendsIt(url: String, origin: String) throws {
        #expect(try TunnelServiceURL(string: url).origin == origin)
    }

    /// Chromium's `WebSocketAdapter::OnConnectionEstablished` checks `X-caBLE-Routing-ID` on every
    /// tunnel response: a second header or one that is not 3 bytes of hex fails the tunnel on
    /// `/cable/connect/` too; none at all is fine there.
    @Test func theRoutingIDHeaderIsValidatedOnConnectToo() async throws {
        let endpoint = TunnelEndpoint.connect(try RoutingID(hex: "2A0000"), Self.tunnel)
        let subprotocol = ["--header", "Sec-WebSocket-Protocol:fido.cable"]
        #expect(
            try await self.connectError(subprotocol + ["--header", "X-caBLE-Routing-ID:ZZZZZZ"], endpoint: endpoint)?
                .code
                == .invalidRoutingID
        )
        #expect(
            try await self.connectError(
                subprotocol + ["--header", "X-caBLE-Routing-ID:2A0000", "--header", "X-caBLE-Routing-ID:2A0000"],
                endpoint: endpoint
            )?.code == .duplicateRoutingID
        )
        #expect(
            try await self.connectError(subprotocol + ["--header", "X-caBLE-Routing-ID:2A0000"], endpoint: endpoint)
                == nil
        )
        let contact = TunnelEndpoint.contact(contactID: [1, 2, 3])
        #expect(
            try await self.connectError(subprotocol + ["--header", "X-caBLE-Routing-ID:01"], endpoint: contact)?.code
                == .invalidRoutingID
        )
    }

    @Test func responseHeaderNamesCompareCaseInsensitively() throws {
        let routing = try TunnelClient.validateUpgradeResponse(
            headers: [("sec-websocket-protocol", "fido.cable"), ("X-CABLE-ROUTING-ID", "0a0b0c")],
            endpoint: .new(Self.tunnel)
        )
        #expect(routing?.bytes == [0x0A, 0x0B, 0x0C])
    }

    // MARK: - Messages from the service

    @Test func theRFCsBinaryFramesArriveAsWholeMessages() async throws {
        for (id, length) in [("binary_256_unmasked_header", 256), ("binary_65536_unmasked_header", 65536)] {
            let vector = try #require(Self.rfc.first { $0.id == id })
            #expect(vector.expected?["payloadLength"]?.int == length)
            let payload = (0..<length).map { UInt8($0 % 251) }
            let frame = try #require(vector.input["header"]?.string) + "+pattern:\(length)"
            let (process, url) = try await self.fake(Self.goodNewHeaders + ["--frames", frame])
            let connection = try await TunnelClient.connect(
                to: url,
                endpoint: .new(Self.tunnel),
                timeout: generousUpgradeTimeout
            )
            #expect(try await connection.receive() == payload, "\(id)")
            await connection.close()
            process.terminate()
        }
    }

    @Test func framesInTheSameSegmentAsThe101AreNotLost() async throws {
        let (process, url) = try await self.fake(Self.goodNewHeaders + ["--frames", "8203010203", "--same-segment"])
        defer { process.terminate() }
        let connection = try await TunnelClient.connect(
            to: url,
            endpoint: .new(Self.tunnel),
            timeout: generousUpgradeTimeout
        )
        #expect(try await connection.receive() == [1, 2, 3])
        await connection.close()
    }

    @Test(arguments: ["single_frame_unmasked_text", "fragmented_unmasked_text"])
    func theRFCsTextMessagesAreAProtocolError(id: String) async throws {
        let (process, url) = try await self.fake(Self.goodNewHeaders + ["--frames", try self.rfcFrames(id)])
        let connection = try await TunnelClient.connect(
            to: url,
            endpoint: .new(Self.tunnel),
            timeout: generousUpgradeTimeout
        )
        await #expect(throws: TunnelError(.textMessage, "")) { _ = try await connection.receive() }
        await connection.close()
        let sent = try await self.framesSent(by: process)
        #expect(sent.last?.opcode == 8)
        #expect(sent.last?.payload.hasPrefix("03eb") == true, "closed with 1003")
    }

    @Test func aMaskedFrameFromTheServiceIsAProtocolError() async throws {
        let (process, url) = try await self.fake(
            Self.goodNewHeaders + ["--frames", try self.rfcFrames("single_frame_masked_text")]
        )
        defer { process.terminate() }
        let connection = try await TunnelClient.connect(
            to: url,
            endpoint: .new(Self.tunnel),
            timeout: generousUpgradeTimeout
        )
        await #expect(throws: TunnelError(.protocolViolation, "")) { _ = try await connection.receive() }
        await connection.close()
    }

    @Test func theRFCsPingIsAnsweredWithAMaskedPongOfTheSameBody() async throws {
        let ping = try #require(Self.rfc.first { $0.id == "unmasked_ping" })
        let pong = try #require(Self.rfc.first { $0.id == "masked_pong" })
        let (process, url) = try await self.fake(
            Self.goodNewHeaders + ["--frames", try self.rfcFrames("unmasked_ping") + ",8203010203"]
        )
        let connection = try await TunnelClient.connect(
            to: url,
            endpoint: .new(Self.tunnel),
            timeout: generousUpgradeTimeout
        )
        #expect(try await connection.receive() == [1, 2, 3])
        await connection.close()
        let sent = try await self.framesSent(by: process)
        let answer = try #require(sent.first)
        #expect(answer.opcode == 10)
        #expect(answer.masked == pong.expected?["masked"]?.bool)
        #expect(answer.payload == ping.expected?["payload"]?.string)
        #expect(answer.payload == pong.expected?["payload"]?.string)
    }

    @Test func anOversizedFrameFromTheServiceIsRefused() async throws {
        // A header announcing 1 MiB + 1 bytes: refused as soon as it is read.
        let header = "827f" + String(TunnelServiceProtocol.maxMessageSize + 1, radix: 16).leftPadded(to: 16)
        let (process, url) = try await self.fake(Self.goodNewHeaders + ["--frames", header + "00"])
        defer { process.terminate() }
        let connection = try await TunnelClient.connect(
            to: url,
            endpoint: .new(Self.tunnel),
            timeout: generousUpgradeTimeout
        )
        let error = await #expect(throws: TunnelError.self) { _ = try await connection.receive() }
        #expect(error?.code == .messageTooLarge)
        await connection.close()
    }

    @Test func anOversizedFragmentedMessageFromTheServiceIsRefused() async throws {
        let half = TunnelServiceProtocol.maxMessageSize / 2
        let fragment = { (first: Bool, fin: Bool) -> String in
            let opcode = (fin ? 0x80 : 0) | (first ? 0x02 : 0x00)
            return String(format: "%02x7f%016x", opcode, half + 1) + "+pattern:\(half + 1)"
        }
        let (process, url) = try await self.fake(
            Self.goodNewHeaders + ["--frames", fragment(true, false) + "," + fragment(false, true)]
        )
        defer { process.terminate() }
        let connection = try await TunnelClient.connect(
            to: url,
            endpoint: .new(Self.tunnel),
            timeout: generousUpgradeTimeout
        )
        await #expect(throws: TunnelError(.messageTooLarge, "")) { _ = try await connection.receive() }
        await connection.close()
    }

    /// NIOWebSocketFrameAggregator's fragment bound: a message in more than
    /// `TunnelConnection.maxFragmentsPerMessage` frames is refused with 1008; one in exactly that
    /// many arrives whole.
    @Test func fragmentsAreReassembledUpToTheFragmentLimit() async throws {
        let limit = TunnelConnection.maxFragmentsPerMessage
        func fragments(_ count: Int) -> String {
            (0..<count).map { i in
                let opcode = (i == count - 1 ? 0x80 : 0) | (i == 0 ? 0x02 : 0x00)
                return String(format: "%02x01%02x", opcode, i % 251)
            }.joined(separator: ",")
        }
        let (whole, wholeURL) = try await self.fake(Self.goodNewHeaders + ["--frames", fragments(limit)])
        defer { whole.terminate() }
        let first = try await TunnelClient.connect(
            to: wholeURL,
            endpoint: .new(Self.tunnel),
            timeout: generousUpgradeTimeout
        )
        #expect(try await first.receive() == (0..<limit).map { UInt8($0 % 251) })
        await first.close()

        let (split, splitURL) = try await self.fake(Self.goodNewHeaders + ["--frames", fragments(limit + 1)])
        let second = try await TunnelClient.connect(
            to: splitURL,
            endpoint: .new(Self.tunnel),
            timeout: generousUpgradeTimeout
        )
        let error = await #expect(throws: TunnelError.self) { _ = try await second.receive() }
        #expect(error?.code == .protocolViolation)
        #expect(error?.closeCode == .policyViolation)
        await second.close()
        let sent = try await self.framesSent(by: split)
        #expect(sent.last?.opcode == 8 && sent.last?.payload.hasPrefix("03f0") == true, "closed with 1008")
    }

    @Test func closeReasonsAreCutToTheControlFrameLimitAtACharacter() {
        let long = String(repeating: "é", count: 100)  // 200 bytes of UTF-8
        let cut = WebSocketCloseCode.fittingCloseReason(long)
        #expect(cut.utf8.count == 122 && cut.allSatisfy { $0 == "é" })
        #expect(WebSocketCloseCode.fittingCloseReason("peer did not join in time") == "peer did not join in time")
        #expect(WebSocketCloseCode.fittingCloseReason(String(repeating: "a", count: 123)).utf8.count == 123)
    }

    @Test func aCloseWith1000EndsTheStreamAndOtherCodesAreErrors() async throws {
        let (clean, cleanURL) = try await self.fake(Self.goodNewHeaders + ["--frames", "880203e8"])
        let first = try await TunnelClient.connect(
            to: cleanURL,
            endpoint: .new(Self.tunnel),
            timeout: generousUpgradeTimeout
        )
        #expect(try await first.receive() == nil)
        let reply = try await self.framesSent(by: clean)
        #expect(reply.last?.opcode == 8 && reply.last?.masked == true, "the close is answered")
        await first.close()

        let (vanished, vanishedURL) = try await self.fake(Self.goodNewHeaders + ["--frames", "880403e9686a"])
        defer { vanished.terminate() }
        let second = try await TunnelClient.connect(
            to: vanishedURL,
            endpoint: .new(Self.tunnel),
            timeout: generousUpgradeTimeout
        )
        let error = await #expect(throws: TunnelError.self) { _ = try await second.receive() }
        #expect(error?.code == .closedByRemote)
        #expect(error?.closeCode == .goingAway)
        await second.close()
    }

    @Test func anEndWithoutACloseFrameIsALostConnection() async throws {
        // The fake ends the connection only once the client has sent something: the message and the
        // end then never race the client's upgrade, however slow the machine.
        let (process, url) = try await self.fake(
            Self.goodNewHeaders + ["--frames", "820101", "--then", "eof", "--read-seconds", "30"]
        )
        defer { process.terminate() }
        let connection = try await TunnelClient.connect(to: url, endpoint: .new(Self.tunnel), timeout: .seconds(60))
        #expect(try await connection.receive() == [1], "messages before the end are delivered")
        try await connection.send([9])
        await #expect(throws: TunnelError(.connectionLost, "")) { _ = try await connection.receive() }
        await connection.close()
    }

    /// A service that closes with 1000 and then resets the socket before reading the client's close
    /// reply (a relay whose close grace period ran out on a busy machine: closing a socket with unread
    /// input sends a TCP RST) ended the tunnel cleanly: the reset that follows the close is not a
    /// lost connection.
    @Test func aResetAfterTheServicesCloseIsStillACleanEnd() async throws {
        let (process, url) = try await self.fake(
            Self.goodNewHeaders + ["--frames", "820101,880203e8", "--then", "reset", "--read-seconds", "10"]
        )
        defer { process.terminate() }
        let connection = try await TunnelClient.connect(
            to: url,
            endpoint: .new(Self.tunnel),
            timeout: generousUpgradeTimeout
        )
        #expect(try await connection.receive() == [1])
        #expect(try await connection.receive() == nil, "the service's 1000 is the end, whatever the socket does next")
        let reply = try await self.framesSent(by: process)
        #expect(reply.last?.opcode == 8, "the fake reset the socket after the client's close reply arrived")
        await connection.close()
    }

    // MARK: - Local rules

    @Test func messagesOverOneMebibyteAreNotSent() async throws {
        try await withRelay { relay in
            let (phone, _) = try await relay.newTunnel()
            await #expect(throws: TunnelError(.messageTooLarge, "")) {
                try await phone.send(Array(repeating: 0, count: TunnelServiceProtocol.maxMessageSize + 1))
            }
            await phone.close()
        }
    }

    /// A batch leaves as its messages, in order, each one binary frame masked with a key of its own
    /// (read back by the Python fake's own frame parser); an empty batch sends nothing.
    @Test func aBatchIsSentAsItsMessagesInOrderEachMaskedAndBinary() async throws {
        let (process, url) = try await self.fake(Self.goodNewHeaders + ["--then", "hold", "--read-seconds", "10"])
        defer { process.terminate() }
        let connection = try await TunnelClient.connect(
            to: url,
            endpoint: .new(Self.tunnel),
            timeout: generousUpgradeTimeout
        )
        let large = [UInt8](repeating: 0xAB, count: 70_000)  // a 64-bit length field
        try await connection.send(contentsOf: [[1, 2, 3], [], large])
        try await connection.send(contentsOf: [])
        try await connection.send([9])
        await connection.close()
        let frames = try await self.framesSent(by: process)
        #expect(frames.map(\.opcode) == [2, 2, 2, 2, 8])
        #expect(frames.allSatisfy { $0.masked })
        #expect(frames.prefix(4).map(\.payload) == ["010203", "", String(repeating: "ab", count: 70_000), "09"])
    }

    /// A batch holding a message over the limit is refused whole: nothing of it reaches the peer.
    @Test func aBatchWithAMessageOverOneMebibyteSendsNothing() async throws {
        try await withRelay { relay in
            let (phone, desktop) = try await relay.pair()
            await #expect(throws: TunnelError(.messageTooLarge, "")) {
                try await phone.send(contentsOf: [
                    [1], Array(repeating: 0, count: TunnelServiceProtocol.maxMessageSize + 1),
                ])
            }
            try await phone.send(contentsOf: [[2], [3]])
            #expect(try await desktop.receive() == [2])
            #expect(try await desktop.receive() == [3])
            await phone.close()
            await #expect(throws: TunnelError(.channelClosed, "")) { try await phone.send(contentsOf: [[4]]) }
            await desktop.close()
        }
    }

    @Test func closeIsIdempotentAndEndsAPendingReceive() async throws {
        try await withRelay { relay in
            let (phone, _) = try await relay.newTunnel()
            async let pending = phone.receive()
            try await Task.sleep(for: .milliseconds(50))
            await phone.close()
            await phone.close()
            #expect(try await pending == nil)
            await #expect(throws: TunnelError(.channelClosed, "")) { try await phone.send([1]) }
        }
    }

    /// Cancelling the consumer of an `NIOAsyncChannel` ends its inbound stream, so a cancelled
    /// receive ends the connection: the next receive and send say so, and the peer sees a close.
    @Test func aCancelledReceiveThrowsCancellationAndClosesTheConnection() async throws {
        try await withRelay { relay in
            let (phone, desktop) = try await relay.pair()
            let waiting = Task { try await phone.receive() }
            try await Task.sleep(for: .milliseconds(50))
            waiting.cancel()
            await #expect(throws: CancellationError.self) { _ = try await waiting.value }
            await #expect(throws: TunnelError(.channelClosed, "")) { _ = try await phone.receive() }
            await #expect(throws: TunnelError(.channelClosed, "")) { try await phone.send([1]) }
            #expect(try await desktop.receive() == nil, "the relay forwards the phone's close")
            await phone.close()
            await desktop.close()
        }
    }

    /// A connection has one consumer. A second receive while one is pending is refused at once as
    /// the caller's mistake, never reported as "closed" on an open connection, and the pending
    /// receive still gets the next message.
    @Test func aSecondConcurrentReceiveIsRefusedAndThePendingOneIsUndisturbed() async throws {
        try await withRelay { relay in
            let (phone, desktop) = try await relay.pair()
            let first = Task { try await phone.receive() }
            try await eventually("the first receive is pending") { phone.isReceiving }
            let error = await #expect(throws: TunnelError.self) { _ = try await phone.receive() }
            #expect(error?.code == .concurrentReceive)
            try await desktop.send([7, 8])
            #expect(try await first.value == [7, 8])
            // One after another, from different tasks, is fine.
            try await desktop.send([9])
            #expect(try await Task { try await phone.receive() }.value == [9])
            await phone.close()
            await desktop.close()
        }
    }

    /// Many messages sent back to back, read by one task after another: each arrives once, in order,
    /// and none is lost to a reader that gave up early (the old queue could hand `nil` to one).
    @Test func messagesReadFromSuccessiveTasksArriveOnceInOrder() async throws {
        try await withRelay { relay in
            let (phone, desktop) = try await relay.pair()
            for i in 0..<40 { try await desktop.send([UInt8(i)]) }
            var received: [UInt8] = []
            for _ in 0..<40 {
                let message = try await Task { try await phone.receive() }.value
                received.append(contentsOf: try #require(message))
            }
            #expect(received == (0..<40).map { UInt8($0) })
            await desktop.close()
            #expect(try await phone.receive() == nil)
            await phone.close()
        }
    }

}

extension String {
    /// Left-pads with zeros (for fixed-width hex).
    func leftPadded(to width: Int) -> String {
        String(repeating: "0", count: max(0, width - self.count)) + self
    }
}
