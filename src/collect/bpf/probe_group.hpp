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
#include <cstring>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <type_traits>
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
using RingBufferAdd =
    std::function<bool(int map_fd, int (*fn)(void*, void*, std::size_t), void* ctx)>;

class ProbeGroup {
 public:
  /// `events` is a static table in the loader (it outlives the group).
  ProbeGroup(std::string name, std::span<const EventSpec> events) : events_(events) {
    status_.name = std::move(name);
  }
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

  std::span<const EventSpec> events_;
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

/// Ring-buffer records of one type, decoded into Out (a model type) as they arrive and kept up
/// to a cap; later records are counted as dropped. Decode, don't cast: each record is copied
/// into a local first (STYLE.md §C.8).
template <typename Record, typename Out>
class EventQueue {
  static_assert(std::is_trivially_copyable_v<Record>);

 public:
  using Decode = Out (*)(const Record&);
  explicit EventQueue(Decode decode) noexcept : decode_(decode) {}

  void set_cap(std::size_t cap) noexcept { cap_ = cap; }
  /// Registers with the session's poller; `map_fd` is the ring buffer.
  bool add_to(const RingBufferAdd& add, int map_fd) {
    return add(map_fd, &EventQueue::on_record, this);
  }
  /// The records decoded so far (the queue is empty afterwards).
  std::vector<Out> take() noexcept { return std::exchange(records_, {}); }
  std::uint64_t dropped() const noexcept { return dropped_; }

 private:
  static int on_record(void* self_ptr, void* data, std::size_t size) {
    auto* self = static_cast<EventQueue*>(self_ptr);
    if (size < sizeof(Record)) return 0;
    Record r;
    std::memcpy(&r, data, sizeof r);
    if (self->records_.size() >= self->cap_) {
      ++self->dropped_;
      return 0;
    }
    self->records_.push_back(self->decode_(r));
    return 0;
  }

  Decode decode_;
  std::vector<Out> records_;
  std::size_t cap_ = std::numeric_limits<std::size_t>::max();
  std::uint64_t dropped_ = 0;
};

/// SkeletonGroup whose object has a ring buffer map `events` of Record (bpf/common.bpf.h).
template <typename Skel, typename Record, typename Out>
class EventGroup : public SkeletonGroup<Skel> {
 public:
  EventGroup(std::string name, std::span<const EventSpec> events,
             typename EventQueue<Record, Out>::Decode decode)
      : SkeletonGroup<Skel>(std::move(name), events), queue_(decode) {}

  void add_ring_buffers(const RingBufferAdd& add) override {
    if (this->skel_) queue_.add_to(add, bpf_map__fd(this->skel_->maps.events));
  }

 protected:
  EventQueue<Record, Out> queue_;
};

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
