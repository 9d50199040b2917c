"""Two moons: a small ReLU classifier seen as a hierarchical vector quantiser, exactly.

A [2, 16, 16, 2] ReLU network is trained with PyTorch (Adam, full batch, CPU) on two moons
generated with numpy (seeded; nothing is downloaded), converted exactly with
``em.from_torch`` and taken apart on a box around the data.  The data, the network's layers
and the training loop are those of ``examples/figures.py`` (imported from beside this
script: ``two_moons``, ``classifier``, ``fit``):

- ``layers.png``: the subdivision layer by layer (the cells of the first layer; every region
  with the first layer's cells outlined; the exact decision boundary over the data);
- ``power_diagram.png``: the first layer's cells as a power diagram, with their exact
  centroids (a cell is where ``||x - mu_w||^2 - rad_w`` is least);
- ``templates.png``: the class templates (rows of the region's ``A``) at a few inputs as
  arrows, and the matched-filter decomposition ``<A[c], x> + b[c]`` of their outputs as bars;
- ``vq_tree.png``: the data's cells at each level (their data means, the codebook) and the
  comparison with K-means on the same data;
- ``local_complexity.png``: at checkpoints during training, the exact number of regions
  meeting a small cross-polytope around training points and of the units cutting it, beside
  the published vertex estimate of the latter (``em.complexity.over_training``).

It prints a table of the checkpoints, the VQ tree's K-means comparison, and the memorisation
measures (template similarity and region sharing) on training and held-out data.

    python examples/two_moons_vq.py [--out DIR] [--quick]      # about 15-20 s on 2 busy cores
"""

from __future__ import annotations

import argparse
import os
import time

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

import exactmaso as em  # noqa: E402
from exactmaso.templates import class_templates, memorisation  # noqa: E402
from figures import classifier, fit, two_moons  # noqa: E402  (examples/figures.py, beside this script)

WIDTHS = [2, 16, 16, 2]
BOX = em.Box([-1.5, -1.0], [2.5, 1.5])  # dyadic corners: exactly these numbers
CLASS_COLORS = ("tab:blue", "tab:orange")


def train(X: np.ndarray, labels: np.ndarray, steps: int, checkpoints: list[int], seed: int):
    """Adam on the cross-entropy.  Returns the model and, per checkpoint, the loss, a copy of
    the weights (a state dict) and the exact network (``em.from_torch``)."""
    torch.manual_seed(seed)
    model = classifier(WIDTHS)
    history = []

    def record(step, model, Xt, yt) -> None:
        if step in checkpoints:
            with torch.no_grad():
                loss = torch.nn.functional.cross_entropy(model(Xt), yt).item()
            state = {k: v.detach().clone() for k, v in model.state_dict().items()}
            history.append({"step": step, "loss": loss, "state": state, "net": em.from_torch(model, input_shape=(2,))})

    fit(model, X, labels, steps, lr=1e-2, checkpoint=record)
    return model, history


def _floats(values) -> np.ndarray:
    arr = np.asarray(values, dtype=object)
    return np.array([float(v) for v in arr.flat]).reshape(arr.shape)


def _outline(ax, vertices, **style) -> None:
    """Closed outline of a convex polygon given by its vertices in any order."""
    V = _floats(vertices)
    c = V.mean(axis=0)
    V = V[np.argsort(np.arctan2(V[:, 1] - c[1], V[:, 0] - c[0]))]
    ax.fill(V[:, 0], V[:, 1], **style)


def _data(ax, X, labels, size=6) -> None:
    for c in (0, 1):
        ax.scatter(*X[labels == c].T, s=size, color=CLASS_COLORS[c], edgecolors="white", linewidths=0.2, zorder=3)


def _decision_boundary(ax, part) -> None:
    for piece in part.decision_boundary():
        V = _floats(piece.vertices)
        ax.plot(V[:, 0], V[:, 1], color="red", linewidth=1.6, zorder=4)


def _frame(ax, title: str) -> None:
    lo, hi = _floats(BOX.lo), _floats(BOX.hi)
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    ax.set_aspect("equal")
    ax.set_title(title)


def figure_layers(net, part, X, labels, path) -> int:
    """The cells of layer 0, every region with those cells outlined, the decision boundary."""
    first = em.regions(em.Network.from_masos(net.masos[:1]), BOX)
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.6), layout="constrained")
    em.plot.partition(first, ax=axes[0], color_by="code", linewidth=0.5)
    _frame(axes[0], f"layer 0: {len(first)} cells")
    em.plot.partition(part, ax=axes[1], color_by="layer", cmap="tab20", linewidth=0.2)
    for r in first:
        _outline(axes[1], r.vertices(), facecolor="none", edgecolor="black", linewidth=1.0)
    _frame(axes[1], f"layers 0-1: {len(part)} regions (layer 0 outlined)")
    em.plot.partition(part, ax=axes[2], color_by="output", output=1, cmap="coolwarm", linewidth=0.15)
    _decision_boundary(axes[2], part)
    _data(axes[2], X, labels)
    _frame(axes[2], "output 1 by region, exact decision boundary")
    fig.savefig(path)
    plt.close(fig)
    return len(first)


def _same_power_cells(part, cells) -> bool:
    """Whether every region's ``Region.power_cell(0)`` is exactly the centroid and radius of
    the power cell of its layer-0 code."""
    by_code = {c.code: c for c in cells}
    for r in part:
        centroid, radius = r.power_cell(0)
        cell = by_code[r.code[0]]
        if centroid.tolist() != cell.centroid.tolist() or radius != cell.radius:
            return False
    return True


def figure_power_diagram(cells, X, labels, path) -> None:
    """Layer 0's power cells in the box with their exact centroids mu_w (often outside it)."""
    fig, (ax, wide) = plt.subplots(1, 2, figsize=(12, 5), layout="constrained")
    mus = np.array([_floats(c.centroid) for c in cells])
    for c, mu in zip(cells, mus):
        color = em.export.code_color(c.code)
        for a in (ax, wide):
            _outline(a, c.polytope.vertices(), facecolor=color, edgecolor="black", linewidth=0.4)
        V = _floats(c.polytope.vertices()).mean(axis=0)
        wide.plot([V[0], mu[0]], [V[1], mu[1]], color="0.4", linewidth=0.4)
        wide.plot(*mu, "k.", markersize=4)
    inside = (mus >= _floats(BOX.lo)).all(axis=1) & (mus <= _floats(BOX.hi)).all(axis=1)
    ax.scatter(*mus[inside].T, marker="x", color="black", s=18, zorder=4, label="centroid $\\mu_w$ in the box")
    _data(ax, X, labels, size=3)
    _frame(ax, f"layer 0: {len(cells)} power cells")
    ax.legend(loc="lower left", fontsize=8)
    lo, hi = mus.min(axis=0), mus.max(axis=0)
    wide.add_patch(plt.Rectangle(_floats(BOX.lo), *(_floats(BOX.hi) - _floats(BOX.lo)), fill=False, linestyle="--"))
    wide.set_xlim(min(lo[0], -1.5) - 0.5, max(hi[0], 2.5) + 0.5)
    wide.set_ylim(min(lo[1], -1.0) - 0.5, max(hi[1], 1.5) + 0.5)
    wide.set_aspect("equal")
    wide.set_title(f"all {len(cells)} centroids, each joined to its cell (box dashed)")
    fig.savefig(path)
    plt.close(fig)


def figure_templates(part, ct, path) -> None:
    """Arrows: each class's template at a few inputs; bars: <A[c], x>, b[c] and their sum."""
    fig, (ax, bars) = plt.subplots(1, 2, figsize=(13, 5), layout="constrained", width_ratios=[1.2, 1])
    em.plot.partition(part, ax=ax, color_by="output", output=1, cmap="coolwarm", linewidth=0.1)
    _decision_boundary(ax, part)
    P = _floats(ct.inputs)
    T = _floats(ct.templates)  # (n, 2 classes, 2)
    scale = 0.35 / np.abs(T).max()
    for i, p in enumerate(P):
        ax.plot(*p, "ko", markersize=4, zorder=5)
        ax.annotate(str(i), p, textcoords="offset points", xytext=(4, 4), fontsize=9, zorder=6)
        for c in (0, 1):
            ax.arrow(*p, *(scale * T[i, c]), width=0.012, color=CLASS_COLORS[c], zorder=5, length_includes_head=True)
    _frame(ax, "class templates $A[c]$ at the inputs (blue: class 0, orange: class 1)")
    corr, off, out = _floats(ct.correlations), _floats(ct.offsets), _floats(ct.outputs)
    idx = np.arange(len(P))
    for c in (0, 1):
        shift = (c - 0.5) * 0.4
        bars.bar(idx + shift, corr[:, c], 0.38, color=CLASS_COLORS[c], label=f"$\\langle A[{c}], x\\rangle$")
        bars.bar(idx + shift, off[:, c], 0.38, bottom=np.where(off[:, c] * corr[:, c] > 0, corr[:, c], 0),
                 color=CLASS_COLORS[c], alpha=0.4, hatch="//", label=f"$b[{c}]$")
        bars.plot(idx + shift, out[:, c], "k_", markersize=14)
    bars.axhline(0, color="black", linewidth=0.6)
    bars.set_xticks(idx, [f"{i}\nclass {ct.predicted[i]}\ncos {ct.similarity[i]:.2f}" for i in idx])
    bars.set_title("matched filters: $f_c(x) = \\langle A[c], x\\rangle + b[c]$ (black: $f_c$, exact)")
    bars.legend(fontsize=8, ncols=2)
    fig.savefig(path)
    plt.close(fig)


def _cutting_levels(net, G) -> list[int]:
    """Levels made by a layer with more than one piece (an affine last layer cuts nothing)."""
    return [l for l in sorted(G.graph["kmeans"]) if not net.masos[l - 1].is_affine]


def figure_vq_tree(net, G, X, labels, path) -> None:
    """The codebook (data means of the occupied cells) per level, and network vs K-means."""
    fig, (ax, cmp) = plt.subplots(1, 2, figsize=(13, 5), layout="constrained")
    _data(ax, X, labels, size=3)
    for level, size, marker in ((1, 60, "s"), (2, 14, "o")):
        nodes = [n for n in G if n[0] == level]
        C = np.array([G.nodes[n]["data_centroid"] for n in nodes])
        purity = [float(G.nodes[n]["purity"]) for n in nodes]
        sc = ax.scatter(*C.T, s=size, c=purity, cmap="viridis", vmin=0.5, vmax=1, marker=marker,
                        edgecolors="black", linewidths=0.4, zorder=4, label=f"level {level}: {len(nodes)} cells")
        if level == 2:
            for n in nodes:
                parent = next(iter(G.predecessors(n)))
                ax.plot(*np.array([G.nodes[parent]["data_centroid"], G.nodes[n]["data_centroid"]]).T,
                        color="0.3", linewidth=0.4, zorder=3)
    fig.colorbar(sc, ax=ax, label="label purity of the cell")
    _frame(ax, "VQ codebook: data means of the occupied cells")
    ax.legend(loc="lower left", fontsize=8)
    km = G.graph["kmeans"]
    levels = _cutting_levels(net, G)
    idx = np.arange(len(levels))
    cmp.bar(idx - 0.2, [km[l]["network_distortion"] for l in levels], 0.4, label="network cells")
    cmp.bar(idx + 0.2, [km[l]["kmeans_distortion"] for l in levels], 0.4, label="K-means, same k")
    for i, l in enumerate(levels):
        cmp.annotate(f"k={km[l]['k']}\nARI {float(km[l]['ari']):.2f}", (i, km[l]["network_distortion"]),
                     textcoords="offset points", xytext=(0, 4), ha="center", fontsize=8)
    cmp.set_xticks(idx, [f"level {l}" for l in levels])
    cmp.set_ylim(0, 1.2 * max(km[l]["network_distortion"] for l in levels))
    cmp.set_ylabel("mean squared distance to the cell mean")
    cmp.set_title("network VQ vs K-means on the data")
    cmp.legend(fontsize=8)
    fig.savefig(path)
    plt.close(fig)


def figure_complexity(lc_history, path) -> None:
    """Mean exact counts and the approximation per checkpoint; per sample at the last one."""
    fig, (ax, per) = plt.subplots(1, 2, figsize=(12, 4.4), layout="constrained")
    em.complexity.plot_over_training(lc_history, ax=ax)
    ax.set_xlabel("Adam steps")
    last = lc_history.results[-1]
    neurons, approx = np.asarray(last.neurons, dtype=float), np.asarray(last.approx, dtype=float)
    regions = np.asarray(last.regions, dtype=float)
    jitter = np.random.default_rng(0).uniform(-0.12, 0.12, size=(2, len(neurons)))
    sc = per.scatter(neurons + jitter[0], approx + jitter[1], c=regions, cmap="viridis", s=16)
    fig.colorbar(sc, ax=per, label="exact regions")
    top = max(neurons.max(), approx.max()) + 1
    per.plot([0, top], [0, top], color="0.5", linewidth=0.6)
    per.set_xlabel("exact: units whose piece varies on the neighbourhood")
    per.set_ylabel("approximation: ... over its vertices")
    per.set_title(f"per sample at step {lc_history.steps[-1]} (jittered)")
    fig.savefig(path)
    plt.close(fig)


def main(out: str, quick: bool) -> None:
    start = time.perf_counter()
    torch.set_num_threads(1)
    plt.rcParams["savefig.dpi"] = 50 if quick else 110
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(0)
    n = 80 if quick else 300
    X, labels = two_moons(n, 0.1, rng)
    X_test, labels_test = two_moons(n, 0.1, rng)
    steps = 40 if quick else 400
    checkpoints = [0, 20, 40] if quick else [0, 25, 50, 100, 200, 400]
    model, history = train(X, labels, steps, checkpoints, seed=0)
    for h in history:
        h["accuracy"] = float(np.mean(class_templates(h["net"], X).predicted == labels))
        h["regions"] = em.count_regions(h["net"], BOX)
    lc_points = X[: 8 if quick else 40]
    radius = 0.1
    lc_history = em.complexity.over_training(model, [(h["step"], h["state"]) for h in history], lc_points, radius,
                                             "cross", input_shape=(2,), seed=0)

    net = history[-1]["net"]
    part = em.regions(net, BOX)
    written = []

    def path(name: str) -> str:
        written.append(os.path.join(out, name))
        return written[-1]

    first_cells = figure_layers(net, part, X, labels, path("layers.png"))
    cells = em.power_diagram(net, 0, domain=BOX)
    agree = _same_power_cells(part, cells)
    figure_power_diagram(cells, X, labels, path("power_diagram.png"))
    picks = np.concatenate([np.flatnonzero(labels == 0)[:3], np.flatnonzero(labels == 1)[:3]])
    ct = class_templates(net, X[picks])
    ct.verify()
    figure_templates(part, ct, path("templates.png"))
    G = em.vq.tree(net, X, labels.tolist())
    figure_vq_tree(net, G, X, labels, path("vq_tree.png"))
    figure_complexity(lc_history, path("local_complexity.png"))
    mem = memorisation(net, X, X_test, labels, labels_test)

    print(net.summary())
    print(f"\nbox {[float(v) for v in BOX.lo]} .. {[float(v) for v in BOX.hi]}; local complexity: "
          f"{len(lc_points)} training points, cross of radius {radius}")
    print(f"{'step':>5} {'loss':>8} {'train acc':>9} {'regions':>8} {'LC regions':>11} {'LC neurons':>11} "
          f"{'LC approx':>10}")
    for h, lc_regions, lc_neurons, lc_approx in zip(history, lc_history.mean_regions, lc_history.mean_neurons,
                                                    lc_history.mean_approx):
        print(f"{h['step']:>5} {h['loss']:>8.4f} {h['accuracy']:>9.3f} {h['regions']:>8} "
              f"{lc_regions:>11.2f} {lc_neurons:>11.2f} {lc_approx:>10.2f}")
    print("(regions: box; LC: means over the neighbourhoods, regions and neurons exact, approx the published "
          "vertex estimate of neurons)")
    print(f"\nfinal network: {len(part)} regions in the box, {first_cells} cells of layer 0, "
          f"{len(cells)} power cells (centroids equal Region.power_cell(0): {'yes' if agree else 'NO'})")
    print(f"\n{'level':>5} {'cells':>6} {'ARI':>6} {'purity net':>11} {'purity km':>10} {'distortion net':>15} {'km':>8}")
    for level in _cutting_levels(net, G):
        r = G.graph["kmeans"][level]
        print(f"{level:>5} {r['k']:>6} {float(r['ari']):>6.3f} {float(r['network_purity']):>11.3f} "
              f"{float(r['kmeans_purity']):>10.3f} {r['network_distortion']:>15.4f} {r['kmeans_distortion']:>8.4f}")
    print(f"\nmemorisation ({len(X)} training and {len(X_test)} held-out samples):")
    print(mem)
    print(f"\nwrote {', '.join(written)} in {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="two_moons_out", help="folder for the figures (default ./two_moons_out)")
    parser.add_argument("--quick", action="store_true", help="fewer samples, steps and checkpoints (a smoke test)")
    args = parser.parse_args()
    main(args.out, args.quick)
