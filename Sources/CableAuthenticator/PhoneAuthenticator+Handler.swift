/// The authenticator model answers the hybrid phone driver's CTAP requests.
extension PhoneAuthenticator: CTAPRequestHandler {
    /// The CBOR getInfo response the post-handshake message carries.
    public var getInfoResponse: [UInt8] { self.getInfo.encoded }
}
