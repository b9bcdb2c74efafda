"""nn.Embedding and F.embedding against PyTorch: lookups of any index shape, padding_idx,
scale_grad_by_freq, max_norm, from_pretrained, initialisation, node name, gradcheck and errors."""
import numpy as np
import pytest
import torch

import tapegrad as tg
from helpers import TOLERANCES, TORCH_DTYPES, assert_close

INDEX_SHAPES = [(), (5,), (2, 3), (0,), (2, 0, 3)]


def embedding_case(lib, weight_array, index_array, dtype, transposed=False, **options):
    """Runs F.embedding with a random upstream gradient; returns (output, weight grad)."""
    if transposed:
        base = lib.tensor(np.ascontiguousarray(weight_array.T), dtype=TORCH_DTYPES[dtype] if lib is torch else dtype,
                          requires_grad=True)
        weight = base.t()
    else:
        base = lib.tensor(weight_array, dtype=TORCH_DTYPES[dtype] if lib is torch else dtype, requires_grad=True)
        weight = base
    output = lib.nn.functional.embedding(lib.tensor(index_array), weight, **options)
    upstream = np.random.default_rng(1).uniform(-1, 1, size=tuple(output.shape))
    (output * lib.tensor(upstream, dtype=output.dtype)).sum().backward()
    return output, base.grad


@pytest.mark.parametrize("dtype", [tg.float32, tg.float64])
@pytest.mark.parametrize("shape", INDEX_SHAPES)
@pytest.mark.parametrize("options", [{}, {"padding_idx": 2}, {"padding_idx": -1}, {"scale_grad_by_freq": True},
                                     {"padding_idx": 0, "scale_grad_by_freq": True}])
@pytest.mark.parametrize("transposed", [False, True])
def test_functional_embedding_matches_torch(dtype, shape, options, transposed):
    rng = np.random.default_rng(0)
    weight = rng.normal(size=(6, 4))
    indices = rng.integers(0, 6, size=shape)  # repeats, so rows accumulate
    ours = embedding_case(tg, weight, indices, dtype, transposed, **options)
    theirs = embedding_case(torch, weight, indices, dtype, transposed, **options)
    atol, rtol = TOLERANCES[dtype]
    for a, b in zip(ours, theirs):
        assert_close(a, b, atol, rtol)


def test_int32_indices_and_node_name():
    weight = np.random.default_rng(0).normal(size=(5, 3))
    for lib in (tg, torch):
        w = lib.tensor(weight, requires_grad=True)
        out = lib.nn.functional.embedding(lib.tensor(np.array([[1, 4], [4, 0]], dtype=np.int32)), w)
        assert type(out.grad_fn).__name__ == "EmbeddingBackward0" or out.grad_fn.name() == "EmbeddingBackward0"
    ours = tg.nn.functional.embedding(tg.tensor(np.array([1, 4], dtype=np.int32)), tg.tensor(weight))
    assert_close(ours, weight[[1, 4]], 0, 0)


def test_max_norm_renormalises_rows_like_torch():
    weight = np.random.default_rng(0).normal(size=(6, 4)) * 3
    indices = np.array([[0, 2], [2, 5]])
    results = []
    for lib in (tg, torch):
        w = lib.tensor(weight.copy())
        out = lib.nn.functional.embedding(lib.tensor(indices), w, max_norm=1.5, norm_type=2.0)
        results.append((out, w))
    assert_close(results[0][0], results[1][0], 1e-10, 1e-8)
    assert_close(results[0][1], results[1][1], 1e-10, 1e-8)


def test_gradcheck():
    rng = np.random.default_rng(0)
    indices = tg.tensor(rng.integers(0, 5, size=(3, 4)))
    weight = tg.tensor(rng.normal(size=(5, 3)), requires_grad=True)
    # padding_idx and scale_grad_by_freq change the gradient on purpose; the lookup's own is exact.
    assert tg.autograd.gradcheck(lambda w: tg.nn.functional.embedding(indices, w), [weight])


def test_module_init_padding_and_surface_match_torch():
    tg.manual_seed(0)
    ours = tg.nn.Embedding(400, 50, padding_idx=3)
    theirs = torch.nn.Embedding(400, 50, padding_idx=3)
    values = ours.weight.detach().numpy()
    assert np.all(values[3] == 0)
    others = np.delete(values, 3, axis=0)
    assert abs(others.mean()) < 0.02 and abs(others.std() - 1) < 0.02  # N(0, 1)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["weight"]
    assert repr(ours) == repr(theirs)
    assert repr(tg.nn.Embedding(5, 2, max_norm=1.0, scale_grad_by_freq=True)) == repr(
        torch.nn.Embedding(5, 2, max_norm=1.0, scale_grad_by_freq=True))
    assert tg.nn.Embedding(5, 2, padding_idx=-2).padding_idx == torch.nn.Embedding(5, 2, padding_idx=-2).padding_idx
    # The padding row gets no gradient through the module either.
    ours(tg.tensor([3, 1, 3])).sum().backward()
    grad = ours.weight.grad.numpy()
    assert np.all(grad[3] == 0) and np.all(grad[1] == 1)


def test_from_pretrained_and_freeze():
    table = np.arange(12.0).reshape(4, 3)
    for lib in (tg, torch):
        frozen = lib.nn.Embedding.from_pretrained(lib.tensor(table))
        assert not frozen.weight.requires_grad
        trainable = lib.nn.Embedding.from_pretrained(lib.tensor(table), freeze=False, padding_idx=0)
        assert trainable.weight.requires_grad and trainable.padding_idx == 0
        assert_close(trainable(lib.tensor([2, 0])), table[[2, 0]], 0, 0)
        trainable(lib.tensor([2, 0])).sum().backward()
        assert_close(trainable.weight.grad, np.array([[0, 0, 0], [0, 0, 0], [1, 1, 1], [0, 0, 0.]]), 0, 0)


def test_errors_match_torch():
    weight = np.zeros((3, 2))
    cases = [
        lambda lib: lib.nn.functional.embedding(lib.tensor([3]), lib.tensor(weight)),
        lambda lib: lib.nn.functional.embedding(lib.tensor([-1]), lib.tensor(weight)),
        lambda lib: lib.nn.functional.embedding(lib.tensor([1.0]), lib.tensor(weight)),
        lambda lib: lib.nn.Embedding(3, 2, padding_idx=3),
        lambda lib: lib.nn.Embedding(3, 2, padding_idx=-4),
    ]
    for case in cases:
        with pytest.raises(Exception) as theirs:
            case(torch)
        with pytest.raises(type(theirs.value)) as ours:
            case(tg)
        assert str(theirs.value).split(":")[0].split(" (")[0] in str(ours.value)
    with pytest.raises(RuntimeError, match=r"\[embedding\] 'weight' must be 2-D"):
        tg.nn.functional.embedding(tg.tensor([0]), tg.zeros(3))
