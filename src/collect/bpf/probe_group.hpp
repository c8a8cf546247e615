// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// Internal to src/collect/bpf: the part every probe loader shares. A ProbeGroup is one
// skeleton (one bpf/<probe>.bpf.c). Each kernel event has a tp_btf program and a classic tp
// program; before load, plan_programs() picks one per event (tp_btf when the kernel's BTF
// has btf_trace_<event>, classic tp when tracefs has events/<sys>/<event>) and switches the
// others' autoload off, so a missing tracepoint disables only its program (or its group, when
// required) instead of failing the whole load.

#include <bpf/libbpf.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "collect/bpf/probe_features.hpp"
#include "collect/bpf/skeleton.hpp"
#include "collect/bpf/trace_session.hpp"
#include "core/result.hpp"
#include "core/root_fs.hpp"
#include "model/bpf_stats.hpp"

struct btf;
struct ring_buffer;

namespace vmtune::collect::bpf {

/// One kernel event a group traces.
struct EventSpec {
  const char* sys;    ///< tracefs system, "vmscan"
  const char* event;  ///< "mm_vmscan_direct_reclaim_begin"
  bool required;      ///< the group is unavailable without it
};

/// Mounts tracefs on demand (root, live machine only) and unmounts what it mounted.
class TracefsAccess {
 public:
  TracefsAccess(const core::RootFs& fs, const BpfSupport& support) : fs_(fs), support_(support) {}
  TracefsAccess(const TracefsAccess&) = delete;
  TracefsAccess& operator=(const TracefsAccess&) = delete;
  ~TracefsAccess();
  /// True when tracefs events can be read; otherwise `why` says what the user can do.
  bool ensure(std::string* why);
  bool mounted_by_us() const noexcept { return mounted_; }

 private:
  const core::RootFs& fs_;
  const BpfSupport& support_;
  bool tried_ = false;
  bool ok_ = false;
  bool mounted_ = false;
  std::string why_;
};

/// Cgroup id -> path, found by inode number under the cgroup2 mount (bpf_get_current_cgroup_id)
/// or the v1 memory hierarchy (memcg ids of hybrid hosts). Scanned lazily, once.
class CgroupNames {
 public:
  explicit CgroupNames(const core::RootFs& fs) : fs_(fs) {}
  std::string v2(std::uint64_t id) const;
  std::string memcg(std::uint64_t id) const;

 private:
  void scan() const;
  const core::RootFs& fs_;
  mutable bool scanned_ = false;
  mutable bool memcg_is_v1_ = false;
  mutable std::map<std::uint64_t, std::string> v2_;
  mutable std::map<std::uint64_t, std::string> v1_memory_;
};

/// Everything a group needs while starting and decoding.
struct GroupContext {
  const core::RootFs& fs;
  const BpfSupport& support;
  const TraceOptions& options;
  const struct btf* vmlinux;  ///< kernel BTF, may be null
  TracefsAccess& tracefs;
  const CgroupNames& cgroups;
  std::uint64_t page_size = 4096;
};

/// Registers ring buffers with the session's single poller.
using RingBufferAdd = std::function<bool(int map_fd, int (*fn)(void*, void*, std::size_t), void* ctx)>;

class ProbeGroup {
 public:
  explicit ProbeGroup(std::string name) { status_.name = std::move(name); }
  virtual ~ProbeGroup() = default;
  ProbeGroup(const ProbeGroup&) = delete;
  ProbeGroup& operator=(const ProbeGroup&) = delete;

  const std::string& name() const noexcept { return status_.name; }
  const model::ProbeStatus& status() const noexcept { return status_; }
  /// Opens, plans, loads and attaches. Never throws; status() says what happened.
  bool start(const GroupContext& ctx);
  /// Hands the group's ring buffer (if any) to the session's poller.
  virtual void add_ring_buffers(const RingBufferAdd& /*add*/) {}
  /// Reads the kernel maps into `out`.
  virtual void collect(model::BpfStats& out, const GroupContext& ctx) = 0;
  /// Detaches and unloads everything now.
  void stop() noexcept { close_object(); }
  /// Extra statuses the group reports (faults: "fault_latency").
  virtual std::vector<model::ProbeStatus> extra_statuses(const GroupContext& /*ctx*/) { return {}; }

 protected:
  virtual std::span<const EventSpec> events() const = 0;
  /// Opens a fresh skeleton and returns its object.
  virtual core::Result<struct bpf_object*> open_object() = 0;
  /// Sets rodata and map sizes between open and load.
  virtual void configure(const GroupContext& /*ctx*/) {}
  virtual int load_object() = 0;
  virtual void close_object() noexcept = 0;
  virtual std::vector<Link>& links() = 0;

  model::ProbeStatus status_;

 private:
  /// One attempt with a given preference; returns false with status_.reason set.
  bool try_start(const GroupContext& ctx, AttachPreference prefer, bool* load_failed);
};

/// ProbeGroup over a bpftool skeleton type. Links are declared after the skeleton, so they are
/// destroyed (detached) first.
template <typename Skel>
class SkeletonGroup : public ProbeGroup {
 public:
  using ProbeGroup::ProbeGroup;
  ~SkeletonGroup() override { close_object(); }

 protected:
  core::Result<struct bpf_object*> open_object() override {
    auto s = Skeleton<Skel>::open(name());
    if (!s) return s.error();
    skel_ = std::move(*s);
    return skel_.object();
  }
  int load_object() override { return skel_.load(); }
  void close_object() noexcept override {
    links_.clear();
    skel_.reset();
  }
  std::vector<Link>& links() override { return links_; }

  Skeleton<Skel> skel_;
  std::vector<Link> links_;
};

// ---- map reading and decoding helpers ----

/// Number of possible CPUs (per-CPU map values come in that many copies).
int possible_cpus();
/// Sums a per-CPU array of __u64 counters (keys 0..n-1).
std::vector<std::uint64_t> read_percpu_counters(int map_fd, std::uint32_t n);
/// Reads the per-CPU copies of one value (each padded to 8 bytes); empty on error.
std::vector<std::uint8_t> read_percpu_raw(int map_fd, std::uint32_t key, std::size_t value_size);
/// Every (key, value) of a hash map, decoded by memcpy.
std::vector<std::pair<std::vector<std::uint8_t>, std::vector<std::uint8_t>>> dump_hash(
    int map_fd, std::size_t key_size, std::size_t value_size);

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

/// libbpf messages are kept (not printed) unless VMTUNE_BPF_DEBUG is set; the last warning is
/// available for error messages.
void install_libbpf_logger();
std::string last_libbpf_message();

// ---- the probe groups (one per bpf/<probe>.bpf.c) ----
std::unique_ptr<ProbeGroup> make_reclaim_group();
std::unique_ptr<ProbeGroup> make_compaction_group();
std::unique_ptr<ProbeGroup> make_thp_group();
std::unique_ptr<ProbeGroup> make_writeback_group();
std::unique_ptr<ProbeGroup> make_oom_group();
std::unique_ptr<ProbeGroup> make_faults_group();

}  // namespace vmtune::collect::bpf
