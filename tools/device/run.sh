#!/usr/bin/env bash
# The one entry on a lent GPU machine (bare: no Node, no npm, no network):
#   bash tools/device/run.sh <llm|sprint|make-test-model> [args...]
# with the kit from `npm run device:kit` carried as .device (DEVICE_KIT=DIR elsewhere).
#   llm             = npm run bench:llm -- [args]
#   sprint          = npm run bench -- [args]
#   make-test-model = sprintnet make-test-model [args]
# Unpacks the kit once into $DEVICE_WORK (default /tmp/sprintnet-device), points the Vulkan loader
# at the NVIDIA ICD when there is one, prints the GPU's facts, and runs the bundled command from the
# current folder. With $OUT set, stdout goes to $OUT/<command>[-N].json (.txt without --json) and
# stderr to the matching .stderr.txt as well as to the terminal. The exit status is the command's.
# DEVICE_TIMEOUT=SECONDS stops the command then (status 124), keeping what it wrote so far.
# A dry run here: VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json bash tools/device/run.sh llm ...
set -euo pipefail

cmd=${1:-}
case "$cmd" in
  llm | sprint | make-test-model) shift ;;
  *)
    echo "usage: bash tools/device/run.sh <llm|sprint|make-test-model> [args...]" >&2
    exit 2
    ;;
esac

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
kit=${DEVICE_KIT:-$repo/.device}
[[ -f "$kit/kit.json" ]] || {
  echo "no device kit at $kit: run 'npm run device:kit' on a machine with Node and carry .device" >&2
  exit 2
}
kit=$(cd "$kit" && pwd -P)
work=${DEVICE_WORK:-${TMPDIR:-/tmp}/sprintnet-device}
started=$SECONDS

# kit.json is copied last, so an equal copy means a complete unpack of this same kit.
if ! cmp -s "$kit/kit.json" "$work/kit.json" 2>/dev/null; then
  if [[ -n "$(find "$kit" -name '*.xz' -print -quit)" ]] && ! command -v xz >/dev/null; then
    echo "this machine has no xz: build the kit with 'npm run device:kit -- --compress gzip'" >&2
    exit 2
  fi
  rm -rf "$work"
  mkdir -p "$work"
  while IFS= read -r -d '' rel; do
    [[ "$rel" == kit.json ]] && continue
    mkdir -p "$work/$(dirname "$rel")"
    case "$rel" in
      *.xz) xz -dc "$kit/$rel" >"$work/${rel%.xz}" ;;
      *.gz) gzip -dc "$kit/$rel" >"$work/${rel%.gz}" ;;
      *) cp "$kit/$rel" "$work/$rel" ;;
    esac
  done < <(cd "$kit" && find . -type f -printf '%P\0')
  chmod +x "$work/bin/node"
  cp "$kit/kit.json" "$work/kit.json"
  unpacked="unpacked into $work in $((SECONDS - started)) s"
else
  unpacked="already unpacked in $work"
fi
work=$(cd "$work" && pwd -P)

export PATH="$work/bin:$PATH"
export LD_LIBRARY_PATH="$work/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
[[ -n "${XDG_RUNTIME_DIR:-}" ]] || export XDG_RUNTIME_DIR=$(mktemp -d)

# The NVIDIA ICD is where the container's driver mount put it; an explicit choice is kept.
if [[ -z "${VK_ICD_FILENAMES:-}${VK_DRIVER_FILES:-}" ]]; then
  for f in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json \
    /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.x86_64.json /usr/share/vulkan/icd.d/nvidia_icd.x86_64.json /etc/vulkan/icd.d/nvidia_icd.x86_64.json; do
    if [[ -f "$f" ]]; then
      export VK_DRIVER_FILES=$f VK_ICD_FILENAMES=$f
      break
    fi
  done
fi
icd=${VK_ICD_FILENAMES:-${VK_DRIVER_FILES:-}}

say() { echo "[device] $*" >&2; }
say "kit $(sed -n 's/^  "commit": "\(.*\)",$/\1/p' "$work/kit.json" | cut -c1-12)$(grep -q '"dirty": true' "$work/kit.json" && echo ' + uncommitted changes'), built $(sed -n 's/^  "built": "\(.*\)",$/\1/p' "$work/kit.json"); node $(node --version)"
say "vulkan icd: ${icd:-none set (src/gpu/gpu-node.ts falls back to SwiftShader when it sees no GPU)}"
# The ICD's library fails to load silently (no adapter) when one of its dependencies is missing: name them.
if [[ -n "$icd" && -f "$icd" ]]; then
  lib=$(sed -n 's/.*"library_path" *: *"\([^"]*\)".*/\1/p' "$icd" | head -n 1)
  if [[ -n "$lib" && "$lib" != /* ]]; then
    for d in "$work/lib" /usr/lib/x86_64-linux-gnu /usr/lib64 /usr/lib /usr/local/nvidia/lib64 /usr/local/nvidia/lib "$(dirname "$icd")"; do
      if [[ -e "$d/$lib" ]]; then
        lib=$d/$lib
        break
      fi
    done
  fi
  if [[ -e "$lib" ]] && command -v ldd >/dev/null; then
    missing=$(ldd "$lib" 2>/dev/null | grep 'not found' || true)
    say "icd library $lib${missing:+; MISSING: $(echo "$missing" | tr -s ' \t\n' ' ')}"
  else
    say "icd library ${lib:-?} not found on disk"
  fi
fi
if command -v nvidia-smi >/dev/null; then
  facts=$(nvidia-smi --query-gpu=name,driver_version,memory.total,memory.used,clocks.max.sm,power.limit --format=csv 2>&1 || true)
  say "nvidia-smi: $(echo "$facts" | tail -n +2 | tr '\n' ';')"
  [[ -n "${OUT:-}" ]] && mkdir -p "$OUT" && echo "$facts" >"$OUT/nvidia-smi.csv"
fi
say "kit $unpacked; running $cmd $*"

run=(node "$work/$cmd.mjs")
# A device command is killed at its limit with whatever it printed lost in the pipe: stop Node first.
if [[ -n "${DEVICE_TIMEOUT:-}" ]]; then run=(timeout -k 10 "$DEVICE_TIMEOUT" "${run[@]}"); fi
if [[ -z "${OUT:-}" ]]; then
  exec "${run[@]}" "$@"
fi
mkdir -p "$OUT"
# Which commit (and which uncommitted files) the figures came from travels with them.
cp "$work/kit.json" "$OUT/kit.json"
ext=txt
for a in "$@"; do if [[ "$a" == --json ]]; then ext=json; fi; done
base=$OUT/$cmd
n=1
while [[ -e "$base.$ext" ]]; do
  n=$((n + 1))
  base=$OUT/$cmd-$n
done
# stdout through fd 3 to one tee, stderr to another; both have finished when the pipeline returns.
status=$(mktemp)
set +e
{ {
  "${run[@]}" "$@"
  echo $? >"$status"
} 2>&1 1>&3 3>&- | tee "$base.stderr.txt" >&2; } 3>&1 | tee "$base.$ext"
set -e
rc=$(cat "$status")
rm -f "$status"
say "$cmd exited $rc after $((SECONDS - started)) s; output in $base.$ext"
exit "$rc"
