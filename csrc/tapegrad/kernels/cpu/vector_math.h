// Branch-free float32 exp, tanh, sigmoid and erf that the compiler vectorises (std::exp is a call
// the vectoriser cannot see through). Included by the per-ISA kernel files, so the same source
// becomes SSE2, AVX2 and AVX-512 code. Accuracy: exp, tanh and sigmoid within 2 ulp of the
// correctly rounded result over the normal range (Cephes' minimax polynomials), and down through the
// subnormals (exp(-100) is 3.7e-44, as std::exp gives); erf as its comment says. NaN and ±inf behave
// as std::exp / std::tanh / std::erf do.
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

// erf(x) = x + x Q(x^2) for |x| < 0.875 (full relative precision near 0), and sign(x) (1 - e^(-x^2)
// R(|x|)) beyond, R a polynomial in |x| - 2.5 on [0.875, 4]. |x| is clamped to 4, where erfc is
// 1.5e-8, below half an ulp of 1: from there on (±inf included) the result is exactly ±1 without a
// select of its own. Q and R (degrees 5 and 8) are our own fits, of erf(x)/x - 1 and erfc(x)
// e^(x^2), minimax in the error each makes in erf (Lawson's reweighted least squares on 2000
// Chebyshev nodes, in float64), rounded to float. Both branches are computed for every element and
// a select picks one. Measured over every float in [-6, 6] against float64 erf: within 1.37 ulp of
// the exact value (SSE2 build; AVX2 / AVX-512, which contract to FMA: 1.11; a correctly rounded
// result is within 0.5). A NaN passes through the clamp (written as minps computes it), exp and R
// (its sign bit may come out set, as std::erf's does not), and -0 gives -0.
inline float erf(float x) {
  const float magnitude = x < 0 ? -x : x;
  const float z = x * x;
  float q = -6.2032527e-4f;
  q = q * z + 5.032181e-3f;
  q = q * z - 2.6791463e-2f;
  q = q * z + 1.1282455e-1f;
  q = q * z - 3.761255e-1f;
  q = q * z + 1.2837915e-1f;
  const float small = x + x * q;
  const float clamped = 4.0f < magnitude ? 4.0f : magnitude;
  const float t = clamped - 2.5f;
  float r = 1.454988e-4f;
  r = r * t + 4.3868806e-4f;
  r = r * t + 9.82092e-4f;
  r = r * t - 2.9040338e-4f;
  r = r * t + 2.3290978e-3f;
  r = r * t - 8.282448e-3f;
  r = r * t + 2.4835158e-2f;
  r = r * t - 7.435056e-2f;
  r = r * t + 2.1080883e-1f;
  const float large_magnitude = 1.0f - exp(-(clamped * clamped)) * r;
  const float large = x < 0 ? -large_magnitude : large_magnitude;
  return magnitude < 0.875f ? small : large;
}

}  // namespace
}  // namespace tg::cpu::vector_math
