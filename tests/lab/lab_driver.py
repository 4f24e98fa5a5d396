"""Drive a real JupyterLab in a real browser: shared by the lab test and the latency benchmark.

* :class:`LabServer` starts one ``jupyter lab`` on 127.0.0.1 (free port, no token, throwaway
  config/data/runtime/settings/workspace directories, the venv's lab extensions still visible)
  and stops it by its PID.
* :func:`launch_browser` starts Debian's Chromium through Playwright (never ``playwright install``).
* :class:`NotebookPage` opens a notebook, restarts its kernel and runs all cells, waits for the
  kernel, collects error outputs, and finds the live explorers (the ``nnpuzzles.Explorer``
  ipywidgets view: a VBox holding an ``<img class="widget-image">``).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from playwright.sync_api import TimeoutError as PlaywrightTimeout

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]

#: JupyterLab user settings for a quiet, deterministic session: no news or update checks (no
#: network), no restart confirmation, and every cell attached to the DOM (no windowing).
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings":
        {"fetchNews": "false", "checkForUpdates": False, "doNotDisturbMode": True},
    "@jupyterlab/apputils-extension/sessionDialogs.jupyterlab-settings": {"skipKernelRestartDialog": True},
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
}

ERROR_OUTPUT = (
    '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"], '
    ".jp-OutputArea-output.jp-mod-error, .jp-RenderedText[data-mime-type=\"application/vnd.jupyter.error\"]"
)
#: The live view of an nnpuzzles.Explorer: a VBox whose children include the figure's Image.
EXPLORER = ".jp-OutputArea-output .widget-vbox:has(> img.widget-image)"
SLIDER_HANDLE = ".widget-slider .noUi-handle"


def chapter_notebooks(root: Path = ROOT) -> list[Path]:
    """Every chapter notebook, sorted (new chapters are picked up automatically)."""
    from nnpuzzles import bookfiles

    return bookfiles.chapter_notebooks(root)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LabServer:
    """One ``jupyter lab`` process serving ``root_dir``; ``workdir`` holds its throwaway state."""

    def __init__(self, root_dir: Path, workdir: Path, *, check_live_frames: bool = False) -> None:
        self.root_dir = Path(root_dir)
        self.workdir = Path(workdir)
        # Kernels compare every blitted live frame with a full redraw (nnpuzzles.blit); a
        # difference is an error in the explorer's output area, which the test fails on.
        self.check_live_frames = check_live_frames
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None
        self.log_path = self.workdir / "jupyter-lab.log"

    def start(self, timeout: float = 180) -> LabServer:
        dirs = {name: self.workdir / name for name in ("config", "data", "runtime", "settings", "workspaces")}
        for path in dirs.values():
            path.mkdir(parents=True, exist_ok=True)
        for name, values in LAB_SETTINGS.items():
            target = dirs["settings"] / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(json.dumps(values))
        # The extension manager would query PyPI; nothing here may leave 127.0.0.1.
        (dirs["config"] / "labconfig").mkdir(exist_ok=True)
        (dirs["config"] / "labconfig" / "page_config.json").write_text(
            json.dumps({"disabledExtensions": {"@jupyterlab/extensionmanager-extension": True}})
        )
        from nnpuzzles.explorer import STATIC_FRAMES_ENV
        from nnpuzzles.repro import kernel_environment

        env = kernel_environment()  # the book's pinned numerical environment, inherited by every kernel
        env.pop(STATIC_FRAMES_ENV, None)  # a reader's kernel: explorers render the live view only
        env.update(
            JUPYTER_CONFIG_DIR=str(dirs["config"]),
            # The user data dir only; the venv's share/jupyter (lab extensions, kernels) stays on the path.
            JUPYTER_DATA_DIR=str(dirs["data"]),
            JUPYTER_RUNTIME_DIR=str(dirs["runtime"]),
            JUPYTERLAB_SETTINGS_DIR=str(dirs["settings"]),
            JUPYTERLAB_WORKSPACES_DIR=str(dirs["workspaces"]),
            PYTHONUNBUFFERED="1",
        )
        if self.check_live_frames:
            env["NNPUZZLES_CHECK_LIVE_FRAMES"] = "1"
        command = [
            sys.executable, "-m", "jupyterlab",
            "--no-browser", "--allow-root", "--ip=127.0.0.1", f"--port={self.port}",
            "--ServerApp.port_retries=0",
            "--IdentityProvider.token=", "--ServerApp.password=",
            f"--ServerApp.root_dir={self.root_dir}",
            "--ServerApp.terminals_enabled=False",
            "--LabApp.news_url=None",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            "--LabApp.expose_app_in_browser=True",
        ]
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(command, cwd=self.root_dir, env=env, stdout=self._log,
                                        stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"jupyter lab exited with {self.process.returncode}:\n{self.log()}")
            try:
                with urllib.request.urlopen(f"{self.url}/api/status", timeout=5) as response:
                    if response.status == 200:
                        return self
            except OSError:
                time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"jupyter lab did not answer within {timeout} s:\n{self.log()}")

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-5000:]
        except OSError:
            return ""

    def stop(self) -> None:
        """Stop the server by its PID (it shuts its kernels down on SIGTERM)."""
        if self.process is None:
            return
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        self._log.close()
        self.process = None

    def __enter__(self) -> LabServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def launch_browser(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


@dataclass
class NotebookPage:
    """One notebook open in JupyterLab in its own browser page."""

    page: object
    server: LabServer
    path: str  # relative to the server's root_dir, with forward slashes

    @classmethod
    def open(cls, browser, server: LabServer, notebook: Path, timeout: float = 120) -> NotebookPage:
        notebook = Path(notebook).resolve()
        base = server.root_dir.resolve() if notebook.is_relative_to(server.root_dir.resolve()) else ROOT
        rel = notebook.relative_to(base).as_posix()  # a repository path maps onto the server's copy
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(timeout * 1000)
        self = cls(page=page, server=server, path=rel)
        self.page_errors: list[str] = []
        page.on("pageerror", lambda error: self.page_errors.append(str(error)))
        page.goto(f"{server.url}/lab/tree/{rel}?reset", wait_until="domcontentloaded")
        page.wait_for_function("() => window.jupyterapp && window.jupyterapp.started !== undefined")
        page.wait_for_selector(".jp-NotebookPanel .jp-Notebook .jp-Cell")
        self.wait_idle(timeout)
        return self

    # ---------------------------------------------------------------- kernel
    def kernel_status(self) -> str:
        return self.page.evaluate(
            """() => {
                const w = window.jupyterapp.shell.currentWidget;
                const k = w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel;
                return k ? k.status : 'none';
            }"""
        )

    def wait_idle(self, timeout: float = 120) -> None:
        """Wait until the notebook's kernel exists and is idle."""
        self.page.wait_for_function(
            """() => {
                const w = window.jupyterapp.shell.currentWidget;
                // A notebook panel, or another view of a notebook (the slideshow tab): its context's.
                const c = w && (w.sessionContext || (w.context && w.context.sessionContext));
                return c && c.isReady && c.session && c.session.kernel && c.session.kernel.status === 'idle';
            }""",
            timeout=timeout * 1000,
        )

    def command(self, command: str, args: dict | None = None):
        """Run a JupyterLab command (the same ones the menus and the command palette run)."""
        return self.page.evaluate(
            "([c, a]) => window.jupyterapp.commands.execute(c, a).then(() => true)", [command, args or {}]
        )

    def dismiss_dialogs(self) -> None:
        for button in self.page.locator(".jp-Dialog .jp-mod-accept").all():
            button.click()

    def restart_and_run_all(self, timeout: float = 600) -> float:
        """Restart the kernel, run every cell, wait for the last one; return the seconds taken."""
        start = time.monotonic()
        self.page.evaluate(
            "(c) => { window.__nnpRunAll = 'running'; window.jupyterapp.commands.execute(c).then("
            "() => { window.__nnpRunAll = 'done'; }, e => { window.__nnpRunAll = 'failed: ' + e; }); }",
            "notebook:restart-run-all",
        )
        # The restart confirmation is switched off in the settings; accept it if it shows anyway.
        time.sleep(0.5)
        self.dismiss_dialogs()
        self.page.wait_for_function(
            """() => {
                if (window.__nnpRunAll === 'running') { return false; }
                const w = window.jupyterapp.shell.currentWidget;
                if (!w || !w.content) { return false; }
                const prompts = [...w.node.querySelectorAll('.jp-CodeCell .jp-InputPrompt')]
                    .map(e => e.textContent.trim());
                const errors = w.node.querySelectorAll(
                    '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]');
                const k = w.sessionContext.session && w.sessionContext.session.kernel;
                const idle = k && k.status === 'idle';
                const running = prompts.some(p => p.includes('*'));
                const done = prompts.every(p => /\\[\\d+\\]/.test(p));
                return idle && !running && (done || errors.length > 0);
            }""",
            timeout=timeout * 1000,
            polling=250,
        )
        outcome = self.page.evaluate("() => window.__nnpRunAll")
        if outcome != "done":
            raise RuntimeError(f"{self.path}: Restart Kernel and Run All Cells {outcome}")
        return time.monotonic() - start

    def cell_errors(self) -> list[str]:
        """The text of every error or stderr output and of every widget that failed to render."""
        texts = self.page.locator(ERROR_OUTPUT).all_inner_texts()
        texts += [t for t in self.page.locator(".jp-OutputArea-output").all_inner_texts()
                  if "Error displaying widget" in t or "model not found" in t.lower()]
        return texts

    def unrun_cells(self) -> int:
        prompts = self.page.locator(".jp-NotebookPanel .jp-CodeCell .jp-InputPrompt").all_inner_texts()
        return sum(1 for p in prompts if not any(ch.isdigit() for ch in p))

    # ---------------------------------------------------------------- explorers
    def explorers(self) -> list[LiveExplorer]:
        views = self.page.locator(EXPLORER)
        return [LiveExplorer(self, views.nth(i)) for i in range(views.count())]

    def close(self) -> None:
        """Shut the notebook's kernel down (chapters hold models in memory), then close the page."""
        try:
            self.page.evaluate(
                """() => {
                    const w = window.jupyterapp.shell.currentWidget;
                    const c = w && (w.sessionContext || (w.context && w.context.sessionContext));
                    return c ? c.shutdown().then(() => true) : false;
                }"""
            )
        except Exception:  # noqa: BLE001 - the page may already be broken; closing it is enough
            pass
        self.page.close()


class LiveExplorer:
    """An Explorer's live ipywidgets view in the page."""

    def __init__(self, notebook: NotebookPage, root) -> None:
        self.notebook = notebook
        self.page = notebook.page
        self.root = root
        self.image = root.locator(":scope > img.widget-image")

    @property
    def title(self) -> str:
        return self.root.locator(":scope > .widget-html").first.inner_text().strip()

    def sliders(self) -> list:
        """The slider handles (focusable; arrow keys move them by one step)."""
        handles = self.root.locator(SLIDER_HANDLE)
        return [handles.nth(i) for i in range(handles.count())]

    def slider_label(self, handle) -> str:
        slider = handle.locator("xpath=ancestor::div[contains(@class, 'widget-slider')][1]")
        return slider.locator(".widget-label").first.inner_text().strip()

    def presets(self) -> list:
        buttons = self.root.locator(":scope > .widget-hbox button.widget-button")
        return [buttons.nth(i) for i in range(buttons.count())]

    def src(self) -> str:
        return self.image.get_attribute("src") or ""

    def pixels(self) -> bytes:
        return self.image.screenshot()

    def output_errors(self) -> list[str]:
        """Tracebacks the explorer showed in its own output area."""
        return self.root.locator(".widget-output .jp-OutputArea-output").all_inner_texts()

    def wait_settled(self, old_src: str, timeout: float = 30) -> bool:
        """Wait for a new frame (or an error shown by the explorer), then for the kernel to finish
        every queued update. False if no new frame came within ``timeout`` seconds."""
        try:
            self.page.wait_for_function(
                """([root, img, old]) => (img.getAttribute('src') && img.getAttribute('src') !== old)
                    || root.querySelector('.widget-output .jp-OutputArea-output') !== null""",
                arg=[self.root.element_handle(), self.image.element_handle(), old_src],
                timeout=timeout * 1000, polling=50,
            )
        except PlaywrightTimeout:
            return False
        self.notebook.wait_idle(timeout)
        last = self.src()
        while True:  # a burst of keypresses may still be draining
            time.sleep(0.3)
            self.notebook.wait_idle(timeout)
            if self.src() == last:
                return True
            last = self.src()

    def step_direction(self, handle) -> str:
        """ArrowRight unless the handle is already at its maximum (noUiSlider places the handle
        with ``translate(-1000%)`` at the minimum and ``translate(0%)`` at the maximum)."""
        at_max = handle.evaluate(
            """(h) => {
                const m = /translate\\((-?[0-9.e+-]+)%/.exec(h.parentElement.style.transform || '');
                return m !== null && parseFloat(m[1]) > -1;
            }"""
        )
        return "ArrowLeft" if at_max else "ArrowRight"

    def press_and_time(self, handle, key: str, timeout: float = 10) -> dict | None:
        """Press ``key`` on a focused slider handle; milliseconds from the keydown to the new
        ``src`` (MutationObserver) and to the decoded image painted (next animation frame).
        None if no new frame came within ``timeout`` seconds."""
        self.page.evaluate(
            """(img) => {
                const t = window.__nnpTiming = {down: null, src: null, paint: null};
                document.addEventListener('keydown', () => { t.down = performance.now(); },
                                          {capture: true, once: true});
                const observer = new MutationObserver(() => {
                    if (t.src !== null) { return; }
                    t.src = performance.now();
                    observer.disconnect();
                    img.decode().catch(() => null).then(() => requestAnimationFrame(() => {
                        t.paint = performance.now();
                    }));
                });
                observer.observe(img, {attributes: true, attributeFilter: ['src']});
            }""",
            self.image.element_handle(),
        )
        handle.press(key)
        try:
            self.page.wait_for_function("() => window.__nnpTiming.paint !== null",
                                        timeout=timeout * 1000, polling="raf")
        except PlaywrightTimeout:
            return None  # no new frame: the step left the figure's pixels unchanged, or it failed
        finally:
            self.notebook.wait_idle(60)
        timing = self.page.evaluate("() => window.__nnpTiming")
        return {"src_ms": timing["src"] - timing["down"], "paint_ms": timing["paint"] - timing["down"]}


def _text(value) -> str:
    return "".join(value) if isinstance(value, list) else (value or "")


def stored_explorers(notebook: Path) -> list[dict]:
    """The explorers a notebook displays, read from the data attributes of their stored static
    scrubbers (``nnpuzzles.explorer.explorers_in_html``): ``[{"title", "slug", "params", "presets"}]``."""
    from nnpuzzles.explorer import explorers_in_html

    nb = json.loads(Path(notebook).read_text())
    return [explorer for cell in nb["cells"] for output in cell.get("outputs", [])
            for explorer in explorers_in_html(_text(output.get("data", {}).get("text/html")))]
