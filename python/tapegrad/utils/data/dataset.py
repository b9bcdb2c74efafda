"""Datasets, shaped like ``torch.utils.data.dataset``.

``TensorDataset`` also takes NumPy arrays (a tapegrad extra: ``tapegrad-train`` keeps its images as
uint8 arrays, a quarter of their float32 size); its samples and batches are then NumPy arrays.
"""

import bisect
import itertools
import math
import numbers
import warnings

__all__ = ["Dataset", "IterableDataset", "TensorDataset", "Subset", "ConcatDataset", "random_split"]


class Dataset:
    """A map-style dataset: subclasses define ``__getitem__`` and ``__len__``.

    A subclass may also define ``__getitems__(indices)``, returning the list of samples at
    ``indices``; the DataLoader then fetches each batch with one call, as PyTorch's does.
    """

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")

    def __len__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __len__")

    def __add__(self, other):
        return ConcatDataset([self, other])


class IterableDataset(Dataset):
    """A dataset that is a stream of samples: subclasses define ``__iter__``.

    A DataLoader batches it in the order it yields; it takes no sampler and no shuffle.
    """

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __iter__")


class TensorDataset(Dataset):
    """Samples are the rows of tensors that share their first dimension."""

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("[TensorDataset] needs at least one tensor")
        sizes = [int(t.shape[0]) for t in tensors]
        if any(size != sizes[0] for size in sizes):
            shapes = ", ".join(str(tuple(t.shape)) for t in tensors)
            raise ValueError(
                f"[TensorDataset] size mismatch between tensors: first dimensions {sizes} "
                f"differ (shapes {shapes})"
            )
        self.tensors = tensors

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __len__(self):
        return int(self.tensors[0].shape[0])


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order."""

    def __init__(self, dataset, indices):
        self.dataset = dataset
        self.indices = indices

    def __getitem__(self, index):
        if isinstance(index, list):
            return self.dataset[[self.indices[i] for i in index]]
        return self.dataset[self.indices[index]]

    def __getitems__(self, indices):
        mapped = [self.indices[i] for i in indices]
        if callable(getattr(self.dataset, "__getitems__", None)):
            return self.dataset.__getitems__(mapped)
        return [self.dataset[i] for i in mapped]

    def __len__(self):
        return len(self.indices)


class ConcatDataset(Dataset):
    """The samples of several datasets, one after the other."""

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("[ConcatDataset] datasets should not be an empty iterable")
        for dataset in self.datasets:
            if isinstance(dataset, IterableDataset):
                raise TypeError("[ConcatDataset] does not support IterableDataset")
        self.cumulative_sizes = list(itertools.accumulate(len(d) for d in self.datasets))

    def __len__(self):
        return self.cumulative_sizes[-1]

    def __getitem__(self, index):
        if index < 0:
            if -index > len(self):
                raise ValueError("[ConcatDataset] absolute value of index should not exceed dataset "
                                 f"length ({index} for length {len(self)})")
            index += len(self)
        dataset_index = bisect.bisect_right(self.cumulative_sizes, index)
        if dataset_index == len(self.datasets):
            raise IndexError(f"[ConcatDataset] index {index} is out of range for length {len(self)}")
        start = self.cumulative_sizes[dataset_index - 1] if dataset_index else 0
        return self.datasets[dataset_index][index - start]


def _split_lengths(total, lengths):
    """lengths as counts: fractions that sum to 1 become counts as PyTorch rounds them (floors,
    then the remainder one by one to the first splits)."""
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        counts = []
        for index, fraction in enumerate(lengths):
            if fraction < 0 or fraction > 1:
                raise ValueError(f"[random_split] fraction at index {index} is not between 0 and 1")
            counts.append(math.floor(total * fraction))
        for i in range(total - sum(counts)):
            counts[i % len(counts)] += 1
        for index, count in enumerate(counts):
            if count == 0:
                warnings.warn(f"Length of split at index {index} is 0. This might result in an empty dataset.",
                              stacklevel=3)
        return counts
    if not all(isinstance(length, numbers.Integral) and length >= 0 for length in lengths):
        raise ValueError(f"[random_split] lengths must be non-negative ints or fractions that sum to 1, "
                         f"got {list(lengths)}")
    return [int(length) for length in lengths]


def random_split(dataset, lengths, generator=None):
    """Subsets of ``dataset`` of the given lengths (counts, or fractions summing to 1), drawn
    without overlap by one random permutation from ``generator`` (the global stream if None, so
    ``tapegrad.manual_seed`` makes the split reproducible)."""
    import tapegrad

    counts = _split_lengths(len(dataset), lengths)
    if sum(counts) != len(dataset):
        raise ValueError(f"[random_split] sum of input lengths {counts} does not equal the length of the "
                         f"input dataset ({len(dataset)})")
    indices = tapegrad.randperm(sum(counts), generator=generator).tolist()
    return [Subset(dataset, indices[end - count:end])
            for end, count in zip(itertools.accumulate(counts), counts)]
