import Foundation
import Testing

/// Every relative Markdown link in the user-facing documents resolves in a clone, and no file refers
/// to the `shared` directory beside the development checkout (a clone does not have it).
@Suite struct DocumentationLinkTests {
    /// The documents whose links must resolve: README, CHANGELOG, docs/, Spec/README.md and the DocC
    /// articles.
    static func documents() throws -> [String] {
        var paths = ["README.md", "CHANGELOG.md", "Spec/README.md"]
        let fm = FileManager.default
        for name in try fm.contentsOfDirectory(atPath: Repository.root.appendingPathComponent("docs").path)
        where name.hasSuffix(".md") {
            paths.append("docs/" + name)
        }
        let sources = Repository.root.appendingPathComponent("Sources")
        for target in try fm.contentsOfDirectory(atPath: sources.path) {
            for entry in (try? fm.contentsOfDirectory(atPath: sources.appendingPathComponent(target).path)) ?? []
            where entry.hasSuffix(".docc") {
                let catalog = "Sources/\(target)/\(entry)"
                for file in try fm.contentsOfDirectory(atPath: Repository.root.appendingPathComponent(catalog).path)
                where file.hasSuffix(".md") {
                    paths.append(catalog + "/" + file)
                }
            }
        }
        return paths.sorted()
    }

    /// The targets of inline Markdown links `[text](target)` outside code blocks and code spans.
    static func linkTargets(inMarkdown text: String) -> [String] {
        var targets: [String] = []
        var inFence = false
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.trimmingCharacters(in: .whitespaces).hasPrefix("```") {
                inFence.toggle()
                continue
            }
            if inFence { continue }
            // Drop code spans, whose brackets are not links.
            let prose = line.split(separator: "`", omittingEmptySubsequences: false).enumerated()
                .filter { $0.offset % 2 == 0 }.map(\.element).joined(separator: " ")
            var rest = Substring(prose)
            while let close = rest.range(of: "](") {
                let after = rest[close.upperBound...]
                guard let end = after.firstIndex(of: ")") else { break }
                var target = String(after[..<end])
                if let space = target.firstIndex(of: " ") { target = String(target[..<space]) }  // `(path "title")`
                targets.append(target)
                rest = after[end...]
            }
        }
        return targets
    }

    /// Relative targets (no scheme, not a same-page anchor) that name no file or directory, resolved
    /// against the document's directory.
    static func brokenRelativeLinks(in text: String, documentDirectory: URL) -> [String] {
        self.linkTargets(inMarkdown: text).filter { target in
            if target.isEmpty || target.hasPrefix("#") || target.contains("://") || target.hasPrefix("mailto:")
                || target.hasPrefix("doc:")
            {
                return false
            }
            let path = String(target.prefix { $0 != "#" })
            let resolved = documentDirectory.appendingPathComponent(path.removingPercentEncoding ?? path)
                .standardizedFileURL
            return !FileManager.default.fileExists(atPath: resolved.path)
        }
    }

    @Test func theCheckerFindsABrokenLinkAndSkipsCodeAndAbsoluteLinks() throws {
        let directory = Repository.root
        let text = """
            See [the licence](LICENSE), [missing](docs/no-such-file.md "title"), [web](https://example.com/x),
            [anchor](#layout) and [docs](docs/cli.md#output-conventions).
            Code is not a link: `[a](nowhere.md)`.
            ```
            [b](also-nowhere.md)
            ```
            """
        #expect(
            Self.linkTargets(inMarkdown: text) == [
                "LICENSE", "docs/no-such-file.md", "https://example.com/x", "#layout", "docs/cli.md#output-conventions",
            ]
        )
        #expect(Self.brokenRelativeLinks(in: text, documentDirectory: directory) == ["docs/no-such-file.md"])
    }

    @Test func everyRelativeLinkResolves() throws {
        let documents = try Self.documents()
        #expect(
            documents.contains("docs/protocol.md") && documents.contains("docs/cli.md")
                && documents.contains("docs/architecture.md")
        )
        for document in documents {
            let url = Repository.root.appendingPathComponent(document)
            let broken = Self.brokenRelativeLinks(
                in: try String(contentsOf: url, encoding: .utf8),
                documentDirectory: url.deletingLastPathComponent()
            )
            #expect(broken.isEmpty, "\(document) links to \(broken), which a clone does not have")
        }
    }

    /// Every file a clone holds (build products, the tool venv and git's own files aside, at any
    /// depth: `make fuzz-smoke` builds into `Fuzz/.build`).
    static func repositoryFiles() -> [String] {
        let skipped: Set<String> = [".git", ".build", ".venv-tools", ".swiftpm"]
        var files: [String] = []
        let root = Repository.root.standardizedFileURL.path
        guard let walker = FileManager.default.enumerator(atPath: root) else { return [] }
        while let path = walker.nextObject() as? String {
            let name = String(path.split(separator: "/").last ?? "")
            if skipped.contains(name) || name.hasPrefix(".build") || name.hasPrefix(".docs-build") {
                walker.skipDescendants()
                continue
            }
            files.append(path)
        }
        return files
    }

    @Test func noFileRefersToTheSharedDirectoryBesideTheCheckout() throws {
        let needle = Data("../".utf8) + Data("shared".utf8)  // split so this file does not match itself
        var offenders: [String] = []
        for path in Self.repositoryFiles() {
            let url = Repository.root.appendingPathComponent(path)
            guard let data = FileManager.default.contents(atPath: url.path), data.count < 8 << 20 else { continue }
            if data.range(of: needle) != nil { offenders.append(path) }
        }
        #expect(offenders.isEmpty, "these files refer to a directory a clone does not have: \(offenders)")
    }
}
