import CableCrypto
@_spi(Fuzzing) import CableProtocol
import CableTestSupport
import Testing

/// The two handshake machines run back to back, then fed tampered, truncated, replayed, reflected and
/// misdirected messages. Every rejection must be a specific `CableProtocolError` and final.
@Suite struct NoiseHandshakeTests {
    // MARK: - Success

    @Test(arguments: HandshakePattern.allCases)
    func initiatorAndResponderAgreeOnKeysAndHash(_ pattern: HandshakePattern) throws {
        let run = try NoiseFixture.handshake(pattern)
        #expect(run.message1.count == HandshakeMessageSize.message)
        #expect(run.message2.count == HandshakeMessageSize.message)
        #expect(run.desktop.handshakeHash == run.phone.handshakeHash)
        var desktop = run.desktop.crypter
        var phone = run.phone.crypter
        #expect(try phone.open(desktop.seal([1, 2, 3])) == [1, 2, 3])
        #expect(try desktop.open(phone.seal([4, 5, 6])) == [4, 5, 6])
    }

    @Test func theTwoPatternsProduceDifferentTranscripts() throws {
        let kn = try NoiseFixture.handshake(.knpsk0)
        let nk = try NoiseFixture.handshake(.nkpsk0)
        // Same ephemeral key, so the same first 65 bytes; everything keyed differs.
        #expect(kn.message1.prefix(65) == nk.message1.prefix(65))
        #expect(kn.message1.suffix(16) != nk.message1.suffix(16))
        #expect(kn.desktop.handshakeHash != nk.desktop.handshakeHash)
    }

    @Test(arguments: HandshakePattern.allCases)
    func fixedEphemeralsMakeTheTranscriptReproducible(_ pattern: HandshakePattern) throws {
        let first = try NoiseFixture.handshake(pattern)
        let second = try NoiseFixture.handshake(pattern)
        #expect(first.message1 == second.message1)
        #expect(first.message2 == second.message2)
        #expect(first.desktop.handshakeHash == second.desktop.handshakeHash)
    }

    @Test func randomEphemeralsFromThePublicInitialisersStillAgree() throws {
        let psk = NoiseFixture.psk()
        var initiator = try HandshakeInitiator(
            qrFlowWith: psk,
            identityScalar: NoiseFixture.desktopIdentity.rawScalar.bytes
        )
        var responder = try HandshakeResponder(
            qrFlowWith: psk,
            desktopIdentity: NoiseFixture.desktopIdentity.publicKey.compressedRepresentation
        )
        let message1 = try initiator.makeInitialMessage()
        let message2Answer = try responder.respond(to: message1)
        let message2 = message2Answer.response
        let phone = message2Answer.result
        let desktop = try initiator.receiveResponse(message2)
        #expect(desktop.handshakeHash == phone.handshakeHash)

        var linkedInitiator = try HandshakeInitiator(
            linkedFlowWith: psk,
            phoneIdentity: NoiseFixture.phoneIdentity.publicKey.uncompressedRepresentation
        )
        var linkedResponder = try HandshakeResponder(
            linkedFlowWith: psk,
            identityScalar: NoiseFixture.phoneIdentity.rawScalar.bytes
        )
        let linked1 = try linkedInitiator.makeInitialMessage()
        let linked2Answer = try linkedResponder.respond(to: linked1)
        let linked2 = linked2Answer.response
        let linkedPhone = linked2Answer.result
        #expect(try linkedInitiator.receiveResponse(linked2).handshakeHash == linkedPhone.handshakeHash)
    }

    @Test func desktopCrypterFallsBackAndPhoneCrypterIsFixed() throws {
        let run = try NoiseFixture.handshake(.knpsk0)
        #expect(run.desktop.crypter.construction == .current)
        #expect(run.phone.crypter.construction == .current)
        // A legacy phone: the desktop switches on its first read.
        var initiator = NoiseFixture.initiator(.knpsk0)
        var responder = NoiseFixture.responder(.knpsk0)
        let message1 = try initiator.makeInitialMessage()
        _ = try responder.respond(to: message1)
        var legacyResponder = HandshakeResponder(
            qrFlowWith: NoiseFixture.psk(),
            desktopIdentity: NoiseFixture.desktopIdentity.publicKey,
            ephemeral: NoiseFixture.phoneEphemeral,
            crypterPolicy: .fixed(.legacy)
        )
        let message2Answer = try legacyResponder.respond(to: message1)
        let message2 = message2Answer.response
        let legacyPhone = message2Answer.result
        let desktopResult = try initiator.receiveResponse(message2)
        var desktop = desktopResult.crypter
        var phone = legacyPhone.crypter
        #expect(try desktop.open(phone.seal([9])) == [9])
        #expect(desktop.construction == .legacy)
        #expect(try phone.open(desktop.seal([8])) == [8])
    }

    // MARK: - Wrong keys

    @Test(arguments: HandshakePattern.allCases)
    func aDifferentPSKFailsAtTheResponder(_ pattern: HandshakePattern) throws {
        var initiator = NoiseFixture.initiator(pattern)
        var responder = NoiseFixture.responder(pattern, psk: NoiseFixture.psk(0x5B))
        let message1 = try initiator.makeInitialMessage()
        #expect(throws: CableProtocolError(.handshakeAuthenticationFailed, "")) {
            _ = try responder.respond(to: message1)
        }
    }

    @Test func aPhoneThatScannedAnotherDesktopsQRCodeFailsTheHandshake() throws {
        var initiator = NoiseFixture.initiator(.knpsk0)
        var responder = HandshakeResponder(
            qrFlowWith: NoiseFixture.psk(),
            desktopIdentity: NoiseFixture.privateKey(0x44).publicKey,
            ephemeral: NoiseFixture.phoneEphemeral
        )
        #expect(throws: CableProtocolError(.handshakeAuthenticationFailed, "")) {
            _ = try responder.respond(to: try initiator.makeInitialMessage())
        }
    }

    @Test func aPhoneWithoutTheLinkedIdentityKeyCannotRespond() throws {
        var initiator = NoiseFixture.initiator(.nkpsk0)
        var impostor = HandshakeResponder(
            linkedFlowWith: NoiseFixture.psk(),
            identity: NoiseFixture.privateKey(0x45),
            ephemeral: NoiseFixture.phoneEphemeral
        )
        #expect(throws: CableProtocolError(.handshakeAuthenticationFailed, "")) {
            _ = try impostor.respond(to: try initiator.makeInitialMessage())
        }
    }

    // MARK: - Tampering

    /// Every single-bit flip anywhere in message 1 is refused, as an invalid point or a failed tag.
    @Test(arguments: HandshakePattern.allCases)
    func everyBitFlipInTheInitialMessageIsRejected(_ pattern: HandshakePattern) throws {
        var initiator = NoiseFixture.initiator(pattern)
        let message1 = try initiator.makeInitialMessage()
        for index in message1.indices {
            for bit in [0, 7] {
                var tampered = message1
                tampered[index] ^= UInt8(1 << bit)
                var responder = NoiseFixture.responder(pattern)
                let error = try #require(throws: CableProtocolError.self) { _ = try responder.respond(to: tampered) }
                let expected: Set<CableProtocolError.Code> =
                    index < 65
                    ? [.handshakeInvalidPublicKey, .handshakeAuthenticationFailed] : [.handshakeAuthenticationFailed]
                #expect(expected.contains(error.code), "byte \(index) bit \(bit): \(error)")
            }
        }
    }

    @Test(arguments: HandshakePattern.allCases)
    func everyBitFlipInTheResponseIsRejected(_ pattern: HandshakePattern) throws {
        let genuine = try NoiseFixture.handshake(pattern).message2
        for index in genuine.indices {
            for bit in [0, 7] {
                var tampered = genuine
                tampered[index] ^= UInt8(1 << bit)
                var initiator = NoiseFixture.initiator(pattern)
                _ = try initiator.makeInitialMessage()
                let error = try #require(throws: CableProtocolError.self) {
                    _ = try initiator.receiveResponse(tampered)
                }
                let expected: Set<CableProtocolError.Code> =
                    index < 65
                    ? [.handshakeInvalidPublicKey, .handshakeAuthenticationFailed] : [.handshakeAuthenticationFailed]
                #expect(expected.contains(error.code), "byte \(index) bit \(bit): \(error)")
            }
        }
    }

    // MARK: - Lengths

    @Test(arguments: HandshakePattern.allCases)
    func theInitiatorRequiresExactly81Bytes(_ pattern: HandshakePattern) throws {
        let genuine = try NoiseFixture.handshake(pattern).message2
        for length in Array(0..<81) + [82, 100, 1 << 20] {
            var initiator = NoiseFixture.initiator(pattern)
            _ = try initiator.makeInitialMessage()
            let response = Array((genuine + [UInt8](repeating: 0, count: max(0, length - 81))).prefix(length))
            #expect(throws: CableProtocolError(.handshakeInvalidMessageLength, ""), "length \(length)") {
                _ = try initiator.receiveResponse(response)
            }
        }
    }

    /// Chromium's responder only demands 65 bytes; shorter tags or extra bytes fail authentication.
    @Test(arguments: HandshakePattern.allCases)
    func theResponderRequiresAtLeast65BytesAndAnEmptyPayload(_ pattern: HandshakePattern) throws {
        let genuine = try NoiseFixture.handshake(pattern).message1
        for length in 0...100 where length != 81 {
            var responder = NoiseFixture.responder(pattern)
            let message = Array((genuine + [UInt8](repeating: 0, count: 19)).prefix(length))
            let expected: CableProtocolError.Code =
                length < 65 ? .handshakeInvalidMessageLength : .handshakeAuthenticationFailed
            #expect(throws: CableProtocolError(expected, ""), "length \(length)") {
                _ = try responder.respond(to: message)
            }
        }
        var responder = NoiseFixture.responder(pattern)
        #expect(throws: CableProtocolError(.handshakeInvalidMessageLength, "")) {
            _ = try responder.respond(to: [UInt8](repeating: 4, count: (1 << 20) + 1))
        }
    }

    // MARK: - Replay, reflection, ordering

    @Test(arguments: HandshakePattern.allCases)
    func aSecondInitialMessageIsUnexpected(_ pattern: HandshakePattern) throws {
        var initiator = NoiseFixture.initiator(pattern)
        var responder = NoiseFixture.responder(pattern)
        let message1 = try initiator.makeInitialMessage()
        _ = try responder.respond(to: message1)
        #expect(throws: CableProtocolError(.handshakeUnexpectedMessage, "")) { _ = try responder.respond(to: message1) }
    }

    @Test(arguments: HandshakePattern.allCases)
    func aReplayedResponseIsUnexpected(_ pattern: HandshakePattern) throws {
        var initiator = NoiseFixture.initiator(pattern)
        var responder = NoiseFixture.responder(pattern)
        let message2Answer = try responder.respond(to: try initiator.makeInitialMessage())
        let message2 = message2Answer.response
        _ = try initiator.receiveResponse(message2)
        #expect(throws: CableProtocolError(.handshakeUnexpectedMessage, "")) {
            _ = try initiator.receiveResponse(message2)
        }
    }

    /// A response recorded from an earlier session (another desktop ephemeral) does not authenticate.
    @Test(arguments: HandshakePattern.allCases)
    func aResponseFromAnotherSessionIsRejected(_ pattern: HandshakePattern) throws {
        let old = try NoiseFixture.handshake(pattern).message2
        let psk = NoiseFixture.psk()
        var initiator: HandshakeInitiator
        switch pattern {
        case .knpsk0:
            initiator = HandshakeInitiator(
                qrFlowWith: psk,
                identity: NoiseFixture.desktopIdentity,
                ephemeral: NoiseFixture.privateKey(0x12)
            )
        case .nkpsk0:
            initiator = HandshakeInitiator(
                linkedFlowWith: psk,
                phoneIdentity: NoiseFixture.phoneIdentity.publicKey,
                ephemeral: NoiseFixture.privateKey(0x12)
            )
        }
        _ = try initiator.makeInitialMessage()
        #expect(throws: CableProtocolError(.handshakeAuthenticationFailed, "")) {
            _ = try initiator.receiveResponse(old)
        }
    }

    @Test(arguments: HandshakePattern.allCases)
    func reflectedMessagesAreRejected(_ pattern: HandshakePattern) throws {
        let run = try NoiseFixture.handshake(pattern)
        var initiator = NoiseFixture.initiator(pattern)
        var responder = NoiseFixture.responder(pattern)
        let message1 = try initiator.makeInitialMessage()
        #expect(throws: CableProtocolError(.handshakeAuthenticationFailed, "")) {
            _ = try initiator.receiveResponse(message1)
        }
        #expect(throws: CableProtocolError(.handshakeAuthenticationFailed, "")) {
            _ = try responder.respond(to: run.message2)
        }
    }

    @Test(arguments: HandshakePattern.allCases)
    func aFailureIsFinal(_ pattern: HandshakePattern) throws {
        let run = try NoiseFixture.handshake(pattern)
        var initiator = NoiseFixture.initiator(pattern)
        var responder = NoiseFixture.responder(pattern)
        _ = try initiator.makeInitialMessage()
        #expect(throws: CableProtocolError.self) { _ = try initiator.receiveResponse(Array(run.message2.dropLast())) }
        #expect(throws: CableProtocolError(.handshakeUnexpectedMessage, "")) {
            _ = try initiator.receiveResponse(run.message2)
        }
        #expect(throws: CableProtocolError.self) { _ = try responder.respond(to: [0x04]) }
        #expect(throws: CableProtocolError(.handshakeUnexpectedMessage, "")) {
            _ = try responder.respond(to: run.message1)
        }
    }

    // MARK: - Keys given as bytes

    @Test func publicInitialisersRejectMalformedKeys() {
        let psk = NoiseFixture.psk()
        let zero = [UInt8](repeating: 0, count: 32)
        let order: [UInt8] = hex("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551")
        for scalar in [zero, order, [1], [UInt8](repeating: 1, count: 33)] {
            #expect(throws: CableProtocolError(.handshakeInvalidKey, "")) {
                _ = try HandshakeInitiator(qrFlowWith: psk, identityScalar: scalar)
            }
            #expect(throws: CableProtocolError(.handshakeInvalidKey, "")) {
                _ = try HandshakeResponder(linkedFlowWith: psk, identityScalar: scalar)
            }
            #expect(throws: CableProtocolError(.handshakeInvalidKey, "")) {
                _ = try HandshakeInitiator(
                    qrFlowWith: psk,
                    identityScalar: [UInt8](repeating: 1, count: 32),
                    ephemeralScalar: scalar
                )
            }
        }
        var offCurve = NoiseFixture.phoneIdentity.publicKey.uncompressedRepresentation
        offCurve[64] ^= 1
        let compressed = NoiseFixture.phoneIdentity.publicKey.compressedRepresentation
        for key in [offCurve, compressed, Array(offCurve.prefix(64)), []] {
            #expect(throws: CableProtocolError(.handshakeInvalidKey, "")) {
                _ = try HandshakeInitiator(linkedFlowWith: psk, phoneIdentity: key)
            }
        }
        #expect(throws: CableProtocolError(.handshakeInvalidKey, "")) {
            _ = try HandshakeResponder(qrFlowWith: psk, desktopIdentity: offCurve)
        }
    }

    // MARK: - Secrets

    @Test(arguments: HandshakePattern.allCases)
    func descriptionsRevealNoKeysHashOrPSK(_ pattern: HandshakePattern) throws {
        var initiator = NoiseFixture.initiator(pattern)
        var responder = NoiseFixture.responder(pattern)
        let message1 = try initiator.makeInitialMessage()
        let message2Answer = try responder.respond(to: message1)
        let message2 = message2Answer.response
        let phone = message2Answer.result
        let desktop = try initiator.receiveResponse(message2)
        let secrets: [[UInt8]] = [
            NoiseFixture.psk().bytes, desktop.handshakeHash.bytes, NoiseFixture.desktopIdentity.rawScalar.bytes,
            NoiseFixture.phoneIdentity.rawScalar.bytes, NoiseFixture.desktopEphemeral.rawScalar.bytes,
            NoiseFixture.phoneEphemeral.rawScalar.bytes,
        ]
        for text in [
            initiator.description, responder.description, desktop.description, phone.description,
            String(describing: desktop.handshakeHash), desktop.crypter.description,
        ] {
            expectRedacted(text, hiding: secrets)
        }
        // Errors carry no secrets either.
        var failing = NoiseFixture.initiator(pattern)
        _ = try failing.makeInitialMessage()
        let error = try #require(throws: CableProtocolError.self) { _ = try failing.receiveResponse(message1) }
        expectRedacted(String(describing: error), hiding: secrets + [message1])
    }
}
