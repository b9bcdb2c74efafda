"""DistributedSampler: each rank's share of a dataset, as torch.utils.data.distributed."""

import math

from .sampler import Sampler

__all__ = ["DistributedSampler"]


class DistributedSampler(Sampler):
    """Rank ``rank``'s share of the indices: every ``num_replicas``-th one of the (shuffled) order,
    starting at ``rank``. As in PyTorch, the order is padded with its own first indices to a
    multiple of ``num_replicas`` (or, with ``drop_last``, cut to one), so every rank gets
    ``len(self)`` indices; the shuffle is a permutation seeded with ``seed + epoch``, the same on
    every rank: call ``set_epoch(epoch)`` before each epoch for a new order."""

    def __init__(self, dataset, num_replicas=None, rank=None, shuffle=True, seed=0, drop_last=False):
        if num_replicas is None or rank is None:
            from ... import distributed as dist

            if not dist.is_initialized():
                raise RuntimeError("[DistributedSampler] needs num_replicas and rank, or an initialized process "
                                   "group (tapegrad.distributed.init_process_group)")
            num_replicas = dist.get_world_size() if num_replicas is None else num_replicas
            rank = dist.get_rank() if rank is None else rank
        if rank >= num_replicas or rank < 0:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval [0, {num_replicas - 1}]")
        self.dataset = dataset
        self.num_replicas = num_replicas
        self.rank = rank
        self.epoch = 0
        self.drop_last = drop_last
        if drop_last and len(dataset) % num_replicas != 0:
            self.num_samples = math.ceil((len(dataset) - num_replicas) / num_replicas)
        else:
            self.num_samples = math.ceil(len(dataset) / num_replicas)
        self.total_size = self.num_samples * num_replicas
        self.shuffle = shuffle
        self.seed = seed

    def _order(self):
        """This rank's indices as one int64 tensor (the DataLoader slices it into batches)."""
        import tapegrad

        n = len(self.dataset)
        if self.shuffle:
            generator = tapegrad.Generator().manual_seed(self.seed + self.epoch)
            indices = tapegrad.randperm(n, generator=generator)
        else:
            indices = tapegrad.arange(n)
        if self.total_size > n:
            indices = tapegrad.cat([indices] * math.ceil(self.total_size / n))
        return indices[self.rank:self.total_size:self.num_replicas].contiguous()

    def __iter__(self):
        return iter(self._order().tolist())

    def __len__(self):
        return self.num_samples

    def set_epoch(self, epoch):
        self.epoch = epoch
