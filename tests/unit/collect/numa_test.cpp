// SPDX-License-Identifier: GPL-2.0-or-later
#include "collect/numa.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <optional>

#include "collect/counters.hpp"
#include "collect/meminfo.hpp"
#include "core/parse.hpp"
#include "core/temp_dir.hpp"
#include "strict_support.hpp"
#include "test_support.hpp"

namespace vmtune::collect {
namespace {

namespace fs = std::filesystem;
using test::shared_expected;
using test::shared_fixtures;
using test::slurp;
using test::write_fixture;

/// `node_memory_numa_<name>{node="<id>"}` -> {name, id}; {"", -1} for other keys.
std::pair<std::string, int> split_metric(const std::string& key) {
  const std::string head = "node_memory_numa_";
  const std::string mid = "{node=\"";
  const auto brace = key.find(mid);
  if (key.rfind(head, 0) != 0 || brace == std::string::npos ||
      key.size() < brace + mid.size() + 2 || key.substr(key.size() - 2) != "\"}") {
    return {"", -1};
  }
  const auto id = key.substr(brace + mid.size(), key.size() - 2 - brace - mid.size());
  return {key.substr(head.size(), brace - head.size()), std::stoi(id)};
}

/// "performancecopilot-pcp/<dataset>/sys/devices/system/node/node<N>/<file>" -> parts.
struct PcpKey {
  std::string dataset;
  int node = -1;
  std::string file;
};
std::optional<PcpKey> split_pcp_key(const std::string& key) {
  const std::string head = "performancecopilot-pcp/meminfo-root-";
  const std::string mid = "/sys/devices/system/node/node";
  const auto at = key.find(mid);
  if (key.rfind(head, 0) != 0 || at == std::string::npos) return std::nullopt;
  const auto slash = key.find('/', at + mid.size());
  if (slash == std::string::npos) return std::nullopt;
  PcpKey k;
  k.dataset = key.substr(std::string("performancecopilot-pcp/").size(),
                         at - std::string("performancecopilot-pcp/").size());
  k.node = std::stoi(key.substr(at + mid.size(), slash - at - mid.size()));
  k.file = key.substr(slash + 1);
  if (k.file != "meminfo" && k.file != "numastat") return std::nullopt;
  return k;
}

const model::NumaNode* node_by_id(const model::Numa& n, int id) {
  for (const auto& node : n.nodes) {
    if (node.id == id) return &node;
  }
  return nullptr;
}

TEST(Numa, IdLists) {
  EXPECT_EQ(*parse_id_list("0\n", "x"), std::vector<int>({0}));
  EXPECT_EQ(*parse_id_list("0-3,5\n", "x"), std::vector<int>({0, 1, 2, 3, 5}));
  EXPECT_EQ(*parse_id_list("2,0-1", "x"), std::vector<int>({0, 1, 2}));
  EXPECT_TRUE(parse_id_list("\n", "x")->empty());
  for (const char* bad : {"3-1", "a", "0,", "0-", "-1", "0-99999999"}) {
    EXPECT_FALSE(parse_id_list(bad, "x").ok()) << bad;
  }
}

TEST(Numa, NodeMeminfoStripsPrefixAndConvertsKb) {
  std::vector<core::Error> bad;
  auto m = parse_node_meminfo(
      "Node 1 MemTotal:  100 kB\nNode 1 HugePages_Total:     3\nNode 2 MemFree: 5 kB\n"
      "MemUsed: 7 kB\nNode 1 Dirty: 12x kB\n",
      1, "/sys/devices/system/node/node1/meminfo", &bad);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->at("MemTotal"), 102400u);
  EXPECT_EQ(m->at("HugePages_Total"), 3u);
  EXPECT_EQ(m->size(), 2u);
  ASSERT_EQ(bad.size(), 3u);
  EXPECT_EQ(bad[0].line, 3);  // another node's line
  EXPECT_EQ(bad[1].line, 4);  // no prefix
  EXPECT_EQ(bad[2].line, 5);
  EXPECT_EQ(bad[2].field, "Dirty");
  EXPECT_FALSE(parse_node_meminfo("", 0, "x", nullptr).ok());
  EXPECT_FALSE(parse_node_meminfo("garbage\n", 0, "x", nullptr).ok());
}

TEST(Numa, DistanceAndNumastat) {
  EXPECT_EQ(*parse_node_distance("10 21 21\n", "x"), std::vector<std::uint32_t>({10, 21, 21}));
  EXPECT_FALSE(parse_node_distance("", "x").ok());
  EXPECT_FALSE(parse_node_distance("10 x\n", "x").ok());
  std::vector<core::Error> bad;
  auto ns = parse_counters("numa_hit 5\nnuma_miss\nlocal_node 3\n", "x", &bad);
  ASSERT_TRUE(ns.ok());
  EXPECT_EQ(ns->at("numa_hit"), 5u);
  EXPECT_EQ(ns->at("local_node"), 3u);
  EXPECT_EQ(bad.size(), 1u);
  EXPECT_FALSE(parse_counters("", "x", nullptr).ok());
}

// node_exporter exports every nodeN/meminfo field as node_memory_numa_<Key>{node="N"} in bytes
// (HugePages_* as counts; "(" -> "_", ")" dropped) and numastat as ..._<key>_total.
TEST(Numa, MatchesNodeExporterFieldByField) {
  VMTUNE_REQUIRE_SHARED_FIXTURES();
  model::Sample s;
  read_numa(core::RootFs::under(shared_fixtures() / "prometheus-node_exporter"), s);
  ASSERT_TRUE(s.numa.ok()) << s.numa.reason();
  EXPECT_TRUE(s.unavailable.empty());
  ASSERT_EQ(s.numa.value->nodes.size(), 3u);
  int checked = 0;
  for (int id = 0; id < 3; ++id) {
    const auto* node = node_by_id(*s.numa.value, id);
    ASSERT_NE(node, nullptr);
    std::map<std::string, std::uint64_t> ours;
    for (const auto& [k, v] : node->meminfo) {
      std::string name;
      for (char c : k) {
        if (c == '(') {
          name += '_';
        } else if (c != ')') {
          name += c;
        }
      }
      ours[name] = v;
    }
    const std::string base =
        "prometheus-node_exporter/sys/devices/system/node/node" + std::to_string(id);
    for (const auto& [key, value] : shared_expected().at(base + "/meminfo").items()) {
      const auto [name, node_id] = split_metric(key);
      if (node_id < 0) continue;
      ASSERT_EQ(node_id, id);
      ASSERT_TRUE(ours.count(name)) << key;
      EXPECT_EQ(ours.at(name), value.get<std::uint64_t>()) << key;
      ++checked;
    }
    for (const auto& [key, value] : shared_expected().at(base + "/numastat").items()) {
      auto [name, node_id] = split_metric(key);
      if (node_id < 0) continue;
      ASSERT_EQ(node_id, id);
      ASSERT_TRUE(name.size() > 6 && name.substr(name.size() - 6) == "_total") << key;
      name.resize(name.size() - 6);
      ASSERT_TRUE(node->numastat.count(name)) << key;
      EXPECT_EQ(node->numastat.at(name), value.get<std::uint64_t>()) << key;
      ++checked;
    }
  }
  EXPECT_GT(checked, 90);
}

// PCP qa/821: mem.numa.util.* in kB under PCP's own names, mem.numa.alloc.* counts.
TEST(Numa, MatchesPcpMeminfoDatasets) {
  VMTUNE_REQUIRE_SHARED_FIXTURES();
  const std::map<std::string, std::string> util = {{"total", "MemTotal"},
                                                   {"free", "MemFree"},
                                                   {"used", "MemUsed"},
                                                   {"active", "Active"},
                                                   {"inactive", "Inactive"},
                                                   {"active_anon", "Active(anon)"},
                                                   {"inactive_anon", "Inactive(anon)"},
                                                   {"active_file", "Active(file)"},
                                                   {"inactive_file", "Inactive(file)"},
                                                   {"unevictable", "Unevictable"},
                                                   {"mlocked", "Mlocked"},
                                                   {"dirty", "Dirty"},
                                                   {"writeback", "Writeback"},
                                                   {"filePages", "FilePages"},
                                                   {"mapped", "Mapped"},
                                                   {"anonpages", "AnonPages"},
                                                   {"shmem", "Shmem"},
                                                   {"kernelStack", "KernelStack"},
                                                   {"pageTables", "PageTables"},
                                                   {"NFS_Unstable", "NFS_Unstable"},
                                                   {"bounce", "Bounce"},
                                                   {"writebackTmp", "WritebackTmp"},
                                                   {"slab", "Slab"},
                                                   {"slabReclaimable", "SReclaimable"},
                                                   {"slabUnreclaimable", "SUnreclaim"},
                                                   {"anonhugepages", "AnonHugePages"},
                                                   {"shmemhugepages", "ShmemHugePages"},
                                                   {"shmempmdmapped", "ShmemPmdMapped"},
                                                   {"filehugepages", "FileHugePages"},
                                                   {"filepmdmapped", "FilePmdMapped"},
                                                   {"kreclaimable", "KReclaimable"},
                                                   {"swapCached", "SwapCached"},
                                                   {"hugepagesTotal", "HugePages_Total"},
                                                   {"hugepagesFree", "HugePages_Free"},
                                                   {"hugepagesSurp", "HugePages_Surp"}};
  const std::map<std::string, std::string> alloc = {
      {"hit", "numa_hit"},          {"miss", "numa_miss"},
      {"foreign", "numa_foreign"},  {"interleave_hit", "interleave_hit"},
      {"local_node", "local_node"}, {"other_node", "other_node"}};
  int checked = 0;
  int files = 0;
  for (const auto& [key, fields] : shared_expected().items()) {
    const auto m = split_pcp_key(key);
    if (!m) continue;
    ++files;
    model::Sample s;
    read_numa(core::RootFs::under(shared_fixtures() / "performancecopilot-pcp" / m->dataset), s);
    ASSERT_TRUE(s.numa.ok()) << key << ": " << s.numa.reason();
    const auto* node = node_by_id(*s.numa.value, m->node);
    ASSERT_NE(node, nullptr) << key;
    for (const auto& [name, value] : fields.items()) {
      if (!value.is_number_unsigned()) continue;
      if (m->file == "meminfo") {
        const std::string prefix = "mem.numa.util.";
        if (name.rfind(prefix, 0) != 0) continue;
        const auto short_name = name.substr(prefix.size());
        if (short_name.find("Bytes") != std::string::npos) continue;  // PCP-derived products
        ASSERT_TRUE(util.count(short_name)) << key << " " << name;
        const auto& kernel_name = util.at(short_name);
        ASSERT_TRUE(node->meminfo.count(kernel_name)) << key << " " << kernel_name;
        const bool count = kernel_name.rfind("HugePages_", 0) == 0;
        EXPECT_EQ(node->meminfo.at(kernel_name), value.get<std::uint64_t>() * (count ? 1 : 1024))
            << key << " " << name;
      } else {
        const std::string prefix = "mem.numa.alloc.";
        if (name.rfind(prefix, 0) != 0) continue;
        const auto& kernel_name = alloc.at(name.substr(prefix.size()));
        ASSERT_TRUE(node->numastat.count(kernel_name)) << key << " " << kernel_name;
        EXPECT_EQ(node->numastat.at(kernel_name), value.get<std::uint64_t>()) << key << " " << name;
      }
      ++checked;
    }
  }
  EXPECT_GE(files, 8);
  EXPECT_GT(checked, 200);
}

TEST(Numa, ProjectTreeOfThisMachineKind) {
  const auto root = test::test_data() / "live-debian12";
  model::Sample s;
  read_numa(core::RootFs::under(root), s);
  ASSERT_TRUE(s.numa.ok()) << s.numa.reason();
  EXPECT_TRUE(s.unavailable.empty());
  const auto& n = *s.numa.value;
  EXPECT_EQ(n.online, "0");
  ASSERT_EQ(n.nodes.size(), 1u);
  const auto& node = n.nodes[0];
  EXPECT_EQ(node.distance, std::vector<std::uint32_t>({10}));
  EXPECT_EQ(node.cpulist, "0-1");
  EXPECT_EQ(node.meminfo.at("MemTotal"), 10315552ull * 1024);
  EXPECT_EQ(node.numastat.count("numa_hit"), 1u);
  ASSERT_EQ(node.hugepages.size(), 1u);
  EXPECT_EQ(node.hugepages[0].page_size, 2u << 20);
}

TEST(Numa, LiveReadMatchesSysfs) {
  model::Sample s;
  read_numa(core::RootFs(), s);
  if (!fs::exists("/sys/devices/system/node")) {
    EXPECT_EQ(s.numa.state, model::SourceState::unsupported);
    return;
  }
  ASSERT_TRUE(s.numa.ok()) << s.numa.reason();
  const auto& n = *s.numa.value;
  const std::string online(core::trim(slurp("/sys/devices/system/node/online")));
  EXPECT_EQ(n.online, online);
  EXPECT_EQ(n.nodes.size(), parse_id_list(online, "x")->size());
  // Node totals cannot exceed the machine's MemTotal. They are not always equal: on this
  // Firecracker VM node0/meminfo shows about 10 GiB of a 24 GiB MemTotal.
  model::Sample m;
  read_meminfo(core::RootFs(), m);
  ASSERT_TRUE(m.meminfo.ok());
  std::uint64_t sum = 0;
  for (const auto& node : n.nodes) {
    sum += node.meminfo.at("MemTotal");
    EXPECT_EQ(node.cpulist, std::string(core::trim(slurp("/sys/devices/system/node/node" +
                                                         std::to_string(node.id) + "/cpulist"))));
    ASSERT_FALSE(node.distance.empty());
    EXPECT_EQ(node.distance[static_cast<std::size_t>(node.id)], 10u);  // local distance
    EXPECT_GT(node.numastat.at("numa_hit"), 0u);
  }
  EXPECT_GT(sum, 0u);
  EXPECT_LE(sum, m.meminfo.value->fields.at("MemTotal"));
}

TEST(Numa, KernelWithoutNumaIsUnsupported) {
  auto tmp = core::TempDir::create("vmtune-test-");
  ASSERT_TRUE(tmp.ok());
  fs::create_directories(tmp->path() / "sys/devices/system");
  model::Sample s;
  read_numa(core::RootFs::under(tmp->path()), s);
  EXPECT_EQ(s.numa.state, model::SourceState::unsupported);
  ASSERT_EQ(s.unavailable.size(), 1u);
  EXPECT_EQ(s.unavailable[0].path, "/sys/devices/system/node");
  EXPECT_NE(s.unavailable[0].reason.find("CONFIG_NUMA"), std::string::npos);
}

TEST(Numa, DamagedNodeFilesAreReportedAndTheRestKept) {
  auto tmp = core::TempDir::create("vmtune-test-");
  ASSERT_TRUE(tmp.ok());
  const auto d = tmp->path() / "sys/devices/system/node";
  write_fixture(d / "online", "0-1\n");
  write_fixture(d / "node0/meminfo", "\x01\x02 garbage\n");                  // garbage
  write_fixture(d / "node0/numastat", "numa_hit 10\nnuma_miss 1\nlocal_n");  // truncated
  write_fixture(d / "node0/distance", "");                                   // empty
  write_fixture(d / "node0/cpulist", "0-1\n");
  // node1 is listed online but has no files at all
  model::Sample s;
  read_numa(core::RootFs::under(tmp->path()), s);
  ASSERT_TRUE(s.numa.ok());
  const auto& n = *s.numa.value;
  ASSERT_EQ(n.nodes.size(), 2u);
  EXPECT_TRUE(n.nodes[0].meminfo.empty());
  EXPECT_EQ(n.nodes[0].numastat.at("numa_hit"), 10u);
  EXPECT_EQ(n.nodes[0].numastat.at("numa_miss"), 1u);
  EXPECT_TRUE(n.nodes[0].distance.empty());
  EXPECT_EQ(n.nodes[0].cpulist, "0-1");
  std::vector<std::string> paths;
  for (const auto& u : s.unavailable) paths.push_back(u.path);
  EXPECT_EQ(paths, std::vector<std::string>({
                       "/sys/devices/system/node/node0/meminfo",   // no valid line
                       "/sys/devices/system/node/node0/meminfo",   // the garbage line
                       "/sys/devices/system/node/node0/numastat",  // the cut line
                       "/sys/devices/system/node/node0/distance",
                       "/sys/devices/system/node/node1",
                   }));
}

// Strict parsing: node meminfo fields carry the same units as /proc/meminfo.
TEST(NumaStrict, NodeMeminfoFieldWithoutItsUnitIsAbsent) {
  std::vector<core::Error> bad;
  auto m = parse_node_meminfo(
      "Node 0 MemTotal:  2468\n"
      "Node 0 MemFree:   abc kB\n"
      "Node 0 MemUsed:   99999999999999999999 kB\n"
      "Node 0 Active:    12 kB\n"
      "Node 0 HugePages_Total:     0\n",
      0, "/sys/devices/system/node/node0/meminfo", &bad);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(*m, (model::Counters{{"Active", 12u * 1024}, {"HugePages_Total", 0}}));
  const std::string at = "/sys/devices/system/node/node0/meminfo:";
  EXPECT_EQ(test::error_strings(bad),
            (std::vector<std::string>{
                at + "1: field \"MemTotal\": expected \"<n> kB\": the unit is missing",
                at + "2: field \"MemFree\": expected \"<n> kB\": not a number",
                at + "3: field \"MemUsed\": expected \"<n> kB\": out of range",
            }));
}

// Empty node files (a snapshot extracted onto a full disk) are errors, never zeros.
TEST(NumaStrict, EmptyFilesAreErrors) {
  auto tmp = core::TempDir::create("vmtune-test-");
  ASSERT_TRUE(tmp.ok());
  const auto d = tmp->path() / "sys/devices/system/node";
  write_fixture(d / "online", "");
  write_fixture(d / "node0/meminfo", "");
  write_fixture(d / "node0/numastat", "");
  write_fixture(d / "node0/distance", "");
  write_fixture(d / "node0/cpulist", "0\n");
  model::Sample s;
  read_numa(core::RootFs::under(tmp->path()), s);
  ASSERT_TRUE(s.numa.ok());
  ASSERT_EQ(s.numa.value->nodes.size(), 1u);  // found through the node0 directory
  EXPECT_TRUE(s.numa.value->nodes[0].meminfo.empty());
  EXPECT_TRUE(s.numa.value->nodes[0].numastat.empty());
  EXPECT_TRUE(s.numa.value->nodes[0].distance.empty());
  const std::string at = "numa|/sys/devices/system/node/";
  EXPECT_EQ(test::unavailable_strings(s), (std::vector<std::string>{
                                              at + "online|0||file is empty",
                                              at + "node0/meminfo|0||file is empty",
                                              at + "node0/numastat|0||file is empty",
                                              at + "node0/distance|0||file is empty",
                                          }));
}

}  // namespace
}  // namespace vmtune::collect
