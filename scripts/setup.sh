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
