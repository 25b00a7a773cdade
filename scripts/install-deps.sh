#!/usr/bin/env bash
# Installs what a fresh Debian machine lacks to build, run and test the lab. Idempotent and quiet
# when everything is there. Needs root for apt-get (the README's commands run as root).
set -euo pipefail

need=()
have() { command -v "$1" >/dev/null 2>&1; }
have git || need+=(git)
have make || need+=(make)
have gcc || need+=(gcc)
have ld || need+=(binutils)
have python3 || need+=(python3)   # the kernel's build packs its initfs with a python3 script
have curl || need+=(curl ca-certificates)
have qemu-system-x86_64 || need+=(qemu-system-x86)
have runuser || need+=(util-linux)
have npm || need+=(nodejs npm)    # the dashboard's build restores its npm packages (uPlot) with npm ci
have chromium || need+=(chromium) # the dashboard's browser tests drive Debian's chromium with Playwright
# Issue 11: disk-image and UEFI boots (the reference kernel's `make disk`, QEMU's OVMF firmware),
# and Debian's stock Linux kernel with a busybox initramfs for the Linux console tests.
have grub-mkrescue || need+=(grub-common)
[ -d /usr/lib/grub/i386-pc ] || need+=(grub-pc-bin)
[ -d /usr/lib/grub/x86_64-efi ] || need+=(grub-efi-amd64-bin)
have xorriso || need+=(xorriso)
have mformat || need+=(mtools)
[ -f /usr/share/OVMF/OVMF_CODE_4M.fd ] || need+=(ovmf)
have cpio || need+=(cpio)
ls /boot/vmlinuz-* >/dev/null 2>&1 || need+=(linux-image-amd64)
dpkg -s busybox-static >/dev/null 2>&1 || need+=(busybox-static)   # static: the initramfs has no libraries
# Issue 13: real PCs. iPXE for PXE firmware (and QEMU's NIC ROMs), GRUB's EFI modules, dnsmasq for
# proxyDHCP, and the real peers of the tests: ser2net, ipmitool with OpenIPMI's ipmi_sim, pdudaemon,
# socat (the serial "cable" between a QEMU PC and ser2net), util-linux's script (a pty for ipmitool's SoL).
[ -f /usr/lib/ipxe/undionly.kpxe ] || need+=(ipxe)
[ -d /usr/lib/ipxe/qemu ] || need+=(ipxe-qemu)
have dnsmasq || need+=(dnsmasq-base)
have ser2net || need+=(ser2net)
have ipmitool || need+=(ipmitool)
have ipmi_sim || need+=(openipmi)
have pdudaemon || need+=(pdudaemon)
have socat || need+=(socat)
have script || need+=(bsdutils)
have ip || need+=(iproute2)
# Issue 15: nginx, the reverse proxy in front of several lab-servers (docs/several-servers.md and its test).
[ -x /usr/sbin/nginx ] || have nginx || need+=(nginx-light)
# Issue 10: the agent's build sandbox (bubblewrap; setpriv and prlimit come with util-linux).
have bwrap || need+=(bubblewrap)
have setpriv || need+=(util-linux)
have prlimit || need+=(util-linux)
# Issue 12: Debian's perf records the perf-script inputs of the profile folder's golden tests
# (tests/Redox.Lab.Server.Tests/Profiles/PerfScript/README.md says how).
have perf || need+=(linux-perf)
# PostgreSQL: the machine's binaries if on PATH, else Debian's server package.
if ! have initdb && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then need+=(postgresql); fi

if [ ${#need[@]} -gt 0 ]; then
  echo "install-deps: installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
# Debian's postgresql package creates this user; the machine's own binaries may come without it.
id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql --shell /bin/false postgres

if ! have dotnet; then
  echo "install-deps: the .NET 10 SDK is missing and Debian does not package it." >&2
  echo "  Install it (https://learn.microsoft.com/dotnet/core/install/linux-debian) and run this again." >&2
  exit 1
fi
