"""DistributedSampler against torch.utils.data.DistributedSampler: the same index lists (the
shuffled order is tapegrad's own permutation, so torch is given it to compare the padding and
sharding around it)."""
import pytest
import torch
import torch.utils.data

import tapegrad as tg
from tapegrad.utils.data import DataLoader, DistributedSampler, TensorDataset


@pytest.fixture
def torch_uses_tapegrads_permutation(monkeypatch):
    def randperm(n, generator):
        order = tg.randperm(n, generator=tg.Generator().manual_seed(generator.initial_seed()))
        return torch.tensor(order.tolist())

    monkeypatch.setattr(torch, "randperm", randperm)


@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.parametrize("drop_last", [False, True])
@pytest.mark.parametrize("size, replicas", [(10, 3), (12, 4), (2, 5), (7, 2), (1, 3), (100, 7)])
def test_index_lists_are_pytorchs(size, replicas, drop_last, shuffle, torch_uses_tapegrads_permutation):
    dataset = list(range(size))
    for rank in range(replicas):
        ours = DistributedSampler(dataset, replicas, rank, shuffle=shuffle, seed=11, drop_last=drop_last)
        theirs = torch.utils.data.DistributedSampler(dataset, replicas, rank, shuffle=shuffle, seed=11,
                                                     drop_last=drop_last)
        for epoch in (0, 3):
            ours.set_epoch(epoch)
            theirs.set_epoch(epoch)
            assert list(ours) == list(theirs)
            assert len(ours) == len(theirs) == len(list(ours))


def test_shuffled_shards_partition_one_permutation_that_changes_with_the_epoch():
    shards = [DistributedSampler(range(12), 3, rank, seed=5) for rank in range(3)]
    first = sorted(index for shard in shards for index in shard)
    assert first == list(range(12))
    before = [list(shard) for shard in shards]
    for shard in shards:
        shard.set_epoch(1)
    assert [list(shard) for shard in shards] != before


def test_rank_is_checked_and_the_process_group_is_needed_without_one():
    with pytest.raises(ValueError, match=r"Invalid rank 3, rank should be in the interval \[0, 2\]"):
        DistributedSampler(range(4), num_replicas=3, rank=3)
    with pytest.raises(RuntimeError, match="init_process_group"):
        DistributedSampler(range(4))


def test_dataloader_batches_follow_the_sampler():
    dataset = TensorDataset(tg.arange(10))
    sampler = DistributedSampler(dataset, num_replicas=2, rank=1, seed=3)
    batches = [batch.tolist() for (batch,) in DataLoader(dataset, batch_size=2, sampler=sampler)]
    assert sum(batches, []) == list(sampler)
