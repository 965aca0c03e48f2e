import CableLocking
import CableTunnel

/// A loopback UDP port for a test's advert bus that another test cannot be handed by accident:
/// a random free port below the kernel's ephemeral range (see
/// `unsharedLoopbackUDPPortBelowEphemeralRange()` in CableTunnel, which `cable conformance` uses too),
/// and never one this process handed out before.
///
/// The probe only says the port is free now: the `cable` that binds it starts a moment later. Two
/// ceremonies started together (`StoreProcessTests` runs four at once) that drew the same number would
/// both pass the probe, and the second desktop would fail with "Address already in use" (seen once,
/// in a serial `make test-asan`). Remembering what was handed out closes that window within the test
/// process; ports are plentiful (12,768) next to the few hundred a whole run draws.
public func unsharedLoopbackUDPPort() throws -> Int {
    for _ in 0..<100 {
        guard let port = unsharedLoopbackUDPPortBelowEphemeralRange() else { break }
        if handedOutPorts.withLock({ $0.insert(port).inserted }) { return port }
    }
    throw NoFreeLoopbackUDPPort()
}

/// Every port this process's tests were given.
private let handedOutPorts = LockedValue(Set<Int>())

/// Every port tried in 20000..<32768 was held, or handed out before.
public struct NoFreeLoopbackUDPPort: Error {}
