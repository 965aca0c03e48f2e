#ifndef CCABLE_DBUS_SHIM_H
#define CCABLE_DBUS_SHIM_H

// libdbus-1, the reference D-Bus client library (pkg-config `dbus-1`). Only CableBlueZ imports it.
#include <dbus/dbus.h>

#endif
