import CableRelayLoad
import Foundation

// `RelayLoad`: the relay under load, in another process, beside a raw TCP splice baseline run in
// the same way in the same run; RSS and CPU read from each server's /proc entry. Measure release builds:
//
//   swift build -c release --product RelayLoad --product cable
//   .build/release/RelayLoad                       # relay and baseline as child processes of this tool
//   .build/release/RelayLoad --cable .build/release/cable   # the relay as `cable relay`
//   .build/release/RelayLoad --url ws://127.0.0.1:8080 --pid 1234   # a relay started by hand
//
// Flags: --idle N[,N…] (default 1000,9000), --tunnels N[,N…] (1,100,1000), --size BYTES (1024),
// --messages N per scenario (100000), --repeats N (3: throughput runs per scenario, alternating with
// the baseline, median kept), --quick, --no-baseline. `RelayLoad serve relay|splice` is the
// child-process mode.

let usage = """
    usage: RelayLoad [--url ws://HOST:PORT --pid PID | --cable PATH] [--idle N,…] [--tunnels N,…]
                     [--size BYTES] [--messages N] [--repeats N] [--quick] [--no-baseline]
           RelayLoad serve relay|splice
    """

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("error: \(message)\n".utf8))
    exit(64)
}

func counts(_ text: String?) -> [Int]? {
    guard let text else { return nil }
    let values = text.split(separator: ",").compactMap { Int($0) }
    return values.isEmpty ? nil : values
}

let arguments = Array(CommandLine.arguments.dropFirst())
if arguments.first == "serve" {
    guard arguments.count == 2, let kind = LoadServerKind(rawValue: arguments[1]) else { fail(usage) }
    try await LoadServerProcess.serve(kind)
    exit(0)
}

var plan = RelayLoadPlan()
var url: String?
var pid: Int32?
var cable: String?
var baseline = true
var repeats = 3
var rest = arguments[...]
while let flag = rest.popFirst() {
    switch flag {
    case "--quick": plan = .quick
    case "--no-baseline": baseline = false
    case "--repeats": repeats = rest.popFirst().flatMap { Int($0) }.flatMap { $0 >= 1 ? $0 : nil } ?? { fail(usage) }()
    case "--url": url = rest.popFirst()
    case "--pid": pid = rest.popFirst().flatMap { Int32($0) }
    case "--cable": cable = rest.popFirst()
    case "--idle": plan.idleTunnelCounts = counts(rest.popFirst()) ?? { fail(usage) }()
    case "--tunnels": plan.activeTunnelCounts = counts(rest.popFirst()) ?? { fail(usage) }()
    case "--size": plan.messageSize = rest.popFirst().flatMap { Int($0) } ?? { fail(usage) }()
    case "--messages": plan.messagesPerScenario = rest.popFirst().flatMap { Int($0) } ?? { fail(usage) }()
    default: fail(usage)
    }
}
do { try plan.validate() } catch { fail("\(error)") }
let fileLimit = raiseOpenFileLimit()
let needed = 2 * max(plan.idleTunnelCounts.max() ?? 0, plan.activeTunnelCounts.max() ?? 0) + 64
if fileLimit < needed {
    FileHandle.standardError.write(Data("warning: open-file limit \(fileLimit) < \(needed) needed\n".utf8))
}

func progress(_ line: String) { FileHandle.standardError.write(Data((line + "\n").utf8)) }
let me = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path

do {
    let relay: ServerUnderTest
    var spawned: [SpawnedServer] = []
    if let url {
        guard let pid else { fail("--url needs --pid (the relay's process, whose /proc entry is read)") }
        guard let port = Int((url.split(separator: ":").last ?? "").filter(\.isNumber)) else {
            fail("bad --url \(url)")
        }
        relay = ServerUnderTest(name: "relay", wire: .webSocket, host: "127.0.0.1", port: port, pid: pid)
    } else if let cable {
        let server = try SpawnedServer(
            name: "relay",
            wire: .webSocket,
            executable: cable,
            arguments: [
                "relay", "--port", "0", "--log-level", "error", "--max-connections", "40000", "--max-tunnels", "20000",
                "--max-connections-per-address", "40000", "--max-tunnels-per-address", "20000",
                "--max-messages-per-tunnel", "1073741824", "--max-bytes-per-tunnel", "1099511627776",
                "--idle-timeout", "3600", "--tunnel-lifetime", "3600", "--peer-wait-timeout", "3600",
            ]
        )
        spawned.append(server)
        relay = server.underTest
    } else {
        let server = try SpawnedServer(name: "relay", wire: .webSocket, executable: me, arguments: ["serve", "relay"])
        spawned.append(server)
        relay = server.underTest
    }
    progress("relay pid \(relay.pid) on port \(relay.port)")
    var splice: ServerUnderTest?
    if baseline {
        let server = try SpawnedServer(
            name: "tcp splice",
            wire: .splice,
            executable: me,
            arguments: ["serve", "splice"]
        )
        spawned.append(server)
        splice = server.underTest
        progress("tcp splice pid \(server.underTest.pid) on port \(server.underTest.port)")
    }
    // Scenario by scenario, relay then baseline, throughput three times alternating (median kept):
    // on a shared machine the load drifts, and back-to-back pairs see the same drift.
    let report = try await RelayLoadRun.compare(relay, splice, plan: plan, repeats: repeats, progress: progress)
    for server in spawned { server.stop() }
    print(report)
} catch {
    fail("\(error)")
}
