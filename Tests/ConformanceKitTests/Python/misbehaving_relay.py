"""A "tunnel service" that misbehaves in one way on every connection, for checking that the
conformance kit reports a hanging, flooding or vanishing relay as failures and goes on.

Usage: misbehaving_relay.py MODE   -> prints "PORT <n>" once listening on 127.0.0.1.
MODE: hang    reads the request and never answers
      close   closes every connection at once
      flood   answers with an endless HTTP status line and headers that never end
      frames  answers 101 (fido.cable, a routing ID) and then sends binary frames without end
"""

import base64
import hashlib
import socket
import sys
import threading

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def serve(connection, mode):
    try:
        if mode == "close":
            return
        request = b""
        while b"\r\n\r\n" not in request:
            chunk = connection.recv(4096)
            if not chunk:
                return
            request += chunk
        if mode == "hang":
            while connection.recv(4096):
                pass
            return
        if mode == "flood":
            connection.sendall(b"HTTP/1.1 101 Switching Protocols\r\n")
            while True:
                connection.sendall(b"X-Flood: " + b"x" * 4000 + b"\r\n")
        key = b""
        for line in request.split(b"\r\n"):
            if line.lower().startswith(b"sec-websocket-key:"):
                key = line.split(b":", 1)[1].strip()
        accept = base64.b64encode(hashlib.sha1(key + GUID).digest())
        connection.sendall(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Accept: " + accept + b"\r\nSec-WebSocket-Protocol: fido.cable\r\n"
            b"X-caBLE-Routing-ID: 2A0000\r\n\r\n")
        frame = bytes([0x82, 126, 0xFF, 0xFF]) + b"\xAA" * 0xFFFF
        while True:
            connection.sendall(frame)
    except OSError:
        pass
    finally:
        connection.close()


def main():
    mode = sys.argv[1]
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    print(f"PORT {listener.getsockname()[1]}", flush=True)
    while True:
        connection, _ = listener.accept()
        threading.Thread(target=serve, args=(connection, mode), daemon=True).start()


if __name__ == "__main__":
    main()
