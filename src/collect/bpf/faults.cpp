// SPDX-License-Identifier: GPL-2.0-or-later
// Loader for bpf/faults.bpf.c: page faults per process and per cgroup, split user/kernel and
// read/write. Also reports whether fault *latency* could be measured on this kernel.
#include <linux/types.h>

#include <algorithm>
#include <cstddef>
#include <map>

#include "collect/bpf/maps.hpp"
// clang-format off: bpf/<probe>.h needs <linux/types.h> first (STYLE.md §C.1)
#include "faults.h"
#include "faults.skel.h"
// clang-format on

namespace vmtune::collect::bpf {
namespace {

static_assert(VMTUNE_FAULTS_ABI == 1, "decoder below matches ABI 1");
static_assert(sizeof(faults_pid_stats) == 56);
static_assert(offsetof(faults_pid_stats, comm) == 40);

constexpr EventSpec kEvents[] = {
    {"exceptions", "page_fault_user", true},
    {"exceptions", "page_fault_kernel", false},
};

constexpr CounterName kCounters[] = {
    {FAULTS_CTR_PID_MAP_FULL, "faults_unattributed"},
};

void add(model::FaultCounts& to, const model::FaultCounts& from) {
  to.user_read += from.user_read;
  to.user_write += from.user_write;
  to.kernel_read += from.kernel_read;
  to.kernel_write += from.kernel_write;
  to.total += from.total;
}

class FaultsGroup final : public SkeletonGroup<faults_bpf> {
 public:
  FaultsGroup() : SkeletonGroup("faults", kEvents) {}

  void collect(model::BpfStats& out, const GroupContext& ctx) override {
    if (!skel_) return;
    std::vector<model::ProcessFaults> procs;
    std::map<std::uint64_t, model::CgroupFaults> groups;
    for (const auto& [pid, st] :
         read_hash<__u32, faults_pid_stats>(bpf_map__fd(skel_->maps.pids))) {
      model::ProcessFaults p;
      p.pid = static_cast<int>(pid);
      p.comm = fixed_string(st.comm, sizeof st.comm);
      p.cgroup_id = st.cgroup_id;
      p.faults.user_read = st.user_read;
      p.faults.user_write = st.user_write;
      p.faults.kernel_read = st.kernel_read;
      p.faults.kernel_write = st.kernel_write;
      p.faults.total = st.user_read + st.user_write + st.kernel_read + st.kernel_write;
      auto& g = groups[st.cgroup_id];
      g.cgroup_id = st.cgroup_id;
      g.processes += 1;
      add(g.faults, p.faults);
      procs.push_back(std::move(p));
    }
    model::FaultCounts total;
    for (const auto& p : procs) add(total, p.faults);
    std::sort(procs.begin(), procs.end(), [](const auto& a, const auto& b) {
      return a.faults.total != b.faults.total ? a.faults.total > b.faults.total : a.pid < b.pid;
    });
    // Per-process lookups by pid are what the tests and the rules need; keep a generous top.
    const std::size_t keep = std::max<std::size_t>(ctx.options.top_n, 256);
    if (procs.size() > keep) procs.resize(keep);
    for (auto& p : procs) p.cgroup = ctx.cgroups.v2(p.cgroup_id);
    out.faults = std::move(procs);
    out.cgroup_faults.clear();
    for (auto& [id, g] : groups) {
      g.cgroup = ctx.cgroups.v2(id);
      out.cgroup_faults.push_back(std::move(g));
    }
    std::sort(out.cgroup_faults.begin(), out.cgroup_faults.end(),
              [](const auto& a, const auto& b) { return a.faults.total > b.faults.total; });
    out.counters["faults_user_read"] = total.user_read;
    out.counters["faults_user_write"] = total.user_write;
    out.counters["faults_kernel_read"] = total.kernel_read;
    out.counters["faults_kernel_write"] = total.kernel_write;
    out.counters["faults_total"] = total.total;
    read_counters(bpf_map__fd(skel_->maps.counters), FAULTS_NR_COUNTERS, kCounters, out);
  }

  std::vector<model::ProbeStatus> extra_statuses(const GroupContext& ctx) override {
    model::ProbeStatus s;
    s.name = "fault_latency";
    s.attached = false;
    s.reason = fault_latency_reason(ctx.fs, ctx.support);
    return {s};
  }
};

}  // namespace

std::unique_ptr<ProbeGroup> make_faults_group() { return std::make_unique<FaultsGroup>(); }

}  // namespace vmtune::collect::bpf
