// Exceptions in PyTorch's (and so Python's) categories. Every message starts with "[op]" and names
// the shapes or values involved; the bindings map each class to its Python exception type.
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

template <typename E = Error, typename... Parts>
[[noreturn]] void fail(const Parts&... parts) {
  std::ostringstream message;
  (message << ... << parts);
  throw E(message.str());
}

}  // namespace tg

// The message is only formatted when the check fails, so checks cost one branch on the hot path.
#define TG_CHECK(condition, ...) \
  do { if (!(condition)) ::tg::fail<::tg::Error>(__VA_ARGS__); } while (0)
#define TG_CHECK_INDEX(condition, ...) \
  do { if (!(condition)) ::tg::fail<::tg::IndexError>(__VA_ARGS__); } while (0)
#define TG_CHECK_TYPE(condition, ...) \
  do { if (!(condition)) ::tg::fail<::tg::TypeError>(__VA_ARGS__); } while (0)
#define TG_CHECK_VALUE(condition, ...) \
  do { if (!(condition)) ::tg::fail<::tg::ValueError>(__VA_ARGS__); } while (0)
