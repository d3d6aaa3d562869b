import os

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")
# Tests run on the CPU (CI has no accelerator) with 8 virtual devices for sharding tests.
os.environ.setdefault("JAX_PLATFORMS", "cpu")


def _assert_drawn(path, min_width: int = 300, min_height: int = 200) -> None:
    """A real plot: a sizeable image that is not one flat colour (lines, text, a colour map)."""
    import numpy as np
    from PIL import Image

    image = np.asarray(Image.open(path).convert("L"), float)
    assert image.shape[1] >= min_width and image.shape[0] >= min_height, image.shape
    assert image.std() > 10 and (image < 128).mean() > 0.005


@pytest.fixture
def assert_drawn():
    """``assert_drawn(path)``: fail unless the PNG at ``path`` is a drawn plot."""
    return _assert_drawn
