# Device and capture problems, in words for a field operator: what happened and what to do.
# Every id here also exists in ../id/problems.ftl.
# $device is one of problem-role-* (always at the start of a sentence).

problem-role-camera = The camera
problem-role-scanner = The fingerprint scanner
problem-role-pad = The signature pad
problem-role-gps = The GPS receiver
problem-role-none = The device

problem-unplugged = { $device } is not connected. Plug its USB cable in (check the cable and the USB hub too), then try again.
problem-busy = { $device } is being used by another program. Close that program, then try again.
problem-busy-holder = { $device } is being used by another program ({ $holder }). Close that program, then try again.
problem-no-permission = { $device } cannot be opened because this laptop account has no permission yet. Ask a technician to grant it (jemput's udev rules), then try again.
problem-wrong-device = { $device } chosen does not fit this step. Choose the right device (or ask a technician to check it), then try again.
problem-device-fault = { $device } ran into a fault. Unplug its cable, wait five seconds, plug it in again, then try again.
problem-timeout-finger = No finger on the scanner. Ask the resident to place the finger flat on the scanner glass, then try again.
problem-timeout-signature = No signature on the pad yet. Ask the resident to sign with the pen tip touching the pad, then try again, or record that the resident cannot sign.
problem-timeout-photo = The camera took no photo. Check that the camera is on, its lens uncovered and the light sufficient, then try again.
problem-timeout-fix = The GPS receiver has not found a location yet. Take it to open sky and wait a moment, or continue without a location.
problem-cancelled = The capture was cancelled. What was already captured is kept. Try again when ready.
problem-bad-data = { $device } sent damaged data. Take it once more; if it keeps happening, unplug the device and plug it in again.
problem-poor-quality = The result is not good enough yet. Take it again; if it still does not work, record an exception with its reason.
problem-storage = The data cannot be saved on the laptop (the disk is full or failing). What was already saved is safe. Ask a technician to free disk space, then try again.
problem-other = Something went wrong. Show the message for the technician below to a technician, then try again.
