import CableTunnel

#if canImport(Glibc)
import Glibc
#endif

// `RelayLoad`: runs `RelayLoadTest` and prints its report. Measure release builds:
//   swift run -c release RelayLoad --tunnels 100 --round-trips 200 --size 256 --idle 1000
// Flags: --tunnels N, --round-trips N, --size BYTES, --idle N (0 skips memory), --no-baseline.

func parse(_ arguments: [String]) -> RelayLoadTest.Configuration? {
    var configuration = RelayLoadTest.Configuration()
    var rest = arguments[...]
    while let flag = rest.popFirst() {
        if flag == "--no-baseline" {
            configuration.includeTCPBaseline = false
            continue
        }
        guard let text = rest.popFirst(), let value = Int(text) else { return nil }
        switch flag {
        case "--tunnels": configuration.tunnels = value
        case "--round-trips": configuration.roundTripsPerTunnel = value
        case "--size": configuration.messageSize = value
        case "--idle": configuration.idleTunnels = value
        default: return nil
        }
    }
    return configuration
}

guard let configuration = parse(Array(CommandLine.arguments.dropFirst())) else {
    print("usage: RelayLoad [--tunnels N] [--round-trips N] [--size BYTES] [--idle N] [--no-baseline]")
    exit(64)
}
do {
    let report = try await RelayLoadTest.run(configuration)
    print(report)
} catch {
    print("error: \(error)")
    exit(1)
}
