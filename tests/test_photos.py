"""teach/photos.py: the square of a photograph a model sees after "resize, then centre-crop"."""

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
import torch
from matplotlib.patches import Rectangle

from cspnet_lib.models import weights as W
from cspnet_lib.teach.photos import centre_crop_box, crop_figure
from cspnet_lib.teach.readable import MIN_TEXT_PX, text_sizes_px

PHOTOS = {"wide": np.zeros((30, 45, 3), np.uint8), "tall": np.ones((50, 20, 3)),
          "square": np.zeros((32, 32, 3), np.uint8)}
CROPS = {"DenseNet-121": (224, 256), "CSPDarknet-53": (256, 289)}


@pytest.mark.parametrize("height, width, crop, resize", [
    (300, 451, 224, 256), (512, 512, 256, 289), (741, 500, 224, 256)])
def test_the_box_is_what_torchvisions_resize_and_centre_crop_keep(height, width, crop, resize):
    """An image whose pixels hold their own row and column: after torchvision's Resize and
    CenterCrop, the first and last rows and columns it kept say where the box lies."""
    try:
        tv = W.import_torchvision()
    except ImportError as err:
        pytest.skip(str(err))
    rows, cols = torch.meshgrid(torch.arange(height, dtype=torch.float64),
                                torch.arange(width, dtype=torch.float64), indexing="ij")
    prepared = tv.transforms.CenterCrop(crop)(
        tv.transforms.Resize(resize, antialias=False)(torch.stack([rows, cols])))
    top, left, side = centre_crop_box(height, width, crop, resize)
    pixel = side / crop   # one output pixel, in the photo's pixels
    # an output pixel's centre samples the photo half an output pixel inside the box's edge
    assert prepared[0, 0, 0].item() == pytest.approx(top + pixel / 2 - 0.5, abs=pixel)
    assert prepared[1, 0, 0].item() == pytest.approx(left + pixel / 2 - 0.5, abs=pixel)
    assert prepared[0, -1, 0].item() == pytest.approx(top + side - pixel / 2 - 0.5, abs=pixel)
    assert prepared[1, 0, -1].item() == pytest.approx(left + side - pixel / 2 - 0.5, abs=pixel)


def test_the_box_is_centred_and_a_share_of_the_shorter_side():
    assert centre_crop_box(300, 451, 224, 256) == (18.75, 94.25, 262.5)
    assert centre_crop_box(100, 100, 100, 100) == (0.0, 0.0, 100.0)   # crop = resize: all of it


def test_every_photo_gets_one_square_per_model_inside_it():
    fig = crop_figure(PHOTOS, CROPS, ncols=2)
    shown = [ax for ax in fig.axes if ax.get_visible() and ax.images]
    assert [ax.get_title().split(",")[0] for ax in shown] == list(PHOTOS)
    for ax, photo in zip(shown, PHOTOS.values()):
        squares = [p for p in ax.patches if isinstance(p, Rectangle)]
        assert len(squares) == len(CROPS)
        for square in squares:
            x, y = square.get_xy()
            assert square.get_width() == square.get_height()
            assert -0.5 <= x and x + square.get_width() <= photo.shape[1] - 0.5 + 1e-9
            assert -0.5 <= y and y + square.get_height() <= photo.shape[0] - 0.5 + 1e-9
    assert len([ax for ax in fig.axes if not ax.get_visible()]) == 1   # 3 photos on a 2x2 grid
    sizes = text_sizes_px(fig)
    assert sizes[0][0] >= MIN_TEXT_PX, f"{sizes[0][1]!r} is {sizes[0][0]:.1f} px on the page"


@pytest.mark.parametrize("call, error, message", [
    (lambda: centre_crop_box(300, 451, 300, 256), ValueError, "crop must be an int between 1 and 256"),
    (lambda: centre_crop_box(0, 451, 224, 256), ValueError, "height must be an int between 1"),
    (lambda: centre_crop_box(300, 451.0, 224, 256), TypeError, "width must be an int"),
    (lambda: crop_figure({}, CROPS), ValueError, "photos must be a non-empty mapping"),
    (lambda: crop_figure({"grey": np.zeros((8, 8))}, CROPS), ValueError,
     r"photo 'grey' must be a numpy array shaped \(height, width, 3\), got ndarray shaped \(8, 8\)"),
    (lambda: crop_figure(PHOTOS, {}), ValueError, "crops must map 1 to 4 model names"),
    (lambda: crop_figure(PHOTOS, {"m": 224}), ValueError, r"crops\['m'\] must be a \(crop, resize\)"),
    (lambda: crop_figure(PHOTOS, CROPS, ncols=0), ValueError, "ncols must be an int between 1 and 8"),
])
def test_bad_input_names_the_setting(call, error, message):
    with pytest.raises(error, match=message):
        call()
