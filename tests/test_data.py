"""tapegrad.utils.data against torch.utils.data: DataLoader arguments, samplers, datasets,
collation, seeding, and batches that never alias the dataset.

TensorDataset also takes NumPy arrays (a tapegrad extra the training command uses); some of the
batching tests use them, with an array that counts its indexing calls.
"""
import collections
import warnings

import numpy as np
import pytest
import torch
import torch.utils.data as torch_data

import tapegrad as tg
import tapegrad.utils.data as tg_data
from tapegrad.utils.data import (
    BatchSampler,
    ConcatDataset,
    DataLoader,
    Dataset,
    IterableDataset,
    RandomSampler,
    SequentialSampler,
    Subset,
    SubsetRandomSampler,
    TensorDataset,
    WeightedRandomSampler,
    default_collate,
    default_convert,
    random_split,
)

LIBRARIES = {"tapegrad": (tg, tg_data), "torch": (torch, torch_data)}


def plain(value):
    """A nested batch as plain Python, tensors as (dtype name, values), so tapegrad's and torch's
    batches compare with ==."""
    if hasattr(value, "tolist") and hasattr(value, "dtype") and not isinstance(value, np.ndarray):
        return ("tensor", str(value.dtype).split(".")[-1], value.tolist())
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return (type(value).__name__, *[plain(item) for item in value])
    if isinstance(value, (list, tuple)):
        return type(value)(plain(item) for item in value)
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    return value


def both(make):
    """make(lib, data) evaluated for tapegrad and torch, as plain values."""
    return [plain(make(lib, data)) for lib, data in LIBRARIES.values()]


def assert_same(make):
    ours, theirs = both(make)
    assert ours == theirs


class CountingArray(np.ndarray):
    """An array that counts how often it is indexed."""

    def __getitem__(self, index):
        CountingArray.calls += 1
        return np.asarray(self).__getitem__(index)


def counting(array):
    CountingArray.calls = 0
    return np.asarray(array).view(CountingArray)


def features_labels(n=10):
    x = np.arange(n * 3, dtype=np.float32).reshape(n, 3)
    y = np.arange(n, dtype=np.int64)
    return x, y


class Squares:
    """A generic dataset, written once for both libraries: sample i is (i, i*i)."""

    def __init__(self, n):
        self.n = n
        self.reads = []

    def __getitem__(self, index):
        self.reads.append(index)
        return index, index * index

    def __len__(self):
        return self.n


# ---- TensorDataset ---------------------------------------------------------------------------


def test_tensor_dataset_sample_is_tuple_of_rows():
    x, y = features_labels()
    ds = TensorDataset(x, y)
    assert len(ds) == 10
    row, label = ds[4]
    np.testing.assert_array_equal(row, x[4])
    assert label == 4


def test_tensor_dataset_rejects_mismatched_first_dims():
    with pytest.raises(ValueError, match=r"size mismatch.*\[4, 3\].*\(4, 2\), \(3,\)"):
        TensorDataset(np.zeros((4, 2)), np.zeros(3))


def test_tensor_dataset_needs_a_tensor():
    with pytest.raises(ValueError, match="at least one tensor"):
        TensorDataset()


def test_base_dataset_requires_getitem():
    with pytest.raises(NotImplementedError, match="__getitem__"):
        Dataset()[0]


# ---- batching over a TensorDataset -----------------------------------------------------------


def test_unshuffled_batches_are_consecutive_rows_with_short_last_batch():
    assert_same(lambda lib, data: list(data.DataLoader(data.TensorDataset(lib.arange(10), lib.arange(10) * 2.0),
                                                       batch_size=4)))


def test_drop_last_drops_the_short_batch():
    assert_same(lambda lib, data: list(data.DataLoader(data.TensorDataset(lib.arange(10)), batch_size=4,
                                                       drop_last=True)))


@pytest.mark.parametrize("n, batch_size, drop_last", [
    (10, 4, False), (10, 4, True), (8, 4, False), (8, 4, True), (3, 4, False), (3, 4, True), (10, 1, False),
])
def test_len_matches_batches_yielded_and_torch(n, batch_size, drop_last):
    def lengths(lib, data):
        loader = data.DataLoader(data.TensorDataset(lib.arange(n)), batch_size=batch_size, drop_last=drop_last,
                                 shuffle=True)
        return len(loader), len(list(loader))
    ours, theirs = both(lengths)
    assert ours == theirs and ours[0] == ours[1]


def test_empty_dataset():
    assert_same(lambda lib, data: len(list(data.DataLoader(data.TensorDataset(lib.zeros(0)), batch_size=4))))
    for lib, data in LIBRARIES.values():  # a random permutation of nothing is refused, as in PyTorch
        with pytest.raises(ValueError, match="num_samples should be a positive integer"):
            data.DataLoader(data.TensorDataset(lib.zeros(0)), batch_size=4, shuffle=True)


def test_shuffled_epoch_visits_every_sample_once_and_keeps_rows_paired():
    tg.manual_seed(1)
    x, y = features_labels(10)
    batches = list(DataLoader(TensorDataset(tg.from_numpy(x), tg.from_numpy(y)), batch_size=3, shuffle=True))
    labels = np.concatenate([b[1].numpy() for b in batches])
    assert sorted(labels.tolist()) == list(range(10))
    assert labels.tolist() != list(range(10))
    np.testing.assert_array_equal(np.concatenate([b[0].numpy() for b in batches]), x[labels])


def test_numpy_tensor_dataset_batches_are_numpy_arrays():
    x, y = features_labels(10)
    batches = list(DataLoader(TensorDataset(x, y), batch_size=4, shuffle=True))
    assert all(isinstance(array, np.ndarray) for batch in batches for array in batch)
    labels = np.concatenate([b[1] for b in batches])
    np.testing.assert_array_equal(np.concatenate([b[0] for b in batches]), x[labels])


def test_one_gather_per_tensor_per_batch_when_shuffling():
    x, y = features_labels(10)
    x, y = counting(x), counting(y)
    batches = list(DataLoader(TensorDataset(x, y), batch_size=4, shuffle=True))
    assert CountingArray.calls == 2 * len(batches)


@pytest.mark.parametrize("shuffle", [False, True])
def test_batches_are_fresh_copies_not_views_of_the_dataset(shuffle):
    # The audit's case: dividing a batch in place must leave the dataset alone, as in PyTorch.
    x = tg.arange(12.0).reshape(6, 2)
    for (batch,) in DataLoader(TensorDataset(x), batch_size=2, shuffle=shuffle):
        batch /= 255
    assert x.tolist() == tg.arange(12.0).reshape(6, 2).tolist()
    array = np.arange(12.0).reshape(6, 2)
    for (batch,) in DataLoader(TensorDataset(array), batch_size=4, shuffle=shuffle):
        assert not np.shares_memory(batch, array)


def test_batch_of_non_contiguous_tensor_is_contiguous_copy():
    x = tg.arange(12.0).reshape(3, 4).t()
    (batch,) = next(iter(DataLoader(TensorDataset(x), batch_size=2)))
    assert batch.is_contiguous() and batch.tolist() == x[:2].tolist()


# ---- seeding ---------------------------------------------------------------------------------


def shuffled_order(epochs=1, seed=None, **loader_args):
    if seed is not None:
        tg.manual_seed(seed)
    loader = DataLoader(TensorDataset(tg.arange(20)), batch_size=5, shuffle=True, **loader_args)
    return [tg.cat([batch for (batch,) in loader]).tolist() for _ in range(epochs)]


def test_manual_seed_makes_shuffling_reproducible():
    # The audit's case: with tapegrad.manual_seed set, two runs shuffle identically.
    assert shuffled_order(3, seed=0) == shuffled_order(3, seed=0)
    assert shuffled_order(1, seed=1) != shuffled_order(1, seed=2)


def test_successive_epochs_are_shuffled_differently():
    first, second = shuffled_order(2, seed=3)
    assert first != second and sorted(first) == sorted(second) == list(range(20))


def test_generator_makes_shuffling_reproducible_without_touching_the_global_stream():
    tg.manual_seed(0)
    expected_draw = tg.rand(3).tolist()
    tg.manual_seed(0)
    first = shuffled_order(2, generator=tg.Generator().manual_seed(7))
    assert tg.rand(3).tolist() == expected_draw
    assert shuffled_order(2, generator=tg.Generator().manual_seed(7)) == first
    assert shuffled_order(1, generator=tg.Generator().manual_seed(8)) != first[:1]


def test_generator_must_be_a_generator():
    with pytest.raises(TypeError, match="generator must be a tapegrad.Generator"):
        DataLoader(TensorDataset(tg.zeros(3)), shuffle=True, generator=7)


# ---- arguments, as PyTorch takes and checks them ---------------------------------------------


@pytest.mark.parametrize("kwargs", [
    dict(num_workers=2), dict(num_workers=2, prefetch_factor=4, persistent_workers=True, timeout=5.0),
    dict(pin_memory=True), dict(num_workers=1, worker_init_fn=lambda worker_id: None, multiprocessing_context=None),
    dict(pin_memory_device="", in_order=False),
], ids=["workers", "prefetch", "pin_memory", "worker_init_fn", "pin_device"])
def test_torch_keyword_arguments_are_accepted_and_give_the_same_batches(kwargs):
    assert_same(lambda lib, data: list(data.DataLoader(data.TensorDataset(lib.arange(7)), batch_size=3, **kwargs)))


def test_worker_init_fn_is_not_called_in_process():
    calls = []
    list(DataLoader(TensorDataset(tg.arange(4)), num_workers=2, worker_init_fn=calls.append))
    assert calls == [] and tg_data.get_worker_info() is None


@pytest.mark.parametrize("kwargs", [
    dict(num_workers=-1), dict(timeout=-1), dict(prefetch_factor=2), dict(num_workers=1, prefetch_factor=-1),
    dict(persistent_workers=True), dict(sampler=[0, 1], shuffle=True), dict(batch_sampler=[[0]], batch_size=2),
    dict(batch_sampler=[[0]], shuffle=True), dict(batch_sampler=[[0]], sampler=[0]),
    dict(batch_sampler=[[0]], drop_last=True), dict(batch_size=None, drop_last=True), dict(batch_size=0),
    dict(batch_size=-1), dict(batch_size=2.5), dict(batch_size=True),
])
def test_invalid_arguments_are_value_errors_as_in_torch(kwargs):
    for lib, data in LIBRARIES.values():
        with pytest.raises(ValueError):
            data.DataLoader(data.TensorDataset(lib.arange(4)), **kwargs)


def test_frozen_attributes_cannot_be_set_after_init():
    for lib, data in LIBRARIES.values():
        loader = data.DataLoader(data.TensorDataset(lib.arange(4)))
        with pytest.raises(ValueError, match="batch_size attribute should not be set"):
            loader.batch_size = 3


def test_custom_sampler_orders_the_batches():
    assert_same(lambda lib, data: list(data.DataLoader(data.TensorDataset(lib.arange(10), lib.arange(10) * 2),
                                                       sampler=[7, 3, 3, 0, 9], batch_size=2)))


def test_custom_batch_sampler_gives_the_batches():
    assert_same(lambda lib, data: list(data.DataLoader(data.TensorDataset(lib.arange(10)),
                                                       batch_sampler=[[4, 1], [0], [9, 8, 7]])))


def test_sampler_classes_over_a_tensor_dataset():
    def batches(lib, data):
        dataset = data.TensorDataset(lib.arange(10))
        sampler = data.BatchSampler(data.SequentialSampler(range(5)), batch_size=2, drop_last=False)
        return list(data.DataLoader(dataset, batch_sampler=sampler)), len(data.DataLoader(dataset, batch_sampler=sampler))
    assert_same(batches)


def test_batch_size_none_converts_each_sample():
    assert_same(lambda lib, data: list(data.DataLoader(data.TensorDataset(lib.arange(3)), batch_size=None)))
    assert_same(lambda lib, data: list(data.DataLoader(Squares(3), batch_size=None)))


def test_custom_collate_fn_sees_the_samples():
    def batches(lib, data):
        return list(data.DataLoader(data.TensorDataset(lib.arange(4)), batch_size=3,
                                    collate_fn=lambda samples: [len(samples), [s[0].item() for s in samples]]))
    assert_same(batches)


def test_generic_dataset_reads_samples_in_shuffled_order_and_collates_each_batch():
    tg.manual_seed(0)
    dataset = Squares(7)
    batches = list(DataLoader(dataset, batch_size=3, shuffle=True, collate_fn=list))
    assert [len(b) for b in batches] == [3, 3, 1]
    assert [sample for batch in batches for sample in batch] == [(i, i * i) for i in dataset.reads]
    assert sorted(dataset.reads) == list(range(7)) and dataset.reads != list(range(7))


def test_generic_dataset_batches_match_torch():
    assert_same(lambda lib, data: list(data.DataLoader(Squares(5), batch_size=2)))


def test_getitems_fetches_a_batch_in_one_call():
    class Batched:
        calls = 0

        def __getitems__(self, indices):
            Batched.calls += 1
            return [(i, -i) for i in indices]

        def __getitem__(self, index):
            raise AssertionError("samples are fetched through __getitems__")

        def __len__(self):
            return 5

    assert_same(lambda lib, data: list(data.DataLoader(Batched(), batch_size=2)))
    Batched.calls = 0
    list(DataLoader(Batched(), batch_size=2))
    assert Batched.calls == 3


# ---- iterable datasets -----------------------------------------------------------------------


def make_stream(lib, data):
    class Stream(data.IterableDataset):
        def __iter__(self):
            return iter(range(7))

        def __len__(self):
            return 7

    return Stream()


@pytest.mark.parametrize("kwargs", [dict(batch_size=3), dict(batch_size=3, drop_last=True), dict(batch_size=None)])
def test_iterable_dataset_batches_in_stream_order(kwargs):
    def batches(lib, data):
        loader = data.DataLoader(make_stream(lib, data), **kwargs)
        return len(loader), list(loader)
    assert_same(batches)


def test_iterable_dataset_refuses_shuffle_and_samplers():
    for lib, data in LIBRARIES.values():
        for kwargs in (dict(shuffle=True), dict(sampler=[0]), dict(batch_sampler=[[0]])):
            with pytest.raises(ValueError, match="IterableDataset"):
                data.DataLoader(make_stream(lib, data), **kwargs)


# ---- samplers --------------------------------------------------------------------------------


@pytest.mark.parametrize("drop_last", [False, True])
def test_batch_sampler_matches_torch(drop_last):
    def batches(lib, data):
        sampler = data.BatchSampler(data.SequentialSampler(range(10)), batch_size=3, drop_last=drop_last)
        return list(sampler), len(sampler)
    assert_same(batches)


def test_batch_sampler_checks_its_arguments():
    for lib, data in LIBRARIES.values():
        for batch_size, drop_last in ((0, False), (2.0, False), (True, False), (2, 1)):
            with pytest.raises(ValueError):
                data.BatchSampler(range(3), batch_size, drop_last)


def test_random_sampler_forms():
    tg.manual_seed(0)
    assert sorted(RandomSampler(range(10))) == list(range(10))
    repeated = list(RandomSampler(range(4), num_samples=10))
    assert len(repeated) == 10 and sorted(repeated[:4]) == sorted(repeated[4:8]) == list(range(4))
    drawn = list(RandomSampler(range(3), replacement=True, num_samples=50))
    assert len(drawn) == 50 and set(drawn) == {0, 1, 2}
    assert len(RandomSampler(range(3), num_samples=7)) == 7


def test_random_sampler_checks_its_arguments_as_torch():
    for lib, data in LIBRARIES.values():
        with pytest.raises(TypeError):
            data.RandomSampler(range(3), replacement=1)
        for num_samples in (0, -1, 2.5):
            with pytest.raises(ValueError, match="num_samples should be a positive integer"):
                data.RandomSampler(range(3), num_samples=num_samples)


def test_random_sampler_with_generator_is_reproducible():
    first = list(RandomSampler(range(10), generator=tg.Generator().manual_seed(3)))
    assert list(RandomSampler(range(10), generator=tg.Generator().manual_seed(3))) == first


def test_subset_random_sampler_permutes_the_given_indices():
    tg.manual_seed(0)
    sampler = SubsetRandomSampler([10, 20, 30, 40])
    assert sorted(sampler) == [10, 20, 30, 40] and len(sampler) == 4


def test_weighted_random_sampler():
    generator = tg.Generator().manual_seed(0)
    drawn = np.array(list(WeightedRandomSampler([1.0, 0.0, 3.0], 4000, generator=generator)))
    assert set(drawn.tolist()) == {0, 2}
    assert abs((drawn == 2).mean() - 0.75) < 0.03
    unique = list(WeightedRandomSampler([1.0, 5.0, 0.0, 2.0], 3, replacement=False, generator=generator))
    assert sorted(unique) == [0, 1, 3]
    with pytest.raises(RuntimeError, match="without replacement"):
        WeightedRandomSampler([1.0, 0.0], 2, replacement=False)
    with pytest.raises(ValueError, match="num_samples"):
        WeightedRandomSampler([1.0], 0)


# ---- datasets --------------------------------------------------------------------------------


def test_subset_and_its_fast_path_match_torch():
    def batches(lib, data):
        subset = data.Subset(data.TensorDataset(lib.arange(10) * 10, lib.arange(10)), [9, 2, 4, 4, 0])
        nested = data.Subset(subset, [4, 1, 0])
        return (subset[1], len(subset), list(data.DataLoader(subset, batch_size=2)),
                list(data.DataLoader(nested, batch_size=2)))
    assert_same(batches)


def test_subset_of_a_generic_dataset_reads_through_getitems():
    assert_same(lambda lib, data: list(data.DataLoader(data.Subset(Squares(6), [5, 0, 3]), batch_size=2)))


def test_concat_dataset_matches_torch():
    def values(lib, data):
        joined = data.ConcatDataset([data.TensorDataset(lib.arange(3)), data.TensorDataset(lib.arange(10, 12))])
        added = data.TensorDataset(lib.arange(2)) + data.TensorDataset(lib.arange(5, 6))
        return ([joined[i] for i in range(-5, 5)], len(joined), joined.cumulative_sizes, len(added), added[2],
                list(data.DataLoader(joined, batch_size=2)))
    assert_same(values)
    for lib, data in LIBRARIES.values():
        joined = data.ConcatDataset([data.TensorDataset(lib.arange(3))])
        with pytest.raises(ValueError, match="absolute value of index"):
            joined[-4]
    with pytest.raises(IndexError, match="out of range"):
        ConcatDataset([TensorDataset(tg.arange(3))])[3]
    with pytest.raises(ValueError, match="empty"):
        ConcatDataset([])


@pytest.mark.parametrize("lengths", [[3, 7], [0.3, 0.7], [0.25, 0.25, 0.5], [0.33, 0.33, 0.34], [10], [1.0]])
def test_random_split_lengths_match_torch(lengths):
    def split_lengths(lib, data):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return [len(part) for part in data.random_split(data.TensorDataset(lib.arange(10)), lengths)]
    assert_same(split_lengths)


def test_random_split_is_a_seeded_partition():
    dataset = TensorDataset(tg.arange(10))
    first = [part.indices for part in random_split(dataset, [4, 6], generator=tg.Generator().manual_seed(1))]
    assert sorted(first[0] + first[1]) == list(range(10))
    assert [part.indices for part in random_split(dataset, [4, 6], generator=tg.Generator().manual_seed(1))] == first
    tg.manual_seed(5)
    global_first = [part.indices for part in random_split(dataset, [0.5, 0.5])]
    tg.manual_seed(5)
    assert [part.indices for part in random_split(dataset, [0.5, 0.5])] == global_first


def test_random_split_errors_as_torch():
    for lib, data in LIBRARIES.values():
        with pytest.raises(ValueError, match="(?i)sum of input lengths"):
            data.random_split(data.TensorDataset(lib.arange(10)), [3, 3])
    with pytest.warns(UserWarning, match="Length of split at index 1 is 0"):
        random_split(TensorDataset(tg.arange(2)), [1.0, 0.0])


# ---- collation -------------------------------------------------------------------------------

Point = collections.namedtuple("Point", "x y")

COLLATE_CASES = {
    "python floats are float64": lambda lib: [1.5, 2.0],
    "python ints are int64": lambda lib: [3, 1, 2],
    "python bools are bool": lambda lib: [True, False],
    "bools and ints are int64": lambda lib: [True, 2],
    "numpy float32 scalars": lambda lib: [np.float32(1.5), np.float32(2.5)],
    "numpy float64 scalars": lambda lib: [np.float64(1.5), np.float64(2.5)],
    "numpy int64 scalars": lambda lib: [np.int64(1), np.int64(2)],
    "numpy arrays are stacked": lambda lib: [np.ones((2, 3), np.float32), np.zeros((2, 3), np.float32)],
    "tensors are stacked": lambda lib: [lib.tensor([1.0, 2.0]), lib.tensor([3.0, 4.0])],
    "0-d tensors": lambda lib: [lib.tensor(1), lib.tensor(2)],
    "strings stay a list": lambda lib: ["a", "b"],
    "tuples become lists": lambda lib: [(1, 2.0, "x"), (3, 4.0, "y")],
    "lists stay lists": lambda lib: [[1, 2], [3, 4]],
    "dicts key by key": lambda lib: [{"a": 1, "b": {"c": 1.0}}, {"a": 2, "b": {"c": 2.0}}],
    "namedtuples field by field": lambda lib: [Point(1, 2.0), Point(3, 4.0)],
    "tensor and label pairs": lambda lib: [(lib.ones(2), 0), (lib.zeros(2), 1)],
}


@pytest.mark.parametrize("case", COLLATE_CASES, ids=list(COLLATE_CASES))
def test_default_collate_matches_torch(case):
    make = COLLATE_CASES[case]
    ours = plain(default_collate(make(tg)))
    theirs = plain(torch_data.default_collate(make(torch)))
    assert ours == theirs


def test_default_collate_errors_as_torch():
    for lib, data in LIBRARIES.values():
        with pytest.raises(RuntimeError, match="each element in list of batch should be of equal size"):
            data.default_collate([(1, 2), (3,)])
        with pytest.raises(TypeError, match="default_collate: batch must contain"):
            data.default_collate([object(), object()])
        with pytest.raises(TypeError, match="default_collate: batch must contain"):
            data.default_collate([np.array(["a"]), np.array(["b"])])


@pytest.mark.parametrize("sample", [
    lambda lib: np.arange(3.0), lambda lib: np.float32(2.0), lambda lib: (np.arange(2), "s", 3),
    lambda lib: {"a": np.ones(2)}, lambda lib: [np.int64(1)], lambda lib: np.array(["x"]),
])
def test_default_convert_matches_torch(sample):
    assert plain(default_convert(sample(tg))) == plain(torch_data.default_convert(sample(torch)))


def test_samplers_and_datasets_are_exported_under_torch_names():
    for name in torch_data.__all__:
        if name in {"DataLoader", "Dataset", "IterableDataset", "TensorDataset", "Subset", "ConcatDataset",
                    "random_split", "Sampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler",
                    "WeightedRandomSampler", "BatchSampler", "default_collate", "default_convert",
                    "get_worker_info"}:
            assert hasattr(tg_data, name), name
    assert SequentialSampler(range(3)).__len__() == 3 and isinstance(BatchSampler([0], 1, False), tg_data.Sampler)
    assert issubclass(IterableDataset, Dataset) and isinstance(Subset([], []), Dataset)
