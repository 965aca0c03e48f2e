import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where the stores live when no `--store` / `--rp-store` is given: one per-user directory,
/// `$XDG_DATA_HOME/cable/` (when that is an absolute path), else `~/.local/share/cable/`, so `sign-in`
/// finds what `register` wrote wherever it runs.
enum StoreLocation {
    /// The phone model's passkeys.
    static let phoneFileName = "passkeys.sqlite"
    /// The relying party's registrations.
    static let relyingPartyFileName = "registrations.sqlite"

    /// The per-user data directory for `cable` (not created).
    static func directory(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> URL {
        if let data = environment["XDG_DATA_HOME"], data.hasPrefix("/") {
            return URL(fileURLWithPath: data).appendingPathComponent("cable")
        }
        guard let home = environment["HOME"].flatMap({ $0.hasPrefix("/") ? $0 : nil }) ?? Self.passwordHome() else {
            throw Output.failure("cannot find the default store directory: set HOME or XDG_DATA_HOME, or give --store")
        }
        return URL(fileURLWithPath: home).appendingPathComponent(".local/share/cable")
    }

    /// `explicit` as given, or the default file in the per-user directory; the directory is created
    /// (mode 0700) when `create` and it is missing.
    static func resolve(_ explicit: String?, defaultName: String, create: Bool) throws -> (url: URL, isDefault: Bool) {
        if let explicit { return (URL(fileURLWithPath: explicit), false) }
        let directory = try Self.directory()
        if create, !FileManager.default.fileExists(atPath: directory.path) {
            do {
                try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
                // The umask may have widened it; the stores hold private keys and account names.
                guard chmod(directory.path, 0o700) == 0 else { throw CocoaError(.fileWriteNoPermission) }
            } catch {
                throw Output.failure(
                    "cannot create the store directory \(directory.path): \(error.localizedDescription)"
                )
            }
        }
        return (directory.appendingPathComponent(defaultName), true)
    }

    private static func passwordHome() -> String? {
        guard let entry = getpwuid(getuid()), let directory = entry.pointee.pw_dir else { return nil }
        let home = String(cString: directory)
        return home.hasPrefix("/") ? home : nil
    }
}
