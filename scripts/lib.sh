# SPDX-License-Identifier: GPL-2.0-or-later
# Shared by scripts/vmtune and scripts/test: configure (once) and build one build tree.
# shellcheck shell=bash

repo_root() { cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd; }

# The one optimised configuration: what scripts/vmtune runs is what scripts/test tested.
release_args=(-DCMAKE_BUILD_TYPE=Release)

# build_tree DIR TARGET [cmake args...]: configures DIR when it is new or its arguments changed,
# then builds TARGET ("all" for everything); ninja rebuilds only what changed.
build_tree() {
  local dir=$1 target=$2; shift 2
  local root; root=$(repo_root)
  if [ ! -f "$dir/build.ninja" ] || [ "$(cat "$dir/.vmtune-configured" 2>/dev/null)" != "$*" ]; then
    mkdir -p "$dir"
    cmake -S "$root" -B "$dir" -G Ninja "$@" >"$dir.configure.log" 2>&1 || {
      cat "$dir.configure.log" >&2; return 1; }
    printf '%s' "$*" >"$dir/.vmtune-configured"
  fi
  cmake --build "$dir" --parallel "$(nproc)" --target "$target"
}
