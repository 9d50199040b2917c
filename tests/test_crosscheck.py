"""exactmaso's regions against the independent N-D oracle on a fixed, fast set of random networks.

Each test is one case of tests/crosscheck.py, named by its family, seed and dimension; rebuild
it with ``crosscheck.make_case(SEED, FAMILY, D=D)``.  (``scripts/crosscheck.py --case SEED``
replays a case of the long randomised run, where the seed also draws the family.)
"""

from __future__ import annotations

import pytest

try:
    import crosscheck as cc
except ImportError:  # tests/ as a package
    from tests import crosscheck as cc  # type: ignore[no-redef]

PER_FAMILY = {"perturbed": 24}  # thin faces are rare per draw: more of those
CASES = [(fam, seed, 1 + seed % 5) for fam in cc.FAMILIES for seed in range(PER_FAMILY.get(fam, 8))]


@pytest.mark.parametrize("family,seed,D", CASES, ids=[f"{f}-seed{s}-D{d}" for f, s, d in CASES])
def test_regions_match_the_oracle(family, seed, D):
    case = cc.make_case(seed, family, D=D)
    mismatches, _ = cc.check_case(case, time_limit=30, case_timeout=60)
    assert not mismatches, case.describe() + "\n" + "\n".join(map(str, mismatches))


def test_fold_matches_the_constructors():
    """The harness's independent fold of a recipe equals what exactmaso's layer compiler makes."""
    for fam in cc.FAMILIES:
        for seed in range(3):
            case = cc.make_case(seed, fam)
            net = cc.build_net(case)
            assert cc.layers_of_net(net) == [([[list(p) for p in u] for u in A], [list(u) for u in B]) for A, B in case.layers], case.describe()


@pytest.mark.parametrize("seed", [41000862, 42006574, 43006151, 45005618])
def test_cases_the_long_run_found(seed):
    """Cases scripts/crosscheck.py failed on: an all-zero net verify() raised on (41000862);
    slopes below the float range that verify()'s float forward pass took for zero (42006574);
    a 2-D facet whose float ends were misordered, so the adjacency recovery took a shared
    segment for a touching point (43006151); a 2-D layer of three-piece units that are all
    zero after a ReLU layer, where the pooled-input selection indexed an empty matrix
    (45005618)."""
    case = cc.make_case(seed)
    mismatches, _ = cc.check_case(case, time_limit=30, case_timeout=60)
    assert not mismatches, case.describe() + "\n" + "\n".join(map(str, mismatches))
