// SPDX-License-Identifier: GPL-2.0-or-later
// Loader for bpf/compaction.bpf.c: zone-pass latency, direct-compaction stalls per process
// with the allocation order, deferrals, kcompactd wake-ups and mm_compaction_end results.
#include <linux/types.h>

#include <cstddef>
#include <span>

#include "collect/bpf/maps.hpp"
// clang-format off: bpf/<probe>.h needs <linux/types.h> first (STYLE.md §C.1)
#include "compaction.h"
#include "compaction.skel.h"
// clang-format on

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

constexpr CounterName kCounters[] = {
    {COMPACTION_CTR_DIRECT_ENTRIES, "compaction_direct_entries"},
    {COMPACTION_CTR_DEFERRED, "compaction_deferred"},
    {COMPACTION_CTR_DEFER_COMPACTION, "compaction_defer_compaction"},
    {COMPACTION_CTR_KCOMPACTD_WAKE, "kcompactd_wake"},
    {COMPACTION_CTR_WAKEUP_KCOMPACTD, "kcompactd_wakeup_requests"},
    {COMPACTION_CTR_PID_MAP_FULL, "compaction_unattributed"},
    {COMPACTION_CTR_EVENTS_DROPPED, "compaction_events_dropped"},
};

/// Histogram names by COMPACTION_HIST_* index.
constexpr const char* kHists[COMPACTION_NR_HISTS] = {"compaction_us", "direct_compaction_us"};
constexpr const char* kTop[] = {"direct_compaction"};
constexpr KernelEnum kCompactResult = {"compact_result", "COMPACT_"};

model::StallEvent decode_event(const compaction_event& e) {
  auto s = decode_task(e, e.direct != 0 ? "direct_compaction" : "compaction");
  s.latency_us = e.latency_ns / 1000;
  if (e.order >= 0) s.order = e.order;
  if (e.status >= 0) s.status = e.status;
  return s;
}

class CompactionGroup final
    : public EventGroup<compaction_bpf, compaction_event, model::StallEvent> {
 public:
  CompactionGroup() : EventGroup("compaction", kEvents, decode_event) {}

  void collect(model::BpfStats& out, const GroupContext& ctx) override {
    if (!skel_) return;
    for (std::uint32_t k = 0; k < COMPACTION_NR_HISTS; ++k) {
      out.histograms[kHists[k]] =
          read_histogram<compaction_hist>(bpf_map__fd(skel_->maps.hists), k);
    }
    read_stall_tops<__u32, compaction_pid_stats>(
        bpf_map__fd(skel_->maps.pids), ctx, kTop,
        [](model::ProcessStall& p, const compaction_pid_stats& st) { p.order = st.max_order; },
        out);
    const auto c =
        read_counters(bpf_map__fd(skel_->maps.counters), COMPACTION_NR_COUNTERS, kCounters, out);
    out.counters["compaction_events_dropped"] += queue_.dropped();
    store_enum_counters(std::span(c).subspan(COMPACTION_CTR_STATUS_BASE, COMPACTION_NR_STATUS),
                        "compaction_result_", kCompactResult, ctx.vmlinux, out);
    for (auto& e : queue_.take()) {
      if (e.status) {
        e.detail =
            btf_enum_name(ctx.vmlinux, kCompactResult.type, *e.status, kCompactResult.prefix);
      }
      out.slow_events.push_back(std::move(e));
    }
  }

 protected:
  void configure(const GroupContext& ctx) override {
    skel_->rodata->slow_event_ns = ctx.options.slow_event_us * 1000;
    queue_.set_cap(ctx.options.max_slow_events);
  }
};

}  // namespace

std::unique_ptr<ProbeGroup> make_compaction_group() { return std::make_unique<CompactionGroup>(); }

}  // namespace vmtune::collect::bpf
