"""The explorer: values in, figure changed; presets; static HTML; clear errors."""

import base64
import json
import re

import numpy as np
import pytest
from nnpuzzles import Choice, Explorer, Slider


def sine_setup(fig):
    ax = fig.subplots()
    x = np.linspace(0, 1, 50)
    (line,) = ax.plot(x, np.zeros_like(x))
    title = ax.set_title("")
    ax.set_ylim(-2, 2)

    def update(frequency, shape):
        y = np.sin(2 * np.pi * frequency * x)
        line.set_ydata(np.sign(y) if shape == "square" else y)
        title.set_text(f"{shape} wave, f = {frequency:.2f}")

    return update


def make_explorer(**kwargs):
    return Explorer(
        sine_setup,
        [Slider("frequency", 0.5, 4.0, default=1.0, frames=5), Choice("shape", ["sine", "square"])],
        presets={"slow square": {"frequency": 0.5, "shape": "square"}, "odd": {"frequency": 1.3}},
        title="A wave",
        alt="A sine or square wave whose frequency the slider sets.",
        **kwargs,
    )


def line_y(explorer):
    return explorer.fig.axes[0].lines[0].get_ydata().copy()


def test_set_updates_artists_in_place():
    explorer = make_explorer()
    line = explorer.fig.axes[0].lines[0]
    before = line_y(explorer)
    png_before = explorer.png()
    explorer.set(frequency=2.0)
    assert explorer.fig.axes[0].lines[0] is line, "the artist must be updated, not re-created"
    assert not np.allclose(line_y(explorer), before)
    assert explorer.fig.axes[0].get_title() == "sine wave, f = 2.00"
    assert explorer.png() != png_before


def test_presets_set_named_values():
    explorer = make_explorer()
    explorer.apply_preset("slow square")
    assert explorer.values == {"frequency": 0.5, "shape": "square"}
    assert set(np.unique(line_y(explorer))) <= {-1.0, 0.0, 1.0}


@pytest.mark.parametrize(
    "values, message",
    [
        ({"frequency": 9.0}, r"frequency must be a number in \[0.5, 4\], got 9.0"),
        ({"frequency": "fast"}, r"frequency must be a number in \[0.5, 4\]"),
        ({"frequency": float("nan")}, r"frequency must be a number in \[0.5, 4\]"),
        ({"shape": "triangle"}, r"shape must be one of 'sine', 'square', got 'triangle'"),
        ({"phase": 1.0}, r"unknown parameter 'phase'; the parameters are \['frequency', 'shape'\]"),
    ],
)
def test_bad_values_raise_clear_errors(values, message):
    explorer = make_explorer()
    with pytest.raises(ValueError, match=message):
        explorer.set(**values)


def test_bad_definitions_raise_clear_errors():
    with pytest.raises(ValueError, match=r"frequency must be a number in \[0.5, 4\], got 7"):
        Explorer(sine_setup, [Slider("frequency", 0.5, 4.0), Choice("shape", ["sine", "square"])],
                 presets={"bad": {"frequency": 7}}, title="t", alt="a")
    with pytest.raises(ValueError, match="unknown preset 'nope'"):
        make_explorer().apply_preset("nope")
    with pytest.raises(ValueError, match="integer in"):
        Slider("patterns", 1, 10, integer=True).check(2.5)
    with pytest.raises(ValueError, match="log slider needs min > 0"):
        Slider("beta", 0, 10, scale="log")
    with pytest.raises(ValueError, match="alt"):
        Explorer(sine_setup, [Slider("frequency", 0.5, 4.0)], title="t", alt=" ")


def test_log_slider_grid_is_geometric():
    grid = Slider("beta", 0.1, 1000, scale="log", frames=5).grid()
    assert grid == [0.1, 1.0, 10.0, 100.0, 1000.0]
    assert Slider("patterns", 1, 10, integer=True, frames=4).grid() == [1, 4, 7, 10]


def frames_of(html):
    blob = re.search(r'<script type="application/json" class="nnp-frames">(.*?)</script>', html, re.S)
    return json.loads(blob.group(1))


def test_static_html_holds_every_frame_slider_and_preset():
    explorer = make_explorer()
    html = explorer.static_html()
    frames = frames_of(html)
    # 5 grid values + the presets' 1.3 (the default 1.0 is not on the grid either) = 7, times 2 shapes
    assert len(frames) == 7 * 2
    assert all(base64.b64decode(f)[:8] == b"\x89PNG\r\n\x1a\n" for f in frames.values())
    assert len(set(frames.values())) == len(frames), "every frame must differ"
    assert html.count('type="range"') == 2
    assert "slow square" in html and "data-preset" in html
    assert 'alt="A sine or square wave' in html
    assert "http" not in html, "the static scrubber must not load anything remote"
    # Rendering the frames leaves the explorer where it was.
    assert explorer.values == {"frequency": 1.0, "shape": "sine"}


def test_static_html_is_deterministic():
    assert make_explorer().static_html() == make_explorer().static_html()


def test_static_frame_matches_headless_render():
    explorer = make_explorer()
    frames = frames_of(explorer.static_html())
    grid = explorer._grids()
    key = f"{grid['frequency'].index(0.5)},{grid['shape'].index('square')}"
    assert base64.b64decode(frames[key]) == explorer.set(frequency=0.5, shape="square").png()


def test_too_many_static_frames_is_refused():
    explorer = Explorer(sine_setup, [Slider("frequency", 0.5, 4.0, frames=40), Choice("shape", ["sine", "square"])],
                        title="t", alt="a")
    with pytest.raises(ValueError, match="80 frames"):
        explorer.static_html()


def test_live_controls_update_the_image_and_presets_move_the_controls():
    explorer = make_explorer()
    explorer.widget()
    live = explorer._live
    first = live.image.value
    live.controls["frequency"].value = 3.0
    assert explorer.values["frequency"] == 3.0
    assert live.image.value != first
    live.presets["slow square"].click()
    assert live.controls["frequency"].value == 0.5
    assert live.controls["shape"].value == "square"
    assert explorer.values == {"frequency": 0.5, "shape": "square"}
    assert len(explorer.step_times) == 2
    assert live.output.outputs == ()


def test_error_in_callback_is_shown_in_the_output_area():
    def fragile_setup(fig):
        ax = fig.subplots()
        (line,) = ax.plot([0, 1], [0, 0])

        def update(level):
            if level > 0.5:
                raise RuntimeError("level too high for this model")
            line.set_ydata([level, level])

        return update

    explorer = Explorer(fragile_setup, [Slider("level", 0.0, 1.0, default=0.1)], title="t", alt="a")
    explorer.widget()
    live = explorer._live
    live.controls["level"].value = 0.9  # must not raise: the error goes to the widget
    shown = "".join(o.get("text", "") for o in live.output.outputs)
    assert "RuntimeError: level too high for this model" in shown
    live.controls["level"].value = 0.2  # a good value clears the error
    assert live.output.outputs == ()


def test_a_live_kernel_renders_the_live_view_only_and_the_book_build_the_frames_too(monkeypatch):
    import nnpuzzles.explorer as module

    monkeypatch.setattr(module, "in_kernel", lambda: True)
    rendered = []
    monkeypatch.setattr(Explorer, "png", lambda self, dpi=None: rendered.append(1) or b"png")
    monkeypatch.delenv(module.STATIC_FRAMES_ENV, raising=False)
    bundle = make_explorer()._repr_mimebundle_()  # a reader's kernel
    assert "application/vnd.jupyter.widget-view+json" in bundle and rendered == []
    assert "nnp-frames" not in bundle["text/html"] and "A wave" in bundle["text/html"]
    monkeypatch.setenv(module.STATIC_FRAMES_ENV, "1")  # make execute / nbval
    bundle = make_explorer()._repr_mimebundle_()
    frames = json.loads(re.search(r'class="nnp-frames">(.*?)</script>', bundle["text/html"]).group(1))
    assert "application/vnd.jupyter.widget-view+json" in bundle and len(frames) >= 10 and rendered


def test_mime_bundle_outside_a_kernel_is_static_only():
    bundle = make_explorer()._repr_mimebundle_()
    assert set(bundle) == {"text/plain", "text/html"}
    assert bundle["text/plain"].startswith("<Explorer 'A wave'; frequency: a number in [0.5, 4]")


def test_integer_log_slider_rounds_live_values():
    explorer = Explorer(sine_setup, [Slider("frequency", 1, 4, default=1, scale="log", integer=True),
                                     Choice("shape", ["sine", "square"])], title="t", alt="a")
    explorer.widget()
    explorer._live.controls["frequency"].value = 2.7  # a FloatLogSlider sends floats
    assert explorer.values["frequency"] == 3
    assert explorer._live.output.outputs == ()


def test_grid_only_slider_moves_over_the_static_grid():
    explorer = Explorer(sine_setup, [Slider("frequency", 0.5, 4.0, default=1.0, frames=5, grid_only=True),
                                     Choice("shape", ["sine", "square"])], title="t", alt="a")
    explorer.widget()
    control = explorer._live.controls["frequency"]
    assert [v for _, v in control.options] == explorer._grids()["frequency"]
    control.value = explorer._grids()["frequency"][-1]
    assert explorer.values["frequency"] == 4.0


def test_live_steps_match_a_grid_of_precomputed_results():
    """live_steps=40 on a log slider from 0.2 to 100: each arrow key lands on the next of 41
    geometrically spaced values, as a chapter's precomputed grid has them."""
    explorer = Explorer(sine_setup, [Slider("frequency", 0.2, 100.0, default=1.0, scale="log", live_steps=40),
                                     Choice("shape", ["sine", "square"])], title="t", alt="a")
    explorer.widget()
    control = explorer._live.controls["frequency"]
    reachable = 10 ** (control.min + control.step * np.arange(41))
    np.testing.assert_allclose(reachable, np.geomspace(0.2, 100.0, 41))
    linear = Slider("frequency", 0.0, 2.0, live_steps=8)
    assert linear.live_step() == 0.25
    with pytest.raises(ValueError, match="live_steps must be at least 1"):
        Slider("frequency", 0.0, 2.0, live_steps=0)


def test_static_html_carries_its_metadata_for_readers_without_a_browser():
    from nnpuzzles.explorer import explorers_in_html, slugify

    page = "<p>text</p>" + make_explorer().static_html() + '<div class="nnp-explorer">not one</div>'
    assert explorers_in_html(page) == [{"title": "A wave", "slug": "a-wave", "params": ["frequency", "shape"],
                                        "presets": ["slow square", "odd"]}]
    assert slugify("Retrieval playground (P letters, α)") == "retrieval-playground-p-letters"
    assert slugify("α") == "explorer"
    tricky = Explorer(sine_setup, [Slider("frequency", 0.5, 4.0, frames=2), Choice("shape", ["sine", "square"])],
                      presets={'"><script>alert(1)</script>': {"frequency": 0.5}}, title='<b>"t"</b>', alt="a")
    text = tricky.static_html()
    assert "<script>alert" not in text and "<b>" not in text  # names and titles are escaped
    assert explorers_in_html(text)[0]["presets"] == ['"><script>alert(1)</script>']


def test_externalised_frames_leave_the_first_frame_and_a_loader():
    """The book moves a scrubber's frames to a file of their own; the page keeps the first frame."""
    from nnpuzzles.explorer import externalise_frames

    html = make_explorer().static_html()
    frames = frames_of(html)
    page = f"<main><p>before</p>{html}<p>between</p>{html.replace('A sine', 'A second sine')}</main>"
    new, files = externalise_frames(page, lambda uid: f"../_static/nnp-frames/{uid}.js")
    uid = re.search(r'id="(nnp-[0-9a-f]{12})"', html).group(1)
    assert list(files) == [uid]  # the same explorer twice: one file (same frames, same id)
    assert new.count(f'data-src="../_static/nnp-frames/{uid}.js"></script>') == 2
    assert 'data-frames="inline"' not in new and new.count('data-frames="external"') == 2
    assert len(new) < len(page) - len(json.dumps(frames))  # the frames left the page
    assert new.count('src="data:image/png;base64,') == 2  # each explorer's first frame stays
    prefix = f'(window.nnpFrames = window.nnpFrames || {{}})["{uid}"] = '
    assert files[uid].startswith(prefix)
    assert json.loads(files[uid][len(prefix):].rstrip().rstrip(";")) == frames


def test_frames_that_are_not_png_data_stay_in_the_page():
    """Only base64 PNG frames under grid-index keys are moved, and only out of scrubbers that can
    load them (older outputs, without ``data-frames``, are left as they are)."""
    from nnpuzzles.explorer import externalise_frames

    html = make_explorer().static_html()
    frames = frames_of(html)
    hostile = html.replace(json.dumps(frames), json.dumps({**frames, "0,0": "</script><script>alert(1)//"}))
    odd_key = html.replace(json.dumps(frames), json.dumps({"x": "AAAA"}))
    old = html.replace(' data-frames="inline"', "")
    for page in (hostile, odd_key, old, html.replace(json.dumps(frames), "{not json")):
        assert externalise_frames(page, lambda uid: "f.js") == (page, {})
