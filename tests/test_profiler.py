"""tapegrad.profiler: what a profile records (ops by name, backward nodes, optimizer steps, ranges),
its table, the Chrome trace, threads, shapes and memory."""
import json
import threading

import pytest

import tapegrad as tg
import tapegrad.nn as nn
import tapegrad.nn.functional as F
from tapegrad import profiler


def training_step():
    tg.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    optimizer = tg.optim.SGD(model.parameters(), lr=0.1)
    x, y = tg.randn(5, 4), tg.tensor([0, 1, 1, 0, 1])
    return lambda: (optimizer.zero_grad(), F.cross_entropy(model(x), y).backward(), optimizer.step())


def names(prof):
    return [event.name for event in prof.events()]


def test_records_forward_ops_backward_nodes_and_the_optimizer_step():
    step = training_step()
    with profiler.profile() as prof:
        step()
    recorded = set(names(prof))
    for name in ("matmul", "relu", "log_softmax", "nll_loss", "AddmmBackward0", "ReluBackward0", "NllLossBackward0",
                 "LogSoftmaxBackward0",
                 "AccumulateGrad", "Optimizer.step#SGD.step", "sgd_step"):
        assert name in recorded, name


def test_events_nest_and_self_time_excludes_children():
    a = tg.ones(64, 64, requires_grad=True)
    with profiler.profile() as prof:
        with profiler.record_function("outer"):
            with profiler.record_function("inner"):
                (a @ a).sum().backward()
    events = {}
    for event in prof.events():
        events.setdefault(event.name, event)  # the first of each name
    outer, inner = events["outer"], events["inner"]
    assert inner.cpu_parent is outer and inner in outer.cpu_children
    assert events["matmul"].cpu_parent is inner  # the forward product
    assert events["MmBackward0"].cpu_parent is inner and events["MmBackward0"].cpu_children[0].name == "matmul"
    assert outer.start_us <= inner.start_us and inner.end_us <= outer.end_us
    assert outer.self_cpu_time_total == pytest.approx(outer.cpu_time_total - inner.cpu_time_total)
    assert all(event.self_cpu_time_total >= 0 for event in prof.events())


def test_key_averages_table_counts_calls_and_sorts():
    a = tg.ones(8)
    with profiler.profile() as prof:
        for _ in range(3):
            a + a
        a * a
    averages = {row.key: row for row in prof.key_averages()}
    assert averages["add"].count == 3 and averages["mul"].count == 1
    assert averages["add"].cpu_time == pytest.approx(averages["add"].cpu_time_total / 3)
    table = prof.key_averages().table(sort_by="count", row_limit=1)
    lines = table.splitlines()
    assert "Name" in lines[1] and "Self CPU %" in lines[1] and "# of Calls" in lines[1]
    assert lines[3].startswith("add") and "mul" not in table.split("Self CPU time total")[0].split("\n", 3)[3]
    assert table.rstrip().splitlines()[-1].startswith("Self CPU time total:")


def test_shapes_and_memory_when_asked():
    a, b = tg.ones(2, 3), tg.ones(3, 4)
    with profiler.profile(record_shapes=True, profile_memory=True) as prof:
        with profiler.record_function("product"):
            a @ b
    matmul = next(event for event in prof.events() if event.name == "matmul")
    assert [tuple(shape) for shape in matmul.input_shapes] == [(2, 4), (2, 3), (3, 4)]
    product = next(event for event in prof.events() if event.name == "product")
    assert product.cpu_memory_usage >= 2 * 4 * 4  # the float32 (2, 4) result
    grouped = prof.key_averages(group_by_input_shape=True).table()
    assert "Input Shapes" in grouped and "CPU Mem" in grouped
    with profiler.profile() as plain:
        a @ b
    assert all(event.input_shapes is None for event in plain.events())
    assert "CPU Mem" not in plain.key_averages().table()


def test_chrome_trace_holds_one_complete_event_per_op_and_node(tmp_path):
    step = training_step()
    with profiler.profile(record_shapes=True) as prof:
        step()
    path = tmp_path / "trace.json"
    prof.export_chrome_trace(str(path))
    trace = json.loads(path.read_text())["traceEvents"]
    assert len(trace) == len(prof.events())
    assert all(event["ph"] == "X" and event["dur"] >= 0 and "ts" in event and "tid" in event for event in trace)
    assert sorted(event["name"] for event in trace) == sorted(names(prof))
    assert any("Input Dims" in event.get("args", {}) for event in trace)


def test_threads_are_recorded_apart():
    def work():
        with profiler.record_function("worker"):
            tg.ones(4) + tg.ones(4)

    with profiler.profile() as prof:
        thread = threading.Thread(target=work)
        thread.start()
        thread.join()
        work()
    workers = [event for event in prof.events() if event.name == "worker"]
    assert len(workers) == 2 and workers[0].thread != workers[1].thread
    for worker in workers:
        assert any(child.name == "add" for child in worker.cpu_children)


def test_nothing_is_recorded_outside_a_profile_and_one_runs_at_a_time():
    tg.ones(3) + tg.ones(3)
    with profiler.record_function("ignored"):
        pass
    with profiler.profile() as prof:
        with pytest.raises(RuntimeError, match=r"\[profiler\] a profiler is already running"):
            with profiler.profile():
                pass
    assert names(prof) == []
    assert not tg._C._profiler_enabled()
    with pytest.raises(RuntimeError, match=r"\[profiler\] no results yet"):
        profiler.profile().events()


def test_record_function_as_a_decorator_and_disabled_profile():
    @profiler.record_function("decorated")
    def double(x):
        return x * 2

    ones = tg.ones(2)
    with profiler.profile() as prof:
        double(ones)
    assert names(prof)[0] == "decorated" and "mul" in names(prof)
    assert all(event.cpu_parent.name == "decorated" for event in prof.events()[1:])
    with profiler.profile(enabled=False):
        assert not tg._C._profiler_enabled()


def test_train_command_writes_a_trace(tmp_path):
    import numpy as np

    from tapegrad import train

    class Split:  # what train_epoch needs of a dataset: its normalisation
        @staticmethod
        def normalize(images):
            return images.astype(np.float32) / 255.0

    class Progress:
        def update(self, _):
            pass

        def set_postfix(self, _):
            pass

    generator = np.random.default_rng(0)
    loader = [(generator.integers(0, 256, (8, 28 * 28), dtype=np.uint8), generator.integers(0, 10, 8))
              for _ in range(train.PROFILE_STEPS + 2)]
    tg.manual_seed(0)
    model = train.build_model([28 * 28, 16, 10])
    optimizer = tg.optim.SGD(model.parameters(), lr=0.1)
    path = tmp_path / "trace.json"
    train.train_epoch(model, Split, loader, nn.CrossEntropyLoss(), optimizer, Progress(), profile_path=str(path))
    steps = [event for event in json.loads(path.read_text())["traceEvents"]
             if event["name"] == "Optimizer.step#SGD.step"]
    assert len(steps) == train.PROFILE_STEPS
