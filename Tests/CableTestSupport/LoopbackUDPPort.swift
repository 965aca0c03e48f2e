import CableTunnel

/// A loopback UDP port for a test's advert bus that another test cannot be handed by accident:
/// a random free port below the kernel's ephemeral range (see
/// `unsharedLoopbackUDPPortBelowEphemeralRange()` in CableTunnel, which `cable conformance` uses too).
public func unsharedLoopbackUDPPort() throws -> Int {
    guard let port = unsharedLoopbackUDPPortBelowEphemeralRange() else { throw NoFreeLoopbackUDPPort() }
    return port
}

/// Every port tried in 20000..<32768 was held.
public struct NoFreeLoopbackUDPPort: Error {}
