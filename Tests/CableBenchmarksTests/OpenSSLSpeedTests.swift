import Testing

@testable import CableBenchmarks

/// `openssl speed` output captured on the development machine (OpenSSL 3.0.19, Debian 12), verbatim
/// apart from the long `compiler:` line.
private enum Captured {
    static let ecdh = """
        version: 3.0.19
        built on: Fri Apr  3 12:29:32 2026 UTC
        options: bn(64,64)
        compiler: gcc -fPIC -pthread -m64 -Wa,--noexecstack -Wall
        CPUINFO: OPENSSL_ia32cap=0xfffa3203078bffff:0x405fc6f1bf07ab
                                      op      op/s
         256 bits ecdh (nistp256)   0.0001s  15849.0

        """
    static let gcm = """
        version: 3.0.19
        built on: Fri Apr  3 12:29:32 2026 UTC
        options: bn(64,64)
        compiler: gcc -fPIC -pthread -m64 -Wa,--noexecstack -Wall
        CPUINFO: OPENSSL_ia32cap=0xfffa3203078bffff:0x405fc6f1bf07ab
        The 'numbers' are in 1000s of bytes per second processed.
        type             16 bytes     64 bytes    256 bytes   1024 bytes   8192 bytes  16384 bytes
        AES-256-GCM      42979.79k   165417.73k   472120.78k  1315795.97k  2775765.92k  2846457.86k

        """
}

@Suite struct OpenSSLSpeedTests {
    @Test func readsTheOpsPerSecondColumnOfTheECDHLine() throws {
        #expect(try OpenSSLSpeed.parseECDHOperationsPerSecond(Captured.ecdh) == 15849.0)
    }

    @Test func readsEveryCipherColumnInBytesPerSecond() throws {
        let rates = try OpenSSLSpeed.parseCipherBytesPerSecond(Captured.gcm, algorithm: OpenSSLSpeed.gcmAlgorithm)
        #expect(rates.keys.sorted() == [16, 64, 256, 1024, 8192, 16384])
        #expect(rates[16] == 42979.79 * 1000)
        #expect(rates[16384] == 2846457.86 * 1000)
    }

    @Test(arguments: [
        "",
        "version: 3.0.19\n",
        " 256 bits ecdh (nistp256)   0.0001s\n",
        " 256 bits ecdh (nistp256)   0.0001s  fast\n",
        " 256 bits ecdh (nistp256)   0.0001s  -3.0\n",
        " 256 bits ecdh (nistp256)   0.0001s  nan\n",
        " 256 bits ecdh (nistp384)   0.0001s  15849.0\n",
    ])
    func rejectsECDHOutputWithoutAPositiveRate(output: String) {
        #expect(throws: BenchmarkError(.unparsableToolOutput, "")) {
            try OpenSSLSpeed.parseECDHOperationsPerSecond(output)
        }
    }

    @Test(arguments: [
        // No header.
        "AES-256-GCM      42979.79k\n",
        // No row for the algorithm.
        "type             16 bytes\nAES-128-GCM      42979.79k\n",
        // A header size without its "bytes".
        "type             16 64 bytes\nAES-256-GCM      1.0k 2.0k\n",
        // Fewer rates than sizes.
        "type             16 bytes     64 bytes\nAES-256-GCM      42979.79k\n",
        // More rates than sizes.
        "type             16 bytes\nAES-256-GCM      42979.79k   1.0k\n",
        // A rate without the thousands suffix.
        "type             16 bytes\nAES-256-GCM      42979.79\n",
        // A rate that is not a number, or not positive.
        "type             16 bytes\nAES-256-GCM      lotsk\n",
        "type             16 bytes\nAES-256-GCM      0.00k\n",
        // A header with no sizes.
        "type\nAES-256-GCM\n",
    ])
    func rejectsMalformedCipherTables(output: String) {
        #expect(throws: BenchmarkError(.unparsableToolOutput, "")) {
            try OpenSSLSpeed.parseCipherBytesPerSecond(output, algorithm: OpenSSLSpeed.gcmAlgorithm)
        }
    }

    @Test func truncatedCaptureIsRejectedAtEveryCut() throws {
        // Cutting the table anywhere inside its last line must fail cleanly, never yield a short table.
        let full = Captured.gcm
        var index = try #require(full.range(of: "AES-256-GCM")).lowerBound
        // Up to "…2846457.86", one character short of the complete last rate.
        while index < full.index(full.endIndex, offsetBy: -2) {
            let cut = String(full[..<index])
            #expect(throws: BenchmarkError.self) {
                try OpenSSLSpeed.parseCipherBytesPerSecond(cut, algorithm: OpenSSLSpeed.gcmAlgorithm)
            }
            index = full.index(after: index)
        }
    }

    @Test(arguments: [(64, 64), (1056, 1024), (16416, 16384), (1, 16), (40, 16), (100_000, 16384)])
    func picksTheColumnNearestThePaddedSize(padded: Int, column: Int) throws {
        let rates = try OpenSSLSpeed.parseCipherBytesPerSecond(Captured.gcm, algorithm: OpenSSLSpeed.gcmAlgorithm)
        #expect(OpenSSLSpeed.nearestColumn(to: padded, in: rates)?.size == column)
    }

    @Test func noColumnWithoutRates() {
        #expect(OpenSSLSpeed.nearestColumn(to: 64, in: [:]) == nil)
    }
}
