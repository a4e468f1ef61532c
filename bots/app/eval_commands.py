"""`bots eval handoff|retrieval|help-channel|answers`: the bot's own parts on labelled data."""

from __future__ import annotations

import argparse
from pathlib import Path

from bots.app.wiring import existing_folder, persona_path, retrieval_for
from bots.config import Settings
from bots.errors import BotsError
from bots.knowledge.files import load_knowledge
from bots.knowledge.persona import MatchLevel
from bots.turn.persona_load import load_persona_file


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    evaluate = commands.add_parser("eval", help="measure a part of the bot on labelled data")
    evaluations = evaluate.add_subparsers(dest="evaluation", required=True)
    handoff = evaluations.add_parser("handoff", help="score the ask-for-a-person detector")
    handoff.add_argument("--data", required=True, type=Path, help="utterances, JSON Lines")
    handoff.add_argument("--json", action="store_true", help="print one JSON object only")
    handoff.add_argument(
        "--rules-only", action="store_true", help="score the rule tables without the examples"
    )
    handoff.set_defaults(run=run_eval_handoff)
    retrieval = evaluations.add_parser(
        "retrieval", help="score FAQ retrieval on labelled questions (the bot's own retriever)"
    )
    source = retrieval.add_mutually_exclusive_group(required=True)
    source.add_argument("--faq", type=Path, help="FAQ entries, JSON Lines (id, question, answer)")
    source.add_argument("--persona", help="use this persona's own knowledge instead")
    retrieval.add_argument("--queries", required=True, type=Path, help="questions, JSON Lines")
    retrieval.add_argument(
        "--train-as-phrasings",
        action="store_true",
        help="add `split: train` questions as phrasings of their entry; score `split: test`",
    )
    retrieval.add_argument("--k", type=int, default=3, help="how many entries to retrieve")
    retrieval.add_argument("--json", action="store_true", help="print one JSON object only")
    retrieval.set_defaults(run=run_eval_retrieval)
    help_channel = evaluations.add_parser(
        "help-channel", help="score the help-channel question detector on labelled messages"
    )
    help_channel.add_argument("--data", required=True, type=Path, help="messages, JSON Lines")
    help_channel.add_argument("--json", action="store_true", help="print one JSON object only")
    help_channel.add_argument(
        "--rules-only", action="store_true", help="score the rules without the examples"
    )
    help_channel.set_defaults(run=run_eval_help_channel)
    answers = evaluations.add_parser(
        "answers",
        help="check the bot's answers: cited entry, figures in the snippets, hand-off, latency",
    )
    answers.add_argument(
        "--data", type=Path, help="questions, JSON Lines: {question, cites} or {question, handoff}"
    )
    answers.add_argument("--persona", help="persona to ask (default: restaurant or $BOTS_PERSONA)")
    answers.add_argument("--label", help="name of this run in tables and --compare")
    answers.add_argument(
        "--judge-model", help="also ask this model on the configured server to judge each answer"
    )
    answers.add_argument("--json", action="store_true", help="print one JSON object only")
    answers.add_argument(
        "--compare",
        nargs=2,
        type=Path,
        metavar=("FIRST", "SECOND"),
        help="compare two saved --json runs instead of running",
    )
    answers.set_defaults(run=run_eval_answers)


async def run_eval_handoff(settings: Settings, args: argparse.Namespace) -> int:
    import json

    from bots.app.handoff_wiring import handoff_detector
    from bots.evals.handoff import HANDOFF_FIELDS, ProgressLine, evaluate_handoff, load_jsonl

    examples: dict[str, list[str]] = {}
    detector = handoff_detector(settings, rules_only=args.rules_only, background=False)
    progress = ProgressLine(f"eval handoff {args.data.name}")
    rows = load_jsonl(args.data, required=HANDOFF_FIELDS)
    try:
        result = evaluate_handoff(rows, detector, progress=progress, examples=examples)
    finally:
        progress.close()
    if args.json:
        print(json.dumps(result))
        return 0
    print(f"hand-off detector on {args.data}")
    by_language = result.pop("by_language")
    for key, value in result.items():
        print(f"  {key:<24}{value}")
    if len(by_language) > 1:
        print("  by language (n, positives, precision, recall, F1, false-positive rate):")
        for language, figures in by_language.items():
            print(f"    {language:<6}" + "  ".join(str(v) for v in figures.values()))
    missed, flagged = examples.get("false_negatives", []), examples.get("false_positives", [])
    shown = max(10, 20 - len(flagged))  # up to 20 in all, shared when both kinds exist
    for label, texts in (
        ("false negative", missed[:shown]),
        ("false positive", flagged[: 20 - len(missed[:shown])]),
    ):
        for text in texts:
            print(f"  {label}: {text}")
    return 0


async def run_eval_help_channel(settings: Settings, args: argparse.Namespace) -> int:
    import json

    from bots.app.help_channel_wiring import question_detector
    from bots.evals.handoff import ProgressLine, load_jsonl
    from bots.evals.help_channel import HELP_CHANNEL_FIELDS, evaluate_help_channel
    from bots.turn.help_channel import ChannelMessage

    detector = question_detector(settings, rules_only=args.rules_only)
    progress = ProgressLine(f"eval help-channel {args.data.name}", every=50)
    rows = load_jsonl(args.data, required=HELP_CHANNEL_FIELDS)
    try:
        result = evaluate_help_channel(
            rows, lambda text, to_someone: detector(ChannelMessage(text, to_someone)), progress
        )
    finally:
        progress.close()
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
        return 0
    print(f"help-channel question detector on {args.data}")
    by_language, misses = result.pop("by_language"), result.pop("misses")
    for key, value in result.items():
        print(f"  {key:<24}{value}")
    print("  by language (n, questions, precision, recall, F1, false-positive rate):")
    for language, figures in by_language.items():
        print(f"    {language:<6}" + "  ".join(str(v) for v in figures.values()))
    for kind, texts in misses.items():
        for text in texts:
            print(f"  {kind.replace('_', ' ')[:-1]}: {text}")
    return 0


async def run_eval_retrieval(settings: Settings, args: argparse.Namespace) -> int:
    import json

    from bots.evals import retrieval as ev
    from bots.evals.handoff import ProgressLine, load_jsonl

    if args.k < 1:
        raise BotsError("--k must be at least 1")
    match: MatchLevel = "normal"  # a persona's own `knowledge.match` when run against it
    if args.faq is not None:
        entries = ev.faq_entries(load_jsonl(args.faq, required=ev.FAQ_FIELDS))
    else:
        path = persona_path(settings, args.persona)
        root = existing_folder(settings.knowledge_dir)
        persona = load_persona_file(path, root).persona()
        entries = list(load_knowledge(root, persona.knowledge.sets))
        match = persona.knowledge.match
    rows = list(load_jsonl(args.queries, required=ev.QUERY_FIELDS))
    indexed, queries = ev.split_queries(rows, entries, args.train_as_phrasings)
    # Called once a batch of texts is embedded: show every call.
    building = ProgressLine("embedding knowledge", every=1)
    try:
        retriever = retrieval_for(settings).build(indexed, progress=building, match=match)
    finally:
        building.close()
    progress = ProgressLine(f"eval retrieval {args.queries.name}", every=100)
    try:
        report = ev.evaluate_retrieval(retriever, queries, k=args.k, progress=progress)
    finally:
        progress.close()
    if args.json:
        print(json.dumps(report.figures))
        return 0
    print(f"retrieval on {args.queries} ({len(indexed)} entries)")
    for key, value in report.figures.items():
        if key not in ("tradeoff", "by_lang"):
            print(f"  {key:<28}{value}")
    for lang, figures in report.figures.get("by_lang", {}).items():
        shown = ", ".join(f"{name} {value}" for name, value in figures.items())
        print(f"  {lang:<28}{shown}")
    print("  abstention trade-off (confidence bar: out-of-scope abstained / in-scope abstained)")
    for point in report.figures["tradeoff"]:
        print(
            f"    {point['min_confidence']:.2f}: {point['abstain_rate_out_of_scope']:.3f}"
            f" / {point['false_abstain_rate']:.3f}"
        )
    for question, expected, got in report.misses:
        print(f"  missed: {question!r}: expected {expected}, first was {got}")
    return 0


async def run_eval_answers(settings: Settings, args: argparse.Namespace) -> int:
    """The real engine (any configured server, or FAQ-only without a key) on each question,
    in a throw-away in-memory store, so evaluating never touches the bot's conversations."""
    import json

    from bots.evals import answers as ev
    from bots.evals.handoff import ProgressLine, load_jsonl

    if args.compare is not None:
        first, second = (_saved_run(path) for path in args.compare)
        print(ev.compare(first, second), end="")
        return 0
    if args.data is None:
        raise BotsError("give the questions with --data FILE (or two runs with --compare)")
    cases = ev.cases_from(load_jsonl(args.data, required=ev.CASE_FIELDS))
    from bots.app.answer_runner import answer_run

    async with answer_run(settings, args.persona, args.judge_model) as (label, ask, known):
        ev.check_entries(cases, known)
        progress = ProgressLine(f"eval answers {args.data.name}", every=1, total=len(cases))
        try:
            results = await ev.evaluate_answers(cases, ask, progress=progress)
        finally:
            progress.close()
    label = args.label or label
    if args.json:
        print(json.dumps(ev.as_json(label, results), ensure_ascii=False))
    else:
        print(ev.render_table(label, results), end="")
    return 0


def _saved_run(path: Path) -> dict[str, object]:
    import json

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise BotsError(f"cannot read {path}: {exc.strerror or exc}") from exc
    except json.JSONDecodeError as exc:
        raise BotsError(f"{path} is not JSON ({exc.msg}): save runs with --json") from exc
    if not isinstance(data, dict):
        raise BotsError(f"{path} is not the --json output of bots eval answers")
    return data
