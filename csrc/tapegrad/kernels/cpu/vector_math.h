// Branch-free float32 exp, tanh and sigmoid that the compiler vectorises (std::exp is a call the
// vectoriser cannot see through). Included by the per-ISA kernel files, so the same source becomes
// SSE2, AVX2 and AVX-512 code. Accuracy: within 2 ulp of the correctly rounded result over the
// normal range (Cephes' minimax polynomials), and down through the subnormals (exp(-100) is
// 3.7e-44, as std::exp gives); NaN and ±inf behave as std::exp / std::tanh do.
#pragma once

#include <bit>
#include <cstdint>

namespace tg::cpu::vector_math {

// Internal linkage on purpose: each ISA-specific file gets its own copy, so the linker can never
// hand the baseline caller an AVX-512 body of an inline function (an ODR trap otherwise).
namespace {

inline float exp(float x) {
  constexpr float kLog2e = 1.44269504088896341f;
  constexpr float kLn2High = 0.693359375f;    // ln 2 split in two so n * kLn2High is exact
  constexpr float kLn2Low = -2.12194440e-4f;
  constexpr float kRoundMagic = 12582912.0f;  // 1.5 * 2^23: adding it rounds to an integer
  // Clamped to where the result has just rounded to 0 (e^-104 is below half the smallest
  // subnormal) or overflowed to inf (e^89), so that no select is needed for either end.
  constexpr float kMin = -104.0f, kMax = 89.0f;
  // Written as maxps and minps compute them, so that a NaN x passes through both (and makes p,
  // and so the result, NaN) without a select of its own.
  const float above_min = kMin > x ? kMin : x;
  const float clamped = kMax < above_min ? kMax : above_min;
  const float n = (clamped * kLog2e + kRoundMagic) - kRoundMagic;
  const float r = clamped - n * kLn2High - n * kLn2Low;  // |r| <= ln2 / 2
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  // 2^n in two factors, each a normal float for every n in [-150, 128]: one factor would
  // overflow at n = 128 (x above 88.376) and could not reach the subnormal results below -87.3.
  const int32_t exponent = static_cast<int32_t>(n);
  const int32_t half = exponent >> 1;
  const float scale_low = std::bit_cast<float>((half + 127) << 23);
  const float scale_high = std::bit_cast<float>((exponent - half + 127) << 23);
  return (p * scale_low) * scale_high;
}

inline float tanh(float x) {
  const float magnitude = x < 0 ? -x : x;
  // Near 0 an odd polynomial keeps full relative precision, where 1 - 2/(e^2x + 1) would cancel.
  const float z = x * x;
  float small = -5.70498872745e-3f;
  small = small * z + 2.06390887954e-2f;
  small = small * z - 5.37397155531e-2f;
  small = small * z + 1.33314422036e-1f;
  small = small * z - 3.33332819422e-1f;
  small = small * z * x + x;
  const float large_magnitude = 1.0f - 2.0f / (exp(2.0f * magnitude) + 1.0f);
  const float large = x < 0 ? -large_magnitude : large_magnitude;
  const float result = magnitude < 0.625f ? small : large;
  return x != x ? x : result;
}

inline float sigmoid(float x) { return 1.0f / (1.0f + exp(-x)); }

}  // namespace
}  // namespace tg::cpu::vector_math
