// SPDX-License-Identifier: GPL-2.0
/* Writer throttling: writeback:balance_dirty_pages pauses per process (the stall vm.dirty_*
 * causes). The classic tracepoint reports pause in ms; tp_btf gets jiffies, scaled by HZ. */
#include "vmlinux.h"

#include "common.bpf.h"
#include "writeback.h"

char LICENSE[] SEC("license") = "GPL";

VMTUNE_STATIC_ASSERT(sizeof(struct writeback_event) == 80, "event layout");

extern unsigned int CONFIG_HZ __kconfig __weak;

const volatile __u64 slow_event_us = 10 * 1000;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct writeback_hist);
} hists SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, WRITEBACK_MAX_PIDS);
	__type(key, __u32);
	__type(value, struct writeback_pid_stats);
} pids SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, WRITEBACK_NR_COUNTERS);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

/* bdi_src: kernel pointer to the device name (tp_btf) or NULL with bdi_tp set (classic). */
static __always_inline int on_balance(__u64 pause_us, __u64 dirtied, const char *bdi_src,
				      const char *bdi_tp)
{
	VMTUNE_COUNT(counters, WRITEBACK_CTR_CALLS, 1);
	if (pause_us == 0)
		return 0;
	VMTUNE_COUNT(counters, WRITEBACK_CTR_PAUSES, 1);
	__u32 k = 0;
	struct writeback_hist *h = bpf_map_lookup_elem(&hists, &k);
	if (h)
		VMTUNE_HIST_ADD(h, pause_us, WRITEBACK_MAX_SLOTS);

	__u64 id = bpf_get_current_pid_tgid();
	__u32 pid = id >> 32;
	struct writeback_pid_stats *ps = bpf_map_lookup_elem(&pids, &pid);
	if (!ps) {
		struct writeback_pid_stats init = {};
		init.cgroup_id = bpf_get_current_cgroup_id();
		bpf_get_current_comm(init.comm, sizeof(init.comm));
		bpf_map_update_elem(&pids, &pid, &init, BPF_NOEXIST);
		ps = bpf_map_lookup_elem(&pids, &pid);
	}
	if (ps) {
		__sync_fetch_and_add(&ps->count, 1);
		__sync_fetch_and_add(&ps->total_us, pause_us);
		__sync_fetch_and_add(&ps->dirtied_pages, dirtied);
		vmtune_store_max(&ps->max_us, pause_us);
		__u32 slot = vmtune_log2(pause_us);
		if (slot >= WRITEBACK_MAX_SLOTS)
			slot = WRITEBACK_MAX_SLOTS - 1;
		__sync_fetch_and_add(&ps->slots[slot], 1);
	} else {
		VMTUNE_COUNT(counters, WRITEBACK_CTR_PID_MAP_FULL, 1);
	}

	if (pause_us >= slow_event_us) {
		struct writeback_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
		if (!e) {
			VMTUNE_COUNT(counters, WRITEBACK_CTR_EVENTS_DROPPED, 1);
			return 0;
		}
		e->pause_us = pause_us;
		e->dirtied_pages = dirtied;
		e->cgroup_id = bpf_get_current_cgroup_id();
		e->pid = pid;
		e->tid = (__u32)id;
		bpf_get_current_comm(e->comm, sizeof(e->comm));
		if (bdi_src)
			bpf_probe_read_kernel_str(e->bdi, sizeof(e->bdi), bdi_src);
		else
			bpf_probe_read_kernel_str(e->bdi, sizeof(e->bdi), bdi_tp);
		bpf_ringbuf_submit(e, 0);
	}
	return 0;
}

SEC("tp_btf/balance_dirty_pages")
int BPF_PROG(vmt_wb_bdp_btf, struct bdi_writeback *wb, struct dirty_throttle_control *dtc,
	     unsigned long dirty_ratelimit, unsigned long task_ratelimit, unsigned long dirtied,
	     unsigned long period, long pause, unsigned long start_time)
{
	__u64 pause_us = 0;
	if (pause > 0) {
		if (CONFIG_HZ == 0) {
			VMTUNE_COUNT(counters, WRITEBACK_CTR_NO_HZ, 1);
			return 0;
		}
		pause_us = (__u64)pause * 1000000ull / CONFIG_HZ;
	}
	/* tp_btf arguments are trusted BTF pointers: the address of bdi->dev_name is taken with
	 * CO-RE relocations, and the string is copied with a probe read. */
	return on_balance(pause_us, dirtied, wb->bdi->dev_name, 0);
}

SEC("tp/writeback/balance_dirty_pages")
int vmt_wb_bdp_tp(struct trace_event_raw_balance_dirty_pages *ctx)
{
	long pause_ms = BPF_CORE_READ(ctx, pause); /* jiffies_to_msecs(pause) in the tracepoint */
	__u64 pause_us = pause_ms > 0 ? (__u64)pause_ms * 1000 : 0;
	return on_balance(pause_us, BPF_CORE_READ(ctx, dirtied), 0, ctx->bdi);
}
