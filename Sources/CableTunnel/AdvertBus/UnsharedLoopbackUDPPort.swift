import CableLocking

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A UDP port on 127.0.0.1 that nobody holds at this moment and that no bind to port 0 can be
/// handed, for an advert bus another program (a desktop under test, a test's `cable`) binds next.
///
/// Probing with port 0 and releasing the number races with every other program: the kernel hands
/// out ports from its ephemeral range (32768-60999 on Linux) to anyone binding port 0, and may hand
/// out the just-released one. This picks a random port below that range, which only an explicit
/// bind can take, and checks that it is free now.
///
/// It never returns a port it returned before in this process. The probe only says the port is free
/// now, and whoever binds it does so a moment later: two buses set up together (a test starting four
/// ceremonies at once) that drew the same number would both pass the probe, and the second bind would
/// fail with "Address already in use". Ports are plentiful (12,768) next to the few hundred a process
/// draws. `nil` when 200 tries found none.
package func unsharedLoopbackUDPPortBelowEphemeralRange() -> Int? {
    for _ in 0..<200 {
        let port = Int.random(in: 20000..<32768)
        guard !handedOutLoopbackUDPPorts.withLock({ $0.contains(port) }) else { continue }
        #if canImport(Glibc)
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        #else
        let fd = socket(AF_INET, SOCK_DGRAM, 0)
        #endif
        guard fd >= 0 else { continue }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        if bound == 0, handedOutLoopbackUDPPorts.withLock({ $0.insert(port).inserted }) { return port }
    }
    return nil
}

/// Every port ``unsharedLoopbackUDPPortBelowEphemeralRange()`` returned in this process.
private let handedOutLoopbackUDPPorts = LockedValue(Set<Int>())
