#pragma once
// CsvReader: a streaming RFC 4180 reader over libcsv. Reads a file in fixed
// chunks, so memory stays flat however large the file is. Handles quoted
// fields with delimiters, doubled quotes and line breaks, a UTF-8 byte order
// mark, CRLF or LF line ends and any one-byte delimiter (',' ';' '\t').
// Field bytes are returned exactly as delivered (no space trimming). Blank
// lines are skipped. Each record knows the physical line it starts on.
//
// Structural errors that make the rest of the file unreadable (an
// unterminated quoted field, text after a closing quote, a UTF-16 file) throw
// InputError "FILE:LINE: ...". Invalid UTF-8 inside a field is reported on the
// record (CsvRecord::problem) so callers can reject just that row.
// Not thread-safe; one reader per file.

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace cohortdb {

// One record: its fields as views into an internal buffer valid until the
// next call to CsvReader::Next.
class CsvRecord {
 public:
  std::size_t size() const { return ends_.size(); }
  std::string_view operator[](std::size_t i) const {
    std::size_t begin = i == 0 ? 0 : ends_[i - 1];
    return std::string_view(data_).substr(begin, ends_[i] - begin);
  }
  std::int64_t line() const { return line_; }
  // Empty, or a description of a problem in one field (1-based problem_column).
  const std::string& problem() const { return problem_; }
  std::size_t problem_column() const { return problem_column_; }

 private:
  friend class CsvReader;
  void Clear() {
    data_.clear();
    ends_.clear();
    problem_.clear();
    problem_column_ = 0;
  }
  std::string data_;
  std::vector<std::size_t> ends_;
  std::int64_t line_ = 0;
  std::string problem_;
  std::size_t problem_column_ = 0;
};

class CsvReader {
 public:
  // Opens "path"; "display_name" is used in messages. Throws InputError if
  // the file cannot be opened.
  // "chunk_size" (bytes read at a time, at least 4) is for tests of records
  // and line ends that span reads.
  static constexpr std::size_t kDefaultChunkSize = std::size_t{1} << 20;
  CsvReader(const std::string& path, char delimiter, std::string display_name = {},
            std::size_t chunk_size = kDefaultChunkSize);
  ~CsvReader();
  CsvReader(const CsvReader&) = delete;
  CsvReader& operator=(const CsvReader&) = delete;

  // Reads the next record; returns nullptr at the end of the file. The
  // pointer stays valid until the next call.
  const CsvRecord* Next();

  // The record "ahead" records after the one Next returned last (1: the
  // next one), if it is already parsed; else nullptr (a later Next may still
  // return it). Valid until the next call to Next. For prefetching.
  const CsvRecord* Peek(std::size_t ahead) const {
    const std::size_t i = next_ready_ + ahead - 1;
    return ahead > 0 && i < ready_count_ ? &ready_[i] : nullptr;
  }

  // Bytes consumed so far and the file size (for progress reporting).
  std::uint64_t bytes_read() const { return bytes_read_; }
  std::uint64_t file_size() const { return file_size_; }
  const std::string& name() const { return name_; }

  // Callback plumbing for libcsv (C linkage); not for callers.
  void OnField(const char* data, std::size_t size);
  void OnRecordEnd();

 private:
  bool FillRecords();
  void ParseSegment(const char* data, std::size_t size, bool ends_with_lone_cr);
  [[noreturn]] void ThrowParseError();

  std::string name_;
  std::FILE* file_ = nullptr;
  struct Parser;
  std::unique_ptr<Parser> parser_;
  std::size_t chunk_size_;
  std::vector<char> chunk_;
  std::vector<CsvRecord> ready_;  // records completed by the last chunk
  std::size_t ready_count_ = 0;
  std::size_t next_ready_ = 0;
  CsvRecord* current_ = nullptr;  // record being assembled (ready_[ready_count_])
  std::int64_t line_ = 1;         // physical line of the segment being parsed
  std::int64_t record_start_ = 1; // line where the next record starts
  std::uint64_t bytes_read_ = 0;
  std::uint64_t file_size_ = 0;
  bool first_chunk_ = true;
  // The last chunk ended with a CR, held back for the next one.
  bool carry_cr_ = false;
  bool eof_ = false;
};

// How often any CsvReader's parser grew its field buffer since the process
// started (for tests: growth is geometric, so a field of N bytes takes
// O(log N) of them).
std::uint64_t CsvFieldBufferReallocations();

// True if "text" is valid UTF-8 (no overlongs, no surrogates, <= U+10FFFF).
// On failure *bad_offset receives the offset of the first invalid byte.
bool IsValidUtf8(std::string_view text, std::size_t* bad_offset = nullptr);

}  // namespace cohortdb
