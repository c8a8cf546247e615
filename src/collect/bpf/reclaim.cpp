// SPDX-License-Identifier: GPL-2.0-or-later
// Loader for bpf/reclaim.bpf.c: direct and memcg reclaim stalls, kswapd, LRU scan split.
#include <linux/types.h>

#include <cstddef>
#include <string>

#include "collect/bpf/maps.hpp"
// clang-format off: bpf/<probe>.h needs <linux/types.h> first (STYLE.md §C.1)
#include "reclaim.h"
#include "reclaim.skel.h"
// clang-format on

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

constexpr CounterName kCounters[] = {
    {RECLAIM_CTR_KSWAPD_WAKES, "kswapd_wakes"},
    {RECLAIM_CTR_KSWAPD_AWAKE_US, "kswapd_awake_us"},
    {RECLAIM_CTR_LRU_SCANNED_FILE, "lru_scanned_file"},
    {RECLAIM_CTR_LRU_SCANNED_ANON, "lru_scanned_anon"},
    {RECLAIM_CTR_LRU_RECLAIMED_FILE, "lru_reclaimed_file"},
    {RECLAIM_CTR_LRU_RECLAIMED_ANON, "lru_reclaimed_anon"},
    {RECLAIM_CTR_PID_MAP_FULL, "reclaim_unattributed"},
    {RECLAIM_CTR_EVENTS_DROPPED, "reclaim_events_dropped"},
    {RECLAIM_CTR_INFLIGHT_FULL, "reclaim_untimed"},
};

/// Top-list names by RECLAIM_KIND_*; the histograms are these plus "_us".
constexpr const char* kKinds[RECLAIM_NR_KINDS] = {"direct_reclaim", "memcg_reclaim"};
static_assert(RECLAIM_KIND_DIRECT == 0 && RECLAIM_KIND_MEMCG == 1);

const char* kind_name(std::uint32_t kind) {
  return kind == RECLAIM_KIND_MEMCG ? kKinds[RECLAIM_KIND_MEMCG] : kKinds[RECLAIM_KIND_DIRECT];
}

model::StallEvent decode_event(const reclaim_event& e) {
  auto s = decode_task(e, kind_name(e.kind));
  s.latency_us = e.latency_ns / 1000;
  s.pages = e.nr_reclaimed_pages;
  s.order = e.order;
  return s;
}

class ReclaimGroup final : public EventGroup<reclaim_bpf, reclaim_event, model::StallEvent> {
 public:
  ReclaimGroup() : EventGroup("reclaim", kEvents, decode_event) {}

  void collect(model::BpfStats& out, const GroupContext& ctx) override {
    if (!skel_) return;
    for (std::uint32_t kind = 0; kind < RECLAIM_NR_KINDS; ++kind) {
      out.histograms[std::string(kKinds[kind]) + "_us"] =
          read_histogram<reclaim_hist>(bpf_map__fd(skel_->maps.hists), kind);
    }
    read_stall_tops<reclaim_pid_key, reclaim_pid_stats>(
        bpf_map__fd(skel_->maps.pids), ctx, kKinds,
        [](model::ProcessStall& p, const reclaim_pid_stats& st) {
          p.pages = st.nr_reclaimed_pages;
        },
        out);
    read_counters(bpf_map__fd(skel_->maps.counters), RECLAIM_NR_COUNTERS, kCounters, out);
    out.counters["reclaim_events_dropped"] += queue_.dropped();
    append(out.slow_events, queue_.take());
  }

 protected:
  void configure(const GroupContext& ctx) override {
    skel_->rodata->slow_event_ns = ctx.options.slow_event_us * 1000;
    queue_.set_cap(ctx.options.max_slow_events);
  }
};

}  // namespace

std::unique_ptr<ProbeGroup> make_reclaim_group() { return std::make_unique<ReclaimGroup>(); }

}  // namespace vmtune::collect::bpf
