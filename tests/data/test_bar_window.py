"""`BarArrays.slice` returns a window whose columns are cut when first read: it must hold the rows NumPy's
``[start:stop]`` would, nested or not, and show nothing past its end through any public name."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from maemae.data.bars import BAR_COLUMNS, BarArrays

BOUNDS = [(0, 5), (3, 3), (7, 2), (-3, 100), (-100, -2), (0, 10), (9, 10), (12, 20)]


def _bars(n: int = 10) -> BarArrays:
    rows = np.arange(n, dtype=np.int64)
    return BarArrays(*(rows + 100 * i for i in range(len(BAR_COLUMNS))))


@pytest.mark.parametrize(("start", "stop"), BOUNDS)
def test_a_window_holds_numpys_rows(start: int, stop: int) -> None:
    whole = _bars()
    window = whole.slice(start, stop)
    for name in BAR_COLUMNS:
        expected = getattr(whole, name)[start:stop]
        assert np.array_equal(getattr(window, name), expected)
        assert getattr(window, name) is getattr(window, name)  # cut once, then kept
    assert len(window) == len(whole.ts[start:stop])
    for inner_start, inner_stop in BOUNDS:
        inner = window.slice(inner_start, inner_stop)
        expected = whole.close[start:stop][inner_start:inner_stop]
        assert np.array_equal(inner.close, expected)
        assert len(inner) == len(expected)


def test_nothing_public_reaches_past_the_end() -> None:
    window = _bars().slice(0, 4)
    for name in (n for n in dir(window) if not n.startswith("_")):
        value = getattr(window, name)
        if isinstance(value, np.ndarray):
            assert len(value) == 4, name
    assert len(window.slice(0, 100)) == 4
    assert int(window.slice(-1, 100).close.item(-1)) == 403
    assert window.to_frame().shape[0] == 4


def test_a_window_is_pickled_as_its_own_rows() -> None:
    window = _bars().slice(2, 5)
    restored = pickle.loads(pickle.dumps(window))
    assert type(restored) is BarArrays
    assert len(restored) == 3
    assert len(restored.slice(0, 100)) == 3
    for name in BAR_COLUMNS:
        assert np.array_equal(getattr(restored, name), getattr(window, name))
