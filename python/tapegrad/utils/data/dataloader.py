"""DataLoader and collation, shaped like ``torch.utils.data.DataLoader``.

Batches are fresh tensors, never views of the dataset, so changing a batch in place leaves the
dataset alone. Over a ``TensorDataset`` (or a ``Subset`` of one) with the default ``collate_fn``,
each batch is one gather per tensor (a row-slice copy when the order is sequential) rather than
sample by sample in Python; what comes out is what ``default_collate`` of the samples would be.

With ``num_workers=N > 0`` a map-style dataset is loaded by N worker processes (see
``_worker``): ``prefetch_factor`` batches per worker ahead, ``worker_init_fn(worker_id)`` in each,
``persistent_workers`` keeping them across passes, ``timeout`` seconds at most for a batch, and
``get_worker_info()`` telling a worker who it is; the batches are those of ``num_workers=0``, in
order. An exception in a worker is raised in the main process, naming the worker. Workers are
seeded ``base_seed + worker_id`` as in PyTorch, but ``base_seed`` is the generator's (or the
global stream's) initial seed rather than a draw from it, so the shuffled order does not depend
on ``num_workers``. An ``IterableDataset`` still loads in the calling process; ``in_order`` is
checked only, and ``pin_memory`` is a no-op (CPU only).
"""

import collections.abc
import copy
import numbers
import re

import numpy as np

from . import _worker
from .dataset import IterableDataset, Subset, TensorDataset
from .distributed import DistributedSampler
from .sampler import BatchSampler, RandomSampler, SequentialSampler

__all__ = ["DataLoader", "default_collate", "default_convert", "get_worker_info"]

# NumPy dtype kinds that are not numbers: bytes, unicode and objects.
_NON_NUMERIC_DTYPE = re.compile(r"[SaUO]")
_COLLATE_ERROR = "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}"


def get_worker_info():
    """In a DataLoader worker, its WorkerInfo (id, num_workers, seed, dataset); None elsewhere."""
    return _worker.current


def _tensor_type():
    import tapegrad

    return tapegrad.Tensor


def _array_to_tensor(array):
    import tapegrad

    return tapegrad.tensor(array)


def default_convert(data):
    """NumPy arrays and scalars to tensors, through dicts, namedtuples and sequences; what the
    DataLoader applies to each sample when batch_size=None."""
    if isinstance(data, _tensor_type()):
        return data
    if isinstance(data, (np.ndarray, np.generic)) and not isinstance(data, (np.str_, np.bytes_)):
        if isinstance(data, np.ndarray) and _NON_NUMERIC_DTYPE.search(data.dtype.str):
            return data
        return _array_to_tensor(data)
    if isinstance(data, collections.abc.Mapping):
        return _rebuild_mapping(data, {key: default_convert(data[key]) for key in data})
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(item) for item in data))
    if isinstance(data, tuple):
        return [default_convert(item) for item in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        return _rebuild_sequence(data, [default_convert(item) for item in data])
    return data


def _rebuild_mapping(like, values):
    """values (a dict) as the same mapping type as `like`, where it can be made."""
    try:
        if isinstance(like, collections.abc.MutableMapping):
            clone = copy.copy(like)
            clone.update(values)
            return clone
        return type(like)(values)
    except TypeError:
        return values


def _rebuild_sequence(like, values):
    try:
        if isinstance(like, collections.abc.MutableSequence):
            clone = copy.copy(like)
            for index, value in enumerate(values):
                clone[index] = value
            return clone
        return type(like)(values)
    except TypeError:
        return values


def default_collate(batch):
    """A list of samples as one batch, by PyTorch's rules.

    Tensors are stacked along a new first dimension; NumPy arrays become a stacked tensor and
    NumPy scalars a tensor of their dtype; Python floats a float64 tensor, ints an int64 tensor,
    bools a bool tensor; strings and bytes are left as they are. Dicts are collated key by key,
    namedtuples field by field, other tuples and lists element by element (tuples into a list).
    """
    first = batch[0]
    if isinstance(first, _tensor_type()):
        import tapegrad

        return tapegrad.stack(list(batch))
    if isinstance(first, np.ndarray):
        if _NON_NUMERIC_DTYPE.search(first.dtype.str):
            raise TypeError(_COLLATE_ERROR.format(first.dtype))
        return _array_to_tensor(np.stack(batch))
    if isinstance(first, (np.bool_, np.number)):
        return _array_to_tensor(np.asarray(batch))
    if isinstance(first, float):
        import tapegrad

        return tapegrad.tensor(list(batch), dtype=tapegrad.float64)
    if isinstance(first, int):
        import tapegrad

        # bool is an int: all bools make a bool tensor, a mix with ints an int64 one.
        return tapegrad.tensor(list(batch))
    if isinstance(first, (str, bytes)):
        return batch
    if isinstance(first, collections.abc.Mapping):
        return _rebuild_mapping(first, {key: default_collate([sample[key] for sample in batch]) for key in first})
    if isinstance(first, tuple) and hasattr(first, "_fields"):
        return type(first)(*(default_collate(field) for field in zip(*batch)))
    if isinstance(first, collections.abc.Sequence):
        if any(len(sample) != len(first) for sample in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        fields = [default_collate(field) for field in zip(*batch)]
        return fields if isinstance(first, tuple) else _rebuild_sequence(first, fields)
    raise TypeError(_COLLATE_ERROR.format(type(first)))


# ---- the whole-tensor fast path ---------------------------------------------------------------

def _gather_source(dataset):
    """(tensors, index map) when every batch of `dataset` can be gathered from whole tensors:
    a TensorDataset, or Subsets of one (their indices composed into one int64 map, made once per
    pass). None for any other dataset, or a subclass that changes how samples are read."""
    import tapegrad

    index_map = None
    while type(dataset) is Subset:
        indices = tapegrad.tensor(np.asarray(dataset.indices, dtype=np.int64))  # a list, array or tensor
        index_map = indices if index_map is None else indices[index_map]
        dataset = dataset.dataset
    if not isinstance(dataset, TensorDataset) or type(dataset).__getitem__ is not TensorDataset.__getitem__:
        return None
    return dataset.tensors, index_map


def _take(tensor, index):
    """Fresh rows of `tensor`: a slice copied, or an int64 tensor of row indices gathered."""
    if isinstance(tensor, np.ndarray):
        return tensor[index].copy() if isinstance(index, slice) else tensor[index.numpy()]
    rows = tensor[index]
    if not isinstance(index, slice):
        return rows
    # A fresh contiguous tensor, as torch's collate stacks samples into (clone() keeps the layout
    # of a transposed source).
    return rows.clone() if rows.is_contiguous() else rows.contiguous()


class DataLoader:
    """Iterates over a dataset in batches, as torch.utils.data.DataLoader (see the module
    docstring for workers and the fast path).

    The order comes from ``sampler`` (default: sequential, or random when ``shuffle``); indices
    are grouped by ``batch_sampler`` (default: ``batch_size`` at a time, the last batch shorter
    unless ``drop_last``); ``collate_fn`` (default ``default_collate``) makes each group of samples
    a batch. ``batch_size=None`` turns batching off: each sample goes through ``default_convert``.
    Shuffling draws from ``generator`` or, without one, from the global stream, so
    ``tapegrad.manual_seed`` makes it reproducible.
    """

    _frozen = ("batch_size", "batch_sampler", "sampler", "drop_last", "dataset", "persistent_workers")

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None, num_workers=0,
                 collate_fn=None, pin_memory=False, drop_last=False, timeout=0, worker_init_fn=None,
                 multiprocessing_context=None, generator=None, *, prefetch_factor=None, persistent_workers=False,
                 pin_memory_device="", in_order=True):
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to disable "
                             "multiprocessing.")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("prefetch_factor option could only be specified in multiprocessing. Let "
                             "num_workers > 0 to enable multiprocessing, otherwise set prefetch_factor to None.")
        if num_workers > 0 and prefetch_factor is None:
            prefetch_factor = 2
        elif prefetch_factor is not None and prefetch_factor < 0:
            raise ValueError("prefetch_factor option should be non-negative")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")
        if generator is not None and not isinstance(generator, _generator_type()):
            raise TypeError(f"[DataLoader] generator must be a tapegrad.Generator, got {type(generator).__name__}")

        self._iterable = isinstance(dataset, IterableDataset)
        if self._iterable:
            if shuffle not in (False, None):
                raise ValueError("DataLoader with IterableDataset: expected unspecified shuffle option, but got "
                                 f"shuffle={shuffle}")
            if sampler is not None:
                raise ValueError("DataLoader with IterableDataset: expected unspecified sampler option, but got "
                                 f"sampler={sampler}")
            if batch_sampler is not None:
                raise ValueError("DataLoader with IterableDataset: expected unspecified batch_sampler option, but "
                                 f"got batch_sampler={batch_sampler}")
        shuffle = bool(shuffle)
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, "
                                 "and drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None:
            if drop_last:
                raise ValueError("batch_size=None option disables auto-batching and is mutually exclusive with "
                                 "drop_last")
        elif isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral) or batch_size <= 0:
            raise ValueError(f"batch_size should be a positive integer value, but got batch_size={batch_size}")
        if sampler is None and not self._iterable:
            sampler = RandomSampler(dataset, generator=generator) if shuffle else SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None and not self._iterable:
            batch_sampler = BatchSampler(sampler, int(batch_size), bool(drop_last))

        self.dataset = dataset
        self.batch_size = batch_size
        self.drop_last = bool(drop_last)
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.generator = generator
        self.num_workers = num_workers
        self.prefetch_factor = prefetch_factor
        self.pin_memory = pin_memory
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.in_order = in_order
        self.persistent_workers = persistent_workers
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn
        self._initialized = True

    def __setattr__(self, name, value):
        if name in self._frozen and self.__dict__.get("_initialized"):
            raise ValueError(f"{name} attribute should not be set after {type(self).__name__} is initialized")
        object.__setattr__(self, name, value)

    @property
    def _auto_collation(self):
        return self.batch_sampler is not None or (self._iterable and self.batch_size is not None)

    def __len__(self):
        if self._iterable:
            length = len(self.dataset)
            if self.batch_size is None:
                return length
            return length // self.batch_size if self.drop_last else -(-length // self.batch_size)
        return len(self.batch_sampler if self.batch_sampler is not None else self.sampler)

    def __iter__(self):
        if self._iterable:
            return self._iter_stream()
        if self.num_workers > 0:
            return self._iter_workers()
        fetch = _Fetcher(self.dataset, self.collate_fn, self._auto_collation)
        if self.batch_sampler is None:
            return (fetch(index) for index in self.sampler)
        source = _gather_source(self.dataset) if self.collate_fn is default_collate else None
        if source is None:
            return (fetch(indices) for indices in self.batch_sampler)
        return self._iter_gathered(*source)

    def _iter_workers(self):
        pool = self.__dict__.get("_pool")
        if pool is None:
            pool = _worker.WorkerPool(self, _Fetcher(self.dataset, self.collate_fn, self._auto_collation))
            if self.persistent_workers:
                object.__setattr__(self, "_pool", pool)
        index_batches = self.batch_sampler if self._auto_collation else self.sampler
        try:
            yield from pool.batches(index_batches)
        finally:
            if not self.persistent_workers:
                pool.shutdown()

    def _iter_stream(self):
        samples = iter(self.dataset)
        if self.batch_size is None:
            yield from (self.collate_fn(sample) for sample in samples)
            return
        while True:
            batch = []
            for sample in samples:
                batch.append(sample)
                if len(batch) == self.batch_size:
                    break
            if not batch or (self.drop_last and len(batch) < self.batch_size):
                return
            yield self.collate_fn(batch)

    def _index_batches(self):
        """Each batch's indices: a slice or an int64 tensor, computed for the whole pass when the
        samplers are the built-in ones, else one tensor per list the batch sampler yields."""
        import tapegrad

        batcher = self.batch_sampler
        sampler = getattr(batcher, "sampler", None)
        if type(batcher) is BatchSampler and type(sampler) in (SequentialSampler, RandomSampler, DistributedSampler):
            order = None if type(sampler) is SequentialSampler else sampler._order()
            count = len(sampler)
            stop = count - count % batcher.batch_size if batcher.drop_last else count
            for start in range(0, stop, batcher.batch_size):
                end = min(start + batcher.batch_size, count)
                yield slice(start, end) if order is None else order[start:end]
            return
        for indices in batcher:
            yield tapegrad.tensor(list(indices), dtype=tapegrad.int64)

    def _iter_gathered(self, tensors, index_map):
        for index in self._index_batches():
            if index_map is not None:
                index = index_map[index]
            yield [_take(tensor, index) for tensor in tensors]


class _Fetcher:
    """What a worker does with one batch's indices (a class, not a closure: spawned workers
    receive it pickled)."""

    def __init__(self, dataset, collate_fn, auto_collation):
        self.dataset, self.collate_fn, self.auto_collation = dataset, collate_fn, auto_collation

    def __call__(self, indices):
        if not self.auto_collation:
            return self.collate_fn(self.dataset[indices])
        getitems = getattr(self.dataset, "__getitems__", None)
        samples = getitems(indices) if callable(getitems) else [self.dataset[index] for index in indices]
        return self.collate_fn(samples)


def _generator_type():
    import tapegrad

    return tapegrad.Generator
