"""One explorer, three places.

An :class:`Explorer` is defined once by a chapter: a ``setup(fig)`` function that draws the
figure's artists and returns an ``update(**values)`` function that changes them *in place*,
plus the named parameters (sliders or choices) and named presets.  The same object then works

* **live** in JupyterLab, Binder or Colab: ipywidgets controls call ``update`` and the figure is
  re-rendered to a PNG shown in an ``ipywidgets.Image``; no figure is re-created, and only the
  artists ``update`` changed are redrawn over cached layers (:mod:`nnpuzzles.blit`), so a step
  costs ``update``'s own computation plus about 10-20 ms;
* **static** in the published HTML book, with no kernel: at execution time every combination of
  the parameters' grid values is rendered once, and a small self-contained HTML/JavaScript
  scrubber swaps those frames when the reader moves a slider or clicks a preset;
* **headless** in tests: ``explorer.set(noise=0.2)`` updates the figure, ``explorer.fig`` can be
  inspected, and bad values raise :class:`ValueError` naming the parameter and its range.

Example::

    def setup(fig):
        ax = fig.subplots()
        x = np.linspace(0, 1, 200)
        (line,) = ax.plot(x, np.sin(x))

        def update(frequency):
            line.set_ydata(np.sin(2 * np.pi * frequency * x))

        return update

    Explorer(setup, [Slider("frequency", 0.5, 4.0, default=1.0)],
             presets={"slow": {"frequency": 0.5}}, title="A sine", alt="A sine wave.")
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
import itertools
import json
import math
import os
import re
import string
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from html.parser import HTMLParser
from importlib import resources
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from .blit import BlitRenderer, freeze_legends, png_bytes

__all__ = ["Slider", "Choice", "Explorer", "in_kernel"]

#: Most frames a static scrubber may hold (the product of all parameters' grid sizes).
MAX_STATIC_FRAMES = 64


#: The static scrubber's HTML, CSS and script (package data), filled in by :meth:`Explorer.static_html`.
_SCRUBBER_TEMPLATE = resources.files("nnpuzzles").joinpath("templates/scrubber.html").read_text(encoding="utf-8")


def slugify(title: str) -> str:
    """An explorer's name in a URL fragment: its title in lower-case letters, digits and hyphens."""
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-") or "explorer"


class _ExplorerMetadata(HTMLParser):
    def __init__(self):
        super().__init__()
        self.found: list[dict] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "div" and "nnp-explorer" in (attrs.get("class") or "").split() and "data-title" in attrs:
            self.found.append({"title": attrs["data-title"], "slug": attrs.get("data-slug", ""),
                               "params": json.loads(attrs.get("data-params", "[]")),
                               "presets": json.loads(attrs.get("data-presets", "[]"))})


def explorers_in_html(text: str) -> list[dict]:
    """The static explorers in an HTML text (a stored output or a built page), in order:
    ``[{"title", "slug", "params": [names], "presets": [names]}]``, read from their data attributes."""
    parser = _ExplorerMetadata()
    parser.feed(text)
    return parser.found


#: A scrubber's frames as stored in its output: ``<script type="application/json" class="nnp-frames">``.
_FRAMES_SCRIPT = re.compile(r'<script type="application/json" class="nnp-frames">(.*?)</script>', re.S)
#: Only a scrubber that can load its frames from a file says so (``data-frames="inline"``); the
#: outputs of chapters executed before it could are left as they are.
_EXPLORER_ID = re.compile(r'<div class="nnp-explorer" id="(nnp-[0-9a-f]{12})" data-frames="inline"')
_FRAME_KEY = re.compile(r"\d+(,\d+)*")
_BASE64 = re.compile(r"[A-Za-z0-9+/]+={0,2}")


def frames_script(uid: str, frames: dict[str, str]) -> str:
    """The JavaScript file that hands a scrubber its frames when the page loads it (a ``<script src>``
    works from a web server and from ``file://`` alike, where ``fetch`` of a local file does not)."""
    return (f"(window.nnpFrames = window.nnpFrames || {{}})[{json.dumps(uid)}] = "
            f"{json.dumps(frames, separators=(',', ':'))};\n")


def externalise_frames(page: str, href: Callable[[str], str]) -> tuple[str, dict[str, str]]:
    """Move every static scrubber's frames out of a built page (the book does this after its build).

    The page keeps each explorer's first frame (its ``<img>``) and an empty frames holder whose
    ``data-src`` is ``href(uid)``; the scrubber loads that file when the explorer comes near the
    viewport or is first touched. Returns the new page and ``{uid: script text}`` to write.
    Frames must be base64 PNG data under grid-index keys, as :meth:`Explorer.static_html` writes
    them; anything else is left where it is (the page still works, only heavier).
    """
    files: dict[str, str] = {}
    out, last, since = [], 0, 0
    for match in _FRAMES_SCRIPT.finditer(page):
        ids = [m.group(1) for m in _EXPLORER_ID.finditer(page, since, match.start())]  # its own explorer
        since = match.end()
        try:
            frames = json.loads(match.group(1))
        except ValueError:
            continue
        valid = (ids and isinstance(frames, dict) and frames
                 and all(isinstance(k, str) and _FRAME_KEY.fullmatch(k) and isinstance(v, str)
                         and _BASE64.fullmatch(v) for k, v in frames.items()))
        if not valid:
            continue
        uid = ids[-1]
        files[uid] = frames_script(uid, frames)
        out += [page[last:match.start()],
                f'<script type="application/json" class="nnp-frames" data-src="{html.escape(href(uid))}"></script>']
        last = match.end()
    out.append(page[last:])
    page = "".join(out)
    for uid in files:
        page = page.replace(f'id="{uid}" data-frames="inline"', f'id="{uid}" data-frames="external"')
    return page, files


#: The tools that execute chapters for the book (``make execute``, nbval in ``make test``) set this
#: to "1": only then does an explorer shown in a kernel pre-render the frames of its static scrubber
#: (what the published HTML shows). A reader's kernel renders the live view alone, at once.
STATIC_FRAMES_ENV = "NNPUZZLES_STATIC_FRAMES"


def building_the_book() -> bool:
    """True when the chapter is being executed for the book (see :data:`STATIC_FRAMES_ENV`)."""
    return os.environ.get(STATIC_FRAMES_ENV) == "1"


def in_kernel() -> bool:
    """True when running inside a Jupyter kernel (where ipywidgets can be shown)."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython is a dependency
        return False
    shell = get_ipython()
    return shell is not None and hasattr(shell, "kernel")


def _format_value(value: Any) -> str:
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.4g}"
    return str(value)


#: Held by every live update. JupyterLab (4.4 on) sends widget messages over kernel subshells, which
#: ipykernel (7 on) handles in threads of their own, so a slider's message and a preset button's
#: can be handled at the same time; matplotlib is not thread-safe, and two updates interleaved on
#: one figure show a frame of neither (chapter 1's capacity explorer, a key press then a preset).
LIVE_LOCK = threading.RLock()


@dataclass(frozen=True)
class Slider:
    """A numeric parameter with a range.

    ``frames`` values (evenly spaced, or log-spaced when ``scale="log"``) are pre-rendered for
    the static book; the live slider moves in steps of ``step`` (default: 1 for integers, 1/100 of
    the range otherwise), or in ``live_steps`` equal steps over the range (equal ratios on a log
    scale): match it to a grid of precomputed results, so that every step shows a new one. With
    ``grid_only=True`` the live slider moves over the static grid only.
    """

    name: str
    min: float
    max: float
    default: float | None = None
    label: str | None = None
    scale: str = "linear"
    integer: bool = False
    frames: int = 9
    step: float | None = None
    live_steps: int | None = None  # the live slider's number of steps over the range
    grid_only: bool = False  # live slider moves over the static grid only (for precomputed results)

    def __post_init__(self) -> None:
        if not self.min < self.max:
            raise ValueError(f"Slider {self.name!r}: min ({self.min}) must be below max ({self.max})")
        if self.scale not in ("linear", "log"):
            raise ValueError(f"Slider {self.name!r}: scale must be 'linear' or 'log', got {self.scale!r}")
        if self.scale == "log" and self.min <= 0:
            raise ValueError(f"Slider {self.name!r}: a log slider needs min > 0, got {self.min}")
        if self.live_steps is not None and self.live_steps < 1:
            raise ValueError(f"Slider {self.name!r}: live_steps must be at least 1, got {self.live_steps}")
        if self.frames < 2:
            raise ValueError(f"Slider {self.name!r}: frames must be at least 2, got {self.frames}")
        if self.default is not None:
            self.check(self.default)

    @property
    def text(self) -> str:
        return self.label or self.name

    @property
    def initial(self) -> float:
        return self.min if self.default is None else self.default

    def range_text(self) -> str:
        kind = "an integer" if self.integer else "a number"
        return f"{kind} in [{_format_value(self.min)}, {_format_value(self.max)}]"

    def check(self, value: Any) -> float | int:
        """Return ``value`` as this parameter's type, or raise ValueError naming the range."""
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
            raise ValueError(f"{self.name} must be {self.range_text()}, got {value!r}")
        if not math.isfinite(float(value)) or not self.min <= value <= self.max:
            raise ValueError(f"{self.name} must be {self.range_text()}, got {value!r}")
        if self.integer:
            if float(value) != int(value):
                raise ValueError(f"{self.name} must be {self.range_text()}, got {value!r}")
            return int(value)
        return float(value)

    def grid(self) -> list:
        """The values pre-rendered for the static book."""
        if self.scale == "log":
            values = np.geomspace(self.min, self.max, self.frames)
        else:
            values = np.linspace(self.min, self.max, self.frames)
        if self.integer:
            return sorted({int(round(v)) for v in values})
        return [float(f"{v:.6g}") for v in values]

    def live_step(self) -> float:
        """The live slider's step (for a log slider: in powers of ten)."""
        if self.step is not None:
            return self.step
        lo, hi = (math.log10(self.min), math.log10(self.max)) if self.scale == "log" else (self.min, self.max)
        if self.live_steps is not None:
            return (hi - lo) / self.live_steps
        if self.integer and self.scale == "linear":
            return 1
        return (hi - lo) / 100


@dataclass(frozen=True)
class Choice:
    """A parameter taking one of a few named options (every option is pre-rendered)."""

    name: str
    options: Sequence[Any]
    default: Any = None
    label: str | None = None

    def __post_init__(self) -> None:
        if len(self.options) < 2:
            raise ValueError(f"Choice {self.name!r} needs at least two options")
        if self.default is not None:
            self.check(self.default)

    @property
    def text(self) -> str:
        return self.label or self.name

    @property
    def initial(self) -> Any:
        return self.options[0] if self.default is None else self.default

    def range_text(self) -> str:
        return "one of " + ", ".join(repr(o) for o in self.options)

    def check(self, value: Any) -> Any:
        for option in self.options:
            if value == option and isinstance(value, bool) == isinstance(option, bool):
                return option
        raise ValueError(f"{self.name} must be {self.range_text()}, got {value!r}")

    def grid(self) -> list:
        return list(self.options)


Parameter = Slider | Choice


@dataclass
class _LiveView:
    """The ipywidgets of one explorer (built lazily, only where ipywidgets is wanted)."""

    box: Any
    controls: dict
    presets: dict
    image: Any
    output: Any
    timings: list = field(default_factory=list)


class Explorer:
    """A figure with sliders that works live, in the static book and in tests.

    Parameters
    ----------
    setup:
        ``setup(fig) -> update``: draws the artists on the (empty) figure and returns
        ``update(**values)``, which changes those artists in place for new parameter values.
    params:
        The :class:`Slider` and :class:`Choice` parameters, in display order (at most two for a
        static scrubber of reasonable weight).
    presets:
        Named settings, e.g. ``{"capacity edge": {"load": 0.14}}``; a preset may name only
        some parameters. Preset values are added to the static grid, so they are shown exactly.
    title, alt:
        A short title shown above the controls and the alternative text of the figure.
    """

    def __init__(
        self,
        setup: Callable[[Figure], Callable[..., Any]],
        params: Sequence[Parameter],
        presets: dict[str, dict[str, Any]] | None = None,
        *,
        title: str,
        alt: str,
        figsize: tuple[float, float] = (7.0, 3.2),
        dpi: int = 90,
    ) -> None:
        if not params:
            raise ValueError("an Explorer needs at least one parameter")
        names = [p.name for p in params]
        if len(set(names)) != len(names):
            raise ValueError(f"parameter names must be unique, got {names}")
        if not alt.strip():
            raise ValueError("alt (the figure's alternative text) must not be empty")
        self.params: dict[str, Parameter] = {p.name: p for p in params}
        self.title = title
        self.alt = alt
        self.dpi = dpi
        self.presets: dict[str, dict[str, Any]] = {}
        for preset_name, preset in (presets or {}).items():
            self.presets[preset_name] = self._checked(preset, context=f"preset {preset_name!r}")

        self.fig = Figure(figsize=figsize, dpi=dpi, layout="constrained")
        FigureCanvasAgg(self.fig)
        self._update = setup(self.fig)
        if not callable(self._update):
            raise TypeError("setup(fig) must return the update(**values) function")
        self.values: dict[str, Any] = {name: p.check(p.initial) for name, p in self.params.items()}
        self._update(**self.values)
        self.fig.canvas.draw()
        # Freeze the layout and the legends after the first draw: frames do not jump,
        # and later draws are faster (the live view redraws only what changed, see blit.py).
        self.fig.set_layout_engine("none")
        freeze_legends(self.fig)
        self._blitter: BlitRenderer | None = None
        self._live: _LiveView | None = None
        self._static_html: str | None = None

    # ------------------------------------------------------------------ headless core
    def _checked(self, values: dict[str, Any], context: str = "") -> dict[str, Any]:
        checked = {}
        for name, value in values.items():
            if name not in self.params:
                where = f" in {context}" if context else ""
                raise ValueError(f"unknown parameter {name!r}{where}; the parameters are {sorted(self.params)}")
            checked[name] = self.params[name].check(value)
        return checked

    def set(self, **values: Any) -> Explorer:
        """Validate ``values`` and update the artists in place (rendering happens in :meth:`png`)."""
        checked = self._checked(values)
        self.values.update(checked)
        self._update(**self.values)
        return self

    def apply_preset(self, name: str) -> Explorer:
        """Jump to a named preset (live controls follow)."""
        if name not in self.presets:
            raise ValueError(f"unknown preset {name!r}; the presets are {list(self.presets)}")
        if self._live is not None:
            self._apply_preset_live(name)
        else:
            self.set(**self.presets[name])
        return self

    def png(self, dpi: float | None = None) -> bytes:
        """Draw the figure and return it as PNG bytes (deterministic: no timestamp or software metadata)."""
        buffer = io.BytesIO()
        self.fig.savefig(buffer, format="png", dpi=dpi or self.dpi, metadata={"Software": None})
        return buffer.getvalue()

    def live_png(self) -> bytes:
        """The live view's frame after :meth:`set`: only the changed artists are redrawn
        (:class:`~nnpuzzles.blit.BlitRenderer`), and the PNG is built for speed (:func:`~nnpuzzles.blit.png_bytes`)."""
        if self._blitter is None:
            self._blitter = BlitRenderer(self.fig)
            self._update(**self.values)  # the artists this touches are the ones to redraw
            return png_bytes(self._blitter.prime())
        return png_bytes(self._blitter.frame())

    # ------------------------------------------------------------------ static HTML
    def _grids(self) -> dict[str, list]:
        grids = {}
        for name, param in self.params.items():
            values = list(param.grid())
            extra = [preset[name] for preset in self.presets.values() if name in preset]
            extra.append(param.check(param.initial))
            for value in extra:
                if value not in values:
                    values.append(value)
            if isinstance(param, Slider):
                values.sort()
            grids[name] = values
        return grids

    def static_html(self) -> str:
        """A self-contained slider over pre-rendered frames: no kernel, no network."""
        if self._static_html is not None:
            return self._static_html
        grids = self._grids()
        n_frames = math.prod(len(g) for g in grids.values())
        if n_frames > MAX_STATIC_FRAMES:
            sizes = {name: len(g) for name, g in grids.items()}
            raise ValueError(
                f"the static scrubber would hold {n_frames} frames (grid sizes {sizes}); "
                f"use fewer frames per parameter (at most {MAX_STATIC_FRAMES} in all)"
            )
        saved = dict(self.values)
        frames = {}
        for index in itertools.product(*(range(len(g)) for g in grids.values())):
            values = {name: grid[i] for (name, grid), i in zip(grids.items(), index, strict=True)}
            self.set(**values)
            frames[",".join(map(str, index))] = base64.b64encode(self.png()).decode("ascii")
        self.set(**saved)

        start = {name: grids[name].index(saved[name]) for name in grids}
        preset_index = {
            preset_name: {name: grids[name].index(value) for name, value in preset.items()}
            for preset_name, preset in self.presets.items()
        }
        digest = hashlib.sha1(
            json.dumps([self.title, frames], sort_keys=True).encode()
        ).hexdigest()[:12]
        uid = f"nnp-{digest}"
        esc = html.escape

        controls = []
        for name, param in self.params.items():
            labels = [_format_value(v) for v in grids[name]]
            controls.append(
                f'<label class="nnp-control">{esc(param.text)} '
                f'<input type="range" min="0" max="{len(labels) - 1}" step="1" value="{start[name]}" '
                f'data-param="{esc(name)}" data-labels="{esc(json.dumps(labels))}" '
                f'aria-label="{esc(param.text)}"> '
                f'<output>{esc(labels[start[name]])}</output></label>'
            )
        buttons = "".join(
            f'<button type="button" class="nnp-preset" data-preset="{esc(json.dumps(idx))}">'
            f"{esc(preset_name)}</button>"
            for preset_name, idx in preset_index.items()
        )
        self._static_html = string.Template(_SCRUBBER_TEMPLATE).substitute(
            uid=uid, slug=esc(slugify(self.title)), title=esc(self.title), alt=esc(self.alt),
            params=esc(json.dumps(list(grids))), presets=esc(json.dumps(list(self.presets))),
            preset_row=f'<div class="nnp-presets"><span>Presets:</span> {buttons}</div>' if buttons else "",
            controls="".join(controls), width=int(self.fig.get_figwidth() * self.dpi), n_frames=n_frames,
            first=frames[",".join(str(start[name]) for name in grids)],
            frames=json.dumps(frames))
        return self._static_html

    # ------------------------------------------------------------------ live ipywidgets
    def _control(self, param: Parameter):
        import ipywidgets as W

        style = {"description_width": "initial"}
        layout = W.Layout(width="30rem")
        value = self.values[param.name]
        if isinstance(param, Slider) and param.grid_only:
            options = [(_format_value(v), v) for v in self._grids()[param.name]]
            return W.SelectionSlider(options=options, value=value, description=param.text, style=style,
                                     layout=layout, continuous_update=True)
        if isinstance(param, Choice):
            return W.ToggleButtons(
                options=list(param.options), value=value, description=param.text, style=style
            )
        if param.scale == "log":
            lo, hi = math.log10(param.min), math.log10(param.max)
            return W.FloatLogSlider(
                value=value, base=10, min=lo, max=hi, step=param.live_step(), description=param.text,
                style=style, layout=layout, continuous_update=True, readout_format=".3g",
            )
        cls = W.IntSlider if param.integer else W.FloatSlider
        kwargs = {} if param.integer else {"readout_format": ".3g"}
        return cls(
            value=value, min=param.min, max=param.max, step=param.live_step(), description=param.text,
            style=style, layout=layout, continuous_update=True, **kwargs,
        )

    def widget(self):
        """The live view: controls, preset buttons, the figure and an output area for errors."""
        if self._live is not None:
            return self._live.box
        import ipywidgets as W

        controls = {name: self._control(param) for name, param in self.params.items()}
        presets = {}
        for preset_name in self.presets:
            button = W.Button(description=preset_name, layout=W.Layout(width="auto"))
            button.on_click(lambda _b, n=preset_name: self._apply_preset_live(n))
            presets[preset_name] = button
        width = int(self.fig.get_figwidth() * self.dpi)
        image = W.Image(value=self.live_png(), format="png", layout=W.Layout(width=f"{width}px", max_width="100%"))
        output = W.Output()
        rows = [W.HTML(f"<b>{html.escape(self.title)}</b>")]
        if presets:
            rows.append(W.HBox([W.Label("Presets:"), *presets.values()], layout=W.Layout(flex_flow="row wrap")))
        rows += [*controls.values(), image, output]
        box = W.VBox(rows)
        self._live = _LiveView(box=box, controls=controls, presets=presets, image=image, output=output)
        for name, control in controls.items():
            control.observe(lambda change, n=name: self._on_control(n, change["new"]), names="value")
        return box

    def _render_live(self, values: dict[str, Any]) -> None:
        """Apply values and show the new frame; any error is shown in the output area."""
        live = self._live
        with LIVE_LOCK:
            start = time.perf_counter()
            try:
                self.set(**values)
                live.image.value = self.live_png()
            except Exception:  # noqa: BLE001 - shown to the reader, never swallowed
                live.output.outputs = ()
                live.output.append_stderr(traceback.format_exc())
                return
            live.output.outputs = ()
            live.timings.append(time.perf_counter() - start)

    def _on_control(self, name: str, value: Any) -> None:
        with LIVE_LOCK:  # after a preset another thread is applying, not in the middle of it
            if getattr(self, "_holding", False):
                return  # this thread's own preset is setting its controls
            param = self.params[name]
            if isinstance(param, Slider) and param.integer and not param.grid_only:
                value = int(round(value))  # a log slider moves over floats
            self._render_live({name: value})

    def _apply_preset_live(self, preset_name: str) -> None:
        preset = self.presets[preset_name]
        with LIVE_LOCK:
            self._holding = True
            try:
                for name, value in preset.items():
                    self._live.controls[name].value = value
            finally:
                self._holding = False
            self._render_live(preset)

    @property
    def step_times(self) -> list[float]:
        """Seconds taken by each live update (set values, update artists, draw, encode PNG)."""
        return [] if self._live is None else list(self._live.timings)

    # ------------------------------------------------------------------ display
    def __repr__(self) -> str:
        params = ", ".join(f"{p.name}: {p.range_text()}" for p in self.params.values())
        presets = ", ".join(self.presets) or "none"
        return f"<Explorer {self.title!r}; {params}; presets: {presets}>"

    def _repr_mimebundle_(self, include=None, exclude=None):
        if not in_kernel():  # a script or a test: the static scrubber is all there is
            return {"text/plain": repr(self), "text/html": self.static_html()}
        # In a kernel the live view comes first; the HTML is what a viewer without the widget sees.
        fallback = self.static_html() if building_the_book() else (
            f'<div class="nnp-explorer nnp-live-only"><b>{html.escape(self.title)}</b>: a live explorer. '
            "Run the cell to use it; the book's pages show it with pre-rendered frames.</div>")
        widget = {k: v for k, v in self.widget()._repr_mimebundle_().items() if k != "text/plain"}
        return {"text/plain": repr(self), "text/html": fallback, **widget}
