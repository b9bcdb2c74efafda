"""tg.multinomial and tg.bernoulli / Tensor.bernoulli_: PyTorch's shapes, dtypes, errors and
generator= semantics, their distributions checked statistically (tapegrad's stream is its own, not
PyTorch's), and an LSTM language model that samples text through multinomial, written once for
both libraries."""
import numpy as np
import pytest
import torch

import tapegrad as tg


def chi_square_ok(counts, probabilities):
    """Pearson's chi-square of counts against probabilities, below the 0.999 quantile's bound for
    the degrees of freedom (Wilson-Hilferty): a correct sampler fails it once in a thousand seeds."""
    counts, probabilities = np.asarray(counts, dtype=np.float64), np.asarray(probabilities, dtype=np.float64)
    expected = counts.sum() * probabilities / probabilities.sum()
    keep = expected > 0
    assert np.all(counts[~keep] == 0), "a zero-probability category was drawn"
    statistic = ((counts[keep] - expected[keep]) ** 2 / expected[keep]).sum()
    dof = keep.sum() - 1
    bound = dof * (1 - 2 / (9 * dof) + 3.09 * np.sqrt(2 / (9 * dof))) ** 3
    return statistic < bound


def test_multinomial_with_replacement_distribution():
    tg.manual_seed(0)
    weights = np.array([0.5, 0.0, 2.0, 1.0, 0.25, 4.0])  # not normalised, one impossible category
    for dtype in (tg.float32, tg.float64):
        draws = tg.multinomial(tg.tensor(weights, dtype=dtype), 60000, replacement=True)
        assert draws.dtype == tg.int64 and tuple(draws.shape) == (60000,)
        assert chi_square_ok(np.bincount(draws.numpy(), minlength=6), weights)


def test_multinomial_without_replacement():
    tg.manual_seed(0)
    weights = np.array([[1.0, 2.0, 0.0, 3.0, 4.0], [5.0, 1.0, 1.0, 1.0, 0.0]])
    draws = tg.multinomial(tg.tensor(weights), 4)
    assert tuple(draws.shape) == (2, 4)
    for row in draws.numpy():
        assert len(set(row.tolist())) == 4
    # The first draw of each row follows the weights; with all but zero weights drawn, the rest
    # fill in after them.
    firsts = tg.multinomial(tg.tensor(weights[0]).expand(20000, 5), 1).numpy()[:, 0]
    assert chi_square_ok(np.bincount(firsts, minlength=5), weights[0])
    second = tg.multinomial(tg.tensor([[1.0, 0.0, 0.0]]), 2).numpy()
    assert second[0, 0] == 0 and second[0, 1] in (1, 2)


def test_multinomial_generator_and_methods():
    weights = tg.tensor([0.2, 0.3, 0.5])
    first = tg.multinomial(weights, 50, True, generator=tg.Generator().manual_seed(7))
    again = weights.multinomial(50, replacement=True, generator=tg.Generator().manual_seed(7))
    assert first.tolist() == again.tolist()
    tg.manual_seed(3)
    a = tg.multinomial(weights, 10, True)
    tg.manual_seed(3)
    assert tg.multinomial(weights, 10, True).tolist() == a.tolist()


@pytest.mark.parametrize("case", [
    lambda lib: lib.multinomial(lib.tensor([1.0, 0.0]), 3),
    lambda lib: lib.multinomial(lib.tensor([1.0, -1.0]), 1),
    lambda lib: lib.multinomial(lib.tensor([1.0, float("nan")]), 1),
    lambda lib: lib.multinomial(lib.tensor([1.0, float("inf")]), 1),
    lambda lib: lib.multinomial(lib.tensor([[1.0, 0.0], [0.0, 0.0]]), 1),
    lambda lib: lib.multinomial(lib.tensor([1, 2]), 1),
    lambda lib: lib.multinomial(lib.ones(2, 2, 2), 1),
    lambda lib: lib.multinomial(lib.ones(2), 0),
])
def test_multinomial_errors_match_torch(case):
    with pytest.raises(Exception) as theirs:
        case(torch)
    with pytest.raises(type(theirs.value)) as ours:
        case(tg)
    assert str(theirs.value).split(":")[0] in str(ours.value)


def test_bernoulli_distribution_dtype_and_node():
    tg.manual_seed(0)
    probabilities = np.array([0.0, 0.1, 0.5, 0.9, 1.0])
    for dtype in (tg.float32, tg.float64):
        p = tg.tensor(np.tile(probabilities, (20000, 1)), dtype=dtype)
        draws = tg.bernoulli(p)
        assert draws.dtype == dtype and tuple(draws.shape) == (20000, 5)
        values = draws.numpy()
        assert set(np.unique(values).tolist()) <= {0.0, 1.0}
        means = values.mean(0)
        assert means[0] == 0 and means[4] == 1
        assert np.all(np.abs(means - probabilities) < 4 * np.sqrt(probabilities * (1 - probabilities) / 20000) + 1e-12)
    x = tg.tensor([0.3, 0.6], requires_grad=True)
    for lib, leaf in ((tg, x), (torch, torch.tensor([0.3, 0.6], requires_grad=True))):
        out = lib.bernoulli(leaf)
        name = out.grad_fn.name()
        assert name == "BernoulliBackward0"
        out.sum().backward()
        assert leaf.grad.tolist() == [0.0, 0.0]


def test_bernoulli_p_and_in_place():
    tg.manual_seed(0)
    x = tg.zeros(40000)
    assert abs(tg.bernoulli(x, 0.25).mean().item() - 0.25) < 0.01
    assert x.bernoulli_(0.75) is x and abs(x.mean().item() - 0.75) < 0.01
    half = tg.tensor([[0.0], [1.0]])
    y = tg.empty(2, 3).bernoulli_(half)
    assert y.tolist() == [[0.0] * 3, [1.0] * 3]
    view = tg.zeros(4, 6)[:, ::2]
    view.bernoulli_(1.0)
    assert view.tolist() == [[1.0] * 3] * 4
    assert x.bernoulli().shape == x.shape
    a = tg.rand(100).bernoulli_(0.5, generator=tg.Generator().manual_seed(5))
    b = tg.rand(100).bernoulli_(0.5, generator=tg.Generator().manual_seed(5))
    assert a.tolist() == b.tolist()


@pytest.mark.parametrize("case", [
    lambda lib: lib.bernoulli(lib.tensor([2.0])),
    lambda lib: lib.rand(2).bernoulli_(2.0),
    lambda lib: lib.rand(2).bernoulli_(-0.5),
    lambda lib: lib.rand(2).bernoulli_(lib.tensor([-0.5, 0.5])),
])
def test_bernoulli_errors_match_torch(case):
    with pytest.raises(Exception) as theirs:
        case(torch)
    with pytest.raises(type(theirs.value)) as ours:
        case(tg)
    assert str(theirs.value).split(",")[0].split(" to be true")[0] in str(ours.value)


# ---- an LSTM language model that samples, written once for both libraries -------------------

def lstm_language_model(torch, text, weights=None, steps=3, sample_length=200, temperature=1.0, seed=0):
    """Trains a character LSTM on `text` for a few steps, then samples text from it, each next
    character drawn with torch.multinomial from the softmax of the logits. Returns the losses, the
    sampled indices, the vocabulary and the last softmax row the sampler drew from."""
    nn, F = torch.nn, torch.nn.functional
    vocabulary = sorted(set(text))
    index = {c: i for i, c in enumerate(vocabulary)}
    data = torch.tensor([index[c] for c in text])

    class LanguageModel(nn.Module):
        def __init__(self, vocab, embedding_dim=16, hidden=32):
            super().__init__()
            self.embed = nn.Embedding(vocab, embedding_dim)
            self.lstm = nn.LSTM(embedding_dim, hidden, num_layers=2, batch_first=True)
            self.head = nn.Linear(hidden, vocab)

        def forward(self, x, state=None):
            output, state = self.lstm(self.embed(x), state)
            return self.head(output), state

    model = LanguageModel(len(vocabulary))
    if weights is not None:
        model.load_state_dict({key: torch.tensor(value) for key, value in weights.items()})
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    inputs, targets = data[:-1].view(1, -1), data[1:].view(1, -1)
    losses = []
    for _ in range(steps):
        logits, _ = model(inputs)
        loss = F.cross_entropy(logits.reshape(-1, len(vocabulary)), targets.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    torch.manual_seed(seed)
    sampled, state, probabilities = [int(data[0])], None, None
    with torch.no_grad():
        for _ in range(sample_length):
            logits, state = model(torch.tensor([[sampled[-1]]]), state)
            probabilities = F.softmax(logits[0, -1] / temperature, dim=0)
            sampled.append(int(torch.multinomial(probabilities, 1)[0]))
    state = {key: value.detach().numpy() for key, value in model.state_dict().items()}
    last = None if probabilities is None else probabilities.numpy()
    return losses, sampled, vocabulary, last, state


TEXT = "hello world, hello tapegrad. the quick brown fox jumps over the lazy dog. " * 2


def test_course_lstm_language_model_trains_like_torch_and_samples_its_distribution():
    torch.manual_seed(0)
    _, _, _, _, weights = lstm_language_model(torch, TEXT, steps=0, sample_length=0)
    their_losses, _, vocabulary, _, their_state = lstm_language_model(torch, TEXT, weights, sample_length=0)
    our_losses, sampled, our_vocabulary, last, our_state = lstm_language_model(tg, TEXT, weights)
    assert our_vocabulary == vocabulary
    np.testing.assert_allclose(our_losses, their_losses, rtol=1e-4, atol=1e-5)
    for key, value in their_state.items():
        np.testing.assert_allclose(our_state[key], value, rtol=1e-3, atol=1e-4, err_msg=key)
    assert len(sampled) == 201 and all(0 <= s < len(vocabulary) for s in sampled)
    # The sampler's draws follow the distribution it was given: many draws from the last softmax.
    tg.manual_seed(1)
    draws = tg.multinomial(tg.tensor(last), 50000, replacement=True).numpy()
    assert chi_square_ok(np.bincount(draws, minlength=len(vocabulary)), last)
