// Element types and the one switch that turns a runtime dtype into a C++ type.
#pragma once

#include <cstddef>
#include <cstdint>

#include "tapegrad/core/error.h"

namespace tg {

// Ordered so that promotion between any two is simply the larger (the types we support form a chain).
enum class DType : uint8_t { Bool, Int32, Int64, Float32, Float64 };

inline constexpr size_t itemsize(DType dtype) {
  switch (dtype) {
    case DType::Bool: return 1;
    case DType::Int32: return 4;
    case DType::Int64: return 8;
    case DType::Float32: return 4;
    case DType::Float64: return 8;
  }
  return 0;
}

inline constexpr const char* dtype_name(DType dtype) {
  switch (dtype) {
    case DType::Bool: return "bool";
    case DType::Int32: return "int32";
    case DType::Int64: return "int64";
    case DType::Float32: return "float32";
    case DType::Float64: return "float64";
  }
  return "?";
}

inline constexpr bool is_floating(DType dtype) { return dtype == DType::Float32 || dtype == DType::Float64; }

inline constexpr DType promote_types(DType a, DType b) { return a > b ? a : b; }

DType default_dtype();
void set_default_dtype(DType dtype);

template <typename T> struct TypeTag { using type = T; };

template <typename T> constexpr DType dtype_of();
template <> constexpr DType dtype_of<bool>() { return DType::Bool; }
template <> constexpr DType dtype_of<int32_t>() { return DType::Int32; }
template <> constexpr DType dtype_of<int64_t>() { return DType::Int64; }
template <> constexpr DType dtype_of<float>() { return DType::Float32; }
template <> constexpr DType dtype_of<double>() { return DType::Float64; }

// Calls f(TypeTag<T>{}) for the C++ type of `dtype`. The switch runs once per kernel call; the loop
// inside f is compiled once per type.
template <typename F>
decltype(auto) dispatch_all(DType dtype, F&& f) {
  switch (dtype) {
    case DType::Bool: return f(TypeTag<bool>{});
    case DType::Int32: return f(TypeTag<int32_t>{});
    case DType::Int64: return f(TypeTag<int64_t>{});
    case DType::Float32: return f(TypeTag<float>{});
    case DType::Float64: return f(TypeTag<double>{});
  }
  fail<Error>("dtype", "unknown dtype");
}

// Numeric types only (no bool): arithmetic that PyTorch refuses on bool tensors. A dtype outside
// what a kernel covers is NotImplementedError, as PyTorch's "not implemented for 'Bool'".
template <typename F>
decltype(auto) dispatch_numeric(DType dtype, const char* op, F&& f) {
  switch (dtype) {
    case DType::Int32: return f(TypeTag<int32_t>{});
    case DType::Int64: return f(TypeTag<int64_t>{});
    case DType::Float32: return f(TypeTag<float>{});
    case DType::Float64: return f(TypeTag<double>{});
    default: fail<NotImplementedError>(op, "not implemented for dtype ", dtype_name(dtype));
  }
}

template <typename F>
decltype(auto) dispatch_floating(DType dtype, const char* op, F&& f) {
  switch (dtype) {
    case DType::Float32: return f(TypeTag<float>{});
    case DType::Float64: return f(TypeTag<double>{});
    default: fail<NotImplementedError>(op, "not implemented for dtype ", dtype_name(dtype), ": it expects a floating-point tensor");
  }
}

}  // namespace tg
