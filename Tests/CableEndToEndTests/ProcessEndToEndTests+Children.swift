import CableLocking
import CableTestSupport
import Foundation

/// The `cable` processes a test started (relay, desktops, phones, listings). However the test ends —
/// passing, an expectation thrown by `#require`, a timeout, cancellation — ``killAll()`` leaves none of
/// them running, each killed with its process group.
final class ChildProcesses: Sendable {
    private let started = LockedValue<[CableProcess]>([])

    /// Starts `cable arguments` and remembers it for ``killAll()``.
    func start(_ arguments: [String], environment: [String: String] = [:]) throws -> CableProcess {
        let process = try CableProcess(arguments, environment: environment)
        self.started.withLock { $0.append(process) }
        return process
    }

    /// Kills every process started here that is still running (SIGKILL to its group).
    func killAll() {
        for process in self.started.withLock({ $0 }) { process.kill() }
    }

    /// Runs `body`, then kills whatever is still running, also when `body` throws.
    static func withChildren<T>(_ body: (ChildProcesses) async throws -> T) async throws -> T {
        let children = ChildProcesses()
        do {
            let result = try await body(children)
            children.killAll()
            return result
        } catch {
            children.killAll()
            throw error
        }
    }
}

/// Runs a system tool (`mount`, `umount`) and waits for it without blocking a thread: the exit comes
/// from the termination handler through a continuation. `-1` when the tool is missing or cannot start.
func runTool(_ tool: String, _ arguments: [String]) async -> Int32 {
    guard FileManager.default.isExecutableFile(atPath: tool) else { return -1 }
    let process = ChildProcess()
    process.executableURL = URL(fileURLWithPath: tool)
    process.arguments = arguments
    process.standardInput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    process.standardOutput = FileHandle.nullDevice
    return await withCheckedContinuation { continuation in
        process.terminationHandler = { finished in continuation.resume(returning: finished.terminationStatus) }
        do {
            try process.run()
        } catch {
            process.terminationHandler = nil
            continuation.resume(returning: -1)
        }
    }
}
