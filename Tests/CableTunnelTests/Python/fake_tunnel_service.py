"""A scripted, misbehaving tunnel service for TunnelClientTests: it answers one WebSocket upgrade
exactly as told, so the Swift client can be checked against responses a correct relay never sends.

Usage: fake_tunnel_service.py --status 101 [--header NAME:VALUE]... [--frames HEX[,HEX...]]
                              [--same-segment] [--silent] [--read-seconds S] [--then close|eof|hold|reset]

Prints "PORT <n>" once listening, then serves one connection: reads the request head, answers with
the status line (for 101 with the correct Sec-WebSocket-Accept and the given headers, nothing
implied), sends the frames (hex, as they go on the wire; `HEX+pattern:N` appends N bytes
i % 251, for payloads too big for a command line), then closes the socket (`close`), keeps
reading until the client closes (`hold`), shuts the socket without a close frame once the client
has sent something (`eof`), or waits
until the client has sent something (its close reply) and resets the connection without reading it
(`reset`: a relay whose close grace period ran out before it read the reply).
Finally prints one JSON line: the request head lines and the hex of every frame the client sent,
unmasked, as {"request": [...], "frames": [{"opcode": n, "masked": bool, "payload": hex}]}.
"""

import argparse
import base64
import hashlib
import json
import socket
import struct
import sys
import time

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def parse_frames(data):
    frames = []
    while len(data) >= 2:
        b0, b1 = data[0], data[1]
        n, offset = b1 & 0x7F, 2
        if n == 126:
            if len(data) < 4:
                break
            n, offset = struct.unpack(">H", data[2:4])[0], 4
        elif n == 127:
            if len(data) < 10:
                break
            n, offset = struct.unpack(">Q", data[2:10])[0], 10
        masked = bool(b1 & 0x80)
        mask = data[offset : offset + 4] if masked else b"\0\0\0\0"
        offset += 4 if masked else 0
        if len(data) < offset + n:
            break
        payload = bytes(b ^ mask[i % 4] for i, b in enumerate(data[offset : offset + n]))
        frames.append({"opcode": b0 & 0x0F, "fin": bool(b0 & 0x80), "masked": masked, "payload": payload.hex()})
        data = data[offset + n :]
    return frames


def frame_bytes(spec):
    """`HEX` or `HEX+pattern:N` (the hex, then N bytes of i % 251)."""
    head, _, pattern = spec.partition("+pattern:")
    return bytes.fromhex(head) + (bytes(i % 251 for i in range(int(pattern))) if pattern else b"")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--status", type=int, default=101)
    p.add_argument("--header", action="append", default=[])
    p.add_argument("--frames", default="")
    p.add_argument("--same-segment", action="store_true", help="send the frames in the same write as the head")
    p.add_argument("--silent", action="store_true", help="accept, read, never answer")
    p.add_argument("--read-seconds", type=float, default=30.0)
    p.add_argument("--then", choices=["close", "eof", "hold", "reset"], default="hold")
    args = p.parse_args()

    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    # Generous: a test's client may take a while to come on a loaded machine; the test ends us anyway.
    listener.settimeout(120)
    print(f"PORT {listener.getsockname()[1]}", flush=True)

    conn, _ = listener.accept()
    conn.settimeout(args.read_seconds)
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = conn.recv(65536)
        if not chunk:
            break
        buf += chunk
    head, _, rest = buf.partition(b"\r\n\r\n")
    request = head.decode(errors="replace").split("\r\n")

    if args.silent:
        time.sleep(args.read_seconds)
        conn.close()
        print(json.dumps({"request": request, "frames": []}))
        return

    key = ""
    for line in request[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "sec-websocket-key":
            key = value.strip()
    reason = {101: "Switching Protocols"}.get(args.status, "Status")
    lines = [f"HTTP/1.1 {args.status} {reason}"]
    if args.status == 101:
        accept = base64.b64encode(hashlib.sha1(key.encode() + GUID).digest()).decode()
        lines += ["Upgrade: websocket", "Connection: Upgrade", f"Sec-WebSocket-Accept: {accept}"]
    else:
        lines += ["Content-Length: 0", "Connection: close"]
    lines += [h.replace(":", ": ", 1) for h in args.header]
    response = ("\r\n".join(lines) + "\r\n\r\n").encode()
    frames = b"".join(frame_bytes(f) for f in args.frames.split(",") if f)
    if args.same_segment:
        conn.sendall(response + frames)
    else:
        conn.sendall(response)
        if frames:
            time.sleep(0.05)
            conn.sendall(frames)

    received = rest
    if args.then == "hold":
        deadline = time.monotonic() + args.read_seconds
        try:
            while time.monotonic() < deadline:
                chunk = conn.recv(65536)
                if not chunk:
                    break
                received += chunk
        except (socket.timeout, ConnectionResetError):
            pass
        conn.close()
    elif args.then == "reset":
        # Wait for the client's bytes without consuming them, then close with SO_LINGER 0: the
        # kernel answers with a TCP RST, as it does for any socket closed with unread input.
        deadline = time.monotonic() + args.read_seconds
        while time.monotonic() < deadline:
            try:
                peeked = conn.recv(65536, socket.MSG_PEEK)
            except socket.timeout:
                continue
            if peeked:
                received += peeked
                break
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        conn.close()
    elif args.then == "eof":
        # Once the client has sent something (it has upgraded and read the frames), end the
        # connection without a close frame.
        try:
            received += conn.recv(65536)
        except socket.timeout:
            pass
        conn.shutdown(socket.SHUT_RDWR)
        conn.close()
    else:
        conn.close()
    print(json.dumps({"request": request, "frames": parse_frames(received)}))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
