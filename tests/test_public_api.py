"""tapegrad's public names: listed explicitly in __init__.py (so editors see them), all still
there, and every one of them, and every Tensor member, documented."""
import inspect
import re
import types

import tapegrad as tg

# The public namespace before the names of the extension were listed explicitly: nothing may go.
PUBLIC_NAMES = set("""
Generator Node RemovableHandle Size Tensor abs acos add all allclose amax amin any arange argmax argmin
as_tensor asin atan autograd bmm bool broadcast_to cat ceil chunk clamp clamp_max clamp_min clip clone
concat concatenate cos cosh cuda datasets default_generator device distributed div divide dot double dtype
einsum empty empty_like enable_grad eq equal erf exp exp2 expm1 eye flatten float float32 float64 floor
floor_divide frac from_dlpack from_numpy full full_like gather ge get_default_dtype get_num_threads
get_rng_state gt index_put index_select inference_mode initial_seed int int32 int64 is_grad_enabled
is_tensor isclose le linear linspace load log log10 log1p log2 log_softmax logical_not logsumexp long lt
manual_seed masked_fill matmul max maximum mean min minimum mm mul multiply narrow ne neg negative nn
no_grad nonzero ones ones_like optim permute pow prod profiler rand rand_like randint randint_like randn
randn_like randperm reciprocal relu remainder reshape round rsqrt save seed select serialization
set_default_dtype set_grad_enabled set_num_threads set_rng_state sigmoid sign sin sinh softmax split sqrt
square squeeze stack std sub subtract sum sum_to swapaxes swapdims t tan tanh tensor threshold_backward
transpose true_divide trunc unsqueeze utils var viz where zeros zeros_like
""".split())


def public(names):
    return {name for name in names if not name.startswith("_")}


def test_every_public_name_is_still_there():
    assert PUBLIC_NAMES <= public(dir(tg)), sorted(PUBLIC_NAMES - public(dir(tg)))


def test_every_public_function_of_the_extension_is_imported_explicitly():
    source = inspect.getsource(tg)
    block = re.search(r"from \._C import \((.*?)\n\)", source, re.S).group(1)
    listed = set(re.findall(r"^    (\w+),$", block, re.M))
    exported = public(dir(tg._C))
    assert exported - {"tensor"} <= listed, sorted(exported - listed)


def has_prose(obj):
    """Whether the docstring says more than pybind11's generated signature lines."""
    lines = (obj.__doc__ or "").splitlines()
    signature = re.compile(r"^(\d+\. )?\w*\(.*\)( -> .*)?$|^Overloaded function\.$")
    return any(line.strip() and not signature.match(line.strip()) for line in lines)


def test_every_tensor_member_is_documented():
    missing = sorted(name for name in public(dir(tg.Tensor)) if not has_prose(getattr(tg.Tensor, name)))
    assert not missing, f"Tensor members without a docstring: {missing}"


def test_every_top_level_name_is_documented():
    missing = sorted(name for name in public(dir(tg)) if not has_prose(getattr(tg, name)))
    assert not missing, f"tapegrad names without a docstring: {missing}"
