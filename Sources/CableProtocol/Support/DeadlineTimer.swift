import CableLocking

/// One timer for the whole process, behind the drivers' deadlines on `ContinuousClock`.
///
/// A driver arms a deadline for every wait (each connect, each message) and nearly always disarms it
/// long before it passes. A task sleeping per deadline costs a task start, a dispatch timer, and a
/// resumption when it is cancelled: about ten such deadlines per transaction were 0.75 ms of a
/// register + sign-in on one event loop (BENCHMARKS.md, "Eighth pass"). Here arming is a heap push and disarming a
/// dictionary removal, both under one lock. One task sleeps until the earliest armed deadline and is
/// restarted only when a deadline earlier than the one it sleeps for is armed.
///
/// A disarmed deadline stays in the heap until its time comes or the heap is compacted (once more than
/// half of it, and over ``compactionFloor`` entries, is disarmed), so the heap holds at most about
/// twice the armed deadlines. Actions run on the timer's task: they must be quick and must not block
/// (start a task for anything that waits).
package final class DeadlineTimer: Sendable {
    /// The process-wide timer.
    package static let shared = DeadlineTimer()

    /// Below this many entries the heap is never compacted.
    package static let compactionFloor = 64

    /// An armed deadline, to disarm it.
    package struct Token: Sendable, Hashable {
        fileprivate let id: UInt64
    }

    private struct Entry {
        let deadline: ContinuousClock.Instant
        let id: UInt64
    }

    private struct State {
        /// A binary min-heap on `deadline`; entries whose id is not in `actions` were disarmed.
        var heap: [Entry] = []
        var actions: [UInt64: @Sendable () -> Void] = [:]
        var nextID: UInt64 = 0
        /// The running sleeper, its generation and the instant it sleeps until.
        var sleeper: Task<Void, Never>?
        var generation: UInt64 = 0
        var target: ContinuousClock.Instant?
    }

    private let state = LockedValue(State())

    package init() {}

    /// Runs `action` once at `deadline`, unless ``disarm(_:)`` comes first.
    package func arm(at deadline: ContinuousClock.Instant, _ action: @escaping @Sendable () -> Void) -> Token {
        self.state.withLock { state in
            let id = state.nextID
            state.nextID += 1
            state.actions[id] = action
            Self.push(Entry(deadline: deadline, id: id), into: &state.heap)
            if state.target.map({ deadline < $0 }) ?? true { self.restartSleeper(until: deadline, &state) }
            return Token(id: id)
        }
    }

    /// Runs `action` once `duration` from now, unless ``disarm(_:)`` comes first.
    package func arm(after duration: Duration, _ action: @escaping @Sendable () -> Void) -> Token {
        self.arm(at: ContinuousClock.now.advanced(by: duration), action)
    }

    /// Disarms a deadline; returns whether it was still armed (`false` once its action has been taken).
    @discardableResult
    package func disarm(_ token: Token) -> Bool {
        self.state.withLock { state in
            guard state.actions.removeValue(forKey: token.id) != nil else { return false }
            if state.heap.count > Self.compactionFloor, state.heap.count > 2 * state.actions.count {
                let live = state.heap.filter { state.actions[$0.id] != nil }
                state.heap = []
                for entry in live { Self.push(entry, into: &state.heap) }
            }
            return true
        }
    }

    /// Armed deadlines and heap entries (for tests: the bound on disarmed entries).
    package var counts: (armed: Int, heap: Int) {
        self.state.withLock { ($0.actions.count, $0.heap.count) }
    }

    private func restartSleeper(until target: ContinuousClock.Instant, _ state: inout State) {
        state.sleeper?.cancel()
        state.generation += 1
        state.target = target
        let generation = state.generation
        // Detached: the sleeper outlives the task that armed it and must not keep its task-local values.
        state.sleeper = Task.detached { await self.sleep(until: target, generation: generation) }
    }

    private func sleep(until first: ContinuousClock.Instant, generation: UInt64) async {
        var target = first
        while true {
            try? await Task.sleep(until: target, clock: .continuous)
            let (due, next) = self.state.withLock { state -> ([@Sendable () -> Void], ContinuousClock.Instant?) in
                // A sleeper restarted for an earlier deadline has taken over.
                guard state.generation == generation else { return ([], nil) }
                let now = ContinuousClock.now
                var due: [@Sendable () -> Void] = []
                while let top = state.heap.first, top.deadline <= now || state.actions[top.id] == nil {
                    Self.popFirst(&state.heap)
                    if let action = state.actions.removeValue(forKey: top.id) { due.append(action) }
                }
                state.target = state.heap.first?.deadline
                if state.target == nil { state.sleeper = nil }
                return (due, state.target)
            }
            for action in due { action() }
            guard let next else { return }
            target = next
        }
    }

    private static func push(_ entry: Entry, into heap: inout [Entry]) {
        heap.append(entry)
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].deadline < heap[parent].deadline else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    private static func popFirst(_ heap: inout [Entry]) {
        let last = heap.removeLast()
        guard !heap.isEmpty else { return }
        heap[0] = last
        var parent = 0
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var smallest = parent
            if left < heap.count, heap[left].deadline < heap[smallest].deadline { smallest = left }
            if right < heap.count, heap[right].deadline < heap[smallest].deadline { smallest = right }
            guard smallest != parent else { return }
            heap.swapAt(parent, smallest)
            parent = smallest
        }
    }
}
