"""tapegrad.datasets: IDX reading and validation, where files are looked for, downloading.

Tests named test_core_* make tensors and so need the compiled core.
"""

import gzip
import hashlib
import io
import os
import re
import tracemalloc
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from tapegrad import datasets
from tapegrad.datasets import MNIST, FashionMNIST, read_idx

TRAIN = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte")
TEST = ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


def idx_bytes(array, type_code=0x08):
    array = np.asarray(array, dtype=np.uint8)
    header = bytes([0, 0, type_code, array.ndim]) + np.array(array.shape, ">u4").tobytes()
    return header + array.tobytes()


def write_split(folder, stems=TRAIN, count=5, gz=False, seed=0, images=None, labels=None):
    """Write a small valid split; returns (images, labels) as written."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (count, 28, 28), dtype=np.uint8) if images is None else images
    labels = rng.integers(0, 10, count, dtype=np.uint8) if labels is None else labels
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for stem, array in zip(stems, (images, labels)):
        payload = idx_bytes(array)
        if gz:
            (folder / (stem + ".gz")).write_bytes(gzip.compress(payload))
        else:
            (folder / stem).write_bytes(payload)
    return images, labels


@pytest.fixture(autouse=True)
def isolated_locations(tmp_path, monkeypatch):
    """No test sees the real cache, /usr/share/datasets, $TAPEGRAD_DATA or the network."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("TAPEGRAD_DATA", raising=False)
    monkeypatch.setattr(datasets, "SYSTEM_DATA_DIR", tmp_path / "system")

    def no_network(url, timeout=None):
        raise urllib.error.URLError("network disabled in tests")

    monkeypatch.setattr(urllib.request, "urlopen", no_network)


# -- reading ----------------------------------------------------------------------------------


def test_reads_plain_idx_files(tmp_path):
    images, labels = write_split(tmp_path / "d")
    ds = FashionMNIST(root=tmp_path / "d", download=False)
    np.testing.assert_array_equal(ds.data_numpy, images)
    np.testing.assert_array_equal(ds.targets_numpy, labels)
    assert ds.data_numpy.dtype == np.uint8 and ds.targets_numpy.dtype == np.int64


def test_reads_gzipped_idx_files(tmp_path):
    images, labels = write_split(tmp_path / "d", gz=True)
    ds = FashionMNIST(root=tmp_path / "d", download=False)
    np.testing.assert_array_equal(ds.data_numpy, images)
    np.testing.assert_array_equal(ds.targets_numpy, labels)


def test_test_split_reads_t10k_files(tmp_path):
    write_split(tmp_path / "d", TRAIN, count=5, seed=1)
    images, _ = write_split(tmp_path / "d", TEST, count=3, seed=2)
    ds = MNIST(root=tmp_path / "d", train=False, download=False)
    assert len(ds) == 3
    np.testing.assert_array_equal(ds.data_numpy, images)


def test_as_arrays_is_flat_float32_standardized_with_train_statistics(tmp_path):
    images, labels = write_split(tmp_path / "d")
    ds = FashionMNIST(root=tmp_path / "d", download=False)
    x, y = ds.as_arrays()
    assert x.shape == (5, 784) and x.dtype == np.float32 and y.dtype == np.int64
    expected = (images.reshape(5, -1) / 255 - FashionMNIST.mean) / FashionMNIST.std
    np.testing.assert_allclose(x, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(y, labels)


def test_as_arrays_without_standardize_is_scaled_to_unit_range(tmp_path):
    images, _ = write_split(tmp_path / "d")
    x, _ = MNIST(root=tmp_path / "d", download=False).as_arrays(standardize=False)
    np.testing.assert_allclose(x, images.reshape(5, -1) / 255, rtol=1e-6)


# -- validation -------------------------------------------------------------------------------


def test_bad_magic_is_value_error_naming_file(tmp_path):
    path = tmp_path / "bad"
    path.write_bytes(b"\x01\x00" + idx_bytes(np.zeros(3))[2:])
    with pytest.raises(ValueError, match=r"bad.*magic"):
        read_idx(path, 1)


def test_non_ubyte_element_type_is_rejected(tmp_path):
    path = tmp_path / "floats"
    path.write_bytes(idx_bytes(np.zeros(3), type_code=0x0D))
    with pytest.raises(ValueError, match=r"floats.*element type 0x0d"):
        read_idx(path, 1)


def test_wrong_number_of_dimensions_is_rejected(tmp_path):
    path = tmp_path / "labels2d"
    path.write_bytes(idx_bytes(np.zeros((2, 3))))
    with pytest.raises(ValueError, match=r"labels2d.*2 dimensions, expected 1"):
        read_idx(path, 1)


def test_truncated_plain_file_is_value_error_naming_file(tmp_path):
    path = tmp_path / "short"
    path.write_bytes(idx_bytes(np.zeros((4, 28, 28)))[:-10])
    with pytest.raises(ValueError, match=r"short.*truncated"):
        read_idx(path, 3)


def test_truncated_header_is_value_error(tmp_path):
    path = tmp_path / "header"
    path.write_bytes(idx_bytes(np.zeros((4, 28, 28)))[:9])
    with pytest.raises(ValueError, match=r"header.*truncated IDX header"):
        read_idx(path, 3)


def test_truncated_gzip_is_value_error_naming_file(tmp_path):
    path = tmp_path / "cut.gz"
    path.write_bytes(gzip.compress(idx_bytes(np.zeros((4, 28, 28))))[:-20])
    with pytest.raises(ValueError, match=r"cut\.gz.*gzip"):
        read_idx(path, 3)


def test_trailing_bytes_are_rejected(tmp_path):
    path = tmp_path / "long"
    path.write_bytes(idx_bytes(np.zeros(3)) + b"\x00")
    with pytest.raises(ValueError, match=r"long.*trailing bytes"):
        read_idx(path, 1)


def test_images_not_28x28_are_rejected(tmp_path):
    write_split(tmp_path, images=np.zeros((2, 27, 28), np.uint8), labels=np.zeros(2, np.uint8))
    with pytest.raises(ValueError, match=r"train-images-idx3-ubyte.*27x28"):
        FashionMNIST(root=tmp_path, download=False)


def test_label_count_must_match_image_count(tmp_path):
    write_split(tmp_path, images=np.zeros((3, 28, 28), np.uint8), labels=np.zeros(2, np.uint8))
    with pytest.raises(ValueError, match=r"2 labels for 3 images"):
        FashionMNIST(root=tmp_path, download=False)


def test_label_out_of_range_is_rejected(tmp_path):
    write_split(tmp_path, images=np.zeros((1, 28, 28), np.uint8), labels=np.array([10], np.uint8))
    with pytest.raises(ValueError, match=r"train-labels-idx1-ubyte.*label 10"):
        FashionMNIST(root=tmp_path, download=False)


def idx_header(dims):
    return bytes([0, 0, 0x08, len(dims)]) + np.array(dims, ">u4").tobytes()


@pytest.mark.parametrize("dims", [(5, 0, 28), (5, 28, 0)])
def test_zero_image_dimension_is_value_error_naming_file(tmp_path, dims):
    write_split(tmp_path, images=np.zeros(dims, np.uint8), labels=np.zeros(5, np.uint8))
    with pytest.raises(ValueError, match=r"train-images-idx3-ubyte: images are \d+x\d+, expected 28x28"):
        FashionMNIST(root=tmp_path, download=False)


@pytest.mark.parametrize("gz", [False, True])
def test_idx_file_with_zero_elements_reads_as_an_empty_array(tmp_path, gz):
    # The format allows a 0 dimension; read_idx returns what the file says, as NumPy would.
    path = tmp_path / "empty"
    payload = idx_header((5, 0, 28))
    path.write_bytes(gzip.compress(payload) if gz else payload)
    assert read_idx(path, 3).shape == (5, 0, 28)


@pytest.mark.parametrize("dims", [(0, 2**32 - 1, 2**32 - 1), (2**32 - 1, 2**32 - 1, 0)])
def test_empty_file_with_huge_other_dims_is_value_error_naming_file(tmp_path, dims):
    # Found by tests/fuzz: NumPy refuses such an (empty) array with its own message.
    path = tmp_path / "wide"
    path.write_bytes(idx_header(dims))
    with pytest.raises(ValueError, match=r"wide: dims .* implausibly large"):
        read_idx(path, 3)


def test_split_without_images_is_value_error_naming_file(tmp_path):
    # torchvision cannot read an IDX file without data either (torch.frombuffer raises ValueError).
    write_split(tmp_path, images=np.zeros((0, 28, 28), np.uint8), labels=np.zeros(0, np.uint8))
    with pytest.raises(ValueError, match=r"train-images-idx3-ubyte: holds no images"):
        FashionMNIST(root=tmp_path, download=False)


def traced_peak(function, *args):
    """(result or raised exception, peak bytes traced while function ran); NumPy's buffers count."""
    tracemalloc.start()
    try:
        result = function(*args)
    except Exception as e:  # noqa: BLE001 - returned for the caller to check
        result = e
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return result, peak


def test_gzip_is_read_straight_into_the_array(tmp_path):
    images = np.zeros((20_000, 28, 28), np.uint8)
    path = tmp_path / "images.gz"
    path.write_bytes(gzip.compress(idx_bytes(images)))
    result, peak = traced_peak(read_idx, path, 3)
    assert isinstance(result, np.ndarray) and result.shape == images.shape
    assert peak < images.nbytes + (2 << 20)


@pytest.mark.parametrize("gz", [False, True])
def test_file_claiming_a_huge_array_is_refused_before_allocating(tmp_path, gz):
    dims = (100_000, 28, 28)
    path = tmp_path / "claims.gz"
    payload = idx_header(dims) + bytes(1000)
    path.write_bytes(gzip.compress(payload) if gz else payload)
    result, peak = traced_peak(read_idx, path, 3)
    assert isinstance(result, ValueError)
    limit = r"more than \d+ times its \d+ compressed bytes" if gz else r"truncated"
    assert re.search(r"claims\.gz: .*" + limit, str(result)), str(result)
    assert peak < 1 << 20


def test_gzip_as_compressed_as_deflate_allows_is_read(tmp_path):
    images = np.zeros((60_000, 28, 28), np.uint8)
    path = tmp_path / "zeros.gz"
    path.write_bytes(gzip.compress(idx_bytes(images), compresslevel=9))
    assert read_idx(path, 3).shape == images.shape

# -- where files are looked for ---------------------------------------------------------------


def test_root_comes_before_tapegrad_data(tmp_path, monkeypatch):
    from_root, _ = write_split(tmp_path / "root", seed=1)
    write_split(tmp_path / "env", seed=2)
    monkeypatch.setenv("TAPEGRAD_DATA", str(tmp_path / "env"))
    ds = FashionMNIST(root=tmp_path / "root", download=False)
    np.testing.assert_array_equal(ds.data_numpy, from_root)


@pytest.mark.parametrize("root_exists", [True, False])
def test_explicit_root_without_the_files_is_an_error_naming_it(tmp_path, monkeypatch, root_exists):
    # The files are everywhere else: an explicit root is authoritative all the same.
    write_split(tmp_path / "env")
    write_split(tmp_path / "cache" / "tapegrad" / "fashion-mnist")
    write_split(tmp_path / "system" / "fashion-mnist")
    monkeypatch.setenv("TAPEGRAD_DATA", str(tmp_path / "env"))
    root = tmp_path / "mine"
    if root_exists:
        root.mkdir()
    for download in (False, True):
        with pytest.raises(FileNotFoundError) as info:
            FashionMNIST(root=root, download=download)
        message = str(info.value)
        assert f"not found in root {root}" in message
        assert ("(no such folder)" in message) != root_exists
        assert str(tmp_path / "env") not in message.split("Looked in: ")[1].split("\n")[0]
    assert root.exists() == root_exists  # a failed download made no folders


def test_download_into_an_explicit_root_uses_torchvisions_layout(tmp_path, monkeypatch):
    images, files = gz_split()
    monkeypatch.setattr(FashionMNIST, "md5", {k: hashlib.md5(v).hexdigest() for k, v in files.items()})
    serve(monkeypatch, files)
    np.testing.assert_array_equal(FashionMNIST(root=tmp_path / "data").data_numpy, images)
    assert sorted(os.listdir(tmp_path / "data" / "FashionMNIST" / "raw")) == sorted(files)
    assert not (tmp_path / "cache").exists()


def test_tapegrad_data_with_dataset_subfolder(tmp_path, monkeypatch):
    images, _ = write_split(tmp_path / "env" / "mnist")
    monkeypatch.setenv("TAPEGRAD_DATA", str(tmp_path / "env"))
    np.testing.assert_array_equal(MNIST(download=False).data_numpy, images)


def test_tapegrad_data_comes_before_cache(tmp_path, monkeypatch):
    from_env, _ = write_split(tmp_path / "env", seed=1)
    write_split(tmp_path / "cache" / "tapegrad" / "fashion-mnist", seed=2)
    monkeypatch.setenv("TAPEGRAD_DATA", str(tmp_path / "env"))
    np.testing.assert_array_equal(FashionMNIST(download=False).data_numpy, from_env)


def test_cache_comes_before_system_folder(tmp_path):
    from_cache, _ = write_split(tmp_path / "cache" / "tapegrad" / "fashion-mnist", seed=1)
    write_split(tmp_path / "system" / "fashion-mnist", seed=2)
    np.testing.assert_array_equal(FashionMNIST(download=False).data_numpy, from_cache)


def test_system_folder_is_the_last_resort(tmp_path):
    images, _ = write_split(tmp_path / "system" / "fashion-mnist", gz=True)
    np.testing.assert_array_equal(FashionMNIST(download=False).data_numpy, images)


def test_torchvision_raw_layout_under_root(tmp_path):
    images, _ = write_split(tmp_path / "FashionMNIST" / "raw")
    np.testing.assert_array_equal(FashionMNIST(root=tmp_path, download=False).data_numpy, images)


def test_installed_debian_fashion_mnist_test_split(monkeypatch):
    """The layout of Debian's dataset-fashion-mnist, read where it installs."""
    system = Path("/usr/share/datasets")
    if not (system / "fashion-mnist" / "t10k-images-idx3-ubyte.gz").is_file():
        pytest.skip("dataset-fashion-mnist is not installed (apt-get install dataset-fashion-mnist)")
    monkeypatch.setattr(datasets, "SYSTEM_DATA_DIR", system)
    ds = FashionMNIST(train=False, download=False)
    assert ds.data_numpy.shape == (10000, 28, 28)
    assert np.bincount(ds.targets_numpy).tolist() == [1000] * 10


# -- not found and downloading ----------------------------------------------------------------


def test_not_found_error_says_how_to_get_the_files(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        FashionMNIST(download=False)
    message = str(info.value)
    assert "apt-get install dataset-fashion-mnist" in message
    assert str(tmp_path / "cache" / "tapegrad" / "fashion-mnist") in message
    assert "TAPEGRAD_DATA" in message and "root=" in message
    assert "t10k-labels-idx1-ubyte.gz" in message


def test_mnist_not_found_error_offers_no_apt_package(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        MNIST(download=False)
    assert "apt-get" not in str(info.value)
    assert str(tmp_path / "cache" / "tapegrad" / "mnist") in str(info.value)


def test_failed_download_is_reported_in_the_not_found_error():
    with pytest.raises(FileNotFoundError, match=r"(?s)Downloading: failed:.*network disabled"):
        FashionMNIST()


def serve(monkeypatch, files):
    """Answer urlopen with the bytes of files[basename], recording the URLs asked for."""
    asked = []

    def fake_urlopen(url, timeout=None):
        asked.append(url)
        return io.BytesIO(files[url.rsplit("/", 1)[1]])

    monkeypatch.setattr(urllib.request, "urlopen", fake_urlopen)
    return asked


def gz_split(count=4):
    rng = np.random.default_rng(3)
    images = rng.integers(0, 256, (count, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, count, dtype=np.uint8)
    files = {TRAIN[0] + ".gz": gzip.compress(idx_bytes(images)),
             TRAIN[1] + ".gz": gzip.compress(idx_bytes(labels))}
    return images, files


def test_download_checks_md5_and_stores_into_cache(tmp_path, monkeypatch):
    images, files = gz_split()
    monkeypatch.setattr(FashionMNIST, "md5", {k: hashlib.md5(v).hexdigest() for k, v in files.items()})
    asked = serve(monkeypatch, files)
    ds = FashionMNIST()
    np.testing.assert_array_equal(ds.data_numpy, images)
    cache = tmp_path / "cache" / "tapegrad" / "fashion-mnist"
    assert sorted(os.listdir(cache)) == sorted(files)
    assert all(url.startswith(FashionMNIST.mirrors[0]) for url in asked)


def test_download_does_not_follow_a_link_planted_at_the_old_partial_name(tmp_path, monkeypatch):
    # Downloads went through the predictable <file>.part with a plain write.
    images, files = gz_split()
    monkeypatch.setattr(FashionMNIST, "md5", {k: hashlib.md5(v).hexdigest() for k, v in files.items()})
    serve(monkeypatch, files)
    cache = tmp_path / "cache" / "tapegrad" / "fashion-mnist"
    cache.mkdir(parents=True)
    victim = tmp_path / "victim"
    victim.write_bytes(b"precious")
    for name in files:
        os.symlink(victim, cache / (name + ".part"))
    np.testing.assert_array_equal(FashionMNIST().data_numpy, images)
    assert victim.read_bytes() == b"precious"
    assert not any((cache / name).is_symlink() for name in files)


def test_download_with_wrong_md5_keeps_nothing(tmp_path, monkeypatch):
    _, files = gz_split()
    monkeypatch.setattr(FashionMNIST, "md5", {k: "0" * 32 for k in files})
    serve(monkeypatch, files)
    with pytest.raises(FileNotFoundError, match="does not match the published"):
        FashionMNIST()
    cache = tmp_path / "cache" / "tapegrad" / "fashion-mnist"
    assert not cache.exists() or os.listdir(cache) == []


def test_getitem_takes_only_an_int_index(tmp_path):
    write_split(tmp_path)
    with pytest.raises(TypeError):
        FashionMNIST(root=tmp_path, download=False)[1:3]


# -- tensors (need the core) ------------------------------------------------------------------


def test_core_getitem_returns_unit_range_image_and_int_label(tmp_path):
    images, labels = write_split(tmp_path)
    image, label = FashionMNIST(root=tmp_path, download=False)[2]
    assert tuple(image.shape) == (1, 28, 28)
    np.testing.assert_allclose(image.numpy()[0], images[2] / 255, rtol=1e-6)
    assert label == int(labels[2]) and isinstance(label, int)


def test_core_data_and_targets_are_tensors(tmp_path):
    import tapegrad

    images, labels = write_split(tmp_path)
    ds = FashionMNIST(root=tmp_path, download=False)
    assert ds.data.dtype == tapegrad.float32 and tuple(ds.data.shape) == (5, 28, 28)
    assert ds.targets.dtype == tapegrad.int64
    np.testing.assert_array_equal(ds.targets.numpy(), labels)
    assert ds.data is ds.data


def test_core_transform_and_target_transform_apply_per_item(tmp_path):
    images, labels = write_split(tmp_path)
    # torchvision's argument order: root, train, transform, target_transform, download.
    ds = FashionMNIST(tmp_path, True, lambda image: (image - 0.5) / 0.5, lambda label: label + 100, False)
    image, label = ds[3]
    np.testing.assert_allclose(image.numpy()[0], (images[3] / 255 - 0.5) / 0.5, rtol=1e-5, atol=1e-6)
    assert label == int(labels[3]) + 100
    assert ds.data_numpy is not None and ds.transform is not None and ds.target_transform is not None
