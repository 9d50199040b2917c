"""Every figure kind of ``exactmaso.plot``, for a small two-moons classifier, as PNG files.

A [2, 12, 12, 2] ReLU network is trained with PyTorch (Adam, full batch, CPU, a few hundred
steps) on two moons generated here (numpy, seeded), converted exactly with ``em.from_torch``
and drawn on a box around the data:

- ``partition_class.png``: regions split into class pieces (no colour crosses the exact
  decision boundary), the boundary, the data;
- ``partition_output.png``: the exact mean of the class-1 logit per region and the exact
  l1 norm of its gradient, each with a colour bar;
- ``hierarchy.png``: one panel per layer that cuts, each layer's new boundaries in its colour;
- ``graph.png``: the region adjacency graph over the regions coloured by code;
- ``surface.png``: the graph of the class-1 logit, exact facets in 3-D, coloured by class;
- ``partition_1d.png``: the network on the segment through the two moons' centres (a 1-D
  restriction): the logit's graph, its breakpoints, the class pieces and the boundary point;
- ``templates.png``: the class templates of a small image classifier (1 x 8 x 8 inputs: bars
  and rings) at one input of each class, in the input's shape.

    python examples/figures.py [--out DIR] [--quick]     # default DIR: docs/images

``two_moons``, ``classifier`` and ``fit`` are also what ``examples/two_moons_vq.py`` trains with.
"""

from __future__ import annotations

import argparse
import os
import time
from fractions import Fraction

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

import exactmaso as em  # noqa: E402
from exactmaso import boundary  # noqa: E402

BOX = em.Box([-1.5, -1.0], [2.5, 1.5])  # dyadic corners: exactly these numbers
HERE = os.path.dirname(os.path.abspath(__file__))


def two_moons(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points on two interleaved half circles with Gaussian noise, and their labels."""
    labels = rng.integers(0, 2, size=n)
    t = rng.uniform(0, np.pi, size=n)
    x = np.where(labels == 0, np.cos(t), 1 - np.cos(t))
    y = np.where(labels == 0, np.sin(t), 0.5 - np.sin(t))
    return np.column_stack([x, y]) + noise * rng.normal(size=(n, 2)), labels


def classifier(widths: list[int]) -> torch.nn.Sequential:
    """A ReLU network of these widths: Linear layers with a ReLU between consecutive ones."""
    layers: list[torch.nn.Module] = []
    for i, (n_in, n_out) in enumerate(zip(widths[:-1], widths[1:])):
        layers.append(torch.nn.Linear(n_in, n_out))
        if i < len(widths) - 2:
            layers.append(torch.nn.ReLU())
    return torch.nn.Sequential(*layers)


def fit(model: torch.nn.Module, X: np.ndarray, labels: np.ndarray, steps: int, lr: float, checkpoint=None) -> None:
    """``steps`` steps of Adam (full batch, learning rate ``lr``) on the cross-entropy;
    ``checkpoint(step, model, Xt, yt)``, if given, is called before each step and after the last
    (``Xt``, ``yt``: the data as tensors)."""
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    Xt, yt = torch.tensor(X, dtype=torch.float32), torch.tensor(labels)
    for step in range(steps):
        if checkpoint is not None:
            checkpoint(step, model, Xt, yt)
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(Xt), yt).backward()
        opt.step()
    if checkpoint is not None:
        checkpoint(steps, model, Xt, yt)


def train(X: np.ndarray, labels: np.ndarray, widths: list[int], steps: int, seed: int) -> em.Network:
    """Adam on the cross-entropy; the exact network of the trained model."""
    torch.manual_seed(seed)
    torch.set_num_threads(1)  # a tiny model: threads only contend
    model = classifier(widths)
    fit(model, X, labels, steps, lr=2e-2)
    return em.from_torch(model, input_shape=(2,))


def shapes(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``n`` noisy 8 x 8 images of three classes: a vertical bar, a horizontal bar, a ring."""
    yy, xx = np.mgrid[:8, :8]
    protos = np.stack([(np.abs(xx - 3.5) < 1).astype(float), (np.abs(yy - 3.5) < 1).astype(float),
                       (np.abs(np.hypot(yy - 3.5, xx - 3.5) - 2.5) < 0.8).astype(float)])
    labels = rng.integers(0, 3, size=n)
    X = protos[labels] + 0.3 * rng.normal(size=(n, 8, 8))
    return X.reshape(n, 1, 8, 8), labels


def image_net(rng: np.random.Generator, steps: int) -> tuple[em.Network, np.ndarray]:
    """A 1 x 8 x 8 image classifier (Flatten, Linear 64 -> 6, ReLU, Linear 6 -> 3) trained on
    :func:`shapes`; the exact network and one test image of each class."""
    X, labels = shapes(300, rng)
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 6), torch.nn.ReLU(), torch.nn.Linear(6, 3))
    fit(model, X, labels, steps, lr=2e-2)
    test, test_labels = shapes(30, rng)
    picks = [int(np.flatnonzero(test_labels == c)[0]) for c in range(3)]
    return em.from_torch(model, input_shape=(1, 8, 8)), test[picks]


def save(fig, out: str, name: str, written: list[str]) -> None:
    path = os.path.join(out, name)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    written.append(path)


def main(argv: list[str] | None = None) -> list[str]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.join(HERE, "..", "docs", "images"), help="folder of the PNG files")
    parser.add_argument("--quick", action="store_true", help="a smaller network and fewer training steps")
    args = parser.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    start = time.perf_counter()
    rng = np.random.default_rng(0)
    X, labels = two_moons(160 if args.quick else 300, 0.12, rng)
    widths = [2, 8, 8, 2] if args.quick else [2, 12, 12, 2]
    net = train(X, labels, widths, 150 if args.quick else 400, seed=0)
    part = em.regions(net, BOX)
    split = boundary.class_split(part)
    written: list[str] = []

    fig, ax = plt.subplots(figsize=(6.4, 4.6), layout="constrained")
    em.plot.partition(part, ax, color_by="class", boundary=True, data=X, labels=labels, linewidth=0.15)
    ax.set_title(f"{len(part)} regions, {len(split.pieces)} class pieces, {len(split.boundary)} boundary pieces")
    save(fig, args.out, "partition_class.png", written)

    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.4), layout="constrained")
    em.plot.partition(part, left, color_by="output", output=1, cmap="coolwarm", boundary=True, linewidth=0.1)
    em.plot.partition(part, right, color_by="norm", output=1, cmap="magma", linewidth=0.1)
    save(fig, args.out, "partition_output.png", written)

    axes = em.plot.hierarchy(part)
    save(axes[0].figure, args.out, "hierarchy.png", written)

    fig, ax = plt.subplots(figsize=(6.4, 4.6), layout="constrained")
    em.plot.partition(part, ax, color_by="code", linewidth=0.2)
    em.plot.graph(part, ax, node_size=6)
    save(fig, args.out, "graph.png", written)

    fig = plt.figure(figsize=(7, 5.5), layout="constrained")
    ax = fig.add_subplot(projection="3d")
    em.plot.surface(part, ax, output=1, color_by="class", linewidth=0.1)
    ax.view_init(elev=28, azim=-58)
    save(fig, args.out, "surface.png", written)

    # the segment from the centre of one moon to the other's: x(t) = c0 + t (c1 - c0), t in [0, 1]
    c0, c1 = np.array([0.0, 0.5]), np.array([1.0, 0.0])  # dyadic: exactly these points
    line = net.restrict((c1 - c0).reshape(2, 1), c0)
    part1 = em.regions(line, em.Box([0], [1]))
    fig, ax = plt.subplots(figsize=(7, 3.4), layout="constrained")
    em.plot.partition(part1, ax, color_by="class", output=1, boundary=True)
    ax.set_xlabel("t on the segment from (0, 1/2) to (1, 0)")
    ax.set_ylabel("logit of class 1")
    save(fig, args.out, "partition_1d.png", written)

    img, inputs = image_net(rng, 60 if args.quick else 150)
    ct = em.class_templates(img, inputs.reshape(3, -1))
    axes = em.plot.templates(ct)
    axes[0, 0].figure.suptitle("class templates (rows of A) at a vertical bar,\na horizontal bar and a ring (*: predicted)")
    save(axes[0, 0].figure, args.out, "templates.png", written)

    seconds = time.perf_counter() - start
    zero = [float(p.vertices[0][0]) for p in boundary.decision_boundary(part1)]
    print(f"{widths} network: {len(part)} regions, {len(split.pieces)} class pieces, "
          f"{len(split.boundary)} boundary pieces on [-3/2, 5/2] x [-1, 3/2]")
    print(f"on the segment: {len(part1)} pieces, class changes at t = {', '.join(f'{t:.6g}' for t in zero)}")
    area = {c: sum((p.volume() for p in split.pieces if p.label == c), Fraction(0)) for c in (0, 1)}
    print("exact area of each class: " + ", ".join(f"class {c}: {float(a):.6g}" for c, a in area.items()))
    print(f"wrote {len(written)} figures to {os.path.normpath(args.out)} in {seconds:.1f} s")
    return written


if __name__ == "__main__":
    main()
