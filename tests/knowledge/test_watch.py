"""A watched knowledge folder's listing comes from the kernel's events, and is always what a full scan
of the folder would give: after every kind of change a hand edit, a git pull or another process makes."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from careerbot.knowledge import watch
from careerbot.knowledge.disk import list_files


@pytest.fixture
def watched(knowledge_dir: Path) -> Iterator[Path]:
    assert watch.watch(knowledge_dir)
    yield knowledge_dir
    watch.forget(knowledge_dir)


@pytest.fixture
def full_scans(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Each full scan the watcher makes, by the folder scanned."""
    scans: list[str] = []

    def counted(root: Path, *args: object) -> object:
        scans.append(str(root))
        return list_files(root, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(watch, "list_files", counted)
    return scans


def salary(root: Path) -> Path:
    return root / "faq" / "career" / "salary.yaml"


def edit(path: Path) -> None:
    path.write_text(path.read_text() + "# edited by hand\n")


def touch_later(path: Path) -> None:
    stamp = path.stat().st_mtime_ns + 5_000_000_000
    os.utime(path, ns=(stamp, stamp))


def replace_atomically(path: Path) -> None:
    temporary = path.with_name(".salary.yaml.tmp")
    temporary.write_text(path.read_text().replace("earn", "make"))
    temporary.replace(path)


CHANGES: dict[str, Callable[[Path], object]] = {
    "edited": lambda root: edit(salary(root)),
    "touched": lambda root: touch_later(salary(root)),
    "replaced atomically (as editors and git do)": lambda root: replace_atomically(salary(root)),
    "removed": lambda root: salary(root).unlink(),
    "renamed": lambda root: salary(root).rename(salary(root).with_name("pay.yaml")),
    "created": lambda root: shutil.copy(salary(root), salary(root).with_name("copy.yaml")),
    "linked": lambda root: (root / "faq" / "career" / "link.yaml").symlink_to("/nowhere"),
    "an article edited": lambda root: edit(root / "articles" / "a-test-article.md"),
}


@pytest.mark.parametrize("change", CHANGES, ids=list(CHANGES))
def test_a_file_changed_is_listed_as_a_scan_lists_it_without_a_scan(
    watched: Path, full_scans: list[str], change: str
) -> None:
    before = watch.list_files_now(watched)
    CHANGES[change](watched)
    now = watch.list_files_now(watched)
    assert now == list_files(watched)
    assert now != before
    assert full_scans == []


FOLDER_CHANGES: dict[str, Callable[[Path], object]] = {
    "a topic folder made, with a file": lambda root: shutil.copytree(
        root / "faq" / "career", root / "faq" / "new-topic"
    ),
    "a topic folder removed": lambda root: shutil.rmtree(root / "faq" / "career"),
    "a topic folder renamed": lambda root: (root / "faq" / "career").rename(root / "faq" / "jobs"),
    "faq/ replaced": lambda root: (
        (root / "faq").rename(root / "old-faq"),
        shutil.copytree(root / "old-faq", root / "faq"),
    ),
}


@pytest.mark.parametrize("change", FOLDER_CHANGES, ids=list(FOLDER_CHANGES))
def test_a_folder_changed_is_scanned_again_and_watched_anew(
    watched: Path, full_scans: list[str], change: str
) -> None:
    FOLDER_CHANGES[change](watched)
    assert watch.list_files_now(watched) == list_files(watched)
    assert full_scans == [str(watched)]
    for topic in (watched / "faq").iterdir():  # the folders as they are now are the ones watched
        for entry in topic.iterdir():
            edit(entry)
    assert watch.list_files_now(watched) == list_files(watched)
    assert full_scans == [str(watched)]


def test_a_folder_not_watched_is_scanned_every_time(knowledge_dir: Path, full_scans: list[str]) -> None:
    watch.list_files_now(knowledge_dir)
    edit(salary(knowledge_dir))
    assert watch.list_files_now(knowledge_dir) == list_files(knowledge_dir)
    assert len(full_scans) == 2
    assert watch.watch(knowledge_dir)
    watch.list_files_now(knowledge_dir)
    assert len(full_scans) == 3  # the scan that started watching
    watch.forget(knowledge_dir)
    edit(salary(knowledge_dir))
    assert watch.list_files_now(knowledge_dir) == list_files(knowledge_dir)
    assert len(full_scans) == 4


def test_without_inotify_listings_are_full_scans(
    knowledge_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(watch, "INotify", None)
    monkeypatch.setattr(watch, "_watcher", watch._Watcher())
    assert not watch.watch(knowledge_dir)
    edit(salary(knowledge_dir))
    assert watch.list_files_now(knowledge_dir) == list_files(knowledge_dir)


def test_a_queue_overflow_means_a_full_scan(watched: Path, full_scans: list[str]) -> None:
    """The kernel drops events past its queue's length and says so: nothing can be known from them."""
    limit = int(Path("/proc/sys/fs/inotify/max_queued_events").read_text())
    path = salary(watched)
    with path.open("a") as file:
        for _ in range(limit + 10):  # one MODIFY each; the kernel merges only identical neighbours,
            file.write("#\n")  # so alternate with an attribute change
            file.flush()
            os.utime(path)
    assert watch.list_files_now(watched) == list_files(watched)
    assert full_scans == [str(watched)]
