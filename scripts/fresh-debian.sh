#!/usr/bin/env bash
# Checks the README's two commands on a fresh Debian 12: builds a bookworm root with debootstrap in
# FOLDER (outside the repository), clones this repository's current branch into it, and runs as
# root in a chroot, with a clean environment: the test command as CI does (`CI=true .ci/run`),
# then the demo for DURATION seconds (default 90). Prints the wall time of each; the logs are
# FOLDER/test.log and FOLDER/demo.log, the root is FOLDER/fs (unmounted at the end; delete it). Needs root and debootstrap (apt-get install debootstrap).
#     scripts/fresh-debian.sh /var/tmp/parktwin-fresh
# The root gets what a fresh installation has (main, updates and security sources) and, from this
# machine, only its DNS settings and the certificate authorities added to its trust store (for a
# network behind a TLS-inspecting proxy). Daemons of the installed packages are not started in
# the chroot (policy-rc.d), as on a machine without an init system: the tests start their own.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
root="$(realpath -m "${1:?usage: scripts/fresh-debian.sh FOLDER}")"
case "$root/" in "$repo/"*) echo "fresh-debian: FOLDER must be outside the repository" >&2; exit 2 ;; esac
[ ! -e "$root" ] || { echo "fresh-debian: $root exists; give a new folder" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "fresh-debian: run as root (debootstrap, mount, chroot)" >&2; exit 2; }
command -v debootstrap >/dev/null || { echo "fresh-debian: apt-get install debootstrap" >&2; exit 2; }

mounted=()
mount_in() {  # mount_in MOUNT-ARGUMENTS... TARGET: mounts and remembers TARGET for the unmount
  mount "$@"
  mounted+=("${!#}")
}
unmount_all() {
  local i
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
    umount -R "${mounted[i]}" 2>/dev/null || umount -lR "${mounted[i]}"
  done
}
trap unmount_all EXIT

mkdir -p "$root"
nice -n 10 debootstrap --include=ca-certificates bookworm "$root/fs" http://deb.debian.org/debian \
  >"$root/debootstrap.log" 2>&1
fs="$root/fs"
cat >"$fs/etc/apt/sources.list" <<'EOF'
deb http://deb.debian.org/debian bookworm main
deb http://deb.debian.org/debian bookworm-updates main
deb http://deb.debian.org/debian-security bookworm-security main
EOF
cp /etc/resolv.conf "$fs/etc/resolv.conf"
if compgen -G '/usr/local/share/ca-certificates/*.crt' >/dev/null; then
  cp /usr/local/share/ca-certificates/*.crt "$fs/usr/local/share/ca-certificates/"
  chroot "$fs" update-ca-certificates >/dev/null 2>&1
fi
printf '#!/bin/sh\nexit 101\n' >"$fs/usr/sbin/policy-rc.d"
chmod +x "$fs/usr/sbin/policy-rc.d"
git clone -q --branch "$(git -C "$repo" rev-parse --abbrev-ref HEAD)" "$repo" "$fs/root/parktwin"

mount_in -t proc proc "$fs/proc"
mount_in --rbind /sys "$fs/sys"
mount --make-rslave "$fs/sys"
mount_in --bind /dev "$fs/dev"
mount_in -t devpts -o newinstance,ptmxmode=0666 devpts "$fs/dev/pts"
mount_in -t tmpfs -o size=4g tmpfs "$fs/dev/shm"

# A clean environment, as CI's: no variable of this shell reaches the chroot but the CA bundle's.
bundle=/etc/ssl/certs/ca-certificates.crt
in_root() {
  nice -n 10 env -i HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    SSL_CERT_FILE=$bundle PIP_CERT=$bundle NODE_EXTRA_CA_CERTS=$bundle "$@"
}
start=$(date +%s)
status=0
in_root CI=true chroot "$fs" bash -c 'cd /root/parktwin && bash .ci/run' </dev/null >"$root/test.log" 2>&1 || status=$?
echo "fresh-debian: install + tests: exit $status in $(($(date +%s) - start)) s (log: $root/test.log)"
tail -n 3 "$root/test.log"
start=$(date +%s)
demo_status=0
in_root DURATION="${DURATION:-90}" chroot "$fs" bash -c 'cd /root/parktwin && timeout 900 scripts/demo.sh' \
  </dev/null >"$root/demo.log" 2>&1 || demo_status=$?
echo "fresh-debian: demo: exit $demo_status in $(($(date +%s) - start)) s (log: $root/demo.log)"
tail -n 1 "$root/demo.log"
grep -q '^demo: simulated .* readings published [0-9]*, received' "$root/demo.log" || demo_status=1
exit $((status || demo_status))
