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
    """What a template is called, where it belongs and what it asks for, known without building it."""

    id: str
    topic: str
    title: str
    kind: str  # the answer's kind

    @classmethod
    def of(cls, template: Template) -> Heading:
        return cls(template.id, template.topic, template.title, template.answer.kind)


def headings(topic: str | None = None) -> list[Heading]:
    """Every template's heading (or those of ``topic``), read from the cache of validated files where it can be:
    listing the catalogue, or choosing problems by topic or by mastery, then builds only the templates chosen
    (building all of them costs about 0.7 s)."""
    found = []
    for template_id, path in _template_files(problem_dirs()).items():
        cached = filecache.read("problems", path)
        answer = cached.get("answer") if isinstance(cached, dict) else None
        fields = (cached.get("topic"), cached.get("title"), answer.get("kind")) if isinstance(answer, dict) else ()
        if len(fields) == 3 and all(isinstance(field, str) for field in fields):
            found.append(Heading(template_id, *fields))
        else:
            found.append(Heading.of(get_template(template_id)))
    return _of_topic(found, topic)


def all_templates(topic: str | None = None) -> list[Template]:
    return _of_topic([get_template(i) for i in template_ids()], topic)


def _of_topic(items: list, topic: str | None) -> list:
    """The templates (or headings) of ``topic``; all of them for None."""
    if topic is None:
        return items
    topics = sorted({item.topic for item in items})
    if topic not in topics:
        raise DlstudyError(f"unknown topic {topic!r}{did_you_mean(topic, topics)}; topics: {', '.join(topics)}")
    return [item for item in items if item.topic == topic]
