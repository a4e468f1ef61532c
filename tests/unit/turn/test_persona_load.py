"""The one load path: a persona file is parsed and validated once, by the bot and by the check."""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from bots.app.check import check_paths, run_persona_test_files
from bots.errors import PersonaError
from bots.knowledge.persona import Persona
from bots.knowledge.persona_file import PersonaReader, parse_persona_yaml, read_persona
from bots.knowledge.yamlfile import YamlDocument
from bots.turn.library import PersonaLibrary
from bots.turn.persona_load import load_persona_file
from tests.conftest import DATA
from tests.support.paths import REPO_ROOT


class CountingReader:
    """The real parser and validator, counting how often each persona file meets them."""

    def __init__(self) -> None:
        self.parsed: Counter[str] = Counter()
        self.validated: Counter[str] = Counter()

    def reader(self) -> PersonaReader:
        return PersonaReader(parse=self._parse, validate=self._validate)

    def _parse(self, path: Path) -> YamlDocument:
        self.parsed[path.name] += 1
        return parse_persona_yaml(path)

    def _validate(self, data: Any) -> Persona:
        self.validated[str(data.get("name"))] += 1
        return Persona.model_validate(data)


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    personas, knowledge = tmp_path / "personas", tmp_path / "knowledge"
    shutil.copytree(REPO_ROOT / "personas", personas)
    shutil.copytree(REPO_ROOT / "knowledge", knowledge)
    return personas, knowledge


def test_the_bot_reads_each_persona_once_per_load(files: tuple[Path, Path]) -> None:
    personas, knowledge = files
    counting = CountingReader()
    library = PersonaLibrary(personas, knowledge, required="restaurant", reader=counting.reader())
    library.load()
    names = sorted(library)
    assert len(names) >= 2
    assert counting.parsed == Counter({f"{name}.yaml": 1 for name in names})
    assert counting.validated == Counter({name: 1 for name in names})


def test_bots_check_reads_each_persona_once_also_with_its_tests(
    files: tuple[Path, Path],
) -> None:
    personas, knowledge = files
    assert any(personas.glob("*.tests.yaml"))  # the tests files are checked too
    counting = CountingReader()
    report = check_paths([personas, knowledge], knowledge, counting.reader())
    assert report.ok
    _tables, passed = run_persona_test_files(report, knowledge)
    assert passed
    names = [path.stem for path in report.personas]
    assert counting.parsed == Counter({f"{name}.yaml": 1 for name in names})
    assert counting.validated == Counter({name: 1 for name in names})


def test_a_broken_file_gives_its_problems_and_no_persona(tmp_path: Path) -> None:
    path = tmp_path / "shop.yaml"
    path.write_text(
        "name: shop\ndisplay_name: Shop\ninstructions: Help.\ntone: 3\n"
        "knowledge:\n  sets: [nowhere]\n",
        encoding="utf-8",
    )
    counting = CountingReader()
    read = read_persona(path, tmp_path, counting.reader())
    assert read.persona is None
    assert [(p.field, p.line) for p in read.problems] == [("tone", 4), ("knowledge.sets", 6)]
    assert counting.parsed == Counter({"shop.yaml": 1})
    with pytest.raises(PersonaError, match=r"shop.yaml:4:1: `tone`: .*and 1 more problem"):
        load_persona_file(path, tmp_path, reader=counting.reader()).persona()


def test_a_file_that_does_not_parse_is_one_placed_problem(tmp_path: Path) -> None:
    path = tmp_path / "shop.yaml"
    path.write_text("name: shop\n\tdisplay_name: Shop\n", encoding="utf-8")
    loaded = load_persona_file(path, tmp_path)
    assert not loaded.usable
    assert loaded.file.document is None
    assert [finding.line for finding in loaded.findings] == [2]


def test_instructions_that_cannot_fit_are_refused_by_the_bot_as_the_check_words_it(
    tmp_path: Path,
) -> None:
    source = (DATA / "personas" / "cafe.yaml").read_text(encoding="utf-8")
    path = tmp_path / "cafe.yaml"
    path.write_text(
        source + "extra_instructions: " + "Always be kind. " * 4000 + "\n", encoding="utf-8"
    )
    loaded = load_persona_file(path, DATA / "knowledge")
    assert loaded.file.persona is not None
    assert not loaded.usable
    (finding,) = [f for f in loaded.findings if f.severity == "error"]
    with pytest.raises(PersonaError) as refused:
        loaded.persona()
    assert str(refused.value) == finding.describe()
