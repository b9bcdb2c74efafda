"""tapegrad.multiprocessing, as torch.multiprocessing: the standard library's multiprocessing,
re-exported, with tensors sent through its queues and pipes in shared memory. A tensor the main
process puts on a Queue is moved into shared memory (Tensor.share_memory_) and the receiver maps the
same memory, so writes on either side are seen on the other, as in torch. The segments live until
the main process exits. A worker process sends its own unshared tensors as copies (an already
shared tensor, which it received, goes back by reference)."""
import multiprocessing
from multiprocessing import *  # noqa: F401,F403  (the standard library's names, as torch re-exports them)
from multiprocessing.reduction import ForkingPickler

from . import _C, _storage

__all__ = multiprocessing.__all__


def _rebuild_shared_tensor(name, dtype, numel, storage_offset, size, stride, requires_grad):
    storage = _storage.attach(name, dtype, numel)
    tensor = storage.as_strided(size, stride, storage_offset).detach()
    return tensor.requires_grad_(requires_grad)


def _reduce_tensor(tensor):
    if tensor.grad_fn is not None:
        raise RuntimeError("[multiprocessing] cowardly refusing to serialize a non-leaf tensor which requires_grad; "
                           "detach() it first (gradients cannot cross processes)")
    # A worker process sends a copy of memory it has not shared: a segment it created would outlive
    # it (only the creating process unlinks, at its exit, and a worker's exit skips that).
    if tensor.numel() == 0 or (multiprocessing.parent_process() is not None and not tensor.is_shared()):
        return tensor.__reduce_ex__(2)
    tensor.share_memory_()
    storage = tensor._storage_tensor()
    return (_rebuild_shared_tensor, (_storage.segment_name(tensor), tensor.dtype, storage.numel(),
                                     tensor.storage_offset(), tuple(tensor.size()), tensor.stride(),
                                     tensor.requires_grad))


ForkingPickler.register(_C.Tensor, _reduce_tensor)
