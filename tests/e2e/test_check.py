"""`bots check` and `bots persona schema`: every mistake found, placed and explained."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from bots.app.check import CheckReport, check_paths
from bots.errors import KnowledgeError, PersonaError
from bots.knowledge.files import knowledge_problems, load_knowledge_set
from bots.knowledge.finding import Finding
from bots.knowledge.persona import (
    ModelSettings,
    Persona,
    load_personas,
    name_problem,
    persona_json_schema,
    persona_problems,
)
from bots.knowledge.yamlfile import parse_yaml
from tests.support.cli_runner import clean_env, run_bots
from tests.support.paths import REPO_ROOT, TEST_DATA

ROOT = REPO_ROOT
BROKEN = TEST_DATA / "broken"
ERRORS = BROKEN / "errors"
WARNINGS = BROKEN / "warnings"
MODELINE = "# yaml-language-server: $schema=../schemas/persona.schema.json"


def check(fixture: Path) -> CheckReport:
    return check_paths([fixture / "personas", fixture / "knowledge"], fixture / "knowledge")


def placed(finding: Finding) -> tuple[str, int | None, int | None, str | None]:
    return (
        Path(finding.path).relative_to(BROKEN).as_posix(),
        finding.line,
        finding.column,
        finding.field,
    )


@pytest.fixture(scope="module")
def errors() -> dict[tuple[str, int | None, int | None, str | None], Finding]:
    report = check(ERRORS)
    assert all(f.severity == "error" for f in report.findings)
    return {placed(finding): finding for finding in report.findings}


# --- every error, placed and explained ------------------------------------------------------

EXPECTED_ERRORS = [
    # (file, line, column, field, text)
    (
        "errors/personas/syntax.yaml",
        4,
        16,
        None,
        "a text containing ': ' needs quotes around it",
    ),
    (
        "errors/personas/shop.yaml",
        4,
        1,
        "instrutions",
        "this field is not known; did you mean `instructions`?",
    ),
    ("errors/personas/shop.yaml", 2, 1, "instructions", "this field is required but is missing"),
    ("errors/personas/shop.yaml", 6, 3, "model.temperature", "expected a number"),
    (
        "errors/personas/shop.yaml",
        8,
        16,
        "knowledge.sets",
        "there is no knowledge folder 'extras' in ",
    ),
    (
        "errors/personas/renamed.yaml",
        1,
        1,
        "name",
        "the file is called renamed.yaml but its name is 'shop-two'; make them the same",
    ),
    (
        "errors/personas/long.yaml",
        8,
        1,
        "instructions",
        "more than the prompt budget of 512 tokens (model.context_window 1024 minus "
        "model.max_tokens 512); shorten the instructions or raise model.context_window",
    ),
    (
        "errors/personas/combo.yaml",
        5,
        3,
        "knowledge.sets",
        "the knowledge sets 'shop' and 'extra' both have the id 'returns'",
    ),
    (
        "errors/knowledge/shop/faq.yaml",
        6,
        5,
        "entry 2: answer",
        "this entry has no answer; add `answer:` with the text people should get",
    ),
    (
        "errors/knowledge/shop/faq.yaml",
        10,
        5,
        "entry 3: qestion",
        "this field is not known; did you mean `question`?",
    ),
    (
        "errors/knowledge/shop/faq.yaml",
        9,
        5,
        "entry 3: question",
        "this entry has no question",
    ),
    (
        "errors/knowledge/shop/faq.yaml",
        2,
        5,
        "id",
        "the id 'shop-hours' is used twice (also in ",
    ),
    (
        "errors/knowledge/shop/more.yaml",
        5,
        5,
        "id",
        "the id 'shop-hours' is used twice (also in ",
    ),
]


@pytest.mark.parametrize(
    ("file", "line", "column", "field", "text"),
    EXPECTED_ERRORS,
    ids=[f"{e[0].rsplit('/', 1)[-1]}:{e[1]}:{e[2]}" for e in EXPECTED_ERRORS],
)
def test_every_error_names_file_line_column_and_says_what_is_wrong(
    errors: dict[tuple[str, int | None, int | None, str | None], Finding],
    file: str,
    line: int,
    column: int,
    field: str | None,
    text: str,
) -> None:
    finding = errors.get((file, line, column, field))
    assert finding is not None, sorted(errors)
    assert text in finding.message
    where = f"{BROKEN / file}:{line}:{column}: "
    assert finding.describe().startswith(where + (f"`{field}`: " if field else ""))


def test_nothing_but_the_expected_errors(
    errors: dict[tuple[str, int | None, int | None, str | None], Finding],
) -> None:
    assert sorted(errors) == sorted(e[:4] for e in EXPECTED_ERRORS)


def test_duplicate_ids_name_the_other_place(
    errors: dict[tuple[str, int | None, int | None, str | None], Finding],
) -> None:
    first = errors[("errors/knowledge/shop/faq.yaml", 2, 5, "id")]
    second = errors[("errors/knowledge/shop/more.yaml", 5, 5, "id")]
    assert f"also in {ERRORS / 'knowledge/shop/more.yaml'}:5:5)" in first.message
    assert f"also in {ERRORS / 'knowledge/shop/faq.yaml'}:2:5)" in second.message


def test_missing_set_suggests_the_close_one_and_lists_the_rest(
    errors: dict[tuple[str, int | None, int | None, str | None], Finding],
) -> None:
    finding = errors[("errors/personas/shop.yaml", 8, 16, "knowledge.sets")]
    assert finding.message.endswith("did you mean `extra`? (available: extra, shop)")


def test_sets_shared_by_a_persona_name_both_entries(
    errors: dict[tuple[str, int | None, int | None, str | None], Finding],
) -> None:
    finding = errors[("errors/personas/combo.yaml", 5, 3, "knowledge.sets")]
    assert f"{ERRORS / 'knowledge/shop/more.yaml'}:2:5" in finding.message
    assert f"{ERRORS / 'knowledge/extra/faq.yaml'}:2:5" in finding.message


def test_a_misspelt_entries_key_is_suggested(tmp_path: Path) -> None:
    path = tmp_path / "faq.yaml"
    path.write_text("# FAQ\nentires:\n  - id: a\n", encoding="utf-8")
    [problem] = knowledge_problems(path)
    assert (problem.line, problem.column, problem.field) == (2, 1, "entires")
    assert problem.detail == (
        "expected `entries:` followed by a list of FAQ entries; did you mean `entries`?"
    )


def test_a_word_yaml_reads_as_true_is_explained(tmp_path: Path) -> None:
    path = tmp_path / "faq.yaml"
    path.write_text("entries:\n  - id: yes\n    question: Q?\n    answer: A.\n", encoding="utf-8")
    [problem] = knowledge_problems(path)
    assert (problem.line, problem.column, problem.field) == (2, 5, "entry 1: id")
    assert "put quotes around it" in problem.detail


def test_collecting_finds_all_while_loading_still_stops_at_the_first() -> None:
    problems = knowledge_problems(ERRORS / "knowledge" / "shop" / "faq.yaml")
    assert [(p.line, p.field) for p in problems] == [
        (6, "entry 2: answer"),
        (10, "entry 3: qestion"),
        (9, "entry 3: question"),
    ]
    with pytest.raises(KnowledgeError) as caught:
        load_knowledge_set(ERRORS / "knowledge", "shop")
    assert caught.value.describe() == problems[0].describe()


# --- warnings --------------------------------------------------------------------------------


def test_warnings_are_apart_from_errors() -> None:
    report = check(WARNINGS)
    assert report.ok
    assert report.errors == ()
    found = {placed(f): f for f in report.warnings}
    assert set(found) == {
        ("warnings/knowledge/empty", None, None, None),
        ("warnings/knowledge/notes/headings.md", 1, 1, None),
        ("warnings/personas/wordy.yaml", 3, 1, "instructions"),
    }
    empty = found[("warnings/knowledge/empty", None, None, None)]
    assert (
        empty.message == "this knowledge set has no entries; a persona using it can only hand off"
    )
    assert empty.describe() == f"warning: {WARNINGS / 'knowledge/empty'}: {empty.message}"
    page = found[("warnings/knowledge/notes/headings.md", 1, 1, None)]
    assert page.message == "this page gives no entries: write some text below its headings"
    wordy = found[("warnings/personas/wordy.yaml", 3, 1, "instructions")]
    assert re.search(r"take \d+ tokens, 2\d% of the prompt budget of 1048 tokens", wordy.message)
    assert "(keep it under 25%)" in wordy.message


def test_short_instructions_get_no_budget_warning(tmp_path: Path) -> None:
    path = tmp_path / "shop.yaml"
    path.write_text("name: shop\ndisplay_name: Shop\ninstructions: Be brief.\n", encoding="utf-8")
    assert check_paths([path], tmp_path / "knowledge").findings == ()


def test_summary_counts() -> None:
    assert check(ERRORS).summary() == "13 errors, 0 warnings in 8 files"
    assert check(WARNINGS).summary() == "0 errors, 3 warnings in 3 files"
    assert CheckReport((), (Path("a.yaml"),), 1, 1, 1).summary() == (
        "all good: 1 persona, 1 knowledge set, 1 entry"
    )


def test_a_path_that_does_not_exist_is_an_error(tmp_path: Path) -> None:
    report = check_paths([tmp_path / "nope"], tmp_path)
    assert [f.describe() for f in report.findings] == [
        f"{tmp_path / 'nope'}: there is no such file or folder"
    ]


def test_single_files_are_recognised_by_place_and_content() -> None:
    report = check_paths(
        [ERRORS / "personas" / "renamed.yaml", ERRORS / "knowledge" / "extra" / "faq.yaml"],
        ERRORS / "knowledge",
    )
    assert report.personas == (ERRORS / "personas" / "renamed.yaml",)
    assert (report.knowledge_sets, report.entries) == (1, 1)
    assert [f.field for f in report.findings] == ["name"]


# --- the command line ------------------------------------------------------------------------


def bots(args: list[str], fixture: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = clean_env()
    if fixture is not None:
        env["BOTS_PERSONAS_DIR"] = str((fixture / "personas").relative_to(ROOT))
        env["BOTS_KNOWLEDGE_DIR"] = str((fixture / "knowledge").relative_to(ROOT))
    return run_bots(args, env)


def test_cli_lists_every_error_and_exits_1() -> None:
    result = bots(["check"], ERRORS)
    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    assert lines[-1] == "13 errors, 0 warnings in 8 files"
    assert len(lines) == 14
    assert (
        "tests/data/broken/errors/personas/shop.yaml:4:1: `instrutions`: this field is not "
        "known; did you mean `instructions`?" in lines
    )
    assert (
        "tests/data/broken/errors/knowledge/shop/faq.yaml:6:5: `entry 2: answer`: this entry "
        "has no answer; add `answer:` with the text people should get" in lines
    )
    assert "Traceback" not in result.stderr


def test_cli_warnings_alone_exit_0() -> None:
    result = bots(["check"], WARNINGS)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[-1] == "0 errors, 3 warnings in 3 files"
    assert all(line.startswith("warning: tests/data/broken/warnings/") for line in lines[:-1])


def test_cli_checks_the_paths_given() -> None:
    result = bots(["check", "tests/data/broken/errors/personas/renamed.yaml"], ERRORS)
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        "tests/data/broken/errors/personas/renamed.yaml:1:1: `name`: the file is called "
        "renamed.yaml but its name is 'shop-two'; make them the same (name: renamed, or "
        "rename the file)",
        "1 error, 0 warnings in 1 file",
    ]


def test_shipped_personas_and_knowledge_pass() -> None:
    personas = load_personas(ROOT / "personas")
    sets = sorted(p.name for p in (ROOT / "knowledge").iterdir() if p.is_dir())
    entries = sum(len(load_knowledge_set(ROOT / "knowledge", name)) for name in sets)
    result = bots(["check"])
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == (
        f"all good: {len(personas)} personas, {len(sets)} knowledge sets, {entries} entries"
    )


def test_shipped_persona_tests_pass() -> None:
    result = bots(["check", "--tests"])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "FAIL" not in result.stdout
    assert re.search(r"^\d+ passed, 0 failed$", result.stdout, re.MULTILINE)


def test_a_failing_persona_test_exits_1() -> None:
    result = bots(["check", "--tests"], BROKEN / "failing")
    assert result.returncode == 1, result.stderr
    assert result.stdout.startswith("all good: 1 persona, 1 knowledge set, 2 entries\n")
    assert "FAIL    when is the bread baked?" in result.stdout
    assert "0 passed, 1 failed" in result.stdout


def test_persona_tests_are_skipped_for_a_broken_persona() -> None:
    result = bots(["check", "--tests"], ERRORS)
    assert result.returncode == 1
    assert "shop.tests.yaml: skipped, fix the errors in" in result.stdout


# --- the JSON Schema -------------------------------------------------------------------------


def test_committed_schema_is_what_the_command_prints() -> None:
    result = bots(["persona", "schema"])
    assert result.returncode == 0, result.stderr
    committed = (ROOT / "schemas" / "persona.schema.json").read_text(encoding="utf-8")
    assert result.stdout == committed, "run: bots persona schema > schemas/persona.schema.json"
    schema = json.loads(committed)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["title"] == "Support bot persona"


def test_every_shipped_persona_points_editors_at_the_schema() -> None:
    for path in sorted((ROOT / "personas").glob("*.yaml")):
        if not path.name.endswith(".tests.yaml"):
            first = path.read_text(encoding="utf-8").splitlines()[0]
            assert first == MODELINE, path


def test_schema_fields_match_the_model() -> None:
    schema = persona_json_schema()
    for model in (Persona, *(_sections(Persona))):
        node = schema if model is Persona else schema["$defs"][model.__name__]
        assert set(node["properties"]) == set(model.model_fields), model
        required = {n for n, f in model.model_fields.items() if f.is_required()}
        assert set(node.get("required", [])) == required, model
        assert node["additionalProperties"] is False


def _sections(model: type[BaseModel]) -> list[type[BaseModel]]:
    found: list[type[BaseModel]] = []
    for info in model.model_fields.values():
        for candidate in (info.annotation, *getattr(info.annotation, "__args__", ())):
            if isinstance(candidate, type) and issubclass(candidate, BaseModel):
                found += [candidate, *_sections(candidate)]
    return found


VALID: dict[str, Any] = {"name": "shop", "display_name": "Shop", "instructions": "Be brief."}
FULL: dict[str, Any] = {
    **VALID,
    "greeting": "Hi!",
    "model": {"name": "gpt-4o-mini", "temperature": 0.2, "max_tokens": 300, "stop": ["END"]},
    "knowledge": {
        "sets": ["shop"],
        "max_snippets": 3,
        "snippet_budget_share": 0.4,
        "match": "strict",
    },
    "handoff": {
        "reminder_minutes": 0,
        "hours": {"timezone": "Europe/Paris", "days": {"monday": "09:00-17:00"}},
    },
    "fallback": {"unknown": "No idea."},
}
INVALID: list[dict[str, Any]] = [
    {"display_name": "Shop", "instructions": "Be brief."},
    {**VALID, "instrutions": "typo"},
    {**VALID, "name": "Shop Name"},
    {**VALID, "display_name": ""},
    {**VALID, "greeting": ["a", "list"]},
    {**VALID, "model": {"temperature": "warm"}},
    {**VALID, "model": {"temperature": 3}},
    {**VALID, "model": {"max_tokens": 8}},
    {**VALID, "model": {"context_window": 256}},
    {**VALID, "model": {"top_p": 0}},
    {**VALID, "model": {"stop": ["a", "b", "c", "d", "e"]}},
    {**VALID, "model": {"tools": "maybe"}},
    {**VALID, "knowledge": {"sets": "shop"}},
    {**VALID, "knowledge": {"max_snippets": 1.5}},
    {**VALID, "knowledge": {"match": "medium"}},
    {**VALID, "handoff": {"colour": "red"}},
    {**VALID, "handoff": {"hours": {"days": {"funday": "09:00-17:00"}}}},
    {**VALID, "handoff": {"hours": {"days": {"monday": "9 to 5"}}}},
    {**VALID, "fallback": {"unknown": ""}},
    ["not", "a", "group"],
]


@pytest.mark.parametrize("data", [VALID, FULL])
def test_schema_and_model_accept_the_same_valid_personas(data: dict[str, Any]) -> None:
    Persona.model_validate(data)
    assert _schema_errors(data) == []


@pytest.mark.parametrize("data", INVALID, ids=[str(n) for n in range(len(INVALID))])
def test_schema_and_model_refuse_the_same_invalid_personas(data: Any) -> None:
    with pytest.raises(ValidationError):
        Persona.model_validate(data)
    assert _schema_errors(data) != []


def test_shipped_personas_are_valid_for_the_schema() -> None:
    for path in sorted((ROOT / "personas").glob("*.yaml")):
        if not path.name.endswith(".tests.yaml"):
            document = parse_yaml(path.read_text(encoding="utf-8"), path)
            assert _schema_errors(document.data) == [], path


def _schema_errors(data: Any) -> list[str]:
    """A small validator for the JSON Schema keywords the persona schema uses.

    `jsonschema` is not a dependency; an unknown keyword fails loudly, so a schema change
    that needs more than this is noticed.
    """
    schema = persona_json_schema()
    return _validate(data, schema, schema, "")


_ANNOTATIONS = {"$schema", "$defs", "title", "description", "default"}
_TYPES: dict[str, Any] = {
    "object": dict,
    "array": list,
    "string": str,
    "boolean": bool,
    "null": type(None),
    "integer": int,
    "number": (int, float),
}


def _validate(value: Any, node: dict[str, Any], root: dict[str, Any], at: str) -> list[str]:
    errors: list[str] = []
    for key, rule in node.items():
        if key in _ANNOTATIONS:
            continue
        if key == "$ref":
            errors += _validate(value, root["$defs"][rule.rsplit("/", 1)[-1]], root, at)
        elif key == "anyOf":
            if all(_validate(value, option, root, at) for option in rule):
                errors.append(f"{at}: matches no option")
        elif key == "type":
            wrong_bool = isinstance(value, bool) and rule in ("integer", "number")
            if wrong_bool or not isinstance(value, _TYPES[rule]):
                errors.append(f"{at}: not {rule}")
        elif key in ("properties", "additionalProperties", "required"):
            if isinstance(value, dict):
                errors += _object(value, key, rule, node, root, at)
        elif key in ("items", "maxItems"):
            if isinstance(value, list):
                errors += _array(value, key, rule, root, at)
        else:
            errors += _scalar(value, key, rule, at)
    return errors


def _object(
    value: dict[str, Any], key: str, rule: Any, node: dict[str, Any], root: Any, at: str
) -> list[str]:
    if key == "required":
        return [f"{at}.{name}: missing" for name in rule if name not in value]
    if key == "properties":
        return [
            error
            for name, sub in rule.items()
            if name in value
            for error in _validate(value[name], sub, root, f"{at}.{name}")
        ]
    extra = [name for name in value if name not in node.get("properties", {})]
    if rule is False:
        return [f"{at}.{name}: not allowed" for name in extra]
    return [error for name in extra for error in _validate(value[name], rule, root, at)]


def _array(value: list[Any], key: str, rule: Any, root: Any, at: str) -> list[str]:
    if key == "maxItems":
        return [f"{at}: too many items"] if len(value) > rule else []
    return [
        error for n, item in enumerate(value) for error in _validate(item, rule, root, f"{at}.{n}")
    ]


def _scalar(value: Any, key: str, rule: Any, at: str) -> list[str]:
    number = isinstance(value, int | float) and not isinstance(value, bool)
    checks = {
        "minLength": lambda: isinstance(value, str) and len(value) < rule,
        "pattern": lambda: isinstance(value, str) and not re.search(rule, value),
        "minimum": lambda: number and value < rule,
        "maximum": lambda: number and value > rule,
        "exclusiveMinimum": lambda: number and value <= rule,
        "enum": lambda: value not in rule,
    }
    if key not in checks:
        raise AssertionError(f"the test validator does not know the keyword {key!r}")
    return [f"{at}: {key} {rule}"] if checks[key]() else []


def test_the_budget_rule_the_schema_cannot_say_is_still_checked() -> None:
    # JSON Schema cannot compare two fields; the model (and so `bots check`) still does.
    with pytest.raises(ValidationError, match="at most half of context_window"):
        ModelSettings(max_tokens=3000, context_window=4000)
    assert _schema_errors({**VALID, "model": {"max_tokens": 3000, "context_window": 4000}}) == []


# --- fuzzing: any text gives a valid persona or a placed PersonaError ------------------------

RESTAURANT = (ROOT / "personas" / "restaurant.yaml").read_text(encoding="utf-8")
FUZZ_PATH = Path("restaurant.yaml")


def assert_valid_or_placed_error(text: str) -> None:
    try:
        document = parse_yaml(text, FUZZ_PATH, PersonaError)
    except PersonaError as error:
        syntax_error = error
    else:
        syntax_error = None
    if syntax_error is not None:
        assert syntax_error.line is not None, syntax_error
        return
    problems = persona_problems(document)
    mismatch = name_problem(document)
    for problem in [*problems, *([mismatch] if mismatch else [])]:
        assert isinstance(problem, PersonaError)
        assert problem.line is not None, problem
        assert problem.describe().startswith(f"{FUZZ_PATH}:{problem.line}")
    if not problems:
        Persona.model_validate(document.data)


@st.composite
def mutated_restaurant(draw: st.DrawFn) -> str:
    lines = RESTAURANT.splitlines(keepends=True)
    for _ in range(draw(st.integers(1, 4))):
        n = draw(st.integers(0, len(lines) - 1))
        kind = draw(st.sampled_from(["delete", "duplicate", "insert", "indent", "chars", "swap"]))
        if kind == "delete":
            del lines[n]
        elif kind == "duplicate":
            lines.insert(n, lines[n])
        elif kind == "insert":
            lines.insert(n, draw(st.text(max_size=40)) + "\n")
        elif kind == "indent":
            lines[n] = draw(st.sampled_from(["", " ", "  ", "\t", "    "])) + lines[n].lstrip()
        elif kind == "chars":
            cut = draw(st.integers(0, len(lines[n])))
            junk = draw(
                st.text(alphabet=st.sampled_from(":-[]{}#&*!|>'\"%@`, \t\x00\x85"), max_size=4)
            )
            lines[n] = lines[n][:cut] + junk + lines[n][cut:]
        else:
            other = draw(st.integers(0, len(lines) - 1))
            lines[n], lines[other] = lines[other], lines[n]
        if not lines:
            break
    return "".join(lines)


@pytest.mark.security("fuzzing")
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=300))
def test_fuzz_any_text(text: str) -> None:
    assert_valid_or_placed_error(text)


@pytest.mark.security("fuzzing")
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_restaurant())
def test_fuzz_mutated_restaurant_persona(text: str) -> None:
    assert_valid_or_placed_error(text)


@pytest.mark.security("fuzzing")
@pytest.mark.parametrize(
    ("text", "line", "column", "fragment"),
    [
        ("name: a\nb: \x01\n", 2, 4, "the character U+0001 cannot be in a YAML file"),
        ("name: !!int abc\n", 1, 7, "does not match its `!!` type tag"),
        ("handoff: !!bool maybe\n", 1, 10, "does not match its `!!` type tag"),
        ("[" * 3000, 1, 1, "nested too deeply"),
    ],
)
def test_yaml_that_used_to_crash_is_a_placed_error(
    text: str, line: int, column: int, fragment: str
) -> None:
    with pytest.raises(PersonaError) as caught:
        parse_yaml(text, FUZZ_PATH, PersonaError)
    assert (caught.value.line, caught.value.column) == (line, column)
    assert fragment in caught.value.detail


def test_a_broken_tests_file_is_an_error_without_running_tests(tmp_path: Path) -> None:
    personas = tmp_path / "personas"
    shutil.copytree(ROOT / "tests" / "data" / "personas", personas)
    (personas / "cafe.tests.yaml").write_text(
        "tests:\n  - ask: parking?\n    answer_from: parkng\n", encoding="utf-8"
    )
    (personas / "gone.tests.yaml").write_text("tests: []\n", encoding="utf-8")
    (personas / "other.yml").write_text("name: other\n", encoding="utf-8")
    report = check_paths([personas], ROOT / "tests" / "data" / "knowledge")
    errors = [(Path(f.path).name, f.line, f.message) for f in report.errors]
    assert len(errors) == 1
    assert errors[0][:2] == ("cafe.tests.yaml", 3)
    assert "parking" in errors[0][2]  # did you mean
    warnings = sorted(Path(f.path).name for f in report.warnings)
    assert warnings == ["gone.tests.yaml", "other.yml"]
