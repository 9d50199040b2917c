"""The partition of the bundled default network on [-1, 1]^2: regions, adjacency, hierarchy.

Saves partition_figure.png (three panels) and partition_figure.tex (TikZ).

    python examples/partition_figure.py
"""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

import exactmaso as em  # noqa: E402
from exactmaso.default_network import default_network  # noqa: E402

net = default_network()
part = em.regions(net, em.Box([-1, -1], [1, 1]))
part.verify()

fig, (left, middle, right) = plt.subplots(1, 3, figsize=(18, 6), layout="constrained")
em.plot.partition(part, ax=left, color_by="output")
em.plot.partition(part, ax=middle, color_by="code")
em.plot.graph(part, ax=middle)
em.plot.hierarchy(part, ax=right)
fig.savefig("partition_figure.png", dpi=120, bbox_inches="tight")
em.export.write_tikz(part, "partition_figure.tex", standalone=True)
print(f"{len(part)} regions, {part.graph.number_of_edges()} adjacencies")
print("wrote partition_figure.png and partition_figure.tex")
