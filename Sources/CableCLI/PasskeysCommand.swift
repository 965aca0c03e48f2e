import ArgumentParser
import CableAuthenticator
import CableProtocol
import Foundation

/// `cable passkeys list|delete`: manage the phone model's credential store.
struct PasskeysCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "passkeys",
        abstract: "List or delete the passkeys in the phone model's credential store.",
        subcommands: [List.self, Delete.self]
    )

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the stored passkeys.")

        @Option(
            help:
                "The phone's credential store (default: $XDG_DATA_HOME/cable/passkeys.sqlite, else ~/.local/share/cable/passkeys.sqlite)."
        )
        var store: String?

        @Flag(help: "Print one JSON object as the last line of stdout.")
        var json = false

        func run() throws {
            let location = try StoreLocation.resolve(
                self.store,
                defaultName: StoreLocation.phoneFileName,
                create: false
            )
            let path = location.url.path
            let credentials: [StoredCredential]
            if location.isDefault, !FileManager.default.fileExists(atPath: path) {
                // Nothing registered yet on this account; a path given with --store must exist.
                credentials = []
            } else {
                do {
                    credentials = try SQLiteCredentialStore(fileURL: location.url, createIfMissing: false).list()
                } catch {
                    throw Output.failure("cannot read \(path): \(FailureText.describe(error))", step: "store")
                }
            }
            if self.json {
                let items = credentials.map { c -> String in
                    var line = JSONLine()
                    line.add("id", c.idBase64URL)
                    line.add("rpId", c.rpID)
                    line.add("userName", c.userName)
                    line.add("aaguid", c.aaguid.uuidString)
                    line.add("signCount", Int64(c.signCount))
                    line.add("createdAt", ISO8601DateFormatter().string(from: c.createdAt))
                    return line.text
                }
                var line = JSONLine()
                line.add("passkeys", raw: "[" + items.joined(separator: ", ") + "]")
                print(line.text)
                return
            }
            if credentials.isEmpty { print("no passkeys in \(path)") }
            for c in credentials {
                print(
                    "\(c.idBase64URL)  \(c.rpID)  \(c.userName ?? "-")  signCount \(c.signCount)  \(c.aaguid.uuidString)"
                )
            }
        }
    }

    struct Delete: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete a stored passkey by its ID (base64url).",
            usage: "cable passkeys delete <id> [--store <store>]"
        )

        @OptionGroup var credential: CredentialIDArgument
        private var id: String { self.credential.id }

        @Option(
            help:
                "The phone's credential store (default: $XDG_DATA_HOME/cable/passkeys.sqlite, else ~/.local/share/cable/passkeys.sqlite)."
        )
        var store: String?

        func run() throws {
            guard let raw = Base64URL.decode(self.id) else {
                throw Output.failure("\(self.id) is not a base64url credential ID")
            }
            let location = try StoreLocation.resolve(
                self.store,
                defaultName: StoreLocation.phoneFileName,
                create: false
            )
            do {
                try SQLiteCredentialStore(fileURL: location.url, createIfMissing: false).delete(id: raw)
            } catch {
                throw Output.failure("cannot delete \(self.id): \(FailureText.describe(error))", step: "store")
            }
            print("deleted \(self.id)")
        }
    }
}
