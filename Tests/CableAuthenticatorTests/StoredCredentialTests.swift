import CableAuthenticator
import CableCTAP
import CableCrypto
import CableTestSupport
import Foundation
import Testing

@Suite struct StoredCredentialTests {
    private static func credential() throws -> StoredCredential {
        try CredentialStoreTests.credential(id: Array(repeating: 0x5A, count: 32), createdAt: 1_764_000_000.123_456)
    }

    @Test func descriptionAndMirrorNeverShowThePrivateKey() throws {
        let credential = try Self.credential()
        let key = hexString(credential.privateKey.rawScalar.bytes)
        var dumped = ""
        dump(credential, to: &dumped)
        for text in [credential.description, String(reflecting: credential), dumped] {
            #expect(!text.lowercased().contains(key))
        }
        // Logs and prompts name a credential by a prefix of its ID.
        #expect(credential.description.contains(String(credential.idBase64URL.prefix(8)) + "…"))
        #expect(!credential.description.contains(credential.idBase64URL))
    }

    @Test func publicKeyIsTheCOSEFormOfThePrivateKeysPublicKey() throws {
        let credential = try Self.credential()
        #expect(credential.publicKey.x962Representation == credential.privateKey.publicKey.uncompressedRepresentation)
        #expect(credential.publicKey.algorithm == .es256)
    }

    @Test func idBase64URLIsUnpaddedBase64URL() throws {
        let credential = try Self.credential()
        #expect(credential.idBase64URL == base64URL(credential.id))
        #expect(!credential.idBase64URL.contains("="))
    }

    @Test func creationTimeIsKeptToTheMillisecondAsTheFileStoresIt() throws {
        let credential = try Self.credential()
        #expect(credential.createdAt == Date(timeIntervalSince1970: 1_764_000_000.123))
    }

    @Test func equalityComparesTheKeys() throws {
        let first = try CredentialStoreTests.credential(id: [1], seed: 1)
        let sameFieldsOtherKey = try CredentialStoreTests.credential(id: [1], seed: 1)
        #expect(first == sameFieldsOtherKey)
        let otherKey = StoredCredential(
            id: first.id,
            rpID: first.rpID,
            rpName: first.rpName,
            userHandle: first.userHandle,
            userName: first.userName,
            userDisplayName: first.userDisplayName,
            signCount: first.signCount,
            createdAt: first.createdAt,
            aaguid: first.aaguid,
            privateKey: try P256.PrivateKey()
        )
        #expect(first != otherKey)
    }
}
