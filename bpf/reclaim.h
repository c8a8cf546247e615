/* SPDX-License-Identifier: GPL-2.0 */
/* Shared by reclaim.bpf.c and src/collect/bpf/reclaim.cpp. Includes nothing (STYLE.md §C):
 * the BPF side includes it after vmlinux.h, the C++ side after <linux/types.h>. */
#ifndef VMTUNE_RECLAIM_H
#define VMTUNE_RECLAIM_H

#define VMTUNE_RECLAIM_ABI 1

#define RECLAIM_MAX_SLOTS 27 /* log2 us: slot 26 holds >= 2^26 us (67 s) */
#define RECLAIM_COMM_LEN 16
#define RECLAIM_MAX_PIDS 4096
#define RECLAIM_MAX_INFLIGHT 10240

/* Kind of reclaim stall (key of the histogram array and of reclaim_pid_key.kind). */
#define RECLAIM_KIND_DIRECT 0 /* vmscan:mm_vmscan_direct_reclaim_begin/end */
#define RECLAIM_KIND_MEMCG 1  /* vmscan:mm_vmscan_memcg_reclaim_begin/end (+softlimit) */
#define RECLAIM_NR_KINDS 2

/* Indices of the per-CPU counter array. */
#define RECLAIM_CTR_KSWAPD_WAKES 0       /* vmscan:mm_vmscan_kswapd_wake */
#define RECLAIM_CTR_KSWAPD_AWAKE_US 1    /* kswapd_wake -> kswapd_sleep, per node, summed */
#define RECLAIM_CTR_LRU_SCANNED_FILE 2   /* vmscan:mm_vmscan_lru_shrink_inactive nr_scanned, file */
#define RECLAIM_CTR_LRU_SCANNED_ANON 3
#define RECLAIM_CTR_LRU_RECLAIMED_FILE 4 /* ... nr_reclaimed, file */
#define RECLAIM_CTR_LRU_RECLAIMED_ANON 5
#define RECLAIM_CTR_PID_MAP_FULL 6       /* stalls not attributed: per-pid map full */
#define RECLAIM_CTR_EVENTS_DROPPED 7     /* slow-stall records lost: ring buffer full */
#define RECLAIM_CTR_INFLIGHT_FULL 8      /* begins not timed: in-flight map full */
#define RECLAIM_NR_COUNTERS 9

/* Latency histogram of one kind (per-CPU array value; user space sums the CPUs). */
struct reclaim_hist {
	__u64 slots[RECLAIM_MAX_SLOTS];
	__u64 count;
	__u64 sum_us;
	__u64 max_us;
};

struct reclaim_pid_key {
	__u32 pid; /* tgid */
	__u32 kind; /* RECLAIM_KIND_* */
};

/* Per-process aggregate (hash map value). */
struct reclaim_pid_stats {
	__u64 count;
	__u64 total_us;
	__u64 max_us;
	__u64 nr_reclaimed_pages; /* sum of *_reclaim_end nr_reclaimed */
	__u64 cgroup_id;          /* bpf_get_current_cgroup_id() (cgroup v2 id) at first stall */
	__u32 slots[RECLAIM_MAX_SLOTS]; /* per-process log2 us histogram */
	__u32 _pad;
	char comm[RECLAIM_COMM_LEN];
};

/* One stall longer than the threshold (ring buffer record). */
struct reclaim_event {
	__u64 latency_ns;
	__u64 nr_reclaimed_pages;
	__u64 cgroup_id;
	__u32 pid;
	__u32 tid;
	__u32 kind;  /* RECLAIM_KIND_* */
	__s32 order; /* allocation order from *_reclaim_begin */
	char comm[RECLAIM_COMM_LEN];
};

#endif /* VMTUNE_RECLAIM_H */
