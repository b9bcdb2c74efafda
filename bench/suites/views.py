"""Views of a (256, 256) float32 tensor: no data moves, so these measure per-op overhead."""

from functools import partial

from bench.harness import Case

SHAPE = (256, 256)


def view_case(name, torch_operation, numpy_operation):
    """Both operations take (library, x); every contestant calls through the same partial so wrapper
    overhead is identical. NumPy uses its idiomatic equivalent of each view."""
    return Case(
        name,
        torchlike=lambda lib: partial(torch_operation, lib, lib.rand(SHAPE)),
        numpy=lambda np: partial(numpy_operation, np, np.ones(SHAPE, dtype=np.float32)),
    )


CASES = [
    view_case("view(128, 512)", lambda lib, x: x.view(128, 512), lambda np, x: x.reshape(128, 512)),
    view_case("reshape(128, 512)", lambda lib, x: x.reshape(128, 512), lambda np, x: x.reshape(128, 512)),
    view_case("transpose(0, 1)", lambda lib, x: x.transpose(0, 1), lambda np, x: x.swapaxes(0, 1)),
    view_case("permute(1, 0)", lambda lib, x: x.permute(1, 0), lambda np, x: x.transpose(1, 0)),
    view_case("unsqueeze(0)", lambda lib, x: x.unsqueeze(0), lambda np, x: x[np.newaxis]),
    view_case("expand(4, 256, 256)", lambda lib, x: x.expand(4, 256, 256),
              lambda np, x: np.broadcast_to(x, (4, 256, 256))),
    view_case("x[1:, ::2]", lambda lib, x: x[1:, ::2], lambda np, x: x[1:, ::2]),
    view_case("narrow(0, 10, 100)", lambda lib, x: x.narrow(0, 10, 100), lambda np, x: x[10:110]),
    view_case("x[3]", lambda lib, x: x[3], lambda np, x: x[3]),
]
