// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// JSON for model types (nlohmann/json). The `collect --format json` schema is documented in
// man/vmtune.8 ("COLLECT JSON"); section names are stable, and a section that could not be read
// is null with its reason in "unavailable".
//
// Text policy (vmtune(8), "Untrusted text"): every string a *_to_json function writes, object
// keys included, has been through core::escape_text, so the document is valid UTF-8 without
// control bytes whatever the machine held; every *_from_json function reverses it with
// core::unescape_text, so a snapshot's extras read back give the original bytes. Serialise with
// json::dump, never Json::dump: it cannot throw on a string that escaped the policy.

#include <nlohmann/json.hpp>
#include <string>

#include "model/derive.hpp"
#include "model/sample.hpp"

namespace vmtune::json {

using Json = nlohmann::json;  // keys sorted: stable output for diffs and golden files

/// The one way to serialise a document: Json::dump with error_handler_t::replace, so invalid
/// UTF-8 that reached a document by another road becomes U+FFFD instead of an exception.
/// indent < 0: one line.
std::string dump(const Json& j, int indent = -1);

/// Every string value and object key of `j` through core::escape_text (escape_tree) or
/// core::unescape_text (unescape_tree); numbers, booleans and nulls unchanged.
Json escape_tree(const Json& j);
Json unescape_tree(const Json& j);

/// The collect document: {"schema": 2, "kernel": …, "meminfo": …, …, "rates": …, "unavailable":
/// […]}
Json snapshot_to_json(const model::Snapshot& snap);
Json sample_sections_to_json(const model::Sample& sample);
Json rates_to_json(const model::Rates& rates);

Json host_to_json(const model::HostInfo& host);
model::HostInfo host_from_json(const Json& j);  ///< throws nlohmann::json::exception

Json bpf_to_json(const model::BpfStats& stats);
model::BpfStats bpf_from_json(const Json& j);  ///< throws nlohmann::json::exception on bad input

Json postgres_to_json(const model::PostgresFacts& facts);
model::PostgresFacts postgres_from_json(const Json& j);  ///< throws nlohmann::json::exception

/// One process: {"pid", "ppid", "comm", "cmdline": [argument], "state": "S", ...}.
Json process_to_json(const model::Process& process);
model::Process process_from_json(const Json& j);  ///< throws nlohmann::json::exception

/// 2: process "cmdline" is an array of arguments, "state" a one-letter string, and untrusted
/// strings are escaped (1: cmdline one string with spaces, state a number, strings raw).
inline constexpr int kSchemaVersion = 2;

}  // namespace vmtune::json
