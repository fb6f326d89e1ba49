#!/usr/bin/env bash
# Make the two base images tests/test_container.py builds on, from Debian's packages alone (no image
# registry needed): debootstrap a minimal bookworm with Python 3.11 and import it as BASE_TAG (what
# Secbot's image is built FROM); then add PostgreSQL 15 and nginx to the same tree and import that
# as SERVICES_TAG (what the compose run's stand-ins for the official postgres and nginx images are
# built FROM).
#
#   tests/container/bootstrap.sh BASE_TAG SERVICES_TAG [MIRROR]    (MIRROR: debootstrap's default if not given)
#
# Needs root, debootstrap and a running Docker engine; takes about two to three minutes.
set -euo pipefail
base_tag=$1
services_tag=$2
mirror=(${3:+"$3"})
work=$(mktemp -d "${TMPDIR:-/tmp}/secbot-bootstrap.XXXXXX")
trap 'rm -rf "$work"' EXIT
root=$work/root

# What neither image needs at run time: package caches and lists, documentation, translations.
import_tree() {  # TAG
  tar -C "$root" -c \
    --exclude='./var/cache/apt/archives/*.deb' --exclude='./var/lib/apt/lists/*' \
    --exclude='./usr/share/doc/*' --exclude='./usr/share/man/*' --exclude='./usr/share/info/*' \
    --exclude='./usr/share/locale/*' --exclude='./dev/*' --exclude='./proc/*' --exclude='./sys/*' . |
    docker import --change 'CMD ["/bin/bash"]' - "$1" >/dev/null
}

echo "bootstrap: debootstrap bookworm (minbase, python3, python3-venv)"
debootstrap --variant=minbase --include=python3,python3-venv bookworm "$root" "${mirror[@]}" >"$work/debootstrap.log" 2>&1 ||
  { tail -30 "$work/debootstrap.log" >&2; exit 1; }
import_tree "$base_tag"
echo "bootstrap: imported $base_tag"

# Packages' maintainer scripts must start no service in the tree: it shares this machine's
# network (and PostgreSQL's port with the machine's own server).
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 755 "$root/usr/sbin/policy-rc.d"
export DEBIAN_FRONTEND=noninteractive
chroot "$root" apt-get install -y -q --no-install-recommends postgresql-15 nginx-light >"$work/apt.log" 2>&1 ||
  { tail -30 "$work/apt.log" >&2; exit 1; }
# The package's own cluster is not used: the stand-in initialises its volume like the official image.
rm -rf "$root/var/lib/postgresql/15" "$root/etc/postgresql/15" "$root/usr/sbin/policy-rc.d"
import_tree "$services_tag"
echo "bootstrap: imported $services_tag"
