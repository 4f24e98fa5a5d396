"""A progress bar that reads well live and re-executes to the same stored output.

In a kernel it shows an ipywidgets bar that moves while the loop runs. Its stored text (what
the static book and nbval see) names the task and its number of steps only, never a time, so a
notebook re-executes to identical outputs. Outside a kernel (tests, scripts) it is silent.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Iterator
from typing import TypeVar

from .explorer import in_kernel

T = TypeVar("T")


class _Bar:
    def __init__(self, desc: str, total: int) -> None:
        import ipywidgets as W

        self.desc, self.total = desc, total
        self.bar = W.IntProgress(value=0, min=0, max=max(total, 1), description=desc,
                                 style={"description_width": "initial"})
        self.box = W.HBox([self.bar])

    def _repr_mimebundle_(self, include=None, exclude=None):
        bundle = self.box._repr_mimebundle_()
        bundle["text/plain"] = f"{self.desc}: {self.total} steps"
        bundle["text/html"] = (
            f'<div class="nnp-progress"><progress value="{self.total}" max="{self.total}"></progress> '
            f"{html.escape(self.desc)}: {self.total} steps</div>"
        )
        return bundle


def progress(iterable: Iterable[T], desc: str, total: int | None = None) -> Iterator[T]:
    """Iterate over ``iterable`` showing a progress bar labelled ``desc`` in a notebook."""
    items = list(iterable) if total is None and not hasattr(iterable, "__len__") else iterable
    total = len(items) if total is None else total
    if not in_kernel():
        yield from items
        return
    from IPython.display import display

    bar = _Bar(desc, total)
    display(bar)
    for i, item in enumerate(items, start=1):
        yield item
        bar.bar.value = i
    bar.bar.bar_style = "success"
