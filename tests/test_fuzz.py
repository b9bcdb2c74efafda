"""The readers' error contract under fuzzing (tests/fuzz/harness.py says what is checked): the
committed corpus replays, and a short seeded mutation run of each target finds nothing.

Longer runs: tests/fuzz/run_atheris.py.
"""

import time

import pytest

from fuzz import harness

# About a second per target on an idle core; the whole file stays within a few seconds.
EXECUTIONS = 600
SEED = 19


def describe(broken):
    return "\n".join(f"{message} (input {data[:60]!r}{'...' if len(data) > 60 else ''})"
                     for message, data in broken[:10])


@pytest.mark.parametrize("target", harness.TARGETS)
def test_corpus_replays_within_the_contract(target, tmp_path):
    inputs = harness.corpus(target)
    assert len(inputs) >= 15
    broken, outcomes = [], set()
    with harness.traced():
        for path in inputs:
            data = path.read_bytes()
            try:
                outcomes.add(harness.check(target, data, tmp_path))
            except harness.ContractBroken as e:
                broken.append((f"{path.name}: {e}", data))
    assert not broken, describe(broken)
    assert outcomes == {"loaded", "ValueError"}  # the corpus holds valid files too


@pytest.mark.parametrize("target", harness.TARGETS)
def test_seeded_mutations_keep_the_contract(target, tmp_path):
    counts, broken = harness.fuzz(target, EXECUTIONS, SEED, tmp_path,
                                  failures=tmp_path / "failures")
    assert not broken, f"{len(broken)} of {EXECUTIONS} inputs broke the contract, written to " \
                       f"{tmp_path / 'failures'}:\n{describe(broken)}"
    assert sum(counts.values()) == EXECUTIONS


def raises_type_error(path):
    raise TypeError("not a ValueError")


def raises_anonymous_value_error(path):
    raise ValueError("a message without the file's name")


def allocates_too_much(path):
    return bytearray(harness.SLACK_BYTES + (1 << 20))


def hangs(path):
    time.sleep(5)


@pytest.mark.parametrize("read, problem", [
    (raises_type_error, "TypeError instead of ValueError"),
    (raises_anonymous_value_error, "without the file's name"),
    (allocates_too_much, "over its limit"),
    (hangs, "no answer within"),
])
def test_harness_reports_each_kind_of_broken_contract(monkeypatch, tmp_path, read, problem):
    monkeypatch.setitem(harness._READS, "load", (read,))
    monkeypatch.setattr(harness, "TIME_LIMIT_S", 0.2)
    with pytest.raises(harness.ContractBroken, match=problem):
        harness.check("load", b"", tmp_path)
