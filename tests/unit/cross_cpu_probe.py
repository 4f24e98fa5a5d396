"""The numerical work the chapters do, in miniature; prints a digest of each step's results.

tests/unit/test_cross_cpu.py runs this natively and under qemu-x86_64 with other CPU models
(an AVX2 Intel, an AVX2 AMD EPYC), all with the book's pinned kernel environment, and asserts
the digests agree.
"""

import hashlib

import numpy as np
import torch
from nnpuzzles.repro import exact_sqrt
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression


def record(label, *arrays):
    """Print a short digest of the arrays a step computed, under its label."""
    digest = hashlib.sha256()
    for a in arrays:
        a = a.detach().numpy() if isinstance(a, torch.Tensor) else np.asarray(a)
        digest.update(np.ascontiguousarray(a).tobytes())
    print(f"{label}: {digest.hexdigest()[:16]}")


rng = np.random.default_rng(0)
A = rng.normal(size=(150, 64))
record("numpy matmul", A @ A.T)  # OpenBLAS
record("numpy exp tanh", np.exp(A / 4), np.tanh(A))  # NumPy's SIMD loops
record("numpy eigh", np.linalg.eigh(A.T @ A)[0])  # LAPACK

X, y = load_digits(return_X_y=True)
model = LogisticRegression(max_iter=500).fit(X[:500] / 16, y[:500])
record("sklearn logistic", model.coef_)  # SciPy's L-BFGS over OpenBLAS

torch.manual_seed(0)
Xt, yt = torch.tensor(X[:256] / 16, dtype=torch.float32), torch.tensor(y[:256])
net = torch.nn.Sequential(torch.nn.Linear(64, 100), torch.nn.ReLU(), torch.nn.Linear(100, 10))


def train(optimizer, steps=30):
    for _ in range(steps):
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(net(Xt), yt).backward()
        optimizer.step()


train(torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9))  # MKL's sgemm, forward and backward
record("torch SGD training", *net.parameters())
params = {k: torch.stack([v, 2 * v]) for k, v in net.state_dict().items()}  # a batched ensemble
record("torch vmap", torch.func.vmap(lambda p: torch.func.functional_call(net, p, (Xt,)))(params))
K = torch.tensor(A, dtype=torch.float64)
att = torch.nn.functional.scaled_dot_product_attention(K[None, :20], K[None], K[None], scale=0.5)
record("torch attention", att)
record("torch eigvalsh", torch.linalg.eigvalsh(K.T @ K))  # MKL's LAPACK
# torch.sqrt of a large tensor goes to MKL's vector math: the book uses exact_sqrt instead, and
# Adam with fused=True, whose kernel is torch's own (the default kernel's sqrt is MKL's).
record("exact sqrt", exact_sqrt(torch.rand(100, 64) + 0.1))
train(torch.optim.Adam(net.parameters(), lr=1e-2, fused=True))
record("torch Adam training", *net.parameters())
