// SPDX-License-Identifier: GPL-2.0-or-later
#include "collect/bpf/maps.hpp"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include <algorithm>
#include <cctype>
#include <chrono>

namespace vmtune::collect::bpf {

int possible_cpus() {
  static const int n = [] {
    const int c = libbpf_num_possible_cpus();
    return c > 0 ? c : 1;
  }();
  return n;
}

std::vector<std::uint8_t> read_percpu_raw(int fd, std::uint32_t key, std::size_t value_size) {
  const std::size_t stride = (value_size + 7) / 8 * 8;
  std::vector<std::uint8_t> buf(stride * static_cast<std::size_t>(possible_cpus()));
  if (bpf_map_lookup_elem(fd, &key, buf.data()) != 0) return {};
  return buf;
}

std::vector<std::pair<std::vector<std::uint8_t>, std::vector<std::uint8_t>>> dump_hash(
    int fd, std::size_t key_size, std::size_t value_size) {
  std::vector<std::pair<std::vector<std::uint8_t>, std::vector<std::uint8_t>>> out;
  std::vector<std::uint8_t> key(key_size), next(key_size), value(value_size);
  void* prev = nullptr;
  for (std::size_t guard = 0; guard < (1u << 22); ++guard) {
    if (bpf_map_get_next_key(fd, prev, next.data()) != 0) break;
    if (bpf_map_lookup_elem(fd, next.data(), value.data()) == 0) out.emplace_back(next, value);
    key = next;
    prev = key.data();
  }
  return out;
}

std::string fixed_string(const char* data, std::size_t size) {
  std::size_t n = 0;
  while (n < size && data[n] != '\0') ++n;
  return std::string(data, n);
}

std::string btf_enum_name(const struct btf* vmlinux, const char* enum_type, std::int64_t value,
                          const char* prefix) {
  const std::string fallback = std::string(enum_type) + "_" + std::to_string(value);
  if (vmlinux == nullptr) return fallback;
  const int id = btf__find_by_name_kind(vmlinux, enum_type, BTF_KIND_ENUM);
  if (id < 0) return fallback;
  const struct btf_type* t = btf__type_by_id(vmlinux, static_cast<__u32>(id));
  if (t == nullptr) return fallback;
  const struct btf_enum* e = btf_enum(t);
  for (unsigned i = 0; i < btf_vlen(t); ++i) {
    if (e[i].val != value) continue;
    std::string name = btf__name_by_offset(vmlinux, e[i].name_off);
    const std::string p = prefix;
    if (name.rfind(p, 0) == 0) name = name.substr(p.size());
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return name;
  }
  return fallback;
}

void keep_top(std::vector<model::ProcessStall>& v, std::size_t n) {
  std::sort(v.begin(), v.end(), [](const model::ProcessStall& a, const model::ProcessStall& b) {
    if (a.total_us != b.total_us) return a.total_us > b.total_us;
    if (a.count != b.count) return a.count > b.count;
    return a.pid < b.pid;
  });
  if (v.size() > n) v.resize(n);
}

std::int64_t now_unix_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::vector<std::uint64_t> read_percpu_counters(int fd, std::uint32_t n) {
  std::vector<std::uint64_t> out(n, 0);
  for (std::uint32_t k = 0; k < n; ++k) {
    out[k] = fold_percpu<std::uint64_t>(fd, k,
                                        [](std::uint64_t& sum, std::uint64_t one) { sum += one; });
  }
  return out;
}

std::vector<std::uint64_t> read_counters(int map_fd, std::uint32_t n,
                                         std::span<const CounterName> names, model::BpfStats& out) {
  auto c = read_percpu_counters(map_fd, n);
  for (const auto& [index, name] : names) {
    if (index < c.size()) out.counters[name] = c[index];
  }
  return c;
}

void store_enum_counters(std::span<const std::uint64_t> counts, const std::string& name_prefix,
                         KernelEnum e, const struct btf* vmlinux, model::BpfStats& out) {
  for (std::size_t v = 0; v < counts.size(); ++v) {
    if (counts[v] == 0) continue;
    const auto value = static_cast<std::int64_t>(v);
    out.counters[name_prefix + btf_enum_name(vmlinux, e.type, value, e.prefix)] = counts[v];
  }
}

}  // namespace vmtune::collect::bpf
