#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A loopback UDP port for a test's advert bus that another test cannot be handed by accident.
///
/// Probing with port 0 and releasing the number races with every other test: the kernel hands out
/// ports from its ephemeral range (32768-60999 on Linux) to anyone binding port 0, and may hand out
/// the just-released one. This picks a random port below that range, which only an explicit bind can
/// take, and checks that nobody holds it now.
public func unsharedLoopbackUDPPort() throws -> Int {
    for _ in 0..<200 {
        let port = Int.random(in: 20000..<32768)
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
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
        if bound == 0 { return port }
    }
    throw NoFreeLoopbackUDPPort()
}

/// Every port tried in 20000..<32768 was held.
public struct NoFreeLoopbackUDPPort: Error {}
