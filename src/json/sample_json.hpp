// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// JSON for model types (nlohmann/json). The `collect --format json` schema is documented in
// man/vmtune.8 ("JSON SCHEMA"); section names are stable, and a section that could not be read
// is null with its reason in "unavailable".

#include <nlohmann/json.hpp>

#include "model/derive.hpp"
#include "model/sample.hpp"

namespace vmtune::json {

using Json = nlohmann::json;  // keys sorted: stable output for diffs and golden files

/// The collect document: {"schema": 1, "kernel": …, "meminfo": …, …, "rates": …, "unavailable": […]}
Json snapshot_to_json(const model::Snapshot& snap);
Json sample_sections_to_json(const model::Sample& sample);
Json rates_to_json(const model::Rates& rates);

Json host_to_json(const model::HostInfo& host);
model::HostInfo host_from_json(const Json& j);

Json bpf_to_json(const model::BpfStats& stats);
model::BpfStats bpf_from_json(const Json& j);  ///< throws nlohmann::json::exception on bad input

Json postgres_to_json(const model::PostgresFacts& facts);
model::PostgresFacts postgres_from_json(const Json& j);  ///< throws nlohmann::json::exception

inline constexpr int kSchemaVersion = 1;

}  // namespace vmtune::json
