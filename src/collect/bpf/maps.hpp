// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// Internal to src/collect/bpf: reading a probe's maps into model types. Every bpf/<probe>.h keeps
// its own structs (STYLE.md §C); the templates here are generic over them and rely only on the
// field names that bpf/common.bpf.h fills in every probe:
//   histogram (per-CPU array `hists`):   slots[], count, sum_us, max_us      (VMTUNE_HIST_ADD)
//   per-process stats (hash `pids`):     count, cgroup_id, comm[] (VMTUNE_DEFINE_TASK_ENTRY)
//                                         and, for stalls, total_us, max_us, slots[]
//                                                                             (VMTUNE_TASK_STALL_ADD)
//   counters (per-CPU array `counters`): __u64 per index <PROBE>_CTR_*
// What a probe adds beyond these (pages, order) its loader copies with a `fill` callback.

#include <linux/types.h>

#include <cstdint>
#include <cstring>
#include <iterator>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "collect/bpf/probe_group.hpp"
#include "model/bpf_stats.hpp"

struct btf;

namespace vmtune::collect::bpf {

/// A map key or value decoded by memcpy.
template <typename T>
concept MapValue = std::is_trivially_copyable_v<T>;

/// A log2 histogram struct of a bpf/<probe>.h.
template <typename H>
concept HistogramStruct = MapValue<H> && requires(H h) {
  std::size(h.slots);
  h.count;
  h.sum_us;
  h.max_us;
};

/// A per-process stats struct of a bpf/<probe>.h.
template <typename S>
concept TaskStats = MapValue<S> && requires(S s) {
  s.count;
  s.cgroup_id;
  std::size(s.comm);
};

// ---- raw access ----

/// Number of possible CPUs (per-CPU map values come in that many copies).
int possible_cpus();
/// Reads the per-CPU copies of one value (each padded to 8 bytes); empty on error.
std::vector<std::uint8_t> read_percpu_raw(int map_fd, std::uint32_t key, std::size_t value_size);
/// Every (key, value) of a hash map as bytes.
std::vector<std::pair<std::vector<std::uint8_t>, std::vector<std::uint8_t>>> dump_hash(
    int map_fd, std::size_t key_size, std::size_t value_size);

/// Value `key` of a per-CPU array folded over the CPUs: `fold(sum, one_cpu)` for each copy,
/// starting from a zeroed T.
template <MapValue T, typename Fold>
T fold_percpu(int map_fd, std::uint32_t key, Fold fold) {
  constexpr std::size_t stride = (sizeof(T) + 7) / 8 * 8;
  const auto raw = read_percpu_raw(map_fd, key, sizeof(T));
  T sum{};
  for (std::size_t off = 0; off + sizeof(T) <= raw.size(); off += stride) {
    T one;
    std::memcpy(&one, raw.data() + off, sizeof one);
    fold(sum, one);
  }
  return sum;
}

/// Every (key, value) of a hash map, decoded by memcpy.
template <MapValue K, MapValue V>
std::vector<std::pair<K, V>> read_hash(int map_fd) {
  std::vector<std::pair<K, V>> out;
  for (const auto& [k, v] : dump_hash(map_fd, sizeof(K), sizeof(V))) {
    std::pair<K, V> kv;
    std::memcpy(&kv.first, k.data(), sizeof(K));
    std::memcpy(&kv.second, v.data(), sizeof(V));
    out.push_back(kv);
  }
  return out;
}

// ---- decoding helpers ----

/// A NUL-terminated (or full) fixed char array as a string; untrusted text.
std::string fixed_string(const char* data, std::size_t size);
/// Builds a histogram from log2 slots, trimming trailing empty slots.
template <typename T>
model::Log2Histogram make_histogram(const T* slots, std::size_t n, std::uint64_t count,
                                    std::uint64_t sum, std::uint64_t max, const char* unit) {
  model::Log2Histogram h;
  h.unit = unit;
  std::size_t used = n;
  while (used > 0 && slots[used - 1] == 0) --used;
  h.slots.assign(slots, slots + used);
  h.count = count;
  h.sum = sum;
  h.max = max;
  return h;
}
/// Name of an enumerator of `enum_type` in the kernel BTF, lower-cased without `prefix`
/// ("COMPACT_COMPLETE" -> "complete"); "<enum_type>_<value>" when unknown.
std::string btf_enum_name(const struct btf* vmlinux, const char* enum_type, std::int64_t value,
                          const char* prefix);
/// Sorts by total_us then count (descending) and keeps the first n.
void keep_top(std::vector<model::ProcessStall>& v, std::size_t n);
/// Current wall clock in ms.
std::int64_t now_unix_ms();

/// A ring-buffer stall record of a bpf/<probe>.h (filled by VMTUNE_FILL_TASK).
template <typename R>
concept TaskRecord = MapValue<R> && requires(R r) {
  r.pid;
  r.tid;
  r.cgroup_id;
  std::size(r.comm);
};

/// A StallEvent of `kind` with the task fields of a stall record, stamped with the time now.
template <TaskRecord R>
model::StallEvent decode_task(const R& e, std::string kind) {
  model::StallEvent s;
  s.kind = std::move(kind);
  s.time_unix_ms = now_unix_ms();
  s.pid = static_cast<int>(e.pid);
  s.tid = static_cast<int>(e.tid);
  s.comm = fixed_string(e.comm, sizeof e.comm);
  s.cgroup_id = e.cgroup_id;
  return s;
}

// ---- counters ----

/// Sums a per-CPU array of __u64 counters (keys 0..n-1).
std::vector<std::uint64_t> read_percpu_counters(int map_fd, std::uint32_t n);

/// Where counter `index` of a probe's counter array goes in BpfStats::counters.
struct CounterName {
  std::uint32_t index;
  const char* name;
};
/// Reads a counter array of n entries, stores the named ones in out.counters and returns all n.
std::vector<std::uint64_t> read_counters(int map_fd, std::uint32_t n,
                                         std::span<const CounterName> names, model::BpfStats& out);

/// A kernel enum whose values a probe counts, one counter each ("compact_result", "COMPACT_").
struct KernelEnum {
  const char* type;
  const char* prefix;
};
/// counts[v] is the count of enum value v: the non-zero ones go to out.counters as
/// `name_prefix` + the enumerator's name from the kernel's BTF.
void store_enum_counters(std::span<const std::uint64_t> counts, const std::string& name_prefix,
                         KernelEnum e, const struct btf* vmlinux, model::BpfStats& out);

// ---- histograms and per-process stalls ----

/// Histogram `key` of a per-CPU array of histogram structs, summed over the CPUs (us).
template <HistogramStruct H>
model::Log2Histogram read_histogram(int map_fd, std::uint32_t key) {
  const H sum = fold_percpu<H>(map_fd, key, [](H& to, const H& one) {
    for (std::size_t i = 0; i < std::size(to.slots); ++i) to.slots[i] += one.slots[i];
    to.count += one.count;
    to.sum_us += one.sum_us;
    if (one.max_us > to.max_us) to.max_us = one.max_us;
  });
  return make_histogram(sum.slots, std::size(sum.slots), sum.count, sum.sum_us, sum.max_us, "us");
}

/// The fields every per-process stats struct shares, and the stall fields where it has them.
template <TaskStats S>
model::ProcessStall decode_stall(std::uint32_t pid, const S& st, const CgroupNames& cgroups) {
  model::ProcessStall p;
  p.pid = static_cast<int>(pid);
  p.comm = fixed_string(st.comm, sizeof st.comm);
  p.cgroup_id = st.cgroup_id;
  p.cgroup = cgroups.v2(st.cgroup_id);
  p.count = st.count;
  if constexpr (requires {
                  st.total_us;
                  st.max_us;
                }) {
    p.total_us = st.total_us;
    p.max_us = st.max_us;
  }
  if constexpr (requires { std::size(st.slots); }) {
    std::size_t used = std::size(st.slots);
    while (used > 0 && st.slots[used - 1] == 0) --used;
    p.latency_slots.assign(st.slots, st.slots + used);
  }
  return p;
}

/// Reads a per-process stats map into the top lists `lists` of out.top (each kept to
/// options.top_n, longest stalls first; a list stays present when empty). Key is the tgid
/// (__u32: every entry goes to lists[0]) or a struct with `pid` and `kind` (entry goes to
/// lists[kind]; other kinds are skipped). `fill(ProcessStall&, const S&)` copies the probe's own
/// fields.
template <MapValue Key, TaskStats S, typename Fill>
void read_stall_tops(int map_fd, const GroupContext& ctx, std::span<const char* const> lists,
                     Fill fill, model::BpfStats& out) {
  std::vector<std::vector<model::ProcessStall>> top(lists.size());
  for (const auto& [key, st] : read_hash<Key, S>(map_fd)) {
    std::uint32_t pid = 0;
    std::size_t list = 0;
    if constexpr (std::is_integral_v<Key>) {
      pid = key;
    } else {
      pid = key.pid;
      list = key.kind;
    }
    if (list >= top.size()) continue;
    auto p = decode_stall(pid, st, ctx.cgroups);
    fill(p, st);
    top[list].push_back(std::move(p));
  }
  for (std::size_t i = 0; i < lists.size(); ++i) {
    keep_top(top[i], ctx.options.top_n);
    out.top[lists[i]] = std::move(top[i]);
  }
}

/// Appends what an event queue decoded to `to`.
template <typename T>
void append(std::vector<T>& to, std::vector<T> from) {
  to.insert(to.end(), std::make_move_iterator(from.begin()), std::make_move_iterator(from.end()));
}

}  // namespace vmtune::collect::bpf
