"""Attention against PyTorch: F.scaled_dot_product_attention (masks, is_causal, scale, fully masked rows) over
dtypes and layouts with gradients and gradcheck; nn.MultiheadAttention and nn.TransformerEncoderLayer with
copied weights, step for step (outputs, attention weights, gradients, SGD updates)."""
import numpy as np
import pytest
import torch

import tapegrad as tg
import tapegrad.nn as nn
import tapegrad.nn.functional as F
from helpers import assert_close, check_op, gradcheck_op

# PyTorch warns about a float attn_mask beside a bool key_padding_mask (a case tested here on purpose).
pytestmark = pytest.mark.filterwarnings("ignore:Support for mismatched key_padding_mask")


def functional(lib):
    return F if lib is tg else torch.nn.functional


RNG = np.random.default_rng(5)
BOOL_MASK = RNG.uniform(size=(4, 5)) > 0.3
BOOL_MASK[:, 0] = True
FLOAT_MASK = RNG.uniform(-1, 1, size=(4, 5))
ROW_MASKED = BOOL_MASK.copy()
ROW_MASKED[2] = False  # query 2 attends to nothing: PyTorch gives zeros there


def mask(lib, array, like):
    dtype = None if array.dtype == np.bool_ else like.dtype
    return lib.tensor(array, dtype=dtype)


SDPA = [
    ({}, (2, 3, 4, 8)),
    ({"scale": 0.3}, (2, 3, 4, 8)),
    ({"is_causal": True}, (2, 3, 5, 8)),
    ({"is_causal": True}, (2, 4, 8)),
    ({"mask": BOOL_MASK}, (2, 3, 4, 8)),
    ({"mask": FLOAT_MASK}, (2, 3, 4, 8)),
    ({"mask": ROW_MASKED}, (3, 4, 8)),
]


@pytest.mark.parametrize("kwargs,query_shape", SDPA)
def test_scaled_dot_product_attention(kwargs, query_shape):
    kwargs = dict(kwargs)
    array = kwargs.pop("mask", None)
    key_shape = query_shape if kwargs.get("is_causal") else query_shape[:-2] + (5, query_shape[-1])
    value_shape = key_shape[:-1] + (6,)

    def fn(lib, q, k, v):
        attn_mask = None if array is None else mask(lib, array, q)
        return functional(lib).scaled_dot_product_attention(q, k, v, attn_mask=attn_mask, **kwargs)
    check_op(fn, query_shape, key_shape, value_shape)


def test_scaled_dot_product_attention_gradcheck_dropout_and_errors():
    gradcheck_op(lambda lib, q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True), (2, 4, 3), (2, 4, 3),
                 (2, 4, 2))
    q = tg.rand(2, 4, 8)
    tg.manual_seed(0)
    dropped = F.scaled_dot_product_attention(q, q, q, dropout_p=0.5)
    assert dropped.shape == (2, 4, 8)
    assert not tg.allclose(dropped, F.scaled_dot_product_attention(q, q, q))
    with pytest.raises(RuntimeError, match=r"\[scaled_dot_product_attention\] .*Explicit attn_mask should not be set"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=tg.ones(4, 4, dtype=tg.bool), is_causal=True)
    with pytest.raises(RuntimeError, match=r"\[scaled_dot_product_attention\] expected query"):
        F.scaled_dot_product_attention(q, tg.rand(2, 4, 7), q)


def copy_module(ours, theirs):
    ours.load_state_dict({key: tg.tensor(value.detach().numpy()) for key, value in theirs.state_dict().items()})


def both(array, requires_grad=False):
    return (tg.tensor(array, requires_grad=requires_grad),
            torch.tensor(array, requires_grad=requires_grad))


def assert_same_gradients(ours, theirs, what):
    for (name, p_ours), p_theirs in zip(ours.named_parameters(), theirs.parameters()):
        assert_close(p_ours.grad, p_theirs.grad, 1e-9, 1e-7, f"{what}: gradient of {name}")


MHA_CASES = [
    {},
    {"need_weights": False},
    {"average_attn_weights": False},
    {"key_padding_mask": "padding"},
    {"attn_mask": "bool"},
    {"attn_mask": "float", "key_padding_mask": "padding"},
    {"attn_mask": "bool", "need_weights": False},
    {"attn_mask": "causal", "is_causal": True, "need_weights": False},
    {"attn_mask": "per_head"},
]


@pytest.mark.parametrize("case", MHA_CASES)
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("self_attention", [True, False])
def test_multihead_attention(case, batch_first, self_attention):
    """Outputs, attention weights and every gradient as PyTorch's, with copied weights."""
    embed, heads, batch, target, source = 8, 2, 3, 4, 4 if self_attention else 5
    theirs = torch.nn.MultiheadAttention(embed, heads, batch_first=batch_first, dtype=torch.float64)
    ours = nn.MultiheadAttention(embed, heads, batch_first=batch_first, dtype=tg.float64)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    with torch.no_grad():
        theirs.in_proj_bias.uniform_(-0.5, 0.5)
        theirs.out_proj.bias.uniform_(-0.5, 0.5)
    copy_module(ours, theirs)
    rng = np.random.default_rng(1)

    def sequence(length):
        shape = (batch, length, embed) if batch_first else (length, batch, embed)
        return both(rng.uniform(-1, 1, size=shape), requires_grad=True)

    query = sequence(target)
    key, value = (query, query) if self_attention else (sequence(source), sequence(source))
    kwargs = {k: v for k, v in case.items() if k not in ("attn_mask", "key_padding_mask")}
    masks = [{}, {}]
    if case.get("key_padding_mask"):
        padding = np.zeros((batch, source), dtype=bool)
        padding[0, -1] = padding[2, 1] = True
        masks[0]["key_padding_mask"], masks[1]["key_padding_mask"] = both(padding)
    kind = case.get("attn_mask")
    if kind == "bool":
        masks[0]["attn_mask"], masks[1]["attn_mask"] = both(~BOOL_MASK[:target, :source])
    elif kind == "float":
        masks[0]["attn_mask"], masks[1]["attn_mask"] = both(FLOAT_MASK[:target, :source])
    elif kind == "causal":
        causal = np.triu(np.ones((target, source), dtype=bool), 1)
        masks[0]["attn_mask"], masks[1]["attn_mask"] = both(causal)
    elif kind == "per_head":
        masks[0]["attn_mask"], masks[1]["attn_mask"] = both(rng.uniform(-1, 1, size=(batch * heads, target, source)))
    out_ours, weights_ours = ours(query[0], key[0], value[0], **masks[0], **kwargs)
    out_theirs, weights_theirs = theirs(query[1], key[1], value[1], **masks[1], **kwargs)
    assert_close(out_ours, out_theirs, 1e-9, 1e-7, "output")
    if weights_theirs is None:
        assert weights_ours is None
    else:
        assert_close(weights_ours, weights_theirs, 1e-9, 1e-7, "attention weights")
    upstream = rng.uniform(-1, 1, size=tuple(out_theirs.shape))
    (out_ours * tg.tensor(upstream)).sum().backward()
    (out_theirs * torch.tensor(upstream)).sum().backward()
    assert_same_gradients(ours, theirs, "parameters")
    for index, (mine, torchs) in enumerate([query, key, value][:1 if self_attention else 3]):
        assert_close(mine.grad, torchs.grad, 1e-9, 1e-7, f"input {index} gradient")


def test_multihead_attention_unbatched_and_errors():
    theirs = torch.nn.MultiheadAttention(6, 3, dtype=torch.float64)
    ours = nn.MultiheadAttention(6, 3, dtype=tg.float64)
    copy_module(ours, theirs)
    data = np.random.default_rng(2).uniform(-1, 1, size=(4, 6))
    out_ours, weights_ours = ours(*[tg.tensor(data)] * 3)
    out_theirs, weights_theirs = theirs(*[torch.tensor(data)] * 3)
    assert_close(out_ours, out_theirs, 1e-9, 1e-7, "output")
    assert_close(weights_ours, weights_theirs, 1e-9, 1e-7, "weights")
    assert [k for k, _ in nn.MultiheadAttention(6, 3, bias=False).named_parameters()] == \
        [k for k, _ in torch.nn.MultiheadAttention(6, 3, bias=False).named_parameters()]
    with pytest.raises(AssertionError, match="embed_dim must be divisible by num_heads"):
        nn.MultiheadAttention(6, 4)
    with pytest.raises(AssertionError, match="was expecting embedding dimension of 6, but got 5"):
        ours(*[tg.rand(4, 2, 5, dtype=tg.float64)] * 3)
    with pytest.raises(RuntimeError, match="The shape of the 2D attn_mask is"):
        ours(*[tg.rand(4, 2, 6, dtype=tg.float64)] * 3, attn_mask=tg.zeros(3, 3, dtype=tg.float64))
    with pytest.raises(RuntimeError, match="Need attn_mask if specifying the is_causal hint"):
        ours(*[tg.rand(4, 2, 6, dtype=tg.float64)] * 3, is_causal=True)


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
@pytest.mark.parametrize("batch_first", [False, True])
def test_transformer_encoder_layer_trains_like_pytorch(norm_first, activation, batch_first):
    """Three SGD steps with copied weights (dropout 0): loss, output and every gradient step for step, with a
    padding mask and a causal mask; then an eval-mode forward."""
    d_model, heads, feedforward, batch, length = 8, 2, 16, 3, 5
    kwargs = dict(dim_feedforward=feedforward, dropout=0.0, activation=activation, batch_first=batch_first,
                  norm_first=norm_first, dtype=None)
    theirs = torch.nn.TransformerEncoderLayer(d_model, heads, **{**kwargs, "dtype": torch.float64})
    ours = nn.TransformerEncoderLayer(d_model, heads, **{**kwargs, "dtype": tg.float64})
    assert list(ours.state_dict()) == list(theirs.state_dict())
    copy_module(ours, theirs)
    rng = np.random.default_rng(3)
    padding = np.zeros((batch, length), dtype=bool)
    padding[1, -2:] = True
    causal = np.triu(np.ones((length, length), dtype=bool), 1)
    for step in range(3):
        shape = (batch, length, d_model) if batch_first else (length, batch, d_model)
        data = rng.uniform(-1, 1, size=shape)
        masks = {"src_key_padding_mask": padding, "src_mask": causal} if step == 1 else {}
        out_ours = ours(tg.tensor(data), **{k: tg.tensor(v) for k, v in masks.items()})
        out_theirs = theirs(torch.tensor(data), **{k: torch.tensor(v) for k, v in masks.items()})
        assert_close(out_ours, out_theirs, 1e-9, 1e-7, f"step {step} output")
        loss_ours, loss_theirs = (out_ours * out_ours).mean(), (out_theirs * out_theirs).mean()
        assert_close(loss_ours, loss_theirs, 1e-9, 1e-7, f"step {step} loss")
        loss_ours.backward()
        loss_theirs.backward()
        assert_same_gradients(ours, theirs, f"step {step}")
        for p_ours, p_theirs in zip(ours.parameters(), theirs.parameters()):
            with tg.no_grad():
                p_ours -= 0.1 * p_ours.grad
            with torch.no_grad():
                p_theirs -= 0.1 * p_theirs.grad
            p_ours.grad, p_theirs.grad = None, None
    if not batch_first:  # PyTorch's eval fast path (batch_first only) computes in another order
        data = rng.uniform(-1, 1, size=(length, batch, d_model))
        assert_close(ours.eval()(tg.tensor(data)), theirs.eval()(torch.tensor(data)), 1e-9, 1e-7, "eval output")
