"""TLS WebSocket peers of another author (the `websockets` package over Python's `ssl`, i.e.
OpenSSL) for the tunnel client's and the relay's TLS tests.

  tls_websocket.py server --cert FILE --key FILE [--routing-id HEX]
      A caBLE-speaking wss:// service for one connection: selects the fido.cable subprotocol,
      answers X-caBLE-Routing-ID, sends every binary message it receives back reversed, and ends
      when the client closes. Prints "PORT <n>" once listening, then one JSON line:
      {"path": ..., "headers": [[name, value], ...], "subprotocol": ..., "received": [hex, ...]}.

  tls_websocket.py pair --port N --ca FILE [--host localhost]
      Both parties of a tunnel through a wss:// relay: the phone opens /cable/new/<id>, reads the
      routing ID, the desktop joins /cable/connect/<routing>/<id>, each sends one message. Prints
      {"routingID": ..., "subprotocol": ..., "phoneReceived": hex, "desktopReceived": hex,
       "tls": "<TLS version>"}.

  tls_websocket.py stall
      Accepts one TCP connection and never answers (a TLS peer that stalls). Prints "PORT <n>".

  tls_websocket.py stall-client --port N
      Connects to 127.0.0.1:N and sends nothing (a TLS client that stalls); prints
      {"closedAfter": seconds until the server closed, or null if it had not after 20 s}.
"""

import argparse
import asyncio
import json
import os
import socket
import ssl
import sys
import time

import websockets
from websockets.asyncio.client import connect
from websockets.asyncio.server import serve


async def run_server(args):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(args.cert, args.key)
    result = {"path": None, "headers": [], "subprotocol": None, "received": []}
    done = asyncio.get_running_loop().create_future()

    def process_response(connection, request, response):
        result["path"] = request.path
        result["headers"] = [[k, v] for k, v in request.headers.raw_items()]
        if response.status_code == 101:
            response.headers["X-caBLE-Routing-ID"] = args.routing_id
        return response

    async def handler(ws):
        result["subprotocol"] = ws.subprotocol
        try:
            async for message in ws:
                if isinstance(message, str):
                    await ws.close(1003)
                    break
                result["received"].append(message.hex())
                await ws.send(bytes(reversed(message)))
        except websockets.ConnectionClosed:
            pass
        if not done.done():
            done.set_result(None)

    async with serve(
        handler, "127.0.0.1", 0, ssl=context, subprotocols=["fido.cable"], process_response=process_response
    ) as server:
        port = server.sockets[0].getsockname()[1]
        print(f"PORT {port}", flush=True)
        await asyncio.wait_for(done, timeout=30)
    print(json.dumps(result), flush=True)


async def run_pair(args):
    context = ssl.create_default_context(cafile=args.ca)
    base = f"wss://{args.host}:{args.port}"
    tunnel = os.urandom(16).hex().upper()
    async with connect(f"{base}/cable/new/{tunnel}", ssl=context, subprotocols=["fido.cable"]) as phone:
        routing = phone.response.headers.get("X-caBLE-Routing-ID")
        tls_version = phone.transport.get_extra_info("ssl_object").version()
        async with connect(
            f"{base}/cable/connect/{routing}/{tunnel}", ssl=context, subprotocols=["fido.cable"]
        ) as desktop:
            await desktop.send(b"\x01\x02\x03")
            phone_received = await asyncio.wait_for(phone.recv(), 10)
            await phone.send(b"\x04\x05")
            desktop_received = await asyncio.wait_for(desktop.recv(), 10)
            subprotocol = phone.subprotocol
    print(
        json.dumps(
            {
                "routingID": routing,
                "subprotocol": subprotocol,
                "phoneReceived": phone_received.hex(),
                "desktopReceived": desktop_received.hex(),
                "tls": tls_version,
            }
        ),
        flush=True,
    )


def run_stall():
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(30)
    print(f"PORT {listener.getsockname()[1]}", flush=True)
    conn, _ = listener.accept()
    time.sleep(20)
    conn.close()
    print(json.dumps({"stalled": True}), flush=True)


def run_stall_client(args):
    conn = socket.create_connection(("127.0.0.1", args.port), timeout=20)
    started = time.monotonic()
    closed_after = None
    try:
        if conn.recv(1) == b"":
            closed_after = time.monotonic() - started
    except ConnectionResetError:
        closed_after = time.monotonic() - started
    except socket.timeout:
        pass
    conn.close()
    print(json.dumps({"closedAfter": closed_after}), flush=True)


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="mode", required=True)
    s = sub.add_parser("server")
    s.add_argument("--cert", required=True)
    s.add_argument("--key", required=True)
    s.add_argument("--routing-id", default="2A0000")
    c = sub.add_parser("pair")
    c.add_argument("--port", type=int, required=True)
    c.add_argument("--ca", required=True)
    c.add_argument("--host", default="localhost")
    sub.add_parser("stall")
    sc = sub.add_parser("stall-client")
    sc.add_argument("--port", type=int, required=True)
    args = p.parse_args()
    if args.mode == "server":
        asyncio.run(run_server(args))
    elif args.mode == "pair":
        asyncio.run(run_pair(args))
    elif args.mode == "stall":
        run_stall()
    else:
        run_stall_client(args)


if __name__ == "__main__":
    main()
