// SPDX-License-Identifier: GPL-2.0-or-later
// Loader for bpf/reclaim.bpf.c: direct and memcg reclaim stalls, kswapd, LRU scan split.
#include <linux/types.h>

#include <cstddef>
#include <cstring>

#include "collect/bpf/probe_group.hpp"
#include "reclaim.h"
#include "reclaim.skel.h"

namespace vmtune::collect::bpf {
namespace {

static_assert(VMTUNE_RECLAIM_ABI == 1, "decoder below matches ABI 1");
static_assert(sizeof(reclaim_hist) == (RECLAIM_MAX_SLOTS + 3) * 8);
static_assert(sizeof(reclaim_pid_key) == 8);
static_assert(sizeof(reclaim_pid_stats) == 5 * 8 + RECLAIM_MAX_SLOTS * 4 + 4 + RECLAIM_COMM_LEN);
static_assert(offsetof(reclaim_pid_stats, comm) == 5 * 8 + RECLAIM_MAX_SLOTS * 4 + 4);
static_assert(sizeof(reclaim_event) == 56);
static_assert(offsetof(reclaim_event, comm) == 40);

constexpr EventSpec kEvents[] = {
    {"vmscan", "mm_vmscan_direct_reclaim_begin", true},
    {"vmscan", "mm_vmscan_direct_reclaim_end", true},
    {"vmscan", "mm_vmscan_memcg_reclaim_begin", false},
    {"vmscan", "mm_vmscan_memcg_reclaim_end", false},
    {"vmscan", "mm_vmscan_memcg_softlimit_reclaim_begin", false},
    {"vmscan", "mm_vmscan_memcg_softlimit_reclaim_end", false},
    {"vmscan", "mm_vmscan_kswapd_wake", false},
    {"vmscan", "mm_vmscan_kswapd_sleep", false},
    {"vmscan", "mm_vmscan_lru_shrink_inactive", false},
};

const char* kind_name(std::uint32_t kind) {
  return kind == RECLAIM_KIND_MEMCG ? "memcg_reclaim" : "direct_reclaim";
}

class ReclaimGroup final : public SkeletonGroup<reclaim_bpf> {
 public:
  ReclaimGroup() : SkeletonGroup("reclaim") {}

  void add_ring_buffers(const RingBufferAdd& add) override {
    if (skel_) add(bpf_map__fd(skel_->maps.events), &ReclaimGroup::on_event, this);
  }

  void collect(model::BpfStats& out, const GroupContext& ctx) override {
    if (!skel_) return;
    for (std::uint32_t kind = 0; kind < RECLAIM_NR_KINDS; ++kind) {
      const auto raw = read_percpu_raw(bpf_map__fd(skel_->maps.hists), kind, sizeof(reclaim_hist));
      reclaim_hist sum{};
      for (std::size_t off = 0; off + sizeof(reclaim_hist) <= raw.size(); off += sizeof(reclaim_hist)) {
        reclaim_hist h;
        std::memcpy(&h, raw.data() + off, sizeof h);
        for (int i = 0; i < RECLAIM_MAX_SLOTS; ++i) sum.slots[i] += h.slots[i];
        sum.count += h.count;
        sum.sum_us += h.sum_us;
        if (h.max_us > sum.max_us) sum.max_us = h.max_us;
      }
      out.histograms[std::string(kind_name(kind)) + "_us"] =
          make_histogram(sum.slots, RECLAIM_MAX_SLOTS, sum.count, sum.sum_us, sum.max_us, "us");
    }
    std::vector<model::ProcessStall> top[RECLAIM_NR_KINDS];
    for (const auto& [k, v] : dump_hash(bpf_map__fd(skel_->maps.pids), sizeof(reclaim_pid_key),
                                        sizeof(reclaim_pid_stats))) {
      reclaim_pid_key key;
      reclaim_pid_stats st;
      std::memcpy(&key, k.data(), sizeof key);
      std::memcpy(&st, v.data(), sizeof st);
      if (key.kind >= RECLAIM_NR_KINDS) continue;
      model::ProcessStall p;
      p.pid = static_cast<int>(key.pid);
      p.comm = fixed_string(st.comm, sizeof st.comm);
      p.cgroup_id = st.cgroup_id;
      p.cgroup = ctx.cgroups.v2(st.cgroup_id);
      p.count = st.count;
      p.total_us = st.total_us;
      p.max_us = st.max_us;
      p.pages = st.nr_reclaimed_pages;
      std::size_t used = RECLAIM_MAX_SLOTS;
      while (used > 0 && st.slots[used - 1] == 0) --used;
      p.latency_slots.assign(st.slots, st.slots + used);
      top[key.kind].push_back(std::move(p));
    }
    for (std::uint32_t kind = 0; kind < RECLAIM_NR_KINDS; ++kind) {
      keep_top(top[kind], ctx.options.top_n);
      out.top[kind_name(kind)] = std::move(top[kind]);
    }
    const auto c = read_percpu_counters(bpf_map__fd(skel_->maps.counters), RECLAIM_NR_COUNTERS);
    out.counters["kswapd_wakes"] = c[RECLAIM_CTR_KSWAPD_WAKES];
    out.counters["kswapd_awake_us"] = c[RECLAIM_CTR_KSWAPD_AWAKE_US];
    out.counters["lru_scanned_file"] = c[RECLAIM_CTR_LRU_SCANNED_FILE];
    out.counters["lru_scanned_anon"] = c[RECLAIM_CTR_LRU_SCANNED_ANON];
    out.counters["lru_reclaimed_file"] = c[RECLAIM_CTR_LRU_RECLAIMED_FILE];
    out.counters["lru_reclaimed_anon"] = c[RECLAIM_CTR_LRU_RECLAIMED_ANON];
    out.counters["reclaim_unattributed"] = c[RECLAIM_CTR_PID_MAP_FULL];
    out.counters["reclaim_events_dropped"] = c[RECLAIM_CTR_EVENTS_DROPPED] + dropped_;
    out.counters["reclaim_untimed"] = c[RECLAIM_CTR_INFLIGHT_FULL];
    for (auto& e : events_) out.slow_events.push_back(std::move(e));
    events_.clear();
  }

  std::size_t max_events = 1000;

 protected:
  std::span<const EventSpec> events() const override { return kEvents; }
  void configure(const GroupContext& ctx) override {
    skel_->rodata->slow_event_ns = ctx.options.slow_event_us * 1000;
    max_events = ctx.options.max_slow_events;
  }

 private:
  static int on_event(void* self_ptr, void* data, std::size_t size) {
    auto* self = static_cast<ReclaimGroup*>(self_ptr);
    if (size < sizeof(reclaim_event)) return 0;
    reclaim_event e;
    std::memcpy(&e, data, sizeof e);  // decode, don't cast
    if (self->events_.size() >= self->max_events) {
      ++self->dropped_;
      return 0;
    }
    model::StallEvent s;
    s.kind = kind_name(e.kind);
    s.time_unix_ms = now_unix_ms();
    s.pid = static_cast<int>(e.pid);
    s.tid = static_cast<int>(e.tid);
    s.comm = fixed_string(e.comm, sizeof e.comm);
    s.cgroup_id = e.cgroup_id;
    s.latency_us = e.latency_ns / 1000;
    s.pages = e.nr_reclaimed_pages;
    s.order = e.order;
    self->events_.push_back(std::move(s));
    return 0;
  }

  std::vector<model::StallEvent> events_;
  std::uint64_t dropped_ = 0;
};

}  // namespace

std::unique_ptr<ProbeGroup> make_reclaim_group() { return std::make_unique<ReclaimGroup>(); }

}  // namespace vmtune::collect::bpf
