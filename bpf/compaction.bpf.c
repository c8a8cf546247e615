// SPDX-License-Identifier: GPL-2.0
/* Compaction: zone-pass latency (all and direct), direct-compaction stalls per process with
 * the allocation order, deferrals, kcompactd wake-ups and mm_compaction_end results. */
#include "vmlinux.h"

#include "common.bpf.h"
#include "compaction.h"

char LICENSE[] SEC("license") = "GPL";

VMTUNE_STATIC_ASSERT(sizeof(struct compaction_event) == 56, "event layout");
VMTUNE_STATIC_ASSERT(sizeof(struct compaction_pid_stats) == 56, "pid stats layout");

const volatile __u64 slow_event_ns = 10 * 1000 * 1000;

struct pass {
	__u64 start_ns;
	__s32 direct; /* 1, 0, or -1 when the attach mode cannot tell (classic tp) */
	__s32 order;
};

/* Per task: the allocation order of its latest direct compaction entry and when it began. */
struct direct_mark {
	__u64 ts_ns;
	__s32 order;
	__u32 _pad;
};

VMTUNE_HASH(passes, COMPACTION_MAX_INFLIGHT, __u32 /* tid */, struct pass);
VMTUNE_HASH(marks, COMPACTION_MAX_INFLIGHT, __u32 /* tid */, struct direct_mark);
VMTUNE_PERCPU_ARRAY(hists, COMPACTION_NR_HISTS, struct compaction_hist);
VMTUNE_HASH(pids, COMPACTION_MAX_PIDS, __u32 /* tgid */, struct compaction_pid_stats);
VMTUNE_PERCPU_ARRAY(counters, COMPACTION_NR_COUNTERS, __u64);
VMTUNE_RINGBUF(events, 256 * 1024);

VMTUNE_DEFINE_TASK_ENTRY(pid_stats, pids, __u32, struct compaction_pid_stats,
			 COMPACTION_CTR_PID_MAP_FULL)

static __always_inline int on_try_to_compact(int order)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id;
	__u32 pid = id >> 32;
	struct direct_mark m = { .ts_ns = bpf_ktime_get_ns(), .order = order };
	bpf_map_update_elem(&marks, &tid, &m, BPF_ANY);
	VMTUNE_COUNT(counters, COMPACTION_CTR_DIRECT_ENTRIES, 1);
	struct compaction_pid_stats *ps = pid_stats(&pid);
	if (ps) {
		__sync_fetch_and_add(&ps->count, 1);
		if ((__u32)order > ps->max_order && order >= 0)
			ps->max_order = order;
	}
	return 0;
}

static __always_inline int on_begin(int direct, int order)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct pass p = { .start_ns = bpf_ktime_get_ns(), .direct = direct, .order = order };
	bpf_map_update_elem(&passes, &tid, &p, BPF_ANY);
	return 0;
}

/* A zone pass over the threshold, as a ring-buffer record. */
static __always_inline void emit_slow(__u64 id, __u64 delta_ns, int direct, int order, int status)
{
	struct compaction_event *e =
		vmtune_reserve(&events, sizeof(*e), &counters, COMPACTION_CTR_EVENTS_DROPPED);
	if (!e)
		return;
	VMTUNE_FILL_TASK(e, id);
	e->latency_ns = delta_ns;
	e->order = direct ? order : -1;
	e->status = status;
	e->direct = direct;
	e->_pad = 0;
	bpf_ringbuf_submit(e, 0);
}

static __always_inline int on_end(int status)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id;
	__u32 pid = id >> 32;
	struct pass *p = bpf_map_lookup_elem(&passes, &tid);
	if (!p)
		return 0;
	__u64 now = bpf_ktime_get_ns();
	__u64 delta_ns = now - p->start_ns;
	int direct = p->direct;
	int order = p->order;
	bpf_map_delete_elem(&passes, &tid);
	if (direct < 0) {
		/* Classic tracepoints do not say whether a pass is direct: it is when this task
		 * entered direct compaction (try_to_compact_pages) in the last second. */
		struct direct_mark *m = bpf_map_lookup_elem(&marks, &tid);
		direct = m && now - m->ts_ns < 1000000000ull;
		order = m && direct ? m->order : -1;
	}
	__u64 us = delta_ns / 1000;

	VMTUNE_HIST_ADD_AT(hists, COMPACTION_HIST_ALL, us, COMPACTION_MAX_SLOTS);
	if (status >= 0 && status < COMPACTION_NR_STATUS)
		VMTUNE_COUNT(counters, COMPACTION_CTR_STATUS_BASE + status, 1);
	if (direct) {
		VMTUNE_HIST_ADD_AT(hists, COMPACTION_HIST_DIRECT, us, COMPACTION_MAX_SLOTS);
		struct compaction_pid_stats *ps = pid_stats(&pid);
		if (ps) {
			__sync_fetch_and_add(&ps->total_us, us);
			vmtune_store_max(&ps->max_us, us);
		}
	}
	if (delta_ns >= slow_event_ns)
		emit_slow(id, delta_ns, direct, order, status);
	return 0;
}

/* ---- programs: tp_btf and classic tp twins around the handlers above ---- */
SEC("tp_btf/mm_compaction_try_to_compact_pages")
int BPF_PROG(vmt_cmp_try_btf, int order, gfp_t gfp, int prio) { return on_try_to_compact(order); }
SEC("tp/compaction/mm_compaction_try_to_compact_pages")
int vmt_cmp_try_tp(struct trace_event_raw_mm_compaction_try_to_compact_pages *ctx)
{
	return on_try_to_compact(BPF_CORE_READ(ctx, order));
}

SEC("tp_btf/mm_compaction_begin")
int BPF_PROG(vmt_cmp_beg_btf, struct compact_control *cc, unsigned long zone_start,
	     unsigned long zone_end, bool sync)
{
	int direct = BPF_CORE_READ(cc, direct_compaction);
	return on_begin(direct, direct ? BPF_CORE_READ(cc, order) : -1);
}
SEC("tp/compaction/mm_compaction_begin")
int vmt_cmp_beg_tp(void *ctx) { return on_begin(-1, -1); }

SEC("tp_btf/mm_compaction_end")
int BPF_PROG(vmt_cmp_end_btf, struct compact_control *cc, unsigned long zone_start,
	     unsigned long zone_end, bool sync, int status)
{
	return on_end(status);
}
SEC("tp/compaction/mm_compaction_end")
int vmt_cmp_end_tp(struct trace_event_raw_mm_compaction_end *ctx)
{
	int status = bpf_core_field_exists(ctx->status) ? BPF_CORE_READ(ctx, status) : -1;
	return on_end(status);
}

VMTUNE_COUNT_ONLY(vmt_cmp_dfd, "compaction", "mm_compaction_deferred", COMPACTION_CTR_DEFERRED)
VMTUNE_COUNT_ONLY(vmt_cmp_dfc, "compaction", "mm_compaction_defer_compaction",
		  COMPACTION_CTR_DEFER_COMPACTION)
VMTUNE_COUNT_ONLY(vmt_cmp_kcw, "compaction", "mm_compaction_kcompactd_wake",
		  COMPACTION_CTR_KCOMPACTD_WAKE)
VMTUNE_COUNT_ONLY(vmt_cmp_wkc, "compaction", "mm_compaction_wakeup_kcompactd",
		  COMPACTION_CTR_WAKEUP_KCOMPACTD)
