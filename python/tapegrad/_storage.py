"""Tensor.storage() / untyped_storage() in minimal forms (what course code reads from them: size,
elements, data_ptr, nbytes), and Tensor.share_memory_() / is_shared(), which move a tensor's
memory into a POSIX shared-memory segment so that processes see one another's writes."""
import _posixshmem  # what multiprocessing.shared_memory maps segments with
import atexit
import mmap
import os
from multiprocessing import shared_memory

import numpy as np

from . import _C

# The names of the segments this process created or attached, by the address of their first byte,
# and the segments it created, which it unlinks when it exits.
_segments = {}
_created = []


class UntypedStorage:
    """The bytes under a tensor, as torch.UntypedStorage: len() and nbytes() count bytes."""

    def __init__(self, storage_tensor):
        self._storage = storage_tensor

    def nbytes(self):
        """The size in bytes."""
        return self._storage.numel() * self._storage.element_size()

    size = nbytes
    __len__ = nbytes

    def data_ptr(self):
        """The address of the first byte."""
        return self._storage.data_ptr()

    @property
    def device(self):
        return self._storage.device

    def is_shared(self):
        """Whether the bytes live in shared memory (see Tensor.share_memory_)."""
        return self.data_ptr() in _segments

    def tolist(self):
        """The bytes as ints."""
        return list(self._storage.numpy().view(np.uint8).tobytes())

    def __repr__(self):
        return f"tapegrad.UntypedStorage of {self.nbytes()} bytes on {self.device}"


class TypedStorage(UntypedStorage):
    """The elements under a tensor (the whole storage, which a view may only part of), as
    torch.TypedStorage: len() and size() count elements, indexing reads them."""

    @property
    def dtype(self):
        return self._storage.dtype

    def size(self):
        """The number of elements."""
        return self._storage.numel()

    __len__ = size

    def element_size(self):
        """The size of one element in bytes."""
        return self._storage.element_size()

    def untyped(self):
        """The same memory as bytes."""
        return UntypedStorage(self._storage)

    def tolist(self):
        """The elements as Python numbers."""
        return self._storage.tolist()

    def __getitem__(self, index):
        return self._storage[index].tolist()

    def __iter__(self):
        return iter(self.tolist())

    def __repr__(self):
        values = "\n".join(f" {value}" for value in self.tolist())
        return (f"{values}\n[tapegrad.storage.TypedStorage(dtype={self.dtype}, device={self.device}) "
                f"of size {len(self)}]")


def _storage(self):
    """The tensor's storage as a TypedStorage (its elements, all of them for a view)."""
    return TypedStorage(self._storage_tensor())


def _untyped_storage(self):
    """The tensor's storage as an UntypedStorage (its bytes)."""
    return UntypedStorage(self._storage_tensor())


def _is_shared(self):
    """Whether the tensor's memory is in shared memory (after share_memory_ or a trip through a
    multiprocessing queue)."""
    return self._storage_tensor().data_ptr() in _segments


def _unlink_created_segments():
    for segment in _created:
        try:
            segment.unlink()
        except FileNotFoundError:
            pass


atexit.register(_unlink_created_segments)


def attach(name, dtype, numel):
    """A 1-D tensor of numel elements of dtype viewing the shared-memory segment `name`.

    The segment is mapped directly rather than through SharedMemory, which would register the name
    with this process's resource tracker: a worker started before the segment existed has a
    tracker of its own, which would unlink the creator's segment when the worker exits."""
    descriptor = _posixshmem.shm_open("/" + name, os.O_RDWR, mode=0o600)
    try:
        mapping = mmap.mmap(descriptor, os.fstat(descriptor).st_size)
    finally:
        os.close(descriptor)
    return _viewing(mapping, name, dtype, numel)


def _viewing(buffer, name, dtype, numel):
    # The NumPy array holds the buffer (and so the mapping) for as long as the tensor lives.
    array = np.ndarray((numel,), dtype=np.dtype(str(dtype).split(".")[1]), buffer=buffer)
    storage = _C.from_numpy(array)
    if numel:
        _segments[storage.data_ptr()] = name
    return storage


def segment_name(tensor):
    """The name of the shared-memory segment under tensor, which must be shared."""
    return _segments[tensor._storage_tensor().data_ptr()]


def _share_memory_(self):
    """Moves the tensor's memory into shared memory, in place (a no-op if it is there already), as
    torch's share_memory_; the tensor passed through a multiprocessing queue then shares it with the
    receiving process. Other views of the old memory keep the old memory."""
    if _is_shared(self) or self.numel() == 0:
        return self
    old = self._storage_tensor()
    segment = shared_memory.SharedMemory(create=True, size=old.numel() * old.element_size())
    _created.append(segment)
    storage = _viewing(segment.buf, segment.name, old.dtype, old.numel())
    storage.copy_(old)
    self.data = storage.as_strided(self.size(), self.stride(), self.storage_offset())
    return self


_C.Tensor.storage = _storage
_C.Tensor.untyped_storage = _untyped_storage
_C.Tensor.is_shared = _is_shared
_C.Tensor.share_memory_ = _share_memory_
