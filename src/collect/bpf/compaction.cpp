// SPDX-License-Identifier: GPL-2.0-or-later
// Loader for bpf/compaction.bpf.c: zone-pass latency, direct-compaction stalls per process
// with the allocation order, deferrals, kcompactd wake-ups and mm_compaction_end results.
#include <linux/types.h>

#include <cstddef>
#include <cstring>

#include "collect/bpf/probe_group.hpp"
#include "compaction.h"
#include "compaction.skel.h"

namespace vmtune::collect::bpf {
namespace {

static_assert(VMTUNE_COMPACTION_ABI == 1, "decoder below matches ABI 1");
static_assert(sizeof(compaction_hist) == (COMPACTION_MAX_SLOTS + 3) * 8);
static_assert(sizeof(compaction_pid_stats) == 56);
static_assert(offsetof(compaction_pid_stats, comm) == 40);
static_assert(sizeof(compaction_event) == 56);
static_assert(offsetof(compaction_event, comm) == 40);

constexpr EventSpec kEvents[] = {
    {"compaction", "mm_compaction_begin", true},
    {"compaction", "mm_compaction_end", true},
    {"compaction", "mm_compaction_try_to_compact_pages", false},
    {"compaction", "mm_compaction_deferred", false},
    {"compaction", "mm_compaction_defer_compaction", false},
    {"compaction", "mm_compaction_kcompactd_wake", false},
    {"compaction", "mm_compaction_wakeup_kcompactd", false},
};

class CompactionGroup final : public SkeletonGroup<compaction_bpf> {
 public:
  CompactionGroup() : SkeletonGroup("compaction") {}

  void add_ring_buffers(const RingBufferAdd& add) override {
    if (skel_) add(bpf_map__fd(skel_->maps.events), &CompactionGroup::on_event, this);
  }

  void collect(model::BpfStats& out, const GroupContext& ctx) override {
    if (!skel_) return;
    static const char* const kHist[COMPACTION_NR_HISTS] = {"compaction_us", "direct_compaction_us"};
    for (std::uint32_t k = 0; k < COMPACTION_NR_HISTS; ++k) {
      const auto raw = read_percpu_raw(bpf_map__fd(skel_->maps.hists), k, sizeof(compaction_hist));
      compaction_hist sum{};
      for (std::size_t off = 0; off + sizeof(compaction_hist) <= raw.size();
           off += sizeof(compaction_hist)) {
        compaction_hist h;
        std::memcpy(&h, raw.data() + off, sizeof h);
        for (int i = 0; i < COMPACTION_MAX_SLOTS; ++i) sum.slots[i] += h.slots[i];
        sum.count += h.count;
        sum.sum_us += h.sum_us;
        if (h.max_us > sum.max_us) sum.max_us = h.max_us;
      }
      out.histograms[kHist[k]] =
          make_histogram(sum.slots, COMPACTION_MAX_SLOTS, sum.count, sum.sum_us, sum.max_us, "us");
    }
    std::vector<model::ProcessStall> top;
    for (const auto& [k, v] : dump_hash(bpf_map__fd(skel_->maps.pids), sizeof(__u32),
                                        sizeof(compaction_pid_stats))) {
      __u32 pid;
      compaction_pid_stats st;
      std::memcpy(&pid, k.data(), sizeof pid);
      std::memcpy(&st, v.data(), sizeof st);
      model::ProcessStall p;
      p.pid = static_cast<int>(pid);
      p.comm = fixed_string(st.comm, sizeof st.comm);
      p.cgroup_id = st.cgroup_id;
      p.cgroup = ctx.cgroups.v2(st.cgroup_id);
      p.count = st.count;
      p.total_us = st.total_us;
      p.max_us = st.max_us;
      p.order = st.max_order;
      top.push_back(std::move(p));
    }
    keep_top(top, ctx.options.top_n);
    out.top["direct_compaction"] = std::move(top);
    const auto c = read_percpu_counters(bpf_map__fd(skel_->maps.counters), COMPACTION_NR_COUNTERS);
    out.counters["compaction_direct_entries"] = c[COMPACTION_CTR_DIRECT_ENTRIES];
    out.counters["compaction_deferred"] = c[COMPACTION_CTR_DEFERRED];
    out.counters["compaction_defer_compaction"] = c[COMPACTION_CTR_DEFER_COMPACTION];
    out.counters["kcompactd_wake"] = c[COMPACTION_CTR_KCOMPACTD_WAKE];
    out.counters["kcompactd_wakeup_requests"] = c[COMPACTION_CTR_WAKEUP_KCOMPACTD];
    out.counters["compaction_unattributed"] = c[COMPACTION_CTR_PID_MAP_FULL];
    out.counters["compaction_events_dropped"] = c[COMPACTION_CTR_EVENTS_DROPPED] + dropped_;
    for (int s = 0; s < COMPACTION_NR_STATUS; ++s) {
      const auto n = c[COMPACTION_CTR_STATUS_BASE + s];
      if (n == 0) continue;
      out.counters["compaction_result_" + btf_enum_name(ctx.vmlinux, "compact_result", s, "COMPACT_")] = n;
    }
    for (auto& e : events_) {
      if (e.status) e.detail = btf_enum_name(ctx.vmlinux, "compact_result", *e.status, "COMPACT_");
      out.slow_events.push_back(std::move(e));
    }
    events_.clear();
  }

 protected:
  std::span<const EventSpec> events() const override { return kEvents; }
  void configure(const GroupContext& ctx) override {
    skel_->rodata->slow_event_ns = ctx.options.slow_event_us * 1000;
    max_events_ = ctx.options.max_slow_events;
  }

 private:
  static int on_event(void* self_ptr, void* data, std::size_t size) {
    auto* self = static_cast<CompactionGroup*>(self_ptr);
    if (size < sizeof(compaction_event)) return 0;
    compaction_event e;
    std::memcpy(&e, data, sizeof e);
    if (self->events_.size() >= self->max_events_) {
      ++self->dropped_;
      return 0;
    }
    model::StallEvent s;
    s.kind = e.direct != 0 ? "direct_compaction" : "compaction";
    s.time_unix_ms = now_unix_ms();
    s.pid = static_cast<int>(e.pid);
    s.tid = static_cast<int>(e.tid);
    s.comm = fixed_string(e.comm, sizeof e.comm);
    s.cgroup_id = e.cgroup_id;
    s.latency_us = e.latency_ns / 1000;
    if (e.order >= 0) s.order = e.order;
    if (e.status >= 0) s.status = e.status;
    self->events_.push_back(std::move(s));
    return 0;
  }

  std::vector<model::StallEvent> events_;
  std::size_t max_events_ = 1000;
  std::uint64_t dropped_ = 0;
};

}  // namespace

std::unique_ptr<ProbeGroup> make_compaction_group() { return std::make_unique<CompactionGroup>(); }

}  // namespace vmtune::collect::bpf
