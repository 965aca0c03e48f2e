/// Borrowing and producing contiguous byte buffers without needless copies.
///
/// The public API takes `some Collection<UInt8>`; `Array`, `ArraySlice` and buffer pointers already have
/// contiguous storage and are lent to OpenSSL as they are. Only other collections are copied once.
extension Collection<UInt8> {
    /// Calls `body` with this collection's bytes in contiguous memory.
    func withContiguousBytes<Result, Failure: Error>(
        _ body: (UnsafeBufferPointer<UInt8>) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        // `withContiguousStorageIfAvailable` is `rethrows`, which would erase the typed error; carry it
        // out in a `Swift.Result` instead.
        if let outcome = self.withContiguousStorageIfAvailable({ buffer in
            Swift.Result { () throws(Failure) -> Result in try body(buffer) }
        }) {
            return try outcome.get()
        }
        let copy = Array(self)
        let outcome = copy.withUnsafeBufferPointer { buffer in
            Swift.Result { () throws(Failure) -> Result in try body(buffer) }
        }
        return try outcome.get()
    }
}

extension Array where Element == UInt8 {
    /// An array of at most `capacity` bytes written in place by `body`, which returns how many it wrote.
    /// Avoids zero-filling and then copying OpenSSL output.
    init<Failure: Error>(
        byteCapacity capacity: Int,
        initializingWith body: (UnsafeMutableBufferPointer<UInt8>) throws(Failure) -> Int
    ) throws(Failure) {
        guard capacity > 0 else {
            // `Array(unsafeUninitializedCapacity: 0)` writes a count of 0 into the standard library's
            // shared empty-array storage, which ThreadSanitizer rightly reports when two threads do
            // it. Lend `body` an empty buffer with a real address instead (OpenSSL wants non-null).
            let written = try withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 1) {
                (scratch: UnsafeMutableBufferPointer<UInt8>) throws(Failure) -> Int in
                try body(UnsafeMutableBufferPointer(start: scratch.baseAddress, count: 0))
            }
            precondition(written == 0, "wrote \(written) bytes into an empty buffer")
            self = []
            return
        }
        var failure: Failure?
        self.init(unsafeUninitializedCapacity: capacity) { buffer, initializedCount in
            do throws(Failure) {
                initializedCount = try body(buffer)
            } catch {
                failure = error
                initializedCount = 0
            }
        }
        if let failure { throw failure }
    }
}
