"""Shared fixtures: user data goes to a temporary folder, never to the real home; the clock is fixed."""

from __future__ import annotations

import functools
import gc
import itertools
import os
import re
import shutil
import tempfile
from pathlib import Path

# rich's Console fixes its width for good when COLUMNS is set as it is made, and the CLI makes its console on
# first use, which may be inside a test that passes COLUMNS=200. Made here without COLUMNS, its width follows
# each invocation's COLUMNS (80 when none is given and stdout is captured), whatever the runner's COLUMNS is.
os.environ.pop("COLUMNS", None)
import dlstudy.cli.terminal  # noqa: E402,F401

import numpy as np
import pytest
import typer.main
import typer.testing

import dlstudy.engine.oracles  # noqa: F401  - sets OMP_NUM_THREADS before any test module imports torch


FIXED_NOW = "2026-11-23T09:00:00+00:00"


def _build_command_once():
    """typer's CliRunner rebuilds the click command from the app on every invoke, inspecting every
    command's signature (~3 ms, paid ~1000 times by the suite). The app does not change while tests
    run, so build its command once per app; click creates a fresh context on every invocation."""
    build = typer.testing._get_command
    if build is not typer.main.get_command:
        return  # typer changed its internals: keep its behaviour, only the speed-up is lost
    commands: dict[int, object] = {}

    def command_of(app):
        if id(app) not in commands:
            commands[id(app)] = (app, build(app))  # the app is kept alive, so its id stays its own
        return commands[id(app)][1]

    typer.testing._get_command = command_of


_build_command_once()


_numpy_assert_allclose = np.testing.assert_allclose


def assert_allclose(actual, desired, rtol=1e-7, atol=0, equal_nan=True, err_msg="", verbose=True, *, strict=False):
    """numpy.testing.assert_allclose with a fast path (~15 us instead of ~115 us; the oracle tests make
    ~25,000 such checks). The fast path returns only where numpy's check passes: same shapes, numbers
    compared in float64 as numpy compares them (``desired`` float64 or integer), every difference finite
    and |actual - desired| <= atol + rtol * |desired|. Everything else, and every failure message, is
    numpy's own. tests/test_testing_helpers.py holds the two to the same verdicts."""
    if not strict and type(rtol) in (int, float) and type(atol) in (int, float):
        a, d = np.asanyarray(actual), np.asanyarray(desired)
        if (type(a) is np.ndarray and type(d) is np.ndarray and a.shape == d.shape
                and a.dtype.kind in "iuf" and (d.dtype == np.float64 or d.dtype.kind in "iu")):
            with np.errstate(all="ignore"):
                d64 = d.astype(np.float64)
                difference = np.abs(a - d64)
                if np.isfinite(difference).all() and (difference <= atol + rtol * np.abs(d64)).all():
                    return
    _numpy_assert_allclose(actual, desired, rtol=rtol, atol=atol, equal_nan=equal_nan, err_msg=err_msg,
                           verbose=verbose, strict=strict)


np.testing.assert_allclose = assert_allclose


_RUN_HOME = pytest.StashKey[Path]()


def _ram_disk() -> str | None:
    """Where scratch files go: /dev/shm when it is a writable RAM disk and neither TMPDIR nor
    PYTEST_DEBUG_TEMPROOT names a place. Every test makes folders and files (its data folder, review
    databases with their journals); on a disk such as this machine's /tmp (ext4 mounted with discard)
    making a folder costs ~0.7 ms of CPU and removing it ~2 ms, on a RAM disk a tenth of that."""
    if os.environ.get("TMPDIR") or os.environ.get("PYTEST_DEBUG_TEMPROOT"):
        return None
    shm = "/dev/shm"
    return shm if os.path.ismount(shm) and os.access(shm, os.W_OK | os.X_OK) else None


def pytest_configure(config):
    """A scratch data folder from the start of the run, before any test module is collected.

    Some test modules build every template while they are collected, before any fixture runs: that must
    neither read nor write the real user's data folder. Its cache folder is the run's shared cache of
    validated files (validated_file_cache), so those templates are validated once, and the commands the
    tests run (in this process or in a child) read them from the cache instead of validating them again.
    """
    environment = pytest.MonkeyPatch()
    scratch = _ram_disk()
    if scratch is not None:
        environment.setenv("PYTEST_DEBUG_TEMPROOT", scratch)  # pytest's documented root for tmp_path
    home = Path(tempfile.mkdtemp(prefix="dlstudy-tests-", dir=scratch))
    (home / "cache").mkdir()
    config.stash[_RUN_HOME] = home
    environment.setenv("DLSTUDY_HOME", str(home))
    config.add_cleanup(functools.partial(shutil.rmtree, home, ignore_errors=True))
    config.add_cleanup(environment.undo)


# Collection imports torch and sympy and builds every template: objects that live for the whole run, ~2 MB
# of cyclic garbage among them. The garbage collector's passes over that growing heap cost ~1.3 s, so it
# sleeps until collection is done.
gc.disable()


def pytest_collection_finish(session):
    """The garbage collector's full passes cost ~0.1-0.2 s each in this heap (torch, sympy, every template),
    ~20 of them a run, and pytest adds two at its end. What collection imported and built lives for the
    whole run, so it is frozen out of their sight; and a full pass comes after 100 passes over the younger
    generations instead of 10 (young cycles are still collected as often as ever)."""
    gc.freeze()
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, 100)
    gc.enable()


@pytest.fixture(scope="session")
def validated_file_cache(pytestconfig):
    """One cache folder of validated deck and problem files for the whole run.

    Validating the built-in decks takes ~0.15 s, and the problem templates ~1.5 s, and every command
    that lists problems or quizzes decks does it in a fresh data folder. The cache is keyed by each
    file's path, modification time and size (dlstudy/filecache.py), so a test's own deck files never
    collide; cold validation itself is covered by tests/test_decks.py and tests/test_template_loading.py,
    and tests/test_imports.py starts from an empty data folder.
    """
    return pytestconfig.stash[_RUN_HOME] / "cache"


@pytest.fixture(scope="session")
def new_home_folder(tmp_path_factory):
    """``new_home_folder(name)``: an empty folder of its own, numbered in one folder of the run.

    Every test gets a data folder, and most need no tmp_path besides: pytest's tmp_path lists the
    run's folder to number each new one and repoints a symlink (~0.5 ms a test on an ext4 disk)."""
    homes = tmp_path_factory.mktemp("homes")
    numbers = itertools.count()

    def new_home_folder(name: str) -> Path:
        folder = homes / f"{next(numbers)}-{re.sub(r'[^A-Za-z0-9_.-]+', '_', name)[:40]}"
        folder.mkdir()
        return folder

    return new_home_folder


@pytest.fixture(autouse=True)
def isolated_home(request, new_home_folder, monkeypatch, validated_file_cache):
    """User data in a temporary folder, and a fixed clock (dlstudy.clock reads DLSTUDY_NOW)."""
    home = new_home_folder(request.node.name)
    (home / "cache").symlink_to(validated_file_cache, target_is_directory=True)
    monkeypatch.setenv("DLSTUDY_HOME", str(home))
    monkeypatch.setenv("DLSTUDY_NOW", FIXED_NOW)
    monkeypatch.delenv("DLSTUDY_PROBLEMS", raising=False)
    return home


@pytest.fixture
def home(isolated_home):
    """A data folder whose config makes scheduling deterministic (no fuzz) and lets every new card in."""
    (isolated_home / "config.toml").write_text("fuzz = false\nnew_per_day = 100\n")
    return isolated_home
