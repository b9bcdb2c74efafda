"""DataLoader(num_workers=N): the batches of num_workers=0 (and of torch's DataLoader), in order,
from N processes that are seeded, initialised and shut down as PyTorch's are."""

import multiprocessing
import os
import random
import time

import numpy as np
import pytest
import torch

import tapegrad as tg
from tapegrad.utils.data import DataLoader, Dataset, TensorDataset, get_worker_info


class Squares(Dataset):
    """Sample i: (float32 [i, i*i], i, which worker read it)."""

    def __init__(self, count=23, fail_at=None, delay=0.0, worker_info=get_worker_info):
        self.count, self.fail_at, self.delay, self.worker_info = count, fail_at, delay, worker_info

    def __len__(self):
        return self.count

    def __getitem__(self, index):
        if index == self.fail_at:
            raise ValueError(f"sample {index} is broken")
        time.sleep(self.delay)
        info = self.worker_info()
        return np.array([index, index * index], np.float32), index, -1 if info is None else info.id


def _as_lists(batches):
    return [[item.tolist() if hasattr(item, "tolist") else item for item in batch] for batch in batches]


def no_children_left():
    return multiprocessing.active_children() == []


@pytest.mark.parametrize("workers", [1, 2])
def test_batches_are_those_of_one_process_and_of_torch(workers):
    ours = _as_lists(DataLoader(Squares(), batch_size=4, num_workers=workers))
    torchs = _as_lists(torch.utils.data.DataLoader(Squares(worker_info=torch.utils.data.get_worker_info), batch_size=4,
                                                         num_workers=workers))
    alone = _as_lists(DataLoader(Squares(), batch_size=4))
    assert [batch[:2] for batch in ours] == [batch[:2] for batch in torchs] == [batch[:2] for batch in alone]
    # Batch i is read by worker i % N, as in PyTorch.
    assert [batch[2] for batch in ours] == [batch[2] for batch in torchs]
    assert no_children_left()


def test_shuffled_batches_do_not_depend_on_the_number_of_workers():
    x = tg.arange(40.0).reshape(20, 2)
    orders = []
    for workers in (0, 2):
        generator = tg.Generator()
        generator.manual_seed(7)
        loader = DataLoader(TensorDataset(x), batch_size=6, shuffle=True, generator=generator, num_workers=workers)
        orders.append([batch[0].tolist() for batch in loader])
    assert orders[0] == orders[1]


def test_batch_size_none_gives_samples():
    samples = list(DataLoader(Squares(5), batch_size=None, num_workers=2))
    assert [sample[1] for sample in samples] == [0, 1, 2, 3, 4]


class Seeds(Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, index):
        info = get_worker_info()
        return info.id, info.seed, info.num_workers, random.random(), float(tg.rand(1).item()), os.getpid()


def test_workers_are_seeded_base_seed_plus_id_and_initialised():
    generator = tg.Generator()
    generator.manual_seed(11)
    loader = DataLoader(Seeds(), batch_size=None, num_workers=2, generator=generator,
                        worker_init_fn=lambda worker_id: random.seed(100 + worker_id))
    samples = list(loader)
    base = samples[0][1]
    assert [sample[:3] for sample in samples] == [[0, base, 2], [1, base + 1, 2], [0, base, 2], [1, base + 1, 2]]
    # worker_init_fn ran after the seeding: random comes from its seed.
    assert samples[0][3] == random.Random(100).random() and samples[1][3] == random.Random(101).random()
    tg.manual_seed(base + 1)
    assert samples[1][4] == float(tg.rand(1).item())
    assert samples[0][5] != os.getpid() and samples[0][5] != samples[1][5]
    assert get_worker_info() is None


def test_an_exception_in_a_worker_is_raised_naming_it():
    with pytest.raises(ValueError, match=r"(?s)Caught ValueError in DataLoader worker process 1\..*sample 5 is broken"):
        list(DataLoader(Squares(fail_at=5), batch_size=4, num_workers=2))
    assert no_children_left()


def test_worker_init_fn_failure_is_raised():
    def broken(worker_id):
        raise KeyError("no init")

    with pytest.raises(KeyError, match="worker process 0"):
        list(DataLoader(Squares(), batch_size=4, num_workers=1, worker_init_fn=broken))


def test_a_pass_left_early_shuts_its_workers_down():
    loader = DataLoader(Squares(), batch_size=2, num_workers=2, prefetch_factor=4)
    batches = iter(loader)
    next(batches)
    batches.close()
    assert no_children_left()


def test_persistent_workers_serve_every_pass():
    loader = DataLoader(Seeds(), batch_size=None, num_workers=2, persistent_workers=True)
    first, second = list(loader), list(loader)
    assert [s[5] for s in first] == [s[5] for s in second]  # the same processes
    loader._pool.shutdown()
    assert no_children_left()


def test_timeout_is_an_error():
    with pytest.raises(RuntimeError, match="timed out after 0.2 seconds"):
        list(DataLoader(Squares(2, delay=1.0), batch_size=2, num_workers=1, timeout=0.2))
    assert no_children_left()


def test_spawned_workers_work():
    # One worker: a spawned one imports this module, torch included, which takes seconds.
    loader = DataLoader(Squares(8), batch_size=4, num_workers=1, multiprocessing_context="spawn")
    assert [batch[1].tolist() for batch in loader] == [[0, 1, 2, 3], [4, 5, 6, 7]]


class Dies(Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, index):
        os._exit(3)


def test_a_worker_that_dies_is_an_error_not_a_hang():
    with pytest.raises(RuntimeError, match=r"DataLoader worker \(pid\(s\) \d+.*exited unexpectedly"):
        list(DataLoader(Dies(), batch_size=2, num_workers=1))
    assert no_children_left()
