"""Fast live frames: redraw only the artists an update changed.

A full Agg redraw of a chapter figure costs 50-200 ms on the book's 2-core machine, most of it
in the axes' ticks and labels, which a slider step never changes. :class:`BlitRenderer` keeps
the figure as cached layers and, on each step, redraws only the artists in between:

* **background**: everything drawn before the first changed artist of each axes (figure and
  axes backgrounds, grid, ticks, labels, static curves), saved once as pixels;
* **changed**: the artists the update touched (found through matplotlib's ``stale`` flags),
  redrawn in the order ``Axes.draw`` would draw them; a changed text drawn before (same string,
  place and style) is pasted from a sprite cache;
* **overlays**: the static artists that ``Axes.draw`` puts between or on top of changed ones
  (grid over a filled histogram, spines, legends), rendered once on a transparent canvas per
  level and composited in draw order, so the stacking is the same as in a full redraw.

The layers are rebuilt whenever the update touches a new artist, and after any full redraw of
the figure that the renderer did not make itself (``savefig``, ``Explorer.png``, ``canvas.draw``:
seen through the canvas's ``draw_event``), because such a draw consumes the ``stale`` flags that
tell which artists changed. A step that changes the axes' limits, scales, labels or position (or
the figure's size) gets a plain full redraw, as does every step of a figure whose layout engine
is still active (``Explorer`` freezes the layout after its first draw). Legends are expected at a
fixed place (:func:`freeze_legends`; ``Explorer`` does it): a ``loc="best"`` legend moves with
the data at every full redraw. The frames match a full redraw to within rounding (the package's
tests and, with ``NNPUZZLES_CHECK_LIVE_FRAMES=1``, every live step of the JupyterLab test compare
the two). Only public matplotlib API is used: ``animated``/``visible`` flags, ``canvas.draw``,
``copy_from_bbox``/``restore_region``, ``buffer_rgba``, ``Artist.draw`` and ``stale``.
"""

from __future__ import annotations

import os
import struct
import zlib
from contextlib import contextmanager

import numpy as np
from matplotlib import colors as mcolors
from matplotlib.artist import Artist
from matplotlib.backends.backend_agg import RendererAgg
from matplotlib.figure import Figure
from matplotlib.layout_engine import PlaceHolderLayoutEngine
from matplotlib.legend import Legend
from matplotlib.text import Text

__all__ = ["BlitRenderer", "LiveFrameMismatch", "freeze_legends", "png_bytes"]

#: Environment switch: compare every blitted frame with a full redraw (for tests).
CHECK_ENV = "NNPUZZLES_CHECK_LIVE_FRAMES"
#: Views whose layers are kept (each is a copy of the figure's pixels).
MAX_VIEWS = 8
#: A blitted frame may differ from a full redraw by rounding in the compositing only.
TOLERANCE_LEVELS = 3


class LiveFrameMismatch(AssertionError):
    """A blitted frame differs from a full redraw of the same figure."""


@contextmanager
def _temporarily(artists, **properties):
    """Set ``animated``/``visible`` on artists and restore the old values afterwards."""
    saved = [(a, {name: getattr(a, f"get_{name}")() for name in properties}) for a in artists]
    try:
        for artist, _ in saved:
            for name, value in properties.items():
                getattr(artist, f"set_{name}")(value)
        yield
    finally:
        for artist, old in saved:
            for name, value in old.items():
                getattr(artist, f"set_{name}")(value)


def freeze_legends(fig: Figure) -> None:
    """Pin every legend at the place it has now, so that it no longer moves with the data.

    ``loc="best"`` picks one of the named places (``Legend.codes``) at every full redraw, away
    from the data, so a blitted frame (which keeps the legend in a cached layer) would differ from
    a full redraw. Each legend gets the named place that puts it where it is (for a named legend,
    its own, so its pixels do not change), or, if none does, that place as coordinates in its
    anchor box.
    """
    renderer = fig.canvas.get_renderer()
    for legend in [*fig.legends, *(ax.get_legend() for ax in fig.axes)]:
        if legend is None:
            continue
        where = legend.get_window_extent(renderer)
        for code in range(1, len(Legend.codes)):  # the candidates of loc="best", in its order
            legend.set_loc(code)
            if np.allclose(legend.get_window_extent(renderer).bounds, where.bounds, rtol=0, atol=1e-6):
                break
        else:
            parent = legend.get_bbox_to_anchor()
            legend.set_loc(((where.x0 - parent.x0) / max(parent.width, 1e-12),
                            (where.y0 - parent.y0) / max(parent.height, 1e-12)))
        legend.stale = False  # it stays where the last draw put it: nothing to redraw


class BlitRenderer:
    """Renders a figure's live frames as RGB arrays, blitting when the update allows it."""

    def __init__(self, fig: Figure) -> None:
        self.fig = fig
        self.dynamic: set[Artist] = set()  # artists some update has changed
        self.full_draws = 0
        self.blits = 0
        self.check = os.environ.get(CHECK_ENV, "") not in ("", "0")
        self._signature = None  # the figure's static configuration at the last frame
        self._layers = None  # (background pixels, [(changed artists, overlay)])
        # The layers of every view seen (a toggle that changes the limits goes back and forth):
        # signature -> (the dynamic artists they were built for, layers).
        self._views: dict = {}
        self._sprites: dict = {}  # rendered changed texts, by everything that sets their pixels
        self._sprite_canvas: RendererAgg | None = None
        self.sprite_hits = 0
        # Any full redraw the renderer does not make itself invalidates the layers (see _on_draw).
        self._own_draw = False
        self.external_draws = 0
        fig.canvas.mpl_connect("draw_event", self._on_draw)

    def _on_draw(self, event) -> None:
        """A full redraw of the figure by someone else (``savefig``, ``canvas.draw``, ...).

        It clears the ``stale`` flags of what it drew, so a change made before it is invisible to
        the next frame: an artist the layers hold as static would stay in them as it was. Drop the
        layers; the next frame rebuilds them from the figure as it is then.
        """
        if not self._own_draw:
            self._layers = None
            self._views.clear()
            self.external_draws += 1

    @contextmanager
    def _drawing(self):
        self._own_draw = True
        try:
            yield
        finally:
            self._own_draw = False

    # ---------------------------------------------------------------- what changed
    def _owners(self):
        """(owner, its drawable children in draw order) for every axes and the figure itself."""
        for ax in self.fig.axes:
            children = [a for a in ax.get_children() if a is not ax.patch]
            yield ax, sorted(children, key=lambda a: a.get_zorder())  # stable, like Axes.draw
        figure_level = [a for a in self.fig.get_children() if a is not self.fig.patch and a not in self.fig.axes]
        yield self.fig, sorted(figure_level, key=lambda a: a.get_zorder())

    def _changed(self) -> set[Artist]:
        return {a for _, children in self._owners() for a in children if a.stale}

    def signature(self) -> tuple:
        """What a cached background depends on besides the changed artists."""
        parts = [tuple(self.fig.bbox.bounds), self.fig.dpi]
        parts += [tuple(map(id, children)) for _, children in self._owners()]  # artists added or removed
        for ax in self.fig.axes:
            parts.append((ax.get_visible(), tuple(ax.viewLim.bounds), tuple(ax.get_position().bounds),
                          ax.get_xscale(), ax.get_yscale(), ax.xaxis.label.get_text(),
                          ax.yaxis.label.get_text(), ax.axison))
        return tuple(parts)

    def _layout_is_fixed(self) -> bool:
        """A layout engine moves the axes at every draw (e.g. to fit a longer title): no blitting."""
        engine = self.fig.get_layout_engine()
        return engine is None or isinstance(engine, PlaceHolderLayoutEngine)

    # ---------------------------------------------------------------- rendering
    def _rgb(self) -> np.ndarray:
        return np.asarray(self.fig.canvas.buffer_rgba())[..., :3].copy()

    def full_frame(self) -> np.ndarray:
        """A plain full redraw."""
        with self._drawing():
            self.fig.canvas.draw()
        self.full_draws += 1
        return self._rgb()

    def _runs(self) -> list[tuple[list[Artist], list[Artist]]]:
        """The draw order cut into levels: (changed artists, static artists drawn over them).

        In each owner's draw order, the static artists before the first changed one belong to
        the background; after it, changed and static runs alternate. Level ``k`` holds every
        owner's ``k``-th changed run and the static run that follows it.
        """
        levels: list[tuple[list[Artist], list[Artist]]] = []
        for _owner, children in self._owners():
            runs: list[list[Artist]] = []
            started = False
            for artist in children:
                is_dynamic = artist in self.dynamic
                started = started or is_dynamic
                if not started:
                    continue
                if not runs or (len(runs) % 2 == 1) != is_dynamic:
                    runs.append([])
                runs[-1].append(artist)
            for k in range(0, len(runs), 2):
                if len(levels) <= k // 2:
                    levels.append(([], []))
                levels[k // 2][0].extend(runs[k])
                if k + 1 < len(runs):
                    levels[k // 2][1].extend(runs[k + 1])
        return levels

    def _build_layers(self) -> None:
        canvas = self.fig.canvas
        levels = self._runs()
        everything = [a for _, children in self._owners() for a in children]
        backgrounds = [self.fig.patch, *(ax.patch for ax in self.fig.axes)]
        steps = []
        for changed, static in levels:
            overlay = None
            if static:
                # The static artists drawn over this level, alone on a transparent canvas.
                shown = set(static)
                with _temporarily([a for a in everything if a not in shown], animated=True), \
                        _temporarily(backgrounds, visible=False), self._drawing():
                    canvas.draw()
                self.full_draws += 1
                rgba = np.asarray(canvas.buffer_rgba()).reshape(-1, 4)
                where = np.flatnonzero(rgba[:, 3])
                alpha = rgba[where, 3:4].astype(np.uint32)
                overlay = (where, alpha, rgba[where, :3].astype(np.uint32) * alpha)
            steps.append((changed, overlay))
        # The background: everything before each owner's first changed artist.
        with _temporarily([a for changed, static in levels for a in (*changed, *static)], animated=True), \
                self._drawing():
            canvas.draw()
        self.full_draws += 1
        # The static artists are in the layers as they are now. Drawing can flag some of them stale
        # (Axes.draw re-places the titles) without a change that matters: only later changes count.
        for artist in everything:
            if artist not in self.dynamic:
                artist.stale = False
        self._layers = (canvas.copy_from_bbox(self.fig.bbox), steps)
        if len(self._views) >= MAX_VIEWS:
            self._views.clear()
        self._views[self._signature] = (frozenset(self.dynamic), self._layers)

    def _blit(self) -> np.ndarray:
        below, steps = self._layers
        canvas = self.fig.canvas
        canvas.restore_region(below)
        renderer = canvas.get_renderer()
        buffer = np.asarray(canvas.buffer_rgba()).reshape(-1, 4)
        for changed, overlay in steps:
            for artist in changed:
                self._draw(artist, renderer, buffer)
            if overlay is not None:
                where, alpha, premultiplied = overlay
                under = buffer[where, :3].astype(np.uint32)
                buffer[where, :3] = (under * (255 - alpha) + premultiplied + 127) // 255
        for ax in self.fig.axes:  # drawn now, as a full redraw would have left them
            ax.stale = False
        self.fig.stale = False
        self.blits += 1
        return self._rgb()

    # ---------------------------------------------------------------- text sprites
    # Laying out and rasterising text is the dearest part of a blitted frame (about 1-2 ms a
    # label; a heat map with a number in every cell has dozens). A changed text whose string,
    # place and style were drawn before is pasted from its pixels instead.

    @staticmethod
    def _sprite_key(text: Artist, renderer) -> tuple | None:
        if type(text) is not Text or text.get_bbox_patch() is not None or text.get_path_effects() \
                or text.get_usetex() or not text.get_visible() or text.get_text() == "":
            return None
        x, y = text.get_transform().transform(text.get_unitless_position())
        if not (np.isfinite(x) and np.isfinite(y)):
            return None
        clip = text.get_clip_box()
        return (text.get_text(), round(x, 2), round(y, 2), mcolors.to_rgba(text.get_color()),
                text.get_alpha(), hash(text.get_fontproperties()), text.get_rotation(),
                text.get_rotation_mode(), text.get_horizontalalignment(), text.get_verticalalignment(),
                text.get_linespacing(), text.get_antialiased(), text.get_clip_on(),
                None if clip is None else tuple(clip.bounds), renderer.dpi)

    def _render_sprite(self, text: Text, renderer):
        width, height = int(renderer.width), int(renderer.height)
        canvas = self._sprite_canvas
        if canvas is None or (canvas.width, canvas.height, canvas.dpi) != (width, height, renderer.dpi):
            canvas = self._sprite_canvas = RendererAgg(width, height, renderer.dpi)
        canvas.clear()
        text.draw(canvas)
        box = text.get_window_extent(renderer)  # (and the text measures with the live renderer again)
        x0, x1 = max(int(box.x0) - 2, 0), min(int(np.ceil(box.x1)) + 2, width)
        y0, y1 = max(height - int(np.ceil(box.y1)) - 2, 0), min(height - int(box.y0) + 2, height)
        patch = np.asarray(canvas.buffer_rgba())[y0:y1, x0:x1]
        alpha = patch[..., 3:4].astype(np.uint32)
        return (slice(y0, y1), slice(x0, x1)), alpha, patch[..., :3].astype(np.uint32) * alpha

    def _draw(self, artist: Artist, renderer, buffer: np.ndarray) -> None:
        key = self._sprite_key(artist, renderer)
        if key is None:
            artist.draw(renderer)
            return
        sprite = self._sprites.get(key)
        if sprite is None:
            if len(self._sprites) > 4096:
                self._sprites.clear()
            sprite = self._sprites[key] = self._render_sprite(artist, renderer)
        else:
            self.sprite_hits += 1
        (rows, cols), alpha, premultiplied = sprite
        pixels = buffer.reshape(int(renderer.height), int(renderer.width), 4)[rows, cols, :3]
        pixels[...] = (pixels.astype(np.uint32) * (255 - alpha) + premultiplied + 127) // 255
        artist.stale = False

    def frame(self) -> np.ndarray:
        """The figure as an (height, width, 3) uint8 array after an update."""
        changed = self._changed()
        signature = self.signature()
        same_view = signature == self._signature and self._layout_is_fixed()
        self._signature = signature
        if not same_view:
            # Limits, labels or size changed: the current background is stale. A view seen before
            # has its layers, valid if built for the same dynamic artists (a static artist then
            # was static since); a new view is redrawn in full, and its layers are built if the
            # next step keeps it.
            self.dynamic |= changed
            seen = self._views.get(signature) if self._layout_is_fixed() else None
            if seen is None or seen[0] != self.dynamic:
                self._layers = None
                return self.full_frame()
            self._layers = seen[1]
        if self._layers is None or not changed <= self.dynamic:
            self.dynamic |= changed
            if not self.dynamic:
                return self.full_frame()
            self._build_layers()
        frame = self._blit()
        if self.check:
            self._compare(frame)
        return frame

    def prime(self) -> np.ndarray:
        """The first frame: the update has just run once, so its stale artists are the dynamic ones."""
        self.dynamic |= self._changed()
        self._signature = self.signature()
        if not self.dynamic or not self._layout_is_fixed():
            return self.full_frame()
        self._build_layers()
        return self._blit()

    def _compare(self, frame: np.ndarray) -> None:
        # The reference is drawn on a renderer of its own, so the check leaves the canvas (and
        # so the live path it checks) exactly as it was.
        width, height = self.fig.canvas.get_width_height(physical=True)
        reference_renderer = RendererAgg(width, height, self.fig.dpi)
        with self._drawing():
            self.fig.draw(reference_renderer)
        reference = np.asarray(reference_renderer.buffer_rgba())[..., :3]
        difference = np.abs(frame.astype(np.int16) - reference.astype(np.int16)).max(axis=-1)
        bad = int((difference > TOLERANCE_LEVELS).sum())
        if bad:
            names = sorted(type(a).__name__ for a in self.dynamic)
            raise LiveFrameMismatch(
                f"the blitted live frame differs from a full redraw in {bad} pixels "
                f"(largest difference {int(difference.max())} levels); changed artists: {names}"
            )


def png_bytes(rgb: np.ndarray) -> bytes:
    """A (height, width, 3) uint8 array as a PNG, built for speed: no row filters and zlib level 1.

    About 3-4 ms for a chapter's figure, against 9-14 ms for Pillow at its lowest compression
    (which still tries every row filter); the files are about as small, since a figure is mostly
    flat colour. Lossless: decoding gives back the array.
    """
    height, width, channels = rgb.shape
    if channels != 3 or rgb.dtype != np.uint8:
        raise ValueError(f"png_bytes needs a (height, width, 3) uint8 array, got {rgb.shape} {rgb.dtype}")
    rows = np.zeros((height, 1 + 3 * width), np.uint8)  # each row: filter type 0 (none), then pixels
    rows[:, 1:] = rgb.reshape(height, -1)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB, no interlace
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(rows.tobytes(), 1)) + chunk(b"IEND", b""))
