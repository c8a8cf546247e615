/* SPDX-License-Identifier: GPL-2.0 */
/* BPF-only helpers shared by every vmtune probe. Never included by C++. */
#ifndef VMTUNE_COMMON_BPF_H
#define VMTUNE_COMMON_BPF_H

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#ifndef BPF_NOEXIST
#define BPF_NOEXIST 1
#endif
#ifndef E2BIG
#define E2BIG 7
#endif

#define VMTUNE_STATIC_ASSERT(cond, msg) _Static_assert(cond, msg)

/* floor(log2(v)), 0 for v == 0: the slot of a log2 histogram. */
static __always_inline __u32 vmtune_log2(__u64 v)
{
	__u32 r = 0;
	if (v >> 32) { v >>= 32; r += 32; }
	if (v >> 16) { v >>= 16; r += 16; }
	if (v >> 8) { v >>= 8; r += 8; }
	if (v >> 4) { v >>= 4; r += 4; }
	if (v >> 2) { v >>= 2; r += 2; }
	if (v >> 1) { r += 1; }
	return r;
}

/* Adds one value to a histogram struct with fields slots[nslots], count, sum_us, max_us.
 * Histograms live in per-CPU arrays, so plain increments are race-free. */
#define VMTUNE_HIST_ADD(h, value_us, nslots)                    \
	do {                                                    \
		__u64 __v = (value_us);                         \
		__u32 __s = vmtune_log2(__v);                   \
		if (__s >= (nslots))                            \
			__s = (nslots) - 1;                     \
		(h)->slots[__s]++;                              \
		(h)->count++;                                   \
		(h)->sum_us += __v;                             \
		if (__v > (h)->max_us)                          \
			(h)->max_us = __v;                      \
	} while (0)

/* Increments slot `idx` of a per-CPU __u64 counter array map. */
#define VMTUNE_COUNT(map, idx, n)                               \
	do {                                                    \
		__u32 __k = (idx);                              \
		__u64 *__c = bpf_map_lookup_elem(&(map), &__k); \
		if (__c)                                        \
			*__c += (n);                            \
	} while (0)

/* Shared-map max update; a lost race only under-reports the maximum. */
static __always_inline void vmtune_store_max(__u64 *slot, __u64 v)
{
	if (v > *slot)
		*slot = v;
}

#endif /* VMTUNE_COMMON_BPF_H */
