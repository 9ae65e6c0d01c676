#!/usr/bin/env bash
# The VM tier (docs/testing: testing.md §4): the PTP camera model, served over USB/IP by
# `jemput sim ptp` on the host's loopback, attached inside a QEMU guest (Debian 12's stock kernel,
# vhci-hcd) and driven through the guest's real USB stack by gphoto2 (the independent oracle) and
# by jemput's own PTP driver (rusb/libusb); and the U.are.U reader model (`jemput sim uru4000`, a
# second server) driven by jemput's uru4000 driver the same way.
#
# Needs only Debian packages: qemu-system-x86, busybox-static, gphoto2, cpio, xz-utils, and the
# kernel package linux-image-6.1.0-<N>-amd64 fetched with `apt-get download` (.ci/run puts it in
# /opt/jemput-test/vm). No KVM: TCG (`-accel tcg,thread=multi`), the uncompressed vmlinux booted
# through its PVH entry (≈ 5 s).
#
# Exit status: 0 every check passed; 77 skipped (a prerequisite is missing; the reason is printed
# as "skipped: …"); anything else failed. Result lines on stdout:
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
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
target="${CARGO_TARGET_DIR:-$root/target}"
jemput="${JEMPUT_BIN:-$target/debug/jemput}"
cache="${JEMPUT_VM_CACHE:-$target/vm-cache}"
timeout_s="${JEMPUT_VM_TIMEOUT:-300}"

skip() {
  echo "skipped: $*"
  exit 77
}

for tool in qemu-system-x86_64 gphoto2 cpio xz gzip ldd; do
  command -v "$tool" >/dev/null || skip "$tool is not installed (apt-get install qemu-system-x86 gphoto2 cpio xz-utils)"
done
busybox=""
for b in /bin/busybox /usr/bin/busybox; do
  if [ -x "$b" ] && ! ldd "$b" >/dev/null 2>&1; then busybox="$b"; break; fi
done
[ -n "$busybox" ] || skip "no static busybox (apt-get install busybox-static)"
[ -x "$jemput" ] || skip "no jemput binary at $jemput (cargo build, or set JEMPUT_BIN)"

deb="${JEMPUT_VM_KERNEL_DEB:-}"
if [ -z "$deb" ]; then
  deb="$(ls -1 "$cache"/linux-image-6.1.0-*-amd64_*.deb /opt/jemput-test/vm/linux-image-6.1.0-*-amd64_*.deb 2>/dev/null | sort -V | tail -n 1 || true)"
fi
[ -n "$deb" ] && [ -f "$deb" ] || skip "no Debian kernel package: run 'apt-get download linux-image-6.1.0-<N>-amd64' (N from 'apt-cache depends linux-image-amd64') into /opt/jemput-test/vm or set JEMPUT_VM_KERNEL_DEB"

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
# ---- vivid (V4L2) part: begin ------------------------------------------------------------------
# The kernel's vivid virtual capture driver, one webcam-type input, for jemput's V4L2 driver;
# v4l2-ctl (Debian v4l-utils) is the independent oracle. The modules go in the order testing.md
# §4.1 gives; the guest loads them from /etc/modules.vivid (vivid_checks in guest-init.sh).
# Without v4l2-ctl the part is skipped, and says so on stdout.
vivid_modules="mc videodev videobuf2-common videobuf2-v4l2 rc-core cec v4l2-dv-timings v4l2-tpg videobuf2-memops videobuf2-dma-contig videobuf2-vmalloc vivid"
vivid_enabled=""
if command -v v4l2-ctl >/dev/null; then
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
  echo "skipped: vivid part (v4l2-ctl is not installed: apt-get install v4l-utils)"
fi
# ---- vivid (V4L2) part: end --------------------------------------------------------------------
cp "$here/guest-init.sh" "$fs/init"
chmod +x "$fs/init"
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
for check in attach enumerate gphoto2-summary gphoto2-capture jemput-capture attach-uru4000 jemput-uru4000; do
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
# ---- vivid (V4L2) part: begin ------------------------------------------------------------------
# Every vivid check must have run; the still jemput took comes back base64-encoded and is saved
# to $JEMPUT_VM_VIVID_JPEG when set (tests/vm.rs decodes it on the host).
if [ -n "$vivid_enabled" ]; then
  for check in vivid-oracle vivid-formats vivid-capture vivid-busy; do
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
