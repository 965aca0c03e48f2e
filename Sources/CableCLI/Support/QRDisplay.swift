import ArgumentParser
import CableTerminalQR
import Foundation
@preconcurrency import Glibc

/// How a QR code is drawn (shared by `qr`, `register`, `sign-in` and `demo`).
struct QRStyleOptions: ParsableArguments, Sendable {
    @Option(help: "utf8 (half blocks), ansi (half blocks with explicit colours), ascii, or svg.")
    var style: QRDrawing = .utf8

    @Flag(help: "Swap dark and light (light-on-dark conventions).")
    var invert = false

    @Option(help: "Quiet zone in modules (the QR standard requires 4).")
    var border = 4

    @Option(help: "Error-correction level: L, M, Q or H.")
    var level: String = "M"

    @Option(help: "Write the code to this file as SVG instead of drawing it.")
    var output: String?

    func validate() throws {
        guard QRErrorCorrection(letter: self.level) != nil else {
            throw ValidationError("--level must be L, M, Q or H")
        }
    }
}

/// The drawing styles of `--style`.
enum QRDrawing: String, ExpressibleByArgument, CaseIterable {
    case utf8, ansi, ascii, svg
}

enum QRDisplay {
    /// As ``show(url:options:)`` for event handlers: a drawing failure is reported on stderr and the
    /// URL line is still printed.
    static func showOrReport(url: String, options: QRStyleOptions) {
        do { try self.show(url: url, options: options) } catch {
            print(url)
        }
    }

    /// Draws the QR code for `url` (or writes the SVG) and then prints the URL on a line of its own.
    /// When the code does not fit the terminal, says so and prints the URL with a hint instead of a
    /// cut-off code.
    static func show(url: String, options: QRStyleOptions) throws {
        let level = QRErrorCorrection(letter: options.level) ?? .medium
        let code: QRCode
        do { code = try QRCode(encoding: url, errorCorrection: level) } catch {
            throw Output.failure("cannot encode the QR code: \(FailureText.describe(error))", step: "qr")
        }
        if options.style == .svg || options.output != nil {
            let svg: String
            do { svg = try QRSVGRenderer(border: options.border).render(code) } catch {
                throw Output.failure("cannot draw the QR code: \(FailureText.describe(error))", step: "qr")
            }
            if let path = options.output {
                do { try Data(svg.utf8).write(to: URL(fileURLWithPath: path), options: .atomic) } catch {
                    throw Output.failure("cannot write \(path): \(error.localizedDescription)", step: "qr")
                }
                Output.diagnostic(
                    "QR code (version \(code.version), \(code.size)×\(code.size) modules) written to \(path)"
                )
            } else {
                print(svg, terminator: svg.hasSuffix("\n") ? "" : "\n")
            }
        } else {
            let style: QRRenderStyle = options.style == .ansi ? .ansi : options.style == .ascii ? .ascii : .utf8
            let renderer: QRTextRenderer
            do { renderer = try QRTextRenderer(style: style, invert: options.invert, border: options.border) } catch {
                throw Output.failure("invalid QR drawing options: \(FailureText.describe(error))", step: "arguments")
            }
            for note in renderer.notes { Output.diagnostic("note: \(note)") }
            let rendering = renderer.render(code)
            if let size = TerminalSize.current(),
                case let fit = rendering.fit(terminalColumns: size.columns, terminalRows: size.rows - 2),
                !fit.fits
            {
                Output.diagnostic(
                    "The QR code (\(rendering.columns)×\(rendering.rows)) does not fit this terminal (\(size.columns)×\(size.rows))."
                )
                if let hint = fit.hint { Output.diagnostic(hint) }
            } else {
                print(rendering.text, terminator: "")
            }
        }
        print(url)
    }
}

/// The size of the terminal stdout is drawn on, when it is one.
enum TerminalSize {
    static func current() -> (columns: Int, rows: Int)? {
        guard isatty(STDOUT_FILENO) == 1 else { return nil }
        let env = ProcessInfo.processInfo.environment
        if let c = env["COLUMNS"].flatMap(Int.init), let r = env["LINES"].flatMap(Int.init) { return (c, r) }
        // `ioctl` is variadic and cannot be called from Swift; ask stty about the controlling terminal.
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/stty")
        process.arguments = ["size"]
        process.standardInput = FileHandle(forReadingAtPath: "/dev/tty")
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return nil }
        process.waitUntilExit()
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let parts = text.split(whereSeparator: \.isWhitespace).compactMap { Int($0) }
        guard parts.count == 2, parts[0] > 0, parts[1] > 0 else { return nil }
        return (parts[1], parts[0])
    }
}
