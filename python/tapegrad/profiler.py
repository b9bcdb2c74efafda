"""Where a step's time goes, as torch.profiler shows it.

``with tg.profiler.profile() as prof:`` records every kernel call of the ops (by the op's name:
``add``, ``matmul``, ``copy``, ``softmax``...), every backward node that runs (by its node name,
``MmBackward0``), every optimizer step (``Optimizer.step#SGD.step``) and every
``record_function("name")`` range, with its start, duration and thread, the input shapes when
``record_shapes=True`` and the bytes the event allocated when ``profile_memory=True``.
``prof.key_averages().table()`` prints PyTorch's table; ``prof.export_chrome_trace(path)`` writes
JSON that chrome://tracing and Perfetto open.

The recording is in C++ (tapegrad/core/profiler.h): when no profiler runs, each kernel call pays
one load of a flag.
"""
import enum
import functools
import json
import os
import threading
from collections import defaultdict

from . import _C
from ._atomic import atomic_write

__all__ = ["ProfilerActivity", "profile", "record_function", "FunctionEvent", "FunctionEventAvg", "EventList"]


class ProfilerActivity(enum.Enum):
    """What to profile. tapegrad records the CPU; CUDA is accepted for code written for PyTorch and
    records nothing more in this build."""
    CPU = "cpu"
    CUDA = "cuda"


class FunctionEvent:
    """One recorded range: ``name``, ``thread``, ``start_us``/``end_us`` (from the profiler's start),
    ``cpu_time_total`` (µs, its children included), ``self_cpu_time_total`` (µs, without them),
    ``input_shapes`` (with record_shapes), ``cpu_memory_usage``/``self_cpu_memory_usage`` (bytes, with
    profile_memory) and ``cpu_children``."""

    def __init__(self, name, thread, start_ns, duration_ns, input_shapes, allocated_bytes):
        self.name = self.key = name
        self.thread = thread
        self.start_us = start_ns / 1e3
        self.end_us = (start_ns + duration_ns) / 1e3
        self.cpu_time_total = duration_ns / 1e3
        self.input_shapes = input_shapes
        self.self_cpu_memory_usage = allocated_bytes
        self.cpu_children = []
        self.cpu_parent = None

    @property
    def self_cpu_time_total(self):
        return self.cpu_time_total - sum(child.cpu_time_total for child in self.cpu_children)

    @property
    def cpu_memory_usage(self):
        return self.self_cpu_memory_usage + sum(child.cpu_memory_usage for child in self.cpu_children)

    def __repr__(self):
        return (f"<FunctionEvent name={self.name!r} thread={self.thread} cpu_time_total={self.cpu_time_total:.3f}us "
                f"self_cpu_time_total={self.self_cpu_time_total:.3f}us>")


class FunctionEventAvg:
    """The events of one name (and, grouped by shape, one list of input shapes) summed: ``count``,
    ``cpu_time_total``, ``self_cpu_time_total``, ``cpu_time`` (average), memory totals."""

    def __init__(self, key, input_shapes):
        self.key = key
        self.input_shapes = input_shapes
        self.count = 0
        self.cpu_time_total = self.self_cpu_time_total = 0.0
        self.cpu_memory_usage = self.self_cpu_memory_usage = 0

    def add(self, event):
        self.count += 1
        self.cpu_time_total += event.cpu_time_total
        self.self_cpu_time_total += event.self_cpu_time_total
        self.cpu_memory_usage += event.cpu_memory_usage
        self.self_cpu_memory_usage += event.self_cpu_memory_usage

    @property
    def cpu_time(self):
        return self.cpu_time_total / self.count if self.count else 0.0

    def __repr__(self):
        return (f"<FunctionEventAvg key={self.key!r} count={self.count} cpu_time_total={self.cpu_time_total:.3f}us "
                f"self_cpu_time_total={self.self_cpu_time_total:.3f}us>")


class EventList(list):
    """A list of events (or of averages) that prints as PyTorch's table."""

    def __init__(self, events=(), record_shapes=False, profile_memory=False):
        super().__init__(events)
        self._record_shapes = record_shapes
        self._profile_memory = profile_memory

    def key_averages(self, group_by_input_shape=False):
        groups = {}
        for event in self:
            shapes = event.input_shapes if group_by_input_shape else None
            key = (event.name, repr(shapes))
            if key not in groups:
                groups[key] = FunctionEventAvg(event.name, shapes)
            groups[key].add(event)
        return EventList(groups.values(), self._record_shapes and group_by_input_shape, self._profile_memory)

    def table(self, sort_by=None, row_limit=100, max_name_column_width=55, header=None, top_level_events_only=False):
        """The rows as text: name, self and total CPU time with their shares, average, calls, and the
        input shapes and memory when they were recorded. ``sort_by`` is an attribute, such as
        ``"self_cpu_time_total"``, ``"cpu_time_total"`` or ``"count"`` (largest first)."""
        rows = list(self)
        if top_level_events_only:
            rows = [row for row in rows if getattr(row, "cpu_parent", None) is None]
        if sort_by is not None:
            rows.sort(key=lambda row: getattr(row, sort_by), reverse=True)
        if row_limit is not None and row_limit >= 0:
            rows = rows[:row_limit]
        self_total = sum(row.self_cpu_time_total for row in self)
        columns = [("Name", max_name_column_width), ("Self CPU %", 11), ("Self CPU", 11), ("CPU total %", 11),
                   ("CPU total", 11), ("CPU time avg", 12), ("# of Calls", 11)]
        if self._profile_memory:
            columns += [("CPU Mem", 11), ("Self CPU Mem", 13)]
        show_shapes = self._record_shapes and any(getattr(row, "input_shapes", None) for row in rows)
        if show_shapes:
            columns.append(("Input Shapes", 40))
        line = "-" * (sum(width for _, width in columns) + 2 * (len(columns) - 1))
        out = [header] if header else []
        out += [line, "  ".join(title.rjust(width) if index else title.ljust(width)
                                for index, (title, width) in enumerate(columns)), line]
        for row in rows:
            name = row.key if len(row.key) <= max_name_column_width else row.key[:max_name_column_width - 3] + "..."
            cells = [name.ljust(max_name_column_width), _percent(row.self_cpu_time_total, self_total),
                     _time(row.self_cpu_time_total), _percent(row.cpu_time_total, self_total),
                     _time(row.cpu_time_total), _time(row.cpu_time_total / max(getattr(row, "count", 1), 1)),
                     str(getattr(row, "count", 1))]
            if self._profile_memory:
                cells += [_bytes(row.cpu_memory_usage), _bytes(row.self_cpu_memory_usage)]
            if show_shapes:
                cells.append(str(row.input_shapes or []))
            out.append("  ".join(cell if index == 0 else cell.rjust(width)
                                 for index, (cell, (_, width)) in enumerate(zip(cells, columns))))
        out += [line, f"Self CPU time total: {_time(self_total)}"]
        return "\n".join(out) + "\n"

    def total_average(self):
        total = FunctionEventAvg("Total", None)
        for event in self:
            total.add(event)
        return total


def _time(us):
    if us >= 1e6:
        return f"{us / 1e6:.3f}s"
    if us >= 1e3:
        return f"{us / 1e3:.3f}ms"
    return f"{us:.3f}us"


def _percent(part, whole):
    return f"{100.0 * part / whole:.2f}%" if whole > 0 else "0.00%"


def _bytes(count):
    for unit, size in (("Gb", 1 << 30), ("Mb", 1 << 20), ("Kb", 1 << 10)):
        if abs(count) >= size:
            return f"{count / size:.2f} {unit}"
    return f"{count} b"


class profile:
    """A context manager that records what runs inside it (in every thread), as torch.profiler.profile:

        with tg.profiler.profile(record_shapes=True) as prof:
            train_step()
        print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=10))

    One profiler runs at a time; ``activities``, ``with_stack`` and ``schedule`` are accepted for
    PyTorch code and change nothing."""

    def __init__(self, activities=None, record_shapes=False, profile_memory=False, with_stack=False,
                 schedule=None, on_trace_ready=None, enabled=True):
        self.record_shapes = record_shapes
        self.profile_memory = profile_memory
        self.enabled = enabled
        self.on_trace_ready = on_trace_ready
        self._events = None

    def __enter__(self):
        if self.enabled:
            _C._profiler_start(self.record_shapes, self.profile_memory)
        return self

    def __exit__(self, *exc_info):
        if self.enabled:
            self._collect(_C._profiler_stop())
            if self.on_trace_ready is not None:
                self.on_trace_ready(self)
        return False

    start = __enter__

    def stop(self):
        self.__exit__(None, None, None)

    def step(self):
        """For PyTorch's schedule-driven loops: every step is recorded here."""

    def _collect(self, raw):
        events = [FunctionEvent(name, thread, start, duration, [list(shape) for shape in shapes] if shapes is not None
                                else None, allocated)
                  for name, thread, start, duration, shapes, allocated in raw]
        # Nesting, per thread, by time: an event's parent is the innermost one that encloses it.
        by_thread = defaultdict(list)
        for event in events:
            by_thread[event.thread].append(event)
        for thread_events in by_thread.values():
            thread_events.sort(key=lambda event: (event.start_us, -event.end_us))
            stack = []
            for event in thread_events:
                while stack and stack[-1].end_us <= event.start_us:
                    stack.pop()
                if stack and event.end_us <= stack[-1].end_us:
                    event.cpu_parent = stack[-1]
                    stack[-1].cpu_children.append(event)
                stack.append(event)
        events.sort(key=lambda event: event.start_us)
        self._events = EventList(events, self.record_shapes, self.profile_memory)

    def events(self):
        """Every recorded event, in order of start."""
        if self._events is None:
            raise RuntimeError("[profiler] no results yet: leave the profile() block first")
        return self._events

    def key_averages(self, group_by_input_shape=False):
        """The events averaged by name (and input shapes): ``.table(...)`` prints them."""
        return self.events().key_averages(group_by_input_shape)

    def table(self, **kwargs):
        return self.events().table(**kwargs)

    def export_chrome_trace(self, path):
        """Writes the events as Chrome trace JSON (complete "X" events, times in µs)."""
        trace = []
        for event in self.events():
            entry = {"name": event.name, "ph": "X", "cat": "cpu_op", "ts": event.start_us,
                     "dur": event.cpu_time_total, "pid": os.getpid(), "tid": event.thread}
            args = {}
            if event.input_shapes is not None:
                args["Input Dims"] = event.input_shapes
            if self.profile_memory:
                args["Allocated Bytes"] = event.self_cpu_memory_usage
            if args:
                entry["args"] = args
            trace.append(entry)
        with atomic_write(path, "w") as file:
            json.dump({"traceEvents": trace, "displayTimeUnit": "ms"}, file)
        return path


class record_function:
    """A named range in the profile (context manager or decorator), as torch.profiler.record_function;
    free when no profiler runs."""

    def __init__(self, name, args=None):
        self.name = name
        self._pushed = threading.local()

    def __enter__(self):
        self._pushed.value = _C._profiler_push(self.name)
        return self

    def __exit__(self, *exc_info):
        if getattr(self._pushed, "value", False):
            _C._profiler_pop()
        return False

    def __call__(self, function):
        @functools.wraps(function)
        def wrapped(*args, **kwargs):
            with record_function(self.name):
                return function(*args, **kwargs)
        return wrapped
