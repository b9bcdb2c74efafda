// A Python number on its way into an op: it keeps whether it was a bool, an int or a float, which
// type promotion needs (1 + int tensor stays int; 1.5 + int tensor becomes float).
#pragma once

#include <cstdint>

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
  template <typename T>
  T to() const {
    return kind_ == Kind::Float ? static_cast<T>(float_) : static_cast<T>(int_);
  }
  double to_double() const { return to<double>(); }
  // The dtype PyTorch gives a tensor made from this number alone.
  DType default_dtype_for() const {
    return kind_ == Kind::Float ? default_dtype() : kind_ == Kind::Int ? DType::Int64 : DType::Bool;
  }

 private:
  union {
    double float_;
    int64_t int_;
  };
  Kind kind_;
};

}  // namespace tg
