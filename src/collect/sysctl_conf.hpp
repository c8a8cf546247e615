// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// sysctl.d files, read the way systemd-sysctl(8) applies them (sysctl.d(5)):
//   /etc/sysctl.d, /run/sysctl.d, /usr/local/lib/sysctl.d, /usr/lib/sysctl.d, /lib/sysctl.d
// (*.conf only; a file name in an earlier directory masks the same name in later ones), all
// files sorted by file name across directories, then /etc/sysctl.conf last, as
// `sysctl --system` does. Later assignments win. Every assignment is kept with file and line,
// so the audit can say where today's value comes from and which files disagree.
//
// The same section records whether sysctls can be changed from here: /proc/sys mounted
// read-only (from /proc/self/mountinfo, never by probing a write) and the container manager
// that systemd or podman name in /run.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "core/root_fs.hpp"
#include "model/sample.hpp"

namespace vmtune::collect {

/// "net/ipv4/ip_forward" -> "net.ipv4.ip_forward"; "vm.swappiness" unchanged. As systemd's
/// sysctl_normalize(), but to the dotted form: when the first separator is '/', every '/'
/// and '.' swap ("net/ipv4/conf/eth0.100/rp_filter" -> "net.ipv4.conf.eth0/100.rp_filter").
/// Leading separators and repeated dots are dropped.
std::string normalize_sysctl_key(std::string_view key);

/// Pure parser of one file. Comments start with '#' or ';' (after leading blanks); a line is
/// "[-]key = value". Lines that are not assignments go to `bad` (file, line) and are skipped;
/// "!glob" exclusion lines are accepted and skipped. An assignment to a knob that takes
/// numbers (collect::sysctl_is_numeric) whose value is not integers ("abc", empty) goes to
/// `bad` (file, line, key) and is skipped: the kernel refuses it, so it sets nothing.
std::vector<model::SysctlAssignment> parse_sysctl_conf(std::string_view text,
                                                       const std::string& logical_path,
                                                       std::vector<core::Error>* bad);

/// One sysctl.d directory as listed: logical path and entry names.
struct SysctlDirListing {
  std::string dir;                 ///< "/etc/sysctl.d"
  std::vector<std::string> names;  ///< directory entries (any order)
};

struct SysctlFileOrder {
  std::vector<std::string> files;  ///< logical paths in apply order
  /// (masked file, the file that masks it), both logical paths
  std::vector<std::pair<std::string, std::string>> masked;
};

/// Pure: apply order of the *.conf files of `dirs` (given in priority order, highest first).
SysctlFileOrder order_sysctl_files(const std::vector<SysctlDirListing>& dirs);

/// Pure: whether the mount that covers `mount_point` (the longest matching mount point, the
/// last such line when stacked) is read-only, from /proc/self/mountinfo text. nullopt when no
/// line covers it.
std::optional<bool> mount_is_read_only(std::string_view mountinfo, std::string_view mount_point);

/// Reads every sysctl.d file through `fs` into sample.sysctl_conf. Missing directories are
/// normal (not an error); unreadable files and bad lines are recorded in sample.unavailable.
void read_sysctl_conf(const core::RootFs& fs, model::Sample& sample);

}  // namespace vmtune::collect
