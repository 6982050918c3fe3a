"""The benches' networks in PyTorch on the CPU: nn.Linear layers, sigmoid, quadratic cost, SGD.

The loss is the quadratic cost over the mini-batch, Σ ½‖y − a‖² / batch, so that optim.SGD
with lr = η makes the write-up's step w ← w − (η/m) Σ ∇C_x. Weights and biases are drawn from
N(0, 1) as the write-up's are (PyTorch's own initialisation would not change the time). float32;
the images are random pixels in [0, 1] with random labels, from a fixed seed. Run by run.py:
`python3 torch_net.py NETWORK THREADS REPS`, after it has set OMP_NUM_THREADS and MKL_NUM_THREADS.
"""

import harness

torch = harness.require("torch")


def network(sizes):
    """nn.Sequential of Linear + Sigmoid pairs, every parameter drawn from N(0, 1)."""
    layers = []
    for n_in, n_out in zip(sizes, sizes[1:]):
        linear = torch.nn.Linear(n_in, n_out)
        torch.nn.init.normal_(linear.weight)
        torch.nn.init.normal_(linear.bias)
        layers += [linear, torch.nn.Sigmoid()]
    return torch.nn.Sequential(*layers)


def quadratic_cost(a, y):
    """The quadratic cost over a mini-batch: Σ ½‖y − a‖² / batch; a, y: (batch, 10)."""
    return 0.5 * ((a - y) ** 2).sum() / len(a)


def main():
    sizes, batch, n, threads, reps, _variant = harness.parse_args()
    torch.set_num_threads(threads)
    torch.manual_seed(harness.SEED)
    x = torch.rand(n, sizes[0])
    y = torch.nn.functional.one_hot(torch.randint(0, 10, (n,)), 10).float()
    net = network(sizes)
    sgd = torch.optim.SGD(net.parameters(), lr=harness.ETA)

    def train_epoch(count):
        order = torch.randperm(n)[:count]
        for k in range(0, count, batch):
            rows = order[k : k + batch]
            sgd.zero_grad(set_to_none=True)
            quadratic_cost(net(x[rows]), y[rows]).backward()
            sgd.step()

    def cost():
        m = harness.COST_IMAGES
        with torch.no_grad():
            return float(quadratic_cost(net(x[:m]), y[:m]))

    harness.run(train_epoch, cost, reps, n, f"torch {torch.__version__}")


if __name__ == "__main__":
    main()
