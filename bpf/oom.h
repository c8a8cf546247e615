/* SPDX-License-Identifier: GPL-2.0 */
/* Shared by oom.bpf.c and src/collect/bpf/oom.cpp. Includes nothing. */
#ifndef VMTUNE_OOM_H
#define VMTUNE_OOM_H

#define VMTUNE_OOM_ABI 1

#define OOM_COMM_LEN 16

/* Indices of the per-CPU counter array. */
#define OOM_CTR_MARK_VICTIM 0         /* oom:mark_victim */
#define OOM_CTR_WAKE_REAPER 1         /* oom:wake_reaper */
#define OOM_CTR_START_REAPING 2       /* oom:start_task_reaping */
#define OOM_CTR_FINISH_REAPING 3      /* oom:finish_task_reaping */
#define OOM_CTR_SKIP_REAPING 4        /* oom:skip_task_reaping */
#define OOM_CTR_RECLAIM_RETRY_ZONE 5  /* oom:reclaim_retry_zone */
#define OOM_CTR_COMPACT_RETRY 6       /* oom:compact_retry */
#define OOM_CTR_SCORE_ADJ_UPDATE 7    /* oom:oom_score_adj_update */
#define OOM_CTR_EVENTS_DROPPED 8
#define OOM_NR_COUNTERS 9

/* Bits of oom_event.valid: which optional fields the attach mode could fill. */
#define OOM_VALID_RSS 0x1     /* total_vm_kb .. pgtables_kb, oom_score_adj */
#define OOM_VALID_MEMCG 0x2   /* memcg_id */

/* One OOM kill, from oom:mark_victim (ring buffer record). Memory figures as the tracepoint
 * prints them (kB). The trigger is the task whose allocation invoked the OOM killer. */
struct oom_event {
	__u64 total_vm_kb;
	__u64 anon_rss_kb;
	__u64 file_rss_kb;
	__u64 shmem_rss_kb;
	__u64 pgtables_kb;
	__u64 memcg_id;          /* kernfs id of the victim's memory-controller cgroup (v1 or v2) */
	__u64 trigger_cgroup_id; /* bpf_get_current_cgroup_id() of the trigger (cgroup v2) */
	__u32 pid;               /* victim tgid */
	__u32 trigger_pid;
	__u32 uid;
	__s32 oom_score_adj;
	__u32 valid;             /* OOM_VALID_* */
	__u32 _pad;
	char comm[OOM_COMM_LEN];
	char trigger_comm[OOM_COMM_LEN];
};

#endif /* VMTUNE_OOM_H */
