// SPDX-License-Identifier: GPL-2.0-or-later
#include "app/verify_report.hpp"

#include <algorithm>
#include <cstdio>

#include "core/escape.hpp"

namespace vmtune::app {

std::set<std::string> symptoms_of(const rules::Engine& engine,
                                  const std::vector<apply::Write>& writes) {
  std::set<std::string> out;
  for (const auto& w : writes) {
    for (const auto& id : w.rules) {
      const auto& all = engine.rules();
      const auto it =
          std::find_if(all.begin(), all.end(), [&](const rules::Rule& r) { return r.id == id; });
      if (it == all.end()) {
        out.insert("memory_pressure");
      } else {
        out.insert(it->symptoms.begin(), it->symptoms.end());
      }
    }
    if (w.rules.empty()) out.insert("memory_pressure");
  }
  return out;
}

void print_measures(std::ostream& out, const verify::Meter& meter, double seconds) {
  out << "verify: measuring for " << verify::format_value(seconds)
      << " s before applying and as long after:\n";
  for (const auto& m : meter.measures()) {
    out << "  " << m.symptom << ": " << m.label << " (" << m.unit << ")"
        << (m.decides ? ", decides" : "") << "\n";
  }
  for (const auto& n : meter.notes()) out << "  note: " << core::escape_text(n) << "\n";
}

namespace {

std::string cell(double mean, double sd, std::size_t n) {
  if (n == 0) return "-";
  return verify::format_value(mean) + " ± " + verify::format_value(sd);
}

const char* change_word(verify::Change c) {
  switch (c) {
    case verify::Change::worse:
      return "worse";
    case verify::Change::better:
      return "better";
    case verify::Change::same:
      return "within noise";
    case verify::Change::unmeasured:
      break;
  }
  return "not measured";
}

/// Terminal columns of UTF-8 text ("±" is two bytes, one column).
std::size_t columns(const std::string& s) {
  std::size_t cols = 0;
  for (unsigned char ch : s) cols += (ch & 0xC0) != 0x80;
  return cols;
}

std::string pad(const std::string& s, std::size_t width) {
  const std::size_t cols = columns(s);
  return s + std::string(width > cols ? width - cols : 0, ' ');
}

}  // namespace

void print_verdict(std::ostream& out, const verify::Verdict& verdict, const verify::Phase& before,
                   const verify::Phase& after) {
  out << "verify: before " << verify::format_value(before.seconds) << " s, after "
      << verify::format_value(after.seconds)
      << " s (mean ± sd of 1 s readings; OOM kills: the count)\n";
  std::vector<std::vector<std::string>> table = {
      {"symptom", "measure", "unit", "before", "after", "margin", "result"}};
  for (const auto& r : verdict.rows) {
    std::string result = change_word(r.change);
    if (r.measure.decides) result += " (decides)";
    table.push_back({r.measure.symptom, r.measure.label, r.measure.unit,
                     r.measure.rare ? verify::format_value(verify::shown_before(r))
                                    : cell(r.before_mean, r.before_sd, r.before_n),
                     r.measure.rare ? verify::format_value(verify::shown_after(r))
                                    : cell(r.after_mean, r.after_sd, r.after_n),
                     r.change == verify::Change::unmeasured ? "-" : verify::format_value(r.margin),
                     result});
  }
  std::vector<std::size_t> width(table.front().size(), 0);
  for (const auto& row : table) {
    for (std::size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], columns(row[i]));
  }
  for (const auto& row : table) {
    std::string line = " ";
    for (std::size_t i = 0; i < row.size(); ++i) {
      line += " " + (i + 1 == row.size() ? row[i] : pad(row[i], width[i]));
    }
    out << line << "\n";
  }
}

}  // namespace vmtune::app
