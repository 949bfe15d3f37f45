#pragma once
// ParticipantTable: the participants an import knows, by external id. Open
// addressing with linear probing over one array of (hash, index) slots; each
// key lives beside its value in one contiguous vector of entries. A lookup
// touches one slot and, on a hash match, one entry, whose first cache line
// holds the key and the start of the value (put what a lookup reads first
// there). std::unordered_map walked a bucket array and a separately
// allocated node: on a 500,000-participant store the unsorted imaging file
// spent a fifth of its import in those lookups.
// Entries are never removed; Forget marks one's slot dead (a row that
// created it was rejected) and Insert brings it back.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace cohortdb {

template <typename Value>
class ParticipantTable {
 public:
  ParticipantTable() : slots_(kInitialSlots) {}

  // The live value for "key", or nullptr.
  Value* Find(std::string_view key) {
    const Slot& s = slots_[Locate(key, Hash(key))];
    return s.index != 0 && s.alive ? &entries_[s.index - 1].value : nullptr;
  }

  // Hints that "key" is looked up soon; changes nothing. Stage 0 fetches its
  // slot into the cache; stage 1, some rows later (the slot then cached),
  // the entry that slot names. A file in random participant order otherwise
  // waits on two cache misses per row (a 500,000-participant table is tens of
  // megabytes).
  void Prefetch(std::string_view key, int stage) const {
    const Slot& s = slots_[Hash(key) & (slots_.size() - 1)];
    if (stage == 0) {
      __builtin_prefetch(&s);
    } else if (s.index != 0) {
      __builtin_prefetch(&entries_[s.index - 1]);
    }
  }

  // Makes room for "n" keys in all, so that inserting that many neither
  // rehashes nor moves the entries.
  void Reserve(std::size_t n) {
    entries_.reserve(n);
    while (n * 4 > slots_.size() * 3) Grow();
  }

  // Adds (or revives) "key" with "value"; returns the stored value. The
  // reference stays valid until the next Insert.
  Value& Insert(std::string_view key, Value value) {
    const std::uint64_t hash = Hash(key);
    std::size_t slot = Locate(key, hash);
    if (slots_[slot].index != 0) {
      Entry& e = entries_[slots_[slot].index - 1];
      e.value = std::move(value);
      slots_[slot].alive = 1;
      return e.value;
    }
    if ((entries_.size() + 1) * 4 > slots_.size() * 3) {
      Grow();
      slot = Locate(key, hash);
    }
    entries_.push_back(Entry{std::string(key), std::move(value)});
    slots_[slot] = Slot{hash, static_cast<std::uint32_t>(entries_.size()), 1};
    return entries_.back().value;
  }

  // Marks "key" absent (Find returns nullptr) until it is inserted again.
  void Forget(std::string_view key) {
    const std::size_t slot = Locate(key, Hash(key));
    if (slots_[slot].index != 0) slots_[slot].alive = 0;
  }

 private:
  static constexpr std::size_t kInitialSlots = 1024;  // a power of two
  struct Slot {
    std::uint64_t hash = 0;
    std::uint32_t index = 0;  // 1-based into entries_; 0 = empty
    std::uint32_t alive = 0;  // 0 after Forget
  };
  // Aligned so that the key and the value's first bytes are one cache line
  // (a key and a 32-byte value fill exactly one).
  struct alignas(64) Entry {
    std::string key;
    Value value;
  };

  static std::uint64_t Hash(std::string_view key) { return std::hash<std::string_view>{}(key); }

  // The slot holding "key", or the empty slot where it would go.
  std::size_t Locate(std::string_view key, std::uint64_t hash) const {
    const std::size_t mask = slots_.size() - 1;
    for (std::size_t slot = hash & mask;; slot = (slot + 1) & mask) {
      const Slot& s = slots_[slot];
      if (s.index == 0) return slot;
      if (s.hash == hash && entries_[s.index - 1].key == key) return slot;
    }
  }

  void Grow() {
    std::vector<Slot> old(slots_.size() * 2);
    old.swap(slots_);
    const std::size_t mask = slots_.size() - 1;
    for (const Slot& s : old) {
      if (s.index == 0) continue;
      std::size_t slot = s.hash & mask;
      while (slots_[slot].index != 0) slot = (slot + 1) & mask;
      slots_[slot] = s;
    }
  }

  std::vector<Slot> slots_;
  std::vector<Entry> entries_;
};

}  // namespace cohortdb
