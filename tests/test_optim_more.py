"""RMSprop, Adagrad, Adadelta, Adamax, NAdam and LBFGS against torch.optim (trajectories in float64,
state dicts, errors), and the OneCycleLR and CosineAnnealingWarmRestarts schedules' lr sequences."""
import numpy as np
import pytest
import torch

import tapegrad as tg
import tapegrad.optim as optim

SHAPES = [(4, 3), (3,), (2, 2, 2)]
STEPS = 25

CONFIGS = [
    ("RMSprop", dict()),
    ("RMSprop", dict(lr=0.01, alpha=0.9, eps=1e-6)),
    ("RMSprop", dict(lr=0.01, momentum=0.9)),
    ("RMSprop", dict(lr=0.01, centered=True)),
    ("RMSprop", dict(lr=0.01, centered=True, momentum=0.5, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01, alpha=0.3, centered=True, maximize=True)),
    ("Adagrad", dict()),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01)),
    ("Adagrad", dict(lr=0.1, weight_decay=0.1, initial_accumulator_value=0.5, eps=1e-6)),
    ("Adagrad", dict(lr=0.1, maximize=True)),
    ("Adadelta", dict()),
    ("Adadelta", dict(lr=0.5, rho=0.8, eps=1e-5, weight_decay=0.1)),
    ("Adadelta", dict(maximize=True)),
    ("Adamax", dict()),
    ("Adamax", dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1)),
    ("Adamax", dict(lr=0.01, betas=(0.3, 0.9), maximize=True)),
    ("NAdam", dict()),
    ("NAdam", dict(lr=0.01, betas=(0.8, 0.99), momentum_decay=0.01)),
    ("NAdam", dict(lr=0.01, weight_decay=0.1)),
    ("NAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),
    ("NAdam", dict(lr=0.01, maximize=True)),
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
def test_matches_torch_step_for_step(name, options):
    rng = np.random.default_rng(1)
    ours, theirs = make_pair(rng)
    optimizer, reference = getattr(optim, name)(ours, **options), getattr(torch.optim, name)(theirs, **options)
    for _ in range(STEPS):
        set_random_grads(rng, ours, theirs)
        optimizer.step()
        reference.step()
        assert max_difference(ours, theirs) <= 1e-12
    ours_state, theirs_state = optimizer.state_dict()["state"], reference.state_dict()["state"]
    assert sorted(ours_state) == sorted(theirs_state)
    for index, values in theirs_state.items():
        assert sorted(ours_state[index]) == sorted(values)
        for key, value in values.items():
            assert ours_state[index][key].dtype == getattr(tg, str(value.dtype).split(".")[1]), key
            assert np.allclose(ours_state[index][key].numpy(), value.numpy(), rtol=1e-12, atol=1e-12), key
    groups = optimizer.state_dict()["param_groups"][0]
    for key, value in options.items():
        assert groups[key] == value


@pytest.mark.parametrize("name,options", [CONFIGS[0], CONFIGS[4], CONFIGS[7], CONFIGS[11], CONFIGS[14], CONFIGS[19]])
def test_matches_torch_in_float32(name, options):
    rng = np.random.default_rng(2)
    ours, theirs = make_pair(rng, np.float32)
    optimizer, reference = getattr(optim, name)(ours, **options), getattr(torch.optim, name)(theirs, **options)
    for _ in range(STEPS):
        set_random_grads(rng, ours, theirs)
        optimizer.step()
        reference.step()
    assert max_difference(ours, theirs) <= 1e-5


@pytest.mark.parametrize("name", ["RMSprop", "Adagrad", "Adadelta", "Adamax", "NAdam"])
def test_defaults_match_torch(name):
    ours = getattr(optim, name)([tg.zeros(2, requires_grad=True)]).defaults
    theirs = getattr(torch.optim, name)([torch.zeros(2, requires_grad=True)]).defaults
    for key, value in ours.items():
        assert theirs[key] == value, key


@pytest.mark.parametrize("name,options", [CONFIGS[4], CONFIGS[8], CONFIGS[11], CONFIGS[14], CONFIGS[19]])
def test_state_dict_round_trip_continues_identically(name, options):
    rng = np.random.default_rng(4)
    ours, theirs = make_pair(rng)
    optimizer, reference = getattr(optim, name)(ours, **options), getattr(torch.optim, name)(theirs, **options)
    for _ in range(5):
        set_random_grads(rng, ours, theirs)
        optimizer.step()
        reference.step()
    # Both sides resume from their state dicts (which cast state but the step to the parameter's dtype).
    copies = [p.detach().clone().requires_grad_() for p in ours]
    their_copies = [p.detach().clone().requires_grad_() for p in theirs]
    resumed = getattr(optim, name)(copies, **options)
    resumed.load_state_dict(optimizer.state_dict())
    their_resumed = getattr(torch.optim, name)(their_copies, **options)
    their_resumed.load_state_dict(reference.state_dict())
    for _ in range(5):
        set_random_grads(rng, copies, their_copies)
        resumed.step()
        their_resumed.step()
    assert max_difference(copies, their_copies) <= 1e-12


def test_strided_parameter_and_skipped_gradients():
    rng = np.random.default_rng(5)
    base = rng.normal(size=(3, 4))
    ours, theirs = tg.tensor(base).t().requires_grad_(), torch.tensor(base).t().requires_grad_()
    ours_other, theirs_other = tg.zeros(2, requires_grad=True), torch.zeros(2, requires_grad=True)
    optimizer = optim.RMSprop([ours, ours_other], lr=0.01, momentum=0.9, centered=True)
    reference = torch.optim.RMSprop([theirs, theirs_other], lr=0.01, momentum=0.9, centered=True)
    for _ in range(5):
        grad = rng.normal(size=(4, 3))
        ours.grad, theirs.grad = tg.tensor(grad), torch.tensor(grad)
        optimizer.step()
        reference.step()
    assert np.abs(ours.detach().numpy() - theirs.detach().numpy()).max() <= 1e-12
    assert ours_other not in optimizer.state
    assert optimizer.state[ours]["step"].item() == 5


def test_updates_bump_versions():
    for make in (lambda p: optim.RMSprop([p], momentum=0.5, centered=True), lambda p: optim.Adagrad([p]),
                 lambda p: optim.Adadelta([p]), lambda p: optim.Adamax([p]), lambda p: optim.NAdam([p])):
        param = tg.ones(3, requires_grad=True)
        param.grad = tg.ones(3)
        optimizer = make(param)
        before = param._version
        optimizer.step()
        assert param._version > before
        assert all(value._version > 0 for value in optimizer.state[param].values())


@pytest.mark.parametrize("name,options,message", [
    ("RMSprop", dict(lr=-1), "Invalid learning rate"),
    ("RMSprop", dict(alpha=-0.1), "Invalid alpha value"),
    ("RMSprop", dict(momentum=-0.1), "Invalid momentum value"),
    ("RMSprop", dict(eps=-1), "Invalid epsilon value"),
    ("Adagrad", dict(lr_decay=-1), "Invalid lr_decay value"),
    ("Adagrad", dict(initial_accumulator_value=-1), "Invalid initial_accumulator_value value"),
    ("Adadelta", dict(rho=1.5), "Invalid rho value"),
    ("Adamax", dict(betas=(1.0, 0.9)), "Invalid beta parameter at index 0"),
    ("NAdam", dict(momentum_decay=-1), "Invalid momentum_decay value"),
    ("NAdam", dict(weight_decay=-1), "Invalid weight_decay value"),
])
def test_invalid_arguments_as_torch(name, options, message):
    for lib in (tg, torch):
        with pytest.raises(ValueError, match=message):
            getattr(lib.optim, name)([lib.zeros(2, requires_grad=True)], **options)


def test_fused_kernel_errors_name_the_op():
    param = tg.zeros(3)
    with pytest.raises(RuntimeError, match=r"\[rmsprop_step\] square_avg has shape"):
        tg._C._rmsprop_step(param, tg.zeros(3), tg.zeros(4), None, None, tg.tensor(0.0), 0.1, 0.9, 1e-8, 0.0, 0.0)
    with pytest.raises(RuntimeError, match=r"\[rmsprop_step\] grad_avg is missing"):
        tg._C._rmsprop_step(param, tg.zeros(3), tg.zeros(3), None, None, tg.tensor(0.0), 0.1, 0.9, 1e-8, 0.0, 0.0,
                            centered=True)
    with pytest.raises(RuntimeError, match=r"\[adagrad_step\] gradient of shape"):
        tg._C._adagrad_step(param, tg.zeros(2), tg.zeros(3), tg.tensor(0.0), 0.1, 0.0, 0.0, 1e-10)
    with pytest.raises(RuntimeError, match=r"\[adadelta_step\] acc_delta has shape"):
        tg._C._adadelta_step(param, tg.zeros(3), tg.zeros(3), tg.zeros(2, 2), tg.tensor(0.0), 1.0, 0.9, 1e-6, 0.0)
    with pytest.raises(RuntimeError, match=r"\[adamax_step\] step must be a one-element"):
        tg._C._adamax_step(param, tg.zeros(3), tg.zeros(3), tg.zeros(3), tg.zeros(2), 1.0, 0.9, 0.99, 1e-8, 0.0)
    with pytest.raises(RuntimeError, match=r"\[nadam_step\] mu_product must be a one-element"):
        tg._C._nadam_step(param, tg.zeros(3), tg.zeros(3), tg.zeros(3), tg.ones(2), tg.tensor(0.0), 1.0, 0.9, 0.99,
                          1e-8, 0.0, 4e-3)
    with pytest.raises(TypeError, match=r"\[adagrad_step\] can only update floating-point"):
        tg._C._adagrad_step(tg.zeros(3, dtype=tg.int64), tg.zeros(3), tg.zeros(3), tg.tensor(0.0), 0.1, 0.0, 0.0,
                            1e-10)


# ---- LBFGS -------------------------------------------------------------------------------------

def lbfgs_problem(lib, line_search_fn, **options):
    """A few LBFGS steps on a strongly convex problem (a quartic in a 2-vector and a small least-squares fit),
    where rounding differences do not grow from iteration to iteration."""
    rng = np.random.default_rng(6)
    point = lib.tensor([-1.5, 2.0], dtype=lib.float64, requires_grad=True)
    weights = lib.tensor(rng.normal(size=(3, 2)), requires_grad=True)
    inputs, targets = lib.tensor(rng.normal(size=(8, 3))), lib.tensor(rng.normal(size=(8, 2)))
    optimizer = lib.optim.LBFGS([point, weights], line_search_fn=line_search_fn, **options)

    def closure():
        optimizer.zero_grad()
        loss = ((point - 0.5) ** 2).sum() + 0.1 * (point ** 4).sum() + (point[0] - point[1]) ** 2
        loss = loss + ((inputs @ weights - targets) ** 2).mean()
        loss.backward()
        return loss

    losses = [optimizer.step(closure).item() for _ in range(3)]
    state = optimizer.state[point]
    return losses, [point.detach().numpy(), weights.detach().numpy()], state["func_evals"], state["n_iter"]


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
@pytest.mark.parametrize("options", [dict(), dict(lr=0.5, max_iter=7, history_size=3),
                                     dict(max_iter=30, max_eval=20, tolerance_grad=1e-3, tolerance_change=1e-6)])
def test_lbfgs_matches_torch(line_search_fn, options):
    ours = lbfgs_problem(tg, line_search_fn, **options)
    theirs = lbfgs_problem(torch, line_search_fn, **options)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-10, atol=1e-12)
    for a, b in zip(ours[1], theirs[1]):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)
    assert ours[2:] == theirs[2:]


def test_lbfgs_errors_as_torch():
    for lib in (tg, torch):
        a, b = lib.zeros(1, requires_grad=True), lib.zeros(1, requires_grad=True)
        with pytest.raises(ValueError, match="doesn't support per-parameter options"):
            lib.optim.LBFGS([{"params": [a]}, {"params": [b]}])
        optimizer = lib.optim.LBFGS([a], line_search_fn="backtracking")

        def closure():
            optimizer.zero_grad()
            loss = ((a - 1) ** 2).sum()
            loss.backward()
            return loss

        with pytest.raises(RuntimeError, match="only 'strong_wolfe' is supported"):
            optimizer.step(closure)
        assert lib.optim.LBFGS([a], max_iter=8).defaults["max_eval"] == 10


# ---- schedulers --------------------------------------------------------------------------------

def schedule(lib, make, steps, optimizer="SGD", **optimizer_options):
    """The lr (and momentum or betas) of both groups after construction and after each step."""
    params = [lib.zeros(2, requires_grad=True), lib.zeros(3, requires_grad=True)]
    opt = getattr(lib.optim, optimizer)([{"params": params[:1]}, {"params": params[1:], "lr": 0.05}], lr=0.1,
                                        **optimizer_options)

    def snapshot():
        return [(group["lr"], group.get("momentum"), group.get("betas")) for group in opt.param_groups]

    scheduler = make(lib, opt)
    history = [(scheduler.get_last_lr(), snapshot())]
    for _ in range(steps):
        opt.step()
        scheduler.step()
        history.append((scheduler.get_last_lr(), snapshot()))
    return history, scheduler


ONE_CYCLE = {
    "default": (dict(max_lr=1.0, total_steps=20), "SGD", dict(momentum=0.9)),
    "per-group": (dict(max_lr=[1.0, 0.3], epochs=3, steps_per_epoch=7, base_momentum=[0.8, 0.7],
                       max_momentum=(0.9, 0.95)), "SGD", dict(momentum=0.9)),
    "linear": (dict(max_lr=0.5, total_steps=17, anneal_strategy="linear", pct_start=0.4), "SGD", dict(momentum=0.5)),
    "three-phase": (dict(max_lr=0.5, total_steps=25, three_phase=True, div_factor=10.0, final_div_factor=100.0),
                    "SGD", dict(momentum=0.5)),
    "three-phase-linear": (dict(max_lr=0.5, total_steps=25, three_phase=True, anneal_strategy="linear"), "SGD",
                           dict(momentum=0.5)),
    "no-momentum-cycle": (dict(max_lr=0.5, total_steps=12, cycle_momentum=False), "SGD", dict()),
    "adam-betas": (dict(max_lr=0.01, total_steps=15), "Adam", dict()),
    "rmsprop": (dict(max_lr=0.01, total_steps=15), "RMSprop", dict(momentum=0.9)),
}


@pytest.mark.parametrize("case", ONE_CYCLE)
def test_one_cycle_matches_torch(case):
    options, optimizer, optimizer_options = ONE_CYCLE[case]
    steps = options.get("total_steps") or options["epochs"] * options["steps_per_epoch"]

    def make(lib, opt):
        return lib.optim.lr_scheduler.OneCycleLR(opt, **options)

    ours, our_scheduler = schedule(tg, make, steps, optimizer, **optimizer_options)
    theirs, their_scheduler = schedule(torch, make, steps, optimizer, **optimizer_options)
    assert ours == theirs  # the same formulas in the same order: equal to the last bit
    assert set(our_scheduler.state_dict()) == set(their_scheduler.state_dict())


def test_one_cycle_errors_as_torch():
    for lib in (tg, torch):
        opt = lib.optim.SGD([lib.zeros(1, requires_grad=True)], lr=0.1, momentum=0.9)
        OneCycleLR = lib.optim.lr_scheduler.OneCycleLR
        with pytest.raises(ValueError, match="You must define either total_steps OR"):
            OneCycleLR(opt, max_lr=1.0)
        with pytest.raises(ValueError, match="Expected positive integer total_steps"):
            OneCycleLR(opt, max_lr=1.0, total_steps=0)
        with pytest.raises(ValueError, match="Expected float between 0 and 1 pct_start"):
            OneCycleLR(opt, max_lr=1.0, total_steps=5, pct_start=1.5)
        with pytest.raises(ValueError, match="anneal_strategy must be one of"):
            OneCycleLR(opt, max_lr=1.0, total_steps=5, anneal_strategy="exp")
        with pytest.raises(ValueError):
            OneCycleLR(opt, max_lr=[1.0, 2.0], total_steps=5)
        with pytest.raises(ValueError, match="optimizer must support momentum"):
            OneCycleLR(lib.optim.Adagrad([lib.zeros(1, requires_grad=True)]), max_lr=1.0, total_steps=5)
        scheduler = OneCycleLR(opt, max_lr=1.0, total_steps=2)
        opt.step()
        scheduler.step()
        scheduler.step()
        with pytest.raises(ValueError, match="Tried to step 3 times"):
            scheduler.step()


@pytest.mark.parametrize("options", [dict(T_0=5), dict(T_0=3, T_mult=2, eta_min=0.01), dict(T_0=2, T_mult=3)])
def test_cosine_warm_restarts_matches_torch(options):
    def make(lib, opt):
        return lib.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, **options)

    ours, our_scheduler = schedule(tg, make, 40)
    theirs, their_scheduler = schedule(torch, make, 40)
    assert ours == theirs
    assert set(our_scheduler.state_dict()) == set(their_scheduler.state_dict())


@pytest.mark.parametrize("T_mult", [1, 2])
def test_cosine_warm_restarts_fractional_epochs_match_torch(T_mult):
    def run(lib):
        opt = lib.optim.SGD([lib.zeros(1, requires_grad=True)], lr=0.1)
        scheduler = lib.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=3, T_mult=T_mult, eta_min=0.001)
        lrs = []
        for epoch in range(10):
            for batch in range(4):
                opt.step()
                scheduler.step(epoch + batch / 4)
                lrs.append((scheduler.get_last_lr(), scheduler.T_cur, scheduler.T_i, scheduler.last_epoch))
        scheduler.step(26)  # interleaved: then step() goes on from 27
        scheduler.step()
        lrs.append((scheduler.get_last_lr(), scheduler.last_epoch))
        return lrs
    assert run(tg) == run(torch)


def test_cosine_warm_restarts_errors_as_torch():
    for lib in (tg, torch):
        opt = lib.optim.SGD([lib.zeros(1, requires_grad=True)], lr=0.1)
        CosineAnnealingWarmRestarts = lib.optim.lr_scheduler.CosineAnnealingWarmRestarts
        with pytest.raises(ValueError, match="Expected positive integer T_0"):
            CosineAnnealingWarmRestarts(opt, T_0=0)
        with pytest.raises(ValueError, match="Expected integer T_mult >= 1"):
            CosineAnnealingWarmRestarts(opt, T_0=2, T_mult=0)
        with pytest.raises(ValueError, match="Expected float or int eta_min"):
            CosineAnnealingWarmRestarts(opt, T_0=2, eta_min="0")
        with pytest.raises(ValueError, match="Expected non-negative epoch"):
            CosineAnnealingWarmRestarts(opt, T_0=2).step(-1)


def test_adamax_propagates_nan_as_torch():
    ours = tg.zeros(3, dtype=tg.float64, requires_grad=True)
    theirs = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    optimizer, reference = optim.Adamax([ours]), torch.optim.Adamax([theirs])
    grad = np.array([1.0, np.nan, -2.0])
    ours.grad, theirs.grad = tg.tensor(grad), torch.tensor(grad)
    optimizer.step()
    reference.step()
    np.testing.assert_array_equal(np.isnan(optimizer.state[ours]["exp_inf"].numpy()),
                                  np.isnan(reference.state[theirs]["exp_inf"].numpy()))
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-12)
