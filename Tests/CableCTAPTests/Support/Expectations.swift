import CableCTAP
import CableRelyingParty
import Testing

/// Runs `body`, expects a ``CTAPError`` with `code` (and `field`, when given), and returns it.
@discardableResult
func expectCTAPError<R>(
    _ code: CTAPError.Code,
    field: String? = nil,
    sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () throws(CTAPError) -> R
) -> CTAPError? {
    let error = #expect(throws: CTAPError.self, sourceLocation: sourceLocation) { _ = try body() }
    guard let error else { return nil }
    #expect(error.code == code, "got \(error)", sourceLocation: sourceLocation)
    if let field { #expect(error.field == field, "got \(error)", sourceLocation: sourceLocation) }
    return error
}

/// Runs `body`, expects a ``RelyingPartyError`` with `code`, and returns it.
@discardableResult
func expectRPError<R>(
    _ code: RelyingPartyError.Code,
    sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () throws(RelyingPartyError) -> R
) -> RelyingPartyError? {
    let error = #expect(throws: RelyingPartyError.self, sourceLocation: sourceLocation) { _ = try body() }
    guard let error else { return nil }
    #expect(error.code == code, "got \(error)", sourceLocation: sourceLocation)
    return error
}
