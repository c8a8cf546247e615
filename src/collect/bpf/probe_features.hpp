// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// What the running kernel and this process allow, probed *before* any BPF object is loaded
// (bcc's tracepoint_exists / fentry_can_attach, bpftune -S), so every probe can say why it is
// unavailable in words a user can act on instead of passing on libbpf's misleading hints.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.hpp"
#include "core/root_fs.hpp"

namespace vmtune::collect::bpf {

/// Linux capability numbers (include/uapi/linux/capability.h).
inline constexpr int kCapSysAdmin = 21;
inline constexpr int kCapPerfmon = 38;
inline constexpr int kCapBpf = 39;

struct BpfSupport {
  bool live = true;        ///< RootFs points at the running kernel
  std::string btf_path;    ///< logical path of the kernel BTF, for messages
  bool btf = false;        ///< /sys/kernel/btf/vmlinux exists
  bool root = false;       ///< euid 0 (needed for classic tracepoints: tracefs is root-only)
  std::uint64_t cap_eff = 0;  ///< effective capability mask (/proc/self/status CapEff)
  bool privileged = false;    ///< may load tracing programs: (CAP_BPF or CAP_SYS_ADMIN) and
                              ///< (CAP_PERFMON or CAP_SYS_ADMIN)
  std::optional<int> unprivileged_bpf_disabled;  ///< kernel.unprivileged_bpf_disabled
  std::string lockdown;    ///< selected word of /sys/kernel/security/lockdown, empty if absent
  bool tracefs_events = false;  ///< /sys/kernel/tracing/events is readable
  bool kprobes = false;    ///< /sys/bus/event_source/devices/kprobe exists

  /// Empty when BPF can be used at all; otherwise the reason every probe shares.
  std::string blocking_reason() const;
  /// The reason for a missing privilege (root or CAP_BPF+CAP_PERFMON).
  std::string privilege_reason() const;
};

/// Parses the hexadecimal "CapEff:" line of a /proc/PID/status text.
core::Result<std::uint64_t> parse_cap_eff(std::string_view status_text,
                                          const std::string& logical_path);

/// Probes the kernel and this process through `fs` (and geteuid()).
BpfSupport probe_bpf_support(const core::RootFs& fs);

/// Why fault latency (kprobe or fentry/fexit on handle_mm_fault) is unavailable, after trying
/// to load a 2-instruction fentry program when privileged. Returns the reason text; a kernel
/// that has either mechanism gets a reason saying this vmtune does not measure it yet.
std::string fault_latency_reason(const core::RootFs& fs, const BpfSupport& support);

}  // namespace vmtune::collect::bpf
