"""tables.py: HTML tables that fit the page, with a plain-text twin for terminals and nbval."""

import pytest

from cspnet_lib.tables import Table, html_table


def test_html_escapes_text_and_splits_tuple_cells_into_lines():
    t = html_table(["model", "convolutions"], [["<b>", ("1x1 64->64", "3x3 64->64")]])
    page = t._repr_html_()
    assert "&lt;b&gt;" in page and "<b>" not in page
    assert "1x1 64-&gt;64<br>3x3 64-&gt;64" in page


def test_headers_wrap_cells_do_not_and_numbers_sit_right():
    page = html_table(["name", "parameters"], [["a", "1,234"], ["b", "-5.0%"]])._repr_html_()
    assert page.count("white-space: normal") == 2          # the two headers
    assert page.count("white-space: nowrap") == 4          # the four cells
    assert 'text-align: right; white-space: nowrap">1,234' in page
    assert 'text-align: left; white-space: nowrap">a' in page


def test_a_wide_table_scrolls_in_a_box_the_keyboard_reaches():
    page = html_table(["a"], [["1"]], caption="Latency")._repr_html_()
    assert 'role="region"' in page and 'tabindex="0"' in page and 'aria-label="Latency"' in page
    assert "overflow-x: auto" in page


def test_plain_text_twin_aligns_columns_and_joins_lines():
    t = html_table(["model", "ms"], [["densenet121", ("78.2", "(68.1-84.5)")]], caption="c",
                   note="n")
    assert str(t).splitlines() == ["c", "model        ms", "-----------  ------------------",
                                   "densenet121  78.2 / (68.1-84.5)", "n"]
    assert repr(t) == str(t)


def test_markup_tables_keep_their_html_and_their_text_twin_drops_it():
    t = html_table(["loss on", "w<sub>1</sub>"], [["x<sub>0</sub>&prime;", "✓"]], markup=True)
    page = t._repr_html_()
    assert "<th" in page and ">w<sub>1</sub></th>" in page and ">x<sub>0</sub>&prime;</td>" in page
    assert 'aria-label="loss on, w1"' in page
    assert str(t).splitlines() == ["loss on  w1", "-------  --", "x0′      ✓"]
    bold = html_table(["a", "n"], [["x", "<b>3</b>"], ["y", "x &amp; y<br>z"]], markup=True)
    assert str(bold).splitlines()[-1] == "y  x & y / z"                # a break reads as " / "
    assert 'text-align: left; white-space: nowrap"><b>3</b>' in bold._repr_html_()
    assert 'text-align: right; white-space: nowrap"><b>3</b>' in html_table(
        ["a", "n"], [["x", "<b>3</b>"]], markup=True)._repr_html_()  # numbers read as text
    plain = html_table(["w<sub>1</sub>"], [["x"]])._repr_html_()
    assert "w&lt;sub&gt;1&lt;/sub&gt;" in plain          # escaped unless asked


def test_bad_tables_raise_value_error():
    with pytest.raises(ValueError, match="row 1 has 1 cells, the header 2"):
        html_table(["a", "b"], [["1", "2"], ["3"]])
    with pytest.raises(ValueError, match="header"):
        html_table([], [])
    with pytest.raises(ValueError, match="markup must be True or False, got 'yes'"):
        html_table(["a"], [], markup="yes")
    assert isinstance(html_table(["a"], []), Table)
