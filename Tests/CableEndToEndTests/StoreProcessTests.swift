import CableAuthenticator
import CableRelyingParty
import CableTestSupport
import CableTunnel
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The stores as separate `cable` processes use them: several phones and desktops sharing one phone
/// store and one relying-party store at once, a store on a full disk, and the default locations.
@Suite(.serialized, .timeLimit(.minutes(6))) struct StoreProcessTests {
    /// A relay and a scratch directory; each ceremony gets its own advert-bus port so ceremonies can run
    /// at the same time. Every process goes through ``children``, so none outlives the test (see
    /// ``withRig(_:)``).
    final class Rig: Sendable {
        let children: ChildProcesses
        let relay: CableProcess
        let tunnel: String
        let directory: URL

        init(children: ChildProcesses) async throws {
            self.children = children
            self.relay = try children.start(["relay", "--port", "0"])
            let line = try await self.relay.waitForLine(startingWith: "listening on ", timeout: .seconds(60))
            self.tunnel = String(line.dropFirst("listening on ".count))
            self.directory = FileManager.default.temporaryDirectory.appendingPathComponent(
                "cable-stores-\(UUID().uuidString)"
            )
            try FileManager.default.createDirectory(at: self.directory, withIntermediateDirectories: true)
        }

        /// Starts `cable arguments` as a child of this rig.
        func start(_ arguments: [String], environment: [String: String] = [:]) throws -> CableProcess {
            try self.children.start(arguments, environment: environment)
        }

        /// One `register` against one `cable phone`, with the stores given as extra arguments (or found
        /// through `environment`).
        func register(
            user: String,
            desktop desktopStore: [String],
            phone phoneStore: [String],
            environment: [String: String] = [:]
        ) async throws -> (desktop: CableProcess, phone: CableProcess, desktopStatus: Int32, phoneStatus: Int32) {
            // A port below the kernel's ephemeral range that no other test is handed (never probed and reused).
            let port = try unsharedLoopbackUDPPort()
            let desktop = try self.start(
                [
                    "register", "--user", user, "--rp-id", "login.example.com", "--tunnel", self.tunnel,
                    "--advert-listen", "127.0.0.1:\(port)", "--timeout", "90", "--json",
                ] + desktopStore,
                environment: environment
            )
            let url = try await desktop.waitForLine(startingWith: "FIDO:/", timeout: .seconds(90))
            let phone = try self.start(
                ["phone", url, "--tunnel", self.tunnel, "--advert-to", "127.0.0.1:\(port)", "--json"] + phoneStore,
                environment: environment
            )
            let desktopStatus = try await desktop.waitForExit(timeout: .seconds(150))
            let phoneStatus = try await phone.waitForExit(timeout: .seconds(60))
            return (desktop, phone, desktopStatus, phoneStatus)
        }

        func stopRelay() async {
            self.relay.interrupt()
            _ = try? await self.relay.waitForExit(timeout: .seconds(10))
        }
    }

    /// Runs `body` with a rig that is always torn down: whatever is still running — relay, desktops,
    /// phones — is killed with its process group on every path, failing ones included, and the scratch
    /// directory removed.
    static func withRig<T>(_ body: (Rig) async throws -> T) async throws -> T {
        var directory: URL?
        defer { if let directory { try? FileManager.default.removeItem(at: directory) } }
        return try await ChildProcesses.withChildren { children in
            let rig = try await Rig(children: children)
            directory = rig.directory
            let result = try await body(rig)
            await rig.stopRelay()
            return result
        }
    }

    /// The reported bug: four phones sharing one store, three rounds. Every credential a desktop verified
    /// must be in the phone store, and every registration in the relying party's.
    @Test func fourPhonesSharingOneStoreKeepEveryCredential() async throws {
        try await Self.withRig { rig in
            let phoneStore = rig.directory.appendingPathComponent("passkeys.sqlite")
            let rpStore = rig.directory.appendingPathComponent("registrations.sqlite")
            var registered: [String] = []
            for round in 0..<3 {
                let results = try await withThrowingTaskGroup(of: (String?, String).self) { group in
                    for index in 0..<4 {
                        group.addTask {
                            let result = try await rig.register(
                                user: "user-\(round)-\(index)",
                                desktop: ["--rp-store", rpStore.path],
                                phone: ["--store", phoneStore.path]
                            )
                            let summary =
                                "desktop \(result.desktopStatus) \(result.desktop.stderr.suffix(3)); "
                                + "phone \(result.phoneStatus) \(result.phone.stderr.suffix(3))"
                            guard result.desktopStatus == 0, result.phoneStatus == 0 else { return (nil, summary) }
                            return (try result.desktop.lastJSON()["credentialId"] as? String, summary)
                        }
                    }
                    var collected: [(String?, String)] = []
                    for try await result in group { collected.append(result) }
                    return collected
                }
                for (credentialID, summary) in results {
                    #expect(credentialID != nil, "round \(round): \(summary)")
                    if let credentialID { registered.append(credentialID) }
                }
            }
            #expect(registered.count == 12)

            let list = try rig.start(["passkeys", "list", "--store", phoneStore.path, "--json"])
            #expect(try await list.waitForExit(timeout: .seconds(60)) == 0, "\(list.stderr)")
            let listed = try #require(try list.lastJSON()["passkeys"] as? [[String: Any]]).compactMap {
                $0["id"] as? String
            }
            #expect(Set(listed) == Set(registered), "the phone store kept \(listed.count) of \(registered.count)")
            #expect(listed.count == registered.count)

            let records = try SQLiteCredentialRecordStore(fileURL: rpStore, createIfMissing: false).list()
            #expect(Set(records.map(\.credentialIDBase64URL)) == Set(registered))
            #expect(records.count == registered.count)
        }
    }

    // MARK: - A store on a full disk

    /// Runs `body` with a tiny tmpfs mounted (root only), unmounted again on every path; returns `nil`
    /// without running `body` where mounting is not possible, and the test skips.
    static func withTinyFileSystem<T>(kilobytes: Int, _ body: (URL) async throws -> T) async throws -> T? {
        let mountPoint = FileManager.default.temporaryDirectory.appendingPathComponent(
            "cable-tmpfs-\(UUID().uuidString)"
        )
        guard (try? FileManager.default.createDirectory(at: mountPoint, withIntermediateDirectories: true)) != nil
        else { return nil }
        guard await runTool("/bin/mount", ["-t", "tmpfs", "-o", "size=\(kilobytes)k", "tmpfs", mountPoint.path]) == 0
        else {
            try? FileManager.default.removeItem(at: mountPoint)
            return nil
        }
        let result: T
        do {
            result = try await body(mountPoint)
        } catch {
            await Self.unmount(mountPoint)
            throw error
        }
        await Self.unmount(mountPoint)
        return result
    }

    static func unmount(_ mountPoint: URL) async {
        _ = await runTool("/bin/umount", ["-l", mountPoint.path])
        try? FileManager.default.removeItem(at: mountPoint)
    }

    /// Fills the file system holding `directory` until a write fails.
    static func fill(_ directory: URL) throws {
        let path = directory.appendingPathComponent("filler").path
        try #require(FileManager.default.createFile(atPath: path, contents: nil))
        let file = try #require(FileHandle(forWritingAtPath: path))
        defer { try? file.close() }
        let block = Data(repeating: 0xAB, count: 4096)
        for _ in 0..<1_000_000 {
            do { try file.write(contentsOf: block) } catch { return }
        }
    }

    @Test func aPhoneOnAFullDiskAnswersTheErrorAndExitsNonZeroNamingTheCause() async throws {
        let ran: Void? = try await Self.withTinyFileSystem(kilobytes: 512) { mountPoint in
            let phoneStore = mountPoint.appendingPathComponent("passkeys.sqlite")
            // Held open so the store's WAL and shared-memory files stay in place while the disk is full.
            let holder = try SQLiteCredentialStore(fileURL: phoneStore)
            try Self.fill(mountPoint)

            try await Self.withRig { rig in
                let result = try await rig.register(
                    user: "alice",
                    desktop: ["--rp-store", rig.directory.appendingPathComponent("rp.sqlite").path],
                    phone: ["--store", phoneStore.path]
                )
                #expect(result.desktopStatus != 0, "the desktop must not report success: \(result.desktop.stdout)")
                #expect(result.phoneStatus != 0, "the phone must exit non-zero: \(result.phone.stderr)")
                // The exact line: the store named once, the cause in words, no code name (was `writeFailed: …`).
                let path = phoneStore.path
                #expect(
                    result.phone.stderr.filter { $0.hasPrefix("error:") } == [
                        "error: phone: the credential store failed, the ceremony did not complete: cannot write "
                            + "\(path): the disk or the store's size limit is full: database or disk is full "
                            + "(SQLite code 13); no space left on the device"
                    ]
                )
                #expect(try holder.list().isEmpty)
                #expect(
                    try SQLiteCredentialRecordStore(fileURL: rig.directory.appendingPathComponent("rp.sqlite")).list()
                        .isEmpty,
                    "the relying party registered nothing"
                )
            }
        }
        if ran == nil { print("skipped: cannot mount a tmpfs here (needs root)") }
    }

    @Test func aRelyingPartyStoreOnAFullDiskFailsTheRegistrationNamingTheCause() async throws {
        let ran: Void? = try await Self.withTinyFileSystem(kilobytes: 512) { mountPoint in
            let rpStore = mountPoint.appendingPathComponent("registrations.sqlite")
            let holder = try SQLiteCredentialRecordStore(fileURL: rpStore)
            try Self.fill(mountPoint)

            try await Self.withRig { rig in
                let result = try await rig.register(
                    user: "bob",
                    desktop: ["--rp-store", rpStore.path],
                    phone: ["--store", rig.directory.appendingPathComponent("passkeys.sqlite").path]
                )
                #expect(result.desktopStatus != 0)
                let error = result.desktop.stderr.first { $0.hasPrefix("error:") }
                #expect(error?.contains("full") == true, "the cause is named: \(result.desktop.stderr)")
                #expect(try holder.list().isEmpty)
            }
        }
        if ran == nil { print("skipped: cannot mount a tmpfs here (needs root)") }
    }

    // MARK: - Where the stores live

    @Test func listingAStoreThatDoesNotExistIsAnError() async throws {
        try await ChildProcesses.withChildren { children in
            let list = try children.start(["passkeys", "list", "--store", "/no/such/file"])
            #expect(try await list.waitForExit(timeout: .seconds(60)) != 0)
            let error = list.stderr.first { $0.hasPrefix("error:") }
            #expect(error?.contains("/no/such/file") == true, "\(list.stderr)")
            #expect(error?.contains("does not exist") == true, "\(list.stderr)")
            #expect(!FileManager.default.fileExists(atPath: "/no/such/file"))
        }
    }

    @Test func theStoresDefaultToXDGDataHomeThenToTheHomeDirectory() async throws {
        try await Self.withRig { rig in
            let dataHome = rig.directory.appendingPathComponent("data")
            let home = rig.directory.appendingPathComponent("home")
            try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)

            // Nothing registered yet: listing the default store is empty, and creates nothing.
            let empty = try rig.start(
                ["passkeys", "list"],
                environment: ["XDG_DATA_HOME": dataHome.path, "HOME": home.path]
            )
            #expect(try await empty.waitForExit(timeout: .seconds(60)) == 0, "\(empty.stderr)")
            #expect(!FileManager.default.fileExists(atPath: dataHome.path))

            for (environment, directory) in [
                (["XDG_DATA_HOME": dataHome.path, "HOME": home.path], dataHome.appendingPathComponent("cable")),
                (["XDG_DATA_HOME": "", "HOME": home.path], home.appendingPathComponent(".local/share/cable")),
            ] {
                let result = try await rig.register(user: "carol", desktop: [], phone: [], environment: environment)
                #expect(result.desktopStatus == 0, "\(result.desktop.stderr)")
                #expect(result.phoneStatus == 0, "\(result.phone.stderr)")
                let credentialID = try #require(try result.desktop.lastJSON()["credentialId"] as? String)
                let attributes = try FileManager.default.attributesOfItem(atPath: directory.path)
                #expect(attributes[.posixPermissions] as? Int == 0o700, "\(directory.path)")
                for name in ["passkeys.sqlite", "registrations.sqlite"] {
                    let file = directory.appendingPathComponent(name)
                    #expect(
                        try FileManager.default.attributesOfItem(atPath: file.path)[.posixPermissions] as? Int
                            == 0o600,
                        "\(name)"
                    )
                }
                let list = try rig.start(["passkeys", "list", "--json"], environment: environment)
                #expect(try await list.waitForExit(timeout: .seconds(60)) == 0, "\(list.stderr)")
                let listed = try #require(try list.lastJSON()["passkeys"] as? [[String: Any]]).compactMap {
                    $0["id"] as? String
                }
                #expect(listed == [credentialID])
                let records = try SQLiteCredentialRecordStore(
                    fileURL: directory.appendingPathComponent("registrations.sqlite"),
                    createIfMissing: false
                ).list()
                #expect(records.map(\.credentialIDBase64URL) == [credentialID])
            }
        }
    }
}
