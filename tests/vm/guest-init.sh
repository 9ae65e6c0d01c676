#!/bin/sh
# /init of the VM tier's guest (tests/vm/run.sh builds the initramfs around it). Prints
# "@@ RESULT <check> pass|fail <detail>" and "@@ TIME <tool> <rc> <ms>" lines on the console,
# then powers off.
export PATH=/bin:/sbin:/usr/bin:/usr/local/bin
export LD_LIBRARY_PATH=/lib/x86_64-linux-gnu:/usr/lib/x86_64-linux-gnu
export HOME=/root
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tmpfs tmp /tmp
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null

# fd 3 is the console, also inside commands whose output goes to files.
exec 3>&1
result() { echo "@@ RESULT $*" >&3; }
finish() {
  echo "@@ DONE"
  poweroff -f
  sleep 10
}
uptime_ms() { # /proc/uptime has centiseconds
  cut -d' ' -f1 /proc/uptime | sed 's/\.//; s/$/0/; s/^0*//'
}
timed() { # timed <tool> <command…>: runs it, prints its exit code and wall time
  tool=$1
  shift
  t0=$(uptime_ms)
  "$@"
  rc=$?
  echo "@@ TIME $tool $rc $(($(uptime_ms) - t0))" >&3
  return $rc
}
is_jpeg() { # a JPEG of more than 1000 bytes
  [ -f "$1" ] && [ "$(head -c 2 "$1" | od -An -tx1 | tr -d ' ')" = "ffd8" ] && [ "$(wc -c <"$1")" -gt 1000 ]
}

# usbmon text traces (all buses), printed as base64 blocks the host can save as fixtures.
usbmon_pid=""
usbmon_start() {
  [ -e /sys/kernel/debug/usb/usbmon/0u ] || return 0
  cat /sys/kernel/debug/usb/usbmon/0u >"/tmp/usbmon-$1.txt" &
  usbmon_pid=$!
  sleep 0.2
}
usbmon_stop() {
  [ -n "$usbmon_pid" ] || return 0
  sleep 0.2
  kill "$usbmon_pid"
  usbmon_pid=""
  echo "@@ BEGIN usbmon $1" >&3
  base64 "/tmp/usbmon-$1.txt" >&3
  echo "@@ END usbmon $1" >&3
}

for m in $(cat /etc/modules.order); do
  insmod "/lib/modules/$m.ko" || echo "@@ insmod $m failed"
done
ip link set lo up
ip addr add 10.0.2.15/24 dev eth0
ip link set eth0 up
echo "@@ booted"

# Attach the host's camera model to vhci-hcd (jemput's own sysfs attach, no usbip tool).
# The virtio link can come up a moment after `ip link set up`: wait for it. QEMU's guestfwd
# reaches the host server over one connection it opened at start, so there is no second try.
for i in $(seq 50); do
  [ "$(cat /sys/class/net/eth0/operstate 2>/dev/null)" = up ] && break
  sleep 0.2
done
usbmon_start enumerate
if jemput usbip attach 10.0.2.100:3240 --busid 1-1; then
  result attach pass vhci port 0
else
  result attach fail "jemput usbip attach (link $(cat /sys/class/net/eth0/operstate))"
  dmesg | tail -n 20
  finish
fi
dev=""
for i in $(seq 100); do
  for d in /sys/bus/usb/devices/*; do
    [ -f "$d/idVendor" ] && [ "$(cat "$d/idVendor")" = "1209" ] && dev=$(basename "$d")
  done
  [ -n "$dev" ] && break
  sleep 0.2
done
if [ -z "$dev" ]; then
  result enumerate fail "no 1209:0001 device in /sys/bus/usb/devices"
  dmesg | tail -n 20
  finish
fi
busnum=$(cat /sys/bus/usb/devices/$dev/busnum)
devnum=$(cat /sys/bus/usb/devices/$dev/devnum)
node=$(printf '/dev/bus/usb/%03d/%03d' "$busnum" "$devnum")
if [ -e "$node" ] && [ "$(cat /sys/bus/usb/devices/$dev/$dev:1.0/bInterfaceClass)" = "06" ]; then
  result enumerate pass "$dev $(cat /sys/bus/usb/devices/$dev/product) at $node, interface class 06"
else
  result enumerate fail "$dev enumerated without $node or a class 06 interface"
fi
usbmon_stop enumerate

# The independent oracle: gphoto2 (libgphoto2's ptp2 camlib over libusb).
mkdir -p /tmp/out
cd /tmp/out
if gphoto2 --summary >/tmp/summary.txt 2>&1 && grep -q 'Simulated PTP camera' /tmp/summary.txt; then
  result gphoto2-summary pass "$(grep -m1 'Model:' /tmp/summary.txt | tr -s ' ')"
else
  result gphoto2-summary fail "see below"
  sed 's/^/@@ gphoto2: /' /tmp/summary.txt | head -n 30
fi
usbmon_start gphoto2-capture
if timed gphoto2 gphoto2 --capture-image-and-download --filename /tmp/out/gphoto2.jpg --force-overwrite >/tmp/capture.txt 2>&1 \
  && is_jpeg /tmp/out/gphoto2.jpg; then
  result gphoto2-capture pass "$(wc -c </tmp/out/gphoto2.jpg) byte JPEG"
else
  result gphoto2-capture fail "see below"
  sed 's/^/@@ gphoto2: /' /tmp/capture.txt | head -n 30
fi
usbmon_stop gphoto2-capture

# jemput's own PTP driver through rusb/libusb and the guest kernel, selected by port path.
usbmon_start jemput-capture
if timed jemput jemput capture face "usb:$dev" --out /tmp/out/jemput.jpg --json --timeout 120 >/tmp/jemput.json 2>/tmp/jemput.err \
  && is_jpeg /tmp/out/jemput.jpg; then
  result jemput-capture pass "$(wc -c </tmp/out/jemput.jpg) byte JPEG; capture_ms $(grep -o '"capture_ms": *[0-9]*' /tmp/jemput.json | grep -o '[0-9]*$')"
else
  result jemput-capture fail "see below"
  sed 's/^/@@ jemput: /' /tmp/jemput.err | head -n 30
fi
usbmon_stop jemput-capture

# The U.are.U reader model from the host's second server (vhci port 1), driven by jemput's
# uru4000 driver through rusb and the guest kernel, selected by port path.
if jemput usbip attach 10.0.2.100:3241 --busid 1-1 >/tmp/attach2.txt 2>&1; then
  result attach-uru4000 pass "$(cat /tmp/attach2.txt)"
else
  result attach-uru4000 fail "$(cat /tmp/attach2.txt)"
  finish
fi
uru=""
for i in $(seq 100); do
  for d in /sys/bus/usb/devices/*; do
    [ -f "$d/idVendor" ] && [ "$(cat "$d/idVendor")" = "05ba" ] && uru=$(basename "$d")
  done
  [ -n "$uru" ] && break
  sleep 0.2
done
if [ -z "$uru" ]; then
  result jemput-uru4000 fail "no 05ba device in /sys/bus/usb/devices"
  dmesg | tail -n 20
  finish
fi
usbmon_start uru4000-capture
if timed jemput-uru4000 jemput capture finger "usb:$uru" --out /tmp/out/finger.png --json --timeout 120 >/tmp/uru.json 2>/tmp/uru.err \
  && grep -q '"width": *384' /tmp/uru.json && grep -q '"height": *290' /tmp/uru.json; then
  result jemput-uru4000 pass "$uru $(cat /sys/bus/usb/devices/$uru/product), speed $(cat /sys/bus/usb/devices/$uru/speed) Mbit/s, 384 x 290; capture_ms $(grep -o '"capture_ms": *[0-9]*' /tmp/uru.json | grep -o '[0-9]*$')"
else
  result jemput-uru4000 fail "see below"
  sed 's/^/@@ jemput: /' /tmp/uru.err /tmp/uru.json | head -n 30
fi
usbmon_stop uru4000-capture
# ---- umock: usbmon pcap recording for the umockdev replay tier (tests/umockdev_replay.rs) ----
# Only when run.sh put /etc/jemput-pcap into the initramfs (JEMPUT_VM_PCAP_DIR). For each device:
# umockdev-record of its sysfs description (with /bin/udevadm, a shim that reports what udevadm
# would without udevd: the kernel's uevent), then tcpdump on usbmon1 (binary, link type
# USB_LINUX_MMAPPED) around one `jemput capture`, then the SHA-256 of what jemput wrote. All three
# go to the console as base64 blocks.
pcap_record() { # pcap_record <name> <sysfs name> <jemput capture args…>
  name=$1
  sysname=$2
  shift 2
  umockdev-record "/sys/bus/usb/devices/$sysname" >"/tmp/$name.umockdev" 2>"/tmp/$name.record.err"
  record_rc=$?
  tcpdump -Z root -U -i usbmon1 -s 0 -w "/tmp/$name.pcap" 2>"/tmp/$name.tcpdump.err" &
  tcpdump_pid=$!
  for i in $(seq 100); do
    grep -q 'listening on' "/tmp/$name.tcpdump.err" && break
    sleep 0.1
  done
  jemput capture "$@" --json --timeout 120 >"/tmp/$name.json" 2>"/tmp/$name.err"
  capture_rc=$?
  sleep 0.3
  kill -INT "$tcpdump_pid"
  wait "$tcpdump_pid"
  if [ "$record_rc" = 0 ] && [ "$capture_rc" = 0 ] && [ -s "/tmp/$name.pcap" ]; then
    result "pcap-$name" pass "$(wc -c <"/tmp/$name.pcap") byte pcap, $(grep -c '^P:' "/tmp/$name.umockdev") sysfs devices; $(head -n 1 "/tmp/$name.tcpdump.err")"
  else
    result "pcap-$name" fail "umockdev-record $record_rc, jemput capture $capture_rc, see below"
    sed "s/^/@@ pcap-$name: /" "/tmp/$name.record.err" "/tmp/$name.tcpdump.err" "/tmp/$name.err" | head -n 30
  fi
  for f in umockdev pcap; do
    echo "@@ BEGIN pcap-file $name.$f" >&3
    base64 "/tmp/$name.$f" >&3
    echo "@@ END pcap-file $name.$f" >&3
  done
}
if [ -f /etc/jemput-pcap ]; then
  pcap_record ptp-face "$dev" face "usb:$dev" --out /tmp/out/pcap-face.jpg
  pcap_record uru4000-finger "$uru" finger "usb:$uru" --out /tmp/out/pcap-finger.png
  for f in /tmp/out/pcap-face.jpg /tmp/out/pcap-finger.png; do
    [ -f "$f" ] && echo "@@ SHA256 $(sha256sum "$f")" >&3
  done
fi
# ---- end umock ----
finish
