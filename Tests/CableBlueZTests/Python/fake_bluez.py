"""A stand-in for bluetoothd on a private D-Bus bus, written on dbus-next (a pure-Python D-Bus
implementation, independent of libdbus which the code under test uses).

It owns org.bluez and plays the parts of BlueZ 5's API that the caBLE radio touches:
  - org.freedesktop.DBus.ObjectManager.GetManagedObjects at "/" (adapter hci0, devices);
  - org.bluez.Adapter1 at /org/bluez/hci0: Powered, SetDiscoveryFilter, StartDiscovery, StopDiscovery;
  - org.bluez.LEAdvertisingManager1 at /org/bluez/hci0: RegisterAdvertisement reads the client's
    advertisement as bluetoothd does (GetManagedObjects on the object, then
    org.freedesktop.DBus.Properties.GetAll "org.bluez.LEAdvertisement1"), checks it, and hands its
    service data to a Device1 that a desktop on the same bus discovers (InterfacesAdded, or
    PropertiesChanged on a device already there); UnregisterAdvertisement takes it down.
  - org.bluez.Device1 objects: from --devices (present at start) and from JSON lines on stdin:
      {"op": "add", "path": "dev_X", "props": {...}}     -> InterfacesAdded
      {"op": "change", "path": "dev_X", "props": {...}}  -> PropertiesChanged
    where each property is {"sig": "<signature>", "value": <json>} ("ay" takes a hex string, "a{sv}"
    a dict of such properties): malformed types and lengths are written exactly as asked.

Every method call it receives is appended to --record as one JSON line
{"member", "interface", "path", "sender", ...}; the tests read it to check what was called.

Scenarios (--scenario): normal, powered-off (Powered false; StartDiscovery answers NotReady),
no-adapter (no Adapter1 at all), no-advertising (no LEAdvertisingManager1), advert-refused
(RegisterAdvertisement answers org.bluez.Error.NotPermitted "Maximum advertisements reached"),
phone-changed (the phone's device appears without service data when discovery starts; its advert
arrives later through PropertiesChanged).
"""

import argparse
import asyncio
import json
import sys

from dbus_next import BusType, Message, MessageType, Variant
from dbus_next.aio import MessageBus

ADAPTER = "/org/bluez/hci0"
FIDO = "0000fff9-0000-1000-8000-00805f9b34fb"


def to_variant(spec):
    sig = spec["sig"]
    value = spec["value"]
    if sig == "ay":
        return Variant("ay", bytes.fromhex(value))
    if sig == "a{sv}":
        return Variant("a{sv}", {k: to_variant(v) for k, v in value.items()})
    return Variant(sig, value)


def props_from(spec):
    return {k: to_variant(v) for k, v in spec.items()}


class FakeBlueZ:
    def __init__(self, bus, scenario, record_path):
        self.bus = bus
        self.scenario = scenario
        self.record = open(record_path, "a", buffering=1)
        self.devices = {}
        self.discovering = set()
        self.adverts = {}
        self.phone_path = ADAPTER + "/dev_CA_B1_E0_00_00_01"

    def log(self, entry):
        self.record.write(json.dumps(entry) + "\n")

    def objects(self):
        out = {}
        if self.scenario != "no-adapter":
            interfaces = {
                "org.bluez.Adapter1": {
                    "Address": Variant("s", "00:11:22:33:44:55"),
                    "Powered": Variant("b", self.scenario != "powered-off"),
                    "Discovering": Variant("b", bool(self.discovering)),
                }
            }
            if self.scenario != "no-advertising":
                interfaces["org.bluez.LEAdvertisingManager1"] = {"SupportedInstances": Variant("y", 4)}
            out[ADAPTER] = interfaces
        for path, props in self.devices.items():
            out[path] = {"org.bluez.Device1": props}
        return out

    def add_device(self, path, props):
        self.devices[path] = dict(props)
        self.bus.send(Message.new_signal("/", "org.freedesktop.DBus.ObjectManager", "InterfacesAdded",
                                         "oa{sa{sv}}", [path, {"org.bluez.Device1": props}]))

    def change_device(self, path, props):
        self.devices.setdefault(path, {}).update(props)
        self.bus.send(Message.new_signal(path, "org.freedesktop.DBus.Properties", "PropertiesChanged",
                                         "sa{sv}as", ["org.bluez.Device1", props, []]))

    def handle(self, msg):
        if msg.message_type != MessageType.METHOD_CALL:
            return None
        entry = {"member": msg.member, "interface": msg.interface, "path": msg.path, "sender": msg.sender}
        if msg.member == "SetDiscoveryFilter" and msg.body:
            entry["filter"] = {k: v.value for k, v in msg.body[0].items()}
        self.log(entry)
        key = (msg.interface, msg.member)
        if key == ("org.freedesktop.DBus.ObjectManager", "GetManagedObjects") and msg.path == "/":
            return Message.new_method_return(msg, "a{oa{sa{sv}}}", [self.objects()])
        if msg.path != ADAPTER or self.scenario == "no-adapter":
            return Message.new_error(msg, "org.freedesktop.DBus.Error.UnknownObject", "no such object")
        if key == ("org.bluez.Adapter1", "SetDiscoveryFilter"):
            return Message.new_method_return(msg)
        if key == ("org.bluez.Adapter1", "StartDiscovery"):
            if self.scenario == "powered-off":
                return Message.new_error(msg, "org.bluez.Error.NotReady", "Resource Not Ready")
            self.discovering.add(msg.sender)
            if self.scenario == "phone-changed" and self.phone_path not in self.devices:
                self.add_device(self.phone_path, {"Address": Variant("s", "CA:B1:E0:00:00:01"), "RSSI": Variant("n", -50)})
            return Message.new_method_return(msg)
        if key == ("org.bluez.Adapter1", "StopDiscovery"):
            if msg.sender not in self.discovering:
                return Message.new_error(msg, "org.bluez.Error.Failed", "No discovery started")
            self.discovering.discard(msg.sender)
            return Message.new_method_return(msg)
        if self.scenario != "no-advertising" and msg.interface == "org.bluez.LEAdvertisingManager1":
            if msg.member == "RegisterAdvertisement":
                asyncio.ensure_future(self.register(msg))
                return True
            if msg.member == "UnregisterAdvertisement":
                k = (msg.sender, msg.body[0])
                if k not in self.adverts:
                    return Message.new_error(msg, "org.bluez.Error.DoesNotExist", "Does Not Exist")
                del self.adverts[k]
                return Message.new_method_return(msg)
        return Message.new_error(msg, "org.freedesktop.DBus.Error.UnknownMethod", "unknown method")

    async def register(self, msg):
        if self.scenario == "advert-refused":
            self.bus.send(Message.new_error(msg, "org.bluez.Error.NotPermitted", "Maximum advertisements reached"))
            return
        path = msg.body[0]
        # As bluetoothd's GDBusClient does: ObjectManager first (an error is fine), then GetAll.
        await self.bus.call(Message(destination=msg.sender, path=path, interface="org.freedesktop.DBus.ObjectManager",
                                    member="GetManagedObjects"))
        reply = await self.bus.call(Message(destination=msg.sender, path=path, interface="org.freedesktop.DBus.Properties",
                                            member="GetAll", signature="s", body=["org.bluez.LEAdvertisement1"]))
        if reply.message_type != MessageType.METHOD_RETURN or reply.signature != "a{sv}":
            self.log({"member": "GetAll-failed", "error": reply.error_name})
            self.bus.send(Message.new_error(msg, "org.bluez.Error.Failed", "Failed to parse advertisement."))
            return
        props = reply.body[0]
        ad_type = props.get("Type")
        service_data = props.get("ServiceData")
        ok = ad_type is not None and ad_type.signature == "s" and ad_type.value == "broadcast" \
            and service_data is not None and service_data.signature == "a{sv}" \
            and all(v.signature == "ay" for v in service_data.value.values())
        if not ok:
            self.log({"member": "advert-rejected"})
            self.bus.send(Message.new_error(msg, "org.bluez.Error.Failed", "Failed to parse advertisement."))
            return
        data = {k: v.value.hex() for k, v in service_data.value.items()}
        self.log({"member": "advert-read", "type": ad_type.value, "serviceData": data, "properties": sorted(props)})
        self.adverts[(msg.sender, path)] = data
        self.bus.send(Message.new_method_return(msg))
        # The desktop's radio hears it.
        sd = Variant("a{sv}", {k: Variant("ay", bytes.fromhex(v)) for k, v in data.items()})
        if self.phone_path in self.devices:
            self.change_device(self.phone_path, {"ServiceData": sd, "RSSI": Variant("n", -48)})
        else:
            self.add_device(self.phone_path, {"Address": Variant("s", "CA:B1:E0:00:00:01"), "ServiceData": sd})

    async def read_commands(self):
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader()
        try:
            await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
        except (OSError, ValueError):
            return  # stdin is not a pipe (e.g. /dev/null): no commands

        while True:
            line = await reader.readline()
            if not line:
                return
            command = json.loads(line)
            path = command["path"] if command["path"].startswith("/") else ADAPTER + "/" + command["path"]
            props = props_from(command["props"])
            if command["op"] == "add":
                self.add_device(path, props)
            else:
                self.change_device(path, props)
            print("DONE", flush=True)


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--address", required=True)
    parser.add_argument("--scenario", default="normal")
    parser.add_argument("--record", required=True)
    parser.add_argument("--devices", default=None)
    args = parser.parse_args()
    bus = await MessageBus(bus_address=args.address, bus_type=BusType.SYSTEM).connect()
    fake = FakeBlueZ(bus, args.scenario, args.record)
    if args.devices:
        with open(args.devices) as f:
            for d in json.load(f):
                fake.devices[ADAPTER + "/" + d["path"]] = props_from(d["props"])
    bus.add_message_handler(fake.handle)
    await bus.request_name("org.bluez")
    print("READY", flush=True)
    commands = asyncio.ensure_future(fake.read_commands())
    await bus.wait_for_disconnect()
    commands.cancel()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except (KeyboardInterrupt, BrokenPipeError):
        pass
