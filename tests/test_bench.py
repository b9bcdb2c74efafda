"""The benchmark harness's machinery, exercised with plain Python callables (no tapegrad needed)."""

import itertools
import time
import types

from bench import harness
from bench.harness import Case, Result

# Stand-ins for library modules: run_case only needs something non-None to hand to a setup.
LIBRARIES = {name: types.SimpleNamespace(name=name) for name in harness.CONTESTANTS}


def busy_wait(nanoseconds):
    end = time.perf_counter_ns() + nanoseconds
    while time.perf_counter_ns() < end:
        pass


class FakeClock:
    """harness.clock for tests: time moves only when a stand-in function says it took some."""

    def __init__(self):
        self.now = 0

    def __call__(self):
        return self.now

    def taking(self, nanoseconds):
        def function():
            self.now += nanoseconds
        return function


def test_calibration_sizes_batches_by_the_slowest_contestant(monkeypatch):
    clock = FakeClock()
    monkeypatch.setattr(harness, "clock", clock)
    functions = {"fast": clock.taking(1_000), "slow": clock.taking(20_000)}
    assert harness.calibrate(functions, target_ns=2_000_000) == 100  # 100 calls of 20 µs make 2 ms


def test_calibration_never_goes_below_one_call():
    assert harness.calibrate({"slow": lambda: busy_wait(1_000_000)}, target_ns=10_000) == 1


def test_contestants_take_turns_batch_by_batch():
    calls = []
    functions = {name: (lambda name=name: calls.append(name)) for name in "abc"}
    harness.sample(functions, inner=2, repeat=3)
    assert "".join(calls) == "aabbcc" * 3


def test_settling_pauses_and_warms_each_contestant_before_its_batch(monkeypatch):
    calls, pauses = [], []
    clock = FakeClock()
    monkeypatch.setattr(harness, "clock", clock)
    monkeypatch.setattr(harness.time, "sleep", pauses.append)
    # Each call takes half the warm-up time, so the warm-up is two untimed calls.
    call = clock.taking(harness.WARM_UP_NS // 2)
    functions = {name: (lambda name=name: (calls.append(name), call())) for name in "ab"}
    harness.sample(functions, inner=2, repeat=2, settle_s=0.2)
    assert "".join(calls) == "aaaabbbb" * 2  # two untimed calls, then the batch of two
    assert pauses == [0.2] * 4


def test_reported_time_is_the_median_per_call(monkeypatch):
    # Batches of 10 calls last 300, 100 and 200 ns by the fake clock: median 200 ns, 20 ns per call.
    ticks = itertools.accumulate([0, 300, 0, 100, 0, 200])
    monkeypatch.setattr(harness, "calibrate", lambda functions, target_ns: 10)
    monkeypatch.setattr(harness, "clock", lambda: next(ticks))
    assert harness.measure({"only": lambda: None}, repeat=3, target_ns=1) == {"only": 20}


def test_times_and_ratios_are_formatted_with_units_and_dashes():
    assert harness.format_time(None) == "-"
    assert harness.format_time(412.3) == "412.30 ns"
    assert harness.format_time(1_500) == "1.50 µs"
    assert harness.format_time(2_500_000) == "2.50 ms"
    assert harness.format_ratio(50, 100) == "0.50"
    assert harness.format_ratio(50, None) == "-"
    result = Result("case", per_call_ns={"tapegrad": 3_000, "torch": 1_500, "numpy": 6_000})
    assert harness.result_cells(result) == ["case", "3.00 µs", "1.50 µs", "6.00 µs", "2.00", "0.50", ""]


def test_missing_contestant_and_missing_library_show_dashes():
    case = Case("no numpy", torchlike=lambda lib: lambda: None)
    cells = harness.result_cells(harness.run_case(case, {**LIBRARIES, "torch": None}, repeat=2, target_ns=1_000))
    assert cells[0] == "no numpy" and cells[1].endswith("s")  # tapegrad was timed
    assert cells[2:] == ["-", "-", "-", "-", ""]


def test_failing_setup_or_call_is_reported_in_the_row_and_others_still_run():
    def torchlike(lib):
        if lib.name == "tapegrad":
            raise NotImplementedError("[backward] not implemented yet")
        return lambda: None

    def numpy(lib):
        return lambda: 1 / 0

    result = harness.run_case(Case("fails", torchlike, numpy), LIBRARIES, repeat=2, target_ns=1_000)
    assert set(result.per_call_ns) == {"torch"}
    cells = harness.result_cells(result)
    assert cells[1] == "error" and cells[3] == "error"
    assert cells[-1] == (
        "error: tapegrad: NotImplementedError: [backward] not implemented yet; "
        "error: numpy: ZeroDivisionError: division by zero"
    )


def test_rows_align_under_the_header_and_render_as_markdown():
    widths = harness.column_widths(["a longer case name"])
    header = harness.format_row(list(harness.COLUMNS), widths)
    row = harness.format_row(["short", "1.00 µs", "2.00 µs", "-", "0.50", "-", ""], widths)
    assert len(row) == len(header) - len("  note")
    assert row.index("0.50") + len("0.50") == header.index("tg/torch") + len("tg/torch")
    assert harness.format_row(["x|y", "1", "2", "3", "4", "5", "e"], widths, markdown=True) == (
        "| x\\|y | 1 | 2 | 3 | 4 | 5 | e |"
    )


def test_every_suite_is_discovered_and_exposes_cases():
    suites = harness.discover_suites()
    assert {"creation", "views", "copy", "overhead"} <= set(suites)
    for suite in suites:
        assert all(isinstance(case, Case) for case in harness.load_suite(suite))
