import Foundation

/// Where the stores live by default: one per-user directory, `$XDG_DATA_HOME/cable/` (else
/// `~/.local/share/cable/`), so that `sign-in` finds what `register` wrote wherever either runs.
enum DataDirectory {
    /// The directory (not created until a store is written there).
    static var url: URL {
        let environment = ProcessInfo.processInfo.environment
        // The XDG Base Directory spec: a relative XDG_DATA_HOME is invalid and ignored.
        if let xdg = environment["XDG_DATA_HOME"], xdg.hasPrefix("/") {
            return URL(fileURLWithPath: xdg, isDirectory: true).appendingPathComponent("cable", isDirectory: true)
        }
        let home = environment["HOME"].flatMap { $0.hasPrefix("/") ? $0 : nil } ?? NSHomeDirectory()
        return URL(fileURLWithPath: home, isDirectory: true)
            .appendingPathComponent(".local/share/cable", isDirectory: true)
    }

    /// The default path of the store named `name` (e.g. `phone-store.json`).
    static func defaultPath(_ name: String) -> String { self.url.appendingPathComponent(name).path }

    /// Creates the default directory (mode 0700) when `path` is inside it and it does not exist yet;
    /// a path the user chose elsewhere is left as it is.
    static func prepare(forStoreAt path: String) throws {
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().standardizedFileURL
        guard directory.path == self.url.standardizedFileURL.path else { return }
        try FileManager.default.createDirectory(
            at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    }
}
