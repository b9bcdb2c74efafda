// tapegrad.profiler's recording (core/profiler.h): start and stop, and record_function's ranges.
#include "arguments.h"
#include "bindings.h"
#include "tapegrad/core/profiler.h"

namespace tg::python {

void bind_profiler(py::module_& module) {
  module.def("_profiler_start", &profiler::start, py::arg("record_shapes"), py::arg("profile_memory"));
  // Each event as (name, thread, start_ns, duration_ns, input shapes or None, allocated bytes).
  module.def("_profiler_stop", [] {
    const std::vector<profiler::Event> events = profiler::stop();
    py::list result;
    for (const profiler::Event& event : events) {
      py::object shapes = py::none();
      if (event.input_shapes) {
        py::list list;
        for (const DimVector& shape : *event.input_shapes) list.append(make_size(shape));
        shapes = std::move(list);
      }
      result.append(py::make_tuple(event.name, event.thread, event.start_ns, event.duration_ns, shapes,
                                   event.allocated_bytes));
    }
    return result;
  });
  module.def("_profiler_enabled", &profiler::is_enabled);
  module.def("_profiler_push", [](std::string name) { return profiler::push(std::move(name)); });
  module.def("_profiler_pop", &profiler::pop);
}

}  // namespace tg::python
