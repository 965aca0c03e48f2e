"""An independent sender and receiver for the UDP advert bus, driven by UDPAdvertBusTests.

  udp_advert.py send --port P HEX [HEX...]      sends each hex string as one datagram to 127.0.0.1:P
  udp_advert.py receive --count N [--timeout S] binds 127.0.0.1:0, prints "PORT <n>", then one JSON
                                                line {"datagrams": [hex, ...]} after N datagrams or S s
"""

import argparse
import json
import socket
import time


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["send", "receive"])
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--count", type=int, default=1)
    p.add_argument("--timeout", type=float, default=5.0)
    p.add_argument("payloads", nargs="*")
    args = p.parse_intermixed_args()

    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    if args.mode == "send":
        for payload in args.payloads:
            s.sendto(bytes.fromhex(payload), ("127.0.0.1", args.port))
            time.sleep(0.01)
        print(json.dumps({"sent": len(args.payloads)}))
        return

    s.bind(("127.0.0.1", 0))
    print(f"PORT {s.getsockname()[1]}", flush=True)
    deadline = time.monotonic() + args.timeout
    datagrams = []
    while len(datagrams) < args.count and time.monotonic() < deadline:
        s.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            data, _ = s.recvfrom(65536)
        except socket.timeout:
            break
        datagrams.append(data.hex())
    print(json.dumps({"datagrams": datagrams}))


if __name__ == "__main__":
    main()
