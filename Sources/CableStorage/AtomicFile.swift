#if canImport(Glibc)
internal import Glibc
#elseif canImport(Musl)
internal import Musl
#elseif canImport(Darwin)
internal import Darwin
#endif

/// Whole-file reads and crash-safe whole-file replacement with POSIX calls: the one file code of the
/// phone's credential store and the relying party's record store.
///
/// A read opens without blocking (a FIFO put in the file's place cannot hang the caller), accepts only a
/// regular file, and never holds more than the size limit even if the file grows while it is read.
///
/// A replacement is written to a temporary file in the same directory (so `rename` stays on one file
/// system and is atomic), made `permissions` whatever the umask, flushed with `fsync`, renamed over the
/// target, and the directory entry is flushed too. A reader therefore sees either the old file or the new
/// one, never a mix, even if the process dies or the machine loses power half way. On any failure the
/// temporary file is removed and the target is untouched.
package enum AtomicFile {
    /// Why an operation failed, with the failing call and `strerror` text (paths and sizes only).
    package struct Failure: Error, Sendable {
        /// What went wrong, for callers that map failures onto their own error codes.
        package enum Kind: Sendable, Equatable {
            /// The file does not exist (`ENOENT` on open); callers may treat it as empty.
            case missing
            /// The file is larger than the limit given to ``AtomicFile/contents(path:maxSize:)``.
            case tooLarge
            /// Something other than a regular file (a directory, a FIFO, a device) is at the path.
            case notRegularFile
            /// Any other failing system call.
            case io
        }

        /// What went wrong.
        package let kind: Kind
        /// A human explanation.
        package let reason: String

        /// Whether the file was missing, which callers may treat as "empty".
        package var isMissing: Bool { kind == .missing }
        /// Whether the file exceeded the size limit.
        package var isTooLarge: Bool { kind == .tooLarge }

        package init(_ kind: Kind, reason: String) {
            self.kind = kind
            self.reason = reason
        }

        static func posix(_ call: String, _ path: String, errno code: Int32, kind: Kind = .io) -> Self {
            Self(kind, reason: "\(call)(\(path)): \(Self.message(code))")
        }

        private static func message(_ code: Int32) -> String {
            guard let text = strerror(code) else { return "errno \(code)" }
            return String(cString: text)
        }
    }

    /// Reads the whole regular file at `path`, refusing files larger than `maxSize` bytes before reading them.
    package static func contents(path: String, maxSize: Int) throws(Failure) -> [UInt8] {
        // O_NONBLOCK: opening a FIFO put in the file's place must not hang the phone (no effect on regular files).
        let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard descriptor >= 0 else {
            let code = errno
            throw .posix("open", path, errno: code, kind: code == ENOENT ? .missing : .io)
        }
        defer { _ = close(descriptor) }

        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw .posix("fstat", path, errno: errno) }
        guard status.st_mode & S_IFMT == S_IFREG else {
            throw Failure(.notRegularFile, reason: "\(path) is not a regular file")
        }
        guard Int(status.st_size) <= maxSize else {
            throw Failure(.tooLarge, reason: "\(status.st_size) bytes, at most \(maxSize) accepted")
        }

        // Read until EOF rather than trusting st_size, but never past the limit (the file may grow).
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw .posix("read", path, errno: errno)
            }
            if count == 0 { return bytes }
            bytes += chunk[0..<count]
            guard bytes.count <= maxSize else {
                throw Failure(.tooLarge, reason: "more than \(maxSize) bytes")
            }
        }
    }

    /// Replaces the file at `path` with `bytes`, atomically and durably, with mode `permissions`.
    /// - Parameter beforeRename: a test seam, run after the temporary file is flushed and before it is
    ///   renamed; a throw there simulates a crash at the worst moment.
    package static func replace(
        path: String,
        with bytes: [UInt8],
        permissions: UInt32,
        beforeRename: () throws(Failure) -> Void = {}
    ) throws(Failure) {
        let (directory, name) = Self.split(path)
        let suffix = String(UInt64.random(in: .min ... .max), radix: 16)
        let temporary = directory + "/." + name + ".tmp-" + suffix

        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode_t(permissions))
        guard descriptor >= 0 else { throw .posix("open", temporary, errno: errno) }
        var renamed = false
        defer { if !renamed { _ = unlink(temporary) } }

        do throws(Failure) {
            // open's mode is filtered by the umask; the key file must not be group- or world-readable.
            guard fchmod(descriptor, mode_t(permissions)) == 0 else { throw .posix("fchmod", temporary, errno: errno) }
            try Self.writeAll(bytes, to: descriptor, path: temporary)
            guard fsync(descriptor) == 0 else { throw .posix("fsync", temporary, errno: errno) }
        } catch {
            _ = close(descriptor)
            throw error
        }
        guard close(descriptor) == 0 else { throw .posix("close", temporary, errno: errno) }
        try beforeRename()
        guard rename(temporary, path) == 0 else { throw .posix("rename", path, errno: errno) }
        renamed = true
        Self.syncDirectory(directory)
    }

    private static func writeAll(_ bytes: [UInt8], to descriptor: Int32, path: String) throws(Failure) {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { buffer -> Int in
                guard let base = buffer.baseAddress else { return 0 }
                return write(descriptor, base + offset, buffer.count - offset)
            }
            if written < 0 {
                if errno == EINTR { continue }
                throw .posix("write", path, errno: errno)
            }
            // write(2) never returns 0 for a non-empty buffer on a regular file; stop rather than spin.
            guard written > 0 else { throw .posix("write", path, errno: EIO) }
            offset += written
        }
    }

    /// Flushes the directory so the rename itself survives a power loss. Best effort: some file systems
    /// refuse fsync on directories, and the data is already durable in the renamed file.
    private static func syncDirectory(_ directory: String) {
        let descriptor = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { return }
        _ = fsync(descriptor)
        _ = close(descriptor)
    }

    /// `(directory, file name)`; a bare name lives in the current directory.
    private static func split(_ path: String) -> (String, String) {
        guard let slash = path.lastIndex(of: "/") else { return (".", path) }
        let directory = String(path[..<slash])
        return (directory.isEmpty ? "/" : directory, String(path[path.index(after: slash)...]))
    }
}
