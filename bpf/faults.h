/* SPDX-License-Identifier: GPL-2.0 */
/* Shared by faults.bpf.c and src/collect/bpf/faults.cpp. Includes nothing. */
#ifndef VMTUNE_FAULTS_H
#define VMTUNE_FAULTS_H

#define VMTUNE_FAULTS_ABI 1

#define FAULTS_COMM_LEN 16
#define FAULTS_MAX_PIDS 16384

#define FAULTS_CTR_PID_MAP_FULL 0 /* faults not counted: per-process map full */
#define FAULTS_NR_COUNTERS 1

/* Page faults of one process (hash map keyed by tgid), from exceptions:page_fault_user and
 * exceptions:page_fault_kernel; write = error_code & X86_PF_WRITE (0x2). */
struct faults_pid_stats {
	__u64 user_read;
	__u64 user_write;
	__u64 kernel_read;
	__u64 kernel_write;
	__u64 cgroup_id; /* bpf_get_current_cgroup_id() at the first fault */
	char comm[FAULTS_COMM_LEN];
};

#endif /* VMTUNE_FAULTS_H */
