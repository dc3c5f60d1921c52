// Seeded, counter-based random numbers. Every random draw in textcnn (initialisation,
// shuffling, dropout masks) comes from one user seed through these functions, and a draw
// depends only on (seed, stream, counter), never on which thread made it: that is what makes
// training bit-identical whatever the thread count.
#pragma once

#include <cstdint>

namespace textcnn {

/// SplitMix64 finaliser: a well-mixed 64-bit hash of x.
constexpr std::uint64_t mix64(std::uint64_t x) {
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

/// Hash of (seed, stream, counter): the value of draw `counter` of stream `stream`.
constexpr std::uint64_t random_bits(std::uint64_t seed, std::uint64_t stream, std::uint64_t counter) {
    return mix64(mix64(seed ^ mix64(stream)) + counter);
}

/// Uniform float in [0, 1) from 24 random bits (exactly representable).
constexpr float unit_float(std::uint64_t bits) {
    return static_cast<float>(bits >> 40) * (1.0f / 16777216.0f);
}

/// A small sequential generator (SplitMix64) for serial code such as shuffling and
/// initialisation. Deterministic for a seed on every platform, unlike std:: distributions.
class Rng {
public:
    explicit Rng(std::uint64_t seed = 0, std::uint64_t stream = 0) : state_(mix64(seed ^ mix64(stream))) {}
    std::uint64_t next() { return mix64(state_++); }
    /// Uniform float in [0, 1).
    float uniform() { return unit_float(next()); }
    /// Uniform float in [lo, hi).
    float uniform(float lo, float hi) { return lo + (hi - lo) * uniform(); }
    /// Uniform integer in [0, n), n > 0 (Lemire's multiply-shift; bias < 2^-32 for n < 2^32).
    std::uint64_t below(std::uint64_t n) {
        __extension__ typedef unsigned __int128 u128;
        return static_cast<std::uint64_t>((static_cast<u128>(next()) * n) >> 64);
    }
    /// Standard normal (Box-Muller).
    float normal();

private:
    std::uint64_t state_;
};

}  // namespace textcnn
