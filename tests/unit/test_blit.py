"""Blitted live frames: the same pixels as a full redraw, with most steps skipping the redraw."""

import io

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from nnpuzzles import Explorer, Slider
from nnpuzzles.blit import TOLERANCE_LEVELS, BlitRenderer, LiveFrameMismatch
from nnpuzzles.style import use_book_style
from PIL import Image


@pytest.fixture(autouse=True)
def book_style():
    use_book_style()  # grid lines, as in the chapters: static artists between changed ones


def busy_figure():
    """Two axes mixing what chapters change: a filled histogram under grid lines, a line and a
    marker over them, an image, a changing title and a legend on top."""
    fig = Figure(figsize=(6, 3), dpi=80)
    FigureCanvasAgg(fig)
    ax_hist, ax_image = fig.subplots(1, 2)
    bins = np.linspace(0, 1, 31)
    bars = ax_hist.stairs(np.zeros(30), bins, fill=True, label="histogram")
    (curve,) = ax_hist.plot(bins, np.zeros_like(bins), "k--", label="curve")
    marker = ax_hist.axvline(0.5, color="C3")
    ax_hist.axhline(1.0, color="0.5", zorder=2.2)  # static, between the changed artists
    ax_hist.set(xlim=(0, 1), ylim=(0, 2), xlabel="x (units)", ylabel="density")
    ax_hist.legend(loc="upper right")
    title = ax_hist.set_title("")
    image = ax_image.imshow(np.zeros((8, 8)), vmin=0, vmax=1)
    ax_image.set_xticks([])
    ax_image.set_yticks([])

    def update(step):
        rng = np.random.default_rng(step)
        bars.set_data(rng.random(30) * 1.8)
        curve.set_ydata(rng.random(31))
        marker.set_xdata([step / 20, step / 20])
        image.set_data(rng.random((8, 8)))
        title.set_text(f"step {step}: $\\alpha$ = {step / 7:.3f}")

    fig.canvas.draw()
    fig.set_layout_engine("none")  # as the explorer does after its first draw
    return fig, update


def primed(fig, update, check=True):
    """A renderer whose layers are set up after update(0); with check, every frame is compared
    with a full redraw (LiveFrameMismatch otherwise)."""
    renderer = BlitRenderer(fig)
    renderer.check = check
    update(0)
    renderer.prime()
    return renderer


def run_steps(renderer, update, steps):
    for step in steps:
        update(step)
        renderer.frame()


def test_blitted_frames_match_full_redraws():
    fig, update = busy_figure()
    renderer = primed(fig, update)
    for step in range(1, 12):
        update(step)
        frame = renderer.frame()
        assert frame.shape == (240, 480, 3)
    assert renderer.blits == 12, "every step after the first should be blitted"


def test_blitting_skips_the_full_redraw():
    fig, update = busy_figure()
    renderer = primed(fig, update, check=False)
    draws_after_setup = renderer.full_draws
    run_steps(renderer, update, range(1, 20))
    assert renderer.full_draws == draws_after_setup, "steps that change only the same artists must not redraw"


def test_changed_limits_force_a_full_redraw_and_stay_correct():
    fig, update = busy_figure()
    ax = fig.axes[0]
    renderer = primed(fig, update)
    full = renderer.full_draws
    update(1)
    ax.set_ylim(0, 3)  # the background's ticks and grid move: a blitted frame would be wrong
    frame = renderer.frame()
    assert renderer.full_draws == full + 1
    np.testing.assert_array_equal(frame, renderer.full_frame())
    run_steps(renderer, update, [2, 3])  # the same view again: layers rebuilt, blitted, checked
    assert renderer.blits >= 2



def test_a_view_seen_before_is_blitted_over_its_own_layers():
    """A toggle that changes the limits (chapter 8's method, 13's view, 14's window) goes back and
    forth between a few views: each is drawn in full once, then blitted, every frame checked."""
    fig, update = busy_figure()
    ax = fig.axes[0]
    renderer = primed(fig, update)
    views = [(0, 2), (0, 3), (-1, 2)]
    for step, view in enumerate(views * 2, start=1):  # first visits, then returns
        update(step)
        ax.set_ylim(*view)
        renderer.frame()
        update(step + 100)  # a slider step in the same view
        renderer.frame()
    full = renderer.full_draws
    blits = renderer.blits
    for step, view in enumerate(views * 2, start=200):
        update(step)
        ax.set_ylim(*view)
        renderer.frame()
    assert renderer.full_draws == full and renderer.blits == blits + 6, "returns to a view must not redraw"


def test_a_view_cached_before_an_artist_started_changing_is_rebuilt():
    fig, update = busy_figure()
    ax = fig.axes[0]
    renderer = primed(fig, update)
    note = ax.text(0.1, 1.5, "static so far")
    fig.canvas.draw()
    for step, view in enumerate([(0, 2), (0, 3), (0, 3), (0, 2), (0, 2)], start=1):
        update(step)
        ax.set_ylim(*view)
        renderer.frame()
    note.set_text("now it changes")  # the layers of (0, 3) hold the old note as static
    ax.set_ylim(0, 3)
    update(9)
    renderer.frame()  # checked against a full redraw: must not paste the old note
    assert note in renderer.dynamic

def test_a_newly_changed_artist_joins_the_redrawn_ones():
    fig, update = busy_figure()
    renderer = primed(fig, update)
    extra = fig.axes[0].text(0.1, 1.5, "static so far")
    fig.canvas.draw()
    update(1)
    renderer.frame()
    update(2)
    extra.set_text("now it changes")
    renderer.frame()
    assert extra in renderer.dynamic


def test_the_check_catches_a_change_the_renderer_missed():
    """The check has teeth: an artist changed without matplotlib's stale flag is drawn stale."""
    fig, update = busy_figure()
    renderer = BlitRenderer(fig)
    renderer.check = True
    update(0)
    renderer.prime()
    (hidden,) = [line for line in fig.axes[0].lines if line.get_zorder() == 2.2]  # the static one
    hidden.set_ydata([1.9, 1.9])
    hidden.stale = False  # pretend nothing told the figure
    update(1)
    with pytest.raises(LiveFrameMismatch, match="differs from a full redraw"):
        renderer.frame()


def test_an_active_layout_engine_means_full_redraws():
    fig, update = busy_figure()
    fig.set_layout_engine("constrained")  # moves the axes whenever the title's size changes
    renderer = primed(fig, update, check=False)
    run_steps(renderer, update, range(1, 4))
    assert renderer.blits == 0 and renderer.full_draws == 4


def decode(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)


def test_explorer_live_frames_match_its_static_frames():
    """What the live slider shows is what the static book shows for the same value."""

    def setup(fig):
        ax = fig.subplots()
        x = np.linspace(0, 1, 100)
        (line,) = ax.plot(x, x, label="signal")
        ax.plot(x, 1 - x, label="reference")
        ax.legend()  # loc="best": frozen by the explorer, so it cannot jump between frames
        title = ax.set_title("")
        ax.set(ylim=(-1.2, 1.2), xlabel="time (s)", ylabel="amplitude")

        def update(frequency):
            line.set_ydata(np.sin(2 * np.pi * frequency * x))
            title.set_text(f"f = {frequency:.2f} Hz")

        return update

    explorer = Explorer(setup, [Slider("frequency", 0.5, 3.0, default=1.0)], title="t", alt="a sine")
    explorer.live_png()  # the first live frame sets up the layers
    for frequency in (0.5, 1.7, 3.0, 2.2):
        live = decode(explorer.set(frequency=frequency).live_png())
        static = decode(explorer.png())
        assert np.abs(live - static).max() <= TOLERANCE_LEVELS
    assert explorer._blitter.blits >= 4


def test_static_titles_stay_in_the_cached_layers():
    """Drawing re-places axes titles (flagging them stale); that must not make them redrawn per step."""
    fig = Figure(figsize=(6, 2), dpi=80)
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, 3)
    images = [ax.imshow(np.zeros((4, 4)), vmin=0, vmax=1) for ax in axes]
    for k, ax in enumerate(axes):
        ax.set_title(f"panel {k}")
    fig.canvas.draw()
    fig.set_layout_engine("none")

    def update(step):
        for image in images:
            image.set_data(np.random.default_rng(step).random((4, 4)))

    renderer = primed(fig, update)
    draws = renderer.full_draws
    run_steps(renderer, update, range(1, 6))
    assert renderer.full_draws == draws
    assert not [a for a in renderer.dynamic if getattr(a, "get_text", lambda: "")()], \
        "static titles were taken for changed artists"


def test_png_bytes_is_lossless_and_checks_its_input():
    from nnpuzzles.blit import png_bytes

    rgb = np.random.default_rng(0).integers(0, 256, (37, 53, 3), dtype=np.uint8)
    np.testing.assert_array_equal(np.asarray(Image.open(io.BytesIO(png_bytes(rgb)))), rgb)
    with pytest.raises(ValueError, match="uint8"):
        png_bytes(rgb.astype(float))


def test_texts_seen_before_are_pasted_and_match_a_full_redraw():
    """A heat map with a number in every cell, switching between two matrices (as a Choice does)."""
    fig = Figure(figsize=(4, 3), dpi=80)
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    matrices = [np.random.default_rng(seed).random((4, 4)) for seed in (0, 1)]
    image = ax.imshow(matrices[0], vmin=0, vmax=1)
    labels = [[ax.text(j, i, "", ha="center", va="center", fontsize=8, rotation=10 * (i == j))
               for j in range(4)] for i in range(4)]
    title = ax.set_title("")
    fig.canvas.draw()
    fig.set_layout_engine("none")

    def update(step):
        matrix = matrices[step % 2]
        image.set_data(matrix)
        for i in range(4):
            for j in range(4):
                labels[i][j].set_text(f"{matrix[i, j]:.2f}")
                labels[i][j].set_color("white" if matrix[i, j] < 0.5 else "black")
        title.set_text(f"matrix {step % 2}: $\\sum$ = {matrix.sum():.2f}")

    renderer = primed(fig, update)
    run_steps(renderer, update, range(1, 6))
    assert renderer.sprite_hits >= 4 * 17, "texts drawn before should be pasted from the cache"


def capacity_explorer(monkeypatch):
    """Chapter 1's capacity explorer in miniature: two filled histograms under grid lines, a theory
    curve, a marker on the right-hand axes with a legend, a per-frame title, and a note that only
    the second parameter changes (static until a preset sets both parameters at once)."""
    monkeypatch.setenv("NNPUZZLES_CHECK_LIVE_FRAMES", "1")  # every live frame against a full redraw
    bins = np.linspace(-1.5, 3.5, 81)
    centers = 0.5 * (bins[1:] + bins[:-1])
    loads = np.linspace(0.1, 0.22, 13)

    def setup(fig):
        ax_hist, ax_curve = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.2, 1]})
        kept = ax_hist.stairs(np.zeros(80), bins, fill=True, color="C4")
        flipped = ax_hist.stairs(np.zeros(80), bins, fill=True, color="C3")
        (gauss,) = ax_hist.plot(centers, np.zeros_like(centers), "k--", lw=1.2)
        ax_hist.set(xlim=(-1.5, 3.5), ylim=(0, 2.4), xlabel="stability", ylabel="density")
        title = ax_hist.set_title("")
        note = ax_hist.text(0.97, 0.95, "", transform=ax_hist.transAxes, ha="right", va="top")
        for k in range(3):
            ax_curve.plot(loads, 1 / (1 + np.exp((loads - 0.14 - 0.02 * k) * 80)), label=f"N = {k}")
        marker = ax_curve.axvline(0.1, color="k")
        ax_curve.set(xlim=(0, 0.3), ylim=(-0.02, 1.02), xlabel="load", ylabel="fraction retrieved")
        ax_curve.legend(fontsize=8, loc="lower left")

        def update(load, width):
            density = np.exp(-((centers - 1) ** 2) / (2 * load * width)) / np.sqrt(2 * np.pi * load * width)
            kept.set_data(np.where(centers >= 0, density, 0.0))
            flipped.set_data(np.where(centers < 0, density, 0.0))
            gauss.set_ydata(density)
            marker.set_xdata([load, load])
            title.set_text(f"α = {load:.3f}: {density[centers < 0].sum() * 0.0625:.2%} flip")
            note.set_text(f"width × {width:g}")  # unchanged (so never stale) until width moves

        return update

    return Explorer(setup, [Slider("load", 0.02, 0.30, default=0.1), Slider("width", 0.5, 2.0, default=1.0)],
                    presets={"few memories (α = 0.05)": {"load": 0.05, "width": 0.5}},
                    title="capacity", alt="histogram and retrieval curves", figsize=(8.0, 3.3))


FULL_REDRAWS = {
    "png": lambda explorer: explorer.png(),
    "png at another dpi": lambda explorer: explorer.png(dpi=45),
    "canvas.draw": lambda explorer: explorer.fig.canvas.draw(),
}


@pytest.mark.parametrize("redraw", FULL_REDRAWS)
def test_a_full_redraw_between_two_blits_leaves_the_live_frames_right(monkeypatch, redraw):
    """The live-frame mismatch of chapter 1's capacity explorer (issue 11): a preset sets both
    parameters, a full redraw of the figure comes before the next blit. The full redraw clears the
    ``stale`` flags, so the note the preset changed (static so far, in the cached background) looked
    unchanged to the next frame, which showed the old note: 568 pixels off, largest difference 255.
    The renderer now drops its layers after any full redraw it did not make itself."""
    explorer = capacity_explorer(monkeypatch)
    full_redraw = FULL_REDRAWS[redraw]
    explorer.live_png()
    explorer.set(load=0.12).live_png()
    explorer.apply_preset("few memories (α = 0.05)")
    full_redraw(explorer)
    explorer.live_png()  # compared with a full redraw: LiveFrameMismatch before the fix
    blits = explorer._blitter.blits
    for load in (0.2, 0.25):  # and blitting goes on afterwards, over rebuilt layers
        explorer.set(load=load).live_png()
    assert explorer._blitter.blits == blits + 2


def test_full_redraws_in_any_order_with_blits(monkeypatch):
    """Full redraws before the first live frame, between an update and its frame, right after a
    frame, twice in a row: every live frame still equals a full redraw."""
    explorer = capacity_explorer(monkeypatch)
    explorer.png()
    explorer.set(width=1.5)
    explorer.fig.canvas.draw()
    explorer.live_png()
    sequence = [("set", {"load": 0.2}), ("png",), ("live",), ("set", {"width": 0.7}), ("live",), ("png",),
                ("draw",), ("set", {"load": 0.03, "width": 2.0}), ("png",), ("live",), ("live",),
                ("preset",), ("live",), ("set", {"width": 1.0}), ("draw",), ("png",), ("live",)]
    for step in sequence:
        if step[0] == "set":
            explorer.set(**step[1])
        elif step[0] == "preset":
            explorer.apply_preset("few memories (α = 0.05)")
        elif step[0] == "png":
            explorer.png()
        elif step[0] == "draw":
            explorer.fig.canvas.draw()
        else:
            explorer.live_png()
    assert explorer._blitter.blits >= 6


def test_freezing_the_legends_keeps_their_pixels():
    """Legends are pinned after the first draw (a loc="best" one would move with the data); a legend
    at a named place is pinned to that same place, so its pixels do not change."""
    from nnpuzzles.blit import freeze_legends

    def png(fig):
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png")
        return buffer.getvalue()

    for loc in ("best", "upper right", "center left", "lower center", (0.3, 0.4)):
        fig = Figure(figsize=(6, 3), dpi=80)
        FigureCanvasAgg(fig)
        ax = fig.subplots()
        for k in range(3):
            ax.plot(np.arange(5), k * np.arange(5), label=f"line {k}")
        legend = ax.legend(loc=loc, fontsize=8)
        fig.canvas.draw()
        before = png(fig)
        freeze_legends(fig)
        assert png(fig) == before, loc
        box = legend.get_window_extent()
        ax.lines[0].set_ydata([4, 4, 4, 4, 4])  # data that a loc="best" legend would avoid
        fig.canvas.draw()
        np.testing.assert_allclose(legend.get_window_extent().bounds, box.bounds, atol=1e-6, err_msg=str(loc))


def test_controls_moved_from_two_threads_at_once_give_right_frames(monkeypatch):
    """JupyterLab sends widget messages over kernel subshells, handled in threads of their own: a
    key press on a slider and a preset click can be handled at the same time (the intermittent
    mismatch of chapter 1's capacity explorer in the JupyterLab test). Every frame is checked
    against a full redraw; the explorer's lock makes the two updates take turns."""
    import threading

    explorer = capacity_explorer(monkeypatch)
    explorer.widget()
    live = explorer._live
    errors = []

    def watch():
        if live.output.outputs:
            errors.append(live.output.outputs[0]["text"][-300:])

    def drag():
        for k in range(40):
            live.controls["load"].value = 0.06 + 0.005 * (k % 30)
            watch()

    def presets():
        for _ in range(20):
            explorer._apply_preset_live("few memories (α = 0.05)")
            watch()
            live.controls["width"].value = 1.5
            watch()

    threads = [threading.Thread(target=drag), threading.Thread(target=presets)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors[0]
    assert explorer._blitter.blits > 40
