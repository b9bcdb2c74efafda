"""tapegrad.optim against torch.optim: 25-step trajectories in float64, state dicts, errors, and the
learning-rate schedulers' lr sequences."""
import warnings

import numpy as np
import pytest
import torch

import tapegrad as tg
import tapegrad.nn as nn
import tapegrad.optim as optim

SHAPES = [(4, 3), (3,), (2, 2, 2)]
STEPS = 25

CONFIGS = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True)),
    ("SGD", dict(lr=0.05, momentum=0.8, dampening=0.3)),
    ("SGD", dict(lr=0.05, momentum=0.9, weight_decay=0.1)),
    ("SGD", dict(lr=0.05, weight_decay=0.1, maximize=True)),
    ("Adam", dict()),
    ("Adam", dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6)),
    ("Adam", dict(lr=0.01, weight_decay=0.1)),
    ("Adam", dict(lr=0.01, amsgrad=True)),
    ("Adam", dict(lr=0.01, maximize=True, weight_decay=0.05)),
    ("AdamW", dict(lr=0.01)),
    ("AdamW", dict(lr=0.01, weight_decay=0.3, amsgrad=True)),
]


def make_pair(rng, dtype=np.float64):
    arrays = [rng.normal(size=shape).astype(dtype) for shape in SHAPES]
    return ([tg.tensor(a, requires_grad=True) for a in arrays], [torch.tensor(a, requires_grad=True) for a in arrays])


def max_difference(ours, theirs):
    return max(np.abs(a.detach().numpy() - b.detach().numpy()).max() for a, b in zip(ours, theirs))


def set_random_grads(rng, ours, theirs):
    for a, b in zip(ours, theirs):
        grad = rng.normal(size=tuple(b.shape)).astype(b.detach().numpy().dtype)
        a.grad, b.grad = tg.tensor(grad), torch.tensor(grad)


@pytest.mark.parametrize("name,options", CONFIGS, ids=[f"{n}-{o}" for n, o in CONFIGS])
def test_matches_torch_on_random_gradients(name, options):
    rng = np.random.default_rng(1)
    ours, theirs = make_pair(rng)
    optimizer, reference = getattr(optim, name)(ours, **options), getattr(torch.optim, name)(theirs, **options)
    for _ in range(STEPS):
        set_random_grads(rng, ours, theirs)
        optimizer.step()
        reference.step()
    assert max_difference(ours, theirs) <= 1e-9
    if options.get("momentum") or name != "SGD":
        ours_state = optimizer.state_dict()["state"][0]
        theirs_state = reference.state_dict()["state"][0]
        assert sorted(ours_state) == sorted(theirs_state)
        for key, value in theirs_state.items():
            assert np.allclose(ours_state[key].numpy(), value.numpy(), atol=1e-9), key


@pytest.mark.parametrize("name,options", CONFIGS[:3] + CONFIGS[6:7] + CONFIGS[-2:-1])
def test_matches_torch_in_float32(name, options):
    rng = np.random.default_rng(2)
    ours, theirs = make_pair(rng, np.float32)
    optimizer, reference = getattr(optim, name)(ours, **options), getattr(torch.optim, name)(theirs, **options)
    for _ in range(STEPS):
        set_random_grads(rng, ours, theirs)
        optimizer.step()
        reference.step()
    assert max_difference(ours, theirs) <= 1e-5


@pytest.mark.parametrize("name,options", [CONFIGS[2], CONFIGS[8], CONFIGS[11]])
def test_matches_torch_training_an_mlp(name, options):
    rng = np.random.default_rng(3)

    def build(lib):
        return lib.nn.Sequential(lib.nn.Linear(6, 8), lib.nn.Tanh(), lib.nn.Linear(8, 3))

    theirs = build(torch).double()
    ours = build(tg).double()
    ours.load_state_dict({k: tg.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})
    optimizer = getattr(optim, name)(ours.parameters(), **options)
    reference = getattr(torch.optim, name)(theirs.parameters(), **options)
    for _ in range(STEPS):
        x, y = rng.normal(size=(5, 6)), rng.integers(0, 3, size=5)
        optimizer.zero_grad()
        reference.zero_grad()
        tg.nn.functional.cross_entropy(ours(tg.tensor(x)), tg.tensor(y)).backward()
        torch.nn.functional.cross_entropy(theirs(torch.tensor(x)), torch.tensor(y)).backward()
        optimizer.step()
        reference.step()
    assert max_difference(list(ours.parameters()), list(theirs.parameters())) <= 1e-9


def test_param_groups_and_skipped_parameters():
    rng = np.random.default_rng(4)
    ours, theirs = make_pair(rng)
    optimizer = optim.SGD([{"params": ours[:2]}, {"params": ours[2:], "lr": 0.5}], lr=0.1, momentum=0.9)
    reference = torch.optim.SGD([{"params": theirs[:2]}, {"params": theirs[2:], "lr": 0.5}], lr=0.1, momentum=0.9)
    assert [g["lr"] for g in optimizer.param_groups] == [0.1, 0.5]
    before = ours[1].detach().numpy().copy()
    for _ in range(3):
        set_random_grads(rng, ours, theirs)
        ours[1].grad, theirs[1].grad = None, None  # no gradient: skipped, no state
        optimizer.step()
        reference.step()
    assert np.array_equal(ours[1].detach().numpy(), before)
    assert ours[1] not in optimizer.state
    assert max_difference(ours, theirs) <= 1e-12
    extra = tg.ones(2, requires_grad=True)
    optimizer.add_param_group({"params": extra, "momentum": 0.0})
    assert optimizer.param_groups[2]["lr"] == 0.1 and optimizer.param_groups[2]["params"] == [extra]


@pytest.mark.parametrize("name,options", [CONFIGS[1], CONFIGS[9], CONFIGS[12]])
def test_state_dict_round_trip_continues_identically(name, options):
    rng = np.random.default_rng(5)
    ours, _ = make_pair(rng)
    optimizer = getattr(optim, name)(ours, **options)
    grads = [[rng.normal(size=shape) for shape in SHAPES] for _ in range(2 * 10)]

    def run(params, opt, steps):
        for step_grads in steps:
            for p, g in zip(params, step_grads):
                p.grad = tg.tensor(g)
            opt.step()

    run(ours, optimizer, grads[:10])
    saved = optimizer.state_dict()
    copies = [tg.tensor(p.detach().numpy(), requires_grad=True) for p in ours]
    resumed = getattr(optim, name)(copies, lr=123.0)
    resumed.load_state_dict(saved)
    assert resumed.param_groups[0]["lr"] == options.get("lr", 1e-3)
    assert resumed.param_groups[0]["params"][0] is copies[0]
    run(ours, optimizer, grads[10:])
    run(copies, resumed, grads[10:])
    assert max_difference(ours, copies) == 0


def test_state_dict_format_and_clones():
    params = [tg.ones(2, requires_grad=True), tg.ones(3, requires_grad=True)]
    optimizer = optim.Adam(params, lr=0.01)
    for p in params:
        p.grad = tg.ones(*p.shape)
    optimizer.step()
    state = optimizer.state_dict()
    assert set(state) == {"state", "param_groups"}
    assert state["param_groups"][0]["params"] == [0, 1] and state["param_groups"][0]["betas"] == (0.9, 0.999)
    assert sorted(state["state"][1]) == ["exp_avg", "exp_avg_sq", "step"]
    assert state["state"][1]["step"].item() == 1.0 and state["state"][1]["step"].dtype == tg.float32
    state["state"][0]["exp_avg"].fill_(100.0)
    assert optimizer.state[params[0]]["exp_avg"].numpy().max() < 1
    with pytest.raises(ValueError, match="different number of parameter groups"):
        optimizer.load_state_dict({"state": {}, "param_groups": []})
    with pytest.raises(ValueError, match="doesn't match the size"):
        optim.Adam(params[:1]).load_state_dict(state)


def test_updates_bump_versions_and_zero_grad():
    param = tg.ones(3, requires_grad=True)
    optimizer = optim.SGD([param], lr=0.1, momentum=0.9)
    param.grad = tg.ones(3)
    version = param._version
    optimizer.step()
    assert param._version > version
    assert np.allclose(param.detach().numpy(), 0.9)
    optimizer.zero_grad(set_to_none=False)
    assert param.grad is not None and not param.grad.numpy().any()
    optimizer.zero_grad()
    assert param.grad is None
    optimizer.step()  # no gradient: nothing changes
    assert np.allclose(param.detach().numpy(), 0.9)


def test_update_invalidates_saved_tensors():
    param = tg.ones(2, requires_grad=True)
    optimizer = optim.Adam([param])
    loss = (param * param).sum()  # saves param at its current version
    param.grad = tg.ones(2)
    optimizer.step()
    with pytest.raises(RuntimeError, match="version"):
        loss.backward()


def test_closure_and_repr():
    param = tg.ones(1, requires_grad=True)
    optimizer = optim.SGD([param], lr=0.5)

    def closure():
        optimizer.zero_grad()
        loss = (param * param).sum()
        loss.backward()
        return loss

    assert optimizer.step(closure).item() == 1.0
    assert param.item() == 0.0
    assert repr(optimizer).startswith("SGD (\nParameter Group 0\n    dampening: 0")


# ---- learning-rate schedulers against torch's lr sequences -----------------------------------

SCHEDULERS = {
    "StepLR": lambda lib, opt: lib.optim.lr_scheduler.StepLR(opt, step_size=3, gamma=0.5),
    "MultiStepLR": lambda lib, opt: lib.optim.lr_scheduler.MultiStepLR(opt, milestones=[2, 5, 5, 11], gamma=0.3),
    "ExponentialLR": lambda lib, opt: lib.optim.lr_scheduler.ExponentialLR(opt, gamma=0.9),
    "CosineAnnealingLR": lambda lib, opt: lib.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=7, eta_min=0.001),
    "LambdaLR": lambda lib, opt: lib.optim.lr_scheduler.LambdaLR(opt, lambda epoch: 0.95 ** epoch / (1 + epoch % 3)),
    "LambdaLR per group": lambda lib, opt: lib.optim.lr_scheduler.LambdaLR(
        opt, [lambda epoch: 1 / (epoch + 1), lambda epoch: epoch + 1]),
    "MultiplicativeLR": lambda lib, opt: lib.optim.lr_scheduler.MultiplicativeLR(opt, lambda epoch: 0.9),
    "ConstantLR": lambda lib, opt: lib.optim.lr_scheduler.ConstantLR(opt, factor=0.25, total_iters=4),
    "LinearLR": lambda lib, opt: lib.optim.lr_scheduler.LinearLR(opt, start_factor=0.2, end_factor=0.9,
                                                                  total_iters=6),
}


def scheduled_lrs(lib, make, steps=30, optimizer="SGD"):
    """get_last_lr() and the groups' lr after construction and after each of `steps` epochs."""
    params = [lib.zeros(2, requires_grad=True), lib.zeros(3, requires_grad=True)]
    opt = getattr(lib.optim, optimizer)([{"params": params[:1]}, {"params": params[1:], "lr": 0.05}], lr=0.1)
    scheduler = make(lib, opt)
    history = [(scheduler.get_last_lr(), [group["lr"] for group in opt.param_groups])]
    for _ in range(steps):
        opt.step()
        scheduler.step()
        history.append((scheduler.get_last_lr(), [group["lr"] for group in opt.param_groups]))
    return history, scheduler


@pytest.mark.parametrize("name", SCHEDULERS)
def test_scheduler_lr_sequence_matches_torch(name):
    ours, our_scheduler = scheduled_lrs(tg, SCHEDULERS[name])
    theirs, their_scheduler = scheduled_lrs(torch, SCHEDULERS[name])
    assert ours == theirs  # the same formulas in the same order: equal to the last bit
    assert set(our_scheduler.state_dict()) == set(their_scheduler.state_dict())


@pytest.mark.parametrize("name", ["StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR", "ConstantLR",
                                  "LinearLR"])
def test_scheduler_closed_form_step_epoch_matches_torch(name):
    def closed_form(lib):
        opt = lib.optim.SGD([lib.zeros(1, requires_grad=True)], lr=0.1)
        scheduler = SCHEDULERS[name](lib, opt)
        opt.step()
        lrs = []
        for epoch in (3, 7, 2, 12, 0):
            with pytest.warns(UserWarning, match="epoch parameter"):
                scheduler.step(epoch)
            lrs.append(scheduler.get_last_lr())
        return lrs
    assert closed_form(tg) == closed_form(torch)


PLATEAU = {
    "min rel": dict(patience=2),
    "min abs cooldown": dict(mode="min", threshold_mode="abs", threshold=0.05, patience=1, cooldown=2, factor=0.5),
    "max rel min_lr": dict(mode="max", patience=0, factor=0.2, min_lr=[0.01, 0.02]),
    "max abs eps": dict(mode="max", threshold_mode="abs", patience=1, factor=0.5, eps=0.02),
}
METRICS = [1.0, 0.9, 0.95, 0.95, 0.96, 0.5, 0.5, 0.6, 0.7, 0.2, 0.21, 0.22, 0.23, 0.24, 0.25, 0.1, 0.1, 0.1]


@pytest.mark.parametrize("name", PLATEAU)
def test_reduce_lr_on_plateau_matches_torch(name):
    def run(lib):
        params = [lib.zeros(2, requires_grad=True), lib.zeros(3, requires_grad=True)]
        opt = lib.optim.Adam([{"params": params[:1]}, {"params": params[1:], "lr": 0.05}], lr=0.1)
        scheduler = lib.optim.lr_scheduler.ReduceLROnPlateau(opt, **PLATEAU[name])
        history = []
        for metric in METRICS:
            scheduler.step(lib.tensor(metric) if metric < 0.5 else metric)  # a 0-d tensor or a float
            history.append((scheduler.get_last_lr(), scheduler.num_bad_epochs, scheduler.best))
        return history
    assert run(tg) == run(torch)


def test_scheduler_state_dict_resumes_the_schedule():
    def resumed(lib):
        opt = lib.optim.SGD([lib.zeros(1, requires_grad=True)], lr=0.1)
        scheduler = lib.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=10)
        for _ in range(4):
            opt.step()
            scheduler.step()
        state = scheduler.state_dict()
        opt_state = opt.state_dict()
        opt2 = lib.optim.SGD([lib.zeros(1, requires_grad=True)], lr=0.1)
        opt2.load_state_dict(opt_state)
        scheduler2 = lib.optim.lr_scheduler.CosineAnnealingLR(opt2, T_max=10)
        scheduler2.load_state_dict(state)
        lrs = []
        for _ in range(4):
            opt2.step()
            scheduler2.step()
            lrs.append(scheduler2.get_last_lr())
        return lrs
    assert resumed(tg) == resumed(torch)


def test_lambda_schedulers_name_a_missing_optimizer():
    """Where torch fails on the missing param_groups (AttributeError), the lambda schedulers say what
    is wrong, as the other schedulers do."""
    for scheduler in (tg.optim.lr_scheduler.LambdaLR, tg.optim.lr_scheduler.MultiplicativeLR):
        with pytest.raises(TypeError, match="Linear is not an Optimizer"):
            scheduler(tg.nn.Linear(2, 2), lambda epoch: 1.0)


def test_scheduler_warnings_and_errors_as_torch():
    for lib in (tg, torch):
        opt = lib.optim.SGD([lib.zeros(1, requires_grad=True)], lr=0.1)
        scheduler = lib.optim.lr_scheduler.StepLR(opt, step_size=2)
        with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
            scheduler.step()
        with pytest.warns(UserWarning, match="get_last_lr"):
            scheduler.get_lr()
        with pytest.raises(TypeError, match="is not an Optimizer"):
            lib.optim.lr_scheduler.StepLR(object(), step_size=2)
        with pytest.raises(KeyError, match="initial_lr"):
            lib.optim.lr_scheduler.StepLR(lib.optim.SGD([lib.zeros(1, requires_grad=True)], lr=0.1), 2, last_epoch=3)
        with pytest.raises(ValueError, match="Expected 1 lr_lambdas, but got 2"):
            lib.optim.lr_scheduler.LambdaLR(opt, [lambda e: 1, lambda e: 1])
        with pytest.raises(ValueError, match="Factor should be < 1.0"):
            lib.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=1.0)
        with pytest.raises(ValueError, match="mode median is unknown"):
            lib.optim.lr_scheduler.ReduceLROnPlateau(opt, mode="median")
    opt = tg.optim.SGD([tg.zeros(1, requires_grad=True)], lr=0.1)
    scheduler = tg.optim.lr_scheduler.StepLR(opt, step_size=2)
    opt.step()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        scheduler.step()  # in the right order: no warning


def test_invalid_arguments():
    params = [tg.ones(1, requires_grad=True)]
    with pytest.raises(ValueError, match="Invalid learning rate: -1"):
        optim.SGD(params, lr=-1)
    with pytest.raises(ValueError, match="Invalid momentum value: -0.5"):
        optim.SGD(params, momentum=-0.5)
    with pytest.raises(ValueError, match="Nesterov momentum requires a momentum and zero dampening"):
        optim.SGD(params, nesterov=True)
    with pytest.raises(ValueError, match="Invalid learning rate: -0.1"):
        optim.Adam(params, lr=-0.1)
    with pytest.raises(ValueError, match="Invalid beta parameter at index 1: 1.0"):
        optim.Adam(params, betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="Invalid epsilon value"):
        optim.AdamW(params, eps=-1)
    with pytest.raises(ValueError, match="Invalid weight_decay value"):
        optim.AdamW(params, weight_decay=-1)
    with pytest.raises(ValueError, match="optimizer got an empty parameter list"):
        optim.SGD([])
    with pytest.raises(TypeError, match="should be an iterable of Tensors or dicts"):
        optim.SGD(params[0])
    with pytest.raises(ValueError, match="can't optimize a non-leaf Tensor"):
        optim.SGD([params[0] * 2])
    with pytest.raises(ValueError, match="some parameters appear in more than one parameter group"):
        optim.SGD([{"params": params}, {"params": params}])
    with pytest.raises(TypeError, match="optimizer can only optimize Tensors"):
        optim.SGD([1.0])


def test_fused_kernel_errors():
    param = tg.ones(3)
    with pytest.raises(RuntimeError, match=r"\[sgd_step\] gradient of shape \(2,\) for a parameter of shape \(3,\)"):
        tg._C._sgd_step(param, tg.ones(2), None, 0.1)
    with pytest.raises(TypeError, match=r"\[sgd_step\] can only update floating-point parameters"):
        tg._C._sgd_step(tg.tensor([1, 2]), tg.tensor([1, 2]), None, 0.1)
    with pytest.raises(RuntimeError, match=r"\[adam_step\] exp_avg has shape \(2,\)"):
        tg._C._adam_step(param, tg.ones(3), tg.ones(2), tg.ones(3), None, tg.zeros(1), 0.1, 0.9, 0.99, 1e-8, 0.0)
    with pytest.raises(RuntimeError, match=r"\[sgd_step\] more than one element of the param of shape \(2, 3\) and "
                       r"strides \(0, 1\) refers to a single memory location"):
        tg._C._sgd_step(tg.ones(3).expand(2, 3), tg.ones(2, 3), None, 0.1)
    with pytest.raises(RuntimeError, match=r"\[adamw_step\] max_exp_avg_sq is missing"):
        tg._C._adamw_step(param, tg.ones(3), tg.ones(3), tg.ones(3), None, tg.zeros(1), 0.1, 0.9, 0.99, 1e-8, 0.0, True)
    # A gradient of another dtype or layout is converted, not rejected, and so is a parameter's layout.
    param = tg.ones(2, 2, dtype=tg.float64)
    tg._C._sgd_step(param, tg.tensor([[1.0, 2.0], [3.0, 4.0]]).t(), None, 1.0)
    assert np.array_equal(param.numpy(), [[0.0, -2.0], [-1.0, -3.0]])
    param = tg.ones(2, 3, dtype=tg.float64).t()
    tg._C._sgd_step(param, tg.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]), None, 1.0)
    assert np.array_equal(param.numpy(), [[0.0, -1.0], [-2.0, -3.0], [-4.0, -5.0]]) and param.stride() == (1, 3)


# Parameters that are not one row-major block: dense in another order (transposed, permuted), or
# not dense at all (every other column, one column), and the degenerate 0-dim and empty ones.
PARAMETER_LAYOUTS = [
    ("transposed", (3, 4), lambda t: t.t()),
    ("permuted", (2, 3, 4), lambda t: t.permute(2, 0, 1)),
    ("every-other-column", (4, 6), lambda t: t[:, ::2]),
    ("one-column", (5, 3), lambda t: t[:, 1]),
    ("0-dim", (), lambda t: t),
    ("empty-transposed", (0, 3), lambda t: t.t()),
]
LAYOUT_CONFIGS = [CONFIGS[1], CONFIGS[2], CONFIGS[4], CONFIGS[8], CONFIGS[9], CONFIGS[12]]


@pytest.mark.parametrize("name,options", LAYOUT_CONFIGS, ids=[f"{n}-{o}" for n, o in LAYOUT_CONFIGS])
@pytest.mark.parametrize("layout,shape,view", PARAMETER_LAYOUTS, ids=[layout[0] for layout in PARAMETER_LAYOUTS])
def test_strided_parameters_match_torch(name, options, layout, shape, view):
    rng = np.random.default_rng(6)
    data = rng.normal(size=shape)
    bases = {tg: tg.tensor(data), torch: torch.tensor(data)}
    params = {lib: lib.nn.Parameter(view(base)) for lib, base in bases.items()}
    ours, theirs = params[tg], params[torch]
    assert ours.stride() == theirs.stride() or data.size == 0  # torch's zero-size tensors have strides of their own
    optimizer, reference = getattr(optim, name)([ours], **options), getattr(torch.optim, name)([theirs], **options)
    for step in range(8):
        weight = rng.normal(size=tuple(theirs.shape))
        for lib, param in params.items():
            if step % 2:  # a gradient laid out as each library's autograd makes it
                param.grad = None
                (param * param * lib.tensor(weight)).sum().backward()
            else:
                param.grad = lib.tensor(weight)
        optimizer.step()
        reference.step()
    # Updated in place, element for element: the views still share their bases' memory, the rest of
    # which is untouched.
    assert ours.stride() == view(bases[tg]).stride()
    assert np.abs(bases[tg].numpy() - bases[torch].numpy()).max(initial=0) <= 1e-12
    for key, value in reference.state[theirs].items():
        state = optimizer.state[ours][key]
        assert np.abs(state.numpy() - value.numpy()).max(initial=0) <= 1e-12, key
        # State is laid out as the parameter, as torch's zeros_like(param) lays out Adam's. (torch
        # clones SGD's buffer from the first gradient, which its autograd gives that layout too.)
        if key != "step":
            assert state.stride() == tg.empty_like(ours).stride(), key


def test_transposed_parameter_takes_a_step():
    param = nn.Parameter(tg.randn(3, 4).t())
    before = param.detach().numpy().copy()
    (param * param).sum().backward()
    optim.SGD([param], lr=0.1).step()
    assert np.allclose(param.detach().numpy(), before * 0.8)
