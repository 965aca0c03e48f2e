/// Why a benchmark case or a baseline could not run. One code per cause; the reason is for people.
struct BenchmarkError: Error, Hashable, CustomStringConvertible, Sendable {
    /// The cause, string-backed so new causes are cheap to add.
    struct Code: Hashable, Sendable, CustomStringConvertible, RawRepresentable {
        let rawValue: String
        init(rawValue: String) { self.rawValue = rawValue }
        var description: String { self.rawValue }

        /// An input vector under `Spec/vectors/` is missing or malformed.
        static let missingVector = Self(rawValue: "missingVector")
        /// An external tool (`openssl`) is not on `PATH`.
        static let toolNotFound = Self(rawValue: "toolNotFound")
        /// An external tool could not be started or exited with a failure status.
        static let toolFailed = Self(rawValue: "toolFailed")
        /// An external tool's output did not contain the figure looked for.
        static let unparsableToolOutput = Self(rawValue: "unparsableToolOutput")
        /// The code under test failed where it must succeed (a broken build would otherwise be timed).
        static let operationFailed = Self(rawValue: "operationFailed")
    }

    /// The cause.
    let code: Code
    /// What happened, for the report. Never contains key material.
    let reason: String

    init(_ code: Code, _ reason: String) {
        self.code = code
        self.reason = reason
    }

    var description: String { "\(self.code.rawValue): \(self.reason)" }

    static func == (lhs: Self, rhs: Self) -> Bool { lhs.code == rhs.code }
    func hash(into hasher: inout Hasher) { hasher.combine(self.code) }
}
