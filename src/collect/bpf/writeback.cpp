// SPDX-License-Identifier: GPL-2.0-or-later
// Loader for bpf/writeback.bpf.c: writeback:balance_dirty_pages pauses per process.
#include <linux/types.h>

#include <cstddef>
#include <cstring>

#include "collect/bpf/probe_group.hpp"
#include "writeback.h"
#include "writeback.skel.h"

namespace vmtune::collect::bpf {
namespace {

static_assert(VMTUNE_WRITEBACK_ABI == 1, "decoder below matches ABI 1");
static_assert(sizeof(writeback_hist) == (WRITEBACK_MAX_SLOTS + 3) * 8);
static_assert(sizeof(writeback_pid_stats) == 5 * 8 + WRITEBACK_MAX_SLOTS * 4 + 4 + WRITEBACK_COMM_LEN);
static_assert(sizeof(writeback_event) == 80);
static_assert(offsetof(writeback_event, bdi) == 48);

constexpr EventSpec kEvents[] = {
    {"writeback", "balance_dirty_pages", true},
};

class WritebackGroup final : public SkeletonGroup<writeback_bpf> {
 public:
  WritebackGroup() : SkeletonGroup("writeback") {}

  void add_ring_buffers(const RingBufferAdd& add) override {
    if (skel_) add(bpf_map__fd(skel_->maps.events), &WritebackGroup::on_event, this);
  }

  void collect(model::BpfStats& out, const GroupContext& ctx) override {
    if (!skel_) return;
    const auto raw = read_percpu_raw(bpf_map__fd(skel_->maps.hists), 0, sizeof(writeback_hist));
    writeback_hist sum{};
    for (std::size_t off = 0; off + sizeof(writeback_hist) <= raw.size(); off += sizeof(writeback_hist)) {
      writeback_hist h;
      std::memcpy(&h, raw.data() + off, sizeof h);
      for (int i = 0; i < WRITEBACK_MAX_SLOTS; ++i) sum.slots[i] += h.slots[i];
      sum.count += h.count;
      sum.sum_us += h.sum_us;
      if (h.max_us > sum.max_us) sum.max_us = h.max_us;
    }
    out.histograms["writeback_pause_us"] =
        make_histogram(sum.slots, WRITEBACK_MAX_SLOTS, sum.count, sum.sum_us, sum.max_us, "us");
    std::vector<model::ProcessStall> top;
    for (const auto& [k, v] : dump_hash(bpf_map__fd(skel_->maps.pids), sizeof(__u32),
                                        sizeof(writeback_pid_stats))) {
      __u32 pid;
      writeback_pid_stats st;
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
      p.pages = st.dirtied_pages;
      std::size_t used = WRITEBACK_MAX_SLOTS;
      while (used > 0 && st.slots[used - 1] == 0) --used;
      p.latency_slots.assign(st.slots, st.slots + used);
      top.push_back(std::move(p));
    }
    keep_top(top, ctx.options.top_n);
    out.top["writeback_throttle"] = std::move(top);
    const auto c = read_percpu_counters(bpf_map__fd(skel_->maps.counters), WRITEBACK_NR_COUNTERS);
    out.counters["balance_dirty_pages_calls"] = c[WRITEBACK_CTR_CALLS];
    out.counters["balance_dirty_pages_pauses"] = c[WRITEBACK_CTR_PAUSES];
    out.counters["writeback_unattributed"] = c[WRITEBACK_CTR_PID_MAP_FULL];
    out.counters["writeback_events_dropped"] = c[WRITEBACK_CTR_EVENTS_DROPPED] + dropped_;
    if (c[WRITEBACK_CTR_NO_HZ] != 0) {
      out.counters["writeback_pauses_untimed"] = c[WRITEBACK_CTR_NO_HZ];
    }
    for (auto& e : events_) out.slow_events.push_back(std::move(e));
    events_.clear();
  }

 protected:
  std::span<const EventSpec> events() const override { return kEvents; }
  void configure(const GroupContext& ctx) override {
    skel_->rodata->slow_event_us = ctx.options.slow_event_us;
    max_events_ = ctx.options.max_slow_events;
  }

 private:
  static int on_event(void* self_ptr, void* data, std::size_t size) {
    auto* self = static_cast<WritebackGroup*>(self_ptr);
    if (size < sizeof(writeback_event)) return 0;
    writeback_event e;
    std::memcpy(&e, data, sizeof e);
    if (self->events_.size() >= self->max_events_) {
      ++self->dropped_;
      return 0;
    }
    model::StallEvent s;
    s.kind = "writeback_throttle";
    s.time_unix_ms = now_unix_ms();
    s.pid = static_cast<int>(e.pid);
    s.tid = static_cast<int>(e.tid);
    s.comm = fixed_string(e.comm, sizeof e.comm);
    s.cgroup_id = e.cgroup_id;
    s.latency_us = e.pause_us;
    s.pages = e.dirtied_pages;
    s.detail = "bdi " + fixed_string(e.bdi, sizeof e.bdi);
    self->events_.push_back(std::move(s));
    return 0;
  }

  std::vector<model::StallEvent> events_;
  std::size_t max_events_ = 1000;
  std::uint64_t dropped_ = 0;
};

}  // namespace

std::unique_ptr<ProbeGroup> make_writeback_group() { return std::make_unique<WritebackGroup>(); }

}  // namespace vmtune::collect::bpf
