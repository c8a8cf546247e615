// SPDX-License-Identifier: GPL-2.0
/* Page-fault counts per process, split user/kernel and read/write. Opt-in: this fires for every
 * fault, so the per-event work is one hash lookup and one atomic add. */
#include "vmlinux.h"

#include "common.bpf.h"
#include "faults.h"

char LICENSE[] SEC("license") = "GPL";

VMTUNE_STATIC_ASSERT(sizeof(struct faults_pid_stats) == 56, "pid stats layout");

#define X86_PF_WRITE 0x2 /* arch/x86/include/asm/trap_pf.h */

VMTUNE_HASH(pids, FAULTS_MAX_PIDS, __u32 /* tgid */, struct faults_pid_stats);
VMTUNE_PERCPU_ARRAY(counters, FAULTS_NR_COUNTERS, __u64);

VMTUNE_DEFINE_TASK_ENTRY(pid_stats, pids, __u32, struct faults_pid_stats, FAULTS_CTR_PID_MAP_FULL)

static __always_inline int on_fault(int kernel, unsigned long error_code)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	struct faults_pid_stats *ps = pid_stats(&pid);
	if (!ps)
		return 0;
	int write = (error_code & X86_PF_WRITE) != 0;
	if (kernel)
		__sync_fetch_and_add(write ? &ps->kernel_write : &ps->kernel_read, 1);
	else
		__sync_fetch_and_add(write ? &ps->user_write : &ps->user_read, 1);
	return 0;
}

SEC("tp_btf/page_fault_user")
int BPF_PROG(vmt_flt_user_btf, unsigned long address, struct pt_regs *regs,
	     unsigned long error_code)
{
	return on_fault(0, error_code);
}
SEC("tp_btf/page_fault_kernel")
int BPF_PROG(vmt_flt_kern_btf, unsigned long address, struct pt_regs *regs,
	     unsigned long error_code)
{
	return on_fault(1, error_code);
}
SEC("tp/exceptions/page_fault_user")
int vmt_flt_user_tp(struct trace_event_raw_exceptions *ctx)
{
	return on_fault(0, BPF_CORE_READ(ctx, error_code));
}
SEC("tp/exceptions/page_fault_kernel")
int vmt_flt_kern_tp(struct trace_event_raw_exceptions *ctx)
{
	return on_fault(1, BPF_CORE_READ(ctx, error_code));
}
