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

# ---- vivid (V4L2) part: begin ------------------------------------------------------------------
# The kernel's vivid driver as one webcam (node_types=0x1: a video capture node only;
# num_inputs=1 input_types=0: input 0 is a webcam; multiplanar=1: single-planar). v4l2-ctl is the
# oracle: it lists the formats and streams one frame through mmap; then jemput lists the node
# (the same formats and sizes) and takes a still through its own V4L2 driver.
vivid_checks() {
  [ -f /etc/modules.vivid ] || return 0
  for m in $(cat /etc/modules.vivid); do
    if [ "$m" = vivid ]; then
      insmod /lib/modules/vivid.ko n_devs=1 node_types=0x1 num_inputs=1 input_types=0x0 multiplanar=1
    else
      insmod "/lib/modules/$m.ko"
    fi || echo "@@ insmod $m failed"
  done
  vnode=""
  for i in $(seq 50); do
    for n in /sys/class/video4linux/video*; do
      [ -f "$n/name" ] && grep -q vivid "$n/name" && vnode="/dev/$(basename "$n")"
    done
    [ -n "$vnode" ] && [ -e "$vnode" ] && break
    vnode=""
    sleep 0.1
  done
  if [ -z "$vnode" ]; then
    for check in vivid-oracle vivid-formats vivid-capture vivid-stream; do result $check fail "no vivid video node"; done
    dmesg | tail -n 20
    return 0
  fi
  # The oracle: v4l2-ctl streams one 640x480 YUYV frame through mmap (614 400 bytes).
  v4l2-ctl -d "$vnode" --list-formats-ext >/tmp/vivid-formats.txt 2>&1
  if v4l2-ctl -d "$vnode" --set-fmt-video=width=640,height=480,pixelformat=YUYV \
    --stream-mmap --stream-count=1 --stream-to=/tmp/vivid-oracle.raw >/tmp/vivid-oracle.txt 2>&1 \
    && [ "$(wc -c </tmp/vivid-oracle.raw)" = 614400 ]; then
    result vivid-oracle pass "v4l2-ctl: $(grep -c "^[[:space:]]*\[[0-9]*\]:" /tmp/vivid-formats.txt) formats on $vnode, one 640x480 YUYV frame of 614400 bytes"
  else
    result vivid-oracle fail "v4l2-ctl --stream-mmap on $vnode, see below"
    sed 's/^/@@ v4l2-ctl: /' /tmp/vivid-oracle.txt | head -n 20
  fi
  # jemput devices --json lists the node with the formats and sizes v4l2-ctl lists, in order.
  jemput devices --json >/tmp/vivid-devices.json 2>/tmp/vivid-devices.err
  sed -n "s/^[[:space:]]*\[[0-9]*\]: '\([^']*\)'.*/\1/p" /tmp/vivid-formats.txt | tr '\n' ' ' >/tmp/vivid-oracle-fourccs
  grep -o '"fourcc": *"[^"]*"' /tmp/vivid-devices.json | cut -d'"' -f4 | tr '\n' ' ' >/tmp/vivid-jemput-fourccs
  sed -n 's/.*Size: Discrete \([0-9]*x[0-9]*\).*/\1/p' /tmp/vivid-formats.txt | tr '\n' ' ' >/tmp/vivid-oracle-sizes
  grep -o '"width": *[0-9]*\|"height": *[0-9]*' /tmp/vivid-devices.json | grep -o '[0-9]*$' \
    | sed 'N;s/\n/x/' | tr '\n' ' ' >/tmp/vivid-jemput-sizes
  if grep -q "\"selector\": *\"v4l2:$vnode\"" /tmp/vivid-devices.json \
    && [ -s /tmp/vivid-oracle-fourccs ] \
    && [ "$(cat /tmp/vivid-oracle-fourccs)" = "$(cat /tmp/vivid-jemput-fourccs)" ] \
    && [ "$(cat /tmp/vivid-oracle-sizes)" = "$(cat /tmp/vivid-jemput-sizes)" ]; then
    result vivid-formats pass "v4l2:$vnode, formats as v4l2-ctl lists them: $(cat /tmp/vivid-jemput-fourccs)"
  else
    result vivid-formats fail "jemput devices --json and v4l2-ctl differ, see below"
    echo "@@ v4l2-ctl fourccs: $(cat /tmp/vivid-oracle-fourccs)"
    echo "@@ jemput   fourccs: $(cat /tmp/vivid-jemput-fourccs)"
    echo "@@ v4l2-ctl sizes: $(cat /tmp/vivid-oracle-sizes)"
    echo "@@ jemput   sizes: $(cat /tmp/vivid-jemput-sizes)"
    sed 's/^/@@ jemput: /' /tmp/vivid-devices.err | head -n 20
  fi
  # jemput's V4L2 driver: ten preview frames, then a still at the largest size within 640x480.
  mkdir -p /tmp/out
  if timed jemput-vivid jemput capture face "v4l2:$vnode" --max-size 640x480 --preview-frames 10 \
    --out /tmp/out/vivid.jpg --json --timeout 60 >/tmp/vivid-capture.json 2>/tmp/vivid-capture.err \
    && is_jpeg /tmp/out/vivid.jpg \
    && grep -q '"format": *"YUYV 640x480"' /tmp/vivid-capture.json \
    && grep -q '"width": *640' /tmp/vivid-capture.json && grep -q '"height": *480' /tmp/vivid-capture.json; then
    result vivid-capture pass "$(wc -c </tmp/out/vivid.jpg) byte JPEG, YUYV 640x480; preview $(grep -o '"fps": *[0-9.]*' /tmp/vivid-capture.json | grep -o '[0-9.]*$') frames/s"
    echo "@@ BEGIN vivid-jpeg" >&3
    base64 /tmp/out/vivid.jpg >&3
    echo "@@ END vivid-jpeg" >&3
  else
    result vivid-capture fail "jemput capture face v4l2:$vnode, see below"
    sed 's/^/@@ jemput: /' /tmp/vivid-capture.err /tmp/vivid-capture.json | head -n 30
  fi
  # While v4l2-ctl streams, the node is busy: jemput's capture fails naming v4l2-ctl, and
  # `jemput devices` lists the node as busy.
  v4l2-ctl -d "$vnode" --stream-mmap --stream-count=100000 >/dev/null 2>&1 &
  holder=$!
  sleep 1
  jemput capture face "v4l2:$vnode" --max-size 640x480 --out /tmp/out/busy.jpg --timeout 10 >/dev/null 2>/tmp/vivid-busy.err
  busy_rc=$?
  jemput devices --json >/tmp/vivid-busy.json 2>/dev/null
  kill "$holder"
  wait "$holder" 2>/dev/null
  if [ "$busy_rc" != 0 ] && grep -q "is busy: v4l2-ctl (pid $holder)" /tmp/vivid-busy.err \
    && grep -q '"status": *"busy"' /tmp/vivid-busy.json && [ ! -e /tmp/out/busy.jpg ]; then
    result vivid-busy pass "$(head -n 1 /tmp/vivid-busy.err | cut -c1-120)"
  else
    result vivid-busy fail "capture exit $busy_rc while v4l2-ctl (pid $holder) streamed, see below"
    sed 's/^/@@ jemput: /' /tmp/vivid-busy.err /tmp/vivid-busy.json | head -n 40
  fi
  # The webcam behind jemput's SBI device service: its STREAM preview (the V4L2 driver's live
  # frames) read by jemput's SBI client, ten frames, then the signed capture.
  jemput sbi serve --device "v4l2:$vnode" --port 4501 --json >/tmp/vivid-sbi.json 2>/tmp/vivid-sbi.err &
  sbi=$!
  for _ in $(seq 1 120); do grep -q '"ca_cert"' /tmp/vivid-sbi.json 2>/dev/null && break; sleep 0.5; done
  ca=$(sed -n 's/.*"ca_cert": *"\([^"]*\)".*/\1/p' /tmp/vivid-sbi.json)
  if [ -n "$ca" ] && jemput --home /tmp/sbi-kit sbi trust add "$ca" >/dev/null 2>/tmp/vivid-stream.err \
    && timed jemput-sbi-stream jemput --home /tmp/sbi-kit capture face sbi:4501/1/0 --preview-frames 10 \
      --out /tmp/out/sbi.jpg --json --timeout 60 >/tmp/vivid-stream.json 2>>/tmp/vivid-stream.err \
    && grep -q '"frames": *10' /tmp/vivid-stream.json && is_jpeg /tmp/out/sbi.jpg; then
    result vivid-stream pass "10 STREAM frames of the webcam through sbi serve at $(grep -o '"fps": *[0-9.]*' /tmp/vivid-stream.json | grep -o '[0-9.]*$') frames/s, then a $(wc -c </tmp/out/sbi.jpg) byte capture"
  else
    result vivid-stream fail "jemput capture face sbi:4501/1/0 --preview-frames 10 over sbi serve --device v4l2:$vnode, see below"
    sed 's/^/@@ jemput: /' /tmp/vivid-sbi.err /tmp/vivid-stream.err /tmp/vivid-stream.json | head -n 40
  fi
  kill "$sbi" 2>/dev/null
  wait "$sbi" 2>/dev/null
}
vivid_checks
# ---- vivid (V4L2) part: end --------------------------------------------------------------------

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
# umockdev-record of its sysfs description (with run.sh's udevadm shim first on its PATH: what
# udevadm reports for a device udevd never saw, the kernel's uevent), then tcpdump on usbmon1
# (binary, link type USB_LINUX_MMAPPED) around one `jemput capture`, then the SHA-256 of what
# jemput wrote. All three go to the console as base64 blocks.
pcap_record() { # pcap_record <name> <sysfs name> <jemput capture args…>
  name=$1
  sysname=$2
  shift 2
  PATH=/usr/local/lib/umock:$PATH umockdev-record "/sys/bus/usb/devices/$sysname" >"/tmp/$name.umockdev" 2>"/tmp/$name.record.err"
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

# ---- servm: serial oracles (begin) ----------------------------------------------------------
# See run.sh's servm block. ttyS1 is QEMU's second 16550, wired to `jemput sim isdv4`; the xHCI
# controller carries QEMU's usb-serial (FTDI 0403:6001) wired to `jemput sim ef01 --fast`.
servm_modules() {
  for m in $(cat /etc/modules.servm); do
    insmod "/lib/modules/$m.ko" || echo "@@ insmod $m failed"
  done
}

# The kernel's wacom_w8001 decodes the ISDV4 model's pen packets into input events; the raw
# struct input_event records of one whole signature (BTN_TOOL_PEN in, then out) go to the host
# as a base64 block, then jemput's own driver records the same script on the same line.
servm_evdev_has() { # servm_evdev_has <file> <code> <value>: line numbers of that EV_KEY event
  od -An -v -tx1 -w24 "$1" | grep -n " 01 00 $2 $3 00 00 00\$" | cut -d: -f1
}
servm_w8001() {
  inputattach --w8001 /dev/ttyS1 >/tmp/inputattach.txt 2>&1 &
  ia=$!
  ev=""
  for i in $(seq 150); do
    for d in /sys/class/input/event*; do
      [ -f "$d/device/name" ] && grep -q '^Wacom Serial' "$d/device/name" && ev=$(basename "$d")
    done
    [ -n "$ev" ] && break
    sleep 0.1
  done
  if [ -z "$ev" ]; then
    result w8001-attach fail "no Wacom input device after inputattach --w8001: $(cat /tmp/inputattach.txt)"
    dmesg | tail -n 10 | sed 's/^/@@ dmesg: /'
    kill "$ia" 2>/dev/null
    return
  fi
  # cat passes each read() on at once (no stdio buffer): the file grows as events come.
  cat "/dev/input/$ev" >/tmp/w8001.evdev &
  reader=$!
  id=/sys/class/input/$ev/device/id
  result w8001-attach pass "$ev \"$(cat /sys/class/input/$ev/device/name)\" $(cat $id/vendor):$(cat $id/product) on ttyS1 (serio $(basename "$(readlink /sys/class/input/$ev/device/device)"))"
  # BTN_TOOL_PEN is 0x140 (40 01): wait for a press and a later release, at most 40 s.
  whole=""
  for i in $(seq 200); do
    pen_in=$(servm_evdev_has /tmp/w8001.evdev "40 01" 01 | head -n 1)
    if [ -n "$pen_in" ]; then
      for pen_out in $(servm_evdev_has /tmp/w8001.evdev "40 01" 00); do
        [ "$pen_out" -gt "$pen_in" ] && whole=yes
      done
    fi
    [ -n "$whole" ] && break
    sleep 0.2
  done
  kill "$reader" "$ia" 2>/dev/null
  wait "$ia" 2>/dev/null
  echo "@@ BEGIN w8001-evdev" >&3
  base64 /tmp/w8001.evdev >&3
  echo "@@ END w8001-evdev" >&3
  [ -n "$whole" ] || echo "@@ w8001: no whole signature in $(($(wc -c </tmp/w8001.evdev) / 24)) events"
  if timed jemput-isdv4 jemput capture signature /dev/ttyS1 --driver isdv4 --out /tmp/out/signature.png \
    --trace /tmp/out/signature.json --json --timeout 60 >/tmp/sig.json 2>/tmp/sig.err; then
    echo "@@ BEGIN w8001-trace" >&3
    base64 /tmp/out/signature.json >&3
    echo "@@ END w8001-trace" >&3
  else
    sed 's/^/@@ jemput: /' /tmp/sig.err | head -n 20
  fi
}

# QEMU's usb-serial through the guest's xHCI, usbserial and ftdi_sio: /dev/ttyUSB0, whose USB
# identity jemput reads from sysfs (drivers/src/tty_sysfs.rs); udev gives it /dev/serial/by-id.
servm_ftdi() {
  tty=""
  for i in $(seq 300); do
    [ -e /sys/class/tty/ttyUSB0/device/driver ] && [ -e /dev/ttyUSB0 ] && tty=ttyUSB0 && break
    sleep 0.1
  done
  if [ -z "$tty" ]; then
    result ftdi-enumerate fail "no /dev/ttyUSB0 from ftdi_sio"
    dmesg | tail -n 15 | sed 's/^/@@ dmesg: /'
    return
  fi
  drv=$(basename "$(readlink /sys/class/tty/ttyUSB0/device/driver)")
  usb=$(readlink -f /sys/class/tty/ttyUSB0/device/../..)
  ids="$(cat "$usb/idVendor"):$(cat "$usb/idProduct")"
  if [ "$drv" = ftdi_sio ] && [ "$ids" = "0403:6001" ]; then
    result ftdi-enumerate pass "ttyUSB0 on usb $(basename "$usb") $ids \"$(cat "$usb/manufacturer" 2>/dev/null) $(cat "$usb/product" 2>/dev/null)\", driver $drv"
  else
    result ftdi-enumerate fail "ttyUSB0 is $ids with driver $drv"
  fi
  mkdir -p /run/udev
  systemd-udevd --daemon --resolve-names=never 2>/tmp/udevd.err
  udevadm trigger --action=add --subsystem-match=tty --subsystem-match=usb --subsystem-match=usb-serial
  udevadm settle --timeout=60
  if jemput devices --json >/tmp/devices.json 2>/tmp/devices.err \
    && tr -d ' \n' </tmp/devices.json | grep -q '"path":"/dev/ttyUSB0","usb":{"vid":"0403","pid":"6001"[^}]*},[^{]*"drivers":\[{"driver":"ef01"'; then
    result ftdi-discover pass "jemput devices: /dev/ttyUSB0 0403:6001, first candidate ef01"
  else
    result ftdi-discover fail "see below"
    sed 's/^/@@ devices: /' /tmp/devices.err /tmp/devices.json | head -n 40
    udevadm info /dev/ttyUSB0 | sed 's/^/@@ udev: /'
  fi
  if timed jemput-ef01-test jemput devices test 0403:6001 --json --timeout 60 >/tmp/ftdi-test.json 2>/tmp/ftdi-test.err \
    && tr -d ' \n' </tmp/ftdi-test.json | grep -q '"kind":"finger","width":256,"height":288' \
    && timed jemput-ef01 jemput capture finger 0403:6001 --out /tmp/out/ef01.png --json --timeout 60 >/tmp/ftdi.json 2>/tmp/ftdi.err \
    && tr -d ' \n' </tmp/ftdi.json | grep -q '"width":256,"height":288'; then
    result ftdi-capture pass "devices test and capture finger 0403:6001: 256 x 288; capture_ms $(tr -d ' \n' </tmp/ftdi.json | grep -o '"capture_ms":[0-9]*' | cut -d: -f2)"
  else
    result ftdi-capture fail "see below"
    sed 's/^/@@ jemput: /' /tmp/ftdi-test.err /tmp/ftdi-test.json /tmp/ftdi.err | head -n 40
  fi
  byid=$(ls /dev/serial/by-id/ 2>/dev/null | head -n 1)
  if [ -n "$byid" ] && [ "$(readlink -f "/dev/serial/by-id/$byid")" = /dev/ttyUSB0 ] \
    && jemput devices test "/dev/serial/by-id/$byid" --driver ef01 --json --timeout 60 >/tmp/byid.json 2>/tmp/byid.err; then
    result ftdi-by-id pass "/dev/serial/by-id/$byid -> ttyUSB0; devices test over it"
  else
    result ftdi-by-id fail "by-id: '$byid' ($(ls -l /dev/serial/by-id/ 2>&1 | tail -n 1))"
    sed 's/^/@@ jemput: /' /tmp/byid.err | head -n 20
  fi
}
mkdir -p /tmp/out
servm_t0=$(uptime_ms)
servm_modules
servm_w8001
servm_ftdi
echo "@@ TIME servm-serial 0 $(($(uptime_ms) - servm_t0))"
# ---- servm: serial oracles (end) ------------------------------------------------------------
finish
