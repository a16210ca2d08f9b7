#!/bin/bash
# The GPU-server run behind bench/README.md's "On a real GPU": op checks, the bench with both
# peers, the A/B of materialised against fused attention, step profiles (op by op against
# captured and replayed), the step's memory both ways, and the A/B of Dawn's
# polling (spin against throttle), all through the Node host of the bundle
# (node scripts/bundle-node.mjs, then copy the repository over).
# Needs Node >= 20 and a Vulkan loader with the GPU's driver (VK_ICD_FILENAMES may point at
# its json). Usage: bash scripts/gpu-bench.sh OUTDIR
set -u
out=${1:?usage: bash scripts/gpu-bench.sh OUTDIR}
mkdir -p "$out"
cd "$(dirname "$0")/.."
[ -f dist/node/ddpm.mjs ] || { echo "no dist/node/ddpm.mjs: run node scripts/bundle-node.mjs first" >&2; exit 2; }
export DDPM_SWIFTSHADER=0
ddpm() { node dist/node/ddpm.mjs "$@"; }
ddpm check --json "$out/check.json" | tail -n 4
ddpm bench --peers tfjs,jax --json "$out/bench.json"
DDPM_TUNING='{"attentionMaterialiseMaxKeys":0}' ddpm bench --only attention_fwd,attention_fwd_bwd,unet_train_step --json "$out/bench-fused-attention.json"
# Each profile times its step op by op and captured/replayed (the compiled/eager A/B), and the forward both ways.
ddpm bench --profile --preset ddpm-cifar10 --batch 128 --json "$out/profile-cifar10-b128.json"
ddpm bench --profile --batch 16 --json "$out/profile-fashion16-b16.json"
ddpm bench --memory --preset ddpm-cifar10 --batch 128 --json "$out/memory-cifar10-b128.json"
# Dawn's polling on a GPU (src/cli/dawn-polling.ts): its spinning, the default there, against the
# throttle the software adapters get, on a short row, a long one and the train step.
for polling in spin throttle; do
  DDPM_DAWN_POLLING=$polling ddpm bench --only matmul_256,conv3x3_bwd,unet_train_step --json "$out/bench-polling-$polling.json"
done
