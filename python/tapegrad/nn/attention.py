"""Attention, composed of tapegrad ops in PyTorch's order of operations: F.scaled_dot_product_attention,
nn.MultiheadAttention and nn.TransformerEncoderLayer, with PyTorch's arguments, parameters, state_dict keys and
initialisation. The gradients are those of the composition (no fused attention node)."""
import math

from .. import _C
from . import functional as F
from . import init
from .layers import Dropout, Linear
from .module import Module
from .normalization import LayerNorm
from .parameter import Parameter


def _safe_softmax(scores):
    """softmax over the last dim, with rows that are all -inf (fully masked) giving zeros, as PyTorch's
    scaled_dot_product_attention. The masked rows are replaced before the softmax so that no NaN reaches the
    gradient either."""
    masked_row = (scores == -math.inf).all(-1, keepdim=True)
    weights = _C.where(masked_row, _C.zeros_like(scores), scores).softmax(-1)
    return _C.where(masked_row, _C.zeros_like(weights), weights)


def _causal_mask(target_length, source_length):
    """True where query i may attend to key j (j <= i): the lower triangle, aligned top-left."""
    return _C.arange(target_length)[:, None] >= _C.arange(source_length)[None, :]


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None,
                                 enable_gqa=False):
    """softmax(query @ key^T * scale + mask) @ value over the last two dims. A bool attn_mask keeps the positions
    that are True; a float one is added to the scores; is_causal masks the upper triangle. Fully masked rows give
    zeros, as in PyTorch. dropout_p drops attention weights (always: like PyTorch's, this function has no
    training flag)."""
    if enable_gqa:
        raise NotImplementedError("[scaled_dot_product_attention] enable_gqa=True is not implemented")
    if is_causal and attn_mask is not None:
        raise RuntimeError("[scaled_dot_product_attention] _scaled_dot_product_attention: Explicit attn_mask "
                           "should not be set when is_causal=True")
    if query.dim() < 2 or key.dim() < 2 or value.dim() < 2 or query.shape[-1] != key.shape[-1]:
        raise RuntimeError(f"[scaled_dot_product_attention] expected query (..., L, E), key (..., S, E) and value "
                           f"(..., S, Ev), got query {list(query.shape)}, key {list(key.shape)} and value "
                           f"{list(value.shape)}")
    target_length, source_length = query.shape[-2], key.shape[-2]
    scale_factor = 1.0 / math.sqrt(query.shape[-1]) if scale is None else scale
    scores = query @ key.transpose(-2, -1) * scale_factor
    if is_causal:
        scores = scores.masked_fill(_causal_mask(target_length, source_length).logical_not(), -math.inf)
    if attn_mask is not None:
        if attn_mask.dtype == _C.bool:
            scores = scores.masked_fill(attn_mask.logical_not(), -math.inf)
        else:
            scores = scores + attn_mask
    weights = _safe_softmax(scores)
    if dropout_p > 0.0:
        weights = F.dropout(weights, dropout_p, training=True)
    return weights @ value


def _float_mask(mask, dtype, name):
    """A bool mask (True: masked out) as an additive float mask (-inf where masked), as PyTorch's _canonical_mask;
    a float mask as it is."""
    if mask is None:
        return None
    if mask.dtype == _C.bool:
        return _C.zeros(*mask.shape, dtype=dtype).masked_fill(mask, -math.inf)
    if not mask.dtype.is_floating_point:
        raise AssertionError(f"only bool and floating types of {name} are supported")
    return mask


class MultiheadAttention(Module):
    """Multi-head attention (PyTorch's nn.MultiheadAttention, with kdim = vdim = embed_dim): the packed input
    projection in_proj_weight/in_proj_bias, out_proj, and PyTorch's mask conventions (True in a bool attn_mask
    or key_padding_mask is a position not attended to)."""

    def __init__(self, embed_dim, num_heads, dropout=0.0, bias=True, add_bias_kv=False, add_zero_attn=False,
                 kdim=None, vdim=None, batch_first=False, device=None, dtype=None):
        super().__init__()
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(f"embed_dim and num_heads must be greater than 0, got embed_dim={embed_dim} and "
                             f"num_heads={num_heads} instead")
        if (kdim is not None and kdim != embed_dim) or (vdim is not None and vdim != embed_dim):
            raise NotImplementedError("[MultiheadAttention] kdim or vdim other than embed_dim is not implemented")
        if add_bias_kv or add_zero_attn:
            raise NotImplementedError("[MultiheadAttention] add_bias_kv and add_zero_attn are not implemented")
        self.embed_dim = embed_dim
        self.kdim = self.vdim = embed_dim
        self._qkv_same_embed_dim = True
        self.num_heads = num_heads
        self.dropout = dropout
        self.batch_first = batch_first
        self.head_dim = embed_dim // num_heads
        if self.head_dim * num_heads != embed_dim:
            raise AssertionError("embed_dim must be divisible by num_heads")
        dtype = dtype or _C.get_default_dtype()
        self.in_proj_weight = Parameter(_C.empty(3 * embed_dim, embed_dim, dtype=dtype, device=device))
        if bias:
            self.in_proj_bias = Parameter(_C.empty(3 * embed_dim, dtype=dtype, device=device))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = Linear(embed_dim, embed_dim, bias=bias, device=device, dtype=dtype)
        self.bias_k = self.bias_v = None
        self.add_zero_attn = False
        self._reset_parameters()

    def _reset_parameters(self):
        init.xavier_uniform_(self.in_proj_weight)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
            init.constant_(self.out_proj.bias, 0.0)

    def forward(self, query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
                average_attn_weights=True, is_causal=False):
        batched = query.dim() == 3
        if not batched:
            query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
            if key_padding_mask is not None:
                key_padding_mask = key_padding_mask.unsqueeze(0)
        elif self.batch_first:
            query, key, value = query.transpose(0, 1), key.transpose(0, 1), value.transpose(0, 1)
        output, weights = self._attend(query, key, value, key_padding_mask, need_weights, attn_mask,
                                       average_attn_weights, is_causal)
        if not batched:
            return output.squeeze(1), (weights.squeeze(0) if weights is not None else None)
        if self.batch_first:
            output = output.transpose(0, 1)
        return output, weights

    def _attend(self, query, key, value, key_padding_mask, need_weights, attn_mask, average_attn_weights,
                is_causal):
        """PyTorch's multi_head_attention_forward on (L, N, E) inputs."""
        target_length, batch, embed_dim = query.shape
        source_length = key.shape[0]
        if embed_dim != self.embed_dim:
            raise AssertionError(f"was expecting embedding dimension of {self.embed_dim}, but got {embed_dim}")
        if key.shape != value.shape:
            raise AssertionError(f"key shape {list(key.shape)} does not match value shape {list(value.shape)}")
        heads, head_dim = self.num_heads, self.head_dim
        if is_causal and attn_mask is None:
            raise RuntimeError("Need attn_mask if specifying the is_causal hint. You may use the Transformer module "
                               "method `generate_square_subsequent_mask` to create this mask.")
        key_padding_mask = _float_mask(key_padding_mask, query.dtype, "key_padding_mask")
        if is_causal and key_padding_mask is None and not need_weights:
            attn_mask = None  # scaled_dot_product_attention applies the causal mask itself
        else:
            attn_mask = _float_mask(attn_mask, query.dtype, "attn_mask")
            is_causal = is_causal and key_padding_mask is None

        q, k, v = self._project(query, key, value)
        if attn_mask is not None:
            if attn_mask.dim() == 2:
                if tuple(attn_mask.shape) != (target_length, source_length):
                    raise RuntimeError(f"The shape of the 2D attn_mask is {list(attn_mask.shape)}, but should be "
                                       f"{[target_length, source_length]}.")
                attn_mask = attn_mask.unsqueeze(0)
            elif tuple(attn_mask.shape) != (batch * heads, target_length, source_length):
                raise RuntimeError(f"The shape of the 3D attn_mask is {list(attn_mask.shape)}, but should be "
                                   f"{[batch * heads, target_length, source_length]}.")
        # (L, N, E) -> (N * heads, L, head_dim)
        q = q.reshape(target_length, batch * heads, head_dim).transpose(0, 1)
        k = k.reshape(source_length, batch * heads, head_dim).transpose(0, 1)
        v = v.reshape(source_length, batch * heads, head_dim).transpose(0, 1)
        if key_padding_mask is not None:
            if tuple(key_padding_mask.shape) != (batch, source_length):
                raise AssertionError(f"expecting key_padding_mask shape of {(batch, source_length)}, but got "
                                     f"{tuple(key_padding_mask.shape)}")
            padding = key_padding_mask.reshape(batch, 1, 1, source_length).expand(batch, heads, 1, source_length)
            padding = padding.reshape(batch * heads, 1, source_length)
            attn_mask = padding if attn_mask is None else attn_mask + padding
        dropout_p = self.dropout if self.training else 0.0

        if need_weights:
            scores = (q * math.sqrt(1.0 / float(head_dim))) @ k.transpose(-2, -1)
            if attn_mask is not None:
                scores = scores + attn_mask
            weights = scores.softmax(-1)
            if dropout_p > 0.0:
                weights = F.dropout(weights, dropout_p)
            output = (weights @ v).transpose(0, 1).reshape(target_length * batch, embed_dim)
            output = F.linear(output, self.out_proj.weight, self.out_proj.bias).reshape(target_length, batch,
                                                                                        embed_dim)
            weights = weights.reshape(batch, heads, target_length, source_length)
            return output, (weights.mean(1) if average_attn_weights else weights)

        if attn_mask is not None:
            attn_mask = attn_mask.unsqueeze(0) if attn_mask.shape[0] == 1 else \
                attn_mask.reshape(batch, heads, -1, source_length)
        q = q.reshape(batch, heads, target_length, head_dim)
        k = k.reshape(batch, heads, source_length, head_dim)
        v = v.reshape(batch, heads, source_length, head_dim)
        output = scaled_dot_product_attention(q, k, v, attn_mask, dropout_p, is_causal)
        output = output.permute(2, 0, 1, 3).reshape(batch * target_length, embed_dim)
        output = F.linear(output, self.out_proj.weight, self.out_proj.bias)
        return output.reshape(target_length, batch, embed_dim), None

    def _project(self, query, key, value):
        """The packed input projection: one GEMM when query, key and value are the same tensor (self-attention),
        else one per third of in_proj_weight, as PyTorch's _in_projection_packed."""
        embed_dim = self.embed_dim
        weight, bias = self.in_proj_weight, self.in_proj_bias
        if query is key and key is value:
            packed = F.linear(query, weight, bias)
            return packed[..., :embed_dim], packed[..., embed_dim:2 * embed_dim], packed[..., 2 * embed_dim:]
        thirds = [(weight[i * embed_dim:(i + 1) * embed_dim], None if bias is None else
                   bias[i * embed_dim:(i + 1) * embed_dim]) for i in range(3)]
        return tuple(F.linear(x, w, b) for x, (w, b) in zip((query, key, value), thirds))


def _gelu(input):
    """The exact GELU, x * Phi(x)."""
    return input * 0.5 * (1.0 + (input * (1.0 / math.sqrt(2.0))).erf())


_ACTIVATIONS = {"relu": F.relu, "gelu": _gelu}


class TransformerEncoderLayer(Module):
    """Self-attention and a feed-forward block, each with a residual connection and layer norm (after each block,
    or before it with norm_first), as PyTorch's nn.TransformerEncoderLayer."""

    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation=F.relu, layer_norm_eps=1e-5,
                 batch_first=False, norm_first=False, bias=True, device=None, dtype=None):
        super().__init__()
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first,
                                            device=device, dtype=dtype)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, device=device, dtype=dtype)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, device=device, dtype=dtype)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, device=device, dtype=dtype)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, device=device, dtype=dtype)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        if isinstance(activation, str):
            if activation not in _ACTIVATIONS:
                raise RuntimeError(f"activation should be relu/gelu, not {activation}")
            activation = _ACTIVATIONS[activation]
        self.activation = activation

    def forward(self, src, src_mask=None, src_key_padding_mask=None, is_causal=False):
        x = src
        if self.norm_first:
            x = x + self._self_attention_block(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            x = x + self._feed_forward_block(self.norm2(x))
        else:
            x = self.norm1(x + self._self_attention_block(x, src_mask, src_key_padding_mask, is_causal))
            x = self.norm2(x + self._feed_forward_block(x))
        return x

    def _self_attention_block(self, x, attn_mask, key_padding_mask, is_causal):
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask, need_weights=False,
                           is_causal=is_causal)[0]
        return self.dropout1(x)

    def _feed_forward_block(self, x):
        return self.dropout2(self.linear2(self.dropout(self.activation(self.linear1(x)))))
