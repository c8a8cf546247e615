// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// Exit codes, documented in man/vmtune.8 and README.md. Scripts depend on them: never renumber.

namespace vmtune::app {

inline constexpr int kExitOk = 0;           ///< success; audit: nothing at warning or above
inline constexpr int kExitWarning = 1;      ///< audit: at least one warning finding
inline constexpr int kExitCritical = 2;     ///< audit: at least one critical finding
inline constexpr int kExitUsage = 3;        ///< bad command line
inline constexpr int kExitInput = 4;        ///< unreadable --root/snapshot, bad rule or config file
inline constexpr int kExitRuntime = 5;      ///< could not write output, or another runtime failure
inline constexpr int kExitUnavailable = 6;  ///< trace: no requested probe could be attached
inline constexpr int kExitRolledBack = 7;   ///< apply --verify: a symptom got worse; rolled back
inline constexpr int kExitInterrupted = 130;  ///< stopped by SIGINT before finishing

}  // namespace vmtune::app
