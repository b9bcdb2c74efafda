// Elementwise math with PyTorch's broadcasting and type promotion. Python numbers enter as Scalar
// and are "wrapped numbers" for promotion: int tensor * 2 stays int, int tensor * 2.5 is float.
#pragma once

#include <initializer_list>

#include "tapegrad/core/scalar.h"
#include "tapegrad/core/tensor.h"

namespace tg {

// The dtype PyTorch gives an op on these operands.
DType result_type(const Tensor& a, const Tensor& b);
DType result_type(const Tensor& a, Scalar b);
DType result_type(std::initializer_list<const Tensor*> tensors);  // undefined tensors are skipped

Tensor add(const Tensor& a, const Tensor& b);
Tensor add(const Tensor& a, const Tensor& b, Scalar alpha);  // a + alpha * b
Tensor add(const Tensor& a, Scalar b);
Tensor add(const Tensor& a, Scalar b, Scalar alpha);
// Any bool operand is an error, as in PyTorch (`~` or logical_not() invert a mask).
Tensor sub(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b, Scalar alpha);  // a - alpha * b
Tensor sub(const Tensor& a, Scalar b);
Tensor sub(const Tensor& a, Scalar b, Scalar alpha);
Tensor rsub(const Tensor& a, Scalar b);  // b - a
Tensor mul(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, Scalar b);
Tensor div(const Tensor& a, const Tensor& b);  // true division: integers give floats
Tensor div(const Tensor& a, Scalar b);
Tensor rdiv(const Tensor& a, Scalar b);  // b / a
// div's rounding_mode: None is true division; Trunc and Floor round the quotient (integers stay
// integers) and have zero gradients.
enum class RoundingMode { None, Trunc, Floor };
Tensor div(const Tensor& a, const Tensor& b, RoundingMode mode);
Tensor div(const Tensor& a, Scalar b, RoundingMode mode);
// Python's // and %: the quotient rounded down, and the remainder with the divisor's sign.
// Integer division by zero is an error. floor_divide has no derivative (backward through it
// raises, as in PyTorch); remainder's is 1 for a and -floor(a / b) for b.
Tensor floor_divide(const Tensor& a, const Tensor& b);
Tensor floor_divide(const Tensor& a, Scalar b);
Tensor rfloor_divide(const Tensor& a, Scalar b);  // b // a
Tensor remainder(const Tensor& a, const Tensor& b);
Tensor remainder(const Tensor& a, Scalar b);
Tensor rremainder(const Tensor& a, Scalar b);  // b % a
Tensor pow(const Tensor& a, const Tensor& b);
Tensor pow(const Tensor& a, Scalar exponent);
Tensor pow(Scalar base, const Tensor& exponent);

Tensor neg(const Tensor& a);
Tensor exp(const Tensor& a);
Tensor log(const Tensor& a);
Tensor sqrt(const Tensor& a);
Tensor rsqrt(const Tensor& a);
Tensor abs(const Tensor& a);
Tensor sign(const Tensor& a);
Tensor sin(const Tensor& a);
Tensor cos(const Tensor& a);
Tensor tanh(const Tensor& a);
Tensor sigmoid(const Tensor& a);
Tensor relu(const Tensor& a);
Tensor logical_not(const Tensor& a);
Tensor atan(const Tensor& a);
Tensor asin(const Tensor& a);
Tensor acos(const Tensor& a);
Tensor tan(const Tensor& a);
Tensor sinh(const Tensor& a);
Tensor cosh(const Tensor& a);
Tensor log1p(const Tensor& a);
Tensor expm1(const Tensor& a);
Tensor log2(const Tensor& a);
Tensor log10(const Tensor& a);
Tensor exp2(const Tensor& a);
Tensor erf(const Tensor& a);
// Integer tensors give a copy of themselves; round rounds half to even.
Tensor floor(const Tensor& a);
Tensor ceil(const Tensor& a);
Tensor round(const Tensor& a);
Tensor trunc(const Tensor& a);
Tensor frac(const Tensor& a);  // a - trunc(a); floating tensors only
Tensor reciprocal(const Tensor& a);
Tensor square(const Tensor& a);

// grad where out > 0, else 0: relu's backward as one kernel.
Tensor threshold_backward(const Tensor& grad, const Tensor& out);

// In place: self's dtype is kept (the result must be castable to it) and its version bumped.
Tensor& add_(Tensor& self, const Tensor& other, Scalar alpha = Scalar(1));
Tensor& add_(Tensor& self, Scalar other, Scalar alpha = Scalar(1));
Tensor& sub_(Tensor& self, const Tensor& other, Scalar alpha = Scalar(1));
Tensor& sub_(Tensor& self, Scalar other, Scalar alpha = Scalar(1));
Tensor& mul_(Tensor& self, const Tensor& other);
Tensor& mul_(Tensor& self, Scalar other);
Tensor& div_(Tensor& self, const Tensor& other);
Tensor& div_(Tensor& self, Scalar other);
Tensor& relu_(Tensor& self);

// Operators for C++ programs.
inline Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
inline Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
inline Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
inline Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
inline Tensor operator+(const Tensor& a, Scalar b) { return add(a, b); }
inline Tensor operator-(const Tensor& a, Scalar b) { return sub(a, b); }
inline Tensor operator*(const Tensor& a, Scalar b) { return mul(a, b); }
inline Tensor operator/(const Tensor& a, Scalar b) { return div(a, b); }
inline Tensor operator*(Scalar a, const Tensor& b) { return mul(b, a); }
inline Tensor operator-(const Tensor& a) { return neg(a); }

}  // namespace tg
