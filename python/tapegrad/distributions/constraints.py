"""The constraints distributions check their parameters and values against (validate_args), as
torch.distributions.constraints: each checks a tensor elementwise."""

from .. import _C

__all__ = ["Constraint", "real", "positive", "unit_interval", "boolean", "simplex", "integer_interval",
           "interval", "half_open_interval", "greater_than", "less_than", "independent", "dependent",
           "is_dependent"]


def _both(first, second):
    """Elementwise first and second, of bool tensors."""
    return _C.where(first, second, False)


class Constraint:
    """A region of values: check(value) is a bool tensor, True where value lies in it."""
    event_dim = 0

    def check(self, value):
        raise NotImplementedError

    def __repr__(self):
        return type(self).__name__[1:] + "()"


class _Dependent(Constraint):
    """A constraint that depends on other parameters (checked by the distribution itself)."""

    def check(self, value):
        raise ValueError("Cannot determine validity of dependent constraint")


def is_dependent(constraint):
    """Whether the constraint can only be checked together with other parameters."""
    return isinstance(constraint, _Dependent)


class _Real(Constraint):
    def check(self, value):
        return value == value  # False only at NaN


def _bound(value):
    """A bound as torch prints it: a one-element tensor as its number."""
    return value.item() if hasattr(value, "numel") and value.numel() == 1 else value


class _GreaterThan(Constraint):
    def __init__(self, lower_bound):
        self.lower_bound = lower_bound

    def check(self, value):
        return self.lower_bound < value

    def __repr__(self):
        return f"GreaterThan(lower_bound={_bound(self.lower_bound)})"


class _LessThan(Constraint):
    def __init__(self, upper_bound):
        self.upper_bound = upper_bound

    def check(self, value):
        return value < self.upper_bound

    def __repr__(self):
        return f"LessThan(upper_bound={_bound(self.upper_bound)})"


class _Interval(Constraint):
    def __init__(self, lower_bound, upper_bound):
        self.lower_bound, self.upper_bound = lower_bound, upper_bound

    def check(self, value):
        return _both(self.lower_bound <= value, value <= self.upper_bound)

    def __repr__(self):
        return f"Interval(lower_bound={_bound(self.lower_bound)}, upper_bound={_bound(self.upper_bound)})"


class _HalfOpenInterval(_Interval):
    def check(self, value):
        return _both(self.lower_bound <= value, value < self.upper_bound)

    def __repr__(self):
        return f"HalfOpenInterval(lower_bound={_bound(self.lower_bound)}, upper_bound={_bound(self.upper_bound)})"


class _IntegerInterval(_Interval):
    def check(self, value):
        return _both(value % 1 == 0, _both(self.lower_bound <= value, value <= self.upper_bound))

    def __repr__(self):
        return f"IntegerInterval(lower_bound={self.lower_bound}, upper_bound={self.upper_bound})"


class _Boolean(Constraint):
    def check(self, value):
        return _C.where(value == 0, True, value == 1)


class _Independent(Constraint):
    """A constraint on the last `event_dim` dims together: all their elements must satisfy it."""

    def __init__(self, base, event_dim):
        self.base, self.event_dim = base, event_dim

    def check(self, value):
        result = self.base.check(value)
        for _ in range(self.event_dim):
            result = result.all(-1)
        return result

    def __repr__(self):
        return f"IndependentConstraint({self.base!r}, {self.event_dim})"


class _Simplex(Constraint):
    """Non-negative along the last dim, summing to one."""
    event_dim = 1

    def check(self, value):
        return _both((value >= 0).all(-1), (value.sum(-1) - 1).abs() < 1e-6)


dependent = _Dependent()
real = _Real()
positive = _GreaterThan(0.0)
unit_interval = _Interval(0.0, 1.0)
boolean = _Boolean()
simplex = _Simplex()
integer_interval = _IntegerInterval
interval = _Interval
greater_than = _GreaterThan
less_than = _LessThan
independent = _Independent
half_open_interval = _HalfOpenInterval
