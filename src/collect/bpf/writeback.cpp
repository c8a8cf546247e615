// SPDX-License-Identifier: GPL-2.0-or-later
// Loader for bpf/writeback.bpf.c: writeback:balance_dirty_pages pauses per process.
#include <linux/types.h>

#include <cstddef>

#include "collect/bpf/maps.hpp"
// clang-format off: bpf/<probe>.h needs <linux/types.h> first (STYLE.md §C.1)
#include "writeback.h"
#include "writeback.skel.h"
// clang-format on

namespace vmtune::collect::bpf {
namespace {

static_assert(VMTUNE_WRITEBACK_ABI == 1, "decoder below matches ABI 1");
static_assert(sizeof(writeback_hist) == (WRITEBACK_MAX_SLOTS + 3) * 8);
static_assert(sizeof(writeback_pid_stats) ==
              5 * 8 + WRITEBACK_MAX_SLOTS * 4 + 4 + WRITEBACK_COMM_LEN);
static_assert(sizeof(writeback_event) == 80);
static_assert(offsetof(writeback_event, bdi) == 48);

constexpr EventSpec kEvents[] = {
    {"writeback", "balance_dirty_pages", true},
};

constexpr CounterName kCounters[] = {
    {WRITEBACK_CTR_CALLS, "balance_dirty_pages_calls"},
    {WRITEBACK_CTR_PAUSES, "balance_dirty_pages_pauses"},
    {WRITEBACK_CTR_PID_MAP_FULL, "writeback_unattributed"},
    {WRITEBACK_CTR_EVENTS_DROPPED, "writeback_events_dropped"},
};

constexpr const char* kTop[] = {"writeback_throttle"};

model::StallEvent decode_event(const writeback_event& e) {
  auto s = decode_task(e, "writeback_throttle");
  s.latency_us = e.pause_us;
  s.pages = e.dirtied_pages;
  s.detail = "bdi " + fixed_string(e.bdi, sizeof e.bdi);
  return s;
}

class WritebackGroup final : public EventGroup<writeback_bpf, writeback_event, model::StallEvent> {
 public:
  WritebackGroup() : EventGroup("writeback", kEvents, decode_event) {}

  void collect(model::BpfStats& out, const GroupContext& ctx) override {
    if (!skel_) return;
    out.histograms["writeback_pause_us"] =
        read_histogram<writeback_hist>(bpf_map__fd(skel_->maps.hists), 0);
    read_stall_tops<__u32, writeback_pid_stats>(
        bpf_map__fd(skel_->maps.pids), ctx, kTop,
        [](model::ProcessStall& p, const writeback_pid_stats& st) { p.pages = st.dirtied_pages; },
        out);
    const auto c =
        read_counters(bpf_map__fd(skel_->maps.counters), WRITEBACK_NR_COUNTERS, kCounters, out);
    out.counters["writeback_events_dropped"] += queue_.dropped();
    if (c[WRITEBACK_CTR_NO_HZ] != 0) {
      out.counters["writeback_pauses_untimed"] = c[WRITEBACK_CTR_NO_HZ];
    }
    append(out.slow_events, queue_.take());
  }

 protected:
  void configure(const GroupContext& ctx) override {
    skel_->rodata->slow_event_us = ctx.options.slow_event_us;
    queue_.set_cap(ctx.options.max_slow_events);
  }
};

}  // namespace

std::unique_ptr<ProbeGroup> make_writeback_group() { return std::make_unique<WritebackGroup>(); }

}  // namespace vmtune::collect::bpf
