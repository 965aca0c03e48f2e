import Dispatch
import FuzzHarnesses

/// libFuzzer calls this once per input. The phone model's handler is async, so the input runs in a task
/// while libFuzzer's thread (not a cooperative-pool thread) waits for it. The harness traps on a broken
/// invariant; libFuzzer then saves the input. (No `main`: the fuzzer runtime provides it.)
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    let finished = DispatchSemaphore(value: 0)
    Task {
        _ = await CTAPRequestHarness.run(input)
        finished.signal()
    }
    finished.wait()
    return 0
}
