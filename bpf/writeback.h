/* SPDX-License-Identifier: GPL-2.0 */
/* Shared by writeback.bpf.c and src/collect/bpf/writeback.cpp. Includes nothing. */
#ifndef VMTUNE_WRITEBACK_H
#define VMTUNE_WRITEBACK_H

#define VMTUNE_WRITEBACK_ABI 1

#define WRITEBACK_MAX_SLOTS 27
#define WRITEBACK_COMM_LEN 16
#define WRITEBACK_BDI_LEN 32
#define WRITEBACK_MAX_PIDS 4096

/* Indices of the per-CPU counter array. */
#define WRITEBACK_CTR_CALLS 0        /* writeback:balance_dirty_pages events (throttled or not) */
#define WRITEBACK_CTR_PAUSES 1       /* ... with pause > 0: the writer slept */
#define WRITEBACK_CTR_PID_MAP_FULL 2
#define WRITEBACK_CTR_EVENTS_DROPPED 3
#define WRITEBACK_CTR_NO_HZ 4        /* tp_btf pauses not timed: CONFIG_HZ unknown */
#define WRITEBACK_NR_COUNTERS 5

/* Log2 histogram of pause lengths, us. */
struct writeback_hist {
	__u64 slots[WRITEBACK_MAX_SLOTS];
	__u64 count;
	__u64 sum_us;
	__u64 max_us;
};

/* Throttled writer (hash map keyed by tgid). */
struct writeback_pid_stats {
	__u64 count;         /* pauses */
	__u64 total_us;      /* time paused */
	__u64 max_us;
	__u64 dirtied_pages; /* pages dirtied since the previous pause ("dirtied"), summed */
	__u64 cgroup_id;
	__u32 slots[WRITEBACK_MAX_SLOTS];
	__u32 _pad;
	char comm[WRITEBACK_COMM_LEN];
};

/* One pause longer than the threshold (ring buffer record). */
struct writeback_event {
	__u64 pause_us;
	__u64 dirtied_pages;
	__u64 cgroup_id;
	__u32 pid;
	__u32 tid;
	char comm[WRITEBACK_COMM_LEN];
	char bdi[WRITEBACK_BDI_LEN]; /* backing device, e.g. "254:0" */
};

#endif /* VMTUNE_WRITEBACK_H */
