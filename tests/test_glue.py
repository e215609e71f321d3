"""The notebooks' ``glue`` works with myst-nb (the book) and without it (Colab)."""

import importlib
import sys

import pytest

import cspnet_lib.glue


def test_glue_is_myst_nbs_when_installed():
    import myst_nb

    assert cspnet_lib.glue.glue is myst_nb.glue


@pytest.fixture
def stand_in(monkeypatch):
    """cspnet_lib.glue as Colab imports it: `from myst_nb import glue` raises ImportError."""
    monkeypatch.setitem(sys.modules, "myst_nb", None)
    module = importlib.reload(cspnet_lib.glue)
    try:
        assert module.glue.__module__ == "cspnet_lib.teach.glue"
        yield module
    finally:
        monkeypatch.undo()
        importlib.reload(cspnet_lib.glue)


def test_glue_without_myst_nb_shows_the_value(stand_in, capsys):
    stand_in.glue("shown", 1234)
    assert capsys.readouterr().out == "1234\n"


def test_glue_without_myst_nb_prints_a_hidden_value_compactly(stand_in, capsys):
    """display=False: the value the book puts into the prose, as one line `name = value`."""
    from IPython.display import Markdown
    import numpy as np

    stand_in.glue("flops_saving_k32", 0.9, display=False)
    stand_in.glue("acc", np.float64(97.25), display=False)
    stand_in.glue("training", Markdown("1 epoch"), display=False)
    stand_in.glue("cpu", "AMD  EPYC\n7B13", display=False)
    stand_in.glue("long", list(range(100)), display=False)
    lines = capsys.readouterr().out.splitlines()
    assert lines[:4] == ["flops_saving_k32 = 0.9", "acc = 97.25", "training = 1 epoch", "cpu = AMD EPYC 7B13"]
    assert lines[4].startswith("long = [0, 1, 2") and lines[4].endswith("\u2026")
    assert len(lines[4]) == len("long = ") + 80 and len(lines) == 5


def test_glue_values_without_myst_nb_prints_one_line_each(stand_in, capsys):
    stand_in.glue_values({"n_seeds": 3, "bypass_share": 4.2})
    assert capsys.readouterr().out == "n_seeds = 3\nbypass_share = 4.2\n"
    with pytest.raises(ValueError, match="identifiers"):
        stand_in.glue_values({"not a name": 1})
