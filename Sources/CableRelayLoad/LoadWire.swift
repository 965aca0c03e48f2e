import NIOCore

/// How a load client talks to the server under test. The two differ only in framing, so the
/// clients cost the same on both and the ratio is the servers'.
package enum LoadProtocol: String, Sendable, CaseIterable {
    /// The caBLE tunnel service: an HTTP upgrade, then WebSocket binary frames (masked towards
    /// the relay, as RFC 6455 requires of clients).
    case webSocket
    /// The raw TCP splice baseline: a 17-byte hello (role, tunnel ID), then messages as a 4-byte
    /// big-endian length and the payload.
    case splice
}

/// Encoding and decoding of whole messages on the wire, without allocation beyond the buffer.
package enum LoadWire {
    /// A client message: a masked binary WebSocket frame (zero mask key: the relay unmasks it
    /// all the same, and the client then need not rewrite the payload) or a length-prefixed one.
    package static func writeMessage(_ payload: ByteBuffer, as wire: LoadProtocol, into buffer: inout ByteBuffer) {
        var payload = payload
        switch wire {
        case .webSocket:
            buffer.writeInteger(UInt8(0x82))
            let count = payload.readableBytes
            if count < 126 {
                buffer.writeInteger(UInt8(0x80 | count))
            } else if count <= 0xFFFF {
                buffer.writeInteger(UInt8(0x80 | 126))
                buffer.writeInteger(UInt16(count))
            } else {
                buffer.writeInteger(UInt8(0x80 | 127))
                buffer.writeInteger(UInt64(count))
            }
            buffer.writeInteger(UInt32(0))
            buffer.writeBuffer(&payload)
        case .splice:
            buffer.writeInteger(UInt32(payload.readableBytes))
            buffer.writeBuffer(&payload)
        }
    }

    /// What one parse of the receive buffer found.
    package enum Parsed {
        case message(ByteBuffer)
        case closed
        case needMore
    }

    /// Takes one whole server message off the front of `buffer` (WebSocket frames from the
    /// relay are unmasked and unfragmented; control frames other than close are skipped).
    package static func readMessage(from buffer: inout ByteBuffer, as wire: LoadProtocol) -> Parsed {
        switch wire {
        case .splice:
            guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self),
                buffer.readableBytes >= 4 + Int(length)
            else { return .needMore }
            buffer.moveReaderIndex(forwardBy: 4)
            return .message(buffer.readSlice(length: Int(length))!)
        case .webSocket:
            while true {
                let start = buffer.readerIndex
                guard let first = buffer.getInteger(at: start, as: UInt8.self),
                    let second = buffer.getInteger(at: start + 1, as: UInt8.self)
                else { return .needMore }
                var header = 2
                var length = Int(second & 0x7F)
                if length == 126 {
                    guard let extended = buffer.getInteger(at: start + 2, as: UInt16.self) else { return .needMore }
                    length = Int(extended)
                    header += 2
                } else if length == 127 {
                    guard let extended = buffer.getInteger(at: start + 2, as: UInt64.self) else { return .needMore }
                    length = Int(extended)
                    header += 8
                }
                if second & 0x80 != 0 { header += 4 }
                guard buffer.readableBytes >= header + length else { return .needMore }
                buffer.moveReaderIndex(forwardBy: header)
                let payload = buffer.readSlice(length: length)!
                switch first & 0x0F {
                case 0x2: return .message(payload)
                case 0x8: return .closed
                default: continue
                }
            }
        }
    }

    /// Writes the current monotonic time (ns, big-endian) into the first 8 bytes.
    package static func stamp(_ message: inout ByteBuffer) {
        message.setInteger(NIODeadline.now().uptimeNanoseconds, at: message.readerIndex)
    }

    /// Nanoseconds since the time in the first 8 bytes.
    package static func elapsedSinceStamp(_ message: ByteBuffer) -> UInt64 {
        guard let sent = message.getInteger(at: message.readerIndex, as: UInt64.self) else { return 0 }
        let now = NIODeadline.now().uptimeNanoseconds
        return now >= sent ? now - sent : 0
    }
}
