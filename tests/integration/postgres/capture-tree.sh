#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Captures what PostgreSQL discovery reads (/proc/PID/{stat,status,smaps,cmdline} of a postmaster
# and its children, and postmaster.pid through /proc/PID/cwd) into a fixture tree:
#   capture-tree.sh POSTMASTER_PID OUT_DIR
# Used to make tests/data/postgres/<scenario>/; run as root while the server is up.
set -euo pipefail
pm=$1
out=$2
mkdir -p "$out/proc"
copy_pid() {
  local pid=$1
  mkdir -p "$out/proc/$pid"
  for f in stat status cmdline; do
    cat "/proc/$pid/$f" > "$out/proc/$pid/$f" 2>/dev/null || true
  done
}
copy_pid "$pm"
cat "/proc/$pm/smaps" > "$out/proc/$pm/smaps"
for child in $(ps -o pid= --ppid "$pm"); do copy_pid "$child"; done
# A non-PostgreSQL process, so discovery is seen to skip it.
copy_pid 1
mkdir -p "$out/proc/$pm/cwd"
cat "/proc/$pm/cwd/postmaster.pid" > "$out/proc/$pm/cwd/postmaster.pid"
grep -E '^(MemTotal|Hugepagesize|HugePages_|Hugetlb|PageTables)' /proc/meminfo > "$out/proc/meminfo"
