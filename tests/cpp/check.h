// What every C++ test shares: check() counts a result and prints each failure; summary() prints
// the closing "N passed, M failed" line and gives main's exit status.
#pragma once

#include <cstdio>
#include <string>

namespace cpp_test {

inline int passed = 0;
inline int failed = 0;

inline void check(bool ok, const std::string& what) {
  if (ok) {
    ++passed;
  } else {
    ++failed;
    std::printf("FAIL: %s\n", what.c_str());
  }
}

inline int summary() {
  std::printf("%d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}

}  // namespace cpp_test
