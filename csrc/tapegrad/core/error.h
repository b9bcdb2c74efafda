// Exceptions in PyTorch's (and so Python's) categories. Every message starts with the op that raised
// it, in brackets, and names the shapes or values involved: fail and the checks take the op first
// and write the "[op] " themselves. The bindings map each class to its Python exception type.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

namespace tg {

struct Error : std::runtime_error { using std::runtime_error::runtime_error; };               // RuntimeError
struct IndexError : std::runtime_error { using std::runtime_error::runtime_error; };          // IndexError
struct TypeError : std::runtime_error { using std::runtime_error::runtime_error; };           // TypeError
struct ValueError : std::runtime_error { using std::runtime_error::runtime_error; };          // ValueError
struct NotImplementedError : std::runtime_error { using std::runtime_error::runtime_error; };  // NotImplementedError
struct MemoryError : std::runtime_error { using std::runtime_error::runtime_error; };          // MemoryError

// Throws E("[op] " + parts...). `op` is anything streamable: a literal or a runtime name.
template <typename E = Error, typename Op, typename... Parts>
[[noreturn]] void fail(const Op& op, const Parts&... parts) {
  std::ostringstream message;
  message << '[' << op << "] ";
  (message << ... << parts);
  throw E(message.str());
}

}  // namespace tg

// TG_CHECK(condition, op, message parts...): the message is only formatted when the check fails,
// so checks cost one branch on the hot path.
#define TG_CHECK(condition, op, ...) \
  do { if (!(condition)) ::tg::fail<::tg::Error>(op __VA_OPT__(,) __VA_ARGS__); } while (0)
#define TG_CHECK_INDEX(condition, op, ...) \
  do { if (!(condition)) ::tg::fail<::tg::IndexError>(op __VA_OPT__(,) __VA_ARGS__); } while (0)
#define TG_CHECK_TYPE(condition, op, ...) \
  do { if (!(condition)) ::tg::fail<::tg::TypeError>(op __VA_OPT__(,) __VA_ARGS__); } while (0)
#define TG_CHECK_VALUE(condition, op, ...) \
  do { if (!(condition)) ::tg::fail<::tg::ValueError>(op __VA_OPT__(,) __VA_ARGS__); } while (0)
