// SPDX-License-Identifier: GPL-2.0-or-later
// Loader for bpf/thp.bpf.c: khugepaged / MADV_COLLAPSE collapses and their results, khugepaged
// scans, file collapses, THP migration entries.
#include <linux/types.h>

#include <cstddef>
#include <span>

#include "collect/bpf/maps.hpp"
// clang-format off: bpf/<probe>.h needs <linux/types.h> first (STYLE.md §C.1)
#include "thp.h"
#include "thp.skel.h"
// clang-format on

namespace vmtune::collect::bpf {
namespace {

static_assert(VMTUNE_THP_ABI == 1, "decoder below matches ABI 1");
static_assert(sizeof(thp_pid_stats) == 40);
static_assert(offsetof(thp_pid_stats, comm) == 24);
static_assert(THP_SCAN_SUCCEED < THP_NR_STATUS);

constexpr EventSpec kEvents[] = {
    {"huge_memory", "mm_collapse_huge_page", true},
    {"huge_memory", "mm_collapse_huge_page_isolate", false},
    {"huge_memory", "mm_khugepaged_scan_pmd", false},
    {"huge_memory", "mm_khugepaged_collapse_file", false},
    {"thp", "set_migration_pmd", false},
    {"thp", "remove_migration_pmd", false},
};

constexpr CounterName kCounters[] = {
    {THP_CTR_COLLAPSE, "thp_collapse"},
    {THP_CTR_COLLAPSE_ISOLATE, "thp_collapse_isolate"},
    {THP_CTR_SCAN_PMD, "thp_khugepaged_scan_pmd"},
    {THP_CTR_COLLAPSE_FILE, "thp_collapse_file"},
    {THP_CTR_SET_MIGRATION_PMD, "thp_set_migration_pmd"},
    {THP_CTR_REMOVE_MIGRATION_PMD, "thp_remove_migration_pmd"},
    {THP_CTR_PID_MAP_FULL, "thp_unattributed"},
    {THP_CTR_STATUS_BASE + THP_SCAN_SUCCEED, "thp_collapse_succeeded"},
};

constexpr const char* kTop[] = {"thp_collapse"};
constexpr KernelEnum kScanResult = {"scan_result", "SCAN_"};

class ThpGroup final : public SkeletonGroup<thp_bpf> {
 public:
  ThpGroup() : SkeletonGroup("thp", kEvents) {}

  void collect(model::BpfStats& out, const GroupContext& ctx) override {
    if (!skel_) return;
    read_stall_tops<__u32, thp_pid_stats>(
        bpf_map__fd(skel_->maps.pids), ctx, kTop,
        [](model::ProcessStall& p, const thp_pid_stats& st) { p.pages = st.succeeded; }, out);
    const auto c =
        read_counters(bpf_map__fd(skel_->maps.counters), THP_NR_COUNTERS, kCounters, out);
    store_enum_counters(std::span(c).subspan(THP_CTR_STATUS_BASE, THP_NR_STATUS),
                        "thp_collapse_result_", kScanResult, ctx.vmlinux, out);
  }

 protected:
  void configure(const GroupContext& ctx) override {
    // The BPF side counts SCAN_SUCCEED as THP_SCAN_SUCCEED; check the kernel agrees.
    if (btf_enum_name(ctx.vmlinux, kScanResult.type, THP_SCAN_SUCCEED, kScanResult.prefix) !=
        "succeed") {
      status_.notes.push_back(
          "enum scan_result has no SCAN_SUCCEED = 1 on this kernel: "
          "per-process successful collapses may be wrong");
    }
  }
};

}  // namespace

std::unique_ptr<ProbeGroup> make_thp_group() { return std::make_unique<ThpGroup>(); }

}  // namespace vmtune::collect::bpf
