// A Python number on its way into an op: it keeps whether it was a bool, an int or a float, which
// type promotion needs (1 + int tensor stays int; 1.5 + int tensor becomes float).
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "tapegrad/core/dtype.h"

namespace tg {

class Scalar {
 public:
  enum class Kind : uint8_t { Bool, Int, Float };

  Scalar(double value) : float_(value), kind_(Kind::Float) {}
  Scalar(float value) : float_(value), kind_(Kind::Float) {}
  Scalar(int64_t value) : int_(value), kind_(Kind::Int) {}
  Scalar(int value) : int_(value), kind_(Kind::Int) {}
  Scalar(bool value) : int_(value), kind_(Kind::Bool) {}

  Kind kind() const { return kind_; }
  bool is_floating() const { return kind_ == Kind::Float; }
  // The value as T the way a cast converts it: floats truncate, integers wrap to T's width (what
  // arithmetic with a Python number does in PyTorch). A float that no integer holds (NaN, inf,
  // past int64) would be undefined behaviour in C++; it becomes the most negative int64, wrapped,
  // which is what x86 (and so PyTorch) produces.
  template <typename T>
  T to() const {
    if (kind_ != Kind::Float) return static_cast<T>(int_);
    if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
      if (!(float_ >= -0x1p63 && float_ < 0x1p63)) return static_cast<T>(std::numeric_limits<int64_t>::min());
      return static_cast<T>(static_cast<int64_t>(float_));
    }
    return static_cast<T>(float_);
  }
  double to_double() const { return to<double>(); }

  // Whether storing this number into a tensor of T keeps it (up to a float's rounding and
  // truncation toward zero), as PyTorch's checked scalar conversion decides: integers must be in
  // T's range, floats into integers must be finite and in range, finite floats must not overflow
  // float32. Anything goes into bool.
  template <typename T>
  bool fits() const {
    if constexpr (std::is_same_v<T, bool>) {
      return true;
    } else if constexpr (std::is_integral_v<T>) {
      constexpr double low = static_cast<double>(std::numeric_limits<T>::min());  // -2^(bits-1), exact
      if (kind_ == Kind::Float)  // false for NaN; the upper bound is 2^(bits-1) exclusive for int64
        return float_ >= low && float_ < -low && float_ <= static_cast<double>(std::numeric_limits<T>::max());
      return int_ >= std::numeric_limits<T>::min() && int_ <= std::numeric_limits<T>::max();
    } else if constexpr (std::is_same_v<T, float>) {
      return kind_ != Kind::Float || !std::isfinite(float_) || std::abs(float_) <= std::numeric_limits<float>::max();
    } else {
      return true;
    }
  }
  // to<T>() for a value bound for a tensor of T (fill_, full, __setitem__, clamp bounds...): a
  // RuntimeError naming `op` when it does not fit.
  template <typename T>
  T checked_to(const char* op) const {
    if (!fits<T>()) fail_overflow(dtype_of<T>(), op);
    return to<T>();
  }
  void check_fits(DType dtype, const char* op) const {
    dispatch_all(dtype, [&](auto tag) {
      if (!fits<typename decltype(tag)::type>()) fail_overflow(dtype, op);
    });
  }
  // The dtype PyTorch gives a tensor made from this number alone.
  DType default_dtype_for() const {
    return kind_ == Kind::Float ? default_dtype() : kind_ == Kind::Int ? DType::Int64 : DType::Bool;
  }

 private:
  [[noreturn]] void fail_overflow(DType dtype, const char* op) const {
    if (kind_ == Kind::Float)
      fail<Error>(op, "value ", float_, " cannot be converted to type ", dtype_name(dtype), " without overflow");
    fail<Error>(op, "value ", int_, " cannot be converted to type ", dtype_name(dtype), " without overflow");
  }

  union {
    double float_;
    int64_t int_;
  };
  Kind kind_;
};

}  // namespace tg
