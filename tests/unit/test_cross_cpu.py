"""Stored outputs re-execute identically on other CPUs: the probe's digests under emulated CPUs.

qemu-x86_64 (Debian's qemu-user, installed by `make test`) runs the probe as if on another
processor: the libraries read that processor's CPUID and choose their code paths as they would
there. With the book's pinned environment (nnpuzzles.repro.KERNEL_ENV):

* an AVX2 Intel (Haswell) and an AVX2 AMD (EPYC Rome) give the same digest for every step;
* this machine (natively, whatever its CPU: AVX2 or AVX-512, Intel or AMD) gives the same digests
  too, except for MKL's vector math (``torch.sqrt`` and Adam, which uses it): MKL's COMPATIBLE
  branch computes it with SSE2 arithmetic, which every x86-64 processor rounds the same way
  (it leaves out rcpps/rsqrtps, the two instructions whose results differ between vendors),
  but which qemu's emulation does not reproduce bit for bit. Those two steps are compared
  between the emulated CPUs only.

With MKL pinned only to its AVX2 branch (the pin before edition 0.2.1) the AMD processor sums in
another order: the last test shows the check can fail.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from nnpuzzles.repro import kernel_environment

PROBE = Path(__file__).with_name("cross_cpu_probe.py")
QEMU = shutil.which("qemu-x86_64")
EMULATION_ONLY = {"torch sqrt", "torch Adam training"}  # see the module docstring
# `make test` installs qemu-user; CI must run this test, a maintainer's machine may lack it.
pytestmark = [pytest.mark.slow, pytest.mark.skipif(QEMU is None and not os.environ.get("CI"),
                                                   reason="qemu-user is installed by `make test`")]


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


def test_pinned_results_are_the_same_on_intel_and_amd(intel):
    assert digests("EPYC-Rome") == intel


def test_pinned_results_on_this_machine_are_those_of_the_emulated_cpus(intel):
    here = digests(None)
    assert {k: v for k, v in here.items() if k not in EMULATION_ONLY} == \
        {k: v for k, v in intel.items() if k not in EMULATION_ONLY}
    assert here.keys() == intel.keys() and len(here) >= 9


def test_the_check_sees_mkl_on_amd_when_only_its_avx2_branch_is_pinned():
    amd, intel_avx2 = digests("EPYC-Rome", MKL_CBWR="AVX2"), digests("Haswell-v4", MKL_CBWR="AVX2")
    assert amd["torch SGD training"] != intel_avx2["torch SGD training"]
