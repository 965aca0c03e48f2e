import CableAuthenticator
import CableCTAP
import CableCrypto
import CableTestSupport
import Foundation
import Testing

@Suite struct CredentialStoreTests {
    /// A credential with a deterministic key.
    static func credential(
        id: [UInt8],
        rpID: String = "login.example.com",
        createdAt: TimeInterval = 1_764_000_000,
        signCount: UInt32 = 0,
        seed: UInt64 = 1
    ) throws -> StoredCredential {
        var random = DeterministicRNG(seed: seed)
        return StoredCredential(
            id: id,
            rpID: rpID,
            rpName: "Example",
            userHandle: Array("handle-\(seed)".utf8),
            userName: "user\(seed)",
            userDisplayName: "User \(seed)",
            signCount: signCount,
            createdAt: Date(timeIntervalSince1970: createdAt),
            aaguid: .microsoftAuthenticatorAndroid,
            privateKey: try P256.PrivateKey(derivedFromSeed: random.bytes(count: 32))
        )
    }

    /// The store file parsed by Foundation's JSON parser (an independent reader).
    static func document(at url: URL) throws -> [String: Any] {
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: url))
        return try #require(object as? [String: Any])
    }

    static func storedCount(at url: URL) throws -> Int {
        try #require(try self.document(at: url)["credentials"] as? [Any]).count
    }

    // MARK: - Creation and persistence

    @Test func aNewStoreFileIsCreatedEmptyWithOwnerOnlyPermissions() async throws {
        try await withTemporaryDirectory { directory in
            let url = directory.appendingPathComponent("phone.json")
            let store = try CredentialStore(fileURL: url)
            #expect(store.fileURL?.path == url.path)
            #expect(try permissions(of: url) == 0o600)
            let document = try Self.document(at: url)
            #expect(document["version"] as? Int == 1)
            #expect(try Self.storedCount(at: url) == 0)
            #expect(try fileNames(in: directory) == ["phone.json"])
        }
    }

    @Test func listingAMissingFileCreatesNothingWhenAskedNotTo() async throws {
        try await withTemporaryDirectory { directory in
            let url = directory.appendingPathComponent("phone.json")
            let store = try CredentialStore(fileURL: url, createIfMissing: false)
            #expect(try store.list().isEmpty)
            #expect(try fileNames(in: directory).isEmpty)
            try store.add(try Self.credential(id: [1]))
            #expect(try permissions(of: url) == 0o600)
            #expect(try Self.storedCount(at: url) == 1)
        }
    }

    @Test func credentialsSurviveReopeningExactly() async throws {
        try await withTemporaryDirectory { directory in
            let url = directory.appendingPathComponent("phone.json")
            let phone = Phone(store: try CredentialStore(fileURL: url))
            _ = try await phone.register(user: .alice)
            _ = try await phone.register(rpID: "other.example", user: .bob)
            _ = try await phone.send(.getAssertion(Fixtures.getAssertion()))

            let reopened = try CredentialStore(fileURL: url)
            #expect(try reopened.list() == (try phone.store.list()))
            #expect(try reopened.list().count == 2)
            #expect(try reopened.credentials(forRP: "login.example.com").first?.signCount == 1)
        }
    }

    @Test func everyChangeLeavesValidJSONAndNoTemporaryFile() async throws {
        try await withTemporaryDirectory { directory in
            let url = directory.appendingPathComponent("phone.json")
            let store = try CredentialStore(fileURL: url)
            var expected = 0
            let changes: [(CredentialStore) throws -> Int] = [
                {
                    try $0.add(try Self.credential(id: [1], seed: 1))
                    return 1
                },
                {
                    try $0.add(try Self.credential(id: [2], seed: 2))
                    return 1
                },
                {
                    _ = try $0.incrementCounter(id: [1])
                    return 0
                },
                {
                    try $0.delete(id: [2])
                    return -1
                },
                {
                    try $0.add(try Self.credential(id: [3], seed: 3))
                    return 1
                },
            ]
            for change in changes {
                expected += try change(store)
                #expect(try Self.storedCount(at: url) == expected)
                #expect(try fileNames(in: directory) == ["phone.json"])
                #expect(try permissions(of: url) == 0o600)
            }
        }
    }

    @Test func aRewriteRestoresOwnerOnlyPermissions() async throws {
        try await withTemporaryDirectory { directory in
            let url = directory.appendingPathComponent("phone.json")
            let store = try CredentialStore(fileURL: url)
            try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: url.path)
            try store.add(try Self.credential(id: [1]))
            #expect(try permissions(of: url) == 0o600)
        }
    }

    @Test func theFileHoldsTheDocumentedMembers() async throws {
        try await withTemporaryDirectory { directory in
            let url = directory.appendingPathComponent("phone.json")
            let credential = try Self.credential(id: [0xFB, 0xFF], createdAt: 1_764_000_000.123, signCount: 5)
            try CredentialStore(fileURL: url).add(credential)
            let records = try #require(try Self.document(at: url)["credentials"] as? [[String: Any]])
            let record = try #require(records.first)
            #expect(record["id"] as? String == base64URL([0xFB, 0xFF]))
            #expect(record["rpId"] as? String == "login.example.com")
            #expect(record["userHandle"] as? String == base64URL(Array("handle-1".utf8)))
            #expect(record["signCount"] as? Int == 5)
            #expect(record["createdAt"] as? String == "2025-11-24T16:00:00.123Z")
            #expect(record["aaguid"] as? String == "de1e552d-db1d-4423-a619-566b625cdc84")
            #expect(record["privateKey"] as? String == hexString(credential.privateKey.rawScalar.bytes))
        }
    }

    // MARK: - Reading and changing

    @Test func listIsMostRecentFirstWithLaterAdditionsFirstOnTies() throws {
        let store = CredentialStore()
        try store.add(try Self.credential(id: [1], createdAt: 100))
        try store.add(try Self.credential(id: [2], createdAt: 300))
        try store.add(try Self.credential(id: [3], createdAt: 200))
        try store.add(try Self.credential(id: [4], createdAt: 300))
        #expect(try store.list().map(\.id) == [[4], [2], [3], [1]])
    }

    @Test func credentialsForARelyingPartyAreOnlyThatRelyingParty() throws {
        let store = CredentialStore()
        try store.add(try Self.credential(id: [1], rpID: "a.example"))
        try store.add(try Self.credential(id: [2], rpID: "b.example"))
        #expect(try store.credentials(forRP: "a.example").map(\.id) == [[1]])
        #expect(try store.credentials(forRP: "c.example").isEmpty)
    }

    @Test func deleteRemovesOnlyThatCredentialAndAnUnknownIDIsCredentialNotFound() throws {
        let store = CredentialStore()
        try store.add(try Self.credential(id: [1]))
        try store.add(try Self.credential(id: [2]))
        try store.delete(id: [1])
        #expect(try store.list().map(\.id) == [[2]])
        let error = #expect(throws: CredentialStoreError.self) { try store.delete(id: [1]) }
        #expect(error?.code == .credentialNotFound)
    }

    @Test func aDuplicateIDIsRefused() throws {
        let store = CredentialStore()
        try store.add(try Self.credential(id: [1], seed: 1))
        let error = #expect(throws: CredentialStoreError.self) { try store.add(try Self.credential(id: [1], seed: 2)) }
        #expect(error?.code == .duplicateCredential)
        #expect(try store.list().count == 1)
    }

    @Test func theCounterStopsAtItsMaximumInsteadOfWrapping() throws {
        let store = CredentialStore()
        try store.add(try Self.credential(id: [1], signCount: .max - 1))
        #expect(try store.incrementCounter(id: [1]).signCount == .max)
        #expect(try store.incrementCounter(id: [1]).signCount == .max)
        let error = #expect(throws: CredentialStoreError.self) { try store.incrementCounter(id: [9]) }
        #expect(error?.code == .credentialNotFound)
    }

    @Test func aDeletionByAnotherProcessIsNotUndoneByTheNextWrite() async throws {
        try await withTemporaryDirectory { directory in
            let url = directory.appendingPathComponent("phone.json")
            let phoneSide = try CredentialStore(fileURL: url)
            try phoneSide.add(try Self.credential(id: [1]))
            try phoneSide.add(try Self.credential(id: [2]))

            // `cable passkeys delete` in another process: another store on the same file.
            try CredentialStore(fileURL: url).delete(id: [1])
            #expect(try phoneSide.credential(id: [1]) == nil)
            try phoneSide.add(try Self.credential(id: [3]))
            #expect(try CredentialStore(fileURL: url).list().map(\.id) == [[3], [2]])
        }
    }

    @Test func concurrentAdditionsAreAllKept() async throws {
        try await withTemporaryDirectory { directory in
            let url = directory.appendingPathComponent("phone.json")
            let store = try CredentialStore(fileURL: url)
            let key = try P256.PrivateKey()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<40 {
                    group.addTask {
                        try store.add(
                            StoredCredential(
                                id: [UInt8(index)],
                                rpID: "x.example",
                                userHandle: [1],
                                createdAt: Date(),
                                aaguid: .zero,
                                privateKey: key
                            )
                        )
                    }
                }
                try await group.waitForAll()
            }
            #expect(try Self.storedCount(at: url) == 40)
            #expect(try fileNames(in: directory) == ["phone.json"])
        }
    }

    @Test func anInMemoryStoreHasNoFile() throws {
        let store = CredentialStore()
        #expect(store.fileURL == nil)
        try store.add(try Self.credential(id: [1]))
        #expect(try store.list().count == 1)
    }

    @Test func aFullStoreRefusesMore() throws {
        let store = CredentialStore()
        let key = try P256.PrivateKey()
        for index in 0..<CredentialStore.maxCredentialCount {
            try store.add(
                StoredCredential(
                    id: [UInt8(index >> 8), UInt8(index & 0xFF)],
                    rpID: "x.example",
                    userHandle: [1],
                    createdAt: Date(timeIntervalSince1970: 0),
                    aaguid: .zero,
                    privateKey: key
                )
            )
        }
        let error = #expect(throws: CredentialStoreError.self) {
            try store.add(try Self.credential(id: [0xFF, 0xFF, 0xFF]))
        }
        #expect(error?.code == .storeFull)
    }

    // MARK: - Damaged files

    /// A valid store file's JSON object with one credential, to damage.
    static func validDocument() throws -> [String: Any] {
        var document: [String: Any] = ["version": 1]
        let credential = try self.credential(id: [1, 2, 3])
        document["credentials"] = [
            [
                "id": base64URL(credential.id), "rpId": credential.rpID, "rpName": "Example",
                "userHandle": base64URL(credential.userHandle), "userName": "user1", "userDisplayName": "User 1",
                "signCount": 0, "createdAt": "2025-11-24T16:00:00.000Z", "aaguid": credential.aaguid.uuidString,
                "privateKey": hexString(credential.privateKey.rawScalar.bytes),
            ]
        ]
        return document
    }

    static func withCredentialMember(_ key: String, _ value: Any?) throws -> [UInt8] {
        var document = try self.validDocument()
        var records = try #require(document["credentials"] as? [[String: Any]])
        records[0][key] = value
        document["credentials"] = records
        return Array(try JSONSerialization.data(withJSONObject: document))
    }

    /// Named damaged files and the error each must produce.
    static func damagedFiles() throws -> [(String, [UInt8], CredentialStoreError.Code)] {
        let valid = Array(try JSONSerialization.data(withJSONObject: try self.validDocument()))
        var duplicate = try self.validDocument()
        let records = try #require(duplicate["credentials"] as? [[String: Any]])
        duplicate["credentials"] = records + records
        var future = try self.validDocument()
        future["version"] = 2
        let groupOrder = "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551"
        return [
            ("empty file", [], .corrupted),
            ("not JSON", Array("this is not json".utf8), .corrupted),
            ("truncated JSON", Array(valid.prefix(valid.count / 2)), .corrupted),
            ("JSON array", Array("[]".utf8), .corrupted),
            ("no version", Array(#"{"credentials": []}"#.utf8), .corrupted),
            ("future version", Array(try JSONSerialization.data(withJSONObject: future)), .unsupportedVersion),
            ("credentials not an array", Array(#"{"version": 1, "credentials": {}}"#.utf8), .corrupted),
            ("missing private key", try self.withCredentialMember("privateKey", nil), .corrupted),
            (
                "private key not hex",
                try self.withCredentialMember("privateKey", "zz" + String(repeating: "0", count: 62)), .corrupted
            ),
            ("private key too short", try self.withCredentialMember("privateKey", "01"), .corrupted),
            (
                "private key zero", try self.withCredentialMember("privateKey", String(repeating: "0", count: 64)),
                .corrupted
            ),
            (
                "private key equal to the group order", try self.withCredentialMember("privateKey", groupOrder),
                .corrupted
            ),
            ("id not base64url", try self.withCredentialMember("id", "a+b/"), .corrupted),
            ("empty id", try self.withCredentialMember("id", ""), .corrupted),
            (
                "user handle over 64 bytes",
                try self.withCredentialMember("userHandle", base64URL(Array(repeating: 1, count: 65))), .corrupted
            ),
            ("bad AAGUID", try self.withCredentialMember("aaguid", "not-an-aaguid"), .corrupted),
            ("bad date", try self.withCredentialMember("createdAt", "yesterday"), .corrupted),
            ("negative counter", try self.withCredentialMember("signCount", -1), .corrupted),
            ("counter over 32 bits", try self.withCredentialMember("signCount", 4_294_967_296), .corrupted),
            ("counter as text", try self.withCredentialMember("signCount", "1"), .corrupted),
            ("empty RP ID", try self.withCredentialMember("rpId", ""), .corrupted),
            ("duplicate IDs", Array(try JSONSerialization.data(withJSONObject: duplicate)), .corrupted),
        ]
    }

    @Test func aDamagedFileIsATypedErrorAndIsLeftUntouched() async throws {
        try await withTemporaryDirectory { directory in
            let url = directory.appendingPathComponent("phone.json")
            for (name, bytes, code) in try Self.damagedFiles() {
                try Data(bytes).write(to: url)
                let error = #expect(throws: CredentialStoreError.self, "\(name)") { try CredentialStore(fileURL: url) }
                #expect(error?.code == code, "\(name): \(error.map(String.init(describing:)) ?? "-")")
                #expect(Array(try Data(contentsOf: url)) == bytes, "\(name): the file was changed")
                #expect(try fileNames(in: directory) == ["phone.json"], "\(name)")
            }
        }
    }

    @Test func aFileDamagedWhileOpenStopsChangesAndIsLeftUntouched() async throws {
        try await withTemporaryDirectory { directory in
            let url = directory.appendingPathComponent("phone.json")
            let store = try CredentialStore(fileURL: url)
            try store.add(try Self.credential(id: [1]))
            let damaged = Array(#"{"version": 1, "credentials": [{"id": 7}]}"#.utf8)
            try Data(damaged).write(to: url)

            for attempt in [
                { try store.add(try Self.credential(id: [2])) }, { try store.delete(id: [1]) },
                { _ = try store.incrementCounter(id: [1]) }, { _ = try store.list() },
            ] as [() throws -> Void] {
                let error = #expect(throws: CredentialStoreError.self) { try attempt() }
                #expect(error?.code == .corrupted)
                #expect(Array(try Data(contentsOf: url)) == damaged)
            }
            // The phone answers with a CTAP error instead of crashing or emptying the store.
            let phone = Phone(store: store)
            #expect(try await phone.send(.makeCredential(Fixtures.makeCredential())).status == .other)
            #expect(try await phone.send(.getAssertion(Fixtures.getAssertion())).status == .other)
            #expect(Array(try Data(contentsOf: url)) == damaged)
        }
    }

    @Test func errorsNameTheFieldButNeverTheStoredValue() async throws {
        try await withTemporaryDirectory { directory in
            let url = directory.appendingPathComponent("phone.json")
            let secret = "ab" + String(repeating: "cd", count: 30) + "ef"
            try Data(try Self.withCredentialMember("privateKey", secret + "00")).write(to: url)
            let error = #expect(throws: CredentialStoreError.self) { try CredentialStore(fileURL: url) }
            let text = error.map(String.init(describing:)) ?? ""
            #expect(text.contains("credentials[0].privateKey"))
            #expect(!text.contains(secret))
        }
    }

    @Test func aFileOverTheSizeLimitIsRefusedUnread() async throws {
        try await withTemporaryDirectory { directory in
            let url = directory.appendingPathComponent("phone.json")
            try Data(repeating: 0x20, count: CredentialStore.maxFileSize + 1).write(to: url)
            let error = #expect(throws: CredentialStoreError.self) { try CredentialStore(fileURL: url) }
            #expect(error?.code == .fileTooLarge)
        }
    }

    @Test func aDirectoryInPlaceOfTheFileIsUnreadable() async throws {
        try await withTemporaryDirectory { directory in
            let error = #expect(throws: CredentialStoreError.self) { try CredentialStore(fileURL: directory) }
            #expect(error?.code == .unreadable)
        }
    }

    @Test func aFIFOInPlaceOfTheFileIsUnreadableWithoutBlocking() async throws {
        try await withTemporaryDirectory { directory in
            let url = directory.appendingPathComponent("phone.json")
            try #require(mkfifo(url.path, 0o600) == 0)
            let error = #expect(throws: CredentialStoreError.self) { try CredentialStore(fileURL: url) }
            #expect(error?.code == .unreadable)
        }
    }

    @Test func aMissingDirectoryIsAWriteFailure() async throws {
        try await withTemporaryDirectory { directory in
            let url = directory.appendingPathComponent("absent/phone.json")
            let error = #expect(throws: CredentialStoreError.self) { try CredentialStore(fileURL: url) }
            #expect(error?.code == .writeFailed)
        }
    }
}
