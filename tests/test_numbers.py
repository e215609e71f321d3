"""The helpers the chapters' cells share: ``teach.numbers`` and ``measure.path_summary``.

Each is checked against the definition the chapters wrote in their own cells before they imported
these (kept below as ``_chapter2_summary`` and ``_chapter3_summary``).
"""

from __future__ import annotations

import pytest
import torch
from torch import nn

import cspnet_lib as lib
import statistics

from cspnet_lib.teach.numbers import mean, pct, percent_of


def test_pct_and_percent_of_are_the_chapters_own():
    assert pct(90, 100) == 100 * (90 / 100 - 1) and pct(110, 100) == pytest.approx(10.0)
    assert round(percent_of(3, 8), 1) == round(100 * 3 / 8, 1)  # chapter 2's shown_percent
    assert mean is statistics.mean and lib.mean is mean   # importable as before
    assert lib.pct is pct and lib.percent_of is percent_of


@pytest.mark.parametrize("call, message", [
    (lambda: pct(1, 0), "old must not be 0"),
    (lambda: percent_of(1, 0), "whole must not be 0"),
])
def test_bad_input_names_the_parameter(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def _chapter2_summary(paths):
    matrix = lib.cosine_matrix(paths.vectors)
    own = 1 if paths.names[0].startswith("bypass") else 0
    bypass = paths.vectors[0].square().sum() / paths.total.square().sum()
    return (lib.mean_similarity(matrix), lib.mean_similarity(matrix[own:, own:]),
            float(bypass) if own else 0.0)


def _chapter3_summary(paths):
    matrix = lib.cosine_matrix(paths.vectors)
    own = 1 if paths.names[0].startswith("bypass") else 0
    return lib.mean_similarity(matrix), lib.mean_similarity(matrix[own:, own:])


@pytest.mark.parametrize("csp", [True, False])
def test_path_summary_is_chapters_2_and_3s_summary(csp):
    torch.manual_seed(0)
    block = lib.DenseBlock(4, repeats=3, growth_rate=4)
    module = (lib.CSPStage(block, "first", fusion_transition=lib.Transition(4 + 16, 5))
              if csp else nn.Sequential(block, lib.Transition(16, 5)))
    x0 = torch.randn(2, 8 if csp else 4, 8, 8)
    paths = lib.path_gradients(module, x0)
    summary = lib.path_summary(paths)
    assert tuple(summary) == _chapter2_summary(paths)
    assert summary[:2] == _chapter3_summary(paths)
    assert (summary.bypass_share > 0) is csp
    with pytest.raises(TypeError, match="paths must be a PathGradients"):
        lib.path_summary(paths.vectors)
