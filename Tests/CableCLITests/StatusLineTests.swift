import CableTestSupport
import Foundation
import Testing

/// The live status line of `register` / `sign-in` (drawn on stderr when it is a terminal) never
/// draws over the QR code or its URL: checked on a real pseudo-terminal, through the binary.
@Suite(.serialized, .timeLimit(.minutes(2))) struct StatusLineTests {
    /// A small terminal: printable characters overwrite cells, `\r` returns, `\n` moves down,
    /// `ESC [ 2 K` clears the line, other CSI sequences (colours) are skipped.
    static func screen(_ output: String) -> [String] {
        var rows: [[Character]] = [[]]
        var row = 0
        var column = 0
        var characters = output.makeIterator()
        while let c = characters.next() {
            switch c {
            case "\r\n":  // Swift joins CR LF into one Character
                row += 1
                column = 0
            case "\r": column = 0
            case "\n":
                row += 1
                column = 0
            case "\u{1B}":
                guard characters.next() == "[" else { continue }
                var sequence = ""
                while let p = characters.next() {
                    sequence.append(p)
                    if p.isLetter { break }
                }
                if sequence == "2K" { rows[row] = [] }
                continue
            default:
                while rows[row].count < column { rows[row].append(" ") }
                if column < rows[row].count { rows[row][column] = c } else { rows[row].append(c) }
                column += 1
            }
            while rows.count <= row { rows.append([]) }
        }
        return rows.map { String($0) }
    }

    static let qrCharacters: Set<Character> = [" ", "█", "▀", "▄"]

    /// Problems with the QR code as the screen shows it: a QR row holding other text, the URL line
    /// not directly below the code, or no code at all.
    static func problems(onScreen rows: [String]) -> [String] {
        var problems: [String] = []
        guard let urlRow = rows.firstIndex(where: { $0.hasPrefix("FIDO:/") }) else {
            return ["no FIDO:/ line on screen"]
        }
        if rows[urlRow].contains(where: { !($0.isLetter || $0.isNumber || $0 == ":" || $0 == "/") }) {
            problems.append("the URL line holds other text: \(rows[urlRow])")
        }
        guard let first = rows.firstIndex(where: { $0.contains("█") || $0.contains("▀") || $0.contains("▄") }),
            first < urlRow
        else {
            return problems + ["no QR code above the URL"]
        }
        for index in first..<urlRow where !rows[index].allSatisfy({ Self.qrCharacters.contains($0) }) {
            problems.append("row \(index) of the QR code holds other text: \(rows[index])")
        }
        if urlRow - first < 10 { problems.append("the QR code has only \(urlRow - first) rows") }
        for (index, row) in rows.enumerated() where index < first || index > urlRow {
            if row.contains("█") || row.contains("▀") || row.contains("▄") {
                problems.append("a QR row outside the code at \(index): \(row)")
            }
        }
        return problems
    }

    @Test func theCheckerCatchesAStatusLineDrawnOverTheCode() {
        let row = "█▀▀▀▀▀█ ▄▄ █▀▀▀▀▀█"
        let code = Array(repeating: row, count: 12).joined(separator: "\r\n") + "\r\n"
        let good = "  register: qr shown\r\n" + code + "FIDO:/1234\r\n" + "\r\u{1B}[2K  waiting for the phone… 3 s left"
        #expect(Self.problems(onScreen: Self.screen(good)).isEmpty, "\(Self.problems(onScreen: Self.screen(good)))")
        // The status line drawn first, then the code printed after it on the same line.
        let overdrawn = "\r\u{1B}[2K  waiting… 3 s left" + code + "FIDO:/1234\r\n"
        #expect(!Self.problems(onScreen: Self.screen(overdrawn)).isEmpty)
        // A redraw in the middle of the code (a line cleared and rewritten between two rows).
        let midway =
            Array(repeating: row, count: 6).joined(separator: "\r\n") + "\r\u{1B}[2K  waiting… 2 s left\r\n"
            + Array(repeating: row, count: 6).joined(separator: "\r\n") + "\r\nFIDO:/1234\r\n"
        #expect(!Self.problems(onScreen: Self.screen(midway)).isEmpty)
        // A redraw after the URL line erased it.
        let erased = code + "FIDO:/1234" + "\r\u{1B}[2K  waiting… 1 s left\r\n"
        #expect(!Self.problems(onScreen: Self.screen(erased)).isEmpty)
    }

    /// The Python that runs `cable` on a pseudo-terminal (stdin, stdout and stderr all on it) and
    /// prints everything the terminal received.
    static let ptyRunner = """
        import os, pty, select, subprocess, sys, time
        args = sys.argv[1:]
        master, slave = pty.openpty()
        env = dict(os.environ, COLUMNS="200", LINES="100")
        p = subprocess.Popen(args, stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True)
        os.close(slave)
        out = b""
        deadline = time.time() + 60
        while time.time() < deadline:
            r, _, _ = select.select([master], [], [], 0.2)
            if r:
                try:
                    chunk = os.read(master, 65536)
                except OSError:
                    break
                if not chunk:
                    break
                out += chunk
            elif p.poll() is not None:
                break
        if p.poll() is None:
            p.kill()
        p.wait()
        sys.stdout.buffer.write(out)
        """

    static func python() -> String {
        let venv = Repository.root.appendingPathComponent(".venv-tools/bin/python3").path
        return FileManager.default.isExecutableFile(atPath: venv) ? venv : "/usr/bin/python3"
    }

    @Test func theStatusLineStaysBelowTheQRCodeOnATerminal() async throws {
        let store = FileManager.default.temporaryDirectory.appendingPathComponent(
            "cable-status-\(UUID().uuidString).json"
        ).path
        let result = try await ChildProcess.run(
            URL(fileURLWithPath: Self.python()),
            [
                "-c", Self.ptyRunner, CableProcess.executable.path, "register", "--user", "alice", "--timeout", "5",
                "--advert-listen", "127.0.0.1:\(try unsharedLoopbackUDPPort())", "--rp-store", store,
            ]
        )
        let output = result.stdoutText
        // The run was on a terminal and the status line was drawn (then erased) while it waited.
        #expect(output.contains("s left"), "no status line drawn: \(output.suffix(300))")
        #expect(output.contains("error: "), "the 3 s wait did not time out: \(output.suffix(300))")
        let rows = Self.screen(output)
        #expect(
            Self.problems(onScreen: rows).isEmpty,
            "\(Self.problems(onScreen: rows))\n\(rows.joined(separator: "\n"))"
        )
    }
}
