import CableCBOR
import CableCTAP
import CableTestSupport
import Testing

@Suite struct AuthenticatorDataTests {
    static let registrations = RegistrationVectors.load("webauthn-registrations")
    static let assertions = AssertionVectors.load("webauthn-assertions")

    /// The authenticator data inside a registration vector's attestation object.
    static func authData(_ vector: RegistrationVectors.Vector) throws -> [UInt8] {
        let object = try #require(CBORValue(decoding: hex(vector.input.attestationObject)).mapValue)
        return try #require(object["authData"]?.bytesValue)
    }

    static var sample: [UInt8] { get throws { try Self.authData(Self.registrations[0]) } }

    @Test(arguments: registrations)
    func parsesRealRegistrationAuthenticatorData(_ vector: RegistrationVectors.Vector) throws {
        let bytes = try Self.authData(vector)
        let data = try AuthenticatorData(bytes: bytes)
        let credential = try #require(data.attestedCredentialData)
        #expect(data.flags.rawValue == vector.expected.flags)
        #expect(data.signCount == vector.expected.signCount)
        #expect(data.rpIDHash.count == 32)
        #expect(credential.aaguid.uuidString == vector.expected.aaguid)
        #expect(hexString(credential.credentialID) == vector.expected.credentialId)
        #expect(hexString(credential.publicKey.encoded) == vector.expected.credentialPublicKey)
        #expect(data.extensions == nil)
        #expect(data.bytes == bytes)
    }

    @Test(arguments: assertions)
    func parsesRealAssertionAuthenticatorData(_ vector: AssertionVectors.Vector) throws {
        let bytes = hex(vector.input.authenticatorData)
        let data = try AuthenticatorData(bytes: bytes)
        #expect(data.attestedCredentialData == nil)
        #expect(data.flags.contains(.userPresent))
        #expect(data.bytes == bytes)
    }

    @Test func flagBitsMatchWebAuthn() {
        #expect(AuthenticatorData.Flags.userPresent.rawValue == 0x01)
        #expect(AuthenticatorData.Flags.userVerified.rawValue == 0x04)
        #expect(AuthenticatorData.Flags.backupEligible.rawValue == 0x08)
        #expect(AuthenticatorData.Flags.backedUp.rawValue == 0x10)
        #expect(AuthenticatorData.Flags.attestedCredentialData.rawValue == 0x40)
        #expect(AuthenticatorData.Flags.extensionData.rawValue == 0x80)
        #expect(AuthenticatorData.Flags(rawValue: 0x45).description == "0x45 [UP,UV,AT]")
    }

    @Test func signCountIsBigEndian() throws {
        let data = AuthenticatorData(
            rpIDHash: [UInt8](repeating: 0, count: 32),
            flags: .userPresent,
            signCount: 0x0102_0304
        )
        #expect(Array(data.bytes[33..<37]) == [1, 2, 3, 4])
        #expect(try AuthenticatorData(bytes: data.bytes).signCount == 0x0102_0304)
    }

    @Test func builderDerivesATAndEDFromContent() throws {
        let hash = [UInt8](repeating: 0xAA, count: 32)
        let wrong = AuthenticatorData(
            rpIDHash: hash,
            flags: [.userPresent, .attestedCredentialData, .extensionData],
            signCount: 1
        )
        #expect(wrong.flags == .userPresent)
        var extensions = CBORMap()
        extensions["credProtect"] = .integer(2)
        let withExtensions = AuthenticatorData(
            rpIDHash: hash,
            flags: .userPresent,
            signCount: 1,
            extensions: extensions
        )
        #expect(withExtensions.flags == [.userPresent, .extensionData])
        #expect(try AuthenticatorData(bytes: withExtensions.bytes) == withExtensions)
    }

    @Test func registrationWithExtensionsRoundTripsAndKeepsTheBoundary() throws {
        let registration = try AuthenticatorData(bytes: try Self.sample)
        var extensions = CBORMap()
        extensions["credProtect"] = .integer(2)
        let data = AuthenticatorData(
            rpIDHash: registration.rpIDHash,
            flags: registration.flags,
            signCount: 9,
            attestedCredentialData: registration.attestedCredentialData,
            extensions: extensions
        )
        let parsed = try AuthenticatorData(bytes: data.bytes)
        #expect(parsed == data)
        #expect(parsed.extensions?["credProtect"] == .integer(2))
    }

    @Test func everyTruncationIsTruncated() throws {
        let bytes = try Self.sample
        for length in 0..<bytes.count {
            expectCTAPError(.truncated) { () throws(CTAPError) in try AuthenticatorData(bytes: bytes.prefix(length)) }
        }
    }

    @Test func trailingByteWithoutEDIsRejected() throws {
        let sample = try Self.sample
        expectCTAPError(.trailingBytes) { () throws(CTAPError) in try AuthenticatorData(bytes: sample + [0]) }
        let assertion = hex(Self.assertions[0].input.authenticatorData)
        expectCTAPError(.trailingBytes) { () throws(CTAPError) in try AuthenticatorData(bytes: assertion + [0xA0]) }
    }

    @Test func attestedDataWithATClearIsTrailingBytes() throws {
        var bytes = try Self.sample
        bytes[32] &= ~AuthenticatorData.Flags.attestedCredentialData.rawValue
        expectCTAPError(.trailingBytes) { () throws(CTAPError) in try AuthenticatorData(bytes: bytes) }
    }

    @Test func atSetWithoutCredentialIsTruncated() {
        var bytes = hex(Self.assertions[0].input.authenticatorData)
        bytes[32] |= AuthenticatorData.Flags.attestedCredentialData.rawValue
        expectCTAPError(.truncated, field: "authenticatorData.attestedCredentialData") { () throws(CTAPError) in
            try AuthenticatorData(bytes: bytes)
        }
    }

    @Test func edSetWithoutExtensionsIsTruncated() {
        var bytes = hex(Self.assertions[0].input.authenticatorData)
        bytes[32] |= AuthenticatorData.Flags.extensionData.rawValue
        expectCTAPError(.truncated, field: "authenticatorData.extensions") { () throws(CTAPError) in
            try AuthenticatorData(bytes: bytes)
        }
    }

    @Test func extensionsMustBeOneTextKeyedMapWithNothingAfter() {
        var bytes = hex(Self.assertions[0].input.authenticatorData)
        bytes[32] |= AuthenticatorData.Flags.extensionData.rawValue
        expectCTAPError(.unexpectedType) { () throws(CTAPError) in try AuthenticatorData(bytes: bytes + [0x80]) }
        expectCTAPError(.unexpectedType) { () throws(CTAPError) in
            try AuthenticatorData(bytes: bytes + [0xA1, 0x01, 0x02])
        }
        expectCTAPError(.trailingBytes) { () throws(CTAPError) in try AuthenticatorData(bytes: bytes + [0xA0, 0x00]) }
        expectCTAPError(.invalidCBOR) { () throws(CTAPError) in try AuthenticatorData(bytes: bytes + [0xBF, 0xFF]) }
        expectCTAPError(.invalidCBOR) { () throws(CTAPError) in
            try AuthenticatorData(bytes: bytes + [0xA1, 0x61, 0x62, 0xF9, 0, 0])
        }
    }

    @Test func credentialIDLongerThan1023BytesIsRejected() throws {
        var bytes = try Self.sample
        bytes[53] = 0x04  // credentialIdLength = 0x04xx ≥ 1024
        expectCTAPError(.tooLong, field: "authenticatorData.attestedCredentialData.credentialIdLength") {
            () throws(CTAPError) in
            try AuthenticatorData(bytes: bytes)
        }
    }

    @Test func emptyCredentialIDIsRejected() throws {
        var bytes = try Self.sample
        bytes[53] = 0
        bytes[54] = 0
        expectCTAPError(.invalidLength) { () throws(CTAPError) in try AuthenticatorData(bytes: bytes) }
    }

    @Test func credentialIDLengthBeyondTheDataIsTruncated() throws {
        var bytes = try Self.sample
        bytes[53] = 0x03
        bytes[54] = 0xFF
        expectCTAPError(.truncated) { () throws(CTAPError) in try AuthenticatorData(bytes: bytes) }
    }

    @Test func unsupportedCredentialKeyIsReportedAsSuch() throws {
        var bytes = try Self.sample
        let keyStart = bytes.count - 77
        #expect(bytes[keyStart + 3] == 0x03 && bytes[keyStart + 4] == 0x26)
        bytes[keyStart + 4] = 0x27  // alg -8
        expectCTAPError(.unsupportedKey) { () throws(CTAPError) in try AuthenticatorData(bytes: bytes) }
    }

    @Test func randomInputNeverCrashesAndFailsOnlyWithCTAPErrors() {
        var rng = DeterministicRNG(seed: 0xA17D)
        for _ in 0..<2000 {
            let count = Int.random(in: 0..<300, using: &rng)
            var bytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &rng) }
            if bytes.count > 32, Bool.random(using: &rng) { bytes[32] |= 0x40 }
            _ = try? AuthenticatorData(bytes: bytes)
        }
    }

    @Test func everySingleBitFlipOfRealDataIsRejectedOrReencodesIdentically() throws {
        let bytes = try Self.sample
        for index in bytes.indices {
            for bit in 0..<8 {
                var mutated = bytes
                mutated[index] ^= 1 << bit
                if let data = try? AuthenticatorData(bytes: mutated) { #expect(data.bytes == mutated) }
            }
        }
    }
}
