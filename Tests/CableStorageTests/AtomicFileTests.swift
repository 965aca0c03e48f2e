import CableStorage
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

@Suite struct AtomicFileTests {
    /// A fresh directory per test, removed afterwards.
    final class TemporaryDirectory {
        let path: String
        init() throws {
            self.path =
                FileManager.default.temporaryDirectory.appendingPathComponent("cable-storage-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: self.path, withIntermediateDirectories: true)
        }
        deinit { try? FileManager.default.removeItem(atPath: self.path) }
        func file(_ name: String = "store.json") -> String { self.path + "/" + name }
        func names() throws -> [String] { try FileManager.default.contentsOfDirectory(atPath: self.path).sorted() }
        func mode(_ name: String = "store.json") throws -> Int {
            (try FileManager.default.attributesOfItem(atPath: self.file(name))[.posixPermissions] as? Int) ?? -1
        }
    }

    static func failure(_ body: () throws(AtomicFile.Failure) -> Void) -> AtomicFile.Failure? {
        do throws(AtomicFile.Failure) {
            try body()
            return nil
        } catch {
            return error
        }
    }

    // MARK: Reading

    @Test func readsExactlyTheBytesWritten() throws {
        let directory = try TemporaryDirectory()
        let bytes = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }  // several read chunks
        try Data(bytes).write(to: URL(fileURLWithPath: directory.file()))
        #expect(try AtomicFile.contents(path: directory.file(), maxSize: 1 << 20) == bytes)
    }

    @Test func anEmptyFileIsEmpty() throws {
        let directory = try TemporaryDirectory()
        #expect(FileManager.default.createFile(atPath: directory.file(), contents: Data()))
        #expect(try AtomicFile.contents(path: directory.file(), maxSize: 16).isEmpty)
    }

    @Test func aMissingFileSaysSo() throws {
        let directory = try TemporaryDirectory()
        let failure = Self.failure { () throws(AtomicFile.Failure) in
            _ = try AtomicFile.contents(path: directory.file(), maxSize: 16)
        }
        #expect(failure?.kind == .missing)
        #expect(failure?.isMissing == true)
    }

    @Test func aFileAtTheLimitIsReadAndOneByteMoreIsRefused() throws {
        let directory = try TemporaryDirectory()
        try Data(repeating: 7, count: 64).write(to: URL(fileURLWithPath: directory.file()))
        #expect(try AtomicFile.contents(path: directory.file(), maxSize: 64).count == 64)
        let failure = Self.failure { () throws(AtomicFile.Failure) in
            _ = try AtomicFile.contents(path: directory.file(), maxSize: 63)
        }
        #expect(failure?.kind == .tooLarge)
        #expect(failure?.reason.contains("64 bytes") == true)
    }

    /// A FIFO put where the file should be would block a plain `open`/`read` until a writer appears.
    @Test(.timeLimit(.minutes(1))) func aFIFOIsRefusedWithoutBlocking() throws {
        let directory = try TemporaryDirectory()
        try #require(mkfifo(directory.file(), 0o600) == 0)
        let failure = Self.failure { () throws(AtomicFile.Failure) in
            _ = try AtomicFile.contents(path: directory.file(), maxSize: 16)
        }
        #expect(failure?.kind == .notRegularFile)
    }

    @Test func aDirectoryIsRefused() throws {
        let directory = try TemporaryDirectory()
        let failure = Self.failure { () throws(AtomicFile.Failure) in
            _ = try AtomicFile.contents(path: directory.path, maxSize: 16)
        }
        #expect(failure?.kind == .notRegularFile)
    }

    @Test(.enabled(if: geteuid() != 0, "root reads a mode-0000 file anyway"))
    func anUnreadableFileIsAnIOFailureNamingTheCall() throws {
        let directory = try TemporaryDirectory()
        try Data([1]).write(to: URL(fileURLWithPath: directory.file()))
        try #require(chmod(directory.file(), 0) == 0)
        let failure = Self.failure { () throws(AtomicFile.Failure) in
            _ = try AtomicFile.contents(path: directory.file(), maxSize: 16)
        }
        #expect(failure?.kind == .io)
        #expect(failure?.reason.hasPrefix("open(") == true)
    }

    // MARK: Replacing

    @Test func replaceCreatesAndOverwritesWithTheGivenModeWhateverTheUmask() throws {
        let directory = try TemporaryDirectory()
        let previous = umask(0)  // the widest umask: nothing is filtered out of open's mode
        defer { umask(previous) }
        try AtomicFile.replace(path: directory.file(), with: Array("first".utf8), permissions: 0o600)
        #expect(try directory.mode() == 0o600)
        try AtomicFile.replace(path: directory.file(), with: Array("second, longer".utf8), permissions: 0o600)
        #expect(try AtomicFile.contents(path: directory.file(), maxSize: 64) == Array("second, longer".utf8))
        #expect(try directory.mode() == 0o600)
        #expect(try directory.names() == ["store.json"])
    }

    @Test func replaceWithNothingLeavesAnEmptyFile() throws {
        let directory = try TemporaryDirectory()
        try AtomicFile.replace(path: directory.file(), with: Array("old".utf8), permissions: 0o600)
        try AtomicFile.replace(path: directory.file(), with: [], permissions: 0o600)
        #expect(try AtomicFile.contents(path: directory.file(), maxSize: 64).isEmpty)
    }

    /// A crash after the new contents are flushed but before the rename leaves the old file as it was
    /// and no temporary file behind.
    @Test func aCrashBeforeTheRenameLeavesTheOldFileAndNoTemporaryFile() throws {
        let directory = try TemporaryDirectory()
        try AtomicFile.replace(path: directory.file(), with: Array("{\"old\":1}".utf8), permissions: 0o600)
        var sawTemporaryFile = false
        let failure = Self.failure { () throws(AtomicFile.Failure) in
            try AtomicFile.replace(path: directory.file(), with: Array("{half".utf8), permissions: 0o600) {
                () throws(AtomicFile.Failure) in
                sawTemporaryFile = ((try? directory.names()) ?? []).contains { $0.hasPrefix(".store.json.tmp-") }
                throw AtomicFile.Failure(.io, reason: "simulated crash")
            }
        }
        #expect(failure?.reason == "simulated crash")
        #expect(sawTemporaryFile, "the new contents were not in a temporary file beside the target")
        #expect(try AtomicFile.contents(path: directory.file(), maxSize: 64) == Array("{\"old\":1}".utf8))
        #expect(try directory.names() == ["store.json"])
    }

    @Test func replaceIntoAMissingDirectoryIsAnIOFailureAndCreatesNothing() throws {
        let directory = try TemporaryDirectory()
        let failure = Self.failure { () throws(AtomicFile.Failure) in
            try AtomicFile.replace(path: directory.path + "/absent/store.json", with: [1], permissions: 0o600)
        }
        #expect(failure?.kind == .io)
        #expect(failure?.reason.hasPrefix("open(") == true)
        #expect(try directory.names().isEmpty)
    }

    @Test func aBareNameIsReplacedInTheCurrentDirectory() throws {
        let directory = try TemporaryDirectory()
        let previous = FileManager.default.currentDirectoryPath
        #expect(FileManager.default.changeCurrentDirectoryPath(directory.path))
        defer { _ = FileManager.default.changeCurrentDirectoryPath(previous) }
        try AtomicFile.replace(path: "bare.json", with: [42], permissions: 0o600)
        #expect(try AtomicFile.contents(path: directory.file("bare.json"), maxSize: 4) == [42])
    }
}
