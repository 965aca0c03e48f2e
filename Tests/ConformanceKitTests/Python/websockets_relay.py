"""A minimal caBLE tunnel service on the Python `websockets` library (another author's WebSocket
implementation), for checking that the conformance kit's relay suite judges a relay it did not
grow up with: every relay.* scenario should pass against it.

Usage: websockets_relay.py  -> prints "PORT <n>" once listening on 127.0.0.1, serves until killed.

Rules (those of docs/conformance.md): /cable/new/<32 hex> registers a tunnel and answers
X-caBLE-Routing-ID; /cable/connect/<6 hex>/<32 hex> joins it (404 unknown, 409 a third client);
fido.cable is selected; messages sent before the peer joins are queued and delivered in order;
text frames close the sender with 1003; websockets itself closes a message over 1 MiB with 1009;
when one side goes, the other is closed with 1000.
"""

import asyncio
import re
import sys

from websockets.asyncio.server import serve
from websockets.exceptions import ConnectionClosed

ROUTING_ID = "2A0000"
NEW = re.compile(r"^/cable/new/([0-9A-Fa-f]{32})$")
CONNECT = re.compile(r"^/cable/connect/([0-9A-Fa-f]{6})/([0-9A-Fa-f]{32})$")

tunnels = {}


class Tunnel:
    def __init__(self, phone):
        self.phone = phone
        self.desktop = None
        self.queue = []
        self.joined = False


async def process_request(connection, request):
    path = request.path
    if NEW.match(path):
        if NEW.match(path).group(1).upper() in tunnels:
            return connection.respond(409, "tunnel exists\n")
        return None
    match = CONNECT.match(path)
    if match:
        tunnel = tunnels.get(match.group(2).upper())
        if match.group(1).upper() != ROUTING_ID or tunnel is None:
            return connection.respond(404, "unknown tunnel\n")
        if tunnel.joined:
            return connection.respond(409, "tunnel already joined\n")
        tunnel.joined = True
        return None
    return connection.respond(404, "unknown path\n")


def process_response(connection, request, response):
    if NEW.match(request.path) and response.status_code == 101:
        response.headers["X-caBLE-Routing-ID"] = ROUTING_ID
    return None


async def pump(source, deliver, peer_getter):
    try:
        async for message in source:
            if isinstance(message, str):
                await source.close(1003, "binary messages only")
                break
            await deliver(message)
    except ConnectionClosed:
        pass
    peer = peer_getter()
    if peer is not None:
        await peer.close(1000, "remote peer cleanly disconnected")


async def handler(websocket):
    path = websocket.request.path
    new = NEW.match(path)
    if new:
        key = new.group(1).upper()
        tunnel = Tunnel(websocket)
        tunnels[key] = tunnel

        async def to_desktop(message):
            if tunnel.desktop is None:
                tunnel.queue.append(message)
            else:
                await tunnel.desktop.send(message)

        try:
            await pump(websocket, to_desktop, lambda: tunnel.desktop)
        finally:
            tunnels.pop(key, None)
        return
    match = CONNECT.match(path)
    tunnel = tunnels.get(match.group(2).upper())
    while tunnel.queue:
        await websocket.send(tunnel.queue.pop(0))
    tunnel.desktop = websocket
    await pump(websocket, tunnel.phone.send, lambda: tunnel.phone)


async def main():
    async with serve(
        handler, "127.0.0.1", 0, subprotocols=["fido.cable"], max_size=1 << 20,
        process_request=process_request, process_response=process_response,
    ) as server:
        port = server.sockets[0].getsockname()[1]
        print(f"PORT {port}", flush=True)
        await asyncio.Future()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
