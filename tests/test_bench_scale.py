"""benchmarks/bench_scale.py's work folders: at 1M texts the synthetic knowledge and index take
gigabytes, so they must not outlive the run, also when it fails."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_scale.py"


@pytest.fixture
def bench(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_scale_under_test", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "WORK", tmp_path / "bench-scale")
    return module


def test_a_large_size_works_in_a_temporary_folder_deleted_even_on_failure(bench: ModuleType) -> None:
    size = bench.KEEP_UP_TO + 1
    with pytest.raises(SystemExit), bench.work_folder(size) as folder:
        (folder / "knowledge").mkdir()
        (folder / "knowledge" / "entry.yaml").write_text("id: x\n")
        assert folder.parent == bench.WORK and folder != bench.WORK / str(size)
        sys.exit("a child failed")
    assert not folder.exists()
    assert list(bench.WORK.iterdir()) == []


def test_sizes_the_other_benchmarks_reuse_are_kept(bench: ModuleType) -> None:
    with bench.work_folder(bench.KEEP_UP_TO) as folder:
        folder.mkdir(parents=True)
    assert folder == bench.WORK / str(bench.KEEP_UP_TO) and folder.is_dir()


def test_a_large_size_is_kept_in_the_folder_asked_for_and_reused(
    bench: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--keep-dir: the 1M folder takes most of an hour to build; it is kept and measured again."""
    size, keep = bench.KEEP_UP_TO + 1, tmp_path / "kept"
    with bench.work_folder(size, keep) as folder:
        (folder / "index").mkdir(parents=True)
    assert folder == keep / str(size) and folder.is_dir()
    children: list[tuple[str, ...]] = []

    def child(*args: str) -> tuple[dict[str, object], float]:
        children.append(args)
        return {"loaded": True, "answered_at": 1.0, "VmRSS": 1, "RssAnon": 1}, 0.0

    monkeypatch.setattr(bench, "run_child", child)
    bench.synthetic_row(size, folder, 1, reuse=True)
    assert [args[0] for args in children] == ["start", "start", "serve"]  # no build
