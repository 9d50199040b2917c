"""Region.power_cell: each layer's code is the power-diagram (VQ) assignment.

Inside the cell of the first l layers the input of layer l is z = M x + c; layer l picks the
code w maximising sum_k (A[k, w_k] . z + B[k, w_k]).  With mu_w = M^T sum_k A[k, w_k] and
rad_w = ||mu_w||^2 + 2 (<sum_k A[k, w_k], c> + sum_k B[k, w_k]) this is the code of least
power distance ||x - mu_w||^2 - rad_w.  The test recomputes M, c from a truncated network and
checks, over every code of the layer, that the region's code wins (exactly).
"""

from fractions import Fraction as F
from itertools import product

import numpy as np
import pytest

import exactmaso as em


def power_distance(x, mu, rad):
    d = [xi - mi for xi, mi in zip(x, mu)]
    return sum(v * v for v in d) - rad


def mu_rad(m, w, M, c):
    a = [sum((m.A[k, w[k], j] for k in range(m.num_units)), F(0)) for j in range(m.input_dim)]
    b = sum((m.B[k, w[k]] for k in range(m.num_units)), F(0))
    mu = [sum(M[i, j] * a[i] for i in range(len(a))) for j in range(M.shape[1])]
    rad = sum(v * v for v in mu) + 2 * (sum(ai * ci for ai, ci in zip(a, c)) + b)
    return mu, rad


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_power_cell_is_the_vq_assignment(seed):
    rng = np.random.default_rng(seed)
    widths = [2, 4, 3, 1]
    W = [rng.integers(-3, 4, size=(o, i)) for i, o in zip(widths[:-1], widths[1:])]
    b = [rng.integers(-2, 3, size=o) for o in widths[1:]]
    net = em.mlp(W, b)
    part = em.regions(net, em.Box([-2, -2], [2, 2]))
    for reg in part:
        x = list(reg.point)
        for l in range(len(net.masos) - 1):
            m = net.masos[l]
            if l == 0:
                M = np.array([[F(1), F(0)], [F(0), F(1)]], dtype=object)
                c = [F(0), F(0)]
            else:
                aff = em.Network.from_masos(net.masos[:l]).affine_map(code=reg.code[:l])
                M, c = aff.A, list(aff.b)
            mu, rad = reg.power_cell(l)
            want_mu, want_rad = mu_rad(m, reg.code[l], M, c)
            assert list(mu) == want_mu and rad == want_rad
            best = power_distance(x, mu, rad)
            for w in product(range(m.num_pieces), repeat=m.num_units):
                if w == reg.code[l]:
                    continue
                other = power_distance(x, *mu_rad(m, w, M, c))
                assert best <= other
                # a strictly better or equal code must tie piece by piece at x
                if other == best:
                    z = [sum(M[i, j] * x[j] for j in range(2)) + c[i] for i in range(M.shape[0])]
                    vals = lambda k, r: sum(m.A[k, r, i] * z[i] for i in range(len(z))) + m.B[k, r]  # noqa: E731
                    assert all(vals(k, w[k]) == vals(k, reg.code[l][k]) for k in range(m.num_units))


def test_power_cell_rejects_bad_layer():
    net = em.mlp([[[1, 0]], [[1]]], [[0], [0]])
    part = em.regions(net, em.Box([-1, -1], [1, 1]))
    with pytest.raises(em.ShapeError):
        part[0].power_cell(5)
