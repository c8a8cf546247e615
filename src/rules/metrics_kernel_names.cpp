// SPDX-License-Identifier: GPL-2.0-or-later
// The field names each keyed section of the metric registry knows, as the kernel (or the
// collector) spells them. A rule naming anything else fails to load ("did you mean ...?"); a
// known name the running kernel does not print is "absent on this kernel" at run time.
//
// Sources: fs/proc/meminfo.c and arch_report_meminfo (x86, s390); mm/vmstat.c vmstat_text[]
// from 4.0 to 6.18, with the per-zone families and the counters later kernels renamed or
// removed; Documentation/admin-guide/sysctl/vm.rst; Documentation/admin-guide/cgroup-v2.rst.
// Every field of every real /proc/meminfo and /proc/vmstat under ../shared/fixtures and
// tests/data is in these lists (tests/unit/rules/metric_names_test.cpp checks it).
#include "rules/metrics_registry.hpp"

namespace vmtune::rules::registry {

const FieldNames& field_names() {
  // Flat lists, kept compact.
  // clang-format off
  static const FieldNames k{
      .meminfo = {
        "MemTotal", "MemFree", "MemAvailable", "Buffers", "Cached", "SwapCached", "Active",
        "Inactive", "Active(anon)", "Inactive(anon)", "Active(file)", "Inactive(file)",
        "Unevictable", "Mlocked", "HighTotal", "HighFree", "LowTotal", "LowFree", "MmapCopy",
        "SwapTotal", "SwapFree", "Zswap", "Zswapped", "Dirty", "Writeback", "AnonPages", "Mapped",
        "Shmem", "KReclaimable", "Slab", "SReclaimable", "SUnreclaim", "KernelStack",
        "ShadowCallStack", "PageTables", "SecPageTables", "Quicklists", "NFS_Unstable", "Bounce",
        "WritebackTmp", "CommitLimit", "Committed_AS", "VmallocTotal", "VmallocUsed",
        "VmallocChunk", "Percpu", "EarlyMemtestBad", "HardwareCorrupted", "AnonHugePages",
        "ShmemHugePages", "ShmemPmdMapped", "FileHugePages", "FilePmdMapped", "CmaTotal",
        "CmaFree", "Unaccepted", "Balloon", "HugePages_Total", "HugePages_Free", "HugePages_Rsvd",
        "HugePages_Surp", "Hugepagesize", "Hugetlb", "DirectMap4k", "DirectMap2M", "DirectMap4M",
        "DirectMap1G", "DirectMap1M", "DirectMap2G",
      },
      .vmstat = {
        "allocstall", "allocstall_device", "allocstall_dma", "allocstall_dma32", "allocstall_high",
        "allocstall_movable", "allocstall_normal", "balloon_deflate", "balloon_inflate",
        "balloon_migrate", "cma_alloc_fail", "cma_alloc_success", "compact_daemon_free_scanned",
        "compact_daemon_migrate_scanned", "compact_daemon_wake", "compact_fail",
        "compact_free_scanned", "compact_isolated", "compact_migrate_scanned", "compact_stall",
        "compact_success", "cow_ksm", "direct_map_level2_collapses", "direct_map_level2_splits",
        "direct_map_level3_collapses", "direct_map_level3_splits", "drop_pagecache", "drop_slab",
        "htlb_buddy_alloc_fail", "htlb_buddy_alloc_success", "ksm_swpin_copy", "kstack_16k",
        "kstack_1k", "kstack_2k", "kstack_32k", "kstack_4k", "kstack_64k", "kstack_8k",
        "kstack_rest", "kswapd_high_wmark_hit_quickly", "kswapd_inodesteal",
        "kswapd_low_wmark_hit_quickly", "nr_active_anon", "nr_active_file", "nr_alloc_batch",
        "nr_anon_pages", "nr_anon_transparent_hugepages", "nr_balloon_pages", "nr_bounce",
        "nr_dirtied", "nr_dirty", "nr_dirty_background_threshold", "nr_dirty_threshold",
        "nr_file_hugepages", "nr_file_pages", "nr_file_pmdmapped", "nr_foll_pin_acquired",
        "nr_foll_pin_released", "nr_free_cma", "nr_free_pages", "nr_free_pages_blocks",
        "nr_hugetlb", "nr_inactive_anon", "nr_inactive_file", "nr_indirectly_reclaimable",
        "nr_iommu_pages", "nr_isolated_anon", "nr_isolated_file", "nr_kernel_file_pages",
        "nr_kernel_misc_reclaimable", "nr_kernel_stack", "nr_mapped", "nr_memmap_boot_pages",
        "nr_memmap_pages", "nr_mlock", "nr_overhead", "nr_page_table_pages", "nr_pages_scanned",
        "nr_sec_page_table_pages", "nr_shadow_call_stack", "nr_shmem", "nr_shmem_hugepages",
        "nr_shmem_pmdmapped", "nr_slab_reclaimable", "nr_slab_unreclaimable", "nr_swapcached",
        "nr_throttled_written", "nr_tlb_local_flush_all", "nr_tlb_local_flush_one",
        "nr_tlb_remote_flush", "nr_tlb_remote_flush_received", "nr_unaccepted", "nr_unevictable",
        "nr_unstable", "nr_vmscan_immediate_reclaim", "nr_vmscan_write", "nr_writeback",
        "nr_writeback_temp", "nr_written", "nr_zone_active_anon", "nr_zone_active_file",
        "nr_zone_inactive_anon", "nr_zone_inactive_file", "nr_zone_unevictable",
        "nr_zone_write_pending", "nr_zspages", "numa_foreign", "numa_hint_faults",
        "numa_hint_faults_local", "numa_hit", "numa_huge_pte_updates", "numa_interleave",
        "numa_local", "numa_miss", "numa_other", "numa_pages_migrated", "numa_pte_updates",
        "oom_kill", "pageoutrun", "pgactivate", "pgalloc_device", "pgalloc_dma", "pgalloc_dma32",
        "pgalloc_high", "pgalloc_movable", "pgalloc_normal", "pgdeactivate", "pgdemote_direct",
        "pgdemote_khugepaged", "pgdemote_kswapd", "pgdemote_proactive", "pgfault", "pgfree",
        "pginodesteal", "pglazyfree", "pglazyfreed", "pgmajfault", "pgmigrate_fail",
        "pgmigrate_success", "pgpgin", "pgpgout", "pgpromote_candidate", "pgpromote_candidate_nrl",
        "pgpromote_success", "pgrefill", "pgrefill_device", "pgrefill_dma", "pgrefill_dma32",
        "pgrefill_high", "pgrefill_movable", "pgrefill_normal", "pgreuse", "pgrotated",
        "pgscan_anon", "pgscan_direct", "pgscan_direct_device", "pgscan_direct_dma",
        "pgscan_direct_dma32", "pgscan_direct_high", "pgscan_direct_movable",
        "pgscan_direct_normal", "pgscan_direct_throttle", "pgscan_file", "pgscan_khugepaged",
        "pgscan_kswapd", "pgscan_kswapd_device", "pgscan_kswapd_dma", "pgscan_kswapd_dma32",
        "pgscan_kswapd_high", "pgscan_kswapd_movable", "pgscan_kswapd_normal", "pgscan_proactive",
        "pgskip_device", "pgskip_dma", "pgskip_dma32", "pgskip_high", "pgskip_movable",
        "pgskip_normal", "pgsteal_anon", "pgsteal_direct", "pgsteal_direct_device",
        "pgsteal_direct_dma", "pgsteal_direct_dma32", "pgsteal_direct_high",
        "pgsteal_direct_movable", "pgsteal_direct_normal", "pgsteal_file", "pgsteal_khugepaged",
        "pgsteal_kswapd", "pgsteal_kswapd_device", "pgsteal_kswapd_dma", "pgsteal_kswapd_dma32",
        "pgsteal_kswapd_high", "pgsteal_kswapd_movable", "pgsteal_kswapd_normal",
        "pgsteal_proactive", "pswpin", "pswpout", "slabs_scanned", "swap_ra", "swap_ra_hit",
        "swpin_zero", "swpout_zero", "thp_collapse_alloc", "thp_collapse_alloc_failed",
        "thp_deferred_split_page", "thp_fault_alloc", "thp_fault_fallback",
        "thp_fault_fallback_charge", "thp_file_alloc", "thp_file_fallback",
        "thp_file_fallback_charge", "thp_file_mapped", "thp_migration_fail", "thp_migration_split",
        "thp_migration_success", "thp_scan_exceed_none_pte", "thp_scan_exceed_share_pte",
        "thp_scan_exceed_swap_pte", "thp_split", "thp_split_page", "thp_split_page_failed",
        "thp_split_pmd", "thp_split_pud", "thp_swpout", "thp_swpout_fallback",
        "thp_underused_split_page", "thp_zero_page_alloc", "thp_zero_page_alloc_failed",
        "unevictable_pgs_cleared", "unevictable_pgs_culled", "unevictable_pgs_mlocked",
        "unevictable_pgs_munlocked", "unevictable_pgs_rescued", "unevictable_pgs_scanned",
        "unevictable_pgs_stranded", "vma_lock_abort", "vma_lock_miss", "vma_lock_retry",
        "vma_lock_success", "workingset_activate", "workingset_activate_anon",
        "workingset_activate_file", "workingset_nodereclaim", "workingset_nodes",
        "workingset_refault", "workingset_refault_anon", "workingset_refault_file",
        "workingset_restore", "workingset_restore_anon", "workingset_restore_file",
        "zone_reclaim_failed", "zone_reclaim_success", "zswpin", "zswpout", "zswpwb",
      },
      // vm.*: every knob of /proc/sys/vm from 4.0 to 6.18 except the write-only
      // compact_memory; kernel.*: the keys collect/sysctl.cpp reads.
      .sysctl = {
        "kernel.numa_balancing", "kernel.osrelease", "kernel.shmall", "kernel.shmmax",
        "kernel.shmmni", "vm.admin_reserve_kbytes", "vm.block_dump",
        "vm.compact_unevictable_allowed", "vm.compaction_proactiveness", "vm.defrag_mode",
        "vm.dirty_background_bytes", "vm.dirty_background_ratio", "vm.dirty_bytes",
        "vm.dirty_expire_centisecs", "vm.dirty_ratio", "vm.dirty_writeback_centisecs",
        "vm.dirtytime_expire_seconds", "vm.drop_caches", "vm.enable_soft_offline",
        "vm.extfrag_threshold", "vm.highmem_is_dirtyable", "vm.hugepages_treat_as_movable",
        "vm.hugetlb_optimize_vmemmap", "vm.hugetlb_shm_group", "vm.laptop_mode",
        "vm.legacy_va_layout", "vm.lowmem_reserve_ratio", "vm.max_map_count", "vm.mem_profiling",
        "vm.memfd_noexec", "vm.memory_failure_early_kill", "vm.memory_failure_recovery",
        "vm.min_free_kbytes", "vm.min_slab_ratio", "vm.min_unmapped_ratio", "vm.mmap_min_addr",
        "vm.mmap_rnd_bits", "vm.mmap_rnd_compat_bits", "vm.nr_hugepages",
        "vm.nr_hugepages_mempolicy", "vm.nr_overcommit_hugepages", "vm.nr_trim_pages",
        "vm.numa_stat", "vm.numa_zonelist_order", "vm.oom_dump_tasks",
        "vm.oom_kill_allocating_task", "vm.overcommit_kbytes", "vm.overcommit_memory",
        "vm.overcommit_ratio", "vm.page-cluster", "vm.page_lock_unfairness", "vm.panic_on_oom",
        "vm.percpu_pagelist_fraction", "vm.percpu_pagelist_high_fraction",
        "vm.shrink_inodes_with_pagecache", "vm.stat_interval", "vm.stat_refresh", "vm.swappiness",
        "vm.unprivileged_userfaultfd", "vm.user_reserve_kbytes", "vm.vdso_enabled",
        "vm.vfs_cache_pressure", "vm.vfs_cache_pressure_denom", "vm.watermark_boost_factor",
        "vm.watermark_scale_factor", "vm.zone_reclaim_mode",
      },
      .khugepaged = {
        "alloc_sleep_millisecs", "defrag", "full_scans", "max_ptes_none", "max_ptes_shared",
        "max_ptes_swap", "pages_collapsed", "pages_to_scan", "scan_sleep_millisecs",
      },
      .cgroup_stat = {
        "active_anon", "active_file", "anon", "anon_thp", "file", "file_dirty", "file_mapped",
        "file_thp", "file_writeback", "hugetlb", "inactive_anon", "inactive_file", "kernel",
        "kernel_stack", "numa_hint_faults", "numa_pages_migrated", "numa_pte_updates",
        "pagetables", "percpu", "pgactivate", "pgdeactivate", "pgdemote_direct",
        "pgdemote_khugepaged", "pgdemote_kswapd", "pgdemote_proactive", "pgfault", "pglazyfree",
        "pglazyfreed", "pgmajfault", "pgrefill", "pgscan", "pgscan_direct", "pgscan_khugepaged",
        "pgscan_kswapd", "pgscan_proactive", "pgsteal", "pgsteal_direct", "pgsteal_khugepaged",
        "pgsteal_kswapd", "pgsteal_proactive", "pswpin", "pswpout", "sec_pagetables", "shmem",
        "shmem_thp", "slab", "slab_reclaimable", "slab_unreclaimable", "sock", "swapcached",
        "swpin_zero", "swpout_zero", "thp_collapse_alloc", "thp_fault_alloc", "thp_swpout",
        "thp_swpout_fallback", "unevictable", "vmalloc", "workingset_activate",
        "workingset_activate_anon", "workingset_activate_file", "workingset_nodereclaim",
        "workingset_refault", "workingset_refault_anon", "workingset_refault_file",
        "workingset_restore", "workingset_restore_anon", "workingset_restore_file", "zswap",
        "zswapped", "zswpin", "zswpout", "zswpwb",
      },
      .cgroup_events = {
        "high", "low", "max", "oom", "oom_group_kill", "oom_kill", "sock_throttled",
      },
      // The settings collect/postgres/server.cpp reads from pg_settings.
      .postgres_settings = {
        "autovacuum_max_workers", "autovacuum_work_mem", "backend_flush_after",
        "bgwriter_flush_after", "block_size", "checkpoint_completion_target",
        "checkpoint_flush_after", "checkpoint_timeout", "data_directory",
        "dynamic_shared_memory_type", "effective_cache_size", "effective_io_concurrency",
        "hash_mem_multiplier", "huge_page_size", "huge_pages", "huge_pages_status",
        "maintenance_work_mem", "max_connections", "max_locks_per_transaction",
        "max_parallel_workers", "max_prepared_transactions", "max_wal_size",
        "max_worker_processes", "min_wal_size", "port", "server_version", "server_version_num",
        "shared_buffers", "shared_memory_size", "shared_memory_size_in_huge_pages",
        "shared_memory_type", "superuser_reserved_connections", "track_io_timing", "wal_buffers",
        "wal_writer_flush_after", "work_mem",
      },
  };
  // clang-format on
  return k;
}

}  // namespace vmtune::rules::registry
