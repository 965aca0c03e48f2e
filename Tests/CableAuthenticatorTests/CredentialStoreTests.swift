import CableAuthenticator
import CableCTAP
import CableCrypto
import CableTestSupport
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The phone's stores: the SQLite store on disk (and the import of the JSON store it replaces), and the
/// in-memory store, through the same ``CredentialStore`` calls.
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

    /// The two implementations, each fresh.
    static func eachStore(_ body: (any CredentialStore) throws -> Void) async throws {
        try body(InMemoryCredentialStore())
        try await withTemporaryDirectory { directory in
            try body(try SQLiteCredentialStore(fileURL: directory.appendingPathComponent("passkeys.sqlite")))
        }
    }

    /// Overwrites the big-endian 32-bit field at `offset` of the SQLite header (user_version at 60,
    /// application_id at 68: sqlite.org/fileformat2.html), as another program would leave it.
    static func patchHeader(_ url: URL, offset: UInt64, value: UInt32) throws {
        let handle = try FileHandle(forUpdating: url)
        defer { try? handle.close() }
        try handle.seek(toOffset: offset)
        try handle.write(contentsOf: withUnsafeBytes(of: value.bigEndian) { Data($0) })
    }

    // MARK: - The calls, on both implementations

    @Test func listIsMostRecentFirstWithLaterAdditionsFirstOnTies() async throws {
        try await Self.eachStore { store in
            try store.add(try Self.credential(id: [1], createdAt: 100))
            try store.add(try Self.credential(id: [2], createdAt: 300))
            try store.add(try Self.credential(id: [3], createdAt: 100))
            #expect(try store.list().map(\.id) == [[2], [3], [1]], "\(type(of: store))")
        }
    }

    @Test func credentialsForARelyingPartyAreOnlyThatRelyingParty() async throws {
        try await Self.eachStore { store in
            try store.add(try Self.credential(id: [1], rpID: "a.example"))
            try store.add(try Self.credential(id: [2], rpID: "b.example"))
            #expect(try store.credentials(forRP: "b.example").map(\.id) == [[2]])
            #expect(try store.credential(id: [1])?.rpID == "a.example")
            #expect(try store.credential(id: [9]) == nil)
        }
    }

    @Test func deleteRemovesOnlyThatCredentialAndAnUnknownIDIsCredentialNotFound() async throws {
        try await Self.eachStore { store in
            try store.add(try Self.credential(id: [1]))
            try store.add(try Self.credential(id: [2], createdAt: 2_000_000_000))
            try store.delete(id: [1])
            #expect(try store.list().map(\.id) == [[2]])
            let error = #expect(throws: CredentialStoreError.self) { try store.delete(id: [1]) }
            #expect(error?.code == .credentialNotFound)
        }
    }

    @Test func aDuplicateIDIsRefused() async throws {
        try await Self.eachStore { store in
            try store.add(try Self.credential(id: [1]))
            let error = #expect(throws: CredentialStoreError.self) {
                try store.add(try Self.credential(id: [1], seed: 2))
            }
            #expect(error?.code == .duplicateCredential)
            #expect(try store.list().count == 1)
        }
    }

    @Test func theCounterStopsAtItsMaximumInsteadOfWrapping() async throws {
        try await Self.eachStore { store in
            try store.add(try Self.credential(id: [1], signCount: UInt32.max - 1))
            #expect(try store.incrementCounter(id: [1]).signCount == UInt32.max)
            #expect(try store.incrementCounter(id: [1]).signCount == UInt32.max)
            #expect(try store.credential(id: [1])?.signCount == UInt32.max)
            let error = #expect(throws: CredentialStoreError.self) { _ = try store.incrementCounter(id: [2]) }
            #expect(error?.code == .credentialNotFound)
        }
    }

    @Test func aFullStoreRefusesMore() async throws {
        let store = InMemoryCredentialStore()
        let key = try P256.PrivateKey(derivedFromSeed: Array(repeating: 7, count: 32))
        for index in 0..<CredentialStoreLimits.maxCredentialCount {
            try store.add(
                StoredCredential(
                    id: [UInt8(index >> 8), UInt8(index & 0xFF)],
                    rpID: "a.example",
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

    // MARK: - The SQLite file

    @Test func aNewStoreIsASQLiteFileWithOwnerOnlyPermissions() async throws {
        try await withTemporaryDirectory { directory in
            let url = directory.appendingPathComponent("passkeys.sqlite")
            let store = try SQLiteCredentialStore(fileURL: url)
            try store.add(try Self.credential(id: [1]))
            #expect(try permissions(of: url) == 0o600)
            #expect(Array(try Data(contentsOf: url).prefix(16)) == Array("SQLite format 3".utf8) + [0])
            for name in try fileNames(in: directory) {
                #expect(try permissions(of: directory.appendingPathComponent(name)) == 0o600, "\(name)")
            }
        }
    }

    @Test func aMissingFileIsAnErrorWhenAskedNotToCreateIt() async throws {
        try await withTemporaryDirectory { directory in
            let url = directory.appendingPathComponent("passkeys.sqlite")
            let error = #expect(throws: CredentialStoreError.self) {
                try SQLiteCredentialStore(fileURL: url, createIfMissing: false)
            }
            #expect(error?.code == .unreadable)
            #expect(error?.reason.contains("does not exist") == true)
            let names: [String] = try fileNames(in: directory)
            #expect(names.isEmpty)
        }
    }

    @Test func credentialsSurviveReopeningExactly() async throws {
        try await withTemporaryDirectory { directory in
            let url = directory.appendingPathComponent("passkeys.sqlite")
            let credentials = [
                try Self.credential(id: [1], seed: 1),
                try Self.credential(id: Array(repeating: 9, count: 1023), seed: 2),
            ]
            do {
                let store = try SQLiteCredentialStore(fileURL: url)
                for credential in credentials { try store.add(credential) }
                _ = try store.incrementCounter(id: [1])
            }
            let reopened = try SQLiteCredentialStore(fileURL: url)
            var expected = credentials
            expected[0] = try Self.credential(id: [1], signCount: 1, seed: 1)
            #expect(try reopened.list().sorted { $0.id.count < $1.id.count } == expected)
        }
    }

    @Test func twoInstancesSeeEachOthersChanges() async throws {
        try await withTemporaryDirectory { directory in
            let url = directory.appendingPathComponent("passkeys.sqlite")
            let phoneSide = try SQLiteCredentialStore(fileURL: url)
            let cliSide = try SQLiteCredentialStore(fileURL: url)
            try phoneSide.add(try Self.credential(id: [1]))
            try cliSide.add(try Self.credential(id: [2], createdAt: 2_000_000_000))
            try cliSide.delete(id: [1])
            try phoneSide.add(try Self.credential(id: [3], createdAt: 2_100_000_000))
            #expect(
                try phoneSide.list().map(\.id) == [[3], [2]],
                "a deletion elsewhere is not undone by the next write"
            )
            #expect(try cliSide.list().map(\.id) == [[3], [2]])
        }
    }

    @Test func concurrentAdditionsThroughSeparateConnectionsAreAllKept() async throws {
        try await withTemporaryDirectory { directory in
            let url = directory.appendingPathComponent("passkeys.sqlite")
            let stores = try (0..<4).map { _ in try SQLiteCredentialStore(fileURL: url) }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (index, store) in stores.enumerated() {
                    group.addTask {
                        for round in 0..<10 {
                            try store.add(
                                try Self.credential(id: [UInt8(index), UInt8(round)], seed: UInt64(index * 10 + round))
                            )
                        }
                    }
                }
                try await group.waitForAll()
            }
            #expect(try SQLiteCredentialStore(fileURL: url).list().count == 40)
        }
    }

    @Test func aNewerSchemaIsATypedErrorAndTheFileIsLeftUntouched() async throws {
        try await withTemporaryDirectory { directory in
            let url = directory.appendingPathComponent("passkeys.sqlite")
            do { try SQLiteCredentialStore(fileURL: url).add(try Self.credential(id: [1])) }
            try Self.patchHeader(url, offset: 60, value: UInt32(SQLiteCredentialStore.schemaVersion + 1))
            let before = try Data(contentsOf: url)
            let error = #expect(throws: CredentialStoreError.self) { try SQLiteCredentialStore(fileURL: url) }
            #expect(error?.code == .unsupportedVersion)
            #expect(error?.reason.contains("schema version \(SQLiteCredentialStore.schemaVersion + 1)") == true)
            #expect(try Data(contentsOf: url) == before)
        }
    }

    @Test func anotherApplicationsDatabaseIsRefusedUntouched() async throws {
        try await withTemporaryDirectory { directory in
            let url = directory.appendingPathComponent("passkeys.sqlite")
            do { _ = try SQLiteCredentialStore(fileURL: url) }
            try Self.patchHeader(url, offset: 68, value: 0x1234_5678)
            let before = try Data(contentsOf: url)
            let error = #expect(throws: CredentialStoreError.self) { try SQLiteCredentialStore(fileURL: url) }
            #expect(error?.code == .corrupted)
            #expect(try Data(contentsOf: url) == before)
        }
    }

    @Test func aDamagedDatabaseIsATypedErrorNeverACrash() async throws {
        try await withTemporaryDirectory { directory in
            let url = directory.appendingPathComponent("passkeys.sqlite")
            do {
                let store = try SQLiteCredentialStore(fileURL: url)
                for index in 0..<20 { try store.add(try Self.credential(id: [UInt8(index)], seed: UInt64(index + 1))) }
            }
            let valid = try Data(contentsOf: url)
            var cases: [(String, Data)] = [
                ("header only", valid.prefix(100)),
                ("garbage", Data("this is not a database at all".utf8)),
            ]
            var scrambled = valid
            for offset in stride(from: 100, to: scrambled.count, by: 7) { scrambled[offset] ^= 0x5A }
            cases.append(("scrambled pages", scrambled))
            var badHeader = valid
            badHeader.replaceSubrange(16..<18, with: [0x00, 0x03])  // page size 3: not a power of two
            cases.append(("impossible page size", badHeader))
            for (name, bytes) in cases {
                try bytes.write(to: url)
                // Opening or reading fails with a typed error (a scrambled file may open and fail on reading).
                let error = #expect(throws: CredentialStoreError.self, "\(name)") {
                    _ = try SQLiteCredentialStore(fileURL: url).list()
                }
                #expect(
                    error?.code == .corrupted || error?.code == .unreadable,
                    "\(name): \(error.map(String.init(describing:)) ?? "-")"
                )
                #expect(try Data(contentsOf: url) == bytes, "\(name): the file was changed")
            }
        }
    }

    @Test func aFileOverTheSizeLimitIsRefusedUnread() async throws {
        try await withTemporaryDirectory { directory in
            let url = directory.appendingPathComponent("passkeys.sqlite")
            do { _ = try SQLiteCredentialStore(fileURL: url) }
            let handle = try FileHandle(forUpdating: url)
            try handle.truncate(atOffset: UInt64(SQLiteCredentialStore.maxFileSize + 1))  // sparse
            try handle.close()
            let error = #expect(throws: CredentialStoreError.self) { try SQLiteCredentialStore(fileURL: url) }
            #expect(error?.code == .fileTooLarge)
        }
    }

    @Test func aDirectoryInPlaceOfTheFileIsUnreadable() async throws {
        try await withTemporaryDirectory { directory in
            let error = #expect(throws: CredentialStoreError.self) { try SQLiteCredentialStore(fileURL: directory) }
            #expect(error?.code == .unreadable)
        }
    }

    @Test(.timeLimit(.minutes(1))) func aFIFOInPlaceOfTheFileIsUnreadableWithoutBlocking() async throws {
        try await withTemporaryDirectory { directory in
            let url = directory.appendingPathComponent("passkeys.sqlite")
            try #require(mkfifo(url.path, 0o600) == 0)
            let error = #expect(throws: CredentialStoreError.self) { try SQLiteCredentialStore(fileURL: url) }
            #expect(error?.code == .unreadable)
        }
    }

    @Test func aMissingDirectoryIsAWriteFailure() async throws {
        try await withTemporaryDirectory { directory in
            let url = directory.appendingPathComponent("absent/passkeys.sqlite")
            let error = #expect(throws: CredentialStoreError.self) { try SQLiteCredentialStore(fileURL: url) }
            #expect(error?.code == .writeFailed)
            #expect(error?.reason.contains("No such file or directory") == true)
        }
    }

    // MARK: - Read by another program

    /// Runs `script` with the project's Python venv (`make venv`), whose `sqlite3` module is an
    /// independent reader and writer of the file.
    static func python(_ script: String, _ arguments: [String]) async throws -> String {
        var url = URL(fileURLWithPath: #filePath)
        var interpreter: URL?
        while url.pathComponents.count > 1, interpreter == nil {
            url.deleteLastPathComponent()
            let candidate = url.appendingPathComponent(".venv-tools/bin/python")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { interpreter = candidate }
        }
        let python: URL = try #require(interpreter, "Python venv .venv-tools not found: run `make venv`")
        let result = try await ChildProcess.run(python, ["-c", script] + arguments)
        try #require(result.status == 0, "python exited \(result.status): \(result.stderrText.suffix(500))")
        return result.stdoutText
    }

    @Test func anotherSQLiteReaderSeesTheSchemaAndADamagedKeyIsNamedNeverShown() async throws {
        try await withTemporaryDirectory { directory in
            let url = directory.appendingPathComponent("passkeys.sqlite")
            let store = try SQLiteCredentialStore(fileURL: url)
            try store.add(try Self.credential(id: [1], seed: 1))
            let damaged = try Self.credential(id: [2], seed: 2)
            try store.add(damaged)
            let script = """
                import json, sqlite3, sys
                db = sqlite3.connect(sys.argv[1])
                one = lambda sql: db.execute(sql).fetchone()[0]
                out = {"integrity": one("PRAGMA integrity_check"), "version": one("PRAGMA user_version"),
                       "application": one("PRAGMA application_id"), "journal": one("PRAGMA journal_mode"),
                       "ids": [row[0].hex() for row in db.execute("SELECT id FROM credential ORDER BY seq")]}
                db.execute("UPDATE credential SET private_key = zeroblob(32) WHERE id = x'02'")
                db.commit()
                print(json.dumps(out))
                """
            let text = try await Self.python(script, [url.path])
            let report = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
            #expect(report["integrity"] as? String == "ok")
            #expect(report["version"] as? Int == SQLiteCredentialStore.schemaVersion)
            #expect(report["application"] as? Int == 0x6362_5068)
            #expect(report["journal"] as? String == "wal")
            #expect(report["ids"] as? [String] == ["01", "02"])

            let error = #expect(throws: CredentialStoreError.self) {
                _ = try SQLiteCredentialStore(fileURL: url).list()
            }
            #expect(error?.code == .corrupted)
            let description = error.map(String.init(describing:)) ?? ""
            #expect(description.contains("private_key"), "\(description)")
            #expect(!description.contains(hexString(damaged.privateKey.rawScalar.bytes)))
            #expect(try store.credential(id: [1]) != nil, "the other rows still read")
        }
    }

    // MARK: - A write that fails

    /// Runs `body` with a tiny tmpfs mounted at a fresh directory; skips where mounting is not allowed.
    static func withTinyFileSystem(kilobytes: Int, _ body: (URL) async throws -> Void) async throws {
        let mountPoint = FileManager.default.temporaryDirectory.appendingPathComponent(
            "cable-tmpfs-\(UUID().uuidString)"
        )
        try FileManager.default.createDirectory(at: mountPoint, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: mountPoint) }
        guard await run("/bin/mount", ["-t", "tmpfs", "-o", "size=\(kilobytes)k", "tmpfs", mountPoint.path]) == 0 else {
            print("skipped: cannot mount a tmpfs here (needs root)")
            return
        }
        do {
            try await body(mountPoint)
        } catch {
            _ = await run("/bin/umount", ["-l", mountPoint.path])
            throw error
        }
        _ = await run("/bin/umount", ["-l", mountPoint.path])
    }

    static func run(_ tool: String, _ arguments: [String]) async -> Int32 {
        guard FileManager.default.isExecutableFile(atPath: tool) else { return -1 }
        do { return try await ChildProcess.run(URL(fileURLWithPath: tool), arguments).status } catch { return -1 }
    }

    /// Fills the file system holding `directory` until a write fails.
    static func fill(_ directory: URL) {
        let handle = FileManager.default.createFile(
            atPath: directory.appendingPathComponent("filler").path,
            contents: nil
        )
        guard handle, let file = FileHandle(forWritingAtPath: directory.appendingPathComponent("filler").path) else {
            return
        }
        defer { try? file.close() }
        let block = Data(repeating: 0xAB, count: 4096)
        for _ in 0..<100_000 {
            do { try file.write(contentsOf: block) } catch { return }
        }
    }

    @Test func aFullDiskFailsTheAddWithAnErrorNamingTheCauseAndKeepsTheStore() async throws {
        try await Self.withTinyFileSystem(kilobytes: 256) { directory in
            let url = directory.appendingPathComponent("passkeys.sqlite")
            let store = try SQLiteCredentialStore(fileURL: url)
            try store.add(try Self.credential(id: [1]))
            Self.fill(directory)
            var failure: CredentialStoreError?
            for index in 2..<200 where failure == nil {
                let credential = try Self.credential(id: [UInt8(index)], seed: UInt64(index))
                do throws(CredentialStoreError) { try store.add(credential) } catch { failure = error }
            }
            let error = try #require(failure)
            #expect(error.code == .writeFailed, "\(error)")
            #expect(error.reason.contains("full"), "\(error)")
            #expect(try store.credential(id: [1]) != nil, "what was stored before is still there")

            // The phone answers CTAP1_ERR_OTHER and remembers why, for `cable phone` to report.
            let phone = Phone(store: store)
            #expect(try await phone.send(.makeCredential(Fixtures.makeCredential())).status == .other)
            #expect(phone.authenticator.storeFailure?.code == .writeFailed)
        }
    }

    @Test func aReadOnlyFileSystemIsAnErrorNamingTheCause() async throws {
        try await Self.withTinyFileSystem(kilobytes: 1024) { directory in
            let url = directory.appendingPathComponent("passkeys.sqlite")
            do { try SQLiteCredentialStore(fileURL: url).add(try Self.credential(id: [1])) }
            // Closed first: a file system with files open for writing cannot be remounted read-only.
            try #require(await Self.run("/bin/mount", ["-o", "remount,ro", directory.path]) == 0)
            let error = #expect(throws: CredentialStoreError.self) {
                let store = try SQLiteCredentialStore(fileURL: url)
                try store.add(try Self.credential(id: [2], seed: 2))
            }
            #expect(
                error?.code == .writeFailed || error?.code == .unreadable,
                "\(error.map(String.init(describing:)) ?? "-")"
            )
            #expect(error?.reason.contains("read-only") == true, "\(error.map(String.init(describing:)) ?? "-")")
        }
    }

    // MARK: - Importing the JSON store of earlier versions

    @Test func aJSONStoreIsImportedOnceAndKeptBeside() async throws {
        try await withTemporaryDirectory { directory in
            let url = directory.appendingPathComponent("phone.json")
            let json = Array(try JSONSerialization.data(withJSONObject: try Self.validDocument()))
            try Data(json).write(to: url)
            let store = try SQLiteCredentialStore(fileURL: url)
            let credentials = try store.list()
            #expect(credentials == [try Self.credential(id: [1, 2, 3], createdAt: 1_764_000_000)])
            #expect(
                try fileNames(in: directory).filter { !$0.hasSuffix("-wal") && !$0.hasSuffix("-shm") }
                    == ["phone.json", "phone.json.json-imported"]
            )
            #expect(Array(try Data(contentsOf: directory.appendingPathComponent("phone.json.json-imported"))) == json)
            #expect(Array(try Data(contentsOf: url).prefix(15)) == Array("SQLite format 3".utf8))
            // Opening again does not import again; a change made since is kept.
            try store.delete(id: [1, 2, 3])
            #expect(try SQLiteCredentialStore(fileURL: url).list().isEmpty)
        }
    }

    @Test func openersRacingOnAJSONStoreImportItOnce() async throws {
        try await withTemporaryDirectory { directory in
            for attempt in 0..<5 {
                let url = directory.appendingPathComponent("phone-\(attempt).json")
                let json = try JSONSerialization.data(withJSONObject: try Self.validDocument())
                try json.write(to: url)
                let counts = try await withThrowingTaskGroup(of: Int.self) { group in
                    for _ in 0..<4 {
                        group.addTask { try SQLiteCredentialStore(fileURL: url).list().count }
                    }
                    return try await group.reduce(into: [Int]()) { $0.append($1) }
                }
                #expect(counts == [1, 1, 1, 1], "attempt \(attempt)")
                let kept = directory.appendingPathComponent("phone-\(attempt).json.json-imported")
                #expect(try Data(contentsOf: kept) == json, "the JSON is kept, not a database imported over it")
            }
        }
    }

    @Test func aThousandCredentialJSONStoreImportsAndTheCapHolds() async throws {
        try await withTemporaryDirectory { directory in
            let url = directory.appendingPathComponent("phone.json")
            var document = try Self.validDocument()
            let template = try #require((document["credentials"] as? [[String: Any]])?.first)
            document["credentials"] = (0..<CredentialStoreLimits.maxCredentialCount).map { index -> [String: Any] in
                var record = template
                record["id"] = base64URL([UInt8(index >> 8), UInt8(index & 0xFF)])
                return record
            }
            try JSONSerialization.data(withJSONObject: document).write(to: url)
            let store = try SQLiteCredentialStore(fileURL: url)
            #expect(try store.list().count == CredentialStoreLimits.maxCredentialCount)
            let error = #expect(throws: CredentialStoreError.self) {
                try store.add(try Self.credential(id: [0xFF, 0xFF, 0xFF]))
            }
            #expect(error?.code == .storeFull)
        }
    }

    @Test func aDamagedJSONStoreIsATypedErrorAndIsLeftUntouched() async throws {
        try await withTemporaryDirectory { directory in
            let url = directory.appendingPathComponent("phone.json")
            for (name, bytes, code) in try Self.damagedFiles() {
                try Data(bytes).write(to: url)
                let error = #expect(throws: CredentialStoreError.self, "\(name)") {
                    try SQLiteCredentialStore(fileURL: url)
                }
                #expect(error?.code == code, "\(name): \(error.map(String.init(describing:)) ?? "-")")
                #expect(Array(try Data(contentsOf: url)) == bytes, "\(name): the file was changed")
                #expect(try fileNames(in: directory) == ["phone.json"], "\(name)")
            }
        }
    }

    @Test func errorsNameTheFieldButNeverTheStoredValue() async throws {
        try await withTemporaryDirectory { directory in
            let url = directory.appendingPathComponent("phone.json")
            let secret = "ab" + String(repeating: "cd", count: 30) + "ef"
            try Data(try Self.withCredentialMember("privateKey", secret + "00")).write(to: url)
            let error = #expect(throws: CredentialStoreError.self) { try SQLiteCredentialStore(fileURL: url) }
            let text = error.map(String.init(describing:)) ?? ""
            #expect(text.contains("credentials[0].privateKey"))
            #expect(!text.contains(secret))
        }
    }

    // MARK: - Damaged JSON stores (import)

    /// A valid JSON store (the format of earlier versions) with one credential with one credential, to damage.
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

}
