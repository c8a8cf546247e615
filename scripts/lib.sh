# SPDX-License-Identifier: GPL-2.0-or-later
# Shared by scripts/vmtune and scripts/test: configure (once) and build one build tree.
# shellcheck shell=bash

repo_root() { cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd; }

# build_tree DIR TARGET [cmake args...]: configures DIR if needed, then builds TARGET ("all" for
# everything); ninja rebuilds only what changed.
build_tree() {
  local dir=$1 target=$2; shift 2
  local root; root=$(repo_root)
  if [ ! -f "$dir/build.ninja" ]; then
    cmake -S "$root" -B "$dir" -G Ninja "$@" >"$dir.configure.log" 2>&1 || {
      cat "$dir.configure.log" >&2; return 1; }
  fi
  cmake --build "$dir" --parallel "$(nproc)" --target "$target"
}
