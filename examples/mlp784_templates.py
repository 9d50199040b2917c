"""Templates of a 784-input MLP as 28x28 images, and its local complexity in a few directions.

A [784, 64, 64, 10] ReLU network is trained with PyTorch for a few Adam steps on a synthetic
28x28 data set generated here (ten classes of blurred strokes at ten angles, shifted and
noisy; numpy, seeded; nothing is downloaded) and converted exactly with ``em.from_torch``.

- ``templates.png``: for a few test images, the image and the ten class templates (the rows
  of the exact ``A`` of its region, ``f(x) = A x + b``), the predicted class framed, with the
  cosine between the image and that template (a float computed from exact values);
- a table of the matched filters ``<A[c], x> + b[c]`` of the first image (exact, == f(x));
- ``local_complexity.png`` and a table: the exact local complexity around test images when
  the neighbourhood is a box spanned by P = 2 .. 5 random orthonormal directions (regions it
  meets, distinct affine pieces, units cutting it), beside the published approximation;
- the memorisation table (template similarity, region sharing) on training and test images.

    python examples/mlp784_templates.py [--out DIR] [--quick]  # about 20-30 s on 2 busy cores
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

WIDTHS = [784, 64, 64, 10]
SIDE = 28


def strokes(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``n`` 28x28 images in [0, 1] (float32, flattened) and labels: class ``c`` is a blurred
    stroke through the centre at angle ``c * pi / 10``, shifted by up to 3 pixels, plus noise."""
    labels = rng.integers(0, 10, size=n)
    yy, xx = np.mgrid[0:SIDE, 0:SIDE].astype(np.float64) - (SIDE - 1) / 2
    images = np.empty((n, SIDE * SIDE), dtype=np.float32)
    for i, c in enumerate(labels):
        angle = c * np.pi / 10 + rng.normal(scale=0.08)
        dx, dy = rng.uniform(-3, 3, size=2)
        along = (xx - dx) * np.cos(angle) + (yy - dy) * np.sin(angle)
        across = -(xx - dx) * np.sin(angle) + (yy - dy) * np.cos(angle)
        img = np.exp(-across**2 / 3.0) * (np.abs(along) < 9)
        img = np.clip(img + 0.1 * rng.normal(size=img.shape), 0, 1)
        images[i] = img.reshape(-1)
    return images, labels


def train(X: np.ndarray, labels: np.ndarray, steps: int, seed: int) -> tuple[torch.nn.Module, float]:
    torch.manual_seed(seed)
    model = torch.nn.Sequential(
        torch.nn.Linear(784, 64), torch.nn.ReLU(), torch.nn.Linear(64, 64), torch.nn.ReLU(), torch.nn.Linear(64, 10)
    )
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    Xt, yt = torch.tensor(X), torch.tensor(labels)
    for _ in range(steps):
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(Xt), yt)
        loss.backward()
        opt.step()
    return model, loss.item()


def _floats(values) -> np.ndarray:
    arr = np.asarray(values, dtype=object)
    return np.array([float(v) for v in arr.flat]).reshape(arr.shape)


def figure_templates(ct, labels, path: str) -> None:
    """One row per image: the image, then its ten class templates (shared colour scale per row)."""
    n = ct.num_samples
    fig, axes = plt.subplots(n, 11, figsize=(15, 1.55 * n + 0.4), layout="constrained", squeeze=False)
    T = _floats(ct.templates)  # (n, 10, 784)
    for i in range(n):
        axes[i, 0].imshow(_floats(ct.inputs[i]).reshape(SIDE, SIDE), cmap="gray")
        axes[i, 0].set_title(f"input (label {labels[i]})", fontsize=8)
        top = np.abs(T[i]).max()
        for c in range(10):
            ax = axes[i, c + 1]
            ax.imshow(T[i, c].reshape(SIDE, SIDE), cmap="RdBu_r", vmin=-top, vmax=top)
            if c == ct.predicted[i]:
                ax.set_title(f"class {c}: predicted\ncos {ct.similarity[i]:.3f}", fontsize=8, color="darkred")
                for side in ax.spines.values():
                    side.set_edgecolor("darkred")
                    side.set_linewidth(2.5)
            else:
                ax.set_title(f"class {c}", fontsize=8)
        for ax in axes[i]:
            ax.set_xticks([])
            ax.set_yticks([])
    fig.suptitle("class templates A[c] of each input's region (exact; red positive, blue negative)")
    fig.savefig(path)
    plt.close(fig)


def figure_complexity(rows, path: str) -> None:
    fig, ax = plt.subplots(figsize=(6, 4), layout="constrained")
    P = [r["P"] for r in rows]
    ax.plot(P, [r["mean_regions"] for r in rows], "o-", label="regions (exact)")
    ax.plot(P, [r["mean_neurons"] for r in rows], "s-", label="neurons cutting it (exact)")
    ax.plot(P, [r["mean_approx"] for r in rows], "^--", label="approx: vertex estimate (published)")
    ax.set_xticks(P)
    ax.set_xlabel("directions P")
    ax.set_ylabel("mean over the test images")
    ax.set_title("local complexity around test images (box neighbourhoods)")
    ax.legend()
    fig.savefig(path)
    plt.close(fig)


def main(out: str, quick: bool) -> None:
    start = time.perf_counter()
    torch.set_num_threads(1)
    plt.rcParams["savefig.dpi"] = 50 if quick else 100
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(0)
    X, labels = strokes(200 if quick else 1000, rng)
    X_test, labels_test = strokes(100 if quick else 200, rng)
    model, loss = train(X, labels, 15 if quick else 60, seed=0)
    net = em.from_torch(model, input_shape=(784,))
    with torch.no_grad():
        acc = float((model(torch.tensor(X_test)).argmax(1).numpy() == labels_test).mean())
    print(net.summary())
    print(f"training loss {loss:.3f}, float test accuracy {acc:.3f}\n")

    shown = 2 if quick else 4
    ct = class_templates(net, X_test[:shown])
    figure_templates(ct, labels_test[:shown], os.path.join(out, "templates.png"))
    y = net(X_test[0])
    print(f"matched filters of test image 0 (label {labels_test[0]}, predicted {ct.predicted[0]}, "
          f"cosine with its template {ct.similarity[0]:.4f}):")
    print(f"{'class':>5} {'<A[c], x>':>12} {'b[c]':>10} {'f_c(x)':>10} {'== net(x)':>10}")
    for c in range(10):
        exact = ct.correlations[0, c] + ct.offsets[0, c] == y[c]
        print(f"{c:>5} {float(ct.correlations[0, c]):>12.4f} {float(ct.offsets[0, c]):>10.4f} "
              f"{float(ct.outputs[0, c]):>10.4f} {'yes' if exact else 'NO':>10}")

    radius = 1
    points = X_test[: 3 if quick else 10]
    rows = []
    for P in (2, 3, 4, 5):
        # a box (2P facets) spanned by P random orthonormal directions; a cross-polytope has 2^P
        # facets and costs seconds per image at P = 5 with the current engine
        directions = em.complexity.neighbourhood_directions(784, P, shape="cross", seed=P)
        t0 = time.perf_counter()
        lc = em.local_complexity(net, points, radius, "box", directions=directions)
        s = lc.summary()
        rows.append({"P": P, "seconds": time.perf_counter() - t0, "max": int(lc.regions.max()), **s})
    figure_complexity(rows, os.path.join(out, "local_complexity.png"))
    print(f"\nlocal complexity around {len(points)} test images: a box of radius {radius} spanned by P random "
          "orthonormal directions")
    print("(regions, pieces, neurons exact; approx = the published vertex estimate of neurons)")
    print(f"{'P':>3} {'regions':>8} {'max':>5} {'pieces':>7} {'neurons':>8} {'approx':>7} {'seconds':>8}")
    for r in rows:
        print(f"{r['P']:>3} {r['mean_regions']:>8.2f} {r['max']:>5} {r['mean_pieces']:>7.2f} {r['mean_neurons']:>8.2f} "
              f"{r['mean_approx']:>7.2f} {r['seconds']:>8.2f}")

    n_mem = 10 if quick else 60
    mem = memorisation(net, X[:n_mem], X_test[:n_mem], labels[:n_mem], labels_test[:n_mem])
    print(f"\nmemorisation ({n_mem} training and {n_mem} test images):")
    print(mem)
    print(f"\nwrote {os.path.join(out, 'templates.png')}, {os.path.join(out, 'local_complexity.png')} "
          f"in {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="mlp784_out", help="folder for the figures (default ./mlp784_out)")
    parser.add_argument("--quick", action="store_true", help="fewer images and steps (a smoke test)")
    args = parser.parse_args()
    main(args.out, args.quick)
