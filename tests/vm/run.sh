#!/usr/bin/env bash
# The VM tier (docs/testing.md): the PTP camera model, served over USB/IP by
# `jemput sim ptp` on the host's loopback, attached inside a QEMU guest (Debian 12's stock kernel,
# vhci-hcd) and driven through the guest's real USB stack by gphoto2 (the independent oracle) and
# by jemput's own PTP driver (rusb/libusb); and the U.are.U reader model (`jemput sim uru4000`, a
# second server) driven by jemput's uru4000 driver the same way.
#
# Needs only Debian packages: qemu-system-x86, busybox-static, gphoto2, cpio, xz-utils, and the
# kernel package linux-image-6.1.0-<N>-amd64 fetched with `apt-get download` (scripts/install-test-peers puts it in
# /opt/jemput-test/vm). No KVM: TCG (`-accel tcg,thread=multi`), the uncompressed vmlinux booted
# through its PVH entry (≈ 5 s).
#
# Exit status: 0 every check passed; 77 skipped (a prerequisite is missing; printed as
# "skipped: needs <what> (<how to install it>)"); anything else failed. Result lines on stdout:
#   RESULT <check> pass|fail <detail>
#   BENCH <tool> initiate_to_photo_ms=<n> command_ms=<n>
#
# Environment:
#   JEMPUT_BIN            the jemput binary (default: $CARGO_TARGET_DIR or target, debug/jemput)
#   JEMPUT_VM_KERNEL_DEB  the kernel .deb (default: newest linux-image-6.1.0-*-amd64_*.deb in
#                         $JEMPUT_VM_CACHE, then /opt/jemput-test/vm)
#   JEMPUT_VM_CACHE       where the extracted kernel is kept (default: <target>/vm-cache)
#   JEMPUT_VM_TIMEOUT     seconds the guest may run (default 300)
#   JEMPUT_VM_KEEP        keep the work directory (printed) instead of deleting it
#   JEMPUT_VM_USBMON_DIR  save the guest's usbmon text traces there (enumerate, gphoto2-capture,
#                         jemput-capture .usbmon.txt)
#   JEMPUT_VM_PCAP_DIR    record, for the umockdev replay tier, one more face and finger capture
#                         each as a usbmon pcap (tcpdump) with the device's umockdev-record
#                         description, and save them there with the SHA-256 of jemput's output
#                         (ptp-face.*, uru4000-finger.*, replay.sha256); see the "umock" blocks
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
target="${CARGO_TARGET_DIR:-$root/target}"
jemput="${JEMPUT_BIN:-$target/debug/jemput}"
cache="${JEMPUT_VM_CACHE:-$target/vm-cache}"
timeout_s="${JEMPUT_VM_TIMEOUT:-300}"

# skip WHAT HOW: the tier cannot run here for want of WHAT, which HOW installs.
skip() {
  echo "skipped: needs $1 ($2)"
  exit 77
}

# have TOOL: TOOL is on PATH, and JEMPUT_TEST_HIDE_PEERS (a comma-separated list, as for the
# tests' own peers) does not name it.
have() {
  case ",${JEMPUT_TEST_HIDE_PEERS:-}," in *",$1,"*) return 1 ;; esac
  command -v "$1" >/dev/null
}

for tool in qemu-system-x86_64 gphoto2 cpio xz gzip ldd; do
  have "$tool" || skip "$tool" "apt-get install qemu-system-x86 gphoto2 cpio xz-utils, or scripts/install-test-peers"
done
busybox=""
for b in /bin/busybox /usr/bin/busybox; do
  if [ -x "$b" ] && ! ldd "$b" >/dev/null 2>&1; then busybox="$b"; break; fi
done
[ -n "$busybox" ] || skip "a static busybox" "apt-get install busybox-static"
[ -x "$jemput" ] || skip "a jemput binary at $jemput" "cargo build, or set JEMPUT_BIN"

deb="${JEMPUT_VM_KERNEL_DEB:-}"
if [ -z "$deb" ]; then
  deb="$(ls -1 "$cache"/linux-image-6.1.0-*-amd64_*.deb /opt/jemput-test/vm/linux-image-6.1.0-*-amd64_*.deb 2>/dev/null | sort -V | tail -n 1 || true)"
fi
[ -n "$deb" ] && [ -f "$deb" ] || skip "the Debian kernel package linux-image-6.1.0-<N>-amd64" "scripts/install-test-peers downloads it into /opt/jemput-test/vm, or set JEMPUT_VM_KERNEL_DEB"

# ---- servm: serial oracles (begin) ----------------------------------------------------------
# The kernel's own serial drivers as oracles of jemput's serial device models:
#  - wacom_w8001: `jemput sim isdv4` (the ISDV4 pen model, real pacing, one fixed signature,
#    "Siti Aminah", seed 1) on a host pty behind QEMU's second 16550 (the guest's ttyS1);
#    `inputattach --w8001` hands the line to serport + wacom_w8001, the guest records the raw
#    struct input_event stream of one signature, then `jemput capture signature /dev/ttyS1`
#    records the same script; the host compares the two (servm_compare_w8001).
#  - ftdi_sio: `jemput sim ef01 --fast` on a host pty behind QEMU's `usb-serial` (an FTDI
#    FT232, 0403:6001) on an xHCI controller; usbserial + ftdi_sio make /dev/ttyUSB0,
#    systemd-udevd with Debian's 60-serial.rules gives it its by-id link, jemput reads its USB
#    identity from sysfs, and discovers, tests and captures through it.
# Needs the Debian packages inputattach and udev (systemd-udevd, udevadm).
servm_check_tools() {
  local tool
  for tool in inputattach udevadm; do
    have "$tool" || skip "$tool" "apt-get install inputattach udev, or scripts/install-test-peers"
  done
  [ -f /usr/lib/udev/rules.d/60-serial.rules ] || skip "/usr/lib/udev/rules.d/60-serial.rules" "apt-get install udev"
}

# The guest's extra modules (loaded by the servm block of guest-init.sh, not at boot, so that
# the xHCI bus comes after vhci-hcd's), inputattach, udevadm and the serial rules.
servm_initramfs() {
  local m ko
  : >"$fs/etc/modules.servm"
  for m in evdev serport wacom_w8001 xhci-hcd xhci-pci usbserial ftdi_sio; do
    ko="$(find "$kdir/modules" -name "$m.ko" | head -n 1)"
    [ -n "$ko" ] || { echo "module $m is not in $deb"; exit 1; }
    cp "$ko" "$fs/lib/modules/"
    echo "$m" >>"$fs/etc/modules.servm"
  done
  for m in readlink tail; do ln -sf busybox "$fs/bin/$m"; done
  copy_with_libs "$(command -v inputattach)" "$(command -v udevadm)"
  ln -sf "$(command -v udevadm)" "$fs/bin/systemd-udevd"
  mkdir -p "$fs/usr/lib/udev/rules.d" "$fs/etc/udev"
  cp /usr/lib/udev/rules.d/60-serial.rules "$fs/usr/lib/udev/rules.d/"
}

# `jemput sim isdv4` and `jemput sim ef01 --fast`, each on a new pty; sets servm_qemu_args.
servm_qemu_args=()
servm_start_models() {
  local model flags path
  for model in isdv4 ef01; do
    flags=""
    [ "$model" = ef01 ] && flags="--fast"
    "$jemput" sim "$model" $flags --json >"$work/sim-$model.json" 2>"$work/sim-$model.log" &
    sim_pids="$sim_pids $!"
    path=""
    for _ in $(seq 100); do
      path="$(grep -o '"path":"[^"]*"' "$work/sim-$model.json" 2>/dev/null | cut -d'"' -f4 || true)"
      [ -n "$path" ] && break
      sleep 0.1
    done
    [ -n "$path" ] || { echo "jemput sim $model printed no pty path"; cat "$work/sim-$model.log"; exit 1; }
    eval "servm_${model}_pty=\$path"
  done
  servm_qemu_args=(
    -chardev "serial,id=pen,path=$servm_isdv4_pty" -device isa-serial,index=1,chardev=pen
    -device qemu-xhci,id=xhci -chardev "serial,id=fp,path=$servm_ef01_pty"
    -device usb-serial,bus=xhci.0,chardev=fp
  )
}

# servm_compare_w8001 <evdev dump> <jemput's trace JSON>: the pen states the kernel reported
# for the first whole signature (BTN_TOOL_PEN in … out) against the points jemput's driver
# recorded, both from the first pen-down to the lift after the last stroke, repeated states
# merged (evdev sends only what changed, so a repeated packet makes no event). Both are in the
# sensor's own units (x, y at 100 per mm, 10-bit pressure): wacom_w8001 reports a pen-only
# sensor's values unscaled. Prints "<strokes> <states>" when they agree, else why not.
servm_compare_w8001() {
  od -An -v -w24 -tu2 "$1" | awk -v trace="$2" '
    function push(list, n, s) { if (n == 0 || list[n] != s) list[++n] = s; return n }
    BEGIN { x = y = p = touch = 0; nk = 0; play = 0; done = 0 }
    {
      type = $9; code = $10; value = $11 + 65536 * $12
      if (type == 3 && code == 0) x = value
      if (type == 3 && code == 1) y = value
      if (type == 3 && code == 24) p = value
      if (type == 1 && code == 330) touch = value
      if (type == 1 && code == 320 && value == 1 && !done) play = 1
      if (type == 1 && code == 320 && value == 0 && play) { play = 0; done = 1; nk = push(k, nk, touch " " x " " y " " p) }
      if (type == 0 && code == 0 && play) nk = push(k, nk, touch " " x " " y " " p)
    }
    END {
      nj = 0
      while ((getline line < trace) > 0) {
        if (line ~ /"x":/) { gsub(/[^0-9]/, "", line); jx = line }
        else if (line ~ /"y":/) { gsub(/[^0-9]/, "", line); jy = line }
        else if (line ~ /"pressure":/) { gsub(/[^0-9]/, "", line); jp = line }
        else if (line ~ /"touching":/) nj = push(j, nj, (line ~ /true/ ? 1 : 0) " " jx " " jy " " jp)
      }
      if (!done) { print "no whole signature in the kernel events (" nk " states)"; exit 1 }
      first = 0; last = 0
      for (i = 1; i <= nk; i++) if (k[i] ~ /^1 /) { if (!first) first = i; last = i }
      if (!first) { print "the kernel reported no pen-down"; exit 1 }
      if (last < nk) last++
      n = 0; strokes_k = 0; strokes_j = 0; prev = "0"
      for (i = first; i <= last; i++) { kt[++n] = k[i]; if (k[i] ~ /^1 / && prev !~ /^1 /) strokes_k++; prev = k[i] }
      prev = "0"
      for (i = 1; i <= nj; i++) { if (j[i] ~ /^1 / && prev !~ /^1 /) strokes_j++; prev = j[i] }
      if (strokes_k != strokes_j) { print "pen-down strokes: kernel " strokes_k ", jemput " strokes_j; exit 1 }
      if (n != nj) { print "distinct pen states: kernel " n ", jemput " nj " (" strokes_k " strokes)"; exit 1 }
      for (i = 1; i <= n; i++) if (kt[i] != j[i]) {
        print "state " i " of " n " differs (touch x y pressure): kernel " kt[i] ", jemput " j[i]; exit 1
      }
      print strokes_k " " n
    }'
}

# The host's side of the results: the W8001 comparison (RESULT w8001-events), and the guest's
# evdev dump and jemput's trace saved next to the usbmon traces when asked.
servm_results() {
  local block detail
  for block in w8001-evdev w8001-trace; do
    sed -n "/^@@ BEGIN $block\$/,/^@@ END $block\$/p" "$work/console.txt" | sed '1d;$d' \
      | base64 -d >"$work/$block" 2>/dev/null || true
  done
  if [ ! -s "$work/w8001-evdev" ] || [ ! -s "$work/w8001-trace" ]; then
    echo "RESULT w8001-events fail the guest sent no kernel events or no jemput trace"
    failed=1
  elif detail="$(servm_compare_w8001 "$work/w8001-evdev" "$work/w8001-trace")"; then
    echo "RESULT w8001-events pass wacom_w8001 and jemput agree: ${detail% *} pen-down strokes, ${detail#* } distinct pen states (x, y, pressure equal, sensor units)"
  else
    echo "RESULT w8001-events fail $detail"
    failed=1
  fi
  echo "BENCH serial-oracles guest_ms=$(grep '^@@ TIME servm-serial ' "$work/console.txt" | awk '{print $5}' | head -n 1) w8001_jemput_ms=$(grep '^@@ TIME jemput-isdv4 ' "$work/console.txt" | awk '{print $5}' | head -n 1)"
  if [ -n "${JEMPUT_VM_USBMON_DIR:-}" ] && [ -s "$work/w8001-evdev" ]; then
    mkdir -p "$JEMPUT_VM_USBMON_DIR"
    cp "$work/w8001-evdev" "$JEMPUT_VM_USBMON_DIR/w8001.evdev"
    cp "$work/w8001-trace" "$JEMPUT_VM_USBMON_DIR/w8001-jemput.trace.json"
    echo "W8001 events and trace saved in $JEMPUT_VM_USBMON_DIR" >&2
  fi
}
servm_check_tools
# ---- servm: serial oracles (end) ------------------------------------------------------------

# 1. The kernel: extracted once per package, and the ELF vmlinux cut out of the xz bzImage.
kname="$(basename "$deb" .deb)"
kdir="$cache/$kname"
if [ ! -f "$kdir/vmlinux" ]; then
  rm -rf "$kdir.tmp"
  mkdir -p "$kdir.tmp"
  dpkg-deb -x "$deb" "$kdir.tmp/x"
  vmlinuz="$(ls "$kdir.tmp"/x/boot/vmlinuz-*)"
  # The payload starts at the xz magic FD 37 7A 58 5A 00; xz stops at the end of its stream and
  # complains about the bytes after it, which is expected.
  offset="$(LC_ALL=C grep -obUaP '\xfd7zXZ\x00' "$vmlinuz" | head -n 1 | cut -d: -f1)"
  [ -n "$offset" ] || { echo "no xz payload in $vmlinuz"; exit 1; }
  tail -c +"$((offset + 1))" "$vmlinuz" | xz -dc >"$kdir.tmp/vmlinux" 2>/dev/null || true
  head -c 4 "$kdir.tmp/vmlinux" | grep -q 'ELF' || { echo "the vmlinux cut from $vmlinuz is not an ELF file"; exit 1; }
  mv "$kdir.tmp/x/lib/modules" "$kdir.tmp/modules"
  rm -rf "$kdir.tmp/x" "$kdir"
  mv "$kdir.tmp" "$kdir"
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/jemput-vm.XXXXXX")"
sim_pids=""
cleanup() {
  local p
  for p in $sim_pids; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  if [ -n "${JEMPUT_VM_KEEP:-}" ]; then echo "work directory kept: $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT

# 2. The initramfs: busybox, the modules in dependency order (the package has no modules.dep),
#    jemput, gphoto2 with its PTP camlib and libusb port library, and every shared library they
#    load.
fs="$work/fs"
mkdir -p "$fs"/{bin,sbin,proc,sys,dev,tmp,run,etc,lib/modules,root}
cp "$busybox" "$fs/bin/busybox"
for applet in sh mount insmod ip sleep cat ls echo poweroff grep head od wc mkdir seq basename date base64 dmesg sed cut tr; do
  ln -s busybox "$fs/bin/$applet"
done
modules="usb-common usbcore usbip-core vhci-hcd usbmon failover net_failover virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci virtio_net"
: >"$fs/etc/modules.order"
for m in $modules; do
  ko="$(find "$kdir/modules" -name "$m.ko" | head -n 1)"
  [ -n "$ko" ] || { echo "module $m is not in $deb"; exit 1; }
  cp "$ko" "$fs/lib/modules/"
  echo "$m" >>"$fs/etc/modules.order"
done

copy_with_libs() {
  local f lib
  for f in "$@"; do
    mkdir -p "$fs$(dirname "$f")"
    cp -L "$f" "$fs$f"
    for lib in $(ldd "$f" 2>/dev/null | grep -o '/[^ ]*' || true); do
      [ -e "$fs$lib" ] && continue
      mkdir -p "$fs$(dirname "$lib")"
      cp -L "$lib" "$fs$lib"
    done
  done
}
gp_camlibs="$(ls -d /usr/lib/x86_64-linux-gnu/libgphoto2/*/ | head -n 1)"
gp_iolibs="$(ls -d /usr/lib/x86_64-linux-gnu/libgphoto2_port/*/ | head -n 1)"
copy_with_libs "$(command -v gphoto2)" "${gp_camlibs}ptp2.so" "${gp_iolibs}usb1.so"
mkdir -p "$fs/usr/local/bin"
cp "$jemput" "$fs/usr/local/bin/jemput"
# A debug build carries ~100 MB of line tables the guest does not need.
if command -v strip >/dev/null; then strip --strip-debug "$fs/usr/local/bin/jemput"; fi
for lib in $(ldd "$jemput" | grep -o '/[^ ]*'); do
  mkdir -p "$fs$(dirname "$lib")"
  cp -L "$lib" "$fs$lib"
done
servm_initramfs # servm: serial oracles
# ---- vivid (V4L2) part: begin ------------------------------------------------------------------
# The kernel's vivid virtual capture driver, one webcam-type input, for jemput's V4L2 driver;
# v4l2-ctl (Debian v4l-utils) is the independent oracle. The modules go in the order docs/testing.md
# §1 gives; the guest loads them from /etc/modules.vivid (vivid_checks in guest-init.sh).
# Without v4l2-ctl the part is skipped, and says so on stdout.
vivid_modules="mc videodev videobuf2-common videobuf2-v4l2 rc-core cec v4l2-dv-timings v4l2-tpg videobuf2-memops videobuf2-dma-contig videobuf2-vmalloc vivid"
vivid_enabled=""
if have v4l2-ctl; then
  vivid_enabled=1
  : >"$fs/etc/modules.vivid"
  for m in $vivid_modules; do
    ko="$(find "$kdir/modules" -name "$m.ko" | head -n 1)"
    [ -n "$ko" ] || { echo "module $m is not in $deb"; exit 1; }
    cp "$ko" "$fs/lib/modules/"
    echo "$m" >>"$fs/etc/modules.vivid"
  done
  copy_with_libs "$(command -v v4l2-ctl)"
  for applet in tail; do
    [ -e "$fs/bin/$applet" ] || ln -s busybox "$fs/bin/$applet"
  done
else
  echo "skipped: vivid part needs v4l2-ctl (apt-get install v4l-utils, or scripts/install-test-peers)"
fi
# ---- vivid (V4L2) part: end --------------------------------------------------------------------
cp "$here/guest-init.sh" "$fs/init"
chmod +x "$fs/init"

# ---- umock: what the guest needs to record usbmon pcaps (JEMPUT_VM_PCAP_DIR) ----
# tcpdump (libpcap's usbmon support, link type USB_LINUX_MMAPPED) and umockdev-record with their
# libraries; umockdev-record asks `udevadm info` for the device's properties, and the guest has
# no udev: the shim prints what udevadm prints for a device udevd never saw (the sysfs path, the
# node, the subsystem and the kernel's uevent), which is all a udev-less system knows.
pcap_dir="${JEMPUT_VM_PCAP_DIR:-}"
if [ -n "$pcap_dir" ]; then
  for tool in tcpdump umockdev-record; do
    command -v "$tool" >/dev/null || { echo "JEMPUT_VM_PCAP_DIR needs $tool (apt-get install tcpdump umockdev)"; exit 1; }
  done
  copy_with_libs "$(command -v tcpdump)" "$(command -v umockdev-record)"
  for applet in sha256sum readlink kill; do ln -sf busybox "$fs/bin/$applet"; done
  echo 'root:x:0:0:root:/root:/bin/sh' >"$fs/etc/passwd"
  echo 'root:x:0:' >"$fs/etc/group"
  # Not on the guest's PATH: the servm block's real udevadm and udevd stay in charge there.
  mkdir -p "$fs/usr/local/lib/umock"
  cat >"$fs/usr/local/lib/umock/udevadm" <<'SHIM'
#!/bin/sh
# udevadm info --query=all --path /sys/…, for a system without udevd (the VM tier's guest).
[ "$1" = info ] || { echo "udevadm shim: only 'info --query=all --path' is implemented" >&2; exit 1; }
for last; do :; done
dev=$(readlink -f "$last")
echo "P: ${dev#/sys}"
name=$(sed -n 's/^DEVNAME=//p' "$dev/uevent")
[ -n "$name" ] && echo "N: $name"
echo "E: DEVPATH=${dev#/sys}"
[ -e "$dev/subsystem" ] && echo "E: SUBSYSTEM=$(basename "$(readlink -f "$dev/subsystem")")"
sed 's/^/E: /' "$dev/uevent"
SHIM
  chmod +x "$fs/usr/local/lib/umock/udevadm"
  touch "$fs/etc/jemput-pcap"
fi
# ---- end umock ----
(cd "$fs" && find . | cpio -o -H newc --quiet | gzip -1) >"$work/initrd.gz"

# 3. The device models on the host's loopback, each behind its own USB/IP server; the camera logs
#    the times of InitiateCapture and of the photo's last byte.
start_sim() { # start_sim <model> <log filter>: serves the model on loopback; sets sim_port
  RUST_LOG="$2" "$jemput" sim "$1" --json --listen 127.0.0.1:0 >"$work/sim-$1.json" 2>"$work/sim-$1.log" &
  sim_pids="$sim_pids $!"
  local address=""
  for _ in $(seq 100); do
    address="$(grep -o '"address":"[^"]*"' "$work/sim-$1.json" 2>/dev/null | cut -d'"' -f4 || true)"
    [ -n "$address" ] && break
    sleep 0.1
  done
  [ -n "$address" ] || { echo "jemput sim $1 printed no address"; cat "$work/sim-$1.log"; exit 1; }
  sim_port="${address##*:}"
}
start_sim ptp "jemput_drivers::ptp::model=info,jemput_drivers::usbip=info"
port="$sim_port"
# The U.are.U reader model on a second server (the guest reaches it as 10.0.2.100:3241: QEMU
# names each guestfwd by its port, so two on 3240 collide).
start_sim uru4000 ""
port_uru="$sim_port"
servm_start_models # servm: serial oracles (ISDV4 and EF01 models on ptys)

# 4. Boot. The guest reaches the server as 10.0.2.100:3240 through QEMU's guestfwd; restrict=on
#    keeps it off any other network.
boot_start=$(date +%s%N)
set +e
timeout "$timeout_s" qemu-system-x86_64 \
  -accel tcg,thread=multi -cpu qemu64 -m 768M -smp 2 \
  -nodefaults -display none -no-reboot \
  -kernel "$kdir/vmlinux" -initrd "$work/initrd.gz" \
  -append "console=ttyS0 panic=-1 quiet rdinit=/init" \
  -netdev "user,id=n0,restrict=on,guestfwd=tcp:10.0.2.100:3240-tcp:127.0.0.1:$port,guestfwd=tcp:10.0.2.100:3241-tcp:127.0.0.1:$port_uru" \
  -device virtio-net-pci,netdev=n0,romfile= \
  "${servm_qemu_args[@]}" \
  -serial "file:$work/console.log" </dev/null >"$work/qemu.log" 2>&1
qemu_rc=$?
set -e
boot_ms=$((($(date +%s%N) - boot_start) / 1000000))
tr -d '\r' <"$work/console.log" >"$work/console.txt"

if [ "$qemu_rc" = 124 ]; then
  echo "the guest did not power off within ${timeout_s}s; its console:"
  tail -n 60 "$work/console.txt"
  exit 1
fi

# 5. Results: the guest prints "@@ RESULT …", "@@ TIME …" and base64 blocks between markers.
grep '^@@ RESULT ' "$work/console.txt" | sed 's/^@@ //' || true
failed=0
if ! grep -q '^@@ DONE' "$work/console.txt"; then
  echo "RESULT guest fail the guest did not finish (qemu exit $qemu_rc); console tail:"
  tail -n 40 "$work/console.txt"
  failed=1
fi
if grep -q '^@@ RESULT .* fail' "$work/console.txt"; then failed=1; fi
for check in attach enumerate gphoto2-summary gphoto2-capture jemput-capture attach-uru4000 jemput-uru4000 w8001-attach ftdi-enumerate ftdi-discover ftdi-capture ftdi-by-id; do
  grep -q "^@@ RESULT $check " "$work/console.txt" || { echo "RESULT $check fail never ran"; failed=1; }
done
if [ -n "${JEMPUT_VM_USBMON_DIR:-}" ]; then
  mkdir -p "$JEMPUT_VM_USBMON_DIR"
  for trace in enumerate gphoto2-capture jemput-capture uru4000-capture; do
    sed -n "/^@@ BEGIN usbmon $trace\$/,/^@@ END usbmon $trace\$/p" "$work/console.txt" | sed '1d;$d' \
      | base64 -d >"$JEMPUT_VM_USBMON_DIR/$trace.usbmon.txt" \
      && echo "usbmon trace saved: $JEMPUT_VM_USBMON_DIR/$trace.usbmon.txt" >&2
  done
fi

servm_results # servm: serial oracles
# The benchmark: InitiateCapture → last byte of the photo, on the host's clock (the model's log);
# the first capture of the run is gphoto2's, the second jemput's. Command times are the guest's.
ms_of() { # an RFC 3339 timestamp of the log → milliseconds since the epoch
  date -d "$1" +%s%3N
}
mapfile -t initiated < <(grep 'InitiateCapture received' "$work/sim-ptp.log" | grep -o '^[0-9T:.-]*Z' || true)
mapfile -t sent < <(grep 'GetObject data sent' "$work/sim-ptp.log" | grep -o '^[0-9T:.-]*Z' || true)
tools=(gphoto2 jemput)
for i in 0 1; do
  tool="${tools[$i]}"
  cmd_ms="$(grep "^@@ TIME $tool " "$work/console.txt" | awk '{print $5}' | head -n 1 || true)"
  if [ -n "${initiated[$i]:-}" ] && [ -n "${sent[$i]:-}" ]; then
    echo "BENCH $tool initiate_to_photo_ms=$(($(ms_of "${sent[$i]}") - $(ms_of "${initiated[$i]}"))) command_ms=${cmd_ms:-?}"
  fi
done
# The U.are.U image read in the guest: submission to completion of the 111 424-byte bulk IN URB
# on endpoint 2, from the guest's usbmon (µs timestamps), against what high-speed bulk allows at
# best (13 packets of 512 bytes per 125 µs microframe: 53.2 MB/s, 2.09 ms for the image).
sed -n '/^@@ BEGIN usbmon uru4000-capture$/,/^@@ END usbmon uru4000-capture$/p' "$work/console.txt" | sed '1d;$d' \
  | base64 -d >"$work/uru4000-capture.usbmon.txt" 2>/dev/null || true
uru_read_us="$(awk '$4 ~ /^Bi:.*:2$/ && $3 == "S" { s = $2 } $4 ~ /^Bi:.*:2$/ && $3 == "C" && s != "" && $6 == 111424 { print $2 - s; exit }' "$work/uru4000-capture.usbmon.txt")"
if [ -n "$uru_read_us" ]; then
  echo "BENCH uru4000 image_read_us=$uru_read_us high_speed_bulk_minimum_us=2093 command_ms=$(grep '^@@ TIME jemput-uru4000 ' "$work/console.txt" | awk '{print $5}' | head -n 1)"
fi
# ---- umock: bring the pcap recordings back (JEMPUT_VM_PCAP_DIR) ----
if [ -n "$pcap_dir" ]; then
  for check in pcap-ptp-face pcap-uru4000-finger; do
    grep -q "^@@ RESULT $check " "$work/console.txt" || { echo "RESULT $check fail never ran"; failed=1; }
  done
  mkdir -p "$pcap_dir"
  for f in ptp-face.umockdev ptp-face.pcap uru4000-finger.umockdev uru4000-finger.pcap; do
    sed -n "/^@@ BEGIN pcap-file $f\$/,/^@@ END pcap-file $f\$/p" "$work/console.txt" | sed '1d;$d' \
      | base64 -d >"$pcap_dir/$f" \
      && echo "pcap fixture saved: $pcap_dir/$f ($(wc -c <"$pcap_dir/$f") bytes)" >&2
  done
  grep '^@@ SHA256 ' "$work/console.txt" | sed 's/^@@ SHA256 //; s#/tmp/out/pcap-##' >"$pcap_dir/replay.sha256"
fi
# ---- end umock ----
# ---- vivid (V4L2) part: begin ------------------------------------------------------------------
# Every vivid check must have run; the still jemput took comes back base64-encoded and is saved
# to $JEMPUT_VM_VIVID_JPEG when set (tests/vm.rs decodes it on the host).
if [ -n "$vivid_enabled" ]; then
  for check in vivid-oracle vivid-formats vivid-capture vivid-busy vivid-stream; do
    grep -q "^@@ RESULT $check " "$work/console.txt" || { echo "RESULT $check fail never ran"; failed=1; }
  done
  if [ -n "${JEMPUT_VM_VIVID_JPEG:-}" ]; then
    sed -n '/^@@ BEGIN vivid-jpeg$/,/^@@ END vivid-jpeg$/p' "$work/console.txt" | sed '1d;$d' \
      | base64 -d >"$JEMPUT_VM_VIVID_JPEG" 2>/dev/null || true
  fi
fi
# ---- vivid (V4L2) part: end --------------------------------------------------------------------
echo "VM run: ${boot_ms} ms from QEMU start to poweroff (TCG)"
if [ "$failed" != 0 ]; then
  echo "--- guest console (tail) ---"
  tail -n 80 "$work/console.txt"
  echo "--- jemput sim log (tail) ---"
  tail -n 20 "$work/sim-ptp.log"
  exit 1
fi
exit 0
