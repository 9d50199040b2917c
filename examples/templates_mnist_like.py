"""Templates of an MNIST-sized ReLU network at one input, as a printed table.

A random [784, 128, 64, 10] MLP (float32 weights, fixed seed) and a random 28x28 "image".
On the region of the input the network is A x + b exactly; row c of A is the template of
class c, and output c is the matched filter <A[c], x> + b[c].  The table prints, per class,
the correlation with the input, the offset, their sum (== the output, exactly) and the
template's largest weight.  With --figure, the ten templates are saved as 28x28 images.

    python examples/templates_mnist_like.py [--figure templates.png]
"""

import sys

import numpy as np

import exactmaso as em


def main(figure: str | None = None) -> None:
    rng = np.random.default_rng(7)
    widths = [784, 128, 64, 10]
    weights = [(rng.normal(size=(o, i)) / np.sqrt(i)).astype(np.float32) for i, o in zip(widths[:-1], widths[1:])]
    biases = [(0.1 * rng.normal(size=o)).astype(np.float32) for o in widths[1:]]
    net = em.mlp(weights, biases)
    x = rng.uniform(0, 1, size=784).astype(np.float32)

    T = em.templates(net, x)  # (10, 784) exact
    corr, offset = em.matched_filter(net, x)
    y = net(x)
    print(net.summary())
    print(f"active units: {[sum(layer) for layer in net.code(x)[:-1]]} of {widths[1:-1]}")
    print(f"{'class':>5} {'<A[c], x>':>14} {'b[c]':>12} {'output':>12} {'exact?':>7} {'max |A[c]|':>11} {'bits':>6}")
    for c in range(10):
        top = max(abs(v) for v in T[c])
        bits = max(v.denominator.bit_length() for v in T[c])
        exact = corr[c] + offset[c] == y[c]
        print(f"{c:>5} {float(corr[c]):>14.6f} {float(offset[c]):>12.6f} {float(y[c]):>12.6f} "
              f"{'yes' if exact else 'NO':>7} {float(top):>11.5f} {bits:>6}")
    print(f"predicted class: {int(np.argmax([float(v) for v in y]))}")
    if figure:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(2, 5, figsize=(10, 4.4))
        for c, ax in enumerate(axes.flat):
            ax.imshow(np.array([float(v) for v in T[c]]).reshape(28, 28), cmap="RdBu_r")
            ax.set_title(f"class {c}")
            ax.axis("off")
        fig.savefig(figure, dpi=120, bbox_inches="tight")
        print(f"wrote {figure}")


if __name__ == "__main__":
    args = sys.argv[1:]
    main(args[1] if len(args) == 2 and args[0] == "--figure" else None)
