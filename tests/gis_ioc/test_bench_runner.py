"""`make bench` (benchmarks/run.py): every benchmark script runs, a failing one does not stop the others,
and the summary names it."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_it_lists_every_benchmark_script() -> None:
    out = subprocess.run(
        [sys.executable, "benchmarks/run.py", "--list"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    scripts = {p.stem for p in (ROOT / "benchmarks").glob("*.py") if 'if __name__ == "__main__"' in p.read_text()} - {
        "run",
        "load",
    }
    assert scripts <= set(out) and {"tiles", "features", "zonal", "import", "petitions", "dashboard"} <= set(out)


def test_it_goes_on_past_a_failing_benchmark_and_summarises(tmp_path: Path) -> None:
    bench = tmp_path / "benchmarks"
    bench.mkdir()
    shutil.copy(ROOT / "benchmarks" / "run.py", bench / "run.py")
    entry = '\nif __name__ == "__main__":\n    main()\n'
    (bench / "zonal.py").write_text("import sys\ndef main():\n    sys.exit(3)\n" + entry)
    (bench / "tiles.py").write_text("def main():\n    print('| ours | 1.00 |')\n" + entry)
    (bench / "common.py").write_text("raise SystemExit('a helper, never run')\n")
    result = subprocess.run([sys.executable, str(bench / "run.py")], cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 1
    assert "| ours | 1.00 |" in result.stdout  # the later benchmark still ran
    summary = result.stdout.split("=== summary")[1]
    assert "zonal" in summary and "FAILED (exit 3)" in summary
    assert "tiles" in summary and "1 passed, 1 failed: zonal" in summary
    assert "common" not in summary
