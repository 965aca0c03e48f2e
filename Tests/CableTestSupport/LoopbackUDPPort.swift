import CableTunnel

/// A loopback UDP port for a test's advert bus that another test cannot be handed by accident: a
/// random free port below the kernel's ephemeral range, never one this process was given before
/// (`unsharedLoopbackUDPPortBelowEphemeralRange()` in CableTunnel, which `cable conformance` uses too).
public func unsharedLoopbackUDPPort() throws -> Int {
    guard let port = unsharedLoopbackUDPPortBelowEphemeralRange() else { throw NoFreeLoopbackUDPPort() }
    return port
}

/// Every port tried in 20000..<32768 was held, or handed out before.
public struct NoFreeLoopbackUDPPort: Error {}
