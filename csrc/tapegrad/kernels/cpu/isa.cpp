// Instruction-set selection (isa.h): what the CPU supports, and the TAPEGRAD_CPU and set_isa overrides.
#include "tapegrad/kernels/cpu/isa.h"

#include <atomic>
#include <cstdlib>
#include <string>

#include "tapegrad/core/error.h"

namespace tg::cpu {

namespace {

Isa detect_isa_once() {
  __builtin_cpu_init();
  // __builtin_cpu_supports also checks (via XGETBV) that the OS saves the wider registers.
  const bool has_avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  const bool has_avx512 = has_avx2 && __builtin_cpu_supports("avx512f") &&
                          __builtin_cpu_supports("avx512vl") &&
                          __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512bw");
  if (has_avx512) return Isa::Avx512;
  if (has_avx2) return Isa::Avx2;
  return Isa::Generic;
}

void require_supported(Isa isa, const std::string& who) {
  TG_CHECK_VALUE(static_cast<int>(isa) <= static_cast<int>(detected_isa()), "cpu_isa", who, " asks for ",
                 isa_name(isa), ", but this CPU supports at most ", isa_name(detected_isa()));
}

// The ISA chosen before any set_isa(): TAPEGRAD_CPU if set, else the best the CPU has. A bad value
// throws, and since a throwing initialiser leaves the static uninitialised, every later call
// reports the same error instead of silently running something else.
Isa initial_isa() {
  static const Isa isa = [] {
    const char* value = std::getenv("TAPEGRAD_CPU");
    if (value == nullptr || *value == '\0') return detected_isa();
    const std::string name(value);
    Isa requested;
    if (name == "generic") {
      requested = Isa::Generic;
    } else if (name == "avx2") {
      requested = Isa::Avx2;
    } else if (name == "avx512") {
      requested = Isa::Avx512;
    } else {
      fail<ValueError>("cpu_isa", "TAPEGRAD_CPU=", name, " is not one of generic, avx2, avx512");
    }
    require_supported(requested, "TAPEGRAD_CPU=" + name);
    return requested;
  }();
  return isa;
}

// -1 until the first use or set_isa(); an atomic so a set_isa() racing a kernel is merely early or
// late, never torn.
std::atomic<int> active_isa_value{-1};

}  // namespace

Isa detected_isa() {
  static const Isa isa = detect_isa_once();
  return isa;
}

Isa active_isa() {
  int value = active_isa_value.load(std::memory_order_relaxed);
  if (value < 0) {
    value = static_cast<int>(initial_isa());
    int expected = -1;
    // A set_isa() that got in first wins.
    if (!active_isa_value.compare_exchange_strong(expected, value, std::memory_order_relaxed))
      value = expected;
  }
  return static_cast<Isa>(value);
}

void set_isa(Isa isa) {
  require_supported(isa, std::string("set_isa(") + isa_name(isa) + ")");
  active_isa_value.store(static_cast<int>(isa), std::memory_order_relaxed);
}

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::Generic: return "generic";
    case Isa::Avx2: return "avx2";
    case Isa::Avx512: return "avx512";
  }
  return "unknown";
}

}  // namespace tg::cpu
