/* SPDX-License-Identifier: GPL-2.0 */
/* Shared by thp.bpf.c and src/collect/bpf/thp.cpp. Includes nothing. */
#ifndef VMTUNE_THP_H
#define VMTUNE_THP_H

#define VMTUNE_THP_ABI 1

#define THP_COMM_LEN 16
#define THP_MAX_PIDS 1024
#define THP_NR_STATUS 48 /* enum scan_result values counted (SCAN_*) */

/* Indices of the per-CPU counter array. */
#define THP_CTR_COLLAPSE 0             /* huge_memory:mm_collapse_huge_page */
#define THP_CTR_COLLAPSE_ISOLATE 1     /* huge_memory:mm_collapse_huge_page_isolate */
#define THP_CTR_SCAN_PMD 2             /* huge_memory:mm_khugepaged_scan_pmd */
#define THP_CTR_COLLAPSE_FILE 3        /* huge_memory:mm_khugepaged_collapse_file */
#define THP_CTR_SET_MIGRATION_PMD 4    /* thp:set_migration_pmd */
#define THP_CTR_REMOVE_MIGRATION_PMD 5 /* thp:remove_migration_pmd */
#define THP_CTR_PID_MAP_FULL 6
#define THP_CTR_STATUS_BASE 7          /* + status of mm_collapse_huge_page (enum scan_result) */
#define THP_NR_COUNTERS (THP_CTR_STATUS_BASE + THP_NR_STATUS)

/* SCAN_SUCCEED in enum scan_result (mm/khugepaged.c); the loader checks it against BTF. */
#define THP_SCAN_SUCCEED 1

/* Collapses done by one process (khugepaged, or a task calling MADV_COLLAPSE). */
struct thp_pid_stats {
	__u64 count;     /* mm_collapse_huge_page events */
	__u64 succeeded; /* ... with status SCAN_SUCCEED */
	__u64 cgroup_id;
	char comm[THP_COMM_LEN];
};

#endif /* VMTUNE_THP_H */
