#include "import/csv_reader.h"

#include <csv.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>

#include <fmt/format.h>

#include "common/error.h"

namespace cohortdb {
namespace {

extern "C" void CsvFieldCallback(void* data, std::size_t size, void* self) {
  static_cast<CsvReader*>(self)->OnField(static_cast<const char*>(data), size);
}

extern "C" void CsvRecordCallback(int, void* self) { static_cast<CsvReader*>(self)->OnRecordEnd(); }

extern "C" int CsvNoSpace(unsigned char) { return 0; }

extern "C" int CsvIsTerm(unsigned char c) { return c == CSV_CR || c == CSV_LF; }

std::atomic<std::uint64_t> field_buffer_reallocations{0};

extern "C" void* CsvRealloc(void* buffer, std::size_t size) {
  field_buffer_reallocations.fetch_add(1, std::memory_order_relaxed);
  return std::realloc(buffer, size);
}

// libcsv grows its field buffer by a fixed step (blk_size, 128 bytes by
// default), copying the field each time: quadratic in the length of one
// field (a 60 MB quoted text took minutes under AddressSanitizer, whose
// realloc always copies). Making the step the buffer's current size (at least
// 64 KiB) before each parse call doubles the buffer instead: at most a few
// growths per call, each segment at most one chunk, so time and memory stay
// linear in the field's length.
constexpr std::size_t kMinFieldBufferStep = std::size_t{64} << 10;

}  // namespace

std::uint64_t CsvFieldBufferReallocations() { return field_buffer_reallocations.load(std::memory_order_relaxed); }

bool IsValidUtf8(std::string_view text, std::size_t* bad_offset) {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  std::size_t n = text.size();
  std::size_t i = 0;
  while (i < n) {
    // Fast path: 8 ASCII bytes at a time.
    if (i + 8 <= n) {
      std::uint64_t word;
      std::memcpy(&word, s + i, 8);
      if ((word & 0x8080808080808080ULL) == 0) {
        i += 8;
        continue;
      }
    }
    unsigned char c = s[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t len;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;
    } else {
      if (bad_offset) *bad_offset = i;
      return false;
    }
    if (i + len > n) {
      if (bad_offset) *bad_offset = i;
      return false;
    }
    if (s[i + 1] < lo || s[i + 1] > hi) {
      if (bad_offset) *bad_offset = i;
      return false;
    }
    for (std::size_t k = 2; k < len; ++k) {
      if ((s[i + k] & 0xC0) != 0x80) {
        if (bad_offset) *bad_offset = i;
        return false;
      }
    }
    i += len;
  }
  return true;
}

struct CsvReader::Parser {
  csv_parser p;
};

CsvReader::CsvReader(const std::string& path, char delimiter, std::string display_name, std::size_t chunk_size)
    : name_(display_name.empty() ? path : std::move(display_name)),
      parser_(new Parser),
      chunk_size_(std::max<std::size_t>(chunk_size, 4)) {
  file_ = std::fopen(path.c_str(), "rb");
  if (file_ == nullptr) {
    throw InputError(fmt::format("{}: cannot open file: {}", name_, std::strerror(errno)));
  }
  if (std::fseek(file_, 0, SEEK_END) == 0) {
    long size = std::ftell(file_);
    if (size > 0) file_size_ = static_cast<std::uint64_t>(size);
    std::fseek(file_, 0, SEEK_SET);
  }
  if (csv_init(&parser_->p, CSV_STRICT | CSV_STRICT_FINI) != 0) {
    std::fclose(file_);
    throw InputError(fmt::format("{}: cannot initialise the CSV parser", name_));
  }
  csv_set_delim(&parser_->p, static_cast<unsigned char>(delimiter));
  csv_set_space_func(&parser_->p, CsvNoSpace);
  csv_set_term_func(&parser_->p, CsvIsTerm);
  csv_set_realloc_func(&parser_->p, CsvRealloc);
  chunk_.resize(chunk_size_ + 1);  // + a carried CR
}

CsvReader::~CsvReader() {
  csv_free(&parser_->p);
  if (file_ != nullptr) std::fclose(file_);
}

void CsvReader::OnField(const char* data, std::size_t size) {
  if (ready_count_ == ready_.size()) ready_.emplace_back();
  CsvRecord& r = ready_[ready_count_];
  if (r.ends_.empty()) r.line_ = record_start_;
  if (r.problem_.empty()) {
    std::size_t bad = 0;
    std::string_view field(data, size);
    if (field.find("\xEF\xBB\xBF") != std::string_view::npos) {
      r.problem_ = "expected text without a byte order mark inside the file (were two files concatenated?), found U+FEFF";
      r.problem_column_ = r.ends_.size() + 1;
    } else if (!IsValidUtf8(field, &bad)) {
      r.problem_ = fmt::format("expected UTF-8 text, found the invalid byte 0x{:02X} at byte {} of the field",
                               static_cast<unsigned char>(data[bad]), bad + 1);
      r.problem_column_ = r.ends_.size() + 1;
    }
  }
  r.data_.append(data, size);
  r.ends_.push_back(r.data_.size());
}

void CsvReader::OnRecordEnd() {
  if (ready_count_ == ready_.size()) ready_.emplace_back();
  ++ready_count_;
  if (ready_count_ < ready_.size()) ready_[ready_count_].Clear();
}

void CsvReader::ThrowParseError() {
  // In strict mode the only parse error is a quote in the wrong place.
  throw InputError(fmt::format(
      "{}:{}: malformed quoting: expected quotes only around a whole field (a quote inside a "
      "quoted field written as \"\"), found a stray quote",
      name_, line_));
}

void CsvReader::ParseSegment(const char* data, std::size_t size, bool ends_with_lone_cr) {
  csv_set_blk_size(&parser_->p, std::max(csv_get_buffer_size(&parser_->p), kMinFieldBufferStep));
  std::size_t used = csv_parse(&parser_->p, data, size, CsvFieldCallback, CsvRecordCallback, this);
  if (used != size) ThrowParseError();
  // pstate 0 is libcsv's ROW_NOT_BEGUN: the parser sits between records, so
  // whatever comes after this segment's line end starts a new record.
  bool ends_line = ends_with_lone_cr || (size > 0 && data[size - 1] == '\n');
  if (parser_->p.pstate == 0) record_start_ = line_ + 1;
  if (ends_line) ++line_;
}

bool CsvReader::FillRecords() {
  // A record still being assembled (it spans chunks) moves to slot 0.
  if (ready_.empty()) {
    ready_.emplace_back();
  } else if (ready_count_ < ready_.size()) {
    if (ready_count_ > 0) std::swap(ready_[0], ready_[ready_count_]);
  } else {
    ready_[0].Clear();
  }
  ready_count_ = 0;
  next_ready_ = 0;
  while (ready_count_ == 0) {
    if (eof_) return false;
    // chunk_[0] holds a CR carried over from the previous chunk, if any.
    const std::size_t carried = carry_cr_ ? 1 : 0;
    if (carry_cr_) chunk_[0] = '\r';
    std::size_t got = std::fread(chunk_.data() + carried, 1, chunk_size_, file_);
    bytes_read_ += got;
    const bool eof_at_read = got < chunk_size_;
    const char* p = chunk_.data();
    const char* end = p + carried + got;
    bool carry_cr = false;
    if (first_chunk_) {
      first_chunk_ = false;
      if (got >= 3 && std::memcmp(p, "\xEF\xBB\xBF", 3) == 0) {
        p += 3;
      } else if (got >= 2 && (std::memcmp(p, "\xFF\xFE", 2) == 0 || std::memcmp(p, "\xFE\xFF", 2) == 0)) {
        throw InputError(fmt::format("{}:1: expected UTF-8 text, found a UTF-16 byte order mark (save the file as UTF-8)",
                                     name_));
      }
    }
    // A CR that ends the chunk is held back and parsed with the next one, so
    // that a CRLF and a lone CR are told apart with both bytes in view.
    if (!eof_at_read && end > p && end[-1] == '\r') {
      --end;
      carry_cr = true;
    }
    while (p < end) {
      // A segment ends after a line end: LF, CRLF, or a lone CR (old Mac
      // files). A CR that is the last byte of the file ends its line.
      const char* nl = static_cast<const char*>(std::memchr(p, '\n', static_cast<std::size_t>(end - p)));
      const char* limit = nl == nullptr ? end : nl;
      const char* cr = static_cast<const char*>(std::memchr(p, '\r', static_cast<std::size_t>(limit - p)));
      if (cr != nullptr && cr + 1 == limit && limit != end) {
        cr = nullptr;  // the CR of a CRLF
      }
      const char* seg_end;
      // A CR is lone when a byte other than LF follows it; before a held-back
      // CR it is.
      bool lone_cr = cr != nullptr && (cr + 1 < end || carry_cr);
      if (lone_cr) seg_end = cr + 1;
      else seg_end = nl == nullptr ? end : nl + 1;
      ParseSegment(p, static_cast<std::size_t>(seg_end - p), lone_cr);
      p = seg_end;
    }
    carry_cr_ = carry_cr;
    if (eof_at_read) {
      eof_ = true;
      if (std::ferror(file_)) throw InputError(fmt::format("{}: read error", name_));
      std::int64_t open_line = record_start_;
      if (csv_fini(&parser_->p, CsvFieldCallback, CsvRecordCallback, this) != 0) {
        throw InputError(fmt::format("{}:{}: unterminated quoted field: expected a closing quote before the end of the file",
                                     name_, open_line));
      }
      break;
    }
  }
  return ready_count_ > 0;
}

const CsvRecord* CsvReader::Next() {
  if (next_ready_ >= ready_count_) {
    if (!FillRecords()) return nullptr;
  }
  return &ready_[next_ready_++];
}

}  // namespace cohortdb
