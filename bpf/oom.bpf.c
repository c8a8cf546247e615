// SPDX-License-Identifier: GPL-2.0
/* OOM kills: every oom:mark_victim with victim, cgroup and memory state, as a ring-buffer
 * event; the OOM reaper and allocator-retry tracepoints as counters. */
#include "vmlinux.h"

#include "common.bpf.h"
#include "core_fixes.bpf.h"
#include "oom.h"

char LICENSE[] SEC("license") = "GPL";

VMTUNE_STATIC_ASSERT(sizeof(struct oom_event) == 112, "event layout");

const volatile __u64 page_kb = 4;

VMTUNE_PERCPU_ARRAY(counters, OOM_NR_COUNTERS, __u64);
VMTUNE_RINGBUF(events, 64 * 1024);

static __always_inline struct oom_event *reserve(void)
{
	VMTUNE_COUNT(counters, OOM_CTR_MARK_VICTIM, 1);
	struct oom_event *e =
		vmtune_reserve(&events, sizeof(*e), &counters, OOM_CTR_EVENTS_DROPPED);
	if (!e)
		return 0;
	__builtin_memset(e, 0, sizeof(*e));
	e->trigger_pid = bpf_get_current_pid_tgid() >> 32;
	e->trigger_cgroup_id = bpf_get_current_cgroup_id();
	bpf_get_current_comm(e->trigger_comm, sizeof(e->trigger_comm));
	return e;
}

SEC("tp_btf/mark_victim")
int BPF_PROG(vmt_oom_vic_btf, struct task_struct *task, uid_t uid)
{
	struct oom_event *e = reserve();
	if (!e)
		return 0;
	e->pid = BPF_CORE_READ(task, tgid);
	e->uid = uid;
	BPF_CORE_READ_STR_INTO(&e->comm, task, comm);
	e->oom_score_adj = BPF_CORE_READ(task, signal, oom_score_adj);
	struct mm_struct *mm = BPF_CORE_READ(task, mm);
	if (mm) {
		e->total_vm_kb = BPF_CORE_READ(mm, total_vm) * page_kb;
		e->file_rss_kb = (__u64)VMTUNE_MM_COUNTER(mm, 0) * page_kb;
		e->anon_rss_kb = (__u64)VMTUNE_MM_COUNTER(mm, 1) * page_kb;
		e->shmem_rss_kb = (__u64)VMTUNE_MM_COUNTER(mm, 3) * page_kb;
		e->pgtables_kb = (__u64)BPF_CORE_READ(mm, pgtables_bytes.counter) / 1024;
		e->valid |= OOM_VALID_RSS;
	}
	int memcg_id = bpf_core_enum_value(enum cgroup_subsys_id, memory_cgrp_id);
	if (memcg_id >= 0 && memcg_id < CGROUP_SUBSYS_COUNT) {
		struct cgroup_subsys_state *css = BPF_CORE_READ(task, cgroups, subsys[memcg_id]);
		if (css) {
			e->memcg_id = BPF_CORE_READ(css, cgroup, kn, id);
			e->valid |= OOM_VALID_MEMCG;
		}
	}
	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("tp/oom/mark_victim")
int vmt_oom_vic_tp(struct trace_event_raw_mark_victim *ctx)
{
	struct oom_event *e = reserve();
	if (!e)
		return 0;
	e->pid = BPF_CORE_READ(ctx, pid);
	/* Before Linux 6.8 (commit 72ba14deb40a) mark_victim carried only the pid. */
	if (bpf_core_field_exists(ctx->total_vm)) {
		e->total_vm_kb = BPF_CORE_READ(ctx, total_vm);
		e->anon_rss_kb = BPF_CORE_READ(ctx, anon_rss);
		e->file_rss_kb = BPF_CORE_READ(ctx, file_rss);
		e->shmem_rss_kb = BPF_CORE_READ(ctx, shmem_rss);
		e->pgtables_kb = BPF_CORE_READ(ctx, pgtables);
		e->uid = BPF_CORE_READ(ctx, uid);
		e->oom_score_adj = BPF_CORE_READ(ctx, oom_score_adj);
		e->valid |= OOM_VALID_RSS;
		__u32 loc = BPF_CORE_READ(ctx, __data_loc_comm);
		bpf_probe_read_kernel_str(e->comm, sizeof(e->comm), (void *)ctx + (loc & 0xffff));
	}
	bpf_ringbuf_submit(e, 0);
	return 0;
}

VMTUNE_COUNT_ONLY(vmt_oom_wake, "oom", "wake_reaper", OOM_CTR_WAKE_REAPER)
VMTUNE_COUNT_ONLY(vmt_oom_srt, "oom", "start_task_reaping", OOM_CTR_START_REAPING)
VMTUNE_COUNT_ONLY(vmt_oom_frt, "oom", "finish_task_reaping", OOM_CTR_FINISH_REAPING)
VMTUNE_COUNT_ONLY(vmt_oom_skrt, "oom", "skip_task_reaping", OOM_CTR_SKIP_REAPING)
VMTUNE_COUNT_ONLY(vmt_oom_rrz, "oom", "reclaim_retry_zone", OOM_CTR_RECLAIM_RETRY_ZONE)
VMTUNE_COUNT_ONLY(vmt_oom_cr, "oom", "compact_retry", OOM_CTR_COMPACT_RETRY)
VMTUNE_COUNT_ONLY(vmt_oom_adj, "oom", "oom_score_adj_update", OOM_CTR_SCORE_ADJ_UPDATE)
