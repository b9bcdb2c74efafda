"""tapegrad.utils.data: TensorDataset, DataLoader batching and shuffling, collation.

The batching logic is exercised with NumPy arrays, which TensorDataset and DataLoader accept
as tensors. Tests named test_core_* use tapegrad tensors and so need the compiled core.
"""

import numpy as np
import pytest

from tapegrad.utils.data import DataLoader, Dataset, TensorDataset, default_collate


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


class Squares(Dataset):
    """A generic (non-tensor) dataset: sample i is (i, i*i)."""

    def __init__(self, n):
        self.n = n
        self.reads = []

    def __getitem__(self, index):
        self.reads.append(index)
        return index, index * index

    def __len__(self):
        return self.n


# -- TensorDataset ----------------------------------------------------------------------------


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


# -- DataLoader over a TensorDataset ----------------------------------------------------------


def test_unshuffled_batches_are_consecutive_rows_with_short_last_batch():
    x, y = features_labels(10)
    batches = list(DataLoader(TensorDataset(x, y), batch_size=4))
    assert [len(b[1]) for b in batches] == [4, 4, 2]
    np.testing.assert_array_equal(np.concatenate([b[0] for b in batches]), x)
    np.testing.assert_array_equal(np.concatenate([b[1] for b in batches]), y)


def test_drop_last_drops_the_short_batch():
    x, y = features_labels(10)
    batches = list(DataLoader(TensorDataset(x, y), batch_size=4, drop_last=True))
    assert [len(b[1]) for b in batches] == [4, 4]


@pytest.mark.parametrize("n, batch_size, drop_last, expected", [
    (10, 4, False, 3), (10, 4, True, 2), (8, 4, False, 2), (8, 4, True, 2),
    (3, 4, False, 1), (3, 4, True, 0), (0, 4, False, 0), (10, 1, False, 10),
])
def test_len_matches_batches_yielded(n, batch_size, drop_last, expected):
    x, y = features_labels(n)
    loader = DataLoader(TensorDataset(x, y), batch_size=batch_size, drop_last=drop_last,
                        shuffle=True, seed=0)
    assert len(loader) == expected
    assert len(list(loader)) == expected


def test_shuffled_epoch_visits_every_sample_once_and_keeps_rows_paired():
    x, y = features_labels(10)
    batches = list(DataLoader(TensorDataset(x, y), batch_size=3, shuffle=True, seed=1))
    labels = np.concatenate([b[1] for b in batches])
    assert sorted(labels.tolist()) == list(range(10))
    assert labels.tolist() != list(range(10))
    np.testing.assert_array_equal(np.concatenate([b[0] for b in batches]), x[labels])


def test_one_gather_per_tensor_per_batch_when_shuffling():
    x, y = features_labels(10)
    x, y = counting(x), counting(y)
    loader = DataLoader(TensorDataset(x, y), batch_size=4, shuffle=True, seed=0)
    batches = list(loader)
    assert CountingArray.calls == 2 * len(batches)


def test_unshuffled_batches_are_slices_not_gathers():
    x, y = features_labels(10)
    x_batch, _ = next(iter(DataLoader(TensorDataset(x, y), batch_size=4)))
    assert np.shares_memory(x_batch, x)


def shuffled_labels(epochs, **loader_args):
    x, y = features_labels(20)
    loader = DataLoader(TensorDataset(x, y), batch_size=5, shuffle=True, **loader_args)
    return [np.concatenate([b[1] for b in loader]).tolist() for _ in range(epochs)]


def test_same_seed_reproduces_every_epoch():
    assert shuffled_labels(3, seed=7) == shuffled_labels(3, seed=7)


def test_different_seeds_give_different_orders():
    assert shuffled_labels(1, seed=1) != shuffled_labels(1, seed=2)


def test_successive_epochs_are_shuffled_differently():
    first, second = shuffled_labels(2, seed=3)
    assert first != second


class SeedAttribute:
    seed = 7


class InitialSeed:
    def initial_seed(self):
        return 7


@pytest.mark.parametrize("generator", [7, SeedAttribute(), InitialSeed()],
                         ids=["int", "seed-attribute", "initial_seed"])
def test_generator_forms_are_equivalent_to_seed(generator):
    assert shuffled_labels(2, generator=generator) == shuffled_labels(2, seed=7)


def test_numpy_generator_is_used_as_is():
    expected = shuffled_labels(2, generator=np.random.default_rng(5))
    assert shuffled_labels(2, generator=np.random.default_rng(5)) == expected


def test_unusable_generator_is_type_error():
    with pytest.raises(TypeError, match="generator must be"):
        DataLoader(TensorDataset(np.zeros(3)), generator="seven")


def test_seed_and_generator_together_are_rejected():
    with pytest.raises(ValueError, match="either generator or seed"):
        DataLoader(TensorDataset(np.zeros(3)), seed=1, generator=1)


@pytest.mark.parametrize("batch_size", [0, -1, 2.5, True, None])
def test_batch_size_must_be_positive_int(batch_size):
    with pytest.raises(ValueError, match="batch_size must be a positive int"):
        DataLoader(TensorDataset(np.zeros(3)), batch_size=batch_size)


# -- generic datasets and collation -----------------------------------------------------------


def test_generic_dataset_reads_samples_in_shuffled_order_and_collates_each_batch():
    ds = Squares(7)
    loader = DataLoader(ds, batch_size=3, shuffle=True, seed=0, collate_fn=list)
    batches = list(loader)
    assert [len(b) for b in batches] == [3, 3, 1]
    assert [sample for batch in batches for sample in batch] == [(i, i * i) for i in ds.reads]
    assert sorted(ds.reads) == list(range(7)) and ds.reads != list(range(7))


def test_custom_collate_fn_sees_samples_of_a_tensor_dataset():
    x, y = features_labels(4)
    batch = next(iter(DataLoader(TensorDataset(x, y), batch_size=2, collate_fn=list)))
    assert len(batch) == 2 and batch[1][1] == 1


def test_default_collate_transposes_tuples_and_recurses_into_dicts():
    batch = [("a", {"k": "x"}), ("b", {"k": "y"})]
    assert default_collate(batch) == [["a", "b"], {"k": ["x", "y"]}]


def test_default_collate_rejects_ragged_samples():
    with pytest.raises(ValueError, match="different lengths"):
        default_collate([("a", "b"), ("c",)])


def test_core_default_collate_stacks_tensors():
    import tapegrad

    samples = [tapegrad.tensor([1.0, 2.0]), tapegrad.tensor([3.0, 4.0])]
    batch = default_collate(samples)
    assert tuple(batch.shape) == (2, 2)
    assert batch.tolist() == [[1.0, 2.0], [3.0, 4.0]]


def test_core_default_collate_makes_int64_tensor_of_python_ints():
    import tapegrad

    labels = default_collate([3, 1, 2])
    assert labels.dtype == tapegrad.int64 and labels.tolist() == [3, 1, 2]


def test_core_generic_dataset_batches_are_tensors():
    import tapegrad

    xs, ys = next(iter(DataLoader(Squares(5), batch_size=5)))
    assert xs.dtype == tapegrad.int64 and ys.tolist() == [0, 1, 4, 9, 16]


def test_core_shuffled_tensor_dataset_gathers_tapegrad_tensors():
    import tapegrad

    x, y = features_labels(10)
    loader = DataLoader(TensorDataset(tapegrad.from_numpy(x), tapegrad.from_numpy(y)),
                        batch_size=4, shuffle=True, seed=0)
    batches = list(loader)
    labels = np.concatenate([b[1].numpy() for b in batches])
    assert sorted(labels.tolist()) == list(range(10))
    np.testing.assert_array_equal(np.concatenate([b[0].numpy() for b in batches]), x[labels])
