"""The named tuples (values, indices) that max, min, sort and topk return along a dim, as
torch.return_types: ``tg.max(x, dim=1).indices``. They are made by the extension; this module is
their ``__module__``, so pickle and type checkers find them here by name."""
from ._C import _MaxResult as max, _MinResult as min, _SortResult as sort, _TopkResult as topk

__all__ = ["max", "min", "sort", "topk"]
