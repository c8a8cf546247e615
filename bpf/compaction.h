/* SPDX-License-Identifier: GPL-2.0 */
/* Shared by compaction.bpf.c and src/collect/bpf/compaction.cpp. Includes nothing. */
#ifndef VMTUNE_COMPACTION_H
#define VMTUNE_COMPACTION_H

#define VMTUNE_COMPACTION_ABI 1

#define COMPACTION_MAX_SLOTS 27
#define COMPACTION_COMM_LEN 16
#define COMPACTION_MAX_PIDS 4096
#define COMPACTION_MAX_INFLIGHT 10240
#define COMPACTION_NR_STATUS 16 /* enum compact_result values counted (COMPACT_*) */

/* Histogram index. */
#define COMPACTION_HIST_ALL 0    /* every zone pass: compaction:mm_compaction_begin -> _end */
#define COMPACTION_HIST_DIRECT 1 /* zone passes inside direct compaction (allocation stalls) */
#define COMPACTION_NR_HISTS 2

/* Indices of the per-CPU counter array. */
#define COMPACTION_CTR_DIRECT_ENTRIES 0  /* compaction:mm_compaction_try_to_compact_pages */
#define COMPACTION_CTR_DEFERRED 1        /* compaction:mm_compaction_deferred (skipped, backing off) */
#define COMPACTION_CTR_DEFER_COMPACTION 2 /* compaction:mm_compaction_defer_compaction (failed, defer) */
#define COMPACTION_CTR_KCOMPACTD_WAKE 3  /* compaction:mm_compaction_kcompactd_wake */
#define COMPACTION_CTR_WAKEUP_KCOMPACTD 4 /* compaction:mm_compaction_wakeup_kcompactd */
#define COMPACTION_CTR_PID_MAP_FULL 5
#define COMPACTION_CTR_EVENTS_DROPPED 6
#define COMPACTION_CTR_STATUS_BASE 7     /* + status: mm_compaction_end status (enum compact_result) */
#define COMPACTION_NR_COUNTERS (COMPACTION_CTR_STATUS_BASE + COMPACTION_NR_STATUS)

struct compaction_hist {
	__u64 slots[COMPACTION_MAX_SLOTS];
	__u64 count;
	__u64 sum_us;
	__u64 max_us;
};

/* Direct-compaction stalls of one process (hash map keyed by tgid). */
struct compaction_pid_stats {
	__u64 count;    /* direct compaction entries (try_to_compact_pages) */
	__u64 total_us; /* time in zone passes while compacting directly */
	__u64 max_us;   /* longest single zone pass */
	__u64 cgroup_id;
	__u32 max_order; /* largest allocation order that stalled */
	__u32 _pad;
	char comm[COMPACTION_COMM_LEN];
};

/* One zone pass longer than the threshold (ring buffer record). */
struct compaction_event {
	__u64 latency_ns;
	__u64 cgroup_id;
	__u32 pid;
	__u32 tid;
	__s32 order;  /* allocation order, -1 when not a direct compaction */
	__s32 status; /* enum compact_result */
	__u32 direct; /* 1 for direct compaction */
	__u32 _pad;
	char comm[COMPACTION_COMM_LEN];
};

#endif /* VMTUNE_COMPACTION_H */
