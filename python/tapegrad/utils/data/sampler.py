"""Samplers: the order in which a DataLoader visits a map-style dataset, as torch.utils.data.sampler.

Random samplers draw from their ``generator`` (a ``tapegrad.Generator``) or, without one, seed a
fresh stream for each pass from the global one, as PyTorch's do: ``tapegrad.manual_seed`` then
makes every epoch's order reproducible, and each epoch differs from the last.
"""

import itertools
import numbers

__all__ = ["Sampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler", "WeightedRandomSampler",
           "BatchSampler"]


class Sampler:
    """Base class: subclasses define ``__iter__`` (and ``__len__`` where the length is known)."""

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __iter__")


def _pass_generator(generator):
    """The generator for one pass: the given one, or one seeded from the global stream."""
    import tapegrad

    if generator is not None:
        return generator
    seed = int(tapegrad.randint(0, 2**63 - 1, ()).item())
    return tapegrad.Generator().manual_seed(seed)


class SequentialSampler(Sampler):
    """0, 1, ..., len(data_source) - 1."""

    def __init__(self, data_source):
        self.data_source = data_source

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self):
        return len(self.data_source)


class RandomSampler(Sampler):
    """A random order of the dataset: a permutation (repeated while ``num_samples`` exceeds the
    dataset), or ``num_samples`` draws with replacement."""

    def __init__(self, data_source, replacement=False, num_samples=None, generator=None):
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        if not isinstance(replacement, bool):
            raise TypeError(f"replacement should be a boolean value, but got replacement={replacement}")
        if isinstance(self.num_samples, bool) or not isinstance(self.num_samples, numbers.Integral) \
                or self.num_samples <= 0:
            raise ValueError(f"num_samples should be a positive integer value, but got num_samples={self.num_samples}")

    @property
    def num_samples(self):
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def _order(self):
        """This pass's indices as one int64 tensor (the DataLoader slices it into batches)."""
        import tapegrad

        n, count = len(self.data_source), self.num_samples
        generator = _pass_generator(self.generator)
        if self.replacement:
            return tapegrad.randint(0, n, (count,), generator=generator)
        permutations = [tapegrad.randperm(n, generator=generator) for _ in range(count // n)]
        if count % n:
            permutations.append(tapegrad.randperm(n, generator=generator)[:count % n])
        return permutations[0] if len(permutations) == 1 else tapegrad.cat(permutations)

    def __iter__(self):
        return iter(self._order().tolist())

    def __len__(self):
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given indices, in a random order each pass."""

    def __init__(self, indices, generator=None):
        self.indices = indices
        self.generator = generator

    def __iter__(self):
        import tapegrad

        order = tapegrad.randperm(len(self.indices), generator=_pass_generator(self.generator))
        return (self.indices[i] for i in order.tolist())

    def __len__(self):
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    """``num_samples`` indices into ``weights``, each drawn with probability proportional to its
    weight; without replacement an index is drawn at most once."""

    def __init__(self, weights, num_samples, replacement=True, generator=None):
        import numpy as np

        if isinstance(num_samples, bool) or not isinstance(num_samples, numbers.Integral) or num_samples <= 0:
            raise ValueError(f"num_samples should be a positive integer value, but got num_samples={num_samples}")
        if not isinstance(replacement, bool):
            raise ValueError(f"replacement should be a boolean value, but got replacement={replacement}")
        weights = np.asarray(weights.tolist() if hasattr(weights, "tolist") else weights, dtype=np.float64)
        if weights.ndim != 1:
            raise ValueError(f"weights should be a 1d sequence but given weights have shape {weights.shape}")
        if not np.all(np.isfinite(weights)) or np.any(weights < 0) or not weights.sum() > 0:
            raise RuntimeError("[WeightedRandomSampler] weights must be finite, non-negative and not all zero")
        if not replacement and num_samples > np.count_nonzero(weights):
            raise RuntimeError(f"[WeightedRandomSampler] cannot draw {num_samples} samples without replacement "
                               f"from {np.count_nonzero(weights)} non-zero weights")
        self.weights = weights
        self.num_samples = int(num_samples)
        self.replacement = replacement
        self.generator = generator

    def __iter__(self):
        import numpy as np
        import tapegrad

        generator = _pass_generator(self.generator)
        if self.replacement:
            # Inverse CDF: each uniform draw lands in one weight's share of [0, total).
            uniforms = tapegrad.rand(self.num_samples, dtype=tapegrad.float64, generator=generator).numpy()
            cumulative = np.cumsum(self.weights)
            chosen = np.searchsorted(cumulative, uniforms * cumulative[-1], side="right")
            chosen = np.minimum(chosen, len(self.weights) - 1)
        else:
            # Efraimidis-Spirakis: the largest keys u^(1/w) are a weighted sample without replacement.
            uniforms = tapegrad.rand(len(self.weights), dtype=tapegrad.float64, generator=generator).numpy()
            with np.errstate(divide="ignore"):
                keys = np.where(self.weights > 0, np.log(uniforms) / self.weights, -np.inf)
            chosen = np.argsort(-keys, kind="stable")[:self.num_samples]
        return iter(chosen.tolist())

    def __len__(self):
        return self.num_samples


class BatchSampler(Sampler):
    """Groups the indices of ``sampler`` into lists of ``batch_size`` (the last one shorter unless
    ``drop_last``)."""

    def __init__(self, sampler, batch_size, drop_last):
        if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral) or batch_size <= 0:
            raise ValueError(f"batch_size should be a positive integer value, but got batch_size={batch_size}")
        if not isinstance(drop_last, bool):
            raise ValueError(f"drop_last should be a boolean value, but got drop_last={drop_last}")
        self.sampler = sampler
        self.batch_size = int(batch_size)
        self.drop_last = drop_last

    def __iter__(self):
        indices = iter(self.sampler)
        while True:
            batch = list(itertools.islice(indices, self.batch_size))
            if not batch or (self.drop_last and len(batch) < self.batch_size):
                return
            yield batch

    def __len__(self):
        if self.drop_last:
            return len(self.sampler) // self.batch_size
        return -(-len(self.sampler) // self.batch_size)
