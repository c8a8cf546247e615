// SPDX-License-Identifier: GPL-2.0
/* Reclaim stalls: direct and memcg reclaim latency per process and in total, kswapd wake-ups
 * and time awake, and LRU scan/reclaim split file versus anon. Every event has a tp_btf program
 * and a classic tp program sharing one handler; the loader enables one of the two. */
#include "vmlinux.h"

#include "common.bpf.h"
#include "reclaim.h"

char LICENSE[] SEC("license") = "GPL";

VMTUNE_STATIC_ASSERT(sizeof(struct reclaim_hist) == (RECLAIM_MAX_SLOTS + 3) * 8, "hist layout");
VMTUNE_STATIC_ASSERT(sizeof(struct reclaim_event) == 56, "event layout");

const volatile __u64 slow_event_ns = 10 * 1000 * 1000;

struct inflight {
	__u64 start_ns;
	__s32 order;
	__u32 _pad;
};

VMTUNE_HASH(inflight, RECLAIM_MAX_INFLIGHT, __u64 /* tid << 1 | kind */, struct inflight);
VMTUNE_PERCPU_ARRAY(hists, RECLAIM_NR_KINDS, struct reclaim_hist);
VMTUNE_HASH(pids, RECLAIM_MAX_PIDS, struct reclaim_pid_key, struct reclaim_pid_stats);
VMTUNE_PERCPU_ARRAY(counters, RECLAIM_NR_COUNTERS, __u64);
VMTUNE_HASH(kswapd_awake, 1024, __s32 /* node id */, __u64 /* kswapd wake time, ns */);
VMTUNE_RINGBUF(events, 256 * 1024);

VMTUNE_DEFINE_TASK_ENTRY(pid_stats, pids, struct reclaim_pid_key, struct reclaim_pid_stats,
			 RECLAIM_CTR_PID_MAP_FULL)

static __always_inline int on_begin(__u32 kind, int order)
{
	__u64 tid = (__u32)bpf_get_current_pid_tgid();
	__u64 key = tid << 1 | kind;
	struct inflight v = { .start_ns = bpf_ktime_get_ns(), .order = order };

	if (bpf_map_update_elem(&inflight, &key, &v, BPF_ANY))
		VMTUNE_COUNT(counters, RECLAIM_CTR_INFLIGHT_FULL, 1);
	return 0;
}

/* A stall over the threshold, as a ring-buffer record. */
static __always_inline void emit_slow(__u64 id, __u32 kind, __u64 delta_ns, __s32 order,
				      __u64 nr_reclaimed)
{
	struct reclaim_event *e =
		vmtune_reserve(&events, sizeof(*e), &counters, RECLAIM_CTR_EVENTS_DROPPED);
	if (!e)
		return;
	VMTUNE_FILL_TASK(e, id);
	e->latency_ns = delta_ns;
	e->nr_reclaimed_pages = nr_reclaimed;
	e->kind = kind;
	e->order = order;
	bpf_ringbuf_submit(e, 0);
}

static __always_inline int on_end(__u32 kind, __u64 nr_reclaimed)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u64 key = (__u64)(__u32)id << 1 | kind;
	struct inflight *start = bpf_map_lookup_elem(&inflight, &key);
	if (!start)
		return 0; /* began before we attached */
	__u64 delta_ns = bpf_ktime_get_ns() - start->start_ns;
	__s32 order = start->order;
	bpf_map_delete_elem(&inflight, &key);
	__u64 us = delta_ns / 1000;

	VMTUNE_HIST_ADD_AT(hists, kind, us, RECLAIM_MAX_SLOTS);
	struct reclaim_pid_key pk = { .pid = id >> 32, .kind = kind };
	struct reclaim_pid_stats *ps = pid_stats(&pk);
	if (ps) {
		VMTUNE_TASK_STALL_ADD(ps, us, RECLAIM_MAX_SLOTS);
		__sync_fetch_and_add(&ps->nr_reclaimed_pages, nr_reclaimed);
	}
	if (delta_ns >= slow_event_ns)
		emit_slow(id, kind, delta_ns, order, nr_reclaimed);
	return 0;
}

static __always_inline int on_kswapd_wake(int nid)
{
	__u64 now = bpf_ktime_get_ns();
	VMTUNE_COUNT(counters, RECLAIM_CTR_KSWAPD_WAKES, 1);
	bpf_map_update_elem(&kswapd_awake, &nid, &now, BPF_NOEXIST); /* first wake since sleep */
	return 0;
}

static __always_inline int on_kswapd_sleep(int nid)
{
	__u64 *since = bpf_map_lookup_elem(&kswapd_awake, &nid);
	if (!since)
		return 0;
	__u64 us = (bpf_ktime_get_ns() - *since) / 1000;
	bpf_map_delete_elem(&kswapd_awake, &nid);
	VMTUNE_COUNT(counters, RECLAIM_CTR_KSWAPD_AWAKE_US, us);
	return 0;
}

static __always_inline int on_shrink_inactive(__u64 scanned, __u64 reclaimed, int file)
{
	VMTUNE_COUNT(counters, file ? RECLAIM_CTR_LRU_SCANNED_FILE : RECLAIM_CTR_LRU_SCANNED_ANON,
		     scanned);
	VMTUNE_COUNT(counters,
		     file ? RECLAIM_CTR_LRU_RECLAIMED_FILE : RECLAIM_CTR_LRU_RECLAIMED_ANON,
		     reclaimed);
	return 0;
}

/* ---- programs: each event as a tp_btf and a classic tp twin around one handler ---- */

/* The begin and end programs of one kind of reclaim stall: vmt_rcl_<x>beg_{btf,tp} on
 * vmscan:<event>_begin and vmt_rcl_<x>end_{btf,tp} on vmscan:<event>_end. */
#define RECLAIM_STALL_PROGS(x, event, kind)                                                        \
	SEC("tp_btf/" event "_begin")                                                              \
	int BPF_PROG(vmt_rcl_##x##beg_btf, int order, gfp_t gfp) { return on_begin(kind, order); } \
	SEC("tp/vmscan/" event "_begin")                                                           \
	int vmt_rcl_##x##beg_tp(                                                                   \
		struct trace_event_raw_mm_vmscan_direct_reclaim_begin_template *ctx)               \
	{                                                                                          \
		return on_begin(kind, BPF_CORE_READ(ctx, order));                                  \
	}                                                                                          \
	SEC("tp_btf/" event "_end")                                                                \
	int BPF_PROG(vmt_rcl_##x##end_btf, unsigned long nr) { return on_end(kind, nr); }          \
	SEC("tp/vmscan/" event "_end")                                                             \
	int vmt_rcl_##x##end_tp(struct trace_event_raw_mm_vmscan_direct_reclaim_end_template *ctx) \
	{                                                                                          \
		return on_end(kind, BPF_CORE_READ(ctx, nr_reclaimed));                             \
	}

RECLAIM_STALL_PROGS(d, "mm_vmscan_direct_reclaim", RECLAIM_KIND_DIRECT)
RECLAIM_STALL_PROGS(m, "mm_vmscan_memcg_reclaim", RECLAIM_KIND_MEMCG)
RECLAIM_STALL_PROGS(s, "mm_vmscan_memcg_softlimit_reclaim", RECLAIM_KIND_MEMCG)

SEC("tp_btf/mm_vmscan_kswapd_wake")
int BPF_PROG(vmt_rcl_kwake_btf, int nid, int zid, int order) { return on_kswapd_wake(nid); }
SEC("tp/vmscan/mm_vmscan_kswapd_wake")
int vmt_rcl_kwake_tp(struct trace_event_raw_mm_vmscan_kswapd_wake *ctx)
{
	return on_kswapd_wake(BPF_CORE_READ(ctx, nid));
}

SEC("tp_btf/mm_vmscan_kswapd_sleep")
int BPF_PROG(vmt_rcl_kslp_btf, int nid) { return on_kswapd_sleep(nid); }
SEC("tp/vmscan/mm_vmscan_kswapd_sleep")
int vmt_rcl_kslp_tp(struct trace_event_raw_mm_vmscan_kswapd_sleep *ctx)
{
	return on_kswapd_sleep(BPF_CORE_READ(ctx, nid));
}

SEC("tp_btf/mm_vmscan_lru_shrink_inactive")
int BPF_PROG(vmt_rcl_lru_btf, int nid, unsigned long nr_scanned, unsigned long nr_reclaimed,
	     struct reclaim_stat *stat, int priority, int file)
{
	return on_shrink_inactive(nr_scanned, nr_reclaimed, file);
}
SEC("tp/vmscan/mm_vmscan_lru_shrink_inactive")
int vmt_rcl_lru_tp(struct trace_event_raw_mm_vmscan_lru_shrink_inactive *ctx)
{
	/* reclaim_flags: RECLAIM_WB_FILE 0x1 (include/trace/events/vmscan.h trace_reclaim_flags) */
	int file = BPF_CORE_READ(ctx, reclaim_flags) & 0x1;
	return on_shrink_inactive(BPF_CORE_READ(ctx, nr_scanned), BPF_CORE_READ(ctx, nr_reclaimed),
				  file);
}
