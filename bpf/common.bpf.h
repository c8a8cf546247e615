/* SPDX-License-Identifier: GPL-2.0 */
/* BPF-only helpers shared by every vmtune probe. Never included by C++.
 *
 * Every probe names its maps alike, and the loaders in src/collect/bpf/ read them by these names:
 *   counters  per-CPU array of __u64, indices <PROBE>_CTR_* from bpf/<probe>.h
 *   hists     per-CPU array of log2 histograms (a struct with slots[], count, sum_us, max_us)
 *   pids      hash of per-process stats (a struct with count, cgroup_id, comm[] and more)
 *   events    ring buffer of rare records (stalls over the threshold, OOM kills)
 * Each kernel event has a tp_btf and a classic tp program; both are thin wrappers around one
 * static __always_inline handler, and the loader enables one of the two. */
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

/* ---- map definitions ---- */

#define VMTUNE_PERCPU_ARRAY(name, nr, value_type)        \
	struct {                                         \
		__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY); \
		__uint(max_entries, (nr));               \
		__type(key, __u32);                      \
		__type(value, value_type);               \
	} name SEC(".maps")

#define VMTUNE_HASH(name, nr, key_type, value_type) \
	struct {                                    \
		__uint(type, BPF_MAP_TYPE_HASH);    \
		__uint(max_entries, (nr));          \
		__type(key, key_type);              \
		__type(value, value_type);          \
	} name SEC(".maps")

#define VMTUNE_RINGBUF(name, bytes)                 \
	struct {                                    \
		__uint(type, BPF_MAP_TYPE_RINGBUF); \
		__uint(max_entries, (bytes));       \
	} name SEC(".maps")

/* ---- counters and histograms ---- */

/* floor(log2(v)), 0 for v == 0: the slot of a log2 histogram. Unrolled by hand: a loop costs
 * clang 14 more instructions in every program that takes a histogram. */
/* clang-format off */
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
/* clang-format on */

/* The log2 slot of v in a histogram of nslots slots; the last slot holds everything above. */
static __always_inline __u32 vmtune_slot(__u64 v, __u32 nslots)
{
	__u32 s = vmtune_log2(v);
	return s < nslots ? s : nslots - 1;
}

/* Adds n to slot idx of a per-CPU __u64 counter array. */
static __always_inline void vmtune_count(void *counters, __u32 idx, __u64 n)
{
	__u64 *c = bpf_map_lookup_elem(counters, &idx);
	if (c)
		*c += n;
}

/* Increments slot `idx` of a per-CPU __u64 counter array map. */
#define VMTUNE_COUNT(map, idx, n) vmtune_count(&(map), (idx), (n))

/* Adds one value to a histogram struct with fields slots[nslots], count, sum_us, max_us.
 * Histograms live in per-CPU arrays, so plain increments are race-free. */
#define VMTUNE_HIST_ADD(h, value_us, nslots)              \
	do {                                              \
		__u64 __v = (value_us);                   \
		(h)->slots[vmtune_slot(__v, (nslots))]++; \
		(h)->count++;                             \
		(h)->sum_us += __v;                       \
		if (__v > (h)->max_us)                    \
			(h)->max_us = __v;                \
	} while (0)

/* Adds value_us to the histogram at index `key` of per-CPU array `hists`. */
#define VMTUNE_HIST_ADD_AT(hists, key, value_us, nslots)                       \
	do {                                                                   \
		__u32 __k = (key);                                             \
		typeof(hists.value) __h = bpf_map_lookup_elem(&(hists), &__k); \
		if (__h)                                                       \
			VMTUNE_HIST_ADD(__h, (value_us), (nslots));            \
	} while (0)

/* Shared-map max update; a lost race only under-reports the maximum. */
static __always_inline void vmtune_store_max(__u64 *slot, __u64 v)
{
	if (v > *slot)
		*slot = v;
}

/* ---- per-process stats (hash maps shared between CPUs: atomic adds) ---- */

/* Defines `static value_type *fn(const key_type *key)`: the entry of hash map `map` for key,
 * created on first use with the current task's cgroup id and comm; NULL when the map is full,
 * which counts in counter full_idx. value_type has cgroup_id and comm[]. */
#define VMTUNE_DEFINE_TASK_ENTRY(fn, map, key_type, value_type, full_idx) \
	static __always_inline value_type *fn(const key_type *key)        \
	{                                                                 \
		value_type *v = bpf_map_lookup_elem(&(map), key);         \
		if (v)                                                    \
			return v;                                         \
		value_type init = {};                                     \
		init.cgroup_id = bpf_get_current_cgroup_id();             \
		bpf_get_current_comm(init.comm, sizeof(init.comm));       \
		bpf_map_update_elem(&(map), key, &init, BPF_NOEXIST);     \
		v = bpf_map_lookup_elem(&(map), key);                     \
		if (!v)                                                   \
			VMTUNE_COUNT(counters, (full_idx), 1);            \
		return v;                                                 \
	}

/* Adds one stall of `us` to per-process stats with count, total_us, max_us and
 * slots[nslots] (the process's own log2 histogram). */
#define VMTUNE_TASK_STALL_ADD(ps, us, nslots)                                       \
	do {                                                                        \
		__u64 __us = (us);                                                  \
		__sync_fetch_and_add(&(ps)->count, 1);                              \
		__sync_fetch_and_add(&(ps)->total_us, __us);                        \
		vmtune_store_max(&(ps)->max_us, __us);                              \
		__sync_fetch_and_add(&(ps)->slots[vmtune_slot(__us, (nslots))], 1); \
	} while (0)

/* ---- ring-buffer records ---- */

/* A record of `size` bytes in ring buffer `ringbuf`, or NULL when it is full; the loss counts in
 * counter dropped_idx of `counters`. */
static __always_inline void *vmtune_reserve(void *ringbuf, __u64 size, void *counters,
					    __u32 dropped_idx)
{
	void *e = bpf_ringbuf_reserve(ringbuf, size, 0);
	if (!e)
		vmtune_count(counters, dropped_idx, 1);
	return e;
}

/* Fills the task fields of a stall record: pid (tgid), tid, cgroup_id and comm of the current
 * task; `id` is bpf_get_current_pid_tgid(). */
#define VMTUNE_FILL_TASK(e, id)                                     \
	do {                                                        \
		(e)->pid = (id) >> 32;                              \
		(e)->tid = (__u32)(id);                             \
		(e)->cgroup_id = bpf_get_current_cgroup_id();       \
		bpf_get_current_comm((e)->comm, sizeof((e)->comm)); \
	} while (0)

/* ---- programs ---- */

/* A counter-only event as its two programs, <name>_btf on tp_btf/<event> and <name>_tp on
 * tp/<sys>/<event>: each adds 1 to counter idx. */
#define VMTUNE_COUNT_ONLY(name, sys, event, idx)  \
	SEC("tp_btf/" event)                      \
	int name##_btf(void *ctx)                 \
	{                                         \
		VMTUNE_COUNT(counters, (idx), 1); \
		return 0;                         \
	}                                         \
	SEC("tp/" sys "/" event)                  \
	int name##_tp(void *ctx)                  \
	{                                         \
		VMTUNE_COUNT(counters, (idx), 1); \
		return 0;                         \
	}

#endif /* VMTUNE_COMMON_BPF_H */
