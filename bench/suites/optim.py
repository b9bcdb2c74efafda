"""optimizer.step() of the fused C++ updates (SGD and Adam for reference; RMSprop, Adagrad, Adadelta,
Adamax, NAdam), on one 1M-element parameter and on the parameters of a 784-128-10 MLP (where the
per-parameter overhead shows)."""

from bench.harness import Case

SHAPES = {"1M": [(1000, 1000)], "MLP": [(128, 784), (128,), (10, 128), (10,)]}


def stepping(name, shapes, **options):
    def setup(lib):
        params = [lib.randn(*shape, requires_grad=True) for shape in shapes]
        for param in params:
            param.grad = lib.randn(*param.shape)
        optimizer = getattr(lib.optim, name)(params, **options)
        optimizer.step()  # the state exists before timing starts
        return optimizer.step
    return setup


CONFIGS = [
    ("SGD", dict(lr=0.01, momentum=0.9)),
    ("Adam", dict(lr=1e-3)),
    ("RMSprop", dict(lr=1e-3)),
    ("RMSprop", dict(lr=1e-3, momentum=0.9, centered=True)),
    ("Adagrad", dict(lr=1e-2)),
    ("Adadelta", dict()),
    ("Adamax", dict()),
    ("NAdam", dict()),
]

CASES = [Case(f"{name}({', '.join(f'{k}={v}' for k, v in options.items())}).step(), {size}",
              torchlike=stepping(name, shapes, **options))
         for size, shapes in SHAPES.items() for name, options in CONFIGS]
