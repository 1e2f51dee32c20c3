"""gaedu.report: results shown as tables (Markdown for the book's pages, aligned text in a terminal)."""

import math

import pytest
import torch

import gaedu
from gaedu.report import Table, results, spread, table


def test_results_of_plain_values_is_a_two_column_table():
    shown = results({"PSNR (dB)": 21.34567, "steps": 120, "converged": True, "shape": (5, 1, 8, 8)})
    assert shown._repr_markdown_().splitlines() == [
        "|  | value |",
        "|---|---|",
        "| PSNR (dB) | 21.35 |",
        "| steps | 120 |",
        "| converged | yes |",
        "| shape | 5, 1, 8, 8 |",
    ]


def test_nested_results_spread_over_columns_and_missing_cells_stay_empty():
    shown = results({"plain": {"steps": 120, "PSNR": 21.3}, "momentum": {"steps": 40}})
    assert shown.header == ["", "steps", "PSNR"]
    assert shown.rows == [["plain", "120", "21.3"], ["momentum", "40", ""]]


def test_numbers_keep_four_significant_digits_and_tensors_show_their_values():
    assert results({"a": 1e-9, "b": 123456789.0, "c": float("nan"), "d": torch.tensor([0.5, 1.0])}).rows == [
        ["a", "1.00e-09"], ["b", "1.23e+08"], ["c", "—"], ["d", "0.5, 1"]]  # fmt: skip


def test_a_pipe_in_a_cell_does_not_break_the_markdown_table():
    assert "| a \\| b | 1 |" in results({"a | b": 1})._repr_markdown_()


def test_table_formats_each_column_and_shows_nan_as_a_dash():
    rows = [{"method": "TV", "PSNR": 28.371, "extra": 1}, {"method": "prior", "PSNR": math.nan, "extra": 2}]
    shown = table(rows, {"method": "{}", "PSNR": "{:.2f}"})
    assert shown == Table(["method", "PSNR"], [["TV", "28.37"], ["prior", "—"]])
    assert table(rows).header == ["method", "PSNR", "extra"]


def test_the_text_form_aligns_the_columns():
    assert repr(table([{"a": 1, "bb": 22.5}])).splitlines() == ["a | bb", "--+-----", "1 | 22.5"]


def test_package_level_names():
    assert gaedu.results is results and gaedu.table is table


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: results({}), "non-empty dict"),
        (lambda: results([1, 2]), "non-empty dict"),
        (lambda: table([]), "needs its columns"),
        (lambda: table([{"a": 1}], ["b"]), "has no 'b'"),
        (lambda: Table(["a", "b"], [["1"]]), "a row has 1 cells, the header 2"),
        (lambda: Table([], []), "at least one column"),
        (lambda: spread([1.0]), "at least two values"),
    ],
)
def test_bad_input_gets_a_one_line_error(call, message):
    with pytest.raises((ValueError, KeyError), match=message):
        call()


def test_spread_is_the_mean_and_the_sample_standard_deviation():
    assert spread([1.0, 2.0, 3.0]) == "2.00 ± 1.00"
    assert spread([0.5, 0.25], digits=3) == "0.375 ± 0.177"


def test_a_dataframe_shows_as_the_same_table_with_its_index_first():
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"PSNR": [28.371, 27.0]}, index=["TV", "prior"])
    assert table(frame) == Table(["", "PSNR"], [["TV", "28.37"], ["prior", "27"]])
    assert table(pd.DataFrame({"a": [1, 2]})) == Table(["a"], [["1"], ["2"]])
