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

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, RECLAIM_MAX_INFLIGHT);
	__type(key, __u64); /* tid << 1 | kind */
	__type(value, struct inflight);
} inflight SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, RECLAIM_NR_KINDS);
	__type(key, __u32);
	__type(value, struct reclaim_hist);
} hists SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, RECLAIM_MAX_PIDS);
	__type(key, struct reclaim_pid_key);
	__type(value, struct reclaim_pid_stats);
} pids SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, RECLAIM_NR_COUNTERS);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __s32); /* node id */
	__type(value, __u64); /* kswapd wake time, ns */
} kswapd_awake SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

static __always_inline int on_begin(__u32 kind, int order)
{
	__u64 tid = (__u32)bpf_get_current_pid_tgid();
	__u64 key = tid << 1 | kind;
	struct inflight v = { .start_ns = bpf_ktime_get_ns(), .order = order };

	if (bpf_map_update_elem(&inflight, &key, &v, BPF_ANY))
		VMTUNE_COUNT(counters, RECLAIM_CTR_INFLIGHT_FULL, 1);
	return 0;
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

	struct reclaim_hist *h = bpf_map_lookup_elem(&hists, &kind);
	if (h)
		VMTUNE_HIST_ADD(h, us, RECLAIM_MAX_SLOTS);

	struct reclaim_pid_key pk = { .pid = id >> 32, .kind = kind };
	struct reclaim_pid_stats *ps = bpf_map_lookup_elem(&pids, &pk);
	if (!ps) {
		struct reclaim_pid_stats init = {};
		init.cgroup_id = bpf_get_current_cgroup_id();
		bpf_get_current_comm(init.comm, sizeof(init.comm));
		bpf_map_update_elem(&pids, &pk, &init, BPF_NOEXIST);
		ps = bpf_map_lookup_elem(&pids, &pk);
	}
	if (ps) {
		__sync_fetch_and_add(&ps->count, 1);
		__sync_fetch_and_add(&ps->total_us, us);
		__sync_fetch_and_add(&ps->nr_reclaimed_pages, nr_reclaimed);
		vmtune_store_max(&ps->max_us, us);
		__u32 slot = vmtune_log2(us);
		if (slot >= RECLAIM_MAX_SLOTS)
			slot = RECLAIM_MAX_SLOTS - 1;
		__sync_fetch_and_add(&ps->slots[slot], 1);
	} else {
		VMTUNE_COUNT(counters, RECLAIM_CTR_PID_MAP_FULL, 1);
	}

	if (delta_ns >= slow_event_ns) {
		struct reclaim_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
		if (!e) {
			VMTUNE_COUNT(counters, RECLAIM_CTR_EVENTS_DROPPED, 1);
			return 0;
		}
		e->latency_ns = delta_ns;
		e->nr_reclaimed_pages = nr_reclaimed;
		e->cgroup_id = bpf_get_current_cgroup_id();
		e->pid = id >> 32;
		e->tid = (__u32)id;
		e->kind = kind;
		e->order = order;
		bpf_get_current_comm(e->comm, sizeof(e->comm));
		bpf_ringbuf_submit(e, 0);
	}
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
		     file ? RECLAIM_CTR_LRU_RECLAIMED_FILE : RECLAIM_CTR_LRU_RECLAIMED_ANON, reclaimed);
	return 0;
}

/* ---- tp_btf programs (typed arguments from the kernel's BTF) ---- */
SEC("tp_btf/mm_vmscan_direct_reclaim_begin")
int BPF_PROG(vmt_rcl_dbeg_btf, int order, gfp_t gfp) { return on_begin(RECLAIM_KIND_DIRECT, order); }
SEC("tp_btf/mm_vmscan_direct_reclaim_end")
int BPF_PROG(vmt_rcl_dend_btf, unsigned long nr) { return on_end(RECLAIM_KIND_DIRECT, nr); }
SEC("tp_btf/mm_vmscan_memcg_reclaim_begin")
int BPF_PROG(vmt_rcl_mbeg_btf, int order, gfp_t gfp) { return on_begin(RECLAIM_KIND_MEMCG, order); }
SEC("tp_btf/mm_vmscan_memcg_reclaim_end")
int BPF_PROG(vmt_rcl_mend_btf, unsigned long nr) { return on_end(RECLAIM_KIND_MEMCG, nr); }
SEC("tp_btf/mm_vmscan_memcg_softlimit_reclaim_begin")
int BPF_PROG(vmt_rcl_sbeg_btf, int order, gfp_t gfp) { return on_begin(RECLAIM_KIND_MEMCG, order); }
SEC("tp_btf/mm_vmscan_memcg_softlimit_reclaim_end")
int BPF_PROG(vmt_rcl_send_btf, unsigned long nr) { return on_end(RECLAIM_KIND_MEMCG, nr); }
SEC("tp_btf/mm_vmscan_kswapd_wake")
int BPF_PROG(vmt_rcl_kwake_btf, int nid, int zid, int order) { return on_kswapd_wake(nid); }
SEC("tp_btf/mm_vmscan_kswapd_sleep")
int BPF_PROG(vmt_rcl_kslp_btf, int nid) { return on_kswapd_sleep(nid); }
SEC("tp_btf/mm_vmscan_lru_shrink_inactive")
int BPF_PROG(vmt_rcl_lru_btf, int nid, unsigned long nr_scanned, unsigned long nr_reclaimed,
	     struct reclaim_stat *stat, int priority, int file)
{
	return on_shrink_inactive(nr_scanned, nr_reclaimed, file);
}

/* ---- classic tracepoints (tracefs; need root) ---- */
SEC("tp/vmscan/mm_vmscan_direct_reclaim_begin")
int vmt_rcl_dbeg_tp(struct trace_event_raw_mm_vmscan_direct_reclaim_begin_template *ctx)
{
	return on_begin(RECLAIM_KIND_DIRECT, BPF_CORE_READ(ctx, order));
}
SEC("tp/vmscan/mm_vmscan_direct_reclaim_end")
int vmt_rcl_dend_tp(struct trace_event_raw_mm_vmscan_direct_reclaim_end_template *ctx)
{
	return on_end(RECLAIM_KIND_DIRECT, BPF_CORE_READ(ctx, nr_reclaimed));
}
SEC("tp/vmscan/mm_vmscan_memcg_reclaim_begin")
int vmt_rcl_mbeg_tp(struct trace_event_raw_mm_vmscan_direct_reclaim_begin_template *ctx)
{
	return on_begin(RECLAIM_KIND_MEMCG, BPF_CORE_READ(ctx, order));
}
SEC("tp/vmscan/mm_vmscan_memcg_reclaim_end")
int vmt_rcl_mend_tp(struct trace_event_raw_mm_vmscan_direct_reclaim_end_template *ctx)
{
	return on_end(RECLAIM_KIND_MEMCG, BPF_CORE_READ(ctx, nr_reclaimed));
}
SEC("tp/vmscan/mm_vmscan_memcg_softlimit_reclaim_begin")
int vmt_rcl_sbeg_tp(struct trace_event_raw_mm_vmscan_direct_reclaim_begin_template *ctx)
{
	return on_begin(RECLAIM_KIND_MEMCG, BPF_CORE_READ(ctx, order));
}
SEC("tp/vmscan/mm_vmscan_memcg_softlimit_reclaim_end")
int vmt_rcl_send_tp(struct trace_event_raw_mm_vmscan_direct_reclaim_end_template *ctx)
{
	return on_end(RECLAIM_KIND_MEMCG, BPF_CORE_READ(ctx, nr_reclaimed));
}
SEC("tp/vmscan/mm_vmscan_kswapd_wake")
int vmt_rcl_kwake_tp(struct trace_event_raw_mm_vmscan_kswapd_wake *ctx)
{
	return on_kswapd_wake(BPF_CORE_READ(ctx, nid));
}
SEC("tp/vmscan/mm_vmscan_kswapd_sleep")
int vmt_rcl_kslp_tp(struct trace_event_raw_mm_vmscan_kswapd_sleep *ctx)
{
	return on_kswapd_sleep(BPF_CORE_READ(ctx, nid));
}
SEC("tp/vmscan/mm_vmscan_lru_shrink_inactive")
int vmt_rcl_lru_tp(struct trace_event_raw_mm_vmscan_lru_shrink_inactive *ctx)
{
	/* reclaim_flags: RECLAIM_WB_FILE 0x1 (include/trace/events/vmscan.h trace_reclaim_flags) */
	int file = BPF_CORE_READ(ctx, reclaim_flags) & 0x1;
	return on_shrink_inactive(BPF_CORE_READ(ctx, nr_scanned), BPF_CORE_READ(ctx, nr_reclaimed),
				  file);
}
