// SPDX-License-Identifier: GPL-2.0-or-later
#include "plan/limits.hpp"

#include <algorithm>
#include <array>
#include <limits>
#include <string>

#include "core/escape.hpp"
#include "core/parse.hpp"

namespace vmtune::plan {
namespace {

constexpr std::int64_t kIntMin = std::numeric_limits<std::int32_t>::min();
constexpr std::uint64_t kIntMax = std::numeric_limits<std::int32_t>::max();
constexpr std::uint64_t kUlongMax = std::numeric_limits<std::uint64_t>::max();  // 64-bit kernels
// Page-size dependent limits assume 4 KiB pages (x86-64, the machines vmtune targets).
constexpr std::uint64_t kPageSize = 4096;
// 385d838df280: dirty limits above UINT_MAX pages are refused with ERANGE.
constexpr std::uint64_t kDirtyBytesMax = std::uint64_t{std::numeric_limits<std::uint32_t>::max()} *
                                         kPageSize;  // 17592186040320 = 16 TiB - 4 KiB
// proc_dointvec_jiffies refuses |seconds| > INT_MAX / HZ; HZ is at most 1000 on the kernels
// vmtune meets (100, 250, 300, 1000), so INT_MAX / 1000 is accepted everywhere.
constexpr std::uint64_t kJiffiesSecondsMax = kIntMax / 1000;

constexpr KernelVersion kAny{0, 0};

// The rows. Within one key, rows are ordered by version and do not overlap. References name the
// handler and its bounds as the kernel source has them; "kernel/sysctl.c vm_table" is where most
// vm.* entries lived until the 6.x series moved each next to its code ("now" in the file field).
constexpr std::array kLimits = std::to_array<KeyLimit>({
    // ---- reclaim ------------------------------------------------------------------------------
    {.key = "vm.swappiness",
     .since = kAny,
     .until = {5, 8},
     .min = 0,
     .max = 100,
     .unit = "",
     .file = "kernel/sysctl.c",
     .reference = "vm_table: proc_dointvec_minmax, extra1 &zero, extra2 &one_hundred",
     .note = "0 = do not swap until free + file pages fall below the high watermark"},
    {.key = "vm.swappiness",
     .since = {5, 8},
     .until = kAny,
     .min = 0,
     .max = 200,
     .unit = "",
     .file = "mm/vmscan.c",
     .reference =
         "proc_dointvec_minmax, extra1 SYSCTL_ZERO, extra2 SYSCTL_TWO_HUNDRED (c843966c556d "
         "\"mm: allow swappiness that prefers reclaiming anon over the file workingset\", "
         "5.8); kernel/sysctl.c vm_table until moved to vmscan_sysctl_table",
     .note = "values above 100 prefer reclaiming anon (swap) over file pages"},
    {.key = "vm.zone_reclaim_mode",
     .min = 0,
     .max = kIntMax,
     .max_stated = false,
     .conservative = true,
     .unit = "bitmask",
     .file = "mm/vmscan.c",
     .reference = "proc_dointvec_minmax, extra1 SYSCTL_ZERO, no extra2 (kernel/sysctl.c vm_table "
                  "before the move; older kernels used plain proc_dointvec, which also takes "
                  "negative values)",
     .note = "bits: 1 zone reclaim, 2 write dirty pages, 4 swap; only 0..7 mean anything. NUMA "
             "kernels only"},
    {.key = "vm.min_unmapped_ratio",
     .min = 0,
     .max = 100,
     .unit = "%",
     .file = "mm/page_alloc.c",
     .reference = "sysctl_min_unmapped_ratio_sysctl_handler: proc_dointvec_minmax, extra1 "
                  "SYSCTL_ZERO, extra2 SYSCTL_ONE_HUNDRED",
     .note = "NUMA kernels only; used only by zone reclaim"},
    {.key = "vm.min_slab_ratio",
     .min = 0,
     .max = 100,
     .unit = "%",
     .file = "mm/page_alloc.c",
     .reference = "sysctl_min_slab_ratio_sysctl_handler: proc_dointvec_minmax, extra1 "
                  "SYSCTL_ZERO, extra2 SYSCTL_ONE_HUNDRED",
     .note = "NUMA kernels only; used only by zone reclaim"},
    {.key = "vm.vfs_cache_pressure",
     .min = 0,
     .max = kIntMax,
     .max_stated = false,
     .unit = "",
     .file = "fs/dcache.c",
     .reference = "vm_dcache_sysctls: proc_dointvec_minmax, extra1 SYSCTL_ZERO, no extra2 "
                  "(kernel/sysctl.c vm_table before)",
     .note = "0 never reclaims dentries and inodes (can OOM)"},
    {.key = "vm.vfs_cache_pressure_denom",
     .min = 100,
     .max = kIntMax,
     .max_stated = false,
     .unit = "",
     .file = "fs/dcache.c",
     .reference = "vm_dcache_sysctls: proc_dointvec_minmax, extra1 SYSCTL_ONE_HUNDRED, no extra2",
     .note = "recent kernels only; pressure = vfs_cache_pressure / vfs_cache_pressure_denom"},
    // ---- watermarks ---------------------------------------------------------------------------
    {.key = "vm.min_free_kbytes",
     .min = 0,
     .max = kIntMax,
     .max_stated = false,
     .unit = "kB",
     .file = "mm/page_alloc.c",
     .reference = "min_free_kbytes_sysctl_handler: proc_dointvec_minmax, extra1 SYSCTL_ZERO, "
                  "no extra2; the handler does not clamp",
     .note = "the 65536 / 262144 kB cap applies only to the boot-time default; a written value "
             "stops the kernel recomputing it; too high a value OOMs the machine at once"},
    {.key = "vm.watermark_boost_factor",
     .min = 0,
     .max = kIntMax,
     .max_stated = false,
     .unit = "1/10000 of the high watermark",
     .file = "mm/page_alloc.c",
     .reference = "proc_dointvec_minmax, extra1 SYSCTL_ZERO, no extra2 (5.0+; kernel/sysctl.c "
                  "vm_table before the move)",
     .note = "0 disables boosting"},
    {.key = "vm.watermark_scale_factor",
     .since = kAny,
     .until = {5, 17},
     .min = 1,
     .max = 1000,
     .conservative = true,
     .unit = "1/10000 of managed memory",
     .file = "kernel/sysctl.c",
     .reference = "vm_table: watermark_scale_factor_sysctl_handler, extra1 SYSCTL_ONE, extra2 "
                  "&one_thousand (4.6+)",
     .note = "stable 5.10.186+ and 5.15.58+ took the 3000 limit (39c65a94cd96); 1000 is the "
             "limit every kernel of this range accepts"},
    {.key = "vm.watermark_scale_factor",
     .since = {5, 17},
     .until = kAny,
     .min = 1,
     .max = 3000,
     .unit = "1/10000 of managed memory",
     .file = "mm/page_alloc.c",
     .reference = "watermark_scale_factor_sysctl_handler: proc_dointvec_minmax, extra1 "
                  "SYSCTL_ONE, extra2 SYSCTL_THREE_THOUSAND (39c65a94cd96 \"mm/pagealloc: sysctl: "
                  "change watermark_scale_factor max limit to 30%\")",
     .note = "3000 = watermark gaps of 30% of memory"},
    // ---- writeback ----------------------------------------------------------------------------
    {.key = "vm.dirty_background_ratio",
     .min = 0,
     .max = 100,
     .unit = "% of dirtyable memory",
     .file = "mm/page-writeback.c",
     .reference = "dirty_background_ratio_handler: proc_dointvec_minmax, extra1 SYSCTL_ZERO, "
                  "extra2 SYSCTL_ONE_HUNDRED (kernel/sysctl.c vm_table before 6.0)",
     .note = "a successful write sets dirty_background_bytes to 0"},
    {.key = "vm.dirty_background_bytes",
     .since = kAny,
     .until = {6, 10},
     .min = 1,
     .max = kDirtyBytesMax,
     .conservative = true,
     .unit = "bytes",
     .file = "mm/page-writeback.c",
     .reference = "dirty_background_bytes_handler: proc_doulongvec_minmax, extra1 &one_ul / "
                  "SYSCTL_LONG_ONE, no extra2",
     .note = "0 is refused: go back to the ratio by writing dirty_background_ratio. Mainline "
             "before 6.10 takes up to ULONG_MAX; the stable series that took 385d838df280 refuse "
             "more than UINT_MAX pages (ERANGE), so the table keeps that cap"},
    {.key = "vm.dirty_background_bytes",
     .since = {6, 10},
     .until = kAny,
     .min = 1,
     .max = kDirtyBytesMax,
     .unit = "bytes",
     .file = "mm/page-writeback.c",
     .reference = "dirty_background_bytes_handler: proc_doulongvec_minmax, extra1 "
                  "SYSCTL_LONG_ONE; DIV_ROUND_UP(bytes, PAGE_SIZE) > UINT_MAX -> ERANGE "
                  "(385d838df280 \"mm: avoid overflows in dirty throttling logic\")",
     .note = "0 is refused (EINVAL): go back to the ratio by writing dirty_background_ratio; "
             "above the maximum the error is ERANGE; a successful write sets "
             "dirty_background_ratio to 0"},
    {.key = "vm.dirty_ratio",
     .min = 0,
     .max = 100,
     .unit = "% of dirtyable memory",
     .file = "mm/page-writeback.c",
     .reference = "dirty_ratio_handler: proc_dointvec_minmax, extra1 SYSCTL_ZERO, extra2 "
                  "SYSCTL_ONE_HUNDRED (kernel/sysctl.c vm_table before 6.0)",
     .note = "a write that changes it sets dirty_bytes to 0"},
    {.key = "vm.dirty_bytes",
     .since = kAny,
     .until = {6, 10},
     .min = 2 * kPageSize,
     .max = kDirtyBytesMax,
     .conservative = true,
     .unit = "bytes",
     .file = "mm/page-writeback.c",
     .reference = "dirty_bytes_handler: proc_doulongvec_minmax, extra1 &dirty_bytes_min "
                  "(2 * PAGE_SIZE), no extra2",
     .note = "minimum two pages (8192 with 4 KiB pages); 0 is refused: go back to the ratio by "
             "writing dirty_ratio. Mainline before 6.10 takes up to ULONG_MAX; the stable series "
             "that took 385d838df280 refuse more than UINT_MAX pages, so the table keeps that "
             "cap"},
    {.key = "vm.dirty_bytes",
     .since = {6, 10},
     .until = kAny,
     .min = 2 * kPageSize,
     .max = kDirtyBytesMax,
     .unit = "bytes",
     .file = "mm/page-writeback.c",
     .reference = "dirty_bytes_handler: proc_doulongvec_minmax, extra1 &dirty_bytes_min "
                  "(2 * PAGE_SIZE); DIV_ROUND_UP(bytes, PAGE_SIZE) > UINT_MAX -> ERANGE "
                  "(385d838df280)",
     .note = "minimum two pages (8192 with 4 KiB pages); 0 is refused: go back to the ratio by "
             "writing dirty_ratio; above the maximum the error is ERANGE"},
    {.key = "vm.dirty_writeback_centisecs",
     .min = kIntMin,
     .max = kIntMax,
     .min_stated = false,
     .max_stated = false,
     .unit = "centisecs",
     .file = "mm/page-writeback.c",
     .reference = "dirty_writeback_centisecs_handler: proc_dointvec, no bound (int)",
     .note = "0 disables periodic writeback; a negative value is taken and stored in an "
             "unsigned int"},
    {.key = "vm.dirty_expire_centisecs",
     .min = 0,
     .max = kIntMax,
     .max_stated = false,
     .unit = "centisecs",
     .file = "mm/page-writeback.c",
     .reference = "proc_dointvec_minmax, extra1 SYSCTL_ZERO, no extra2",
     .note = ""},
    // ---- swap ---------------------------------------------------------------------------------
    {.key = "vm.page-cluster",
     .since = kAny,
     .until = {6, 2},
     .min = 0,
     .max = kIntMax,
     .max_stated = false,
     .unit = "log2 pages",
     .file = "kernel/sysctl.c",
     .reference = "vm_table: proc_dointvec_minmax, extra1 SYSCTL_ZERO, no extra2",
     .note = "values above 31 overflow the readahead shift on these kernels"},
    {.key = "vm.page-cluster",
     .since = {6, 2},
     .until = kAny,
     .min = 0,
     .max = 31,
     .unit = "log2 pages",
     .file = "mm/swap.c",
     .reference = "proc_dointvec_minmax, extra1 SYSCTL_ZERO, extra2 &page_cluster_max = 31 "
                  "(\"swap: add a limit for readahead page-cluster value\", Kairui Song, 6.2)",
     .note = "0 = one page, no swap readahead"},
    // ---- statistics ---------------------------------------------------------------------------
    {.key = "vm.stat_interval",
     .min = -static_cast<std::int64_t>(kJiffiesSecondsMax),
     .max = kJiffiesSecondsMax,
     .conservative = true,
     .unit = "seconds",
     .file = "mm/vmstat.c",
     .reference = "proc_dointvec_jiffies: refuses |seconds| > INT_MAX / HZ; keeps the sign "
                  "(kernel/sysctl.c vm_table before the move)",
     .note = "the bound depends on HZ: INT_MAX / 1000 = 2147483 is accepted with any HZ up to "
             "1000; a negative value is accepted too and must never be proposed"},
    {.key = "vm.numa_stat",
     .min = 0,
     .max = 1,
     .unit = "",
     .file = "mm/vmstat.c",
     .reference = "sysctl_vm_numa_stat_handler: proc_dointvec_minmax, extra1 SYSCTL_ZERO, "
                  "extra2 SYSCTL_ONE",
     .note = "NUMA kernels only; writing 0 zeroes the NUMA counters"},
    // ---- compaction ---------------------------------------------------------------------------
    {.key = "vm.extfrag_threshold",
     .min = 0,
     .max = 1000,
     .unit = "fragmentation index",
     .file = "mm/compaction.c",
     .reference = "proc_dointvec_minmax, extra1 &min_extfrag_threshold = 0, extra2 "
                  "&max_extfrag_threshold = 1000",
     .note = "CONFIG_COMPACTION only"},
    {.key = "vm.compaction_proactiveness",
     .min = 0,
     .max = 100,
     .unit = "",
     .file = "mm/compaction.c",
     .reference = "compaction_proactiveness_sysctl_handler: proc_dointvec_minmax, extra1 "
                  "SYSCTL_ZERO, extra2 SYSCTL_ONE_HUNDRED (5.9+)",
     .note = "a non-zero write wakes kcompactd at once"},
    {.key = "vm.compact_unevictable_allowed",
     .min = 0,
     .max = 1,
     .unit = "",
     .file = "mm/compaction.c",
     .reference = "proc_dointvec_minmax_warn_RT_change, extra1 SYSCTL_ZERO, extra2 SYSCTL_ONE",
     .note = ""},
    {.key = "vm.compact_memory",
     .min = 1,
     .max = 1,
     .conservative = true,
     .unit = "trigger",
     .file = "mm/compaction.c",
     .reference = "sysctl_compaction_handler (write-only, mode 0200)",
     .note = "vm.rst documents writing 1; some kernels take any integer. A trigger, not a "
             "setting: never put it in sysctl.d"},
    {.key = "vm.defrag_mode",
     .min = 0,
     .max = 1,
     .unit = "",
     .file = "mm/page_alloc.c",
     .reference = "proc_dointvec_minmax, extra1 SYSCTL_ZERO, extra2 SYSCTL_ONE (6.15+)",
     .note = ""},
    // ---- overcommit and OOM -------------------------------------------------------------------
    {.key = "vm.overcommit_memory",
     .min = 0,
     .max = 2,
     .unit = "mode",
     .file = "mm/util.c",
     .reference = "overcommit_policy_handler (5.9+; proc_dointvec_minmax in kernel/sysctl.c "
                  "before): extra1 SYSCTL_ZERO, extra2 SYSCTL_TWO",
     .note = "0 heuristic, 1 always, 2 never (strict)"},
    {.key = "vm.overcommit_ratio",
     .min = kIntMin,
     .max = kIntMax,
     .min_stated = false,
     .max_stated = false,
     .unit = "%",
     .file = "mm/util.c",
     .reference = "overcommit_ratio_handler: proc_dointvec, no bound (int)",
     .note = "a write sets overcommit_kbytes to 0; negative values are taken"},
    {.key = "vm.overcommit_kbytes",
     .min = 0,
     .max = kUlongMax,
     .min_stated = false,
     .max_stated = false,
     .unit = "kB",
     .file = "mm/util.c",
     .reference = "overcommit_kbytes_handler: proc_doulongvec_minmax without extra1/extra2 "
                  "(unsigned long)",
     .note = "a write sets overcommit_ratio to 0"},
    {.key = "vm.admin_reserve_kbytes",
     .min = 0,
     .max = kUlongMax,
     .min_stated = false,
     .max_stated = false,
     .unit = "kB",
     .file = "kernel/sysctl.c",
     .reference = "vm_table: proc_doulongvec_minmax without extra1/extra2 (unsigned long); in mm/ "
                  "after the 6.x sysctl moves",
     .note = ""},
    {.key = "vm.user_reserve_kbytes",
     .min = 0,
     .max = kUlongMax,
     .min_stated = false,
     .max_stated = false,
     .unit = "kB",
     .file = "kernel/sysctl.c",
     .reference = "vm_table: proc_doulongvec_minmax without extra1/extra2 (unsigned long); in mm/ "
                  "after the 6.x sysctl moves",
     .note = ""},
    {.key = "vm.max_map_count",
     .min = 0,
     .max = kIntMax,
     .max_stated = false,
     .unit = "mappings",
     .file = "kernel/sysctl.c",
     .reference = "vm_table: proc_dointvec_minmax, extra1 SYSCTL_ZERO, no extra2; in mm/ after the "
                  "6.x sysctl moves",
     .note = ""},
    {.key = "vm.panic_on_oom",
     .min = 0,
     .max = 2,
     .unit = "mode",
     .file = "mm/oom_kill.c",
     .reference = "vm_oom_kill_table: proc_dointvec_minmax, extra1 SYSCTL_ZERO, extra2 "
                  "SYSCTL_TWO (kernel/sysctl.c vm_table before 6.0)",
     .note = "0 kill a task, 1 panic unless constrained, 2 always panic"},
    {.key = "vm.oom_kill_allocating_task",
     .min = kIntMin,
     .max = kIntMax,
     .min_stated = false,
     .max_stated = false,
     .unit = "",
     .file = "mm/oom_kill.c",
     .reference = "vm_oom_kill_table: proc_dointvec, no bound (int)",
     .note = "non-zero kills the allocating task"},
    {.key = "vm.oom_dump_tasks",
     .min = kIntMin,
     .max = kIntMax,
     .min_stated = false,
     .max_stated = false,
     .unit = "",
     .file = "mm/oom_kill.c",
     .reference = "vm_oom_kill_table: proc_dointvec, no bound (int)",
     .note = "non-zero dumps the task list on OOM"},
    // ---- hugetlb ------------------------------------------------------------------------------
    {.key = "vm.nr_hugepages",
     .min = 0,
     .max = kUlongMax,
     .min_stated = false,
     .max_stated = false,
     .unit = "pages",
     .file = "mm/hugetlb.c",
     .reference = "hugetlb_sysctl_handler -> proc_doulongvec_minmax (unsigned long), no bound",
     .note = "the pool grows only as far as free contiguous memory allows: read it back. EINVAL "
             "when the default huge page size is gigantic and cannot be allocated at run time"},
    {.key = "vm.nr_hugepages_mempolicy",
     .min = 0,
     .max = kUlongMax,
     .min_stated = false,
     .max_stated = false,
     .unit = "pages",
     .file = "mm/hugetlb.c",
     .reference = "hugetlb_mempolicy_sysctl_handler -> proc_doulongvec_minmax, no bound",
     .note = "NUMA kernels only; allocates on the writer's memory policy nodes"},
    {.key = "vm.nr_overcommit_hugepages",
     .min = 0,
     .max = kUlongMax,
     .min_stated = false,
     .max_stated = false,
     .unit = "pages",
     .file = "mm/hugetlb.c",
     .reference = "hugetlb_overcommit_handler -> proc_doulongvec_minmax, no bound",
     .note = "EINVAL when the default huge page size is gigantic (1 GiB)"},
    {.key = "vm.hugetlb_shm_group",
     .min = kIntMin,
     .max = kIntMax,
     .min_stated = false,
     .max_stated = false,
     .unit = "gid",
     .file = "mm/hugetlb.c",
     .reference = "proc_dointvec, no bound (int)",
     .note = "a group id"},
    // ---- kernel.* -----------------------------------------------------------------------------
    {.key = "kernel.numa_balancing",
     .since = kAny,
     .until = {5, 18},
     .min = 0,
     .max = 1,
     .unit = "mode",
     .file = "kernel/sysctl.c",
     .reference = "kern_table: sysctl_numa_balancing, extra1 SYSCTL_ZERO, extra2 SYSCTL_ONE",
     .note = "CONFIG_NUMA_BALANCING only"},
    {.key = "kernel.numa_balancing",
     .since = {5, 18},
     .until = kAny,
     .min = 0,
     .max = 4,
     .unit = "mode bits",
     .file = "kernel/sched/core.c",
     .reference = "sched_core_sysctls: sysctl_numa_balancing, extra1 SYSCTL_ZERO, extra2 "
                  "SYSCTL_FOUR (c574bbe91703 \"NUMA balancing: optimize page placement for "
                  "memory tiering system\", 5.18; kernel/sysctl.c kern_table before the 2022 move)",
     .note = "documented: 0 off, 1 normal, 2 memory tiering, 3 both; 4 passes the bound but "
             "names no mode"},
    {.key = "kernel.shmmax",
     .min = 0,
     .max = kUlongMax,
     .min_stated = false,
     .max_stated = false,
     .unit = "bytes",
     .file = "ipc/ipc_sysctl.c",
     .reference = "proc_ipc_doulongvec_minmax, no bound (unsigned long)",
     .note = "per IPC namespace; default ULONG_MAX - 2^24 since 3.16"},
    {.key = "kernel.shmall",
     .min = 0,
     .max = kUlongMax,
     .min_stated = false,
     .max_stated = false,
     .unit = "pages",
     .file = "ipc/ipc_sysctl.c",
     .reference = "proc_ipc_doulongvec_minmax, no bound (unsigned long)",
     .note = "per IPC namespace; default ULONG_MAX - 2^24 since 3.16"},
    {.key = "kernel.shmmni",
     .min = 0,
     .max = 32768,
     .conservative = true,
     .unit = "segments",
     .file = "ipc/ipc_sysctl.c",
     .reference = "proc_ipc_dointvec_minmax, extra1 SYSCTL_ZERO, extra2 &ipc_mni (IPCMNI)",
     .note = "IPCMNI = 32768; the ipcmni_extend boot parameter raises it to 16777216"},
});

constexpr std::array kBootParams = std::to_array<BootParam>({
    {.name = "transparent_hugepage",
     .accepted = "always | madvise | never",
     .file = "mm/huge_memory.c",
     .reference = "setup_transparent_hugepage (__setup \"transparent_hugepage=\"); "
                  "Documentation/admin-guide/mm/transhuge.rst. Anything else is ignored with "
                  "\"transparent_hugepage= cannot parse, ignored\""},
    {.name = "hugepagesz",
     .accepted = "a huge page size the CPU supports: 2M, or 1G with pdpe1gb (x86-64); "
                 "memparse syntax (2M, 2048K, 1G, ...)",
     .file = "mm/hugetlb.c",
     .reference = "hugepagesz_setup -> arch_hugetlb_valid_size (arch/x86/mm/hugetlbpage.c); "
                  "Documentation/admin-guide/mm/hugetlbpage.rst"},
    {.name = "default_hugepagesz",
     .accepted = "a huge page size the CPU supports: 2M, or 1G with pdpe1gb (x86-64)",
     .file = "mm/hugetlb.c",
     .reference = "default_hugepagesz_setup -> arch_hugetlb_valid_size; hugetlbpage.rst"},
    {.name = "hugepages",
     .accepted = "a page count N, or per node \"node:N[,node:N...]\" (5.14+); applies to the "
                 "hugepagesz= before it, else the default size",
     .file = "mm/hugetlb.c",
     .reference = "hugepages_setup; hugetlbpage.rst (\"hugepages=0:1,1:2\")"},
});

// "6" -> 6; at most 6 digits, like rules/metrics_kernel.cpp's kernel_part.
std::optional<int> leading_number(std::string_view& text) noexcept {
  std::size_t n = 0;
  while (n < text.size() && text[n] >= '0' && text[n] <= '9') ++n;
  if (n == 0 || n > 6) return std::nullopt;
  int v = 0;
  for (std::size_t i = 0; i < n; ++i) v = v * 10 + (text[i] - '0');
  text.remove_prefix(n);
  return v;
}

// A decimal integer as a sign and a magnitude: "-12" -> {true, 12}. Canonical form only: no '+',
// no leading zeros (the kernel parses with base 0, so "010" would be octal 8 and "0x10" hex), no
// "-0", no inner spaces; surrounding whitespace (and a trailing newline) is allowed as the kernel
// allows it.
struct Decimal {
  bool negative = false;
  std::uint64_t magnitude = 0;
  bool overflow = false;  ///< more than 2^64 - 1
};

enum class DecimalProblem { none, empty, not_decimal, leading_zero };

DecimalProblem parse_decimal(std::string_view text, Decimal& out) noexcept {
  text = core::trim(text);
  if (text.empty()) return DecimalProblem::empty;
  out = Decimal{};
  if (text.front() == '-') {
    out.negative = true;
    text.remove_prefix(1);
  }
  if (text.empty()) return DecimalProblem::not_decimal;
  for (const char c : text) {
    if (c < '0' || c > '9') return DecimalProblem::not_decimal;
  }
  if (text.size() > 1 && text.front() == '0') return DecimalProblem::leading_zero;
  if (out.negative && text == "0") return DecimalProblem::leading_zero;
  constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();
  for (const char c : text) {
    const auto d = static_cast<std::uint64_t>(c - '0');
    if (out.magnitude > (kMax - d) / 10) {
      out.overflow = true;
      return DecimalProblem::none;
    }
    out.magnitude = out.magnitude * 10 + d;
  }
  return DecimalProblem::none;
}

bool in_range(const Decimal& v, const KeyLimit& limit) noexcept {
  if (v.overflow) return false;
  if (v.negative) {
    if (limit.min >= 0) return false;
    // -magnitude >= min  <=>  magnitude <= -min (min > INT64_MIN in every row)
    return v.magnitude <= static_cast<std::uint64_t>(-limit.min);
  }
  if (limit.min > 0 && v.magnitude < static_cast<std::uint64_t>(limit.min)) return false;
  return v.magnitude <= limit.max;
}

std::string version_text(const KernelVersion& v) {
  return std::to_string(v.major) + "." + std::to_string(v.minor);
}

// "(mm/vmscan.c, 5.8+)", "(kernel/sysctl.c, before 5.8)", "(mm/util.c; no upper bound: the
// type's range)".
std::string where(const KeyLimit& limit) {
  std::string s = "(";
  s += limit.file;
  const bool since = limit.since != kAny;
  const bool until = limit.until != kAny;
  if (since && until) {
    s += ", " + version_text(limit.since) + " to before " + version_text(limit.until);
  } else if (since) {
    s += ", " + version_text(limit.since) + "+";
  } else if (until) {
    s += ", before " + version_text(limit.until);
  }
  if (!limit.min_stated && !limit.max_stated) {
    s += "; no bound: the type's range";
  } else if (!limit.max_stated) {
    s += "; no upper bound: the type's range";
  }
  if (limit.conservative) s += "; the limit every such kernel accepts";
  s += ")";
  return s;
}

std::string range_text(const KeyLimit& limit) {
  return "the kernel accepts " + std::to_string(limit.min) + " to " + std::to_string(limit.max) +
         " " + where(limit);
}

std::string_view strip_equals(std::string_view name) noexcept {
  if (!name.empty() && name.back() == '=') name.remove_suffix(1);
  return name;
}

// memparse: a number in base 0 (decimal, 0x hex, 0 octal) and an optional K/M/G/T/P/E suffix.
std::optional<std::uint64_t> memparse(std::string_view text) noexcept {
  int base = 10;
  if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    base = 16;
    text.remove_prefix(2);
  } else if (text.size() > 1 && text[0] == '0') {
    base = 8;
    text.remove_prefix(1);
  }
  std::uint64_t v = 0;
  std::size_t n = 0;
  for (; n < text.size(); ++n) {
    const char c = text[n];
    int d = -1;
    if (c >= '0' && c <= '9') d = c - '0';
    if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
    if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
    if (d < 0 || d >= base) break;
    if (v > (std::numeric_limits<std::uint64_t>::max() - static_cast<unsigned>(d)) /
                static_cast<unsigned>(base)) {
      return std::nullopt;
    }
    v = v * static_cast<unsigned>(base) + static_cast<unsigned>(d);
  }
  if (n == 0 && base != 8) return std::nullopt;  // "0" alone parses as octal 0
  text.remove_prefix(n);
  int shift = 0;
  if (!text.empty()) {
    switch (text.front()) {
      case 'E':
      case 'e':
        shift = 60;
        break;
      case 'P':
      case 'p':
        shift = 50;
        break;
      case 'T':
      case 't':
        shift = 40;
        break;
      case 'G':
      case 'g':
        shift = 30;
        break;
      case 'M':
      case 'm':
        shift = 20;
        break;
      case 'K':
      case 'k':
        shift = 10;
        break;
      default:
        return std::nullopt;
    }
    text.remove_prefix(1);
  }
  if (!text.empty()) return std::nullopt;
  if (shift > 0 && v > (std::numeric_limits<std::uint64_t>::max() >> shift)) return std::nullopt;
  return v << shift;
}

bool all_digits(std::string_view s) noexcept {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// hugepages=: "N" or "node:N[,node:N...]".
bool valid_hugepages(std::string_view v) noexcept {
  if (all_digits(v)) return true;
  if (v.empty()) return false;
  while (!v.empty()) {
    const auto comma = v.find(',');
    const std::string_view item = v.substr(0, comma);
    const auto colon = item.find(':');
    if (colon == std::string_view::npos || !all_digits(item.substr(0, colon)) ||
        !all_digits(item.substr(colon + 1))) {
      return false;
    }
    if (comma == std::string_view::npos) break;
    v.remove_prefix(comma + 1);
    if (v.empty()) return false;  // trailing comma
  }
  return true;
}

}  // namespace

std::optional<KernelVersion> parse_kernel_release(std::string_view release) noexcept {
  const auto major = leading_number(release);
  if (!major || release.empty() || release.front() != '.') return std::nullopt;
  release.remove_prefix(1);
  const auto minor = leading_number(release);
  if (!minor) return std::nullopt;
  return KernelVersion{*major, *minor};
}

const KeyLimit* find_limit(std::string_view key, const KernelVersion& kernel) noexcept {
  for (const KeyLimit& row : kLimits) {
    if (row.key != key) continue;
    if (row.since != kAny && kernel < row.since) continue;
    if (row.until != kAny && !(kernel < row.until)) continue;
    return &row;
  }
  return nullptr;
}

std::span<const KeyLimit> all_limits() noexcept { return kLimits; }

std::optional<std::string> check_value(std::string_view key, std::string_view value,
                                       int kernel_major, int kernel_minor) {
  const KeyLimit* limit = find_limit(key, KernelVersion{kernel_major, kernel_minor});
  if (limit == nullptr) return std::nullopt;
  const std::string head = std::string(key) + " = ";
  Decimal d;
  switch (parse_decimal(value, d)) {
    case DecimalProblem::none:
      break;
    case DecimalProblem::empty:
      return head + "(empty): not a number; " + range_text(*limit);
    case DecimalProblem::not_decimal:
      return head + "\"" + core::escape_text(value) + "\": not a decimal integer; " +
             range_text(*limit);
    case DecimalProblem::leading_zero:
      return head + "\"" + core::escape_text(value) +
             "\": write it without a leading zero or sign (the kernel reads a leading 0 as "
             "octal); " +
             range_text(*limit);
  }
  if (in_range(d, *limit)) return std::nullopt;
  return head + core::escape_text(core::trim(value)) + ": " + range_text(*limit);
}

std::span<const BootParam> boot_params() noexcept { return kBootParams; }

const BootParam* find_boot_param(std::string_view name) noexcept {
  name = strip_equals(name);
  for (const BootParam& p : kBootParams) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

bool is_boot_only(std::string_view key) noexcept { return find_boot_param(key) != nullptr; }

std::optional<std::string> check_boot_value(std::string_view name, std::string_view value) {
  const BootParam* p = find_boot_param(name);
  if (p == nullptr) return std::nullopt;
  bool ok = false;
  if (p->name == "transparent_hugepage") {
    ok = value == "always" || value == "madvise" || value == "never";
  } else if (p->name == "hugepagesz" || p->name == "default_hugepagesz") {
    const auto size = memparse(value);
    ok = size && (*size == (std::uint64_t{2} << 20) || *size == (std::uint64_t{1} << 30));
  } else if (p->name == "hugepages") {
    ok = valid_hugepages(value);
  }
  if (ok) return std::nullopt;
  return std::string(p->name) + "=" + core::escape_text(value) + ": the kernel accepts " +
         p->accepted + " (" + p->file + ")";
}

}  // namespace vmtune::plan
