internal import CCableOpenSSL

/// Turning OpenSSL's thread-local error queue into ``CryptoError`` diagnostics.
enum OpenSSLError {
    /// OpenSSL keeps at most 16 entries per thread; the bound also keeps a hostile loop from spinning.
    private static let maximumDrainedEntries = 16

    /// `.openSSL` naming `function` and the drained queue. The queue text is OpenSSL's reason strings
    /// (library, function, reason), which never contain key material.
    static func failure(_ function: StaticString) -> CryptoError {
        CryptoError(.openSSL, "\(function): \(self.drainQueue())")
    }

    /// Reads and clears the calling thread's error queue, joining the entries with "; ".
    static func drainQueue() -> String {
        var messages: [String] = []
        for _ in 0..<self.maximumDrainedEntries {
            let code = ERR_get_error()
            guard code != 0 else { break }
            messages.append(self.text(of: code))
        }
        ERR_clear_error()
        return messages.isEmpty ? "no error queued" : messages.joined(separator: "; ")
    }

    /// Discards queued errors after an expected failure (a bad tag, an off-curve point), so a later
    /// report does not carry stale entries.
    static func clearQueue() {
        ERR_clear_error()
    }

    /// Traps for failures that valid input cannot cause (allocation failure, a missing default provider)
    /// in the API whose contract is non-throwing. The message names the call and OpenSSL's reason only.
    static func unrecoverable(_ function: StaticString) -> Never {
        preconditionFailure("CableCrypto: \(function) failed: \(self.drainQueue())")
    }

    private static func text(of code: UInt) -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        buffer.withUnsafeMutableBufferPointer { pointer in
            ERR_error_string_n(code, pointer.baseAddress, pointer.count)
        }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// The calling thread's OpenSSL error queue, observable for tests and diagnostics.
package enum OpenSSLErrorQueue {
    /// True when no OpenSSL error is pending on this thread: every failure path of CableCrypto drains or
    /// clears the queue, so a stale entry can never be attributed to a later, unrelated call.
    package static var isEmpty: Bool { ERR_peek_error() == 0 }
}
