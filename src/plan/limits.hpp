// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// What the kernel accepts for each key vmtune may propose (issue 10: "every value is within what
// the kernel accepts"), read from the kernel's own proc handlers: the extra1/extra2 bounds of
// proc_dointvec_minmax and friends, the checks inside custom handlers, and the C type's range
// where a handler has no bound. A key whose bound changed between kernel versions has one row
// per version range. Pure data and pure functions: nothing here reads /proc or /sys. Whether a
// key exists under the target's /proc/sys is the caller's question (a key the running kernel
// lacks is not an out-of-range value).
//
// Kernel command-line parameters (transparent_hugepage=, hugepagesz=, ...) are not sysctls: they
// have a table of their own and is_boot_only() names them.

#include <compare>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace vmtune::plan {

/// A kernel release reduced to what the limits depend on: major.minor ("6.18.44-fc" -> 6.18).
struct KernelVersion {
  int major = 0;
  int minor = 0;
  friend constexpr auto operator<=>(const KernelVersion&, const KernelVersion&) = default;
};

/// "6.18.44-fc-v669" -> {6, 18}; "5.8" -> {5, 8}; nullopt without a leading "N.M".
std::optional<KernelVersion> parse_kernel_release(std::string_view release) noexcept;

/// One key's accepted range on the kernels [since, until). Every key in the table takes a single
/// integer written in decimal; min and max are inclusive and exact (int64 / uint64 rather than
/// long double: ULONG_MAX must compare exactly on every architecture).
struct KeyLimit {
  std::string_view key;   ///< sysctl name as sysctl(8) spells it: "vm.swappiness"
  KernelVersion since{};  ///< first version the row applies to; {0, 0} = every older kernel too
  KernelVersion until{};  ///< first version it no longer applies to; {0, 0} = still current
  std::int64_t min = 0;
  std::uint64_t max = 0;
  /// True when the handler states the lower / upper bound (extra1 / extra2 or a check of its
  /// own); false when it states none and the bound is the C type's ("no bound": the kernel still
  /// refuses a value outside int or unsigned long with EINVAL).
  bool min_stated = true;
  bool max_stated = true;
  /// True when [min, max] is what every kernel of the row's range accepts but some take more
  /// (the limit depends on HZ, a boot parameter or a stable backport): a value just outside may
  /// still be accepted, so a refusal there is not guaranteed. Page-size dependent limits assume
  /// 4 KiB pages (x86-64) and are not marked.
  bool conservative = false;
  const char* unit = "";       ///< "%", "pages", "kB", "bytes", "centisecs", "log2 pages", ...
  const char* file = "";       ///< where the handler lives now: "mm/vmscan.c"
  const char* reference = "";  ///< handler and bounds, older locations, commits
  const char* note = "";       ///< documented values, side effects, errno other than EINVAL
};

/// The row for `key` on `kernel`, or nullptr when vmtune has no limits for that key.
const KeyLimit* find_limit(std::string_view key, const KernelVersion& kernel) noexcept;

/// Every row, for tests and documentation (`vmtune sysctl --explain`).
std::span<const KeyLimit> all_limits() noexcept;

/// nullopt when the kernel `kernel_major.kernel_minor` accepts `value` for `key`; otherwise a
/// message naming key, value and accepted range, e.g.
///   vm.swappiness = 250: the kernel accepts 0 to 200 (mm/vmscan.c, 5.8+)
/// Text that is not a decimal integer (or has a leading zero, which the kernel reads as octal)
/// is an error for every key in the table. A key not in the table gives nullopt: the caller
/// checks separately that it exists under /proc/sys. The value is escaped (core::escape_text)
/// in the message.
std::optional<std::string> check_value(std::string_view key, std::string_view value,
                                       int kernel_major, int kernel_minor);

/// A kernel command-line parameter that vmtune may propose instead of a sysctl.
struct BootParam {
  std::string_view name;  ///< without "=": "transparent_hugepage"
  const char* accepted;   ///< human description: "always | madvise | never"
  const char* file;       ///< where it is parsed: "mm/huge_memory.c"
  const char* reference;  ///< parser function and documentation
};

/// Every boot-only parameter vmtune knows.
std::span<const BootParam> boot_params() noexcept;

/// The parameter named `name` ("hugepagesz" or "hugepagesz="), or nullptr.
const BootParam* find_boot_param(std::string_view name) noexcept;

/// True when `key` is a kernel command-line parameter in boot_params() rather than a sysctl
/// ("transparent_hugepage", "hugepages=", ...).
bool is_boot_only(std::string_view key) noexcept;

/// nullopt when the kernel's parser accepts `value` for the boot parameter `name` (on x86-64 for
/// the huge page sizes); a message otherwise. Unknown names give nullopt, like check_value.
std::optional<std::string> check_boot_value(std::string_view name, std::string_view value);

}  // namespace vmtune::plan
