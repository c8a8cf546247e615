// SPDX-License-Identifier: GPL-2.0-or-later
#include "collect/bpf/trace_session.hpp"

#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>

#include "collect/bpf/probe_group.hpp"
#include "core/parse.hpp"

namespace vmtune::collect::bpf {
namespace {

std::unique_ptr<ProbeGroup> make_group(const std::string& name) {
  if (name == "reclaim") return make_reclaim_group();
  if (name == "compaction") return make_compaction_group();
  if (name == "thp") return make_thp_group();
  if (name == "writeback") return make_writeback_group();
  if (name == "oom") return make_oom_group();
  if (name == "faults") return make_faults_group();
  return nullptr;
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

}  // namespace

const std::vector<std::string>& all_probe_names() {
  static const std::vector<std::string> k = {"reclaim",   "compaction", "thp",
                                             "writeback", "oom",        "faults"};
  return k;
}

const std::vector<std::string>& default_probe_names() {
  static const std::vector<std::string> k = {"reclaim", "compaction", "thp", "writeback", "oom"};
  return k;
}

core::Result<std::vector<std::string>> parse_probe_list(std::string_view text) {
  std::vector<bool> want(all_probe_names().size(), false);
  bool any = false;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    const auto comma = text.find(',', pos);
    const auto token =
        core::trim(text.substr(pos, comma == std::string_view::npos ? text.npos : comma - pos));
    pos = comma == std::string_view::npos ? text.size() + 1 : comma + 1;
    if (token.empty()) continue;
    any = true;
    const std::vector<std::string>* set = nullptr;
    if (token == "default") set = &default_probe_names();
    if (token == "all") set = &all_probe_names();
    if (set != nullptr) {
      for (const auto& n : *set) {
        const auto it = std::find(all_probe_names().begin(), all_probe_names().end(), n);
        want[static_cast<std::size_t>(it - all_probe_names().begin())] = true;
      }
      continue;
    }
    const auto it = std::find(all_probe_names().begin(), all_probe_names().end(), token);
    if (it == all_probe_names().end()) {
      return core::make_error(core::ErrorKind::invalid_argument, "--probes",
                              "unknown probe \"" + std::string(token) +
                                  "\"; known: " + join(all_probe_names()) + ", default, all");
    }
    want[static_cast<std::size_t>(it - all_probe_names().begin())] = true;
  }
  if (!any) {
    return core::make_error(core::ErrorKind::invalid_argument, "--probes",
                            "empty probe list; known: " + join(all_probe_names()));
  }
  std::vector<std::string> out;
  for (std::size_t i = 0; i < want.size(); ++i) {
    if (want[i]) out.push_back(all_probe_names()[i]);
  }
  return out;
}

core::Result<AttachPreference> parse_attach_preference(std::string_view text) {
  if (text == "auto") return AttachPreference::automatic;
  if (text == "tp_btf") return AttachPreference::tp_btf;
  if (text == "tp") return AttachPreference::tp;
  return core::make_error(core::ErrorKind::invalid_argument, "--attach",
                          "expected auto, tp_btf or tp, got \"" + std::string(text) + "\"");
}

struct TraceSession::Impl {
  Impl(const core::RootFs& f, const TraceOptions& o)
      : fs(f), options(o), support(probe_bpf_support(fs)), tracefs(fs, support), cgroups(fs) {}
  ~Impl() {
    if (rb != nullptr) ring_buffer__free(rb);
    rb = nullptr;
    groups.clear();  // detaches and unloads every program
    if (vmlinux != nullptr) btf__free(vmlinux);
  }

  core::RootFs fs;
  TraceOptions options;
  BpfSupport support;
  TracefsAccess tracefs;  // unmounts what it mounted, after the groups are gone
  CgroupNames cgroups;
  struct btf* vmlinux = nullptr;
  std::unique_ptr<GroupContext> ctx;
  std::vector<std::unique_ptr<ProbeGroup>> groups;
  struct ring_buffer* rb = nullptr;
  std::vector<model::ProbeStatus> statuses;
  bool finished = false;
};

TraceSession::TraceSession(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TraceSession::~TraceSession() = default;

std::unique_ptr<TraceSession> TraceSession::start(const core::RootFs& fs,
                                                  const TraceOptions& options) {
  install_libbpf_logger();
  auto impl = std::make_unique<Impl>(fs, options);
  auto& s = *impl;
  if (s.support.btf && s.support.live) {
    const auto path = s.fs.real(core::Tree::sys, "kernel/btf/vmlinux");
    s.vmlinux = btf__parse(path.c_str(), nullptr);
    if (libbpf_get_error(s.vmlinux) != 0) s.vmlinux = nullptr;
  }
  const long ps = ::sysconf(_SC_PAGESIZE);
  s.ctx = std::make_unique<GroupContext>(
      GroupContext{s.fs, s.support, s.options, s.vmlinux, s.tracefs, s.cgroups,
                   ps > 0 ? static_cast<std::uint64_t>(ps) : 4096});
  for (const auto& name : options.probes) {
    auto group = make_group(name);
    if (!group) {
      model::ProbeStatus st;
      st.name = name;
      st.reason = "unknown probe";
      s.statuses.push_back(std::move(st));
      continue;
    }
    group->start(*s.ctx);
    s.statuses.push_back(group->status());
    for (auto& extra : group->extra_statuses(*s.ctx)) s.statuses.push_back(std::move(extra));
    if (group->status().attached) {
      group->add_ring_buffers([&s](int fd, int (*fn)(void*, void*, std::size_t), void* cb_ctx) {
        if (fd < 0) return false;
        if (s.rb == nullptr) {
          s.rb = ring_buffer__new(fd, fn, cb_ctx, nullptr);
          if (libbpf_get_error(s.rb) != 0) s.rb = nullptr;
          return s.rb != nullptr;
        }
        return ring_buffer__add(s.rb, fd, fn, cb_ctx) == 0;
      });
      s.groups.push_back(std::move(group));
    }
  }
  return std::unique_ptr<TraceSession>(new TraceSession(std::move(impl)));
}

const std::vector<model::ProbeStatus>& TraceSession::probes() const noexcept {
  return impl_->statuses;
}

bool TraceSession::any_attached() const noexcept { return !impl_->groups.empty(); }

void TraceSession::poll(int timeout_ms) {
  if (impl_->rb != nullptr) {
    ring_buffer__poll(impl_->rb, timeout_ms);
  } else if (timeout_ms > 0) {
    ::usleep(static_cast<useconds_t>(timeout_ms) * 1000);
  }
}

model::BpfStats TraceSession::read(double elapsed_s) {
  auto& s = *impl_;
  model::BpfStats out;
  out.duration_s = elapsed_s;
  out.slow_threshold_us = s.options.slow_event_us;
  if (!s.finished) {
    if (s.rb != nullptr) ring_buffer__consume(s.rb);
    for (auto& g : s.groups) g->collect(out, *s.ctx);
  }
  std::stable_sort(out.slow_events.begin(), out.slow_events.end(),
                   [](const auto& a, const auto& b) { return a.time_unix_ms < b.time_unix_ms; });
  out.probes = s.statuses;
  return out;
}

model::BpfStats TraceSession::finish(double duration_s) {
  auto out = read(duration_s);
  auto& s = *impl_;
  if (!s.finished) {
    if (s.rb != nullptr) ring_buffer__free(s.rb);
    s.rb = nullptr;
    for (auto& g : s.groups) g->stop();
    s.finished = true;
  }
  return out;
}

model::BpfStats run_trace(
    const core::RootFs& fs, const TraceOptions& options, double seconds,
    const std::atomic<bool>* stop, const std::function<void(double, double)>& progress,
    const std::function<void(const std::vector<model::ProbeStatus>&)>& on_attached) {
  using clock = std::chrono::steady_clock;
  auto session = TraceSession::start(fs, options);
  if (on_attached) on_attached(session->probes());
  const auto t0 = clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(clock::now() - t0).count(); };
  if (session->any_attached()) {
    while (elapsed() < seconds && (stop == nullptr || !stop->load())) {
      const double left = seconds - elapsed();
      session->poll(static_cast<int>(std::clamp(left * 1000.0, 1.0, 100.0)));
      if (progress) progress(std::min(elapsed(), seconds), seconds);
    }
  }
  return session->finish(session->any_attached() ? elapsed() : 0.0);
}

}  // namespace vmtune::collect::bpf
