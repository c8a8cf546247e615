// SPDX-License-Identifier: GPL-2.0-or-later
// Loader for bpf/oom.bpf.c: every OOM kill (oom:mark_victim) as an event; the OOM reaper and
// allocator-retry tracepoints as counters.
#include <linux/types.h>

#include <cstddef>

#include "collect/bpf/maps.hpp"
// clang-format off: bpf/<probe>.h needs <linux/types.h> first (STYLE.md §C.1)
#include "oom.h"
#include "oom.skel.h"
// clang-format on

namespace vmtune::collect::bpf {
namespace {

static_assert(VMTUNE_OOM_ABI == 1, "decoder below matches ABI 1");
static_assert(sizeof(oom_event) == 112);
static_assert(offsetof(oom_event, pid) == 56);
static_assert(offsetof(oom_event, comm) == 80);
static_assert(offsetof(oom_event, trigger_comm) == 96);

constexpr EventSpec kEvents[] = {
    {"oom", "mark_victim", true},         {"oom", "wake_reaper", false},
    {"oom", "start_task_reaping", false}, {"oom", "finish_task_reaping", false},
    {"oom", "skip_task_reaping", false},  {"oom", "reclaim_retry_zone", false},
    {"oom", "compact_retry", false},      {"oom", "oom_score_adj_update", false},
};

constexpr CounterName kCounters[] = {
    {OOM_CTR_MARK_VICTIM, "oom_mark_victim"},
    {OOM_CTR_WAKE_REAPER, "oom_wake_reaper"},
    {OOM_CTR_START_REAPING, "oom_start_task_reaping"},
    {OOM_CTR_FINISH_REAPING, "oom_finish_task_reaping"},
    {OOM_CTR_SKIP_REAPING, "oom_skip_task_reaping"},
    {OOM_CTR_RECLAIM_RETRY_ZONE, "oom_reclaim_retry_zone"},
    {OOM_CTR_COMPACT_RETRY, "oom_compact_retry"},
    {OOM_CTR_SCORE_ADJ_UPDATE, "oom_score_adj_update"},
    {OOM_CTR_EVENTS_DROPPED, "oom_events_dropped"},
};

model::OomKill decode_kill(const oom_event& e) {
  model::OomKill k;
  k.time_unix_ms = now_unix_ms();
  k.pid = static_cast<int>(e.pid);
  k.comm = fixed_string(e.comm, sizeof e.comm);
  if (e.valid & OOM_VALID_RSS) {
    k.total_vm = e.total_vm_kb * 1024;
    k.anon_rss = e.anon_rss_kb * 1024;
    k.file_rss = e.file_rss_kb * 1024;
    k.shmem_rss = e.shmem_rss_kb * 1024;
    k.pgtables = e.pgtables_kb * 1024;
    k.oom_score_adj = e.oom_score_adj;
    k.uid = e.uid;
  }
  if (e.valid & OOM_VALID_MEMCG) k.memcg_id = e.memcg_id;
  k.trigger_pid = static_cast<int>(e.trigger_pid);
  k.trigger_comm = fixed_string(e.trigger_comm, sizeof e.trigger_comm);
  return k;
}

/// Every OOM kill is kept (the queue has no cap): they are rare and each one matters.
class OomGroup final : public EventGroup<oom_bpf, oom_event, model::OomKill> {
 public:
  OomGroup() : EventGroup("oom", kEvents, decode_kill) {}

  void collect(model::BpfStats& out, const GroupContext& ctx) override {
    if (!skel_) return;
    read_counters(bpf_map__fd(skel_->maps.counters), OOM_NR_COUNTERS, kCounters, out);
    for (auto& k : queue_.take()) {
      if (k.memcg_id) k.cgroup = ctx.cgroups.memcg(*k.memcg_id);
      out.oom_kills.push_back(std::move(k));
    }
  }

 protected:
  void configure(const GroupContext& ctx) override {
    skel_->rodata->page_kb = ctx.page_size / 1024;
  }
};

}  // namespace

std::unique_ptr<ProbeGroup> make_oom_group() { return std::make_unique<OomGroup>(); }

}  // namespace vmtune::collect::bpf
