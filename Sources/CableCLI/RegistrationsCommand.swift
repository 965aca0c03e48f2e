import ArgumentParser
import CableProtocol
import CableRelyingParty
import Foundation

/// `cable registrations list|remove`: the relying party's records, as an identity provider's admin page
/// shows and deletes them ("delete the passkey from the user's account").
struct RegistrationsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "registrations",
        abstract: "List or remove the passkeys registered with the relying party (its --rp-store).",
        subcommands: [List.self, Remove.self]
    )

    /// The store at `path` (default: the per-user registrations store that `register` / `sign-in` use), which
    /// must exist: a mistyped path is an error, not an empty list.
    static func store(at path: String?, json: Bool) throws -> (store: any CredentialRecordStore, path: String) {
        let location = try StoreLocation.resolve(path, defaultName: StoreLocation.relyingPartyFileName, create: false)
        guard FileManager.default.fileExists(atPath: location.url.path) else {
            throw CeremonyOutput.failure(
                "no relying-party store at \(location.url.path): pass the --rp-store that `cable register` wrote",
                step: "store",
                json: json
            )
        }
        do {
            return (try SQLiteCredentialRecordStore(fileURL: location.url, createIfMissing: false), location.url.path)
        } catch {
            throw CeremonyOutput.failure(
                "cannot open the relying-party store \(location.url.path): \(error.message)",
                step: "store",
                json: json
            )
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the registered passkeys: credential ID, user, AAGUID, sign count, created."
        )

        @Option(
            help:
                "The relying party's record of registered credentials (default: registrations.sqlite in the per-user data directory)."
        )
        var rpStore: String?

        @Flag(help: "Print one JSON object as the last line of stdout.")
        var json = false

        func run() throws {
            let (store, path) = try RegistrationsCommand.store(at: self.rpStore, json: self.json)
            let records: [CredentialRecord]
            do { records = try store.list() } catch {
                throw CeremonyOutput.failure("cannot read \(path): \(error.message)", step: "store", json: self.json)
            }
            let dates = ISO8601DateFormatter()
            if self.json {
                let items = records.map { r -> String in
                    var line = JSONLine()
                    line.add("credentialId", r.credentialIDBase64URL)
                    line.add("user", r.userName)
                    line.add("userHandle", Base64URL.encode(r.userHandle))
                    line.add("aaguid", r.aaguid.uuidString)
                    line.add("signCount", Int64(r.signCount))
                    line.add("created", dates.string(from: r.createdAt))
                    line.add("name", r.friendlyName)
                    line.add("attestationFormat", r.attestationFormat)
                    if let used = r.lastUsedAt { line.add("lastUsed", dates.string(from: used)) }
                    return line.text
                }
                var line = JSONLine()
                line.add("ok", true)
                line.add("registrations", raw: "[" + items.joined(separator: ", ") + "]")
                print(line.text)
                return
            }
            if records.isEmpty { Output.diagnostic("no registrations in \(path)") }
            for r in records {
                print(
                    "\(r.credentialIDBase64URL)  \(r.userName)  \(r.aaguid.uuidString)  signCount \(r.signCount)  "
                        + "created \(dates.string(from: r.createdAt))"
                )
            }
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove a registered passkey by its credential ID; sign-in with it is then refused.",
            usage: "cable registrations remove <id> [--rp-store <rp-store>]"
        )

        @OptionGroup var credential: CredentialIDArgument
        private var id: String { self.credential.id }

        @Option(
            help:
                "The relying party's record of registered credentials (default: registrations.sqlite in the per-user data directory)."
        )
        var rpStore: String?

        func run() throws {
            guard let credentialID = Base64URL.decode(self.id), !credentialID.isEmpty else {
                throw Output.failure(
                    "\(self.id.prefix(80)) is not a credential ID: expected unpadded base64url, as `cable registrations list` prints it"
                )
            }
            let (store, path) = try RegistrationsCommand.store(at: self.rpStore, json: false)
            let removed: CredentialRecord
            do { removed = try store.remove(credentialID: credentialID) } catch {
                if error.code == .credentialNotFound {
                    throw Output.failure(
                        "no registration with credential ID \(self.id) in \(path); `cable registrations list` shows the IDs"
                    )
                }
                throw Output.failure("cannot remove \(self.id) from \(path): \(error.message)")
            }
            print(
                "removed \(removed.credentialIDBase64URL) (user \(removed.userName), authenticator \(removed.aaguid.uuidString))"
            )
        }
    }
}
