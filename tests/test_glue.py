"""The notebooks' ``glue`` works with myst-nb (the book) and without it (Colab)."""

import importlib
import sys

import cspnet_lib.glue


def test_glue_is_myst_nbs_when_installed():
    import myst_nb

    assert cspnet_lib.glue.glue is myst_nb.glue


def test_glue_without_myst_nb_shows_the_value(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "myst_nb", None)  # as in Colab: the import fails
    stand_in = importlib.reload(cspnet_lib.glue)
    try:
        assert stand_in.glue.__module__ == "cspnet_lib.glue"
        stand_in.glue("shown", 1234)
        stand_in.glue("hidden", 5678, display=False)
        out = capsys.readouterr().out
        assert "1234" in out and "5678" not in out
    finally:
        monkeypatch.undo()
        importlib.reload(cspnet_lib.glue)
