/// `openssl speed`, run as a subprocess in the same run, and its output parsed.
///
/// `-elapsed` makes OpenSSL report wall-clock rates, as `ContinuousClock` measures ours; its default is
/// CPU time, which flatters it whenever the machine is busy. `-seconds 1` keeps the whole
/// probe at about 7 s (1 s for ECDH, 6 × 1 s for the six AES-GCM buffer sizes).
enum OpenSSLSpeed {
    /// The AES-256-GCM row of the cipher table.
    static let gcmAlgorithm = "AES-256-GCM"

    /// P-256 ECDH operations per second (`openssl speed -elapsed -seconds 1 ecdhp256`).
    static func measureECDHP256() throws(BenchmarkError) -> Double {
        try self.parseECDHOperationsPerSecond(
            Subprocess.run("openssl", ["speed", "-elapsed", "-seconds", "1", "ecdhp256"])
        )
    }

    /// AES-256-GCM encryption rates by buffer size, in bytes per second
    /// (`openssl speed -elapsed -seconds 1 -evp aes-256-gcm`).
    static func measureAES256GCM() throws(BenchmarkError) -> [Int: Double] {
        try self.parseCipherBytesPerSecond(
            Subprocess.run("openssl", ["speed", "-elapsed", "-seconds", "1", "-evp", "aes-256-gcm"]),
            algorithm: self.gcmAlgorithm
        )
    }

    /// The `op/s` figure of the `256 bits ecdh (nistp256)` line: its last column.
    ///
    /// - Throws: ``BenchmarkError/Code/unparsableToolOutput`` when the line or a positive number is missing.
    static func parseECDHOperationsPerSecond(_ output: String) throws(BenchmarkError) -> Double {
        for line in output.split(whereSeparator: \.isNewline) where line.contains("ecdh (nistp256)") {
            guard let last = line.split(separator: " ").last, let rate = Double(last), rate.isFinite, rate > 0 else {
                throw BenchmarkError(.unparsableToolOutput, "the nistp256 ECDH line has no op/s figure")
            }
            return rate
        }
        throw BenchmarkError(.unparsableToolOutput, "no nistp256 ECDH line in the openssl speed output")
    }

    /// The rates of `algorithm`'s row of a cipher table, keyed by the buffer sizes of the `type` header
    /// (`16 bytes … 16384 bytes`). OpenSSL prints them in thousands of bytes per second with a `k` suffix.
    ///
    /// - Throws: ``BenchmarkError/Code/unparsableToolOutput`` when the header or the row is missing, or
    ///   the row does not have one positive rate per size.
    static func parseCipherBytesPerSecond(_ output: String, algorithm: String) throws(BenchmarkError) -> [Int: Double] {
        let lines = output.split(whereSeparator: \.isNewline)
        guard let header = lines.last(where: { $0.hasPrefix("type ") }) else {
            throw BenchmarkError(.unparsableToolOutput, "no `type` header in the openssl speed output")
        }
        // "type  16 bytes  64 bytes …": every size is followed by the word "bytes".
        let headerWords = header.split(separator: " ").dropFirst()
        var sizes: [Int] = []
        var words = headerWords.makeIterator()
        while let word = words.next() {
            guard let size = Int(word), size > 0, words.next() == "bytes" else {
                throw BenchmarkError(.unparsableToolOutput, "unexpected cipher table header: \(header)")
            }
            sizes.append(size)
        }
        guard !sizes.isEmpty else { throw BenchmarkError(.unparsableToolOutput, "the cipher table has no sizes") }
        guard let row = lines.last(where: { $0.split(separator: " ").first.map(String.init) == algorithm }) else {
            throw BenchmarkError(.unparsableToolOutput, "no \(algorithm) row in the openssl speed output")
        }
        let cells = row.split(separator: " ").dropFirst()
        guard cells.count == sizes.count else {
            throw BenchmarkError(
                .unparsableToolOutput,
                "\(algorithm) row has \(cells.count) rates for \(sizes.count) sizes"
            )
        }
        var rates: [Int: Double] = [:]
        for (size, cell) in zip(sizes, cells) {
            guard cell.hasSuffix("k"), let thousands = Double(cell.dropLast()), thousands.isFinite, thousands > 0 else {
                throw BenchmarkError(.unparsableToolOutput, "\(algorithm) rate `\(cell)` is not a positive `…k` figure")
            }
            rates[size] = thousands * 1000
        }
        return rates
    }

    /// The table column closest in size to `bytes` (ties go to the smaller column).
    static func nearestColumn(to bytes: Int, in rates: [Int: Double]) -> (size: Int, bytesPerSecond: Double)? {
        rates.min { lhs, rhs in
            let l = abs(lhs.key - bytes)
            let r = abs(rhs.key - bytes)
            return l != r ? l < r : lhs.key < rhs.key
        }.map { ($0.key, $0.value) }
    }
}
