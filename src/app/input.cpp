// SPDX-License-Identifier: GPL-2.0-or-later
#include "app/input.hpp"

#include <algorithm>
#include <chrono>
#include <thread>

#include "collect/source_util.hpp"

namespace vmtune::app {

core::Result<Input> Input::open(const GlobalOptions& options) {
  Input in;
  if (!options.root.empty()) {
    auto opened = snapshot::open_root(options.root);
    if (!opened) return std::move(opened).error();
    in.fs_ = opened->trees.front();
    in.opened_.emplace(std::move(*opened));
  }
  if (!options.proc.empty()) in.fs_.set_root(core::Tree::proc, options.proc);
  if (!options.sys.empty()) in.fs_.set_root(core::Tree::sys, options.sys);
  if (!options.etc.empty()) in.fs_.set_root(core::Tree::etc, options.etc);
  return in;
}

const json::Json& Input::extras() const {
  static const json::Json kEmpty = json::Json::object();
  return opened_ ? opened_->extras : kEmpty;
}

model::Sample Input::sample_one(const collect::CollectOptions& options, std::size_t index) const {
  if (!replaying_snapshot()) return collect::collect_sample(fs_, options);
  const auto& o = *opened_;
  collect::CollectOptions opt = options;
  if (o.host) opt.host = o.host;
  if (index < o.monotonic_s.size()) opt.monotonic_s = o.monotonic_s[index];
  if (index < o.time_unix_ms.size()) opt.time_unix_ms = o.time_unix_ms[index];
  return collect::collect_sample(o.trees.at(index), opt);
}

std::vector<model::Sample> Input::sample(double interval_s, int count,
                                         const collect::CollectOptions& options,
                                         const Progress& progress,
                                         const std::atomic<bool>* stop) const {
  std::vector<model::Sample> out;
  if (replaying_snapshot()) {
    for (std::size_t i = 0; i < opened_->trees.size(); ++i) out.push_back(sample_one(options, i));
    return out;
  }
  if (!live()) count = 1;  // a plain captured tree reads the same every time
  for (int i = 0; i < count; ++i) {
    if (i > 0 && !wait_interval(interval_s, progress, stop)) break;
    out.push_back(sample_one(options));
  }
  return out;
}

void apply_snapshot_extras(const Input& input, model::Sample& sample) {
  if (!input.replaying_snapshot()) return;
  const auto& extras = input.extras();
  auto load = [&](const char* key, auto& source, auto convert) {
    if (!extras.contains(key) || extras[key].is_null()) {
      source.state = model::SourceState::unsupported;
      source.reason = "not in this snapshot";
      return;
    }
    try {
      source.value = convert(extras[key]);
      source.state = model::SourceState::ok;
      source.reason.clear();
    } catch (const json::Json::exception& e) {
      source.value.reset();
      source.state = model::SourceState::parse_error;
      source.reason = std::string("meta.json extras.") + key + ": " + e.what();
      collect::add_unavailable(
          sample,
          model::Unavailable{key, "meta.json", 0, std::string("extras.") + key, source.reason});
    }
  };
  load("postgres", sample.postgres,
       [](const json::Json& j) { return json::postgres_from_json(j); });
  load("bpf", sample.bpf, [](const json::Json& j) { return json::bpf_from_json(j); });
}

bool wait_interval(double seconds, const Progress& progress, const std::atomic<bool>* stop) {
  using clock = std::chrono::steady_clock;
  const auto start = clock::now();
  for (;;) {
    if (stop != nullptr && stop->load()) return false;
    const double elapsed = std::chrono::duration<double>(clock::now() - start).count();
    if (progress) progress(std::min(elapsed, seconds), seconds);
    if (elapsed >= seconds) return true;
    const double step = std::min(0.1, seconds - elapsed);
    std::this_thread::sleep_for(std::chrono::duration<double>(step));
  }
}

}  // namespace vmtune::app
