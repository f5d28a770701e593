"""The catalogue of problem templates: finding the files, reading and caching them, choosing by id or topic.

Each file is validated by ``engine.template_builder`` into the dataclasses of
``engine.model``; the validated data is cached while the file is unchanged.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from dlstudy import filecache
from dlstudy.engine.model import Template
from dlstudy.engine.template_builder import build_template
from dlstudy.errors import DlstudyError
from dlstudy.paths import problem_dirs
from dlstudy.suggest import did_you_mean
from dlstudy.yamlfile import load_yaml


def parse_template(path: Path) -> Template:
    """Read and validate one template file."""
    return build_template(path, load_yaml(path))


@lru_cache(maxsize=None)
def _template_files(dirs: tuple[Path, ...]) -> dict[str, Path]:
    files: dict[str, Path] = {}
    for folder in dirs:
        for path in sorted(folder.glob("*.yaml")):
            if path.stem in files:
                raise DlstudyError(f"duplicate problem id {path.stem!r}: {files[path.stem]} and {path}")
            files[path.stem] = path
    return files


@lru_cache(maxsize=None)
def _load(path: Path, mtime: float) -> Template:
    """A template; its validated data comes from a JSON cache while the file is unchanged.

    A hit skips the YAML parse and the LaTeX rendering check (a third of the
    time to load all templates); formulas are still parsed and compiled.
    """
    cached = filecache.read("problems", path)
    if cached is not None:
        try:
            return build_template(path, cached, check_latex=False)
        except DlstudyError:
            pass  # e.g. an oracle renamed since: validate the file itself
    data = load_yaml(path)
    template = build_template(path, data)
    filecache.write("problems", path, data)
    return template


def template_ids() -> list[str]:
    return list(_template_files(problem_dirs()))


def get_template(template_id: str) -> Template:
    """The template with this id, or a DlstudyError with a "did you mean"."""
    files = _template_files(problem_dirs())
    path = files.get(template_id)
    if path is None:
        raise DlstudyError(f"unknown problem id {template_id!r}{did_you_mean(template_id, files)}")
    return _load(path, os.path.getmtime(path))


@dataclass(frozen=True)
class Heading:
    """What a template is called and where it belongs, known without building it."""

    id: str
    topic: str
    title: str


def headings() -> list[Heading]:
    """Every template's heading, read from the cache of validated files where it can be: choosing problems by
    topic, or by mastery, then builds only the ones chosen (building all of them takes about half a second)."""
    found = []
    for template_id, path in _template_files(problem_dirs()).items():
        cached = filecache.read("problems", path)
        topic, title = (cached.get("topic"), cached.get("title")) if isinstance(cached, dict) else (None, None)
        if not (isinstance(topic, str) and isinstance(title, str)):
            template = get_template(template_id)
            topic, title = template.topic, template.title
        found.append(Heading(template_id, topic, title))
    return found


def all_templates(topic: str | None = None) -> list[Template]:
    templates = [get_template(i) for i in template_ids()]
    if topic is not None:
        topics = sorted({t.topic for t in templates})
        if topic not in topics:
            raise DlstudyError(f"unknown topic {topic!r}{did_you_mean(topic, topics)}; topics: {', '.join(topics)}")
        templates = [t for t in templates if t.topic == topic]
    return templates
