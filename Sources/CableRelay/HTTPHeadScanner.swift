import CableTunnel

/// Finds where an HTTP/1.1 request head ends (the empty line after the headers) in a byte stream
/// fed in arbitrary pieces, without parsing it. The relay uses it only to bound the size of a
/// stranger's request head before the real HTTP parser buffers it.
///
/// Leading empty lines are skipped (RFC 7230 §3.5), and bare LF line endings are accepted as
/// well as CRLF, so the scanner never ends a head later than a lenient parser would.
struct HTTPHeadScanner: Sendable {
    private enum State {
        /// Before the request line: CR and LF are skipped.
        case leading
        /// Inside a line.
        case inLine
        /// Just after a line break.
        case lineStart
        /// A CR right after a line break.
        case lineStartCR
        /// The head has ended.
        case done
    }

    private var state = State.leading

    /// Whether the head has ended.
    var isComplete: Bool {
        if case .done = self.state { return true }
        return false
    }

    /// Scans `bytes`; returns how many of them belong to the head, and whether it ended within them.
    mutating func scan(_ bytes: some Sequence<UInt8>) -> (consumed: Int, complete: Bool) {
        var consumed = 0
        for byte in bytes {
            guard !self.isComplete else { break }
            consumed += 1
            if case .leading = self.state, byte == UInt8(ascii: "\r") || byte == UInt8(ascii: "\n") { continue }
            self.advance(byte)
        }
        return (consumed, self.isComplete)
    }

    private mutating func advance(_ byte: UInt8) {
        switch (self.state, byte) {
        case (.lineStart, UInt8(ascii: "\n")), (.lineStartCR, UInt8(ascii: "\n")):
            self.state = .done
        case (.lineStart, UInt8(ascii: "\r")):
            self.state = .lineStartCR
        case (_, UInt8(ascii: "\n")):
            self.state = .lineStart
        default:
            // A CR inside a line is the first half of its CRLF; anything else is line content.
            self.state = .inLine
        }
    }
}
