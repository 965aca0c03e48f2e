import CableCTAP
import CableCrypto
import CableRelyingParty
import CableStorage
import Foundation
import GRDB

/// What a store write costs, and what each flush buys. Every figure writes one new row (or, for the
/// JSON store it replaced, one whole file) into a file under the system temporary directory, so the
/// disk's flush latency is in every figure; ratios compare writes in the same run on the same disk.
///
/// - `store.rp.add`: `SQLiteCredentialRecordStore.add` (one `BEGIN IMMEDIATE` transaction in WAL mode
///   with `synchronous = FULL`: one `fsync` of the WAL per commit), against a bare SQLite `INSERT` of a
///   similar row with the same settings: the cost of the store's own work (duplicate check, encoding).
/// - `store.sqlite.sync-normal`: the bare insert with `synchronous = NORMAL` (no flush at commit; WAL
///   pages reach the disk at checkpoints), against the same insert with `FULL`: what the flush per
///   commit costs. NORMAL stays consistent after a crash but may lose the last commits on power loss.
/// - `store.sqlite.sync-off`: the bare insert with `synchronous = OFF` (no flush ever), against `FULL`.
/// - `store.json.replace`: the JSON stores' write (a 16 KiB file, about 30 records, written to a
///   temporary file, flushed, renamed, and the directory flushed: two `fsync`s), against the bare
///   `FULL` insert.
enum StoreCases {
    static var all: [BenchmarkCase] {
        [
            BenchmarkCase("store.rp.add") { context in
                try Self.withDirectory { directory in
                    let store = try SQLiteCredentialRecordStore(fileURL: directory.appendingPathComponent("rp.sqlite"))
                    let bare = try BareTable(directory.appendingPathComponent("bare.sqlite"), synchronous: "FULL")
                    let key = COSEKey(publicKey: try P256.PrivateKey().publicKey)
                    var counter: UInt64 = 0
                    let baseline = TimedOperation(name: "bare SQLite INSERT, WAL, synchronous=FULL") {
                        try bare.insert()
                    }
                    let (measurement, raw) = try context.compare(
                        {
                            counter += 1
                            try store.add(Self.record(counter, key: key))
                        },
                        with: baseline
                    )
                    return [.timed("store.rp.add", measurement, baseline: raw)]
                }
            },
            BenchmarkCase("store.sqlite.sync-normal") { context in
                try Self.compareBare(context, name: "store.sqlite.sync-normal", synchronous: "NORMAL")
            },
            BenchmarkCase("store.sqlite.sync-off") { context in
                try Self.compareBare(context, name: "store.sqlite.sync-off", synchronous: "OFF")
            },
            BenchmarkCase("store.json.replace") { context in
                try Self.withDirectory { directory in
                    let bare = try BareTable(directory.appendingPathComponent("bare.sqlite"), synchronous: "FULL")
                    let path = directory.appendingPathComponent("store.json").path
                    let bytes = [UInt8](repeating: 0x20, count: 16 << 10)
                    let baseline = TimedOperation(name: "bare SQLite INSERT, WAL, synchronous=FULL") {
                        try bare.insert()
                    }
                    let (measurement, raw) = try context.compare(
                        { try AtomicFile.replace(path: path, with: bytes, permissions: 0o600) },
                        with: baseline
                    )
                    return [.timed("store.json.replace", measurement, baseline: raw)]
                }
            },
        ]
    }

    static func compareBare(_ context: BenchmarkContext, name: String, synchronous: String) throws -> [BenchmarkResult]
    {
        try Self.withDirectory { directory in
            let figure = try BareTable(directory.appendingPathComponent("figure.sqlite"), synchronous: synchronous)
            let full = try BareTable(directory.appendingPathComponent("full.sqlite"), synchronous: "FULL")
            let baseline = TimedOperation(name: "bare SQLite INSERT, WAL, synchronous=FULL") { try full.insert() }
            let (measurement, raw) = try context.compare({ try figure.insert() }, with: baseline)
            return [.timed(name, measurement, baseline: raw)]
        }
    }

    static func record(_ counter: UInt64, key: COSEKey) -> CredentialRecord {
        CredentialRecord(
            credentialID: withUnsafeBytes(of: counter.bigEndian) { Array($0) } + [UInt8](repeating: 7, count: 24),
            friendlyName: "Phone",
            aaguid: .zero,
            publicKey: key,
            signCount: 0,
            userName: "alice@example.com",
            userHandle: Array("alice-user-handle".utf8),
            attestationFormat: "none",
            createdAt: Date()
        )
    }

    static func withDirectory<T>(_ body: (URL) throws -> T) throws -> T {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("cable-bench-store-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        return try body(directory)
    }

    /// A one-table database written with plain GRDB: the baseline with no store logic.
    final class BareTable {
        let queue: DatabaseQueue
        var counter: Int64 = 0

        init(_ url: URL, synchronous: String) throws {
            var configuration = Configuration()
            configuration.prepareDatabase { db in
                _ = try String.fetchOne(db, sql: "PRAGMA journal_mode = WAL")
                try db.execute(sql: "PRAGMA synchronous = \(synchronous)")
            }
            self.queue = try DatabaseQueue(path: url.path, configuration: configuration)
            try self.queue.write { db in
                try db.execute(
                    sql: "CREATE TABLE row (id BLOB PRIMARY KEY, name TEXT, key BLOB, count INTEGER, created REAL)"
                )
            }
        }

        func insert() throws {
            self.counter += 1
            let id = withUnsafeBytes(of: self.counter.bigEndian) { Data($0) } + Data(repeating: 7, count: 24)
            try self.queue.write { db in
                try db.execute(
                    sql: "INSERT INTO row VALUES (?, ?, ?, ?, ?)",
                    arguments: [
                        id, "alice@example.com", Data(repeating: 1, count: 77), 0, Date().timeIntervalSince1970,
                    ]
                )
            }
        }
    }
}
