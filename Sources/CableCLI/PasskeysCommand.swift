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

        @Option(help: "The phone's credential store (JSON).")
        var store = DataDirectory.defaultPath("phone-store.json")

        @Flag(help: "Print one JSON object as the last line of stdout.")
        var json = false

        func run() throws {
            guard FileManager.default.fileExists(atPath: self.store) else {
                throw Output.failure(
                    "no passkey store at \(self.store): `cable phone` creates it with its first passkey; give its path with --store",
                    step: "store")
            }
            let credentials: [StoredCredential]
            do { credentials = try CredentialStore(fileURL: URL(fileURLWithPath: self.store), createIfMissing: false).list() } catch {
                throw Output.failure("cannot read \(self.store): \(FailureText.describe(error))", step: "store")
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
            if credentials.isEmpty { print("no passkeys in \(self.store)") }
            for c in credentials {
                print("\(c.idBase64URL)  \(c.rpID)  \(c.userName ?? "-")  signCount \(c.signCount)  \(c.aaguid.uuidString)")
            }
        }
    }

    struct Delete: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a stored passkey by its ID (base64url).")

        @Argument(help: "The credential ID, as `list` prints it.")
        var id: String

        @Option(help: "The phone's credential store (JSON).")
        var store = DataDirectory.defaultPath("phone-store.json")

        func run() throws {
            guard let raw = Base64URL.decode(self.id) else { throw Output.failure("\(self.id) is not a base64url credential ID") }
            do {
                try CredentialStore(fileURL: URL(fileURLWithPath: self.store), createIfMissing: false).delete(id: raw)
            } catch {
                throw Output.failure("cannot delete \(self.id): \(FailureText.describe(error))", step: "store")
            }
            print("deleted \(self.id)")
        }
    }
}
