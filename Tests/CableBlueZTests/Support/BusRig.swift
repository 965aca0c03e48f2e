import CableTestSupport

// The private dbus-daemon with the BlueZ stand-in lives in CableTestSupport, where the conformance
// kit's BlueZ runs use it too; these names keep this target's tests as they were written.
typealias BusRig = BlueZStandInRig
typealias RigFailure = StandInRigFailure
