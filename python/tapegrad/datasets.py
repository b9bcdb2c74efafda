"""MNIST and Fashion-MNIST from the standard IDX files.

Each split is two files, ``{train,t10k}-{images-idx3,labels-idx1}-ubyte``, gzipped (``.gz``) or
not. An explicit ``root`` is authoritative, as in torchvision: the files are looked for only there
(directly, in a ``<name>/`` subfolder, or in torchvision's ``FashionMNIST/raw/`` layout) and, if
absent and ``download``, downloaded into ``<root>/FashionMNIST/raw``; otherwise the error names
the root. With ``root=None`` they are looked for, in this order, in

1. the folder named by ``$TAPEGRAD_DATA`` (in the same three layouts),
2. ``~/.cache/tapegrad/<name>`` (``$XDG_CACHE_HOME`` is honoured),
3. ``/usr/share/datasets/<name>`` (where Debian's ``dataset-fashion-mnist`` puts them),

with ``<name>`` ``fashion-mnist`` or ``mnist``, and downloaded into the cache if none has them.
Downloads are checked against the MD5 sums the dataset's authors publish; when downloading fails
the error says how to get the files by hand.

Samples: ``dataset[i]`` is ``(image, label)``, the image a float32 tensor (1, 28, 28) in [0, 1]
(what torchvision's ``ToTensor()`` makes of its PIL image) passed through ``transform`` if given,
the label an int passed through ``target_transform``. Training loops that want speed skip the
per-sample path: ``data_numpy``/``targets_numpy`` hold the whole split (uint8 (N, 28, 28) and int64
(N,)), and ``normalize`` turns a batch of raw images into standardized float32 rows; that is how
``tapegrad-train`` batches (its transform is fixed, so none is applied). The raw arrays stay NumPy,
so this module imports without the compiled core; ``data``/``targets`` make tensors on first use.
tapegrad has no uint8 dtype, so unlike torchvision ``data`` is float32 scaled to [0, 1].
"""

from __future__ import annotations

import gzip
import hashlib
import math
import operator
import os
import zlib
from pathlib import Path

import numpy as np

from ._atomic import atomic_write

__all__ = ["MNIST", "FashionMNIST"]

IMAGE_SIZE = 28
# Where Debian's dataset packages install; a module attribute so tests can point it elsewhere.
SYSTEM_DATA_DIR = Path("/usr/share/datasets")
DOWNLOAD_TIMEOUT_S = 30

_IDX_UBYTE = 0x08
# Deflate expands at most 1032-fold (zlib's technical notes); a gzipped IDX file that declares
# more data than that many times its own size cannot hold it and is refused before allocating.
MAX_GZIP_EXPANSION = 1032
# A documented cap on any one IDX file's payload (16 GiB, far above MNIST's 47 MB), and on
# the product of its non-zero dims.
MAX_IDX_BYTES = 1 << 34
# Decompression goes straight into the result array in pieces this large: GzipFile.readinto
# makes a bytes object of the whole request first, so one big request would double the peak.
_READ_CHUNK_BYTES = 1 << 18


def _cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "tapegrad"


# ---------------------------------------------------------------------------------------------
# IDX files


def _open_decompressed(file):
    """The open file's content stream and whether it is gzip (told by its magic, not its name)."""
    compressed = file.read(2) == b"\x1f\x8b"
    file.seek(0)
    return (gzip.GzipFile(fileobj=file, mode="rb") if compressed else file), compressed


def _read_exactly(stream, path: Path, buffer) -> int:
    """Fills `buffer` from the stream; returns how many bytes arrived (fewer at end of file)."""
    # reshape(-1): a memoryview of an array with a 0 in its shape cannot be cast to bytes.
    view = memoryview(buffer.reshape(-1) if isinstance(buffer, np.ndarray) else buffer).cast("B")
    filled = 0
    try:
        while filled < len(view):
            count = stream.readinto(view[filled:filled + _READ_CHUNK_BYTES])
            if not count:
                break
            filled += count
    except (OSError, EOFError, zlib.error) as e:
        raise ValueError(f"{path}: corrupt or truncated gzip data ({e})") from None
    return filled


def read_idx(path, expected_ndim: int) -> np.ndarray:
    """Read an unsigned-byte IDX file into a uint8 array, checking magic, dims and length.

    The payload is decompressed straight into the result array, so reading a split never holds
    more than the array itself (the main job's peak memory depends on it). Before allocating,
    the declared size is checked against what the file can hold: exactly its size for a plain
    file, at most ``MAX_GZIP_EXPANSION`` times it for gzip, and never over ``MAX_IDX_BYTES``.
    A 0 dimension, which the format allows, gives an empty array. Errors are ValueError naming
    the file.
    """
    path = Path(path)
    with open(path, "rb") as file:
        file_size = os.fstat(file.fileno()).st_size
        stream, compressed = _open_decompressed(file)
        with stream:
            magic = bytearray(4)
            got = _read_exactly(stream, path, magic)
            if got < 4:
                raise ValueError(f"{path}: too short for an IDX header ({got} bytes)")
            zero0, zero1, type_code, ndim = magic
            if zero0 != 0 or zero1 != 0:
                raise ValueError(f"{path}: bad IDX magic {bytes(magic).hex()} (must start with 0000)")
            if type_code != _IDX_UBYTE:
                raise ValueError(f"{path}: IDX element type 0x{type_code:02x}, expected 0x08 (unsigned byte)")
            if ndim != expected_ndim:
                raise ValueError(f"{path}: IDX file has {ndim} dimensions, expected {expected_ndim}")
            header_len = 4 + 4 * ndim
            dims_bytes = bytearray(4 * ndim)
            got = _read_exactly(stream, path, dims_bytes)
            if got < len(dims_bytes):
                raise ValueError(f"{path}: truncated IDX header ({4 + got} of {header_len} bytes)")
            dims = tuple(int(d) for d in np.frombuffer(bytes(dims_bytes), dtype=">u4"))
            expected_len = header_len + math.prod(dims)  # Python ints: a corrupt header cannot overflow
            # Zeros left out: NumPy refuses an empty array whose other dims multiply past 2**63.
            if math.prod(d for d in dims if d) > MAX_IDX_BYTES:
                raise ValueError(f"{path}: dims {dims} are implausibly large for an IDX data set "
                                 f"(the non-zero ones multiply to more than {MAX_IDX_BYTES})")
            if compressed and expected_len > MAX_GZIP_EXPANSION * file_size:
                raise ValueError(f"{path}: dims {dims} need {expected_len} bytes, more than "
                                 f"{MAX_GZIP_EXPANSION} times its {file_size} compressed bytes, the "
                                 "most gzip can expand to")
            if not compressed and expected_len != file_size:
                what = "truncated" if expected_len > file_size else "has trailing bytes"
                raise ValueError(f"{path}: {what}: dims {dims} need {expected_len} bytes, file has "
                                 f"{file_size}")
            data = np.empty(dims, dtype=np.uint8)
            got = _read_exactly(stream, path, data)
            trailing = _read_exactly(stream, path, bytearray(1)) if got == data.size else 0
    if got < data.size or trailing:
        what = "truncated" if got < data.size else "has trailing bytes"
        actual = header_len + got + trailing
        raise ValueError(
            f"{path}: {what}: dims {dims} need {expected_len} bytes, file has {actual}{'+' if trailing else ''}"
        )
    return data


def load_split(images_path, labels_path, num_classes: int = 10):
    """(images uint8 (N, 28, 28), labels int64 (N,)) from a pair of IDX files, cross-checked."""
    images = read_idx(images_path, 3)
    labels = read_idx(labels_path, 1)
    if images.shape[1:] != (IMAGE_SIZE, IMAGE_SIZE):
        raise ValueError(
            f"{images_path}: images are {images.shape[1]}x{images.shape[2]}, "
            f"expected {IMAGE_SIZE}x{IMAGE_SIZE}"
        )
    # An empty split trains nothing; torchvision cannot read such a file either.
    if images.shape[0] == 0:
        raise ValueError(f"{images_path}: holds no images")
    if images.shape[0] != labels.shape[0]:
        raise ValueError(
            f"{labels_path}: {labels.shape[0]} labels for {images.shape[0]} images in {images_path}"
        )
    if labels.size and int(labels.max()) >= num_classes:
        raise ValueError(f"{labels_path}: label {int(labels.max())} out of range 0..{num_classes - 1}")
    return images, labels.astype(np.int64)


# ---------------------------------------------------------------------------------------------
# Finding and downloading the files


def _split_files(train: bool):
    prefix = "train" if train else "t10k"
    return f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte"


def _find_file(folder: Path, stem: str):
    # Kaggle's copies spell the stem with a dot: train-images.idx3-ubyte.
    dotted = stem.replace("-idx", ".idx")
    for name in (stem, stem + ".gz", dotted, dotted + ".gz"):
        candidate = folder / name
        if candidate.is_file():
            return candidate
    return None


def _download_file(urls, destination: Path, md5: str) -> None:
    """Fetch the first URL that answers into destination, keeping it only if its MD5 matches."""
    import urllib.request  # here, not at the top: it costs `import tapegrad` about 60 ms

    errors = []
    for url in urls:
        try:
            with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as response:
                payload = response.read()
        except Exception as e:  # URLError, timeouts, HTTP errors: try the next mirror
            errors.append(f"{url}: {e}")
            continue
        digest = hashlib.md5(payload).hexdigest()
        if digest != md5:
            errors.append(f"{url}: MD5 {digest} does not match the published {md5}")
            continue
        # Folders are made only for a verified payload: a failed download leaves nothing behind.
        destination.parent.mkdir(parents=True, exist_ok=True)
        with atomic_write(destination) as f:
            f.write(payload)
        return
    raise OSError("; ".join(errors))


class _IdxDataset:
    """Shared body of MNIST and FashionMNIST; subclasses set the class attributes below."""

    name = ""  # folder name: /usr/share/datasets/<name>, ~/.cache/tapegrad/<name>
    torchvision_name = ""  # torchvision's <root>/<torchvision_name>/raw layout
    mirrors: tuple = ()
    md5: dict = {}  # of the published .gz files
    # Mean and std of the training images scaled to [0, 1], used by as_arrays(standardize=True).
    mean = 0.0
    std = 1.0
    apt_package = None
    classes: tuple = ()

    def __init__(self, root=None, train: bool = True, transform=None, target_transform=None,
                 download: bool = True):
        self.root = None if root is None else Path(root).expanduser()
        self.train = train
        self.transform = transform
        self.target_transform = target_transform
        images_path, labels_path = self._locate(download)
        self.images_path, self.labels_path = images_path, labels_path
        self.data_numpy, self.targets_numpy = load_split(images_path, labels_path, len(self.classes))
        self._data = None
        self._targets = None

    # -- locating ------------------------------------------------------------------------------

    def _layouts(self, base: Path):
        """The folders a data root may hold the files in: itself, <name>/, torchvision's layout."""
        return [base, base / self.name, base / self.torchvision_name / "raw"]

    def _search_dirs(self):
        if self.root is not None:
            return self._layouts(self.root)
        dirs = []
        if os.environ.get("TAPEGRAD_DATA"):
            dirs += self._layouts(Path(os.environ["TAPEGRAD_DATA"]).expanduser())
        dirs.append(_cache_root() / self.name)
        dirs.append(Path(SYSTEM_DATA_DIR) / self.name)
        return dirs

    def _download_dir(self) -> Path:
        if self.root is not None:
            return self.root / self.torchvision_name / "raw"
        return _cache_root() / self.name

    def _locate(self, download: bool):
        stems = _split_files(self.train)
        searched = self._search_dirs()
        for folder in searched:
            found = [_find_file(folder, stem) for stem in stems]
            if all(found):
                return found
        download_error = "not attempted (download=False)"
        if download:
            destination = self._download_dir()
            try:
                paths = []
                for stem in stems:
                    gz = stem + ".gz"
                    _download_file([m + gz for m in self.mirrors], destination / gz, self.md5[gz])
                    paths.append(destination / gz)
                return paths
            except OSError as e:
                download_error = f"failed: {e}"
        raise FileNotFoundError(self._not_found_message(stems, searched, download_error))

    def _not_found_message(self, stems, searched, download_error):
        all_files = ", ".join(s + ".gz" for s in _split_files(True) + _split_files(False))
        where = "" if self.root is None else f" in root {self.root}"
        if self.root is not None and not self.root.is_dir():
            where += " (no such folder)"
        lines = [
            f"{type(self).__name__}: {stems[0]}[.gz] and {stems[1]}[.gz] not found{where}.",
            "Looked in: " + ", ".join(str(d) for d in searched),
            f"Downloading: {download_error}",
            "To get the files, either",
        ]
        if self.root is not None:
            lines += [
                f"  - put the four files {all_files} into {self.root}, or",
                "  - pass root=None (tapegrad-train without --data) to use $TAPEGRAD_DATA, the cache "
                f"({_cache_root() / self.name}) or {Path(SYSTEM_DATA_DIR) / self.name}.",
            ]
            return "\n".join(lines)
        if self.apt_package:
            lines.append(
                f"  - apt-get install {self.apt_package}  "
                f"(installs them into {Path(SYSTEM_DATA_DIR) / self.name}), or"
            )
        lines += [
            f"  - put the four files {all_files} into {_cache_root() / self.name}, or",
            "  - put them in any folder and pass it as root=... (tapegrad-train --data DIR)"
            " or set TAPEGRAD_DATA=DIR.",
        ]
        return "\n".join(lines)

    # -- access --------------------------------------------------------------------------------

    def __len__(self) -> int:
        return int(self.targets_numpy.shape[0])

    def __getitem__(self, index):
        """(image, label): a float32 tensor (1, 28, 28) in [0, 1] (as torchvision's ToTensor
        makes) and an int, through transform and target_transform when given."""
        index = operator.index(index)  # a slice would silently give a batch of the wrong shape
        import tapegrad

        image = tapegrad.from_numpy(self.data_numpy[index].astype(np.float32)[None] / np.float32(255))
        target = int(self.targets_numpy[index])
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return image, target

    @property
    def data(self):
        """All images as a float32 tensor (N, 28, 28) scaled to [0, 1], made on first use."""
        if self._data is None:
            import tapegrad

            self._data = tapegrad.from_numpy(self.data_numpy.astype(np.float32) / np.float32(255))
        return self._data

    @property
    def targets(self):
        """All labels as an int64 tensor (N,), sharing memory with targets_numpy."""
        if self._targets is None:
            import tapegrad

            self._targets = tapegrad.from_numpy(self.targets_numpy)
        return self._targets

    def as_arrays(self, standardize: bool = True):
        """The whole split as (float32 (N, 784), int64 (N,)) NumPy arrays, for fast training.

        Pixels are scaled to [0, 1] and, with ``standardize``, shifted and scaled by the training
        set's mean and std (the same constants for both splits, so test data sees the train
        statistics).
        """
        return self.normalize(self.data_numpy, standardize), self.targets_numpy.copy()

    def normalize(self, images, standardize: bool = True):
        """uint8 images (any leading shape) as float32 (N, 784) rows, scaled as as_arrays does.

        The trainer keeps the split as uint8 (a quarter of the float32 size) and normalizes each
        batch as it is drawn.
        """
        rows = np.asarray(images).reshape(len(images), -1).astype(np.float32)
        rows *= np.float32(1 / 255)
        if standardize:
            rows -= np.float32(self.mean)
            rows *= np.float32(1 / self.std)
        return rows

    def __repr__(self):
        split = "train" if self.train else "test"
        return f"{type(self).__name__}(split={split}, samples={len(self)}, images={self.images_path})"


class MNIST(_IdxDataset):
    """The MNIST handwritten digits, 60000 train / 10000 test images of 28x28."""

    name = "mnist"
    torchvision_name = "MNIST"
    mirrors = (
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "http://yann.lecun.com/exdb/mnist/",
    )
    md5 = {
        "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
        "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
        "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
        "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
    }
    mean, std = 0.1307, 0.3081
    classes = tuple(str(d) for d in range(10))


class FashionMNIST(_IdxDataset):
    """Zalando's Fashion-MNIST, a drop-in replacement for MNIST with clothing images."""

    name = "fashion-mnist"
    torchvision_name = "FashionMNIST"
    mirrors = ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",)
    md5 = {
        "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
        "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
        "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
        "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
    }
    mean, std = 0.2860, 0.3530
    apt_package = "dataset-fashion-mnist"
    classes = (
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
        "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    )
