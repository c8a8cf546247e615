// SPDX-License-Identifier: GPL-2.0
/* Transparent huge pages: khugepaged / MADV_COLLAPSE collapses and their results, khugepaged
 * scans, file collapses and THP migration entries (the thp: events x86 has). */
#include "vmlinux.h"

#include "common.bpf.h"
#include "thp.h"

char LICENSE[] SEC("license") = "GPL";

VMTUNE_STATIC_ASSERT(sizeof(struct thp_pid_stats) == 40, "pid stats layout");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, THP_MAX_PIDS);
	__type(key, __u32);
	__type(value, struct thp_pid_stats);
} pids SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, THP_NR_COUNTERS);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

static __always_inline int on_collapse(int status)
{
	VMTUNE_COUNT(counters, THP_CTR_COLLAPSE, 1);
	if (status >= 0 && status < THP_NR_STATUS)
		VMTUNE_COUNT(counters, THP_CTR_STATUS_BASE + status, 1);
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	struct thp_pid_stats *ps = bpf_map_lookup_elem(&pids, &pid);
	if (!ps) {
		struct thp_pid_stats init = {};
		init.cgroup_id = bpf_get_current_cgroup_id();
		bpf_get_current_comm(init.comm, sizeof(init.comm));
		bpf_map_update_elem(&pids, &pid, &init, BPF_NOEXIST);
		ps = bpf_map_lookup_elem(&pids, &pid);
	}
	if (!ps) {
		VMTUNE_COUNT(counters, THP_CTR_PID_MAP_FULL, 1);
		return 0;
	}
	__sync_fetch_and_add(&ps->count, 1);
	if (status == THP_SCAN_SUCCEED)
		__sync_fetch_and_add(&ps->succeeded, 1);
	return 0;
}

#define COUNT_ONLY(name, sec, idx)                \
	SEC(sec)                                  \
	int name(void *ctx)                       \
	{                                         \
		VMTUNE_COUNT(counters, idx, 1);   \
		return 0;                         \
	}

/* ---- tp_btf ---- */
SEC("tp_btf/mm_collapse_huge_page")
int BPF_PROG(vmt_thp_col_btf, struct mm_struct *mm, int isolated, int status)
{
	return on_collapse(status);
}
COUNT_ONLY(vmt_thp_iso_btf, "tp_btf/mm_collapse_huge_page_isolate", THP_CTR_COLLAPSE_ISOLATE)
COUNT_ONLY(vmt_thp_scan_btf, "tp_btf/mm_khugepaged_scan_pmd", THP_CTR_SCAN_PMD)
COUNT_ONLY(vmt_thp_file_btf, "tp_btf/mm_khugepaged_collapse_file", THP_CTR_COLLAPSE_FILE)
COUNT_ONLY(vmt_thp_smig_btf, "tp_btf/set_migration_pmd", THP_CTR_SET_MIGRATION_PMD)
COUNT_ONLY(vmt_thp_rmig_btf, "tp_btf/remove_migration_pmd", THP_CTR_REMOVE_MIGRATION_PMD)

/* ---- classic tracepoints ---- */
SEC("tp/huge_memory/mm_collapse_huge_page")
int vmt_thp_col_tp(struct trace_event_raw_mm_collapse_huge_page *ctx)
{
	return on_collapse(BPF_CORE_READ(ctx, status));
}
COUNT_ONLY(vmt_thp_iso_tp, "tp/huge_memory/mm_collapse_huge_page_isolate", THP_CTR_COLLAPSE_ISOLATE)
COUNT_ONLY(vmt_thp_scan_tp, "tp/huge_memory/mm_khugepaged_scan_pmd", THP_CTR_SCAN_PMD)
COUNT_ONLY(vmt_thp_file_tp, "tp/huge_memory/mm_khugepaged_collapse_file", THP_CTR_COLLAPSE_FILE)
COUNT_ONLY(vmt_thp_smig_tp, "tp/thp/set_migration_pmd", THP_CTR_SET_MIGRATION_PMD)
COUNT_ONLY(vmt_thp_rmig_tp, "tp/thp/remove_migration_pmd", THP_CTR_REMOVE_MIGRATION_PMD)
