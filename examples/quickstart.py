"""A five-minute tour of exactmaso: exact forward pass, affine map, templates, regions.

    python examples/quickstart.py        # writes quickstart_partition.png
"""

from fractions import Fraction

import matplotlib

matplotlib.use("Agg")

import exactmaso as em  # noqa: E402

# A 2-D ReLU MLP; weights (out, in) like torch, the last layer affine.
net = em.mlp(
    [[[1, 1], [1, -1], [Fraction(1, 2), 2]], [[1, -1, 1]]],
    [[0, Fraction(1, 4), -1], [0]],
)
x = [Fraction(1, 3), 0.1]  # a float is its exact binary value: 0.1 = 3602879701896397/2**55
print(net.summary())
print("net(x)        =", net(x))
print("code          =", net.code(x))

aff = net.affine_map(x)  # on the region of x, net = A x + b exactly
print("A, b          =", aff.A.tolist(), aff.b.tolist())
print("templates     =", em.templates(net, x).tolist())
corr, offset = em.matched_filter(net, x)
print("<A, x> + b    =", (corr + offset).tolist(), "== net(x):", (corr + offset == net(x)).all())
print("symbolic      =", net.symbolic()[0])

try:
    import torch

    module = torch.nn.Sequential(torch.nn.Linear(2, 4), torch.nn.ReLU(), torch.nn.Linear(4, 1)).eval()
    tnet = em.from_torch(module, input_shape=(2,))
    print("from_torch    =", tnet, "net(0) =", tnet([0, 0]).tolist())
except ImportError:
    print("from_torch    : torch is not installed (pip install torch==2.13.0)")

part = em.regions(net, em.Box([-1, -1], [1, 1]))
part.verify()  # every certificate re-checked in plain Fractions
print(f"{len(part)} regions; volumes sum to {sum(r.volume() for r in part)}")
for r in list(part)[:3]:
    print("  code", r.code, "volume", r.volume(), "vertices", [tuple(map(str, v)) for v in r.vertices()])

ax = em.plot.partition(part, color_by="output")
ax.figure.savefig("quickstart_partition.png", dpi=120)
print("wrote quickstart_partition.png")
