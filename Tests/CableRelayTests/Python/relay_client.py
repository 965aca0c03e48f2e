"""An independent client for swift-cable's tunnel service (relay), driven by TunnelServiceInteropTests.

It uses the `websockets` library (not our Swift client) for WebSocket traffic, and plain sockets for
requests no WebSocket library would send (wrong methods, garbage, stalled heads, unmasked frames).

Usage: relay_client.py SCENARIO --port PORT [--seed N]

Each scenario prints exactly one JSON object on its last stdout line with what it *observed*
(statuses, close codes, what arrived); the Swift test decides whether that is right. A scenario
that could not run prints {"error": "..."} and exits 1.
"""

import argparse
import hashlib
import json
import os
import random
import socket
import struct
import sys
import threading
import time

from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

SUBPROTOCOL = "fido.cable"
HOST = "127.0.0.1"
# Bounds waits that succeed at once on an idle machine; generous, as the suites run in parallel.
TIMEOUT = 30.0


def ws_connect(port, path, subprotocols=(SUBPROTOCOL,), **kwargs):
    """Opens a WebSocket the way a browser-like client would, minus compression and keepalive pings."""
    return connect(
        f"ws://{HOST}:{port}{path}",
        subprotocols=list(subprotocols) if subprotocols else None,
        compression=None,
        proxy=None,
        ping_interval=None,
        open_timeout=TIMEOUT,
        close_timeout=TIMEOUT,
        max_size=2 * (1 << 20),
        legacy=True,  # return the connection directly (not only as a context manager)
        **kwargs,
    )


def new_tunnel_id(rng):
    return bytes(rng.getrandbits(8) for _ in range(16))


def status_of(port, path, subprotocols=(SUBPROTOCOL,)):
    """The HTTP status of an upgrade attempt (101 when it succeeded)."""
    try:
        with ws_connect(port, path, subprotocols):
            return 101
    except InvalidStatus as e:
        return e.response.status_code


def close_code_of(ws):
    """Waits for the server's close and returns its code (None if the connection just dropped)."""
    try:
        while True:
            ws.recv(timeout=TIMEOUT)
    except ConnectionClosed as e:
        return e.rcvd.code if e.rcvd is not None else None
    except TimeoutError:
        return "timeout"


def pair(port, rng, phone_hex_case="lower"):
    """Phone on /cable/new/, desktop on /cable/connect/; returns (phone, desktop, routing id, subprotocols)."""
    tunnel = new_tunnel_id(rng)
    tunnel_hex = tunnel.hex() if phone_hex_case == "lower" else tunnel.hex().upper()
    phone = ws_connect(port, f"/cable/new/{tunnel_hex}")
    routing = phone.response.headers["X-caBLE-Routing-ID"]
    desktop = ws_connect(port, f"/cable/connect/{routing}/{tunnel.hex().upper()}")
    return phone, desktop, routing, tunnel


# MARK: - Raw sockets


def raw_request(port, data, read_until_close=True, timeout=TIMEOUT):
    """Sends raw bytes, returns (status or None, seconds until the server closed)."""
    started = time.monotonic()
    with socket.create_connection((HOST, port), timeout=timeout) as s:
        if data:
            s.sendall(data)
        received = b""
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                received += chunk
                if not read_until_close and b"\r\n\r\n" in received:
                    break
        except (ConnectionResetError, socket.timeout):
            pass
    elapsed = time.monotonic() - started
    status = None
    if received.startswith(b"HTTP/1.1 "):
        status = int(received[9:12])
    return status, elapsed


def raw_handshake(port, path, key="dGhlIHNhbXBsZSBub25jZQ=="):
    """Opens a WebSocket by hand; returns (socket, response head text, bytes after the head)."""
    s = socket.create_connection((HOST, port), timeout=TIMEOUT)
    s.sendall(
        (
            f"GET {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: {SUBPROTOCOL}\r\n\r\n"
        ).encode()
    )
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = s.recv(65536)
        if not chunk:
            raise RuntimeError("closed during handshake")
        buf += chunk
    head, rest = buf.split(b"\r\n\r\n", 1)
    return s, head.decode(), rest


def read_frame(s, pending=b""):
    """Reads one frame; returns (fin, opcode, masked, payload, leftover)."""
    fin, opcode, masked, payload, leftover, _ = read_frame_with_header(s, pending)
    return fin, opcode, masked, payload, leftover


def read_frame_with_header(s, pending=b""):
    """Reads one frame; returns (fin, opcode, masked, payload, leftover, header bytes)."""
    buf = pending

    def need(n):
        nonlocal buf
        while len(buf) < n:
            chunk = s.recv(65536)
            if not chunk:
                raise EOFError("closed")
            buf += chunk

    need(2)
    b0, b1 = buf[0], buf[1]
    length = b1 & 0x7F
    offset = 2
    if length == 126:
        need(4)
        length = struct.unpack(">H", buf[2:4])[0]
        offset = 4
    elif length == 127:
        need(10)
        length = struct.unpack(">Q", buf[2:10])[0]
        offset = 10
    masked = bool(b1 & 0x80)
    if masked:
        need(offset + 4)
        offset += 4
    need(offset + length)
    payload = buf[offset : offset + length]
    return bool(b0 & 0x80), b0 & 0x0F, masked, payload, buf[offset + length :], buf[:offset]


def masked_frame(opcode, payload, fin=True, mask=None):
    mask = mask or os.urandom(4)
    header = bytes([(0x80 if fin else 0) | opcode])
    n = len(payload)
    if n < 126:
        header += bytes([0x80 | n])
    elif n < 65536:
        header += bytes([0x80 | 126]) + struct.pack(">H", n)
    else:
        header += bytes([0x80 | 127]) + struct.pack(">Q", n)
    return header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


# MARK: - Scenarios


def digest(message):
    """What a message was, for the Swift side to compare: its type, length and SHA-256. The script
    reports observations only; every verdict is the test's."""
    if isinstance(message, (bytes, bytearray)):
        return {"type": "binary", "length": len(message), "sha256": hashlib.sha256(message).hexdigest()}
    return {"type": type(message).__name__, "length": len(message), "sha256": hashlib.sha256(str(message).encode()).hexdigest()}


def scenario_pair_forward(port, rng):
    phone, desktop, routing, tunnel = pair(port, rng)
    sizes_to_phone = [81, 256, 1 << 20]
    sizes_to_desktop = [81, 1000, 70000]
    to_phone = [os.urandom(n) for n in sizes_to_phone]
    to_desktop = [os.urandom(n) for n in sizes_to_desktop]
    for m in to_phone:
        desktop.send(m)
    got_phone = [phone.recv(timeout=TIMEOUT) for _ in to_phone]
    for m in to_desktop:
        phone.send(m)
    got_desktop = [desktop.recv(timeout=TIMEOUT) for _ in to_desktop]
    desktop.close()
    phone_close = close_code_of(phone)
    return {
        "phoneSubprotocol": phone.subprotocol,
        "desktopSubprotocol": desktop.subprotocol,
        "routingHeader": routing,
        "sentToPhone": [digest(m) for m in to_phone],
        "phoneReceived": [digest(m) for m in got_phone],
        "sentToDesktop": [digest(m) for m in to_desktop],
        "desktopReceived": [digest(m) for m in got_desktop],
        "phoneCloseCode": phone_close,
    }


def scenario_held_frames(port, rng):
    tunnel = new_tunnel_id(rng)
    phone = ws_connect(port, f"/cable/new/{tunnel.hex()}")
    routing = phone.response.headers["X-caBLE-Routing-ID"]
    early = [os.urandom(50 + i) for i in range(3)]
    for m in early:
        phone.send(m)
    time.sleep(0.1)
    desktop = ws_connect(port, f"/cable/connect/{routing.lower()}/{tunnel.hex()}")
    got = [desktop.recv(timeout=TIMEOUT) for _ in early]
    late = os.urandom(40)
    phone.send(late)
    got_late = desktop.recv(timeout=TIMEOUT)
    phone.close()
    return {
        "sentEarly": [digest(m) for m in early],
        "sentLate": digest(late),
        "desktopReceived": [digest(m) for m in got + [got_late]],
        "desktopCloseCode": close_code_of(desktop),
    }


def scenario_refusals(port, rng):
    phone = ws_connect(port, f"/cable/new/{new_tunnel_id(rng).hex()}")
    routing = phone.response.headers["X-caBLE-Routing-ID"]
    live = phone.request.path.rsplit("/", 1)[1]
    other_routing = "%06X" % ((int(routing, 16) + 1) % 0x1000000)
    result = {
        "noSubprotocol": status_of(port, f"/cable/new/{new_tunnel_id(rng).hex()}", subprotocols=()),
        "otherSubprotocol": status_of(port, f"/cable/new/{new_tunnel_id(rng).hex()}", subprotocols=("chat",)),
        "unknownTunnel": status_of(port, f"/cable/connect/{routing}/{new_tunnel_id(rng).hex()}"),
        "wrongRoutingID": status_of(port, f"/cable/connect/{other_routing}/{live}"),
        "duplicateNew": status_of(port, f"/cable/new/{live}"),
        "contact": status_of(port, "/cable/contact/AAECAwQ"),
        "malformed": {
            path: status_of(port, path)
            for path in [
                "/cable/new/00",
                "/cable/new/" + "g" * 32,
                "/cable/connect/ABCD/" + "00" * 16,
                "/cable/connect/" + "00" * 16,
                "/cable/new/" + "00" * 16 + "/extra",
                "/cable/new/" + "00" * 16 + "?x=1",
                "/cable/",
                "/",
                "/other/path",
            ]
        },
    }
    # A second desktop for a tunnel that already has one.
    desktop = ws_connect(port, f"/cable/connect/{routing}/{live}")
    result["secondJoin"] = status_of(port, f"/cable/connect/{routing}/{live}")
    desktop.close()
    phone.close()
    return result


def scenario_method(port, rng):
    path = f"/cable/new/{new_tunnel_id(rng).hex()}"
    upgrade = (
        "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        f"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: {SUBPROTOCOL}\r\n"
    )
    statuses = {}
    for method in ["POST", "PUT", "DELETE", "HEAD"]:
        req = f"{method} {path} HTTP/1.1\r\nHost: x\r\n{upgrade}Content-Length: 0\r\n\r\n".encode()
        statuses[method], _ = raw_request(port, req, read_until_close=False)
    plain, _ = raw_request(port, f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode(), read_until_close=False)
    return {"methods": statuses, "plainGet": plain}


def scenario_oversized_frame(port, rng):
    phone, desktop, _, _ = pair(port, rng)
    phone.send(os.urandom((1 << 20) + 1))
    return {"senderCloseCode": close_code_of(phone), "peerCloseCode": close_code_of(desktop)}


def scenario_oversized_fragmented(port, rng):
    phone, desktop, _, _ = pair(port, rng)
    chunk = os.urandom(1 << 18)
    phone.send([chunk] * 5)  # 1.25 MiB in five fragments
    return {"senderCloseCode": close_code_of(phone), "peerCloseCode": close_code_of(desktop)}


def scenario_fragmented_ok(port, rng):
    phone, desktop, _, _ = pair(port, rng)
    parts = [os.urandom(10000) for _ in range(10)]
    phone.send(parts)
    got = desktop.recv(timeout=TIMEOUT)
    exact = os.urandom(1 << 20)
    phone.send([exact[i : i + (1 << 16)] for i in range(0, len(exact), 1 << 16)])
    got_exact = desktop.recv(timeout=TIMEOUT)
    phone.close()
    desktop.close()
    return {
        "sentFragments": [digest(p) for p in parts],
        "sentWhole": digest(b"".join(parts)),
        "received": digest(got),
        "sentAtLimit": digest(exact),
        "receivedAtLimit": digest(got_exact),
    }


def scenario_text_frame(port, rng):
    phone, desktop, _, _ = pair(port, rng)
    desktop.send("hello")
    return {"senderCloseCode": close_code_of(desktop), "peerCloseCode": close_code_of(phone)}


def scenario_abrupt_disconnect(port, rng):
    phone, desktop, _, _ = pair(port, rng)
    desktop.send(b"\x01" * 10)
    phone.recv(timeout=TIMEOUT)
    phone.close_socket()
    return {"peerCloseCode": close_code_of(desktop)}


def scenario_ping_flood(port, rng, limit):
    phone, desktop, _, _ = pair(port, rng)
    answered = 0
    for i in range(limit):
        if phone.ping(b"p%d" % i).wait(TIMEOUT):
            answered += 1
    # One more than the window allows.
    phone.ping(b"over")
    return {"answered": answered, "senderCloseCode": close_code_of(phone), "peerCloseCode": close_code_of(desktop)}


def scenario_garbage(port, rng):
    tls_hello = bytes.fromhex("16030100a5010000a10303") + os.urandom(64)
    binary, binary_seconds = raw_request(port, tls_hello + b"\r\n\r\n")
    request_line, line_seconds = raw_request(port, b"HELLO WORLD\r\n\r\n")
    return {"binaryGarbage": binary, "badRequestLine": request_line, "slowestClose": max(binary_seconds, line_seconds)}


def scenario_slowloris(port, rng):
    started = time.monotonic()
    with socket.create_connection((HOST, port), timeout=TIMEOUT) as s:
        s.sendall(b"GET /cable/new/")
        end = "open"
        try:
            while True:
                if not s.recv(1024):
                    end = "eof"
                    break
        except ConnectionResetError:
            end = "reset"
        except socket.timeout:
            end = "timeout"
    return {"end": end, "seconds": time.monotonic() - started}


def scenario_head_too_large(port, rng):
    path = f"/cable/new/{new_tunnel_id(rng).hex()}"
    big = f"GET {path} HTTP/1.1\r\nHost: x\r\nX-Filler: {'a' * 20000}\r\n\r\n".encode()
    status, _ = raw_request(port, big, read_until_close=False)
    return {"status": status}


def scenario_unmasked_frame(port, rng):
    tunnel = new_tunnel_id(rng)
    phone = ws_connect(port, f"/cable/new/{tunnel.hex()}")
    routing = phone.response.headers["X-caBLE-Routing-ID"]
    s, head, rest = raw_handshake(port, f"/cable/connect/{routing}/{tunnel.hex()}")
    s.sendall(bytes([0x82, 3]) + b"abc")  # binary, FIN, no mask bit
    _, opcode, _, payload, _ = read_frame(s, rest)
    s.close()
    code = struct.unpack(">H", payload[:2])[0] if opcode == 8 and len(payload) >= 2 else None
    return {"opcode": opcode, "closeCode": code, "peerCloseCode": close_code_of(phone)}


def scenario_raw_exchange(port, rng, key, frames, phone_sizes):
    """A hand-made desktop: handshake with `key`, receive what the phone sends, then write `frames`
    (hex, exactly as given) followed by a masked binary probe; report everything observed."""
    tunnel = new_tunnel_id(rng)
    phone = ws_connect(port, f"/cable/new/{tunnel.hex()}")
    routing = phone.response.headers["X-caBLE-Routing-ID"]
    s, head, pending = raw_handshake(port, f"/cable/connect/{routing}/{tunnel.hex()}", key=key)
    lines = head.split("\r\n")
    accept = [l.split(":", 1)[1].strip() for l in lines[1:] if l.lower().startswith("sec-websocket-accept:")]
    result = {"status": int(lines[0][9:12]), "accept": accept}

    headers = []
    for n in phone_sizes:
        sent = os.urandom(n)
        phone.send(sent)
        _, opcode, masked, payload, pending, header = read_frame_with_header(s, pending)
        headers.append({"header": header.hex(), "opcode": opcode, "masked": masked, "sent": digest(sent), "received": digest(payload)})
    result["relayedFrames"] = headers

    for f in frames:
        s.sendall(bytes.fromhex(f))
    probe = b"probe after the frames"
    s.sendall(masked_frame(2, probe))
    # The phone's outcome comes first: the probe reaching it (or its connection ending) shows the
    # relay has dealt with every frame before the probe, so what it answered is already on its way
    # and a short wait for "nothing back" suffices; no fixed wait races a loaded machine.
    try:
        got = phone.recv(timeout=TIMEOUT)
        result["phoneReceived"] = got.hex() if isinstance(got, bytes) else {"text": got}
    except (ConnectionClosed, TimeoutError) as e:
        result["phoneReceived"] = None
        result["phoneEnded"] = type(e).__name__
    s.settimeout(2.0 if result["phoneReceived"] is not None else TIMEOUT)
    frames_back = []
    try:
        while True:
            _, opcode, masked, payload, pending = read_frame(s, pending)
            frames_back.append({"opcode": opcode, "masked": masked, "payload": payload.hex()})
            if opcode == 8:
                break
    except (EOFError, socket.timeout, ConnectionResetError):
        pass
    result["framesBack"] = frames_back
    result["probe"] = probe.hex()
    if frames_back and frames_back[-1]["opcode"] == 8:
        result["phoneCloseCode"] = close_code_of(phone)
    s.close()
    phone.close()
    return result


def scenario_idle_sockets(port, rng, count):
    """`count` connections that send half a request head and stall, while a real tunnel is used;
    then waits until the relay has closed every stalled connection."""
    started = time.monotonic()
    sockets = []
    for _ in range(count):
        s = socket.create_connection((HOST, port), timeout=TIMEOUT)
        s.sendall(b"GET /cable/new/")
        sockets.append(s)
    opened = time.monotonic() - started
    phone, desktop, _, _ = pair(port, rng)
    marker = os.urandom(16)
    desktop.send(marker)
    served = phone.recv(timeout=TIMEOUT)
    desktop.close()
    phone.close()
    closed = 0
    for s in sockets:
        try:
            if not s.recv(1024):
                closed += 1
        except (ConnectionResetError, socket.timeout):
            closed += 1
        s.close()
    return {"opened": count, "openSeconds": opened, "sentMeanwhile": marker.hex(),
            "receivedMeanwhile": served.hex() if isinstance(served, bytes) else None, "closedByRelay": closed,
            "seconds": time.monotonic() - started}


def scenario_many_tunnels(port, rng, count):
    """`count` tunnels open at once, each exchanging one message per direction, from threads."""
    results = []
    lock = threading.Lock()
    barrier = threading.Barrier(count, timeout=60)

    def run():
        try:
            phone, desktop, _, _ = pair(port, rng)
            barrier.wait()  # all tunnels are open together before any traffic
            ping, pong = os.urandom(64), os.urandom(64)
            desktop.send(ping)
            got_ping = phone.recv(timeout=30)
            phone.send(pong)
            got_pong = desktop.recv(timeout=30)
            desktop.close()
            observed = {
                "sent": [digest(ping), digest(pong)],
                "received": [digest(got_ping), digest(got_pong)],
                "phoneCloseCode": close_code_of(phone),
            }
            with lock:
                results.append(observed)
        except Exception as e:  # noqa: BLE001 (reported as a failed tunnel)
            with lock:
                results.append(repr(e))

    threads = [threading.Thread(target=run) for _ in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(90)
    return {
        "tunnels": [r for r in results if isinstance(r, dict)],
        "failures": [r for r in results if not isinstance(r, dict)][:5],
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("scenario")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--limit", type=int, default=0)
    parser.add_argument("--key", default="dGhlIHNhbXBsZSBub25jZQ==")
    parser.add_argument("--frames", default="", help="comma-separated hex frames (raw-exchange)")
    parser.add_argument("--phone-sends", default="", help="comma-separated message sizes (raw-exchange)")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    scenarios = {
        "pair-forward": lambda: scenario_pair_forward(args.port, rng),
        "held-frames": lambda: scenario_held_frames(args.port, rng),
        "refusals": lambda: scenario_refusals(args.port, rng),
        "method": lambda: scenario_method(args.port, rng),
        "oversized-frame": lambda: scenario_oversized_frame(args.port, rng),
        "oversized-fragmented": lambda: scenario_oversized_fragmented(args.port, rng),
        "fragmented-ok": lambda: scenario_fragmented_ok(args.port, rng),
        "text-frame": lambda: scenario_text_frame(args.port, rng),
        "abrupt-disconnect": lambda: scenario_abrupt_disconnect(args.port, rng),
        "ping-flood": lambda: scenario_ping_flood(args.port, rng, args.limit),
        "garbage": lambda: scenario_garbage(args.port, rng),
        "slowloris": lambda: scenario_slowloris(args.port, rng),
        "head-too-large": lambda: scenario_head_too_large(args.port, rng),
        "unmasked-frame": lambda: scenario_unmasked_frame(args.port, rng),
        "many-tunnels": lambda: scenario_many_tunnels(args.port, rng, args.limit),
        "idle-sockets": lambda: scenario_idle_sockets(args.port, rng, args.limit),
        "raw-exchange": lambda: scenario_raw_exchange(
            args.port,
            rng,
            args.key,
            [f for f in args.frames.split(",") if f],
            [int(n) for n in args.phone_sends.split(",") if n],
        ),
    }
    if args.scenario not in scenarios:
        print(json.dumps({"error": f"unknown scenario {args.scenario}"}))
        sys.exit(1)
    try:
        result = scenarios[args.scenario]()
    except Exception as e:  # noqa: BLE001 (the Swift test shows it)
        print(json.dumps({"error": repr(e)}))
        sys.exit(1)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
