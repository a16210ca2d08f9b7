#!/usr/bin/env bash
# Installs what the project needs on a Debian machine: Chromium (WebGPU runs in it, on SwiftShader
# when there is no GPU), the Fashion-MNIST data set, and the npm dependencies. Safe to rerun; needs
# no terminal.
set -euo pipefail

cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive

BROWSERS=(/usr/bin/chromium /usr/bin/chromium-browser /usr/bin/google-chrome /usr/bin/google-chrome-stable)
FASHION_MNIST=/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz

as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo -n "$@"
  else
    echo "setup: need root (or sudo) to run: $*" >&2
    return 1
  fi
}

apt_updated=0
apt_install() {
  if [ "$apt_updated" -eq 0 ]; then
    as_root apt-get update -q </dev/null
    apt_updated=1
  fi
  as_root apt-get install -y -q --no-install-recommends "$@" </dev/null
}

have_browser() {
  if [ -n "${CHROME_PATH:-}" ]; then return 0; fi
  for b in "${BROWSERS[@]}"; do
    if [ -x "$b" ]; then return 0; fi
  done
  return 1
}

if have_browser; then
  echo "setup: browser found"
else
  echo "setup: installing Chromium"
  apt_install chromium
fi

if [ -f "$FASHION_MNIST" ]; then
  echo "setup: Fashion-MNIST found"
else
  echo "setup: installing Fashion-MNIST"
  apt_install dataset-fashion-mnist ||
    echo "setup: WARNING: could not install dataset-fashion-mnist; training on Fashion-MNIST will not work" >&2
fi

# The Vulkan loader, for `--host node` (Dawn through the webgpu npm package, outside a browser).
if ldconfig -p 2>/dev/null | grep -q 'libvulkan\.so\.1'; then
  echo "setup: Vulkan loader found"
else
  echo "setup: installing the Vulkan loader (libvulkan1)"
  apt_install libvulkan1 || echo "setup: WARNING: could not install libvulkan1; --host node will not find a GPU" >&2
fi

# Lavapipe (Mesa's Vulkan on the CPU, LLVM-compiled), unpacked into .cache/lavapipe: a second
# software adapter for the tests, with the 'shader-f16' and 'subgroups' features SwiftShader
# lacks, where the checks run a real GPU's kernel shapes. Dawn needs a newer Mesa than Debian 12's
# own (22.3), so on bookworm it comes from the release's backports suite, on the machine's own
# mirror; nothing is installed system-wide but the LLVM library it links.
LAVAPIPE_DIR=.cache/lavapipe
install_lavapipe() {
  local work status=0
  work=$(mktemp -d)
  unpack_lavapipe "$work" || status=1
  rm -rf "$work"
  return "$status"
}
unpack_lavapipe() {
  local work=$1 mirror codename deb llvm lib
  # The machine's Debian archive (not -security, not a third party's): a URI ending in /debian.
  mirror=$( (grep -hE '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null || true) | awk '$2 ~ /\/debian\/?$/ { print $2; exit }')
  if [ -z "$mirror" ]; then
    mirror=$( (grep -hE '^deb ' /etc/apt/sources.list 2>/dev/null || true) | awk '{ for (i = 2; i <= NF; i++) if ($i ~ /\/debian\/?$/) { print $i; exit } }')
  fi
  codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
  if [ -z "$mirror" ] || [ -z "$codename" ]; then
    echo "setup: no Debian mirror or release name found" >&2
    return 1
  fi
  mkdir -p "$work/lists/partial" "$work/cache/archives/partial"
  printf 'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] %s %s main\n' "$mirror" "$codename" "$mirror" "$codename-backports" \
    >"$work/sources.list"
  local apt_opts=(-o "Dir::Etc::SourceList=$work/sources.list" -o Dir::Etc::SourceParts=/dev/null
    -o "Dir::State::Lists=$work/lists" -o "Dir::Cache=$work/cache" -o APT::Sandbox::User=root)
  # A release without a backports suite still has its main one.
  apt-get "${apt_opts[@]}" update -q </dev/null >/dev/null || true
  (cd "$work" && { apt-get "${apt_opts[@]}" download "mesa-vulkan-drivers/$codename-backports" </dev/null ||
    apt-get "${apt_opts[@]}" download mesa-vulkan-drivers </dev/null; }) >/dev/null || return 1
  deb=$(ls "$work"/mesa-vulkan-drivers_*.deb 2>/dev/null | head -1)
  [ -n "$deb" ] || return 1
  llvm=$(dpkg-deb -f "$deb" Depends | tr ',' '\n' | grep -oE 'libllvm[0-9]+' | head -1 || true)
  if [ -n "$llvm" ] && ! dpkg -s "$llvm" >/dev/null 2>&1; then apt_install "$llvm" || return 1; fi
  # Called under `||`, so set -e is off here: every step returns on failure itself.
  rm -rf "$LAVAPIPE_DIR" && mkdir -p "$LAVAPIPE_DIR" || return 1
  dpkg-deb -x "$deb" "$LAVAPIPE_DIR/root" || return 1
  lib=$(find "$PWD/$LAVAPIPE_DIR/root" -name libvulkan_lvp.so | head -1)
  [ -n "$lib" ] || return 1
  if ldd "$lib" | grep -q 'not found'; then
    echo "setup: lavapipe lacks libraries: $(ldd "$lib" | grep 'not found' | tr -s ' \t\n' ' ')" >&2
    return 1
  fi
  dpkg-deb -f "$deb" Version >"$LAVAPIPE_DIR/version" || return 1
  # Written last: its presence means a complete unpack.
  printf '{ "file_format_version": "1.0.0", "ICD": { "library_path": "%s", "api_version": "1.3.0" } }\n' "$lib" \
    >"$LAVAPIPE_DIR/lvp_icd.json" || return 1
}
if [ -f "$LAVAPIPE_DIR/lvp_icd.json" ] && grep -qF "\"$PWD/" "$LAVAPIPE_DIR/lvp_icd.json"; then
  echo "setup: lavapipe found ($(cat "$LAVAPIPE_DIR/version"))"
else
  echo "setup: unpacking Mesa's lavapipe into $LAVAPIPE_DIR"
  install_lavapipe || echo "setup: WARNING: could not unpack lavapipe; the lavapipe checks will fail" >&2
fi

# `npm ci` installs exactly what package-lock.json lists and never rewrites it, so a fresh setup
# leaves the checkout clean. Skipped when node_modules already matches the lock.
stamp=node_modules/.ddpm-setup-lock
if [ -f "$stamp" ] && cmp -s package-lock.json "$stamp"; then
  echo "setup: node_modules up to date"
elif npm ci --no-audit --no-fund </dev/null; then
  cp package-lock.json "$stamp"
else
  echo "setup: WARNING: 'npm ci' failed: package-lock.json is out of date with package.json." >&2
  echo "setup: falling back to 'npm install', which may rewrite package-lock.json (commit the result)." >&2
  npm install --no-audit --no-fund </dev/null
  cp package-lock.json "$stamp"
fi
