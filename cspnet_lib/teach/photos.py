"""Photographs as a model sees them: the square that "resize, then centre-crop" keeps.

Published weights come with their preparation. torchvision's DenseNet-121 resizes the shorter side
of a photo to 256 pixels and cuts out the centre 224 x 224; timm's CSPDarknet-53 resizes to 289
and cuts 256. What survives is a centred square, ``crop / resize`` of the shorter side, whatever
the photo's size: the rest of the photo is never seen. Chapter 8 outlines that square on each
photograph, one colour per model.
"""

from __future__ import annotations

from typing import Mapping

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Patch, Rectangle

from ..settings import check_int
from .palette import MODEL

FONT_PT = 9
WIDTH_IN = 7.4   # at 100 dpi: 740 px, inside the book's 757 px column
OUTLINES = ((MODEL["densenet"], "-"), (MODEL["cspdensenet"], "--"), ("#2ca02c", ":"),
            ("#9467bd", "-."))   # colour and line style: squares that nearly coincide stay apart


def centre_crop_box(height: int, width: int, crop: int, resize: int) -> tuple[float, float, float]:
    """(top, left, side): the square of a ``height`` x ``width`` photo, in its own pixels, that
    survives resizing its shorter side to ``resize`` and cutting out the centre ``crop`` x ``crop``.

    The side is ``min(height, width) * crop / resize``; the square is centred on the photo.
    """
    height, width = check_int("height", height, 1, 100_000), check_int("width", width, 1, 100_000)
    resize = check_int("resize", resize, 1, 100_000)
    crop = check_int("crop", crop, 1, resize)
    side = min(height, width) * crop / resize
    return (height - side) / 2, (width - side) / 2, side


def _check_photo(name: str, photo: object) -> np.ndarray:
    shape = getattr(photo, "shape", None)
    if not isinstance(photo, np.ndarray) or len(shape) != 3 or shape[2] != 3:
        raise ValueError(f"photo {name!r} must be a numpy array shaped (height, width, 3), got "
                         f"{type(photo).__name__} shaped {shape}")
    return photo


def crop_figure(photos: Mapping[str, np.ndarray],
                crops: Mapping[str, tuple[int, int]], ncols: int = 3) -> Figure:
    """Each photo with the square every model sees outlined, ``ncols`` photos to a row.

    ``photos``: name -> (H, W, 3) image (uint8 or floats in [0, 1]); ``crops``: model name ->
    (crop, resize), its preparation. The legend says each model's crop and resize.
    """
    if not isinstance(photos, Mapping) or not photos:
        raise ValueError(f"photos must be a non-empty mapping of name -> image, got {photos!r}")
    if not isinstance(crops, Mapping) or not 1 <= len(crops) <= len(OUTLINES):
        raise ValueError(f"crops must map 1 to {len(OUTLINES)} model names to (crop, resize), "
                         f"got {crops!r}")
    for model, pair in crops.items():
        if not (isinstance(pair, tuple) and len(pair) == 2):
            raise ValueError(f"crops[{model!r}] must be a (crop, resize) pair, got {pair!r}")
    images = {name: _check_photo(name, photo) for name, photo in photos.items()}
    ncols = check_int("ncols", ncols, 1, 8)
    nrows = -(-len(images) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(WIDTH_IN, 2.2 * nrows + 0.5), squeeze=False)
    for ax in axes.flat[len(images):]:
        ax.set_visible(False)
    for ax, (name, image) in zip(axes.flat, images.items()):
        ax.imshow(image)
        height, width = image.shape[:2]
        for (colour, style), (crop, resize) in zip(OUTLINES, crops.values()):
            top, left, side = centre_crop_box(height, width, crop, resize)
            ax.add_patch(Rectangle((left - 0.5, top - 0.5), side, side, fill=False,
                                   edgecolor=colour, linestyle=style, linewidth=2.5))
        ax.set_title(f"{name}, {height}\u00d7{width}", fontsize=FONT_PT + 1)
        ax.set_axis_off()
    handles = [Patch(facecolor="none", edgecolor=colour, linestyle=style, linewidth=2,
                     label=f"{model}: shorter side to {resize}, centre {crop}\u00d7{crop} "
                           f"({crop / resize:.1%} of the shorter side)")
               for (colour, style), (model, (crop, resize)) in zip(OUTLINES, crops.items())]
    fig.legend(handles=handles, loc="lower center", ncol=1, fontsize=FONT_PT + 1, frameon=False)
    fig.tight_layout(rect=(0, 0.07 * len(handles) / nrows, 1, 1))
    return fig


__all__ = ["centre_crop_box", "crop_figure"]
