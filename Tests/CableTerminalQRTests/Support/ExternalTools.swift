import CableTerminalQR
import CableTestSupport
import Foundation

/// The independent programs these tests check against, and how to get each one.
///
/// `make test` (and so CI) installs all of them (`make deps`, `make venv`). A missing tool is a test
/// failure naming the install step, never a silent skip: a decoder test that did not run proves nothing.
enum ExternalTool: String, CaseIterable {
    case qrencode
    case zbarimg
    case rsvgConvert = "rsvg-convert"

    /// What to run to get the tool.
    var installHint: String {
        switch self {
        case .qrencode: "apt-get install qrencode (part of `make deps`)"
        case .zbarimg: "apt-get install zbar-tools (part of `make deps`)"
        case .rsvgConvert: "apt-get install librsvg2-bin (add it to APT_PACKAGES for `make deps`)"
        }
    }
}

/// A required tool that is not installed; the message says how to install it.
struct MissingToolError: Error, CustomStringConvertible {
    let description: String
}

/// A tool ran but did not do what the test needed (non-zero exit, unexpected output).
struct ToolFailure: Error, CustomStringConvertible {
    let description: String
}

/// Runs the oracle and decoder programs, in a scratch directory per test.
struct ToolBox: ~Copyable {
    /// Where this test's files go; removed when the tool box goes away.
    let scratch: URL

    init() throws {
        self.scratch = FileManager.default.temporaryDirectory
            .appendingPathComponent("cable-qr-tests-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: self.scratch, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(at: self.scratch)
    }

    // MARK: - Locating tools

    /// The repository root: `Spec/vectors` is found by walking up from the sources, and sits two levels down.
    static var repositoryRoot: URL {
        SpecVectors.directory.resolvingSymlinksInPath().deletingLastPathComponent().deletingLastPathComponent()
    }

    /// The venv Python with Pillow and zxing-cpp (`make venv`).
    static func python() throws -> URL {
        let python = Self.repositoryRoot.appendingPathComponent(".venv-tools/bin/python")
        guard FileManager.default.isExecutableFile(atPath: python.path) else {
            throw MissingToolError(
                description: "\(python.path) is missing: run `make venv` (python3 -m venv .venv-tools && "
                    + ".venv-tools/bin/pip install pillow zxing-cpp)"
            )
        }
        return python
    }

    /// A helper script next to these tests.
    static func script(_ name: String) -> String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Tools/\(name)").path
    }

    /// The tool's path on `PATH`, or a failure that names the install step.
    static func locate(_ tool: ExternalTool) throws -> URL {
        let directories = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        for directory in directories {
            let candidate = URL(fileURLWithPath: String(directory)).appendingPathComponent(tool.rawValue)
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        throw MissingToolError(description: "`\(tool.rawValue)` is not installed: \(tool.installHint)")
    }

    // MARK: - Running

    /// Runs a program to completion (a plain thread reads its output, so neither pipe can fill up).
    func run(_ executable: URL, _ arguments: [String]) async throws -> (status: Int32, stdout: Data, stderr: String) {
        let result = try await ChildProcess.run(executable, arguments)
        return (result.status, result.stdout, result.stderrText)
    }

    /// Runs a program that must succeed, returning its stdout.
    func output(_ executable: URL, _ arguments: [String]) async throws -> Data {
        let result = try await self.run(executable, arguments)
        guard result.status == 0 else {
            throw ToolFailure(
                description: "\(executable.lastPathComponent) exited \(result.status): \(result.stderr.prefix(500))"
            )
        }
        return result.stdout
    }

    /// Writes `text` to a new scratch file.
    func write(_ text: String, suffix: String) throws -> URL {
        let url = self.scratch.appendingPathComponent("\(UUID().uuidString).\(suffix)")
        try Data(text.utf8).write(to: url)
        return url
    }

    // MARK: - qrencode, the encoder oracle

    /// `qrencode -l LEVEL -t TYPE -m MARGIN -o - TEXT`: the CLI's default mode is the same call
    /// (`QRcode_encodeString`, `QR_MODE_8` hint, case-sensitive) as ours.
    func qrencode(
        _ text: String,
        level: QRErrorCorrection,
        type: String,
        margin: Int = 4,
        extraArguments: [String] = []
    ) async throws -> String {
        let data = try await self.output(
            try Self.locate(.qrencode),
            ["-l", level.rawValue, "-t", type, "-m", "\(margin)", "-o", "-"] + extraArguments + ["--", text]
        )
        return String(decoding: data, as: UTF8.self)
    }

    /// The module matrix qrencode makes for `text` (`true` = dark), parsed from `-t ASCII -m 0`.
    func qrencodeModules(_ text: String, level: QRErrorCorrection) async throws -> [[Bool]] {
        let ascii = try await self.qrencode(text, level: level, type: "ASCII", margin: 0)
        return try ascii.split(separator: "\n").map { line in
            let characters = Array(line)
            guard characters.count.isMultiple(of: 2) else { throw ToolFailure(description: "odd qrencode line") }
            return stride(from: 0, to: characters.count, by: 2).map { characters[$0] == "#" }
        }
    }

    // MARK: - Images and decoders

    /// How a text rendering's glyphs map to modules, for `render2png.py`.
    enum TextFormat: String {
        case halfblock, ascii
    }

    /// Turns a terminal rendering back into a PNG (`Tools/render2png.py`).
    func png(fromText text: String, format: TextFormat, inkIsLight: Bool, stripANSI: Bool = false) async throws -> URL {
        let input = try self.write(text, suffix: "txt")
        let output = self.scratch.appendingPathComponent("\(UUID().uuidString).png")
        var arguments = [
            Self.script("render2png.py"), input.path, output.path,
            "--format", format.rawValue, "--ink", inkIsLight ? "light" : "dark",
        ]
        if stripANSI { arguments.append("--strip-ansi") }
        _ = try await self.output(try Self.python(), arguments)
        return output
    }

    /// Rasterises an SVG with librsvg's `rsvg-convert`, an SVG implementation independent of ours, onto
    /// a black canvas: only the SVG's own white rectangle can then provide the light quiet zone.
    func png(fromSVG svg: String) async throws -> URL {
        let input = try self.write(svg, suffix: "svg")
        let output = self.scratch.appendingPathComponent("\(UUID().uuidString).png")
        _ = try await self.output(
            try Self.locate(.rsvgConvert),
            ["--background-color", "black", "--format", "png", "--output", output.path, input.path]
        )
        return output
    }

    /// The raw bytes zbar decodes from `png` (`zbarimg --nodbus -q --raw -Sbinary`: no charset guessing,
    /// no trailing newline).
    func zbarBytes(_ png: URL) async throws -> [UInt8] {
        let result = try await self.run(try Self.locate(.zbarimg), ["--nodbus", "-q", "--raw", "-Sbinary", png.path])
        guard result.status == 0 else {
            // zbarimg exits 4 when it finds no symbol.
            throw ToolFailure(description: "zbarimg found no QR code (exit \(result.status)) \(result.stderr)")
        }
        return Array(result.stdout)
    }

    /// The text zbar decodes from `png` with `zbarimg --nodbus -q --raw` (one symbol; its newline removed).
    func zbarText(_ png: URL) async throws -> String {
        let result = try await self.run(try Self.locate(.zbarimg), ["--nodbus", "-q", "--raw", png.path])
        guard result.status == 0 else {
            throw ToolFailure(description: "zbarimg found no QR code (exit \(result.status)) \(result.stderr)")
        }
        var text = String(decoding: result.stdout, as: UTF8.self)
        if text.hasSuffix("\n") { text.removeLast() }
        return text
    }

    /// One symbol as zxing-cpp reads it.
    struct ZXingSymbol: Decodable {
        let text: String
        let bytesHex: String
        let version: String?
        let ecLevel: String?
    }

    /// What zxing-cpp decodes from `png` (`Tools/zxing_decode.py`, no inverted-image retry).
    func zxing(_ png: URL) async throws -> [ZXingSymbol] {
        struct Output: Decodable { let results: [ZXingSymbol] }
        let data = try await self.output(try Self.python(), [Self.script("zxing_decode.py"), png.path])
        return try JSONDecoder().decode(Output.self, from: data).results
    }
}
