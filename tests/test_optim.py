"""tapegrad.optim against torch.optim: 25-step trajectories in float64, state dicts, errors."""
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
    with pytest.raises(RuntimeError, match=r"\[sgd_step\] param must be contiguous"):
        tg._C._sgd_step(tg.ones(2, 3).t(), tg.ones(3, 2), None, 0.1)
    with pytest.raises(RuntimeError, match=r"\[adam_step\] exp_avg has shape \(2,\)"):
        tg._C._adam_step(param, tg.ones(3), tg.ones(2), tg.ones(3), None, tg.zeros(1), 0.1, 0.9, 0.99, 1e-8, 0.0)
    with pytest.raises(RuntimeError, match=r"\[adamw_step\] max_exp_avg_sq is missing"):
        tg._C._adamw_step(param, tg.ones(3), tg.ones(3), tg.ones(3), None, tg.zeros(1), 0.1, 0.9, 0.99, 1e-8, 0.0, True)
    # A gradient of another dtype or layout is converted, not rejected.
    param = tg.ones(2, 2, dtype=tg.float64)
    tg._C._sgd_step(param, tg.tensor([[1.0, 2.0], [3.0, 4.0]]).t(), None, 1.0)
    assert np.array_equal(param.numpy(), [[0.0, -2.0], [-1.0, -3.0]])
