"""tapegrad.distributions against torch.distributions: log_prob, entropy, mean and variance (and
their gradients) on the same parameters, shapes, validation errors, sample statistics (seeded), and a
REINFORCE policy-gradient program written once for both libraries."""
import math

import numpy as np
import pytest
import torch

import tapegrad as tg


def pair(array, dtype=np.float64, requires_grad=False):
    array = np.asarray(array, dtype=dtype)
    return (tg.tensor(array, requires_grad=requires_grad), torch.tensor(array, requires_grad=requires_grad))


def close(ours, theirs, tolerance=1e-12):
    ours, theirs = ours.detach().numpy(), theirs.detach().numpy()
    assert ours.shape == theirs.shape
    np.testing.assert_allclose(ours, theirs, rtol=tolerance, atol=tolerance)


rng = np.random.default_rng(0)
PROBS = rng.uniform(0.05, 1.0, size=(4, 3))
LOGITS = rng.normal(size=(2, 4, 3))
LOC, SCALE = rng.normal(size=(3,)), rng.uniform(0.5, 2.0, size=(2, 3))
LOW = rng.normal(size=(2, 3))

# name -> (make(lib, params), parameter arrays, values to score)
CASES = {
    "Categorical-probs": (lambda lib, p: lib.distributions.Categorical(probs=p[0]), [PROBS],
                          np.array([[0, 2, 1, 1], [2, 2, 0, 1]])),
    "Categorical-logits": (lambda lib, p: lib.distributions.Categorical(logits=p[0]), [LOGITS], np.array([2, 0, 1, 1])),
    "Normal": (lambda lib, p: lib.distributions.Normal(p[0], p[1]), [LOC, SCALE], rng.normal(size=(5, 2, 3))),
    "Bernoulli-probs": (lambda lib, p: lib.distributions.Bernoulli(probs=p[0]), [PROBS[:, 0] * 0.9],
                        np.array([[1.0, 0.0, 1.0, 1.0]])),
    "Bernoulli-logits": (lambda lib, p: lib.distributions.Bernoulli(logits=p[0]), [LOGITS[0]],
                         rng.integers(0, 2, size=(4, 3)).astype(float)),
    "Uniform": (lambda lib, p: lib.distributions.Uniform(p[0], p[0] + p[1]), [LOW, SCALE], LOW + 0.3),
}


@pytest.mark.parametrize("dtype,tolerance", [(np.float64, 1e-12), (np.float32, 1e-5)])
@pytest.mark.parametrize("name", CASES)
def test_scores_and_moments_match_torch(name, dtype, tolerance):
    make, arrays, values = CASES[name]
    ours_params, theirs_params = zip(*(pair(a, dtype, requires_grad=True) for a in arrays))
    ours, theirs = make(tg, ours_params), make(torch, theirs_params)
    assert tuple(ours.batch_shape) == tuple(theirs.batch_shape)
    assert tuple(ours.event_shape) == tuple(theirs.event_shape)
    assert ours.has_rsample == theirs.has_rsample
    value_dtype = np.int64 if name.startswith("Categorical") else dtype
    our_value, their_value = pair(values, value_dtype)
    our_score, their_score = ours.log_prob(our_value), theirs.log_prob(their_value)
    close(our_score, their_score, tolerance)
    close(ours.entropy(), theirs.entropy(), tolerance)
    for moment in ("mean", "variance", "stddev"):
        ours_moment, theirs_moment = getattr(ours, moment), getattr(theirs, moment)
        np.testing.assert_allclose(ours_moment.detach().numpy(), theirs_moment.detach().numpy(), rtol=tolerance,
                                   atol=tolerance)
    # The gradients of the scores and the entropy with respect to the parameters.
    (our_score.sum() + ours.entropy().sum()).backward()
    (their_score.sum() + theirs.entropy().sum()).backward()
    for a, b in zip(ours_params, theirs_params):
        close(a.grad, b.grad, tolerance * 10)


@pytest.mark.parametrize("name", CASES)
def test_sample_shapes_match_torch(name):
    make, arrays, _ = CASES[name]
    ours, theirs = make(tg, [tg.tensor(a) for a in arrays]), make(torch, [torch.tensor(a) for a in arrays])
    for sample_shape in [(), (5,), (2, 3), tg.Size([4])]:
        our_sample, their_sample = ours.sample(sample_shape), theirs.sample(torch.Size(sample_shape))
        assert tuple(our_sample.shape) == tuple(their_sample.shape)
        assert str(our_sample.dtype).split(".")[1] == str(their_sample.dtype).split(".")[1]
        assert not our_sample.requires_grad


def test_categorical_frequencies():
    tg.manual_seed(0)
    probs = np.array([0.1, 0.0, 0.6, 0.3])
    samples = tg.distributions.Categorical(probs=tg.tensor(probs)).sample((20000,)).numpy()
    frequencies = np.bincount(samples, minlength=4) / samples.size
    np.testing.assert_allclose(frequencies, probs, atol=0.015)
    assert frequencies[1] == 0  # a zero-probability category is never drawn
    # A batch: each row's own distribution, unnormalised probabilities normalised.
    batch = tg.distributions.Categorical(probs=tg.tensor([[1.0, 3.0], [3.0, 1.0], [0.0, 2.0]]))
    draws = batch.sample((10000,)).numpy()
    np.testing.assert_allclose(draws.mean(axis=0), [0.75, 0.25, 1.0], atol=0.02)
    # Thousands of categories (the cumulative sums go by blocks), most of them impossible.
    many = np.zeros(5000)
    many[[7, 1234, 4999]] = [1.0, 2.0, 1.0]
    draws = tg.distributions.Categorical(probs=tg.tensor(many)).sample((8000,)).numpy()
    assert set(np.unique(draws)) == {7, 1234, 4999}
    np.testing.assert_allclose([np.mean(draws == k) for k in (7, 1234, 4999)], [0.25, 0.5, 0.25], atol=0.02)


def test_logits_categorical_and_bernoulli_frequencies():
    tg.manual_seed(1)
    logits = tg.tensor([0.5, -1.0, 2.0])
    draws = tg.distributions.Categorical(logits=logits).sample((20000,)).numpy()
    expected = torch.softmax(torch.tensor([0.5, -1.0, 2.0]), 0).numpy()
    np.testing.assert_allclose(np.bincount(draws, minlength=3) / draws.size, expected, atol=0.015)
    bernoulli = tg.distributions.Bernoulli(probs=tg.tensor([0.2, 0.7]))
    np.testing.assert_allclose(bernoulli.sample((20000,)).numpy().mean(axis=0), [0.2, 0.7], atol=0.015)


@pytest.mark.parametrize("method", ["sample", "rsample"])
def test_normal_and_uniform_sample_statistics(method):
    tg.manual_seed(2)
    normal = tg.distributions.Normal(tg.tensor([1.0, -2.0]), tg.tensor([0.5, 2.0]))
    draws = getattr(normal, method)((40000,)).detach().numpy()
    np.testing.assert_allclose(draws.mean(axis=0), [1.0, -2.0], atol=0.05)
    np.testing.assert_allclose(draws.std(axis=0), [0.5, 2.0], rtol=0.03)
    uniform = tg.distributions.Uniform(tg.tensor([0.0, 2.0]), tg.tensor([1.0, 5.0]))
    draws = getattr(uniform, method)((40000,)).detach().numpy()
    assert (draws >= [0.0, 2.0]).all() and (draws < [1.0, 5.0]).all()
    np.testing.assert_allclose(draws.mean(axis=0), [0.5, 3.5], atol=0.03)
    np.testing.assert_allclose(draws.var(axis=0), [1 / 12, 9 / 12], rtol=0.05)


def test_rsample_is_reparameterised():
    for make in (lambda lib, a, b: lib.distributions.Normal(a, b),
                 lambda lib, a, b: lib.distributions.Uniform(a, a + b)):
        first, second = tg.tensor([0.3, -1.0], requires_grad=True), tg.tensor([1.5, 0.5], requires_grad=True)
        sample = make(tg, first, second).rsample((7,))
        assert sample.requires_grad
        sample.sum().backward()
        np.testing.assert_allclose(first.grad.numpy(), [7.0, 7.0])  # d(loc + eps * scale)/d loc
        noise = (sample.detach() - first.detach()) / second.detach()  # eps, or u for the uniform
        np.testing.assert_allclose(second.grad.numpy(), noise.sum(0).numpy(), rtol=1e-5)
    assert not tg.distributions.Normal(0.0, 1.0).sample().requires_grad
    for lib in (tg, torch):
        with pytest.raises(NotImplementedError):
            lib.distributions.Categorical(probs=lib.tensor([0.5, 0.5])).rsample()


def test_numbers_broadcast_and_dtype_as_torch():
    for lib in (tg, torch):
        assert tuple(lib.distributions.Normal(0.0, 1.0).batch_shape) == ()
        normal = lib.distributions.Normal(lib.zeros(3, dtype=lib.float64), 2.0)
        assert tuple(normal.batch_shape) == (3,) and normal.scale.dtype == lib.float64
        assert tuple(lib.distributions.Uniform(lib.zeros(2, 1), lib.ones(3)).batch_shape) == (2, 3)
        assert tuple(lib.distributions.Bernoulli(0.3).batch_shape) == ()
    assert repr(tg.distributions.Normal(0.0, 1.0)) == repr(torch.distributions.Normal(0.0, 1.0))
    assert repr(tg.distributions.Normal(tg.zeros(2), 1.0)).replace("tapegrad", "torch") == \
        repr(torch.distributions.Normal(torch.zeros(2), 1.0))


def test_categorical_enumerate_support_and_mode():
    for lib in (tg, torch):
        dist = lib.distributions.Categorical(probs=lib.tensor([[0.2, 0.8, 0.0], [0.5, 0.1, 0.4]]))
        assert dist.enumerate_support().tolist() == [[0, 0], [1, 1], [2, 2]]
        assert tuple(dist.enumerate_support(expand=False).shape) == (3, 1)
        assert dist.mode.tolist() == [1, 0]


VALIDATION = [
    ("Normal scale", lambda lib: lib.distributions.Normal(0.0, -1.0), "Expected parameter scale"),
    ("Normal loc nan", lambda lib: lib.distributions.Normal(lib.tensor([math.nan]), 1.0), "Expected parameter loc"),
    ("Bernoulli probs", lambda lib: lib.distributions.Bernoulli(probs=lib.tensor([1.5])), "Expected parameter probs"),
    ("Uniform low >= high", lambda lib: lib.distributions.Uniform(1.0, 0.0), "Expected parameter low"),
    ("Categorical probs", lambda lib: lib.distributions.Categorical(probs=lib.tensor([0.5, -0.5, 1.0])),
     "Expected parameter probs"),
    ("Categorical 0-dim", lambda lib: lib.distributions.Categorical(probs=lib.tensor(1.0)),
     "must be at least one-dimensional"),
    ("both", lambda lib: lib.distributions.Bernoulli(probs=0.3, logits=0.1), "Either `probs` or `logits`"),
    ("neither", lambda lib: lib.distributions.Categorical(), "Either `probs` or `logits`"),
    ("value outside support", lambda lib: lib.distributions.Uniform(0.0, 1.0).log_prob(lib.tensor(2.0)),
     "Expected value argument"),
    ("category outside support", lambda lib: lib.distributions.Categorical(lib.ones(3)).log_prob(lib.tensor(3)),
     "to be within the support"),
    ("non-binary value", lambda lib: lib.distributions.Bernoulli(0.3).log_prob(lib.tensor(0.5)),
     "to be within the support"),
    ("value not a tensor", lambda lib: lib.distributions.Normal(0.0, 1.0).log_prob(0.5), "must be a Tensor"),
    ("value shape", lambda lib: lib.distributions.Normal(lib.zeros(3), 1.0).log_prob(lib.zeros(2)),
     "not broadcastable"),
]


@pytest.mark.parametrize("case", VALIDATION, ids=[case[0] for case in VALIDATION])
def test_validation_errors_as_torch(case):
    _, make, message = case
    for lib in (tg, torch):
        with pytest.raises(ValueError, match=message):
            make(lib)


def test_validation_can_be_turned_off():
    for lib in (tg, torch):
        assert math.isinf(lib.distributions.Uniform(0.0, 1.0, validate_args=False).log_prob(lib.tensor(2.0)).item())
        lib.distributions.Normal(0.0, -1.0, validate_args=False)


# ---- REINFORCE ---------------------------------------------------------------------------------

def reinforce(lib, actions_from=None, steps=6, episodes=4, horizon=5):
    """A policy net over a fixed random environment (states, per-state action rewards), trained by
    REINFORCE. The actions come from actions_from (the other library's run) when given, so that
    both libraries see the same episodes; returns the parameters and the actions taken."""
    rng = np.random.default_rng(7)
    states = rng.normal(size=(horizon, 4))
    rewards = rng.normal(size=(horizon, 3))
    policy = lib.nn.Sequential(lib.nn.Linear(4, 16), lib.nn.Tanh(), lib.nn.Linear(16, 3)).double()
    init = np.random.default_rng(8)
    with lib.no_grad():
        for param in policy.parameters():
            param.copy_(lib.tensor(init.normal(scale=0.5, size=tuple(param.shape))))
    optimizer = lib.optim.Adam(policy.parameters(), lr=0.05)
    taken = []
    for step in range(steps):
        optimizer.zero_grad()
        loss = 0
        for episode in range(episodes):
            dist = lib.distributions.Categorical(logits=policy(lib.tensor(states)))
            if actions_from is None:
                actions = dist.sample()
            else:
                actions = lib.tensor(actions_from[len(taken)])
            taken.append(actions.numpy())
            gains = lib.tensor(rewards[np.arange(horizon), actions.numpy()])
            # Rewards to go, discounted, as the return of each step.
            returns = lib.tensor(np.cumsum((gains.numpy() * 0.9 ** np.arange(horizon))[::-1])[::-1].copy())
            loss = loss - (dist.log_prob(actions) * returns).sum() - 0.01 * dist.entropy().sum()
        (loss / episodes).backward()
        optimizer.step()
    return [p.detach().numpy() for p in policy.parameters()], taken


def test_reinforce_matches_torch_with_the_same_actions():
    tg.manual_seed(3)
    ours, actions = reinforce(tg)
    theirs, _ = reinforce(torch, actions_from=actions)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    # And the other way round: torch's sampled actions fed to tapegrad.
    torch.manual_seed(3)
    theirs, actions = reinforce(torch)
    ours, _ = reinforce(tg, actions_from=actions)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
