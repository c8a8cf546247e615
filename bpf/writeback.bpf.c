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

VMTUNE_PERCPU_ARRAY(hists, 1, struct writeback_hist);
VMTUNE_HASH(pids, WRITEBACK_MAX_PIDS, __u32 /* tgid */, struct writeback_pid_stats);
VMTUNE_PERCPU_ARRAY(counters, WRITEBACK_NR_COUNTERS, __u64);
VMTUNE_RINGBUF(events, 256 * 1024);

VMTUNE_DEFINE_TASK_ENTRY(pid_stats, pids, __u32, struct writeback_pid_stats,
			 WRITEBACK_CTR_PID_MAP_FULL)

/* A pause over the threshold, as a ring-buffer record. bdi_src: kernel pointer to the device
 * name (tp_btf) or NULL with bdi_tp set (classic). */
static __always_inline void emit_slow(__u64 id, __u64 pause_us, __u64 dirtied, const char *bdi_src,
				      const char *bdi_tp)
{
	struct writeback_event *e =
		vmtune_reserve(&events, sizeof(*e), &counters, WRITEBACK_CTR_EVENTS_DROPPED);
	if (!e)
		return;
	VMTUNE_FILL_TASK(e, id);
	e->pause_us = pause_us;
	e->dirtied_pages = dirtied;
	if (bdi_src)
		bpf_probe_read_kernel_str(e->bdi, sizeof(e->bdi), bdi_src);
	else
		bpf_probe_read_kernel_str(e->bdi, sizeof(e->bdi), bdi_tp);
	bpf_ringbuf_submit(e, 0);
}

static __always_inline int on_balance(__u64 pause_us, __u64 dirtied, const char *bdi_src,
				      const char *bdi_tp)
{
	VMTUNE_COUNT(counters, WRITEBACK_CTR_CALLS, 1);
	if (pause_us == 0)
		return 0;
	VMTUNE_COUNT(counters, WRITEBACK_CTR_PAUSES, 1);
	VMTUNE_HIST_ADD_AT(hists, 0, pause_us, WRITEBACK_MAX_SLOTS);

	__u64 id = bpf_get_current_pid_tgid();
	__u32 pid = id >> 32;
	struct writeback_pid_stats *ps = pid_stats(&pid);
	if (ps) {
		VMTUNE_TASK_STALL_ADD(ps, pause_us, WRITEBACK_MAX_SLOTS);
		__sync_fetch_and_add(&ps->dirtied_pages, dirtied);
	}
	if (pause_us >= slow_event_us)
		emit_slow(id, pause_us, dirtied, bdi_src, bdi_tp);
	return 0;
}

/* ---- programs: tp_btf and classic tp twins around on_balance ---- */
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
