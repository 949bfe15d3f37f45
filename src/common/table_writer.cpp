#include "common/table_writer.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include <nlohmann/json.hpp>

namespace cohortdb {
namespace {

// Display width: UTF-8 code points (continuation bytes do not count).
std::size_t Width(std::string_view text) {
  std::size_t width = 0;
  for (unsigned char c : text) width += (c & 0xC0) != 0x80;
  return width;
}

bool IsNumeric(const SqlValue& v) {
  return std::holds_alternative<std::int64_t>(v) || std::holds_alternative<double>(v);
}

std::string Pad(const std::string& text, std::size_t width, bool right) {
  const std::string fill(width - std::min(width, Width(text)), ' ');
  return right ? fill + text : text + fill;
}

struct Grid {
  const char* top_left; const char* top_mid; const char* top_right;
  const char* mid_left; const char* mid_mid; const char* mid_right;
  const char* bottom_left; const char* bottom_mid; const char* bottom_right;
  const char* horizontal; const char* vertical;
};

constexpr Grid kAscii = {"+", "+", "+", "+", "+", "+", "+", "+", "+", "-", "|"};
constexpr Grid kBox = {"┌", "┬", "┐", "├", "┼", "┤", "└", "┴", "┘", "─", "│"};

void WriteGrid(std::ostream& out, const QueryResult& table, const Grid& g) {
  const std::size_t n = table.columns.size();
  std::vector<std::vector<std::string>> cells;
  std::vector<std::size_t> width(n);
  for (std::size_t c = 0; c < n; ++c) width[c] = Width(table.columns[c]);
  for (const auto& row : table.rows) {
    auto& texts = cells.emplace_back();
    for (std::size_t c = 0; c < n; ++c) {
      texts.push_back(FormatSqlValueShell(row[c]));
      width[c] = std::max(width[c], Width(texts.back()));
    }
  }
  auto rule = [&](const char* left, const char* mid, const char* right) {
    out << left;
    for (std::size_t c = 0; c < n; ++c) {
      for (std::size_t i = 0; i < width[c] + 2; ++i) out << g.horizontal;
      out << (c + 1 < n ? mid : right);
    }
    out << '\n';
  };
  rule(g.top_left, g.top_mid, g.top_right);
  out << g.vertical;
  for (std::size_t c = 0; c < n; ++c) out << ' ' << Pad(table.columns[c], width[c], false) << ' ' << g.vertical;
  out << '\n';
  rule(g.mid_left, g.mid_mid, g.mid_right);
  for (std::size_t r = 0; r < cells.size(); ++r) {
    out << g.vertical;
    for (std::size_t c = 0; c < n; ++c) {
      out << ' ' << Pad(cells[r][c], width[c], IsNumeric(table.rows[r][c])) << ' ' << g.vertical;
    }
    out << '\n';
  }
  rule(g.bottom_left, g.bottom_mid, g.bottom_right);
}

nlohmann::ordered_json RowJson(const std::vector<std::string>& columns, const std::vector<SqlValue>& row) {
  nlohmann::ordered_json object = nlohmann::ordered_json::object();
  for (std::size_t c = 0; c < columns.size(); ++c) {
    std::visit(
        [&](const auto& v) {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, std::monostate>) {
            object[columns[c]] = nullptr;
          } else if constexpr (std::is_same_v<T, double>) {
            // JSON has no Inf or NaN; a string keeps them apart from NULL.
            if (std::isfinite(v)) {
              object[columns[c]] = v;
            } else {
              object[columns[c]] = std::isnan(v) ? "NaN" : (v > 0 ? "Inf" : "-Inf");
            }
          } else {
            object[columns[c]] = v;
          }
        },
        row[c]);
  }
  return object;
}

class CsvWriter : public RowWriter {
 public:
  explicit CsvWriter(std::ostream& out) : out_(out) {}
  void Begin(const std::vector<std::string>& columns) override {
    for (std::size_t c = 0; c < columns.size(); ++c) out_ << (c ? "," : "") << CsvField(columns[c]);
    out_ << "\r\n";
  }
  void Row(const std::vector<SqlValue>& row) override {
    for (std::size_t c = 0; c < row.size(); ++c) {
      if (c) out_ << ',';
      if (!std::holds_alternative<std::monostate>(row[c])) out_ << CsvField(FormatSqlValue(row[c]));
    }
    out_ << "\r\n";
  }
  void End() override {}

 private:
  std::ostream& out_;
};

// The array nlohmann's dump(1) prints, one element at a time.
class JsonWriter : public RowWriter {
 public:
  explicit JsonWriter(std::ostream& out) : out_(out) {}
  void Begin(const std::vector<std::string>& columns) override {
    columns_ = columns;
    rows_ = 0;
    out_ << '[';
  }
  void Row(const std::vector<SqlValue>& row) override {
    const std::string text =
        RowJson(columns_, row).dump(1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
    out_ << (rows_++ ? ",\n " : "\n ");
    for (char c : text) {
      out_ << c;
      if (c == '\n') out_ << ' ';
    }
  }
  void End() override { out_ << (rows_ ? "\n]\n" : "]\n"); }

 private:
  std::ostream& out_;
  std::vector<std::string> columns_;
  std::size_t rows_ = 0;
};

class ListWriter : public RowWriter {
 public:
  explicit ListWriter(std::ostream& out) : out_(out) {}
  void Begin(const std::vector<std::string>&) override {}
  void Row(const std::vector<SqlValue>& row) override {
    for (std::size_t c = 0; c < row.size(); ++c) {
      if (c) out_ << '|';
      if (!std::holds_alternative<std::monostate>(row[c])) out_ << FormatSqlValueShell(row[c]);
    }
    out_ << '\n';
  }
  void End() override {}

 private:
  std::ostream& out_;
};

void WriteRows(std::ostream& out, const QueryResult& table, OutputFormat format) {
  const auto writer = MakeRowWriter(out, format);
  writer->Begin(table.columns);
  for (const auto& row : table.rows) writer->Row(row);
  writer->End();
}

std::string MarkdownCell(const std::string& text) {
  std::string escaped;
  for (char ch : text) {
    if (ch == '|') escaped += '\\';
    escaped += (ch == '\n' || ch == '\r') ? ' ' : ch;
  }
  return escaped;
}

void WriteMarkdown(std::ostream& out, const QueryResult& table) {
  const std::size_t n = table.columns.size();
  std::vector<bool> numeric(n, !table.rows.empty());
  for (const auto& row : table.rows) {
    for (std::size_t c = 0; c < n; ++c) {
      if (!IsNumeric(row[c]) && !std::holds_alternative<std::monostate>(row[c])) numeric[c] = false;
    }
  }
  out << '|';
  for (const auto& name : table.columns) out << ' ' << MarkdownCell(name) << " |";
  out << "\n|";
  for (std::size_t c = 0; c < n; ++c) out << (numeric[c] ? " ---: |" : " --- |");
  out << '\n';
  for (const auto& row : table.rows) {
    out << '|';
    for (const auto& v : row) out << ' ' << MarkdownCell(FormatSqlValueShell(v)) << " |";
    out << '\n';
  }
}

}  // namespace

nlohmann::ordered_json TableJson(const QueryResult& table) {
  nlohmann::ordered_json rows = nlohmann::ordered_json::array();
  for (const auto& row : table.rows) rows.push_back(RowJson(table.columns, row));
  return rows;
}

std::unique_ptr<RowWriter> MakeRowWriter(std::ostream& out, OutputFormat format) {
  switch (format) {
    case OutputFormat::kCsv: return std::make_unique<CsvWriter>(out);
    case OutputFormat::kJson: return std::make_unique<JsonWriter>(out);
    case OutputFormat::kList: return std::make_unique<ListWriter>(out);
    default: return nullptr;
  }
}

std::optional<OutputFormat> ParseOutputFormat(std::string_view name) {
  if (name == "table") return OutputFormat::kTable;
  if (name == "box") return OutputFormat::kBox;
  if (name == "csv") return OutputFormat::kCsv;
  if (name == "json") return OutputFormat::kJson;
  if (name == "list") return OutputFormat::kList;
  if (name == "markdown") return OutputFormat::kMarkdown;
  return std::nullopt;
}

const char* OutputFormatNames() { return "table|box|csv|json|markdown"; }

std::string CsvField(std::string_view text) {
  if (text.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(text);
  std::string quoted = "\"";
  for (char c : text) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  return quoted + '"';
}

void WriteTable(std::ostream& out, const QueryResult& table, OutputFormat format) {
  switch (format) {
    case OutputFormat::kTable: return WriteGrid(out, table, kAscii);
    case OutputFormat::kBox: return WriteGrid(out, table, kBox);
    case OutputFormat::kCsv: return WriteRows(out, table, format);
    case OutputFormat::kJson: return WriteRows(out, table, format);
    case OutputFormat::kMarkdown: return WriteMarkdown(out, table);
    case OutputFormat::kList: return WriteRows(out, table, format);
  }
}

}  // namespace cohortdb
