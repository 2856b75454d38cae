"""The estimate's picture (the bill as users grow, the Free plan's day), in the terminal and as
the self-contained SVG `--svg FILE` writes: its content read back from the SVG's text."""

from __future__ import annotations

import html
import re
from collections import defaultdict

import pytest
from cost_cases import GUIDE, settings_with
from typer.testing import CliRunner

from infra.cost import estimate as cost
from infra.settings import stack_file_settings
from infra.tools import cli, estimate_picture

TEXT = re.compile(r'<text class="[^"]*" x="([\d.]+)" y="([\d.]+)" textLength="([\d.]+)"[^>]*>([^<]*)</text>')


def svg_lines(svg: str) -> list[str]:
    """The SVG's terminal lines: each text piece put at its column (x / the width of a character;
    blank stretches have no text element), grouped by row, in order."""
    rows: dict[float, list[tuple[float, str]]] = defaultdict(list)
    widths = []
    for x, y, length, raw in TEXT.findall(svg):
        text = html.unescape(raw).replace("\xa0", " ")
        rows[float(y)].append((float(x), text))
        widths.append(float(length) / max(1, len(text)))
    cell = min(widths)
    lines = []
    for _, pieces in sorted(rows.items()):
        line = ""
        for x, text in sorted(pieces):
            line = line.ljust(round(x / cell)) + text
        lines.append(line)
    return lines


def test_the_svg_shows_the_bill_as_users_grow_and_when_each_free_allowance_runs_out(tmp_path, table):
    target = tmp_path / "cost.svg"
    result = CliRunner().invoke(cli.app, ["estimate", "--stack", "prod", "--svg", str(target)])
    assert result.exit_code == 0, result.output
    document = target.read_text()
    assert document.startswith("<svg") and "<script" not in document
    lines = svg_lines(document)
    settings = stack_file_settings("prod")
    expected = cost.estimate(settings, table)
    # One bar per user count, labelled with the bill's range at that count.
    for point in estimate_picture.bill_as_users_grow(settings, expected, table):
        row = next(line for line in lines if line.strip().startswith(f"{point.active_users:,} "))
        assert f"${point.low_usd:,.0f}-{point.high_usd:,.0f}" in row or f"${point.low_usd:,.2f}" in row
    biggest = next(line for line in lines if line.strip().startswith("200,000 "))
    assert biggest.count("█") + biggest.count("▒") == estimate_picture.BAR_WIDTH  # the largest bill fills the bar
    # The Free plan's day: KV writes gone at 02:24 (2 hours left, 22 used up), KV deletes all day.
    writes = next(line for line in lines if line.startswith("KV writes "))
    assert "██" + "░" * 22 in writes and writes.rstrip().endswith("02:24")
    deletes = next(line for line in lines if line.startswith("KV deletes "))
    assert "█" * 24 in deletes and "░" not in deletes


def test_on_workers_paid_the_picture_has_no_free_plan_day(table):
    paid = settings_with({**GUIDE, "workersPlan": "paid"})
    drawing = estimate_picture.picture(paid, cost.estimate(paid, table), table, "prod")
    lines = svg_lines(estimate_picture.svg(drawing, "paid"))
    assert any(line.startswith("Bill a month on Workers Paid") for line in lines)
    assert not any("Free plan" in line for line in lines)


def test_the_picture_in_the_terminal_fits_80_columns():
    result = CliRunner().invoke(cli.app, ["estimate", "--stack", "prod", "--picture"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "Free plan, one UTC day" in result.output
    assert max(len(line.rstrip()) for line in result.output.splitlines()) <= 80


def test_an_unwritable_svg_target_is_one_line(tmp_path):
    result = CliRunner().invoke(cli.app, ["estimate", "--stack", "prod", "--svg", str(tmp_path / "no" / "x.svg")])
    assert result.exit_code == 2 and "--svg" in result.output and "Traceback" not in result.output


@pytest.mark.parametrize("runs_out", [None, 0.0, 86_399.0])
def test_the_timeline_marks_any_allowance_that_runs_out(runs_out):
    row = estimate_picture.Allowance("X", runs_out)
    lines = svg_lines(estimate_picture.svg(estimate_picture.timeline_chart([row]), "t"))
    line = next(line for line in lines if line.startswith("X "))
    assert ("░" in line) == (runs_out is not None)
