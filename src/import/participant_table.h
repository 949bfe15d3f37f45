#pragma once
// ParticipantTable: the participants an import knows, by external id. Open
// addressing with linear probing over one array of (hash, index) slots; keys
// and values live in two contiguous vectors. A lookup touches one slot and,
// on a hash match, one key, where std::unordered_map walked a bucket array
// and a separately allocated node: on a 500,000-participant store the
// unsorted imaging file spent a fifth of its import in those lookups.
// Entries are never removed; Forget marks one dead (a row that created it
// was rejected) and Insert brings it back.

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
    const std::size_t slot = Locate(key, Hash(key));
    if (slots_[slot].index == 0) return nullptr;
    const std::size_t i = slots_[slot].index - 1;
    return alive_[i] ? &values_[i] : nullptr;
  }

  // Adds (or revives) "key" with "value"; returns the stored value. The
  // reference stays valid until the next Insert.
  Value& Insert(std::string_view key, Value value) {
    const std::uint64_t hash = Hash(key);
    std::size_t slot = Locate(key, hash);
    if (slots_[slot].index != 0) {
      const std::size_t i = slots_[slot].index - 1;
      values_[i] = std::move(value);
      alive_[i] = true;
      return values_[i];
    }
    if ((keys_.size() + 1) * 4 > slots_.size() * 3) {
      Grow();
      slot = Locate(key, hash);
    }
    keys_.emplace_back(key);
    values_.push_back(std::move(value));
    alive_.push_back(true);
    slots_[slot] = Slot{hash, static_cast<std::uint32_t>(keys_.size())};
    return values_.back();
  }

  // Marks "key" absent (Find returns nullptr) until it is inserted again.
  void Forget(std::string_view key) {
    const std::size_t slot = Locate(key, Hash(key));
    if (slots_[slot].index != 0) alive_[slots_[slot].index - 1] = false;
  }

 private:
  static constexpr std::size_t kInitialSlots = 1024;  // a power of two
  struct Slot {
    std::uint64_t hash = 0;
    std::uint32_t index = 0;  // 1-based into keys_/values_; 0 = empty
  };

  static std::uint64_t Hash(std::string_view key) { return std::hash<std::string_view>{}(key); }

  // The slot holding "key", or the empty slot where it would go.
  std::size_t Locate(std::string_view key, std::uint64_t hash) const {
    const std::size_t mask = slots_.size() - 1;
    for (std::size_t slot = hash & mask;; slot = (slot + 1) & mask) {
      const Slot& s = slots_[slot];
      if (s.index == 0) return slot;
      if (s.hash == hash && keys_[s.index - 1] == key) return slot;
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
  std::vector<std::string> keys_;
  std::vector<Value> values_;
  std::vector<bool> alive_;
};

}  // namespace cohortdb
