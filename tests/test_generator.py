"""tapegrad.Generator, default_generator, get/set_rng_state and the generator= argument of the
random functions, against PyTorch's semantics (the numbers themselves differ: another RNG)."""
import copy
import pickle

import pytest
import torch

import tapegrad as tg

DRAWS = {
    "rand": lambda generator: tg.rand(5, generator=generator),
    "rand float64": lambda generator: tg.rand(2, 3, dtype=tg.float64, generator=generator),
    "randn": lambda generator: tg.randn(7, generator=generator),  # odd: leaves a spare normal
    "randn size=": lambda generator: tg.randn(size=(2, 2), generator=generator),
    "randint": lambda generator: tg.randint(0, 100, (6,), generator=generator),
    "randint high": lambda generator: tg.randint(9, (6,), generator=generator),
    "randperm": lambda generator: tg.randperm(20, generator=generator),
    "normal_": lambda generator: tg.empty(3, 2).t().normal_(1.0, 2.0, generator=generator),
    "uniform_": lambda generator: tg.empty(4).uniform_(-1.0, 1.0, generator=generator),
}


def test_fresh_generator_starts_from_torchs_default_seed():
    assert tg.Generator().initial_seed() == torch.Generator().initial_seed() == 67280421310721
    assert tg.Generator("cpu").device == "cpu"


@pytest.mark.parametrize("draw", DRAWS, ids=list(DRAWS))
def test_seeded_generator_draws_what_the_seeded_global_stream_draws(draw):
    tg.manual_seed(11)
    expected = [DRAWS[draw](None).tolist() for _ in range(2)]
    tg.manual_seed(99)
    untouched = tg.rand(3).tolist()
    tg.manual_seed(99)
    generator = tg.Generator()
    assert generator.manual_seed(11) is generator
    assert [DRAWS[draw](generator).tolist() for _ in range(2)] == expected
    assert tg.rand(3).tolist() == untouched  # the global stream did not move


def test_generators_are_independent_streams():
    first, second = tg.Generator().manual_seed(1), tg.Generator().manual_seed(2)
    interleaved = [(tg.randn(3, generator=first).tolist(), tg.randn(3, generator=second).tolist()) for _ in range(3)]
    first, second = tg.Generator().manual_seed(1), tg.Generator().manual_seed(2)
    separate = [tg.randn(3, generator=first).tolist() for _ in range(3)]
    assert [pair[0] for pair in interleaved] == separate


def test_state_round_trips_including_the_cached_normal():
    generator = tg.Generator().manual_seed(5)
    tg.randn(3, generator=generator)  # an odd count leaves the second normal of a pair cached
    state = generator.get_state()
    assert state.dtype == tg.int64 and tuple(state.shape) == (7,)
    expected = tg.randn(4, generator=generator).tolist()
    assert generator.set_state(state) is generator
    assert tg.randn(4, generator=generator).tolist() == expected


def test_global_rng_state_round_trips_as_in_torch():
    for lib in (tg, torch):
        lib.manual_seed(3)
        state = lib.get_rng_state()
        expected = lib.rand(4).tolist()
        lib.set_rng_state(state)
        assert lib.rand(4).tolist() == expected


def test_default_generator_is_the_global_stream():
    assert tg.manual_seed(4) is tg.default_generator
    assert tg.default_generator.initial_seed() == tg.initial_seed() == 4
    expected = tg.rand(3).tolist()
    tg.default_generator.manual_seed(4)
    assert tg.rand(3, generator=tg.default_generator).tolist() == expected
    assert tg.default_generator.get_state().tolist() == tg.get_rng_state().tolist()


@pytest.mark.parametrize("seed", [0, 1, -1, -2**63, 2**63, 2**64 - 1])
def test_seeds_cover_torchs_range(seed):
    assert tg.Generator().manual_seed(seed).initial_seed() == torch.Generator().manual_seed(seed).initial_seed()
    assert tg.manual_seed(seed).initial_seed() == torch.manual_seed(seed).initial_seed()


def test_bad_seeds_and_states():
    for seed in (2**64, -2**63 - 1):
        for lib in (tg, torch):
            with pytest.raises(ValueError):
                lib.Generator().manual_seed(seed)
            with pytest.raises(ValueError):
                lib.manual_seed(seed)
    for seed in (1.5, True):
        with pytest.raises(TypeError):
            tg.Generator().manual_seed(seed)
        with pytest.raises(RuntimeError, match="manual_seed expected a long"):
            torch.Generator().manual_seed(seed)
    assert tg.manual_seed(True).initial_seed() == torch.manual_seed(True).initial_seed() == 1
    assert tg.manual_seed(2.7).initial_seed() == torch.manual_seed(2.7).initial_seed() == 2  # int(seed), as torch
    generator = tg.Generator()
    with pytest.raises(RuntimeError, match=r"int64 tensor of shape \(7\)"):
        generator.set_state(tg.zeros(3))
    with pytest.raises(RuntimeError, match="words are all zero"):
        generator.set_state(tg.zeros(7, dtype=tg.int64))
    with pytest.raises(TypeError, match="expects the tensor get_state"):
        generator.set_state([0] * 7)
    with pytest.raises(RuntimeError, match="only CPU generators"):
        tg.Generator("cuda")


def test_seed_draws_a_fresh_seed_and_uses_it():
    generator = tg.Generator()
    seed = generator.seed()
    assert isinstance(seed, int) and generator.initial_seed() == seed
    assert tg.Generator().manual_seed(seed).get_state().tolist() == generator.get_state().tolist()
    global_seed = tg.seed()
    assert tg.initial_seed() == global_seed


def test_copies_and_pickles_continue_the_stream_independently():
    generator = tg.Generator().manual_seed(8)
    tg.rand(2, generator=generator)
    for clone in (copy.deepcopy(generator), copy.copy(generator), pickle.loads(pickle.dumps(generator))):
        assert tg.rand(3, generator=clone).tolist() == tg.rand(3, generator=copy.deepcopy(generator)).tolist()
    state = generator.get_state().tolist()
    clone = copy.deepcopy(tg.default_generator)
    tg.rand(1, generator=clone)
    assert clone is not tg.default_generator and generator.get_state().tolist() == state


@pytest.mark.parametrize("draw", DRAWS, ids=list(DRAWS))
def test_generator_argument_must_be_a_generator(draw):
    with pytest.raises(TypeError, match="generator must be a tapegrad.Generator, got int"):
        DRAWS[draw](3)
