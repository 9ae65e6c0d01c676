# The device panel and the messages about device problems.

devices-title = Devices
devices-open-panel = Open the device panel
devices-simulated = Training: these devices are device models, not real hardware.
devices-busy-with = In use for the step { $step }.
devices-role = Role
devices-device = Device
devices-state = State
devices-none = none
devices-when-opened = Devices are opened when a visit's capture step page opens, and closed when the kit locks.
device-role-camera = Camera
device-role-scanner = Fingerprint scanner
device-role-pad = Signature pad
device-role-gps = GPS receiver
device-state-ready = ready
device-state-busy = in use
device-state-missing = not found
device-state-fault = failed
device-state-closed = not opened yet
device-problem-detail = For the technician: { $detail }
