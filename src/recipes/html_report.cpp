#include "recipes/html_report.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <set>

#include <fmt/format.h>

#include "analysis/labels.h"
#include "analysis/report.h"
#include "common/version.h"

namespace cohortdb::recipes {
namespace {

// Screen and print. The print rules start each step on a new page, repeat a
// table's header on each page it spans, and keep rows, captions and plots
// whole.
constexpr const char* kStyle = R"css(
:root { --ink: #1a1a1a; --muted: #5a5a5a; --rule: #c8c8c8; --band: #f4f5f7; --accent: #24507a; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--ink); background: #fff;
  font: 15px/1.45 "DejaVu Sans", "Liberation Sans", Arial, Helvetica, sans-serif; }
main { max-width: 1100px; margin: 0 auto; padding: 28px 32px 48px; }
h1 { font-size: 1.7em; margin: 0 0 6px; color: var(--accent); }
h2 { font-size: 1.3em; margin: 0 0 4px; color: var(--accent); }
h3 { font-size: 1.05em; margin: 18px 0 6px; }
p.description { margin: 4px 0 14px; max-width: 75ch; }
.meta { color: var(--muted); font-size: 0.9em; }
section.step { border-top: 2px solid var(--accent); margin-top: 34px; padding-top: 14px; }
.step-name { color: var(--muted); font-size: 0.85em; font-family: "DejaVu Sans Mono", "Liberation Mono", monospace; }
pre.command { background: var(--band); border: 1px solid var(--rule); border-radius: 4px; padding: 8px 10px;
  font: 12.5px/1.4 "DejaVu Sans Mono", "Liberation Mono", monospace; white-space: pre-wrap; overflow-wrap: anywhere;
  margin: 6px 0 12px; }
table { border-collapse: collapse; margin: 8px 0 16px; font-size: 0.92em; font-variant-numeric: tabular-nums; }
caption { caption-side: top; text-align: left; font-weight: bold; padding: 4px 0 6px; }
th, td { padding: 3px 10px; vertical-align: top; text-align: right; }
th.l, td.l { text-align: left; }
th { white-space: nowrap; }
thead th { border-top: 1.5px solid var(--ink); border-bottom: 1px solid var(--ink); font-weight: bold; }
tbody tr:last-child td { border-bottom: 1.5px solid var(--ink); }
tbody tr:nth-child(even) td { background: #fafbfc; }
table.provenance th { text-align: left; font-weight: normal; color: var(--muted); border: none; padding-left: 0; }
table.provenance td { text-align: left; border: none; background: none !important; }
table.provenance tbody tr:last-child td { border-bottom: none; }
.mono { font-family: "DejaVu Sans Mono", "Liberation Mono", monospace; font-size: 0.92em; word-break: break-all; }
ul.notes { margin: 4px 0 12px; padding-left: 20px; color: #333; font-size: 0.92em; }
ul.notes li { margin: 2px 0; }
figure.plot { margin: 12px 0; }
figure.plot svg { max-width: 100%; height: auto; display: block; }
figcaption { color: var(--muted); font-size: 0.85em; }
footer { margin-top: 40px; color: var(--muted); font-size: 0.85em; border-top: 1px solid var(--rule); padding-top: 8px; }
@page { size: A4; margin: 14mm 12mm; }
@media print {
  body { font-size: 10.5pt; }
  main { max-width: none; padding: 0; }
  section.step { break-before: page; border-top: none; margin-top: 0; }
  thead { display: table-header-group; }
  tr, caption, figure.plot, pre.command, ul.notes li { break-inside: avoid; }
  h2, h3, caption { break-after: avoid; }
  tbody tr:nth-child(even) td { background: none; }
}
)css";

// Appends one code point as UTF-8.
void AppendUtf8(std::string& out, char32_t c) {
  if (c < 0x80) {
    out += static_cast<char>(c);
  } else if (c < 0x800) {
    out += static_cast<char>(0xC0 | (c >> 6));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else if (c < 0x10000) {
    out += static_cast<char>(0xE0 | (c >> 12));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (c >> 18));
    out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  }
}

// A value of the summary or diagnostics for people (as the terminal footer
// prints them: numbers rounded, objects as "key value, ...").
std::string Readable(const nlohmann::ordered_json& v) {
  if (v.is_number_float()) {
    const double d = v.get<double>();
    if (!std::isfinite(d)) return analysis::FormatNumber(d, 4);
    if (std::floor(d) == d && std::fabs(d) < 1e15) return fmt::format("{}", static_cast<long long>(d));
    return std::fabs(d) >= 1e-3 ? analysis::FormatNumber(d, 4) : fmt::format("{:.3g}", d);
  }
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "yes" : "no";
  if (v.is_object()) {
    std::vector<std::string> parts;
    for (const auto& [k, item] : v.items()) parts.push_back(k + " " + Readable(item));
    return fmt::format("{}", fmt::join(parts, ", "));
  }
  if (v.is_array()) {
    std::vector<std::string> parts;
    for (const auto& item : v) parts.push_back(Readable(item));
    return fmt::format("{}", fmt::join(parts, ", "));
  }
  return v.dump();
}

std::string Cell(const SqlValue& v) {
  if (std::holds_alternative<std::monostate>(v)) return "";
  return FormatSqlValueShell(v);
}

// Whether a cell reads as a number ("12", "-0.48 (-0.71 to -0.26)", "<0.001",
// "2258", "1125 (49.8)"), so that its column is right-aligned.
bool Numeric(const std::string& text) {
  std::size_t i = 0;
  while (i < text.size() && (text[i] == '-' || text[i] == '<' || text[i] == '>' || text[i] == '.')) ++i;
  return i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]));
}

void HtmlTable(std::string& out, const analysis::ReportTable& t) {
  // A column is aligned right when every non-empty cell below the first
  // column reads as a number, left otherwise (text such as test names).
  std::vector<bool> right(t.table.columns.size(), false);
  for (std::size_t c = 1; c < right.size(); ++c) {
    bool any = false;
    bool all = true;
    for (const auto& row : t.table.rows) {
      const std::string text = c < row.size() ? Cell(row[c]) : std::string();
      if (text.empty() || text == "NA" || text == "suppressed") continue;
      any = true;
      all = all && Numeric(text);
    }
    right[c] = any && all;
  }
  auto open = [&](const char* tag, std::size_t c) {
    return std::string("<") + tag + (right[c] ? ">" : " class=\"l\">");
  };
  out += "<table>\n<caption>" + HtmlEscape(t.title) + "</caption>\n<thead><tr>";
  for (std::size_t c = 0; c < t.table.columns.size(); ++c) {
    out += open("th", c) + HtmlEscape(t.table.columns[c]) + "</th>";
  }
  out += "</tr></thead>\n<tbody>\n";
  for (const auto& row : t.table.rows) {
    out += "<tr>";
    for (std::size_t c = 0; c < row.size(); ++c) {
      out += open("td", std::min(c, right.size() - 1)) + HtmlEscape(Cell(row[c])) + "</td>";
    }
    out += "</tr>\n";
  }
  out += "</tbody>\n</table>\n";
}

// The notes under a step's tables: the footer lines of the terminal tables
// (analysis::SummaryFooter: rows used and excluded with the reasons,
// disclosure control, censored values, the model, notes and warnings, one
// line per stratum), then the diagnostics those lines do not say.
void Notes(std::string& out, const AnalysisResultSet& result, const analysis::ReportStyle& style) {
  std::vector<std::string> notes;  // already escaped HTML
  for (const std::string& line : analysis::SummaryFooter(result, style)) notes.push_back(HtmlEscape(line));
  if (!result.min_cell) {
    notes.push_back("disclosure control: none (no --min-cell)");
  } else if (result.diagnostics.contains("suppressed_cells")) {
    notes.push_back(HtmlEscape(fmt::format("cells suppressed: {}", Readable(result.diagnostics["suppressed_cells"]))));
  }
  static const std::set<std::string> kShown = {"excluded_because", "censored", "suppressed_cells", "rows_used",
                                               "rows_excluded"};
  for (const auto& [k, v] : result.diagnostics.items()) {
    const bool label = k.size() > 6 && k.compare(k.size() - 6, 6, "_label") == 0;  // outcome_label: in the titles
    if (kShown.count(k) || label || v.is_null() || (v.is_object() && v.empty()) || (v.is_array() && v.empty()))
      continue;
    notes.push_back(HtmlEscape(k + ": " + Readable(v)));
  }
  out += "<ul class=\"notes\">\n";
  for (const std::string& n : notes) out += "<li>" + n + "</li>\n";
  out += "</ul>\n";
}

// The plot's <svg> element without the XML prolog.
std::string InlineSvg(const std::string& svg) {
  const auto start = svg.find("<svg");
  return start == std::string::npos ? std::string() : svg.substr(start);
}

std::string RunIds(const std::vector<ReportStep>& steps) {
  if (steps.empty()) return "none";
  const std::int64_t first = steps.front().run.run_id;
  const std::int64_t last = steps.back().run.run_id;
  return first == last ? fmt::format("{}", first) : fmt::format("{}..{}", first, last);
}

}  // namespace

std::string HtmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      switch (c) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '"': out += "&quot;"; break;
        case '\'': out += "&#39;"; break;
        default:
          // Control characters other than tab and newline are not text.
          if (c < 0x20 && c != '\t' && c != '\n') {
            AppendUtf8(out, 0xFFFD);
          } else {
            out += static_cast<char>(c);
          }
      }
      ++i;
      continue;
    }
    // A well-formed UTF-8 sequence is copied; anything else is U+FFFD.
    const std::size_t length = c >= 0xF0 && c <= 0xF4 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 && c < 0xE0 ? 2 : 0;
    bool valid = length > 0 && i + length <= text.size();
    char32_t code = 0;
    if (valid) {
      code = c & (length == 2 ? 0x1F : length == 3 ? 0x0F : 0x07);
      for (std::size_t k = 1; k < length && valid; ++k) {
        const auto next = static_cast<unsigned char>(text[i + k]);
        valid = (next & 0xC0) == 0x80;
        code = (code << 6) | (next & 0x3F);
      }
      const char32_t min = length == 2 ? 0x80 : length == 3 ? 0x800 : 0x10000;
      valid = valid && code >= min && code <= 0x10FFFF && !(code >= 0xD800 && code <= 0xDFFF);
    }
    if (valid) {
      out.append(text.substr(i, length));
      i += length;
    } else {
      AppendUtf8(out, 0xFFFD);
      ++i;
    }
  }
  return out;
}

std::string ShellWord(std::string_view word) {
  static constexpr std::string_view kPlain =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./=:,@%+-";
  if (!word.empty() && word.find_first_not_of(kPlain) == std::string_view::npos) return std::string(word);
  std::string quoted = "'";
  for (char c : word) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

std::string StepCommandLine(const std::string& store, const std::string& command, const std::string& step,
                            const nlohmann::ordered_json& parameters) {
  std::string line = "cohortdb " + ShellWord(command) + " " + ShellWord(store);
  auto text = [](const nlohmann::ordered_json& v) {
    if (v.is_string()) return v.get<std::string>();
    if (v.is_number_integer()) return fmt::format("{}", v.get<std::int64_t>());
    if (v.is_number()) return FormatReal(v.get<double>());
    return v.dump();
  };
  for (const auto& [name, value] : parameters.items()) {
    if (value.is_null()) continue;
    if (name == "plot") {
      if (value == true) line += " --plot " + ShellWord(step + ".svg");
      continue;
    }
    if (value.is_boolean()) {
      if (value == true) line += " --" + name;
      continue;
    }
    if (value.is_array()) {
      if (value.empty()) continue;
      bool repeat = name == "derive" || name == "cut" || name == "ref";
      for (const auto& item : value) repeat = repeat || text(item).find(',') != std::string::npos;
      if (repeat) {
        for (const auto& item : value) line += " --" + name + " " + ShellWord(text(item));
      } else {
        std::string joined;
        for (const auto& item : value) joined += (joined.empty() ? "" : ",") + text(item);
        line += " --" + name + " " + ShellWord(joined);
      }
      continue;
    }
    line += " --" + name + " " + ShellWord(text(value));
  }
  return line;
}

namespace {

// "12..14" for a recipe run (consecutive ids), "12, 17" for runs given one
// by one.
std::string RunList(const RunReport& report) {
  if (report.recipe) return RunIds(report.steps);
  if (report.steps.empty()) return "none";
  std::string ids;
  for (const ReportStep& s : report.steps) ids += fmt::format("{}{}", ids.empty() ? "" : ", ", s.run.run_id);
  return ids;
}

std::string ReportTitle(const RunReport& report) {
  if (!report.title.empty()) return report.title;
  if (report.recipe) return report.recipe->name;
  return "cohortdb runs " + RunList(report);
}

// A row of a provenance table; "value_html" is escaped already.
void ProvenanceRow(std::string& out, const std::string& key, const std::string& value_html) {
  out += "<tr><th>" + HtmlEscape(key) + "</th><td>" + value_html + "</td></tr>\n";
}

std::string Mono(const std::string& text) { return "<span class=\"mono\">" + HtmlEscape(text) + "</span>"; }

// The data fingerprints of the steps, each once; "note" follows when they differ.
std::string Fingerprints(const std::vector<ReportStep>& steps, const char* note) {
  std::set<std::string> fingerprints;
  for (const ReportStep& s : steps) fingerprints.insert(s.run.data_fingerprint);
  std::string text;
  for (const std::string& f : fingerprints) text += (text.empty() ? "" : ", ") + f;
  if (fingerprints.size() > 1) text += note;
  return text;
}

// The title, description, provenance and contents of a recipe run.
void RecipeHeader(std::string& out, const RunReport& report, const StoredRecipe& recipe,
                  const std::string& title) {
  out += "<header>\n<h1>" + HtmlEscape(title) + "</h1>\n";
  out += fmt::format(
      "<p class=\"meta\">recipe {} version {} &middot; {} steps &middot; runs {} &middot; {}</p>\n",
      HtmlEscape(recipe.name), recipe.version, report.steps.size(), RunIds(report.steps),
      HtmlEscape(report.generated_at));
  if (!report.description.empty()) {
    out += "<p class=\"description\">" + HtmlEscape(report.description) + "</p>\n";
  }
  out += "<h3>Provenance</h3>\n<table class=\"provenance\">\n<tbody>\n";
  ProvenanceRow(out, "store", Mono(report.store));
  ProvenanceRow(out, "data fingerprint (SHA-256)",
                Mono(Fingerprints(report.steps, " (the data changed during the run)")));
  if (!report.steps.empty() && report.steps.back().run.data_edit_id) {
    ProvenanceRow(out, "newest data edit",
                  HtmlEscape(fmt::format("{}", *report.steps.back().run.data_edit_id)));
  }
  ProvenanceRow(
      out, "recipe",
      HtmlEscape(fmt::format("{} version {} (stored {})", recipe.name, recipe.version, recipe.created_at)));
  ProvenanceRow(out, "recipe SHA-256", Mono(recipe.sha256));
  std::string tool = kVersion;
  if (!report.steps.empty() && report.steps.front().run.tool_version != tool) {
    tool += " (runs recorded by " + report.steps.front().run.tool_version + ")";
  }
  ProvenanceRow(out, "cohortdb version", HtmlEscape(tool));
  ProvenanceRow(
      out, "analysis runs",
      HtmlEscape(RunIds(report.steps)) + HtmlEscape(fmt::format(" (cohortdb results {} RUN)", report.store)));
  if (!report.steps.empty()) {
    ProvenanceRow(out, "started", HtmlEscape(report.steps.front().run.started_at));
  }
  ProvenanceRow(out, "report written", HtmlEscape(report.generated_at));
  ProvenanceRow(out, "reproduce the run",
                Mono(fmt::format("cohortdb recipe run {} {} --version {}", ShellWord(report.store),
                                 ShellWord(recipe.name), recipe.version)));
  out += "</tbody>\n</table>\n";

  // Contents with rows used per step.
  out += "<h3>Steps</h3>\n<table>\n<thead><tr><th class=\"l\">Step</th><th class=\"l\">Analysis</th><th>Run</th>"
         "<th>Rows used</th><th>Rows excluded</th><th>--min-cell</th></tr></thead>\n<tbody>\n";
  for (const ReportStep& s : report.steps) {
    out += fmt::format(
        "<tr><td class=\"l\"><a href=\"#step-{0}\">{1}</a></td><td class=\"l\">{2}</td><td>{3}</td><td>{4}</td><td>{5}</td><td>{6}</td></tr>\n",
        HtmlEscape(s.step.name), HtmlEscape(s.step.title.empty() ? s.step.name : s.step.title),
        HtmlEscape(s.result.command), s.run.run_id, s.result.rows_used, s.result.rows_excluded,
        s.result.min_cell ? fmt::format("{}", *s.result.min_cell) : std::string("none"));
  }
  out += "</tbody>\n</table>\n</header>\n";
}

// Where a run came from: "recipe trial version 1, step pain_regression", or
// "the command line".
std::string Origin(const AnalysisRunInfo& run) {
  if (run.recipe_name.empty()) return "the command line";
  return fmt::format("recipe {} version {}, step {}", run.recipe_name, run.recipe_version.value_or(0),
                     run.recipe_step);
}

// The title, provenance and contents of runs of any kind.
void RunsHeader(std::string& out, const RunReport& report, const std::string& title) {
  out += "<header>\n<h1>" + HtmlEscape(title) + "</h1>\n";
  out += fmt::format("<p class=\"meta\">{} {} &middot; {} {} &middot; {}</p>\n", report.steps.size(),
                     report.steps.size() == 1 ? "run" : "runs", report.steps.size() == 1 ? "run" : "runs",
                     HtmlEscape(RunList(report)), HtmlEscape(report.generated_at));
  if (!report.description.empty()) {
    out += "<p class=\"description\">" + HtmlEscape(report.description) + "</p>\n";
  }
  out += "<h3>Provenance</h3>\n<table class=\"provenance\">\n<tbody>\n";
  ProvenanceRow(out, "store", Mono(report.store));
  ProvenanceRow(
      out, "data fingerprint (SHA-256)",
      Mono(Fingerprints(report.steps, " (the runs read different data; each run gives its own below)")));
  std::set<std::string> recorded_by;
  for (const ReportStep& s : report.steps) {
    if (s.run.tool_version != kVersion) recorded_by.insert(s.run.tool_version);
  }
  std::string tool = kVersion;
  if (!recorded_by.empty()) tool += fmt::format(" (runs recorded by {})", fmt::join(recorded_by, ", "));
  ProvenanceRow(out, "cohortdb version", HtmlEscape(tool));
  ProvenanceRow(
      out, "analysis runs",
      HtmlEscape(RunList(report)) + HtmlEscape(fmt::format(" (cohortdb results {} RUN)", report.store)));
  ProvenanceRow(out, "report written", HtmlEscape(report.generated_at));
  out += "</tbody>\n</table>\n";

  out +=
      "<h3>Runs</h3>\n<table>\n<thead><tr><th>Run</th><th class=\"l\">Analysis</th><th class=\"l\">From</th>"
      "<th>Rows used</th><th>Rows excluded</th><th>--min-cell</th></tr></thead>\n<tbody>\n";
  for (const ReportStep& s : report.steps) {
    out += fmt::format(
        "<tr><td><a href=\"#run-{0}\">{0}</a></td><td class=\"l\">{1}</td><td "
        "class=\"l\">{2}</td><td>{3}</td><td>{4}</td><td>{5}</td></tr>\n",
        s.run.run_id, HtmlEscape(s.result.command), HtmlEscape(Origin(s.run)), s.result.rows_used,
        s.result.rows_excluded,
        s.result.min_cell ? fmt::format("{}", *s.result.min_cell) : std::string("none"));
  }
  out += "</tbody>\n</table>\n</header>\n";
}

// One step (recipe) or run: heading, command line, tables, notes, plot.
void Section(std::string& out, const RunReport& report, const ReportStep& s, std::size_t index) {
  const bool recipe = report.recipe.has_value();
  // A run is named by its id (run-12), so that two runs of one recipe step
  // can share a report; its plot file too.
  const std::string name = recipe ? s.step.name : fmt::format("run-{}", s.run.run_id);
  const std::string heading = !s.step.title.empty() ? s.step.title : recipe ? s.step.name : s.result.command;
  out += fmt::format("<section class=\"step\" id=\"{}{}\">\n", recipe ? "step-" : "", HtmlEscape(name));
  out += fmt::format("<h2>{}. {}</h2>\n", index, HtmlEscape(heading));
  if (recipe) {
    out += fmt::format(
        "<p class=\"meta\"><span class=\"step-name\">{}</span> &middot; {} &middot; run {} &middot; {} &middot; "
        "{:.0f} ms</p>\n",
        HtmlEscape(s.step.name), HtmlEscape(s.result.command), s.run.run_id, HtmlEscape(s.run.started_at),
        s.run.elapsed_ms);
  } else {
    out += fmt::format("<p class=\"meta\">{} &middot; run {} &middot; {} &middot; {:.0f} ms</p>\n",
                       HtmlEscape(s.result.command), s.run.run_id, HtmlEscape(s.run.started_at),
                       s.run.elapsed_ms);
    out += "<table class=\"provenance\">\n<tbody>\n";
    ProvenanceRow(out, "data fingerprint (SHA-256)", Mono(s.run.data_fingerprint));
    if (s.run.data_edit_id)
      ProvenanceRow(out, "newest data edit", HtmlEscape(fmt::format("{}", *s.run.data_edit_id)));
    ProvenanceRow(out, "recorded by", HtmlEscape("cohortdb " + s.run.tool_version));
    ProvenanceRow(out, "from", HtmlEscape(Origin(s.run)));
    out += "</tbody>\n</table>\n";
  }
  out += "<pre class=\"command\">" +
         HtmlEscape(StepCommandLine(report.store, s.result.command, name, s.result.parameters)) + "</pre>\n";
  analysis::ReportStyle style;
  style.codes = report.codes;
  for (const analysis::ReportTable& t : analysis::PaperTables(s.result, style)) HtmlTable(out, t);
  Notes(out, s.result, style);
  const std::string svg = InlineSvg(analysis::PlotSvg(s.result, report.codes));
  const std::string what = recipe ? "step " + name : fmt::format("run {}", s.run.run_id);
  if (!svg.empty()) {
    out += "<figure class=\"plot\">\n" + svg;
    if (svg.back() != '\n') out += '\n';
    out += "<figcaption>Forest plot of " + HtmlEscape(what) + " (also written by --plot " + HtmlEscape(name) +
           ".svg)</figcaption>\n</figure>\n";
  } else if (!s.plot_missing.empty()) {
    out += "<p class=\"meta\">The forest plot of " + HtmlEscape(what) +
           " cannot be drawn from its recorded rows: " + HtmlEscape(s.plot_missing) + "</p>\n";
  }
  out += "</section>\n";
}

}  // namespace

std::string RunReportHtml(const RunReport& report) {
  const std::string title = ReportTitle(report);
  std::string out;
  out += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  out += "<meta name=\"generator\" content=\"cohortdb " + HtmlEscape(kVersion) + "\">\n";
  out += "<title>" + HtmlEscape(title) + "</title>\n<style>" + kStyle + "</style>\n</head>\n<body>\n<main>\n";
  if (report.recipe) {
    RecipeHeader(out, report, *report.recipe, title);
  } else {
    RunsHeader(out, report, title);
  }
  std::size_t index = 0;
  for (const ReportStep& s : report.steps) Section(out, report, s, ++index);
  out += fmt::format("<footer>Written by cohortdb {} from {} at {}. Self-contained: nothing in this file is "
                     "fetched from a network.</footer>\n",
                     HtmlEscape(kVersion), HtmlEscape(report.store), HtmlEscape(report.generated_at));
  out += "</main>\n</body>\n</html>\n";
  return out;
}

}  // namespace cohortdb::recipes
