"""Datasets and batching, shaped like ``torch.utils.data`` (single process, no workers).

``DataLoader`` over a ``TensorDataset`` gathers each batch from the whole tensors with one
indexing operation per tensor (a slice when not shuffling), never sample by sample in Python.
Any other dataset is read sample by sample and collated by ``default_collate``.

Shuffling draws from a NumPy ``Generator``. Its seed comes from ``seed=``, or from ``generator=``:
an int, a ``numpy.random.Generator`` (used as is, so its state advances), or any object with
``initial_seed()`` (as ``torch.Generator`` has) or an int ``.seed`` attribute. A loader made
with the same seed yields the same batches, epoch after epoch: each pass over it draws the next
permutation from its generator, so epochs differ from each other but not between runs. With
neither, the permutations come from fresh OS entropy.

Tensors only need ``shape[0]`` and indexing; NumPy arrays work too (batches are then NumPy
arrays), which is also how the batching logic is tested without the compiled core.
"""

from __future__ import annotations

import numbers

import numpy as np

__all__ = ["Dataset", "TensorDataset", "DataLoader", "default_collate"]


class Dataset:
    """A map-style dataset: subclasses define ``__getitem__`` and ``__len__``."""

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")

    def __len__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __len__")


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


def _stack(items):
    import tapegrad

    if isinstance(items[0], np.ndarray):
        return tapegrad.from_numpy(np.stack(items))
    return tapegrad.stack(list(items))


def default_collate(batch):
    """Stack a list of samples into a batch, as PyTorch's ``default_collate`` does.

    Tensors are stacked along a new first dimension, NumPy arrays become a stacked tensor,
    Python numbers a 1-D tensor (int64, float32 or bool), tuples and lists are collated element
    by element into a list, dicts key by key; strings stay a list.
    """
    first = batch[0]
    if isinstance(first, (str, bytes)):
        return list(batch)
    if isinstance(first, dict):
        return {key: default_collate([sample[key] for sample in batch]) for key in first}
    if isinstance(first, (tuple, list)):
        if any(len(sample) != len(first) for sample in batch):
            raise ValueError("[default_collate] samples in a batch have different lengths")
        return [default_collate(list(field)) for field in zip(*batch)]
    if isinstance(first, (bool, np.bool_)):
        import tapegrad

        return tapegrad.tensor([bool(x) for x in batch], dtype=tapegrad.bool)
    if isinstance(first, numbers.Integral):
        import tapegrad

        return tapegrad.tensor([int(x) for x in batch], dtype=tapegrad.int64)
    if isinstance(first, numbers.Real):
        import tapegrad

        return tapegrad.tensor([float(x) for x in batch], dtype=tapegrad.float32)
    return _stack(batch)


def _seed_from_generator(generator):
    if isinstance(generator, np.random.Generator):
        return generator
    if isinstance(generator, numbers.Integral) and not isinstance(generator, bool):
        return int(generator)
    if callable(getattr(generator, "initial_seed", None)):
        return int(generator.initial_seed())
    seed = getattr(generator, "seed", None)
    if isinstance(seed, numbers.Integral) and not isinstance(seed, bool):
        return int(seed)
    raise TypeError(
        "[DataLoader] generator must be an int, a numpy.random.Generator, or have "
        f"initial_seed() or an int .seed attribute; got {type(generator).__name__}"
    )


def _index_for(tensor, indices: np.ndarray):
    """indices in the form that tensor's advanced indexing takes: as is for NumPy."""
    if isinstance(tensor, np.ndarray):
        return indices
    import tapegrad

    return tapegrad.from_numpy(indices)


class DataLoader:
    """Iterate over a dataset in batches of ``batch_size`` samples.

    The last batch is smaller when ``len(dataset)`` isn't a multiple of ``batch_size``, unless
    ``drop_last``. See the module docstring for ``shuffle``, ``generator`` and ``seed``.
    ``collate_fn`` (default ``default_collate``) turns a list of samples into a batch; giving
    one for a ``TensorDataset`` turns off its whole-tensor gather.
    """

    def __init__(self, dataset, batch_size=1, shuffle=False, drop_last=False, generator=None,
                 seed=None, collate_fn=None):
        if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral) \
                or batch_size < 1:
            raise ValueError(f"[DataLoader] batch_size must be a positive int, got {batch_size!r}")
        if generator is not None and seed is not None:
            raise ValueError("[DataLoader] pass either generator or seed, not both")
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.collate_fn = collate_fn if collate_fn is not None else default_collate
        # A TensorDataset batch is one gather per tensor; a custom collate_fn sees samples instead.
        self._gathers_whole_tensors = isinstance(dataset, TensorDataset) and collate_fn is None
        source = _seed_from_generator(generator) if generator is not None else seed
        self._rng = source if isinstance(source, np.random.Generator) \
            else np.random.default_rng(source)

    def __len__(self):
        n = len(self.dataset)
        if self.drop_last:
            return n // self.batch_size
        return -(-n // self.batch_size)

    def _batch_bounds(self):
        n = len(self.dataset)
        stop = n - n % self.batch_size if self.drop_last else n
        return range(0, stop, self.batch_size), n

    def __iter__(self):
        starts, n = self._batch_bounds()
        order = self._rng.permutation(n) if self.shuffle else None
        for start in starts:
            end = min(start + self.batch_size, n)
            if self._gathers_whole_tensors:
                yield self._gather(order, start, end)
            else:
                indices = range(start, end) if order is None else order[start:end]
                yield self.collate_fn([self.dataset[int(i)] for i in indices])

    def _gather(self, order, start, end):
        tensors = self.dataset.tensors
        if order is None:
            return [t[start:end] for t in tensors]
        indices = np.ascontiguousarray(order[start:end], dtype=np.int64)
        return [t[_index_for(t, indices)] for t in tensors]
