"""The write-up's network in numpy, two ways: as Nielsen's network.py is, and batched.

`loop`: network.py's update_mini_batch and backprop, one image at a time as column vectors,
summing nabla_b and nabla_w over the mini-batch in Python. `batched`: the same equations with
the mini-batch as the rows of one matrix, so each layer is one matrix product forward and
two backward.

Both compute in float32, as scratchnet does (network.py itself computes in float64, because
np.random.randn's weights are float64). The images are random pixels in [0, 1] with random
labels, from a fixed seed. Run by run.py: `python3 numpy_net.py NETWORK THREADS REPS loop|batched`.
"""

import harness

np = harness.require("numpy")


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def sigmoid_prime(z):
    """σ′(z) from z, as network.py computes it (σ again, not from the stored activation)."""
    return sigmoid(z) * (1 - sigmoid(z))


def backprop(weights, biases, x, y):
    """network.py's backprop: one image's (nabla_b, nabla_w) by Eqs 1, 2, 4 and 3.

    x: (n_in, 1); y: (10, 1); weights[l]: (n_out, n_in); biases[l]: (n_out, 1).
    """
    nabla_b = [np.zeros(b.shape, np.float32) for b in biases]
    nabla_w = [np.zeros(w.shape, np.float32) for w in weights]
    activation = x
    activations = [x]
    zs = []
    for b, w in zip(biases, weights):
        z = np.dot(w, activation) + b
        zs.append(z)
        activation = sigmoid(z)
        activations.append(activation)
    delta = (activations[-1] - y) * sigmoid_prime(zs[-1])
    nabla_b[-1] = delta
    nabla_w[-1] = np.dot(delta, activations[-2].transpose())
    for l in range(2, len(weights) + 1):  # network.py's l counts layers from the end
        sp = sigmoid_prime(zs[-l])
        delta = np.dot(weights[-l + 1].transpose(), delta) * sp
        nabla_b[-l] = delta
        nabla_w[-l] = np.dot(delta, activations[-l - 1].transpose())
    return nabla_b, nabla_w


def update_mini_batch_loop(weights, biases, x, y, eta):
    """network.py's update_mini_batch: x: (batch, n_in), y: (batch, 10), one image at a time."""
    columns = [b.reshape(-1, 1) for b in biases]  # views: the update below writes through
    nabla_b = [np.zeros(b.shape, np.float32) for b in columns]
    nabla_w = [np.zeros(w.shape, np.float32) for w in weights]
    for x_i, y_i in zip(x, y):
        delta_nabla_b, delta_nabla_w = backprop(weights, columns, x_i[:, None], y_i[:, None])
        nabla_b = [nb + dnb for nb, dnb in zip(nabla_b, delta_nabla_b)]
        nabla_w = [nw + dnw for nw, dnw in zip(nabla_w, delta_nabla_w)]
    for w, b, nw, nb in zip(weights, columns, nabla_w, nabla_b):
        w -= (eta / len(x)) * nw
        b -= (eta / len(x)) * nb


def update_mini_batch_batched(weights, biases, x, y, eta):
    """Eqs 1, 2, 5 and 6 over the whole mini-batch, one image a row.

    x: (batch, n_in); y: (batch, 10); activations[l]: (batch, n_l); weights[l]: (n_out, n_in).
    """
    activations = [x]
    for w, b in zip(weights, biases):
        activations.append(sigmoid(activations[-1] @ w.T + b))
    a = activations[-1]
    delta = (a - y) * a * (1 - a)  # Eq 1, σ′ from the stored activation
    for l in range(len(weights) - 1, -1, -1):
        nabla_w = delta.T @ activations[l]  # Eq 5 without its 1/n
        nabla_b = delta.sum(axis=0)  # Eq 6 without its 1/n
        if l > 0:  # Eq 2 uses the weights before this step's update
            a_prev = activations[l]
            delta_prev = (delta @ weights[l]) * a_prev * (1 - a_prev)
        weights[l] -= (eta / len(x)) * nabla_w
        biases[l] -= (eta / len(x)) * nabla_b
        if l > 0:
            delta = delta_prev


def quadratic_cost(weights, biases, x, y):
    """The quadratic cost C = 1/(2n) Σ ‖y − a‖², forward pass batched."""
    a = x
    for w, b in zip(weights, biases):
        a = sigmoid(a @ w.T + b)
    return float(0.5 * ((y - a) ** 2).sum() / len(x))


def blas_name():
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        return f"{blas['name']} {blas['version']}"
    except Exception:  # older numpy: no dict form
        return "BLAS unknown"


def main():
    sizes, batch, n, _threads, reps, variant = harness.parse_args()
    update = {"loop": update_mini_batch_loop, "batched": update_mini_batch_batched}[variant]
    rng = np.random.default_rng(harness.SEED)
    x = rng.random((n, sizes[0]), dtype=np.float32)
    y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, n)]
    weights = [rng.standard_normal((o, i), dtype=np.float32) for i, o in zip(sizes, sizes[1:])]
    biases = [rng.standard_normal(o, dtype=np.float32) for o in sizes[1:]]

    def train_epoch(count):
        order = rng.permutation(n)[:count]
        for k in range(0, count, batch):
            rows = order[k : k + batch]
            update(weights, biases, x[rows], y[rows], harness.ETA)

    def cost():
        m = harness.COST_IMAGES
        return quadratic_cost(weights, biases, x[:m], y[:m])

    version = f"numpy {np.__version__} ({blas_name()})"
    harness.run(train_epoch, cost, reps, n, version)


if __name__ == "__main__":
    main()
