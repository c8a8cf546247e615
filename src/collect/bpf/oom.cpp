// SPDX-License-Identifier: GPL-2.0-or-later
// Loader for bpf/oom.bpf.c: every OOM kill (oom:mark_victim) as an event; the OOM reaper and
// allocator-retry tracepoints as counters.
#include <linux/types.h>

#include <cstddef>
#include <cstring>

#include "collect/bpf/probe_group.hpp"
#include "oom.h"
#include "oom.skel.h"

namespace vmtune::collect::bpf {
namespace {

static_assert(VMTUNE_OOM_ABI == 1, "decoder below matches ABI 1");
static_assert(sizeof(oom_event) == 112);
static_assert(offsetof(oom_event, pid) == 56);
static_assert(offsetof(oom_event, comm) == 80);
static_assert(offsetof(oom_event, trigger_comm) == 96);

constexpr EventSpec kEvents[] = {
    {"oom", "mark_victim", true},
    {"oom", "wake_reaper", false},
    {"oom", "start_task_reaping", false},
    {"oom", "finish_task_reaping", false},
    {"oom", "skip_task_reaping", false},
    {"oom", "reclaim_retry_zone", false},
    {"oom", "compact_retry", false},
    {"oom", "oom_score_adj_update", false},
};

class OomGroup final : public SkeletonGroup<oom_bpf> {
 public:
  OomGroup() : SkeletonGroup("oom") {}

  void add_ring_buffers(const RingBufferAdd& add) override {
    if (skel_) add(bpf_map__fd(skel_->maps.events), &OomGroup::on_event, this);
  }

  void collect(model::BpfStats& out, const GroupContext& ctx) override {
    if (!skel_) return;
    const auto c = read_percpu_counters(bpf_map__fd(skel_->maps.counters), OOM_NR_COUNTERS);
    out.counters["oom_mark_victim"] = c[OOM_CTR_MARK_VICTIM];
    out.counters["oom_wake_reaper"] = c[OOM_CTR_WAKE_REAPER];
    out.counters["oom_start_task_reaping"] = c[OOM_CTR_START_REAPING];
    out.counters["oom_finish_task_reaping"] = c[OOM_CTR_FINISH_REAPING];
    out.counters["oom_skip_task_reaping"] = c[OOM_CTR_SKIP_REAPING];
    out.counters["oom_reclaim_retry_zone"] = c[OOM_CTR_RECLAIM_RETRY_ZONE];
    out.counters["oom_compact_retry"] = c[OOM_CTR_COMPACT_RETRY];
    out.counters["oom_score_adj_update"] = c[OOM_CTR_SCORE_ADJ_UPDATE];
    out.counters["oom_events_dropped"] = c[OOM_CTR_EVENTS_DROPPED];
    for (auto& k : kills_) {
      if (k.memcg_id) k.cgroup = ctx.cgroups.memcg(*k.memcg_id);
      out.oom_kills.push_back(std::move(k));
    }
    kills_.clear();
  }

 protected:
  std::span<const EventSpec> events() const override { return kEvents; }
  void configure(const GroupContext& ctx) override {
    skel_->rodata->page_kb = ctx.page_size / 1024;
  }

 private:
  static int on_event(void* self_ptr, void* data, std::size_t size) {
    auto* self = static_cast<OomGroup*>(self_ptr);
    if (size < sizeof(oom_event)) return 0;
    oom_event e;
    std::memcpy(&e, data, sizeof e);
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
    self->kills_.push_back(std::move(k));
    return 0;
  }

  std::vector<model::OomKill> kills_;
};

}  // namespace

std::unique_ptr<ProbeGroup> make_oom_group() { return std::make_unique<OomGroup>(); }

}  // namespace vmtune::collect::bpf
