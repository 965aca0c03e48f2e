import FuzzHarnesses

/// libFuzzer calls this once per input. The harness traps on a broken invariant; libFuzzer then saves
/// the input. (No `main`: the fuzzer runtime provides it.)
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    _ = AttestationStatementHarness.run(input)
    return 0
}
