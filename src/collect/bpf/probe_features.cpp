// SPDX-License-Identifier: GPL-2.0-or-later
#include "collect/bpf/probe_features.hpp"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/parse.hpp"

namespace vmtune::collect::bpf {
namespace {

bool has_cap(std::uint64_t mask, int cap) { return (mask >> cap) & 1u; }

}  // namespace

std::string BpfSupport::privilege_reason() const {
  std::string r = "needs root, or CAP_BPF+CAP_PERFMON";
  if (unprivileged_bpf_disabled && *unprivileged_bpf_disabled != 0) {
    r += "; unprivileged BPF is disabled (kernel.unprivileged_bpf_disabled=" +
         std::to_string(*unprivileged_bpf_disabled) + ")";
  } else {
    r += " (tracing programs are never allowed to unprivileged users)";
  }
  r += ". Run vmtune as root, or grant the binary the capabilities: "
       "setcap cap_bpf,cap_perfmon=ep $(command -v vmtune)";
  return r;
}

std::string BpfSupport::blocking_reason() const {
  if (!live) return "unsupported (snapshot): eBPF probes need the live machine, not --root";
  if (!privileged) return privilege_reason();
  if (!btf) {
    return "kernel has no BTF (" + btf_path +
           " is missing): vmtune's CO-RE probes need a kernel built with CONFIG_DEBUG_INFO_BTF=y";
  }
  return {};
}

core::Result<std::uint64_t> parse_cap_eff(std::string_view text, const std::string& path) {
  for (const auto& line : core::split_lines(text)) {
    if (line.text.rfind("CapEff:", 0) != 0) continue;
    const auto value = core::trim(line.text.substr(7));
    if (value.empty() || value.size() > 16) {
      return core::make_error(core::ErrorKind::parse_error, path,
                              "expected 1 to 16 hex digits, got \"" + std::string(value) + "\"",
                              line.number, "CapEff");
    }
    std::uint64_t mask = 0;
    for (char c : value) {
      int d = -1;
      if (c >= '0' && c <= '9') d = c - '0';
      if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
      if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
      if (d < 0) {
        return core::make_error(core::ErrorKind::parse_error, path,
                                "expected hex digits, got \"" + std::string(value) + "\"",
                                line.number, "CapEff");
      }
      mask = mask << 4 | static_cast<std::uint64_t>(d);
    }
    return mask;
  }
  return core::make_error(core::ErrorKind::parse_error, path, "no CapEff line", 0, "CapEff");
}

BpfSupport probe_bpf_support(const core::RootFs& fs) {
  BpfSupport s;
  s.live = fs.is_live();
  s.root = ::geteuid() == 0;
  s.btf = fs.exists(core::Tree::sys, "kernel/btf/vmlinux");
  s.btf_path = fs.logical(core::Tree::sys, "kernel/btf/vmlinux");
  if (auto status = fs.read_text(core::Tree::proc, "self/status")) {
    if (auto mask = parse_cap_eff(*status, fs.logical(core::Tree::proc, "self/status"))) {
      s.cap_eff = *mask;
    }
  }
  const bool admin = has_cap(s.cap_eff, kCapSysAdmin);
  s.privileged = (admin || has_cap(s.cap_eff, kCapBpf)) && (admin || has_cap(s.cap_eff, kCapPerfmon));
  if (auto v = fs.read_text(core::Tree::proc, "sys/kernel/unprivileged_bpf_disabled")) {
    if (auto n = core::parse_i64(core::trim(*v))) s.unprivileged_bpf_disabled = static_cast<int>(*n);
  }
  if (auto v = fs.read_text(core::Tree::sys, "kernel/security/lockdown")) {
    s.lockdown = core::bracketed_choice(*v);
  }
  s.tracefs_events = fs.is_dir(core::Tree::sys, "kernel/tracing/events");
  s.kprobes = fs.exists(core::Tree::sys, "bus/event_source/devices/kprobe");
  return s;
}

std::string fault_latency_reason(const core::RootFs& fs, const BpfSupport& support) {
  if (!support.blocking_reason().empty()) {
    return "fault latency unavailable: " + support.blocking_reason();
  }
  // A 2-instruction fentry program on handle_mm_fault: loading it is the only reliable test
  // (bpftool feature probe misreports the TRACING type on kernels that refuse trampolines).
  std::string fentry = "untested";
  bool fentry_ok = false;
  const auto btf_path = fs.real(core::Tree::sys, "kernel/btf/vmlinux");
  struct btf* vmlinux = btf__parse(btf_path.c_str(), nullptr);
  if (vmlinux == nullptr) {
    fentry = "kernel BTF unreadable";
  } else {
    const int id = btf__find_by_name_kind(vmlinux, "handle_mm_fault", BTF_KIND_FUNC);
    if (id < 0) {
      fentry = "handle_mm_fault is not in the kernel's BTF";
    } else {
      const struct bpf_insn insns[] = {
          {BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0},
          {BPF_JMP | BPF_EXIT, 0, 0, 0, 0},
      };
      LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = BPF_TRACE_FENTRY,
                  .attach_btf_id = static_cast<__u32>(id));
      const int fd = bpf_prog_load(BPF_PROG_TYPE_TRACING, "vmt_fentry_chk", "GPL", insns, 2, &opts);
      if (fd >= 0) {
        ::close(fd);
        fentry_ok = true;
      } else {
        const int err = errno;
        fentry = std::string("refuses BPF trampolines (fentry load: ") +
                 (err == EPERM ? "EPERM" : std::strerror(err)) + ")";
      }
    }
    btf__free(vmlinux);
  }
  if (support.kprobes || fentry_ok) {
    return std::string("fault latency not measured: the kernel supports ") +
           (fentry_ok ? "fentry/fexit" : "kprobes") +
           " on handle_mm_fault, but this version of vmtune only counts faults (fault latency "
           "arrives in a later version)";
  }
  return "fault latency unavailable: it needs kprobes or fentry/fexit on handle_mm_fault "
         "(tracepoints have no fault-exit event), and this kernel has no kprobes (no " +
         fs.logical(core::Tree::sys, "bus/event_source/devices/kprobe") +
         ": CONFIG_KPROBES is off) and " + fentry;
}

}  // namespace vmtune::collect::bpf
