import ServiceLifecycle

extension TunnelService: Service {
    /// Runs the relay as a swift-service-lifecycle `Service`: starts it (unless already started),
    /// serves until graceful shutdown is triggered (for example SIGTERM through a `ServiceGroup`)
    /// or the task is cancelled, then stops accepting, closes every tunnel with 1001 and returns
    /// once every connection has closed (at most ``Configuration/closeGracePeriod`` later).
    public func run() async throws {
        if self.listeningChannel == nil { _ = try await self.start() }
        // Returns on graceful shutdown; throws on cancellation. Either way the relay stops.
        try? await gracefulShutdown()
        await self.shutdown()
    }
}
