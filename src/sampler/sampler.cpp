// SPDX-License-Identifier: GPL-2.0-or-later
#include "sampler/sampler.hpp"

#include <algorithm>
#include <chrono>
#include <memory>
#include <thread>

#include "collect/bpf/trace_session.hpp"
#include "collect/postgres/postgres.hpp"
#include "collect/source_util.hpp"

namespace vmtune::sampler {
namespace {

/// Copies one of a snapshot's extras into a sample's source, or says the snapshot has none.
template <typename T, typename Convert>
void load_extra(const json::Json& extras, const char* key, model::Sample& sample,
                model::Source<T>& source, Convert convert) {
  if (!extras.contains(key) || extras[key].is_null()) {
    source.value.reset();
    source.state = model::SourceState::unsupported;
    source.error = core::make_error(core::ErrorKind::unsupported, "", "not in this snapshot");
    return;
  }
  try {
    source.value = convert(extras[key]);
    source.state = model::SourceState::ok;
    source.error.reset();
  } catch (const json::Json::exception& e) {
    source.value.reset();
    source.state = model::SourceState::parse_error;
    source.error = core::make_error(core::ErrorKind::parse_error, "",
                                    std::string("meta.json extras.") + key + ": " + e.what());
    collect::add_unavailable(
        sample,
        model::Unavailable{key, "meta.json", 0, std::string("extras.") + key, source.reason()});
  }
}

/// The probes' statistics into sample.bpf: ok when any probe attached, else why none did; one
/// Unavailable per probe that could not attach.
void store_trace(model::BpfStats stats, model::Sample& sample) {
  bool any = false;
  bool denied = false;
  std::string first_reason;
  for (const auto& p : stats.probes) {
    if (p.attached) {
      any = true;
      continue;
    }
    if (p.reason.find("needs root") != std::string::npos) denied = true;
    if (first_reason.empty() && p.name != "fault_latency") first_reason = p.reason;
    collect::add_unavailable(sample, model::Unavailable{"bpf." + p.name, "", 0, "", p.reason});
  }
  if (any) {
    sample.bpf.state = model::SourceState::ok;
    sample.bpf.error.reset();
    sample.bpf.value = std::move(stats);
  } else {
    sample.bpf.state =
        denied ? model::SourceState::permission_denied : model::SourceState::unsupported;
    sample.bpf.error = core::make_error(
        denied ? core::ErrorKind::permission_denied : core::ErrorKind::unsupported, "",
        first_reason.empty() ? "no eBPF probe could be attached" : first_reason);
    sample.bpf.value.reset();
  }
}

}  // namespace

model::Snapshot Window::snapshot() const {
  std::optional<model::Sample> previous;
  if (samples.size() > 1) previous = samples[samples.size() - 2];
  return model::make_snapshot(samples.empty() ? model::Sample{} : samples.back(),
                              std::move(previous));
}

json::Json Window::extras() const {
  json::Json extras = json::Json::object();
  if (samples.empty()) return extras;
  const auto& last = samples.back();
  if (last.postgres.value) extras["postgres"] = json::postgres_to_json(*last.postgres.value);
  if (last.bpf.value) extras["bpf"] = json::bpf_to_json(*last.bpf.value);
  return extras;
}

core::Result<Sampler> Sampler::open(const Origin& origin) {
  Sampler s;
  if (!origin.root.empty()) {
    auto opened = snapshot::open_root(origin.root);
    if (!opened) return std::move(opened).error();
    s.fs_ = opened->trees.front();
    s.opened_.emplace(std::move(*opened));
  }
  if (!origin.proc.empty()) s.fs_.set_root(core::Tree::proc, origin.proc);
  if (!origin.sys.empty()) s.fs_.set_root(core::Tree::sys, origin.sys);
  if (!origin.etc.empty()) s.fs_.set_root(core::Tree::etc, origin.etc);
  return s;
}

std::size_t Sampler::readings() const noexcept {
  if (replaying_snapshot()) return opened_->trees.size();
  return live() ? 0 : 1;
}

model::Sample Sampler::read_files(const Options& options, std::size_t index,
                                  core::ReadRecord* record) const {
  collect::CollectOptions opt;
  opt.processes = options.processes;
  opt.smaps = options.smaps;
  opt.cgroups = options.cgroups;
  if (!replaying_snapshot()) {
    if (record == nullptr) return collect::collect_sample(fs_, opt);
    core::RootFs fs = fs_;
    auto shared = std::make_shared<core::ReadRecord>();
    fs.record_into(shared);
    auto s = collect::collect_sample(fs, opt);
    *record = std::move(*shared);
    return s;
  }
  const auto& o = *opened_;
  index = std::min(index, o.trees.size() - 1);
  if (o.host) opt.host = o.host;
  if (index < o.monotonic_s.size()) opt.monotonic_s = o.monotonic_s[index];
  if (index < o.time_unix_ms.size()) opt.time_unix_ms = o.time_unix_ms[index];
  return collect::collect_sample(o.trees[index], opt);
}

void Sampler::add_postgres(const Options& options, model::Sample& sample) const {
  if (!options.postgres) {
    sample.postgres.value.reset();
    sample.postgres.state = model::SourceState::not_collected;
    sample.postgres.error = core::make_error(core::ErrorKind::unsupported, "", "--no-pg");
    return;
  }
  if (replaying_snapshot()) return;  // the snapshot's extras carry the facts
  collect::postgres::PostgresOptions opt;
  opt.conninfo = options.conninfo;
  collect::postgres::collect_postgres(fs_, opt, sample);
}

void Sampler::add_extras(model::Sample& sample) const {
  if (!replaying_snapshot()) return;
  const auto& extras = opened_->extras;
  load_extra(extras, "postgres", sample, sample.postgres,
             [](const json::Json& j) { return json::postgres_from_json(j); });
  load_extra(extras, "bpf", sample, sample.bpf,
             [](const json::Json& j) { return json::bpf_from_json(j); });
}

model::Sample Sampler::sample(const Options& options, std::size_t index) const {
  auto s = read_files(options, index, nullptr);
  add_extras(s);
  add_postgres(options, s);
  return s;
}

Window Sampler::window(double seconds, const Options& options, const Progress& progress,
                       const std::atomic<bool>* stop) const {
  Window w;
  if (replaying_snapshot()) {
    for (std::size_t i = 0; i < readings(); ++i) w.samples.push_back(sample(options, i));
    return w;
  }
  auto read = [&] {
    core::ReadRecord record;
    w.samples.push_back(read_files(options, 0, options.record ? &record : nullptr));
    if (options.record) {
      const auto& s = w.samples.back();
      w.captured.push_back(
          snapshot::CapturedSample{std::move(record), s.monotonic_s, s.host.time_unix_ms});
    }
  };
  const auto first = std::chrono::steady_clock::now();
  read();
  if (!live()) {  // a plain tree reads the same every time: one reading, no probes
    add_postgres(options, w.samples.back());
    return w;
  }
  std::optional<model::Sample> traced;
  if (options.trace_s > 0) {
    traced.emplace();
    auto stats = collect::bpf::run_trace(fs_, collect::bpf::TraceOptions{}, options.trace_s, stop,
                                         [&progress](double elapsed, double total) {
                                           if (progress) progress("tracing", elapsed, total);
                                         });
    store_trace(std::move(stats), *traced);
  }
  if (seconds > 0) {
    // The probes' time (loading and attaching included) counts towards the window.
    const double spent =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - first).count();
    if (!wait_interval(std::max(0.0, seconds - spent), progress, stop)) {
      w.interrupted = true;
      return w;
    }
    read();
  }
  auto& last = w.samples.back();
  if (traced) {
    last.bpf = std::move(traced->bpf);
    for (auto& u : traced->unavailable) collect::add_unavailable(last, std::move(u));
  }
  add_postgres(options, last);
  return w;
}

bool wait_interval(double seconds, const Progress& progress, const std::atomic<bool>* stop) {
  using clock = std::chrono::steady_clock;
  const auto start = clock::now();
  for (;;) {
    if (stop != nullptr && stop->load()) return false;
    const double elapsed = std::chrono::duration<double>(clock::now() - start).count();
    if (progress) progress("sampling", std::min(elapsed, seconds), seconds);
    if (elapsed >= seconds) return true;
    const double step = std::min(0.1, seconds - elapsed);
    std::this_thread::sleep_for(std::chrono::duration<double>(step));
  }
}

}  // namespace vmtune::sampler
