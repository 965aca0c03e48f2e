import CableCBOR
import CableCTAP
import CableProtocol
import CableRelyingParty
import CableTrust
import CableTunnel
import Foundation

/// What one parser did with one fuzz input.
///
/// Only the parser's name and the stable error code are kept: never the input, a decoded value or an
/// error's reason, so a report can be printed without leaking anything the input carried.
public struct FuzzOutcome: Sendable, Hashable, CustomStringConvertible {
    /// The parser's verdict.
    public enum Verdict: Sendable, Hashable {
        /// The input was accepted.
        case accepted
        /// The input was refused with this typed error code.
        case rejected(code: String)
    }

    /// The entry point that was called, e.g. `CBORValue(decoding:)`.
    public let parser: String
    /// What it did.
    public let verdict: Verdict

    /// `parser: accepted` or `parser: rejected(code)`.
    public var description: String {
        switch self.verdict {
        case .accepted: return "\(self.parser): accepted"
        case .rejected(let code): return "\(self.parser): rejected(\(code))"
        }
    }
}

/// Every outcome of one harness run, in call order.
public struct FuzzReport: Sendable, Hashable, CustomStringConvertible {
    /// The outcomes, in the order the parsers were called.
    public private(set) var outcomes: [FuzzOutcome] = []

    /// An empty report.
    public init() {}

    /// Calls `body`, records whether it succeeded or which typed error it threw, and returns its value.
    ///
    /// The error type is generic and typed, so a parser that threw an untyped or foreign error would not
    /// compile here: the harnesses check "succeeds or throws one of our typed errors" statically.
    @discardableResult
    public mutating func attempt<Value, Failure: FuzzErrorCode>(
        _ parser: String,
        _ body: () throws(Failure) -> Value
    ) -> Value? {
        do throws(Failure) {
            let value = try body()
            self.outcomes.append(FuzzOutcome(parser: parser, verdict: .accepted))
            return value
        } catch {
            self.outcomes.append(FuzzOutcome(parser: parser, verdict: .rejected(code: error.fuzzCode)))
            return nil
        }
    }

    /// Records an outcome computed elsewhere (an entry point that reports failure without throwing).
    public mutating func record(_ parser: String, _ verdict: FuzzOutcome.Verdict) {
        self.outcomes.append(FuzzOutcome(parser: parser, verdict: verdict))
    }

    /// Whether every rejection carries a non-empty code (a typed, specific error).
    public var everyRejectionHasACode: Bool {
        self.outcomes.allSatisfy { outcome in
            if case .rejected(let code) = outcome.verdict { return !code.isEmpty }
            return true
        }
    }

    /// One outcome per line.
    public var description: String { self.outcomes.map(\.description).joined(separator: "\n") }
}

/// The project's typed errors, reduced to their stable code for a ``FuzzReport``.
public protocol FuzzErrorCode: Error {
    /// The stable code, as logs and JSON carry it.
    var fuzzCode: String { get }
}

extension CBORError: FuzzErrorCode {
    /// The CBOR error code.
    public var fuzzCode: String { self.code.description }
}

extension CableProtocolError: FuzzErrorCode {
    /// The protocol error code.
    public var fuzzCode: String { self.code.rawValue }
}

extension CTAPError: FuzzErrorCode {
    /// The CTAP error code's name.
    public var fuzzCode: String { self.code.name }
}

extension RelyingPartyError: FuzzErrorCode {
    /// The relying-party error code.
    public var fuzzCode: String { self.code.rawValue }
}

extension TrustError: FuzzErrorCode {
    /// The trust error code.
    public var fuzzCode: String { self.code.description }
}

extension TunnelError: FuzzErrorCode {
    /// The tunnel error code.
    public var fuzzCode: String { self.code.rawValue }
}

/// Stops the fuzzer on a broken invariant (libFuzzer reports the crash and saves the input).
///
/// The message names the invariant only, never input bytes. It is written to standard error first
/// because optimised builds drop a `preconditionFailure` message, and fuzz targets are built optimised.
func fuzzInvariant(_ condition: Bool, _ invariant: StaticString) {
    if !condition {
        FileHandle.standardError.write(Data("fuzz invariant violated: \(invariant)\n".utf8))
        preconditionFailure("fuzz invariant violated: \(invariant)")
    }
}
