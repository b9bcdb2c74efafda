#include "tapegrad/core/inference_mode.h"

namespace tg {

namespace {
thread_local bool t_inference_mode = false;
}

bool InferenceMode::is_enabled() { return t_inference_mode; }
void InferenceMode::set_enabled(bool enabled) { t_inference_mode = enabled; }

}  // namespace tg
