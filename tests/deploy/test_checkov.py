"""checkov over the Dockerfile and the rendered chart: no finding left that is not justified
(the justified ones are skipped, with the reason, in tests/deploy/checkov.yaml)."""

from __future__ import annotations

from pathlib import Path

from tests.deploy.tooling import CI_VALUES, ROOT, checkov, render_text


def failed(output: str) -> list[str]:
    return [line.strip() for line in output.splitlines() if line.strip().startswith("Check:")]


def test_the_dockerfile_passes_checkov():
    result = checkov(ROOT / "Dockerfile", "dockerfile")
    assert result.returncode == 0 and not failed(result.stdout), result.stdout + result.stderr
    assert "Passed checks" in result.stdout


def test_the_rendered_chart_passes_checkov(tmp_path: Path):
    for values in CI_VALUES:
        (tmp_path / f"{values.stem}.yaml").write_text(render_text(values))
    result = checkov(tmp_path, "kubernetes")
    assert result.returncode == 0 and not failed(result.stdout), (
        result.stdout[-5000:] + result.stderr
    )
    assert "Passed checks" in result.stdout
