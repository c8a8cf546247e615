// SPDX-License-Identifier: GPL-2.0-or-later
// Loader for bpf/thp.bpf.c: khugepaged / MADV_COLLAPSE collapses and their results, khugepaged
// scans, file collapses, THP migration entries.
#include <linux/types.h>

#include <cstddef>
#include <cstring>

#include "collect/bpf/probe_group.hpp"
#include "thp.h"
#include "thp.skel.h"

namespace vmtune::collect::bpf {
namespace {

static_assert(VMTUNE_THP_ABI == 1, "decoder below matches ABI 1");
static_assert(sizeof(thp_pid_stats) == 40);
static_assert(offsetof(thp_pid_stats, comm) == 24);

constexpr EventSpec kEvents[] = {
    {"huge_memory", "mm_collapse_huge_page", true},
    {"huge_memory", "mm_collapse_huge_page_isolate", false},
    {"huge_memory", "mm_khugepaged_scan_pmd", false},
    {"huge_memory", "mm_khugepaged_collapse_file", false},
    {"thp", "set_migration_pmd", false},
    {"thp", "remove_migration_pmd", false},
};

class ThpGroup final : public SkeletonGroup<thp_bpf> {
 public:
  ThpGroup() : SkeletonGroup("thp") {}

  void collect(model::BpfStats& out, const GroupContext& ctx) override {
    if (!skel_) return;
    std::vector<model::ProcessStall> top;
    for (const auto& [k, v] :
         dump_hash(bpf_map__fd(skel_->maps.pids), sizeof(__u32), sizeof(thp_pid_stats))) {
      __u32 pid;
      thp_pid_stats st;
      std::memcpy(&pid, k.data(), sizeof pid);
      std::memcpy(&st, v.data(), sizeof st);
      model::ProcessStall p;
      p.pid = static_cast<int>(pid);
      p.comm = fixed_string(st.comm, sizeof st.comm);
      p.cgroup_id = st.cgroup_id;
      p.cgroup = ctx.cgroups.v2(st.cgroup_id);
      p.count = st.count;
      p.pages = st.succeeded;
      top.push_back(std::move(p));
    }
    keep_top(top, ctx.options.top_n);
    out.top["thp_collapse"] = std::move(top);
    const auto c = read_percpu_counters(bpf_map__fd(skel_->maps.counters), THP_NR_COUNTERS);
    out.counters["thp_collapse"] = c[THP_CTR_COLLAPSE];
    out.counters["thp_collapse_isolate"] = c[THP_CTR_COLLAPSE_ISOLATE];
    out.counters["thp_khugepaged_scan_pmd"] = c[THP_CTR_SCAN_PMD];
    out.counters["thp_collapse_file"] = c[THP_CTR_COLLAPSE_FILE];
    out.counters["thp_set_migration_pmd"] = c[THP_CTR_SET_MIGRATION_PMD];
    out.counters["thp_remove_migration_pmd"] = c[THP_CTR_REMOVE_MIGRATION_PMD];
    out.counters["thp_unattributed"] = c[THP_CTR_PID_MAP_FULL];
    std::uint64_t succeeded = 0;
    for (int s = 0; s < THP_NR_STATUS; ++s) {
      const auto n = c[THP_CTR_STATUS_BASE + s];
      if (s == succeed_value_) succeeded = n;
      if (n == 0) continue;
      out.counters["thp_collapse_result_" + btf_enum_name(ctx.vmlinux, "scan_result", s, "SCAN_")] = n;
    }
    out.counters["thp_collapse_succeeded"] = succeeded;
  }

 protected:
  std::span<const EventSpec> events() const override { return kEvents; }
  void configure(const GroupContext& ctx) override {
    // The BPF side counts SCAN_SUCCEED as THP_SCAN_SUCCEED; check the kernel agrees.
    succeed_value_ = THP_SCAN_SUCCEED;
    if (btf_enum_name(ctx.vmlinux, "scan_result", THP_SCAN_SUCCEED, "SCAN_") != "succeed") {
      status_.notes.push_back("enum scan_result has no SCAN_SUCCEED = 1 on this kernel: "
                              "per-process successful collapses may be wrong");
    }
  }

 private:
  int succeed_value_ = THP_SCAN_SUCCEED;
};

}  // namespace

std::unique_ptr<ProbeGroup> make_thp_group() { return std::make_unique<ThpGroup>(); }

}  // namespace vmtune::collect::bpf
