#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Writes the rule scenario trees: tests/data/scenarios/<rule-id>-fires/ and -quiet/.

Each scenario is a minimal machine state: only the /proc and /sys files the rules under test
read (every other section is missing, so rules that need it are *not evaluated*, which the
scenario test asserts too), an optional vmtune.toml (the workload profile), and for rates two
readings in the snapshot layout (meta.json + s0/ + s1/, 10 s apart). expected.json holds the
findings the engine must produce with the real catalogue: rule ids in order, severities and
every recommendation (kind, key, target, current -> proposed), worked out by hand from the
rule files and DOMAIN.md, plus rules that must be listed as not evaluated.

Run it from anywhere; it rewrites the scenario directories it owns (names ending in -fires*,
-quiet*, -conflict*) and leaves everything else alone.
"""
import json
import os
import shutil

HERE = os.path.dirname(os.path.abspath(__file__))
GiB = 1 << 30
MiB = 1 << 20

# ---- file builders -------------------------------------------------------------------------

BASE_MEM_KB = {
    "MemTotal": 8388608, "MemFree": 4194304, "MemAvailable": 6291456, "Buffers": 65536,
    "Cached": 2097152, "SwapCached": 0, "Shmem": 65536, "SwapTotal": 2097152,
    "SwapFree": 2097152, "Dirty": 1024, "Writeback": 0, "AnonPages": 1048576,
    "SReclaimable": 131072, "SUnreclaim": 65536, "KernelStack": 8192, "PageTables": 16384,
    "SecPageTables": 0, "CommitLimit": 6291456, "Committed_AS": 2097152, "AnonHugePages": 0,
    "ShmemHugePages": 0, "HugePages_Total": 0, "HugePages_Free": 0, "HugePages_Rsvd": 0,
    "HugePages_Surp": 0, "Hugepagesize": 2048, "Hugetlb": 0,
}


def meminfo(**over):
    m = dict(BASE_MEM_KB)
    m.update(over)
    lines = []
    for k, v in m.items():
        if k.startswith("HugePages_"):
            lines.append(f"{k}: {v:>8}")
        else:
            lines.append(f"{k + ':':<16}{v:>10} kB")
    return {"proc/meminfo": "\n".join(lines) + "\n"}


def sysctl(**kv):
    out = {}
    for k, v in kv.items():
        tree, name = k.split("__", 1) if "__" in k else ("vm", k)
        out[f"proc/sys/{tree}/{name.replace('_dash_', '-')}"] = f"{v}\n"
    return out


def vmstat(**kv):
    return {"proc/vmstat": "".join(f"{k} {v}\n" for k, v in kv.items())}


def swaps(*devs):
    s = "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n"
    for name, typ, size_kb, used_kb in devs:
        s += f"{name:<40}{typ}\t{size_kb}\t\t{used_kb}\t\t-2\n"
    return {"proc/swaps": s}


def psi(some=(0, 0, 0), full=(0, 0, 0), total=(1000, 500)):
    return {"proc/pressure/memory":
            f"some avg10={some[0]:.2f} avg60={some[1]:.2f} avg300={some[2]:.2f} total={total[0]}\n"
            f"full avg10={full[0]:.2f} avg60={full[1]:.2f} avg300={full[2]:.2f} total={total[1]}\n"}


def choice(options, selected):
    return " ".join(f"[{o}]" if o == selected else o for o in options) + "\n"


def thp(enabled="madvise", defrag="madvise", shmem="never", khugepaged_defrag=1):
    d = "sys/kernel/mm/transparent_hugepage/"
    return {
        d + "enabled": choice(["always", "madvise", "never"], enabled),
        d + "defrag": choice(["always", "defer", "defer+madvise", "madvise", "never"], defrag),
        d + "shmem_enabled": choice(["always", "within_size", "advise", "never", "deny", "force"], shmem),
        d + "hpage_pmd_size": "2097152\n",
        d + "khugepaged/defrag": f"{khugepaged_defrag}\n",
        d + "khugepaged/pages_collapsed": "0\n",
    }


def zoneinfo(boost=0):
    return {"proc/zoneinfo": (
        "Node 0, zone   Normal\n"
        "  pages free     1000000\n"
        f"        boost    {boost}\n"
        "        min      2800\n"
        "        low      3500\n"
        "        high     4200\n"
        "        spanned  2097152\n"
        "        present  2097152\n"
        "        managed  2000000\n"
        "        cma      0\n"
        "        protection: (0, 0, 0, 0, 0)\n")}


def buddyinfo(*counts):
    return {"proc/buddyinfo": "Node 0, zone   Normal " + " ".join(f"{c:>6}" for c in counts) + "\n"}


def numa(nodes):
    out = {"sys/devices/system/node/online": f"0-{nodes - 1}\n" if nodes > 1 else "0\n"}
    for n in range(nodes):
        out[f"sys/devices/system/node/node{n}/meminfo"] = (
            f"Node {n} MemTotal:       4194304 kB\nNode {n} MemFree:        2097152 kB\n")
    return out


def cgroup(path, current, limit, events, high="max"):
    d = "sys/fs/cgroup"
    out = {d + "/cgroup.controllers": "cpu io memory pids\n",
           "proc/self/cgroup": "0::/\n"}
    g = f"{d}/{path.strip('/')}"
    out[g + "/memory.current"] = f"{current}\n"
    out[g + "/memory.max"] = f"{limit}\n"
    out[g + "/memory.high"] = f"{high}\n"
    out[g + "/memory.events"] = "".join(f"{k} {v}\n" for k, v in events.items())
    return out


def merge(*parts):
    out = {}
    for p in parts:
        out.update(p)
    return out


DB = 'profile = "database"\n'

# ---- scenarios -----------------------------------------------------------------------------
# name -> dict(files=..., [s1=...], [config=...], findings=[...], [not_evaluated=[...]], why=...)
# A finding: (rule_id, severity, [recommendations]); a recommendation:
# (kind, key, current, proposed) or (kind, key, current, proposed, target).

S = {}


def add(name, why, files, findings, s1=None, config=None, not_evaluated=()):
    S[name] = dict(why=why, files=files, s1=s1, config=config, findings=findings,
                   not_evaluated=list(not_evaluated))


def swap_used(total_kb=2097152, free_kb=1048576):
    return dict(SwapTotal=total_kb, SwapFree=free_kb)


# swap.toml
add("R-SWAP-1-fires", "database host, disk swap in use, swappiness 60",
    merge(meminfo(**swap_used()), swaps(("/dev/sda2", "partition", 2097152, 1048576)),
          sysctl(swappiness=60)),
    [("R-SWAP-1", "warning", [("sysctl", "vm.swappiness", "60", "1")])], config=DB,
    not_evaluated=["R-OC-1", "R-OOM-3", "R-THP-1", "R-NUMA-2", "R-SWAP-6"])
add("R-SWAP-1-quiet", "same host at swappiness 10 (the threshold)",
    merge(meminfo(**swap_used()), swaps(("/dev/sda2", "partition", 2097152, 1048576)),
          sysctl(swappiness=10)),
    [], config=DB)
add("R-SWAP-2-fires", "swappiness 0 with swap present",
    merge(meminfo(), sysctl(swappiness=0)),
    [("R-SWAP-2", "warning", [("sysctl", "vm.swappiness", "0", "1")])])
add("R-SWAP-2-quiet", "swappiness 1 with swap present",
    merge(meminfo(), sysctl(swappiness=1)), [])
add("R-SWAP-3-fires", "database host with zram swap and swappiness 150",
    merge(meminfo(**swap_used()), swaps(("/dev/zram0", "partition", 2097152, 1048576)),
          sysctl(swappiness=150)),
    [("R-SWAP-3", "info", [("sysctl", "vm.swappiness", "150", "100")])], config=DB)
add("R-SWAP-3-quiet", "zram swap at swappiness 100",
    merge(meminfo(**swap_used()), swaps(("/dev/zram0", "partition", 2097152, 1048576)),
          sysctl(swappiness=100)), [], config=DB)
add("R-SWAP-4-fires", "no swap", merge(meminfo(SwapTotal=0, SwapFree=0)),
    [("R-SWAP-4", "info", [])])
add("R-SWAP-4-quiet", "2 GiB of swap", meminfo(), [])
add("R-SWAP-5-fires", "swap readahead hit ratio 0.2 at 100 pages/s",
    merge(meminfo(), sysctl(page_dash_cluster=3), vmstat(swap_ra=0, swap_ra_hit=0)),
    [("R-SWAP-5", "info", [("sysctl", "vm.page-cluster", "3", "0")])],
    s1=vmstat(swap_ra=1000, swap_ra_hit=200))
add("R-SWAP-5-quiet", "swap readahead hit ratio 0.6",
    merge(meminfo(), sysctl(page_dash_cluster=3), vmstat(swap_ra=0, swap_ra_hit=0)),
    [], s1=vmstat(swap_ra=1000, swap_ra_hit=600))
add("R-SWAP-6-fires", "200 pages/s swapped in with memory some avg60 8 %",
    merge(meminfo(**swap_used()), vmstat(pswpin=0), psi(some=(8, 8, 8))),
    [("R-SWAP-6", "warning", []), ("R-PSI-1", "info", [])],
    s1=merge(vmstat(pswpin=2000), psi(some=(8, 8, 8), total=(90000, 500))))
add("R-SWAP-6-quiet", "50 pages/s swapped in, same pressure",
    merge(meminfo(**swap_used()), vmstat(pswpin=0), psi(some=(8, 8, 8))),
    [("R-PSI-1", "info", [])],
    s1=merge(vmstat(pswpin=500), psi(some=(8, 8, 8), total=(90000, 500))))

# dirty.toml
BIG = dict(MemTotal=64 * 1048576, MemFree=32 * 1048576, MemAvailable=48 * 1048576)
BURST_VM = dict(nr_dirty=140000, nr_writeback=13600, nr_dirty_threshold=3000000,
                nr_dirty_background_threshold=1500000)
DIRTY_VM = dict(nr_dirty=1000, nr_writeback=0, nr_dirty_threshold=3000000,
                nr_dirty_background_threshold=1500000)
add("R-DIRTY-1-fires", "64 GiB database host with dirty_background_bytes 0 in a write burst "
    "(600 MiB dirty + writeback)",
    merge(meminfo(**BIG), vmstat(**BURST_VM),
          sysctl(dirty_background_bytes=0, dirty_background_ratio=10, dirty_bytes=268435456,
                 dirty_ratio=20)),
    [("R-DIRTY-1", "info", [("sysctl", "vm.dirty_background_bytes", "0", "67108864")])],
    config=DB)
add("R-DIRTY-1-quiet", "same host with dirty_background_bytes 64 MiB",
    merge(meminfo(**BIG), vmstat(**BURST_VM),
          sysctl(dirty_background_bytes=67108864, dirty_background_ratio=0, dirty_bytes=268435456,
                 dirty_ratio=0)),
    [], config=DB)
# Symptom-gated: the same ratios without a write burst (4 MiB dirty) leave the defaults alone.
add("R-DIRTY-1-quiet-calm", "64 GiB database host with ratios and 4 MiB dirty: no symptom",
    merge(meminfo(**BIG), vmstat(**DIRTY_VM),
          sysctl(dirty_background_bytes=0, dirty_background_ratio=10, dirty_bytes=0,
                 dirty_ratio=20)),
    [], config=DB)
add("R-DIRTY-2-fires", "64 GiB database host with dirty_bytes 0 and utilization 0.67",
    merge(meminfo(**BIG),
          vmstat(nr_dirty=100000, nr_writeback=0, nr_dirty_threshold=150000,
                 nr_dirty_background_threshold=75000),
          sysctl(dirty_background_bytes=67108864, dirty_background_ratio=0, dirty_bytes=0,
                 dirty_ratio=20)),
    [("R-DIRTY-2", "warning", [("sysctl", "vm.dirty_bytes", "0", "268435456")])], config=DB)
add("R-DIRTY-2-quiet", "same host with dirty_bytes 256 MiB",
    merge(meminfo(**BIG),
          vmstat(nr_dirty=100000, nr_writeback=0, nr_dirty_threshold=150000,
                 nr_dirty_background_threshold=75000),
          sysctl(dirty_background_bytes=67108864, dirty_background_ratio=0, dirty_bytes=268435456,
                 dirty_ratio=0)),
    [], config=DB)
add("R-DIRTY-3-fires", "dirty + writeback 120000 pages above the free-run ceiling 112500",
    merge(meminfo(), vmstat(nr_dirty=110000, nr_writeback=10000, nr_dirty_threshold=150000,
                            nr_dirty_background_threshold=75000),
          sysctl(dirty_background_bytes=0)),
    [("R-DIRTY-3", "warning", [("sysctl", "vm.dirty_background_bytes", "0", "67108864")])])
add("R-DIRTY-3-quiet", "dirty + writeback 100000 pages, below the ceiling",
    merge(meminfo(), vmstat(nr_dirty=90000, nr_writeback=10000, nr_dirty_threshold=150000,
                            nr_dirty_background_threshold=75000),
          sysctl(dirty_background_bytes=0)), [])
add("R-DIRTY-4-fires", "dirty_writeback_centisecs 0",
    merge(meminfo(), sysctl(dirty_writeback_centisecs=0)),
    [("R-DIRTY-4", "critical", [("sysctl", "vm.dirty_writeback_centisecs", "0", "500")])])
add("R-DIRTY-4-quiet", "dirty_writeback_centisecs 500",
    merge(meminfo(), sysctl(dirty_writeback_centisecs=500)), [])
add("R-DIRTY-5-fires", "dirty_background_ratio 20 above dirty_ratio 10",
    merge(meminfo(), sysctl(dirty_bytes=0, dirty_background_bytes=0, dirty_ratio=10,
                            dirty_background_ratio=20)),
    [("R-DIRTY-5", "warning", [("sysctl", "vm.dirty_background_ratio", "20", "5")])])
add("R-DIRTY-5-quiet", "dirty_background_ratio 5 below dirty_ratio 10",
    merge(meminfo(), sysctl(dirty_bytes=0, dirty_background_bytes=0, dirty_ratio=10,
                            dirty_background_ratio=5)), [])
add("R-DIRTY-6-fires", "dirty_bytes 128 MiB with dirty_background_bytes 64 MiB",
    merge(meminfo(), sysctl(dirty_bytes=134217728, dirty_background_bytes=67108864)),
    [("R-DIRTY-6", "info", [("sysctl", "vm.dirty_bytes", "134217728", "268435456")])])
add("R-DIRTY-6-quiet", "dirty_bytes exactly 4 x dirty_background_bytes",
    merge(meminfo(), sysctl(dirty_bytes=268435456, dirty_background_bytes=67108864)), [])

# overcommit.toml
OC_MEM = dict(AnonPages=4194304)
add("R-OC-1-fires", "database host in mode 0; Committed_AS 6 GiB fits a ratio of 70",
    merge(meminfo(Committed_AS=6291456, **OC_MEM),
          sysctl(overcommit_memory=0, overcommit_ratio=50, overcommit_kbytes=0,
                 admin_reserve_kbytes=8192)),
    [("R-OC-1", "info", [("sysctl", "vm.overcommit_memory", "0", "2"),
                         ("sysctl", "vm.overcommit_ratio", "50", "70"),
                         ("sysctl", "vm.admin_reserve_kbytes", "8192", "131072")])],
    config=DB)
add("R-OC-1-quiet", "the same host already in mode 2 with ratio 70",
    merge(meminfo(Committed_AS=6291456, CommitLimit=7969177, **OC_MEM),
          sysctl(overcommit_memory=2, overcommit_ratio=70, overcommit_kbytes=0,
                 admin_reserve_kbytes=131072)),
    [], config=DB)
add("R-OC-2-fires", "mode 2, Committed_AS at 95 % of CommitLimit",
    merge(meminfo(Committed_AS=6000000, CommitLimit=6291456, **OC_MEM),
          sysctl(overcommit_memory=2, overcommit_ratio=50, overcommit_kbytes=0)),
    [("R-OC-2", "warning", [("sysctl", "vm.overcommit_ratio", "50", "65")])])
add("R-OC-2-quiet", "mode 2, Committed_AS at 79 % of CommitLimit",
    merge(meminfo(Committed_AS=5000000, CommitLimit=6291456, **OC_MEM),
          sysctl(overcommit_memory=2, overcommit_ratio=50, overcommit_kbytes=0)), [])
add("R-OC-6-fires", "mode 2, Committed_AS 4.4 x the memory in use",
    merge(meminfo(Committed_AS=5000000, CommitLimit=6291456),
          sysctl(overcommit_memory=2, overcommit_ratio=50, overcommit_kbytes=0)),
    [("R-OC-6", "info", [])])
add("R-OC-6-quiet", "mode 2, Committed_AS 1.2 x the memory in use",
    merge(meminfo(Committed_AS=5000000, CommitLimit=6291456, **OC_MEM),
          sysctl(overcommit_memory=2, overcommit_ratio=50, overcommit_kbytes=0)), [])

# oom.toml
add("R-OOM-1-fires", "two OOM kills during the window",
    merge(meminfo(), vmstat(oom_kill=3)), [("R-OOM-1", "warning", [])], s1=vmstat(oom_kill=5))
add("R-OOM-1-quiet", "no OOM kill during the window (three before it: R-OOM-2)",
    merge(meminfo(), vmstat(oom_kill=3)), [("R-OOM-2", "info", [])], s1=vmstat(oom_kill=3))
add("R-OOM-2-fires", "OOM kills since boot, counters only",
    merge(meminfo(), vmstat(oom_kill=4)), [("R-OOM-2", "info", [])],
    not_evaluated=["R-OOM-1"])
add("R-OOM-2-quiet", "no OOM kill since boot", merge(meminfo(), vmstat(oom_kill=0)), [])
add("R-OOM-3-fires", "database host with panic_on_oom 1",
    merge(meminfo(), sysctl(panic_on_oom=1, oom_kill_allocating_task=0)),
    [("R-OOM-3", "warning", [("sysctl", "vm.panic_on_oom", "1", "0")])], config=DB)
add("R-OOM-3-quiet", "database host with the default OOM policy",
    merge(meminfo(), sysctl(panic_on_oom=0, oom_kill_allocating_task=0)), [], config=DB)

# numa.toml
add("R-NUMA-1-fires", "zone_reclaim_mode 1", merge(meminfo(), sysctl(zone_reclaim_mode=1)),
    [("R-NUMA-1", "warning", [("sysctl", "vm.zone_reclaim_mode", "1", "0")])])
add("R-NUMA-1-quiet", "zone_reclaim_mode 0", merge(meminfo(), sysctl(zone_reclaim_mode=0)), [])
add("R-NUMA-2-fires", "two-node database host with NUMA balancing on",
    merge(meminfo(), numa(2), sysctl(zone_reclaim_mode=0, kernel__numa_balancing=1)),
    [("R-NUMA-2", "info", [("sysctl", "kernel.numa_balancing", "1", "0")])], config=DB)
add("R-NUMA-2-quiet", "single-node database host with NUMA balancing on",
    merge(meminfo(), numa(1), sysctl(zone_reclaim_mode=0, kernel__numa_balancing=1)),
    [], config=DB)

# watermarks.toml (8 GiB: the kernel default min_free_kbytes is floor(sqrt(8388608*16)) = 11585)
add("R-WM-1-fires", "min_free_kbytes 1 GiB on an 8 GiB host (12.5 %)",
    merge(meminfo(), sysctl(min_free_kbytes=1048576)),
    [("R-WM-1", "warning", [("sysctl", "vm.min_free_kbytes", "1048576", "11585")])])
add("R-WM-1-fires-thp", "the same with THP enabled and two populated zones: 2 x 22528 kB",
    merge(meminfo(), sysctl(min_free_kbytes=1048576), thp(enabled="always"), zoneinfo(),
          {"proc/zoneinfo": zoneinfo()["proc/zoneinfo"] + zoneinfo()["proc/zoneinfo"].replace(
              "Normal", "DMA32")}),
    [("R-WM-1", "warning", [("sysctl", "vm.min_free_kbytes", "1048576", "45056")])])
add("R-WM-1-quiet", "min_free_kbytes 67584", merge(meminfo(), sysctl(min_free_kbytes=67584)), [])
add("R-WM-2-fires", "min_free_kbytes 512", merge(meminfo(), sysctl(min_free_kbytes=512)),
    [("R-WM-2", "critical", [("sysctl", "vm.min_free_kbytes", "512", "11585")])])
add("R-WM-2-quiet", "min_free_kbytes 1024", merge(meminfo(), sysctl(min_free_kbytes=1024)), [])
WM3 = dict(allocstall_normal=0, allocstall_movable=0, pgscan_direct=0, pgscan_kswapd=0,
           kswapd_low_wmark_hit_quickly=0)
add("R-WM-3-fires", "10 allocation stalls/s with 75 % of memory available",
    merge(meminfo(), vmstat(**WM3), sysctl(watermark_scale_factor=10)),
    [("R-WM-3", "warning", [("sysctl", "vm.watermark_scale_factor", "10", "50")])],
    s1=vmstat(allocstall_normal=90, allocstall_movable=10, pgscan_direct=10000,
              pgscan_kswapd=10000, kswapd_low_wmark_hit_quickly=20))
add("R-WM-3-quiet", "0.5 stalls/s, direct share 0.05",
    merge(meminfo(), vmstat(**WM3), sysctl(watermark_scale_factor=10)), [],
    s1=vmstat(allocstall_normal=5, allocstall_movable=0, pgscan_direct=500,
              pgscan_kswapd=10000, kswapd_low_wmark_hit_quickly=0))
add("R-WM-4-fires", "hugetlb reserved, THP never, a zone boosted",
    merge(meminfo(HugePages_Total=512, HugePages_Free=0, Hugetlb=1048576),
          sysctl(watermark_boost_factor=15000), thp(enabled="never", defrag="never"),
          zoneinfo(boost=1000)),
    [("R-WM-4", "info", [("sysctl", "vm.watermark_boost_factor", "15000", "0")])])
add("R-WM-4-quiet", "the same with no boost active",
    merge(meminfo(HugePages_Total=512, HugePages_Free=0, Hugetlb=1048576),
          sysctl(watermark_boost_factor=15000), thp(enabled="never", defrag="never"),
          zoneinfo(boost=0)), [])

# thp.toml
add("R-THP-1-fires", "database host with THP always and defrag always",
    merge(meminfo(), thp(enabled="always", defrag="always", khugepaged_defrag=0)),
    [("R-THP-1", "critical", [("thp", "enabled", "always", "never"),
                              ("thp", "defrag", "always", "never"),
                              ("kernel_cmdline", "transparent_hugepage", "", "never")])],
    config=DB, not_evaluated=["R-THP-2"])
add("R-THP-1-fires-warning", "database host with THP always and the default defrag",
    merge(meminfo(), thp(enabled="always", defrag="madvise", khugepaged_defrag=0)),
    [("R-THP-1", "warning", [("thp", "enabled", "always", "never"),
                             ("kernel_cmdline", "transparent_hugepage", "", "never")])],
    config=DB)
add("R-THP-1-quiet", "database host with THP madvise",
    merge(meminfo(), thp(enabled="madvise", defrag="madvise", khugepaged_defrag=0)), [],
    config=DB)
THP_VM0 = dict(compact_stall=0, compact_fail=0, thp_fault_alloc=0, thp_fault_fallback=0)
add("R-THP-2-fires", "5 compaction stalls/s, 80 % failing, defrag always",
    merge(meminfo(), thp(enabled="always", defrag="always"), vmstat(**THP_VM0)),
    [("R-THP-2", "warning", [("thp", "defrag", "always", "madvise")])],
    s1=vmstat(compact_stall=50, compact_fail=40, thp_fault_alloc=10, thp_fault_fallback=40))
add("R-THP-2-conflict", "the same on a database host: R-THP-1 (critical) proposes defrag "
    "never, R-THP-2 (warning) madvise; never wins",
    merge(meminfo(), thp(enabled="always", defrag="always", khugepaged_defrag=0),
          vmstat(**THP_VM0)),
    [("R-THP-1", "critical", [("thp", "enabled", "always", "never"),
                              ("thp", "defrag", "always", "never"),
                              ("kernel_cmdline", "transparent_hugepage", "", "never")]),
     ("R-THP-2", "warning", [("thp", "defrag", "always", "never")])],
    s1=vmstat(compact_stall=50, compact_fail=40, thp_fault_alloc=10, thp_fault_fallback=40),
    config=DB)
add("R-THP-2-quiet", "0.5 compaction stalls/s, 1 % fallback",
    merge(meminfo(), thp(enabled="always", defrag="always"), vmstat(**THP_VM0)), [],
    s1=vmstat(compact_stall=5, compact_fail=4, thp_fault_alloc=100, thp_fault_fallback=1))
add("R-THP-3-fires", "database host, THP madvise, khugepaged/defrag 1",
    merge(meminfo(), thp(khugepaged_defrag=1)),
    [("R-THP-3", "info", [("thp", "khugepaged/defrag", "1", "0")])], config=DB)
add("R-THP-3-quiet", "khugepaged/defrag 0", merge(meminfo(), thp(khugepaged_defrag=0)), [],
    config=DB)
add("R-THP-4-fires", "database host with shmem_enabled force",
    merge(meminfo(), thp(shmem="force", khugepaged_defrag=0)),
    [("R-THP-4", "warning", [("thp", "shmem_enabled", "force", "never")])], config=DB)
add("R-THP-4-quiet", "shmem_enabled never", merge(meminfo(), thp(khugepaged_defrag=0)), [],
    config=DB)

# hugepages.toml
add("R-HP-2-fires", "1000 of 1024 reserved 2 MiB pages unused",
    merge(meminfo(HugePages_Total=1024, HugePages_Free=1000, HugePages_Rsvd=0, Hugetlb=2097152),
          sysctl(nr_hugepages=1024)),
    [("R-HP-2", "warning", [("sysctl", "vm.nr_hugepages", "1024", "24")])])
add("R-HP-2-quiet", "50 of 1024 unused",
    merge(meminfo(HugePages_Total=1024, HugePages_Free=100, HugePages_Rsvd=50, Hugetlb=2097152),
          sysctl(nr_hugepages=1024)), [])
add("R-HP-3-fires", "database host allowing 64 surplus huge pages",
    merge(meminfo(), sysctl(nr_overcommit_hugepages=64)),
    [("R-HP-3", "info", [("sysctl", "vm.nr_overcommit_hugepages", "64", "0")])], config=DB)
add("R-HP-3-quiet", "no surplus pages", merge(meminfo(), sysctl(nr_overcommit_hugepages=0)), [],
    config=DB)
add("R-FRAG-1-fires", "1.2 GiB free, none of it in order-9 blocks",
    merge(meminfo(), buddyinfo(300000, 10000, 1000, 100, 0, 0, 0, 0, 0, 0, 0)),
    [("R-FRAG-1", "info", [])])
add("R-FRAG-1-quiet", "half the free memory in order 9 and 10 blocks",
    merge(meminfo(), buddyinfo(300000, 10000, 1000, 100, 0, 0, 0, 0, 0, 300, 200)), [])

# pagetables.toml (8 GiB host)
add("R-PT-1-fires", "page tables 3 % of memory, no hugetlb",
    meminfo(PageTables=251658), [("R-PT-1", "warning", [])])
add("R-PT-1-fires-critical", "page tables 6 % of memory",
    meminfo(PageTables=503316), [("R-PT-1", "critical", [])])
add("R-PT-1-quiet", "page tables 1.5 %", meminfo(PageTables=125829), [])

# limits.toml
add("R-MAP-1-fires", "max_map_count 32768", merge(meminfo(), sysctl(max_map_count=32768)),
    [("R-MAP-1", "warning", [("sysctl", "vm.max_map_count", "32768", "65530")])])
add("R-MAP-1-quiet", "max_map_count 65530", merge(meminfo(), sysctl(max_map_count=65530)), [])
add("R-VFS-1-fires", "vfs_cache_pressure 0", merge(meminfo(), sysctl(vfs_cache_pressure=0)),
    [("R-VFS-1", "critical", [("sysctl", "vm.vfs_cache_pressure", "0", "100")])])
add("R-VFS-1-fires-high", "vfs_cache_pressure 1000",
    merge(meminfo(), sysctl(vfs_cache_pressure=1000)),
    [("R-VFS-1", "warning", [("sysctl", "vm.vfs_cache_pressure", "1000", "100")])])
add("R-VFS-1-quiet", "vfs_cache_pressure 100", merge(meminfo(), sysctl(vfs_cache_pressure=100)),
    [])
add("R-SHM-1-fires", "shmall 1024 pages (4 MiB) with shmmax 64 GiB",
    merge(meminfo(), sysctl(kernel__shmall=1024, kernel__shmmax=68719476736)),
    [("R-SHM-1", "info", [("sysctl", "kernel.shmall", "1024", "16777216")])])
add("R-SHM-1-quiet", "the kernel's effectively unlimited defaults",
    merge(meminfo(), sysctl(kernel__shmall=18446744073692774399,
                            kernel__shmmax=18446744073692774399)), [])
add("R-STAT-1-fires", "stat_interval 10", merge(meminfo(), sysctl(stat_interval=10)),
    [("R-STAT-1", "info", [("sysctl", "vm.stat_interval", "10", "1")])])
add("R-STAT-1-quiet", "stat_interval 1", merge(meminfo(), sysctl(stat_interval=1)), [])

# pressure.toml
add("R-PSI-1-fires", "memory some avg60 12 %", merge(meminfo(), psi(some=(15, 12, 6))),
    [("R-PSI-1", "warning", [])])
add("R-PSI-1-fires-critical", "memory full avg10 15 %",
    merge(meminfo(), psi(some=(30, 20, 10), full=(15, 8, 3))), [("R-PSI-1", "critical", [])])
add("R-PSI-1-quiet", "memory some avg60 4 %", merge(meminfo(), psi(some=(4, 4, 2), full=(1, 1, 0))),
    [])
add("R-REFAULT-1-fires", "800 file refaults/s, 0.8 of stolen file pages",
    merge(meminfo(), vmstat(workingset_refault_file=0, pgsteal_file=0)),
    [("R-REFAULT-1", "warning", [])],
    s1=vmstat(workingset_refault_file=8000, pgsteal_file=10000))
add("R-REFAULT-1-quiet", "300 file refaults/s, 0.3 of stolen file pages",
    merge(meminfo(), vmstat(workingset_refault_file=0, pgsteal_file=0)), [],
    s1=vmstat(workingset_refault_file=3000, pgsteal_file=10000))

# cgroups.toml
EV0 = dict(low=0, high=0, max=12, oom=0, oom_kill=0)
add("R-CG-1-fires", "/db.slice at 93 % of a 1 GiB memory.max, no memory.high",
    merge(meminfo(), cgroup("/db.slice", 1000000000, 1073741824, EV0)),
    [("R-CG-1", "warning", [("cgroup", "memory.high", "max", "966365184", "/db.slice")])])
add("R-CG-1-quiet", "/db.slice at 78 %",
    merge(meminfo(), cgroup("/db.slice", 838860800, 1073741824, EV0)), [])
add("R-CG-2-fires", "two OOM kills inside /db.slice",
    merge(meminfo(), cgroup("/db.slice", 524288000, 1073741824, dict(EV0, oom=2, oom_kill=2))),
    [("R-CG-2", "warning", [])])
add("R-CG-2-quiet", "no OOM kill inside /db.slice",
    merge(meminfo(), cgroup("/db.slice", 524288000, 1073741824, EV0)), [])


# ---- writer --------------------------------------------------------------------------------

def write_tree(root, files):
    for rel, content in files.items():
        p = os.path.join(root, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "w") as f:
            f.write(content)


def rec_json(r):
    out = {"kind": r[0], "key": r[1], "current": r[2], "proposed": r[3]}
    if len(r) > 4:
        out["target"] = r[4]
    return out


def main():
    for name in os.listdir(HERE):
        if any(t in name for t in ("-fires", "-quiet", "-conflict")):
            shutil.rmtree(os.path.join(HERE, name))
    for name, sc in sorted(S.items()):
        d = os.path.join(HERE, name)
        os.makedirs(d)
        if sc["s1"] is None:
            write_tree(d, sc["files"])
        else:
            s1 = dict(sc["files"])
            s1.update(sc["s1"])
            write_tree(os.path.join(d, "s0"), sc["files"])
            write_tree(os.path.join(d, "s1"), s1)
            meta = {"format": 1,
                    "host": {"arch": "x86_64", "clk_tck": 100, "cpus": 2, "hostname": "scenario",
                             "kernel_release": "6.18.0", "page_size": 4096,
                             "time_unix_ms": 1700000010000, "vmtune_version": "0.1.0"},
                    "redacted": False,
                    "samples": [{"dir": "s0", "monotonic_s": 1000.0, "time_unix_ms": 1700000000000},
                                {"dir": "s1", "monotonic_s": 1010.0, "time_unix_ms": 1700000010000}],
                    "extras": {}}
            with open(os.path.join(d, "meta.json"), "w") as f:
                json.dump(meta, f, indent=2)
                f.write("\n")
        if sc["config"]:
            with open(os.path.join(d, "vmtune.toml"), "w") as f:
                f.write(sc["config"])
        expected = {
            "description": sc["why"],
            "findings": [{"rule_id": fid, "severity": sev,
                          "recommendations": [rec_json(r) for r in recs]}
                         for fid, sev, recs in sc["findings"]],
            "not_evaluated": sc["not_evaluated"],
        }
        with open(os.path.join(d, "expected.json"), "w") as f:
            json.dump(expected, f, indent=2)
            f.write("\n")


if __name__ == "__main__":
    main()
