"""Stored outputs re-execute identically on other CPUs: the probe's digests under emulated CPUs.

qemu-x86_64 (Debian's qemu-user, installed by `make test`) runs the probe as if on another
processor: the libraries read that processor's CPUID and choose their code paths as they would
there. With the book's pinned environment (nnpuzzles.repro.KERNEL_ENV):

* an AVX2 Intel (Haswell) and an AVX2 AMD (EPYC Rome) give the same digest for every step;
* this machine (natively, whatever its CPU: AVX2 or AVX-512, Intel or AMD) gives the same digests
  too. That holds because the book avoids the operations torch leaves to MKL's vector math
  (``torch.sqrt`` of more than 15 float32 elements, hence the default Adam, and ``cdist``), whose
  last bit differs between processors whatever the pin: it uses ``exact_sqrt`` and fused Adam.
  The last test of the file checks that no notebook and no package module uses them.

With MKL pinned only to its AVX2 branch (the pin before edition 0.2.1) the AMD processor sums in
another order: the last test shows the check can fail.
"""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nnpuzzles.bookfiles import chapter_notebooks
from nnpuzzles.repro import kernel_environment

PROBE = Path(__file__).with_name("cross_cpu_probe.py")
QEMU = shutil.which("qemu-x86_64")
ROOT = Path(__file__).resolve().parents[2]
# `make test` installs qemu-user; CI must run these tests, a maintainer's machine may lack it.
emulated = pytest.mark.skipif(QEMU is None and not os.environ.get("CI"), reason="qemu-user is installed by `make test`")


def digests(cpu: str | None, **extra: str) -> dict[str, str]:
    """{step: digest} from the probe, natively (cpu None) or under qemu with that CPU model."""
    python = str(Path(sys.executable).resolve())  # qemu needs the interpreter, not the venv's link
    command = [python, str(PROBE)] if cpu is None else [QEMU, "-cpu", cpu, python, str(PROBE)]
    env = kernel_environment() | {"PYTHONPATH": ":".join(p for p in sys.path if p)} | extra
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900, check=True)
    return dict(line.split(": ") for line in done.stdout.splitlines())


@pytest.fixture(scope="module")
def intel() -> dict[str, str]:
    return digests("Haswell-v4")


@pytest.mark.slow
@emulated
def test_pinned_results_are_the_same_on_intel_and_amd(intel):
    assert digests("EPYC-Rome") == intel


@pytest.mark.slow
@emulated
def test_pinned_results_on_this_machine_are_those_of_the_emulated_cpus(intel):
    here = digests(None)
    assert here == intel and len(here) >= 9


@pytest.mark.slow
@emulated
def test_the_check_sees_mkl_on_amd_when_only_its_avx2_branch_is_pinned():
    amd, intel_avx2 = digests("EPYC-Rome", MKL_CBWR="AVX2"), digests("Haswell-v4", MKL_CBWR="AVX2")
    assert amd["torch SGD training"] != intel_avx2["torch SGD training"]


# torch's calls that go to MKL's vector math for a float32 tensor (see the module docstring), and
# Adam without its fused kernel. `np.sqrt`, `math.sqrt` and a tensor's `.norm()` are exact.
PROCESSOR_DEPENDENT = re.compile(r"torch\.(sqrt|cdist|atan|log10)\(|\.(sqrt|atan|log10)\(\)|"
                                 r"optim\.Adam[W]?\((?![^#]*fused=True)")


def code_lines():
    """(file, line) for every line of code of the chapters, the package and the tools."""
    for path in chapter_notebooks(ROOT):
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type == "code":
                yield from ((path, line) for line in cell.source.splitlines())
    for path in sorted([*(ROOT / "widgets" / "src" / "nnpuzzles").glob("*.py"), *(ROOT / "tools").glob("*.py")]):
        yield from ((path, line) for line in path.read_text().splitlines())


def test_no_chapter_or_package_code_uses_processor_dependent_operations():
    found = [f"{path.relative_to(ROOT)}: {line.strip()}" for path, line in code_lines()
             if PROCESSOR_DEPENDENT.search(line.split("#")[0]) and path.name != "repro.py"]  # exact_sqrt's home
    assert not found, "use nnpuzzles.repro.exact_sqrt and Adam(..., fused=True):\n" + "\n".join(found)


@pytest.mark.parametrize("line", ["v = torch.sqrt(x)", "x.sqrt() + eps", "torch.cdist(a, b).argmin(1)",
                                  "opt = torch.optim.Adam(net.parameters(), lr=1e-3)",
                                  "torch.optim.AdamW(p, lr=1)  # fused=True"])
def test_the_processor_check_sees_each_operation(line):
    assert PROCESSOR_DEPENDENT.search(line.split("#")[0])


@pytest.mark.parametrize("line", ["np.sqrt(x)", "exact_sqrt(v_hat)", "torch.optim.Adam(p, lr=1e-3, fused=True)",
                                  "math.log10(self.min)", "v / v.norm()"])
def test_the_processor_check_passes_exact_operations(line):
    assert not PROCESSOR_DEPENDENT.search(line)
