#pragma once
// The benchmarks' generator of synthetic data: splitmix64, small, fast and
// deterministic across platforms.

#include <cmath>
#include <cstdint>
#include <numbers>

namespace cohortdb::bench {

class Rng {
 public:
  explicit Rng(std::uint64_t seed) : state_(seed) {}
  std::uint64_t Next() {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }
  double Normal() {  // Box-Muller, one value per call
    const double u1 = Uniform() + 0x1.0p-54;
    const double u2 = Uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
  }
  bool Bernoulli(double p) { return Uniform() < p; }

 private:
  std::uint64_t state_;
};

}  // namespace cohortdb::bench
