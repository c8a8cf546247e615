// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// The rule catalogue (rules/*.toml of this checkout), loaded once per test executable.

#include <gtest/gtest.h>

#include <filesystem>

#include "rules/engine.hpp"

namespace vmtune::test {

inline const rules::Engine& catalogue() {
  static const rules::Engine engine = [] {
    auto e =
        rules::Engine::load({rules::RuleDir{std::filesystem::path(VMTUNE_SOURCE_DIR) / "rules"}});
    if (!e.ok()) ADD_FAILURE() << e.error().to_string();
    return e.ok() ? std::move(*e) : rules::Engine();
  }();
  return engine;
}

}  // namespace vmtune::test
