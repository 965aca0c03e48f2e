import CableCTAP
import CableCrypto
import CableProtocol
import Foundation
import Testing

@testable import CableRelyingParty

#if canImport(Glibc)
import Glibc
#endif

@Suite struct CredentialRecordStoreTests {
    /// A fresh directory per test, removed afterwards.
    final class TemporaryDirectory {
        let url: URL
        init() throws {
            self.url = FileManager.default.temporaryDirectory.appendingPathComponent("cable-store-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: self.url, withIntermediateDirectories: true)
        }
        deinit { try? FileManager.default.removeItem(at: self.url) }
        var storeURL: URL { self.url.appendingPathComponent("registrations.sqlite") }
        var jsonURL: URL { self.url.appendingPathComponent("credentials.json") }
        func contents() throws -> [String] {
            try FileManager.default.contentsOfDirectory(atPath: self.url.path).sorted()
        }
    }

    static func record(_ seed: UInt64, name: String = "Phone", signCount: UInt32 = 0) throws -> CredentialRecord {
        let phone = try TestAuthenticator(seed: seed)
        return CredentialRecord(
            credentialID: phone.credentialID,
            friendlyName: name,
            aaguid: phone.aaguid,
            publicKey: phone.coseKey,
            signCount: signCount,
            userName: "alice@contoso.example",
            userHandle: [1, 2, 3],
            attestationFormat: "packed",
            backupEligible: true,
            createdAt: Date(timeIntervalSince1970: 1_700_000_000)
        )
    }

    static func open(_ url: URL, create: Bool = true) throws(RelyingPartyError) -> SQLiteCredentialRecordStore {
        try SQLiteCredentialRecordStore(fileURL: url, createIfMissing: create)
    }

    /// A record store of each kind, fresh.
    static func eachStore(_ body: (any CredentialRecordStore) throws -> Void) throws {
        try body(InMemoryCredentialRecordStore())
        let directory = try TemporaryDirectory()
        try body(try Self.open(directory.storeURL))
    }

    static func patchHeader(_ url: URL, offset: UInt64, value: UInt32) throws {
        let handle = try FileHandle(forUpdating: url)
        defer { try? handle.close() }
        try handle.seek(toOffset: offset)
        try handle.write(contentsOf: withUnsafeBytes(of: value.bigEndian) { Data($0) })
    }

    @Test func aMissingFileIsAnErrorWhenAskedNotToCreateIt() throws {
        let directory = try TemporaryDirectory()
        expectRPError(.storeIOFailure) { () throws(RelyingPartyError) in
            _ = try Self.open(directory.storeURL, create: false)
        }
        #expect(try directory.contents().isEmpty)
        #expect(try Self.open(directory.storeURL).list().isEmpty)
    }

    @Test func addListRenameUpdateAndRemovePersistAcrossInstances() throws {
        let directory = try TemporaryDirectory()
        let first = try Self.record(1, name: "Work phone")
        let second = try Self.record(2, name: "Tablet")
        try Self.open(directory.storeURL).add(first)
        try Self.open(directory.storeURL).add(second)

        let store = try Self.open(directory.storeURL)
        #expect(try store.list() == [first, second])
        #expect(try store.records(forUserHandle: [1, 2, 3]).count == 2)
        #expect(try store.records(forUserHandle: [9]).isEmpty)

        let used = Date(timeIntervalSince1970: 1_800_000_000.25)
        try store.recordUse(credentialID: first.credentialID, signCount: 7, backedUp: true, at: used)
        try store.rename(credentialID: second.credentialID, to: "Old tablet")
        let reloaded = try Self.open(directory.storeURL).list()
        #expect(reloaded[0].signCount == 7)
        #expect(reloaded[0].backedUp)
        #expect(reloaded[0].lastUsedAt == used)
        #expect(reloaded[1].friendlyName == "Old tablet")
        try store.recordUse(credentialID: first.credentialID, signCount: 8)
        #expect(try store.list()[0].backedUp, "an unknown backup state leaves the stored one")

        let removed = try store.remove(credentialID: first.credentialID)
        #expect(removed.friendlyName == "Work phone")
        #expect(try Self.open(directory.storeURL).list().map(\.friendlyName) == ["Old tablet"])
    }

    @Test func removedPasskeyCanNoLongerSignIn() throws {
        try Self.eachStore { store in
            let phone = try TestAuthenticator(seed: 40)
            try store.add(try Self.record(40))
            let relyingParty = RelyingParty(id: "login.contoso.example")
            let clientData = ClientData(type: .get, challenge: [7], rpID: relyingParty.id)
            let response = try phone.assert(rpID: relyingParty.id, clientDataHash: clientData.hash, signCount: 1)
            let assertion = try relyingParty.verifyAssertion(
                response,
                clientDataHash: clientData.hash,
                credentials: try store.list()
            )
            try store.recordUse(credentialID: assertion.credentialID, signCount: assertion.newSignCount)

            try store.remove(credentialID: phone.credentialID)  // the phone was lost
            let later = try phone.assert(rpID: relyingParty.id, clientDataHash: clientData.hash, signCount: 2)
            expectRPError(.unknownCredential) { () throws(RelyingPartyError) in
                try relyingParty.verifyAssertion(later, clientDataHash: clientData.hash, credentials: try store.list())
            }
        }
    }

    @Test func duplicateCredentialIsRefused() throws {
        try Self.eachStore { store in
            try store.add(try Self.record(3))
            let duplicate = try Self.record(3, name: "Again")
            expectRPError(.duplicateCredential) { () throws(RelyingPartyError) in try store.add(duplicate) }
            #expect(try store.list().count == 1)
        }
    }

    @Test func changingAnUnknownCredentialIsNotFound() throws {
        try Self.eachStore { store in
            expectRPError(.credentialNotFound) { () throws(RelyingPartyError) in try store.remove(credentialID: [1]) }
            expectRPError(.credentialNotFound) { () throws(RelyingPartyError) in
                try store.rename(credentialID: [1], to: "x")
            }
            expectRPError(.credentialNotFound) { () throws(RelyingPartyError) in
                try store.recordUse(credentialID: [1], signCount: 1)
            }
        }
    }

    @Test func theFileIsAPrivateSQLiteDatabase() throws {
        let directory = try TemporaryDirectory()
        try Self.open(directory.storeURL).add(try Self.record(4))
        let attributes = try FileManager.default.attributesOfItem(atPath: directory.storeURL.path)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        #expect(Array(try Data(contentsOf: directory.storeURL).prefix(16)) == Array("SQLite format 3".utf8) + [0])
    }

    @Test(arguments: [
        "{", "not json", "[]", #"{"format":"swift-cable.credential-records","version":1}"#,
        #"{"format":"something-else","version":1,"credentials":[]}"#,
        #"{"format":"swift-cable.credential-records","version":1,"credentials":[{"credentialId":"!!"}]}"#,
    ])
    func aCorruptedFileIsATypedErrorAndIsLeftUntouched(_ contents: String) throws {
        let directory = try TemporaryDirectory()
        try Data(contents.utf8).write(to: directory.storeURL)
        expectRPError(.storeCorrupted) { () throws(RelyingPartyError) in _ = try Self.open(directory.storeURL) }
        #expect(try Data(contentsOf: directory.storeURL) == Data(contents.utf8))
        #expect(try directory.contents() == ["registrations.sqlite"])
    }

    @Test func aJSONStoreIsImportedOnceAndKeptBeside() throws {
        let directory = try TemporaryDirectory()
        let records = [try Self.record(11, name: "One"), try Self.record(12, name: "Two")]
        // The JSON layout of earlier versions, written as they wrote it.
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        let items = try records.map { try JSONSerialization.jsonObject(with: encoder.encode($0)) }
        let json = try JSONSerialization.data(
            withJSONObject: ["format": "swift-cable.credential-records", "version": 1, "credentials": items])
        try json.write(to: directory.jsonURL)

        let store = try Self.open(directory.jsonURL)
        #expect(try store.list() == records)
        #expect(try Data(contentsOf: directory.url.appendingPathComponent("credentials.json.json-imported")) == json)
        #expect(Array(try Data(contentsOf: directory.jsonURL).prefix(15)) == Array("SQLite format 3".utf8))
        try store.remove(credentialID: records[0].credentialID)
        #expect(try Self.open(directory.jsonURL).list() == [records[1]], "not imported a second time")
    }

    @Test func aNewerJSONVersionIsReportedAsSuch() throws {
        let directory = try TemporaryDirectory()
        try Data(#"{"format":"swift-cable.credential-records","version":2,"credentials":[]}"#.utf8).write(
            to: directory.storeURL
        )
        expectRPError(.storeUnsupportedVersion) { () throws(RelyingPartyError) in _ = try Self.open(directory.storeURL)
        }
    }

    @Test func aNewerSchemaIsATypedErrorAndTheFileIsLeftUntouched() throws {
        let directory = try TemporaryDirectory()
        do { try Self.open(directory.storeURL).add(try Self.record(13)) }
        try Self.patchHeader(
            directory.storeURL,
            offset: 60,
            value: UInt32(SQLiteCredentialRecordStore.schemaVersion + 5)
        )
        let before = try Data(contentsOf: directory.storeURL)
        let error = expectRPError(.storeUnsupportedVersion) { () throws(RelyingPartyError) in
            _ = try Self.open(directory.storeURL)
        }
        #expect(error?.message.contains("schema version \(SQLiteCredentialRecordStore.schemaVersion + 5)") == true)
        #expect(try Data(contentsOf: directory.storeURL) == before)
    }

    @Test func aDamagedDatabaseIsATypedErrorNeverACrash() throws {
        let directory = try TemporaryDirectory()
        do {
            let store = try Self.open(directory.storeURL)
            for seed in 20..<30 { try store.add(try Self.record(UInt64(seed))) }
        }
        let valid = try Data(contentsOf: directory.storeURL)
        var scrambled = valid
        for offset in stride(from: 100, to: scrambled.count, by: 5) { scrambled[offset] ^= 0xA5 }
        for (name, bytes) in [("truncated header", valid.prefix(60)), ("scrambled pages", scrambled)] {
            try bytes.write(to: directory.storeURL)
            let error = #expect(throws: RelyingPartyError.self, "\(name)") {
                _ = try Self.open(directory.storeURL).list()
            }
            #expect(
                error?.code == .storeCorrupted || error?.code == .storeIOFailure,
                "\(name): \(error.map(String.init(describing:)) ?? "-")"
            )
            #expect(try Data(contentsOf: directory.storeURL) == bytes, "\(name)")
        }
    }

    /// A FIFO in the store's place must not hang the relying party; it is an I/O failure, left alone.
    @Test(.timeLimit(.minutes(1))) func aFIFOInPlaceOfTheStoreIsAnIOFailureNotAHang() throws {
        let directory = try TemporaryDirectory()
        try #require(mkfifo(directory.storeURL.path, 0o600) == 0)
        expectRPError(.storeIOFailure) { () throws(RelyingPartyError) in _ = try Self.open(directory.storeURL) }
        #expect(try directory.contents() == ["registrations.sqlite"])
    }

    @Test func aStoreLargerThanTheLimitIsRefusedUnread() throws {
        let directory = try TemporaryDirectory()
        do { _ = try Self.open(directory.storeURL) }
        let handle = try FileHandle(forWritingTo: directory.storeURL)
        try handle.truncate(atOffset: UInt64(SQLiteCredentialRecordStore.maxFileSize + 1))  // sparse
        try handle.close()
        expectRPError(.storeCorrupted) { () throws(RelyingPartyError) in _ = try Self.open(directory.storeURL) }
    }

    @Test func aMissingDirectoryIsAnIOFailureNamingTheCause() throws {
        let directory = try TemporaryDirectory()
        let error = expectRPError(.storeIOFailure) { () throws(RelyingPartyError) in
            _ = try Self.open(directory.url.appendingPathComponent("missing/registrations.sqlite"))
        }
        #expect(error?.message.contains("No such file or directory") == true)
    }

    @Test func concurrentAddsThroughSeparateConnectionsAreAllKept() async throws {
        let directory = try TemporaryDirectory()
        let stores = try (0..<4).map { _ in try Self.open(directory.storeURL) }
        let records = try (100..<132).map { try Self.record(UInt64($0)) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (index, record) in records.enumerated() {
                let store = stores[index % stores.count]
                group.addTask { try store.add(record) }
            }
            try await group.waitForAll()
        }
        #expect(Set(try Self.open(directory.storeURL).list().map(\.credentialID)) == Set(records.map(\.credentialID)))
    }
}
