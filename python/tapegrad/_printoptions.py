"""set_printoptions, as torch.set_printoptions: the options the tensor repr (_tensor.py) reads."""
import math

from . import _tensor

_PROFILES = {
    "default": dict(PRECISION=4, THRESHOLD=1000, EDGE_ITEMS=3, LINE_WIDTH=80),
    "short": dict(PRECISION=2, THRESHOLD=1000, EDGE_ITEMS=2, LINE_WIDTH=80),
    "full": dict(PRECISION=4, THRESHOLD=math.inf, EDGE_ITEMS=3, LINE_WIDTH=80),
}


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None, profile=None, sci_mode=None):
    """Sets how tensors print, as torch.set_printoptions: precision (digits after the point, default
    4), threshold (more elements than this are summarised, default 1000), edgeitems (items kept at
    each end of a summarised dim, default 3), linewidth (default 80), profile ("default", "short" or
    "full", applied first) and sci_mode (True or False forces scientific notation on or off; None,
    the default, chooses per tensor). Options left out keep their values, except sci_mode."""
    if profile is not None:
        if profile not in _PROFILES:
            raise ValueError(f"[set_printoptions] profile must be one of {', '.join(_PROFILES)}, got {profile!r}")
        for name, value in _PROFILES[profile].items():
            setattr(_tensor, name, value)
    for name, value in (("PRECISION", precision), ("THRESHOLD", threshold), ("EDGE_ITEMS", edgeitems),
                        ("LINE_WIDTH", linewidth)):
        if value is not None:
            setattr(_tensor, name, value)
    _tensor.SCI_MODE = sci_mode
