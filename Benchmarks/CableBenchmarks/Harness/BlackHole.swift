import Synchronization

/// Where measured results end up, so the optimizer cannot prove them unused.
private let blackHoleSink = Atomic<Int>(0)

/// Consumes `value` so the work that produced it cannot be removed as dead code.
///
/// `@inline(never)` keeps the call opaque at the call site, and the relaxed atomic store is a side effect
/// the optimizer must keep. The store is a plain `mov` on x86-64 and arm64, so it adds about a nanosecond
/// to each measured operation (and the same to its baseline).
@inline(never)
func blackHole<T>(_ value: T) {
    let word = withUnsafeBytes(of: value) { raw in
        raw.count >= MemoryLayout<Int>.size ? raw.loadUnaligned(as: Int.self) : raw.count
    }
    blackHoleSink.store(word, ordering: .relaxed)
}
