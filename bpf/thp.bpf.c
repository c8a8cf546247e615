// SPDX-License-Identifier: GPL-2.0
/* Transparent huge pages: khugepaged / MADV_COLLAPSE collapses and their results, khugepaged
 * scans, file collapses and THP migration entries (the thp: events x86 has). */
#include "vmlinux.h"

#include "common.bpf.h"
#include "thp.h"

char LICENSE[] SEC("license") = "GPL";

VMTUNE_STATIC_ASSERT(sizeof(struct thp_pid_stats) == 40, "pid stats layout");

VMTUNE_HASH(pids, THP_MAX_PIDS, __u32 /* tgid */, struct thp_pid_stats);
VMTUNE_PERCPU_ARRAY(counters, THP_NR_COUNTERS, __u64);

VMTUNE_DEFINE_TASK_ENTRY(pid_stats, pids, __u32, struct thp_pid_stats, THP_CTR_PID_MAP_FULL)

static __always_inline int on_collapse(int status)
{
	VMTUNE_COUNT(counters, THP_CTR_COLLAPSE, 1);
	if (status >= 0 && status < THP_NR_STATUS)
		VMTUNE_COUNT(counters, THP_CTR_STATUS_BASE + status, 1);
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	struct thp_pid_stats *ps = pid_stats(&pid);
	if (!ps)
		return 0;
	__sync_fetch_and_add(&ps->count, 1);
	if (status == THP_SCAN_SUCCEED)
		__sync_fetch_and_add(&ps->succeeded, 1);
	return 0;
}

/* ---- programs: tp_btf and classic tp twins ---- */
SEC("tp_btf/mm_collapse_huge_page")
int BPF_PROG(vmt_thp_col_btf, struct mm_struct *mm, int isolated, int status)
{
	return on_collapse(status);
}
SEC("tp/huge_memory/mm_collapse_huge_page")
int vmt_thp_col_tp(struct trace_event_raw_mm_collapse_huge_page *ctx)
{
	return on_collapse(BPF_CORE_READ(ctx, status));
}

VMTUNE_COUNT_ONLY(vmt_thp_iso, "huge_memory", "mm_collapse_huge_page_isolate",
		  THP_CTR_COLLAPSE_ISOLATE)
VMTUNE_COUNT_ONLY(vmt_thp_scan, "huge_memory", "mm_khugepaged_scan_pmd", THP_CTR_SCAN_PMD)
VMTUNE_COUNT_ONLY(vmt_thp_file, "huge_memory", "mm_khugepaged_collapse_file", THP_CTR_COLLAPSE_FILE)
VMTUNE_COUNT_ONLY(vmt_thp_smig, "thp", "set_migration_pmd", THP_CTR_SET_MIGRATION_PMD)
VMTUNE_COUNT_ONLY(vmt_thp_rmig, "thp", "remove_migration_pmd", THP_CTR_REMOVE_MIGRATION_PMD)
