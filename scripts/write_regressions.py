"""Write the regression fixtures of tests/regressions/ (expectations from the oracle only).

    python scripts/write_regressions.py            # all of them
    python scripts/write_regressions.py NAME ...   # some

Each fixture is a minimised failure of the cross-check (scripts/crosscheck.py, reduced with
scripts/minimise_case.py and then simplified by hand where that kept the failure); "found_by"
names the cross-check case it came from.
"""

from __future__ import annotations

import sys
import warnings
from fractions import Fraction
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT))

from minimise_case import write_fixture  # noqa: E402

F = Fraction
OUT = ROOT / "tests" / "regressions"
RUN = 20261201  # the seed of the long run that found them


def relu(W, b, out):
    """ReLU hidden layer(s) then an affine read-out, in MASO form (as em.mlp builds them)."""
    D = len(W[0])
    hidden = ([[[F(0)] * D, [F(v) for v in row]] for row in W], [[F(0), F(bi)] for bi in b])
    return [hidden, ([[[F(v) for v in row]] for row in out], [[F(0)] for _ in out])]


def maso(A, B):
    return ([[[F(v) for v in p] for p in u] for u in A], [[F(v) for v in u] for u in B])


ZERO_OUT = maso([[[0]]], [[0]])

FIXTURES = {
    "triple_tie_max3_1d": dict(
        what="max(-x, 0, x) on [-1, 1]: the three pieces tie at x = 0, piece 1 never wins; "
             "regions 0 and 2 share the point x = 0 and must be adjacent (any D; also 2-D/3-D prisms)",
        kind="edges_missing",
        layers=[maso([[[-1], [0], [1]]], [[0, 0, 0]]), maso([[[1]]], [[0]])],
        lo=[-1], hi=[1],
        found_by={"run_seed": RUN, "seed": 20261201000034, "family": "maso_ties"},
    ),
    "thin_corner_cut_3d": dict(
        what="relu(x + y + z - 3 + 2^-50) on [0, 1]^3 cuts a corner tetrahedron of edge 2^-50; "
             "its triangular face with the rest is an edge (fails for eps <= 2^-50 in D >= 3, not in 2-D)",
        kind="edges_missing",
        layers=relu([[1, 1, 1]], [-3 + F(1, 2**50)], [[1]]),
        lo=[0, 0, 0], hi=[1, 1, 1],
        found_by={"run_seed": RUN, "seed": 20261201000119, "family": "perturbed:concurrent"},
    ),
    "thin_corner_triangle_2d": dict(
        what="relu(x - 1 + 2^-55), relu(3x - 2y - 1) on [0, 1]^2: a triangle of size ~2^-55 at the "
             "corner (1, 1); its short side (length 1.5 * 2^-55) is an edge (fails for eps <= 2^-55)",
        kind="edges_missing",
        layers=relu([[1, 0], [3, -2]], [-1 + F(1, 2**55), -1], [[1, 1]]),
        lo=[0, 0], hi=[1, 1],
        found_by={"run_seed": RUN, "seed": 20261201025243, "family": "perturbed:deep_concurrent"},
    ),
    "thin_face_prism_3d": dict(
        what="three lines nearly concurrent at (-1/2, -1/8) (one shifted by 2^-50), lifted to 3-D by a "
             "zero column: the thin faces of the tiny triangular prism are edges (the 2-D net passes at 2^-50)",
        kind="edges_missing",
        layers=relu([[-1, 0, 0], [0, -2, 0], [-2, 2, 0]], [F(-1, 2) - F(1, 2**50), F(-1, 4), F(-3, 4)], [[1, 2, 3]]),
        lo=[-1, -1, 0], hi=[1, 1, 1],
        found_by={"run_seed": None, "seed": None, "family": "search: perturbed concurrent planes, interior point"},
    ),
    "thin_triangle_concurrent_2d": dict(
        what="the same three lines in 2-D with the shift 2^-60: the sides of the tiny triangle are edges",
        kind="edges_missing",
        layers=relu([[-1, 0], [0, -2], [-2, 2]], [F(-1, 2) - F(1, 2**60), F(-1, 4), F(-3, 4)], [[1, 2, 3]]),
        lo=[-1, -1], hi=[1, 1],
        found_by={"run_seed": None, "seed": None, "family": "search: perturbed concurrent planes, interior point"},
    ),
    "thin_wedge_box_edge_3d": dict(
        what="max(2 - 2z, x + (1 + 2^-59) z - 2) on [0, 1]^3: piece 1 wins on a wedge of width ~2^-59 along "
             "the box edge x = z = 1; the long thin face (1 x 2^-59) is an edge (fails for eps <= 2^-50)",
        kind="edges_missing",
        layers=[maso([[[0, 0, -2], [1, 0, 1 + F(1, 2**59)]]], [[2, -2]]), ZERO_OUT],
        lo=[0, 0, 0], hi=[1, 1, 1],
        found_by={"run_seed": RUN, "seed": 20261201014520, "family": "perturbed:maso_ties"},
    ),
    "overflow_mixed_magnitude_affine_1d": dict(
        what="the affine map x -> 1e150 x - 1e-150 on [0, 1] (two ordinary floats): one region; "
             "em.regions raises OverflowError (int too large to convert to float)",
        kind="exception:OverflowError",
        layers=[maso([[[F(1e150)]]], [[-F(1e-150)]])],
        lo=[0], hi=[1],
        found_by={"run_seed": RUN, "seed": 20261201000738, "family": "mixed"},
    ),
    "overflow_exact_weight_beyond_float_1d": dict(
        what="the affine map x -> 2^1100 x + 1/3 on [0, 1] (exact inputs beyond the float range): one "
             "region; em.regions raises OverflowError (integer division result too large for a float)",
        kind="exception:OverflowError",
        layers=[maso([[[F(2) ** 1100]]], [[F(1, 3)]])],
        lo=[0], hi=[1],
        found_by={"run_seed": RUN, "seed": 20261201012862, "family": "mixed"},
    ),
    "tiny_region_subnormal_product_1d": dict(
        what="z = -2e300 x, then max(0, 2^41 z + 1) on [0, 1]: the second unit is on for "
             "x < 2^-42 / 1e300 (~1.1e-313, a float subnormal); exactmaso reports 1 region, not 2 "
             "(verify() fails)",
        kind="count",
        layers=[maso([[[F(-2e300)]]], [[0]]), maso([[[0], [2**41]]], [[0, 1]]), ZERO_OUT],
        lo=[0], hi=[1],
        found_by={"run_seed": RUN, "seed": 20261201015824, "family": "scaled:corner"},
    ),
    "tiny_region_huge_product_1d": dict(
        what="z = 1 - 1e300 x, then max(0, -2^34 z) on [0, 1]: the unit switches at x = 1e-300 "
             "(exactly the float 1e300's reciprocal); exactmaso reports 1 region, not 2 (verify() fails)",
        kind="count",
        layers=[maso([[[F(-1e300)]]], [[1]]), maso([[[0], [-2**34]]], [[0, 0]]), ZERO_OUT],
        lo=[0], hi=[1],
        found_by={"run_seed": RUN, "seed": 20261201022677, "family": "scaled:maso_ties"},
    ),
    "graph_zero_division_tiny_slopes_3d": dict(
        what="max(y, 1e-300 x, 1e-300 - 1e-300 x) on [0, 1]^3: 3 regions, 3 edges; part.graph raises "
             "ZeroDivisionError (float division by zero)",
        kind="exception:ZeroDivisionError",
        layers=[maso([[[0, 1, 0], [F(1e-300), 0, 0], [-F(1e-300), 0, 0]]], [[0, 0, F(1e-300)]]), ZERO_OUT],
        lo=[0, 0, 0], hi=[1, 1, 1],
        found_by={"run_seed": RUN, "seed": 20261201013447, "family": "scaled:maso_ties"},
    ),
    "graph_overflow_huge_weights_3d": dict(
        what="a 3-piece layer with weights ~2^997 then a unit with slopes 1.75e300, -4.5e300 on "
             "[0,1]x[-1,1]^2: two regions get wrong vertices and volumes, and part.graph raises "
             "OverflowError (integer division result too large for a float)",
        kind="exception:OverflowError",
        layers=[
            maso([[[0, 0, 0], [0, 0, 0]], [[0, 0, 0], [0, -F(2) ** 997, -1]], [[0, 0, F(2) ** 996], [F(2e300), F(2) ** 997, -F(2) ** 996]]],
                 [[F(2) ** 999, 0], [0, F(2) ** 997], [F(2) ** 997, -F(2) ** 997]]),
            maso([[[0, 0, 0], [F(1.75e300), F(-4.5e300), 0]]], [[0, 0]]),
            ZERO_OUT,
        ],
        lo=[0, -1, -1], hi=[1, 1, 1],
        found_by={"run_seed": RUN, "seed": 20261201030709, "family": "scaled:dyadic_grid"},
    ),
    "region_assertion_huge_weights_4d": dict(
        what="weights ~2^801..2^804 and 1e242 in 4-D: exactmaso finds 6 regions with wrong codes "
             "(oracle: 7) and reading a region's data raises AssertionError (a vertex lies on fewer "
             "than D independent facets)",
        kind="exception:AssertionError",
        layers=[
            maso([[[F(2) ** 801, -F(2) ** 801, 0, -F(2) ** 801], [0, 0, 0, 0], [0, 0, 0, 0]],
                  [[0, 0, 0, 0], [0, 0, 0, -F(2) ** 801], [F(1e242), -F(2) ** 803, F(2) ** 803, -F(1e242)]]],
                 [[0, 0, 0], [0, 0, -F(2) ** 804]]),
            maso([[[0, 0], [F(2) ** 401, -F(2) ** 401]]], [[0, 0]]),
            ZERO_OUT,
        ],
        lo=[0, -1, -1, -1], hi=[1, 1, 1, 1],
        found_by={"run_seed": RUN, "seed": 20261201016702, "family": "scaled:int_grid"},
    ),
    "verify_single_region_channel_input": dict(
        what="max(x0, x1) with input_shape (1, 2) (MaxPool1d(2) over a 1-channel input) on "
             "[1,2]x[-1,0]: one region; verify() rejects the correct partition (it passes the one "
             "interior point as an (N, D) = (1, 2) batch, which equals input_shape, so net.code "
             "reads it as a single input)",
        kind="verify_failed",
        layers=[maso([[[1, 0], [0, 1]]], [[0, 0]]), maso([[[1]]], [[0]])],
        lo=[1, -1], hi=[2, 0],
        shape=[1, 2],
        found_by={"run_seed": RUN, "seed": 20261201000470, "family": "perturbed:maxpool_input"},
    ),
}


def main(argv=None) -> int:
    warnings.simplefilter("ignore")
    names = (argv if argv is not None else sys.argv[1:]) or list(FIXTURES)
    for name in names:
        spec = dict(FIXTURES[name])
        print(f"== {name}")
        write_fixture(OUT / f"{name}.json", spec.pop("what"), spec.pop("kind"), spec.pop("layers"),
                      [F(v) for v in spec.pop("lo")], [F(v) for v in spec.pop("hi")],
                      shape=spec.pop("shape", None), found_by=spec.pop("found_by"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
