import ArgumentParser
import CableProtocol
@preconcurrency import Glibc

/// Output conventions of `cli.md`: people's text on stdout, progress and diagnostics on stderr,
/// failures as one `error: …` line on stderr and a non-zero exit.
enum Output {
    /// Writes a line to stderr.
    static func diagnostic(_ line: String) {
        fputs(line + "\n", stderr)
        fflush(stderr)
    }

    /// Sends what stdout holds to the terminal or pipe now.
    static func flushStdout() { fflush(stdout) }

    /// Writes text to stderr as is (no newline), for the live status line.
    static func rawDiagnostic(_ text: String) {
        fputs(text, stderr)
        fflush(stderr)
    }

    /// Whether the command line asked for `--json`: then every failure also ends stdout with
    /// `{"ok": false, "error": …, "step": …}` (cli.md), whichever command failed and wherever.
    static let jsonRequested = CommandLine.arguments.dropFirst().prefix { $0 != "--" }.contains("--json")

    /// Prints `error: <message>` on stderr (and, with `--json`, the failure object as the last line
    /// of stdout) and returns the exit code to throw. `step` says where it failed (cli.md lists them).
    static func failure(_ message: String, step: String = "run") -> ExitCode {
        let oneLine = FailureText.oneLine(message)
        diagnostic("error: \(oneLine)")
        if self.jsonRequested { self.jsonFailureLine(oneLine, step: step) }
        return ExitCode.failure
    }

    /// Prints `error: <one line for error>` (see ``FailureText``) and returns the exit code to throw.
    static func failure(_ error: any Error, step: String? = nil) -> ExitCode {
        self.failure(FailureText.describe(error), step: step ?? FailureText.step(of: error))
    }

    /// `{"ok": false, "error": "<message>", "step": "<step>"}` on stdout.
    static func jsonFailureLine(_ message: String, step: String) {
        var line = JSONLine()
        line.add("ok", false)
        line.add("error", message)
        line.add("step", step)
        print(line.text)
        fflush(stdout)
    }
}

/// A JSON object written with keys in insertion order, so `--json` lines read like the contract.
struct JSONLine {
    private var parts: [String] = []

    mutating func add(_ key: String, _ value: String?) {
        self.parts.append("\(Self.quote(key)): \(value.map(Self.quote) ?? "null")")
    }
    mutating func add(_ key: String, _ value: Bool?) {
        self.parts.append("\(Self.quote(key)): \(value.map { $0 ? "true" : "false" } ?? "null")")
    }
    mutating func add(_ key: String, _ value: Int64?) {
        self.parts.append("\(Self.quote(key)): \(value.map { String($0) } ?? "null")")
    }
    mutating func add(_ key: String, _ value: Int) { self.add(key, Int64(value)) }
    mutating func add(_ key: String, _ value: Double) { self.parts.append("\(Self.quote(key)): \(value)") }
    mutating func add(_ key: String, raw json: String) { self.parts.append("\(Self.quote(key)): \(json)") }

    var text: String { "{" + self.parts.joined(separator: ", ") + "}" }

    static func quote(_ s: String) -> String { JSONText.quoted(s) }
}
