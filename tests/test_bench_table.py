"""The bench table: figures recorded by separate bench processes come together in one table and in the README."""

from bench import table


def test_figures_recorded_by_benches_make_one_table_with_their_marks(tmp_path, monkeypatch):
    monkeypatch.setenv(table.RESULTS_ENV, str(tmp_path / "figures.jsonl"))
    table.record("pages", "dashboard ÷ bare SQL, scale 1", "2.10×", "≤ 3×", True)
    table.record("sms", "achieved ÷ configured", "0.91", "≥ 0.95", False)
    table.record("pages", "dashboard p50", "40.0 ms")
    figures = table.load(tmp_path / "figures.jsonl")
    assert [f.bench for f in figures] == ["pages", "sms", "pages"]
    rendered = table.render(figures, services="PostgreSQL, Redis")
    lines = rendered.splitlines()
    assert "PostgreSQL, Redis" in lines[0] and "cores" in lines[0]
    assert any("2.10×" in line and "pass" in line for line in lines)
    assert any("0.91" in line and "SHORT" in line for line in lines)
    assert rendered.endswith("1 targets met, 1 short.")


def test_a_bench_run_alone_records_nothing(tmp_path, monkeypatch):
    monkeypatch.delenv(table.RESULTS_ENV, raising=False)
    figure = table.record("pages", "x", "1")
    assert figure.value == "1" and not list(tmp_path.iterdir())


def test_the_readme_table_is_replaced_between_its_markers_only(tmp_path, monkeypatch):
    readme = tmp_path / "README.md"
    readme.write_text(f"# Benches\n\nIntro.\n\n{table.BEGIN}\nold table\n{table.END}\n\nAfterword.\n")
    monkeypatch.setattr(table, "README", readme)
    table.write_readme("new table")
    text = readme.read_text()
    assert "old table" not in text and "new table" in text
    assert text.startswith("# Benches\n\nIntro.") and text.endswith("Afterword.\n")
