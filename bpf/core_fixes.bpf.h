/* SPDX-License-Identifier: GPL-2.0 */
/* Kernel-version shims for renamed or reshaped fields. Each cites the commit that changed it.
 * Never include from C++. */
#ifndef VMTUNE_CORE_FIXES_BPF_H
#define VMTUNE_CORE_FIXES_BPF_H

#include <bpf/bpf_core_read.h>

/* Linux 6.2 (commit f1a7941243c1, "mm: convert mm's rss stats into percpu_counter") turned
 * mm_struct::rss_stat from struct mm_rss_stat { atomic_long_t count[]; } into an array of
 * struct percpu_counter. Older layout, for CO-RE: */
struct mm_rss_stat___pre62 {
	atomic_long_t count[4];
};
struct mm_struct___pre62 {
	struct mm_rss_stat___pre62 rss_stat;
};

/* get_mm_counter(mm, member) for a constant member (MM_FILEPAGES 0, MM_ANONPAGES 1,
 * MM_SWAPENTS 2, MM_SHMEMPAGES 3): the value the oom:mark_victim tracepoint prints (pages). */
#define VMTUNE_MM_COUNTER(mm, member)                                                    \
	(bpf_core_field_exists(((struct mm_struct___pre62 *)0)->rss_stat.count)           \
		 ? (long)BPF_CORE_READ((struct mm_struct___pre62 *)(mm),                   \
				       rss_stat.count[member].counter)                      \
		 : (long)BPF_CORE_READ((mm), rss_stat[member].count))

#endif /* VMTUNE_CORE_FIXES_BPF_H */
