import CableCTAP
import CableCrypto
@testable import CableRelyingParty
import CableProtocol
import Foundation
import Testing

@Suite struct CredentialRecordStoreTests {
    /// A fresh directory per test, removed afterwards.
    final class TemporaryDirectory {
        let url: URL
        init() throws {
            self.url = FileManager.default.temporaryDirectory.appendingPathComponent("cable-store-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: self.url, withIntermediateDirectories: true)
        }
        deinit { try? FileManager.default.removeItem(at: self.url) }
        var storeURL: URL { self.url.appendingPathComponent("credentials.json") }
        func contents() throws -> [String] { try FileManager.default.contentsOfDirectory(atPath: self.url.path).sorted() }
    }

    static func record(_ seed: UInt64, name: String = "Phone", signCount: UInt32 = 0) throws -> CredentialRecord {
        let phone = try TestAuthenticator(seed: seed)
        return CredentialRecord(
            credentialID: phone.credentialID, friendlyName: name, aaguid: phone.aaguid, publicKey: phone.coseKey,
            signCount: signCount, userName: "alice@contoso.example", userHandle: [1, 2, 3], attestationFormat: "packed",
            backupEligible: true, createdAt: Date(timeIntervalSince1970: 1_700_000_000)
        )
    }

    @Test func missingFileIsAnEmptyStore() throws {
        let directory = try TemporaryDirectory()
        #expect(try CredentialRecordStore(fileURL: directory.storeURL).list().isEmpty)
        #expect(try directory.contents().isEmpty)
    }

    @Test func addListRenameUpdateAndRemovePersistAcrossInstances() throws {
        let directory = try TemporaryDirectory()
        let first = try Self.record(1, name: "Work phone")
        let second = try Self.record(2, name: "Tablet")
        try CredentialRecordStore(fileURL: directory.storeURL).add(first)
        try CredentialRecordStore(fileURL: directory.storeURL).add(second)

        let store = CredentialRecordStore(fileURL: directory.storeURL)
        #expect(try store.list() == [first, second])
        #expect(try store.records(forUserHandle: [1, 2, 3]).count == 2)

        let used = Date(timeIntervalSince1970: 1_800_000_000)
        try store.recordUse(credentialID: first.credentialID, signCount: 7, backedUp: true, at: used)
        try store.rename(credentialID: second.credentialID, to: "Old tablet")
        let reloaded = try CredentialRecordStore(fileURL: directory.storeURL).list()
        #expect(reloaded[0].signCount == 7)
        #expect(reloaded[0].backedUp)
        #expect(reloaded[0].lastUsedAt == used)
        #expect(reloaded[1].friendlyName == "Old tablet")

        let removed = try store.remove(credentialID: first.credentialID)
        #expect(removed.friendlyName == "Work phone")
        #expect(try CredentialRecordStore(fileURL: directory.storeURL).list().map(\.friendlyName) == ["Old tablet"])
        #expect(try directory.contents() == ["credentials.json"])
    }

    @Test func removedPasskeyCanNoLongerSignIn() throws {
        let directory = try TemporaryDirectory()
        let store = CredentialRecordStore(fileURL: directory.storeURL)
        let phone = try TestAuthenticator(seed: 40)
        try store.add(try Self.record(40))
        let relyingParty = RelyingParty(id: "login.contoso.example")
        let clientData = ClientData(type: .get, challenge: [7], rpID: relyingParty.id)
        let response = try phone.assert(rpID: relyingParty.id, clientDataHash: clientData.hash, signCount: 1)
        let assertion = try relyingParty.verifyAssertion(response, clientDataHash: clientData.hash, credentials: try store.list())
        try store.recordUse(credentialID: assertion.credentialID, signCount: assertion.newSignCount)

        try store.remove(credentialID: phone.credentialID)  // the phone was lost
        let later = try phone.assert(rpID: relyingParty.id, clientDataHash: clientData.hash, signCount: 2)
        expectRPError(.unknownCredential) { () throws(RelyingPartyError) in
            try relyingParty.verifyAssertion(later, clientDataHash: clientData.hash, credentials: try store.list())
        }
    }

    @Test func duplicateCredentialIsRefused() throws {
        let directory = try TemporaryDirectory()
        let store = CredentialRecordStore(fileURL: directory.storeURL)
        try store.add(try Self.record(3))
        let duplicate = try Self.record(3, name: "Again")
        expectRPError(.duplicateCredential) { () throws(RelyingPartyError) in try store.add(duplicate) }
        #expect(try store.list().count == 1)
    }

    @Test func changingAnUnknownCredentialIsNotFound() throws {
        let store = CredentialRecordStore(fileURL: try TemporaryDirectory().storeURL)
        expectRPError(.credentialNotFound) { () throws(RelyingPartyError) in try store.remove(credentialID: [1]) }
        expectRPError(.credentialNotFound) { () throws(RelyingPartyError) in try store.rename(credentialID: [1], to: "x") }
        expectRPError(.credentialNotFound) { () throws(RelyingPartyError) in try store.recordUse(credentialID: [1], signCount: 1) }
    }

    @Test func fileIsPrivateJSONWithBase64URLFields() throws {
        let directory = try TemporaryDirectory()
        let record = try Self.record(4)
        try CredentialRecordStore(fileURL: directory.storeURL).add(record)
        let attributes = try FileManager.default.attributesOfItem(atPath: directory.storeURL.path)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: directory.storeURL)) as? [String: Any])
        #expect(json["format"] as? String == CredentialRecordStore.formatName)
        #expect(json["version"] as? Int == 1)
        let stored = try #require((json["credentials"] as? [[String: Any]])?.first)
        #expect(stored["credentialId"] as? String == record.credentialIDBase64URL)
        #expect(stored["aaguid"] as? String == "de1e552d-db1d-4423-a619-566b625cdc84")
        #expect(stored["createdAt"] as? String == "2023-11-14T22:13:20Z")
    }

    @Test(arguments: [
        "", "{", "not json", "[]", #"{"format":"swift-cable.credential-records","version":1}"#,
        #"{"format":"something-else","version":1,"credentials":[]}"#,
        #"{"format":"swift-cable.credential-records","version":1,"credentials":[{"credentialId":"!!"}]}"#,
    ])
    func corruptedFileIsATypedErrorAndIsLeftUntouched(_ contents: String) throws {
        let directory = try TemporaryDirectory()
        try Data(contents.utf8).write(to: directory.storeURL)
        let store = CredentialRecordStore(fileURL: directory.storeURL)
        expectRPError(.storeCorrupted) { () throws(RelyingPartyError) in try store.list() }
        let record = try Self.record(5)
        expectRPError(.storeCorrupted) { () throws(RelyingPartyError) in try store.add(record) }
        #expect(try Data(contentsOf: directory.storeURL) == Data(contents.utf8))
    }

    @Test func recordWithAnInvalidPublicKeyIsCorruption() throws {
        let directory = try TemporaryDirectory()
        let store = CredentialRecordStore(fileURL: directory.storeURL)
        try store.add(try Self.record(6))
        var text = try String(contentsOf: directory.storeURL, encoding: .utf8)
        let key = try #require(try store.list().first?.publicKey.encoded)
        // Replace the stored key by one whose y coordinate is all zeros (not on P-256).
        var broken = key
        broken.replaceSubrange(45..<77, with: [UInt8](repeating: 0, count: 32))
        text = text.replacingOccurrences(of: Base64URL.encode(key), with: Base64URL.encode(broken))
        try Data(text.utf8).write(to: directory.storeURL)
        let error = expectRPError(.storeCorrupted) { () throws(RelyingPartyError) in try store.list() }
        #expect(error?.message.contains("publicKey") == true)
    }

    @Test func newerStoreVersionIsReportedAsSuch() throws {
        let directory = try TemporaryDirectory()
        try Data(#"{"format":"swift-cable.credential-records","version":2,"credentials":[]}"#.utf8).write(to: directory.storeURL)
        expectRPError(.storeUnsupportedVersion) { () throws(RelyingPartyError) in
            try CredentialRecordStore(fileURL: directory.storeURL).list()
        }
    }

    /// A FIFO in the store's place must not hang the relying party (a plain read blocks until a writer
    /// opens it); it is an I/O failure, and the FIFO is left alone.
    @Test(.timeLimit(.minutes(1))) func aFIFOInPlaceOfTheStoreIsAnIOFailureNotAHang() throws {
        let directory = try TemporaryDirectory()
        try #require(mkfifo(directory.storeURL.path, 0o600) == 0)
        let store = CredentialRecordStore(fileURL: directory.storeURL)
        expectRPError(.storeIOFailure) { () throws(RelyingPartyError) in try store.list() }
        let record = try Self.record(7)
        expectRPError(.storeIOFailure) { () throws(RelyingPartyError) in try store.add(record) }
        #expect(try directory.contents() == ["credentials.json"])
    }

    @Test func aStoreLargerThanTheLimitIsRefusedUnread() throws {
        let directory = try TemporaryDirectory()
        let handle = try #require(FileManager.default.createFile(atPath: directory.storeURL.path, contents: nil) ? FileHandle(forWritingTo: directory.storeURL) : nil)
        try handle.truncate(atOffset: UInt64(CredentialRecordStore.maxFileSize + 1))  // sparse: no 16 MiB written
        try handle.close()
        expectRPError(.storeCorrupted) { () throws(RelyingPartyError) in
            try CredentialRecordStore(fileURL: directory.storeURL).list()
        }
    }

    @Test func writeIntoAMissingDirectoryIsAnIOFailure() throws {
        let directory = try TemporaryDirectory()
        let store = CredentialRecordStore(fileURL: directory.url.appendingPathComponent("missing/credentials.json"))
        let record = try Self.record(8)
        expectRPError(.storeIOFailure) { () throws(RelyingPartyError) in try store.add(record) }
    }

    @Test func concurrentAddsFromManyTasksAreAllKept() async throws {
        let directory = try TemporaryDirectory()
        let store = CredentialRecordStore(fileURL: directory.storeURL)
        let records = try (100..<132).map { try Self.record(UInt64($0)) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for record in records {
                group.addTask { try store.add(record) }
            }
            try await group.waitForAll()
        }
        #expect(Set(try store.list().map(\.credentialID)) == Set(records.map(\.credentialID)))
        #expect(try directory.contents() == ["credentials.json"])
    }
}
