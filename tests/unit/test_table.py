"""The results table: HTML with right-aligned numbers and escaped text, an aligned text fallback."""

import html.parser

import pytest
from nnpuzzles import table


class Cells(html.parser.HTMLParser):
    """(tag, attributes, text) of every th/td, and every tag seen."""

    def __init__(self):
        super().__init__()
        self.cells, self.tags, self._open = [], [], None

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag in ("th", "td"):
            self._open = [tag, dict(attrs), ""]

    def handle_data(self, data):
        if self._open is not None:
            self._open[2] += data

    def handle_endtag(self, tag):
        if tag in ("th", "td") and self._open is not None:
            self.cells.append(tuple(self._open))
            self._open = None


def parse(t):
    p = Cells()
    p.feed(t._repr_html_())
    return p


def test_numbers_are_right_aligned_and_rows_are_named():
    t = table(["method", "ACC", "note"], [["EWC", "0.937 ± 0.021", "tuned"], ["L2", "−0.04 ± 0.06", "x"]],
              caption="5 seeds")
    p = parse(t)
    head, body = p.cells[:3], p.cells[3:]
    assert [c[1]["scope"] for c in head] == ["col"] * 3
    assert [c[1]["style"].split(";")[0] for c in head] == ["text-align: left", "text-align: right", "text-align: left"]
    assert body[0][0] == "th" and body[0][1]["scope"] == "row" and body[0][2] == "EWC"
    assert all("white-space: nowrap" in c[1]["style"] for c in p.cells)
    assert body[1][1]["style"].startswith("text-align: right") and body[4][2] == "−0.04 ± 0.06"
    assert "caption" in p.tags


def test_cells_are_text_never_markup():
    t = table(["a<script>", "b"], [['<img src=x onerror="alert(1)">', "1 & 2"]])
    p = parse(t)
    assert "script" not in p.tags and "img" not in p.tags
    assert p.cells[0][2] == "a<script>" and p.cells[2][2] == '<img src=x onerror="alert(1)">'


def test_text_fallback_aligns_columns():
    t = table(["optimiser", "final\nloss"], [["GD", "0.145 ± 0.001"], ["Adam, 1e-2", "0.001 ± 0.000"]])
    lines = repr(t).splitlines()
    assert lines[0].split(" | ")[1].strip() == "final" and lines[1].endswith("loss")
    assert len({len(line) for line in lines[3:]}) == 1  # the same width: numbers right-aligned
    assert lines[3].startswith("GD         | ")


def test_a_row_of_the_wrong_length_is_refused():
    with pytest.raises(ValueError, match=r"rows\[1\] has 1 cells; columns has 2"):
        table(["a", "b"], [["x", "1"], ["y"]])


def test_a_column_of_numbers_with_blanks_is_a_numeric_column():
    t = table(["η", "at step"], [["0.2", "never"], ["0.4", "360 ± 55"]])
    head = parse(t).cells[:2]
    assert head[1][1]["style"].startswith("text-align: right")
    assert not parse(table(["a", "b"], [["x", "never"]])).cells[1][1]["style"].startswith("text-align: right")


def test_a_wide_table_scrolls_in_a_focusable_labelled_region():
    t = table(["a"], [["1"]], caption='5 seeds "paired"')
    text = t._repr_html_()
    assert text.startswith('<div class="nnp-table-wrap" role="region" aria-label="5 seeds &quot;paired&quot;" '
                           'tabindex="0" style="overflow-x: auto')
    assert text.endswith("</table></div>")
