"""`bots eval handoff|retrieval`: the bot's own detector and retriever on labelled data."""

from __future__ import annotations

import argparse
from pathlib import Path

from bots.app.folders import existing_folder, persona_path
from bots.config import Settings
from bots.errors import BotsError
from bots.knowledge.files import load_knowledge
from bots.knowledge.persona import MatchLevel, check_knowledge_sets, load_persona
from bots.retrieval.setup import retrieval_setup


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
        persona = load_persona(path)
        root = existing_folder(settings.knowledge_dir)
        check_knowledge_sets(path, persona, root)
        entries = list(load_knowledge(root, persona.knowledge.sets))
        match = persona.knowledge.match
    rows = list(load_jsonl(args.queries, required=ev.QUERY_FIELDS))
    indexed, queries = ev.split_queries(rows, entries, args.train_as_phrasings)
    # Called once a batch of texts is embedded: show every call.
    building = ProgressLine("embedding knowledge", every=1)
    try:
        retriever = retrieval_setup(settings.semantic_retrieval, settings.cache_dir).build(
            indexed, progress=building, match=match
        )
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
        if key != "tradeoff":
            print(f"  {key:<28}{value}")
    print("  abstention trade-off (confidence bar: out-of-scope abstained / in-scope abstained)")
    for point in report.figures["tradeoff"]:
        print(
            f"    {point['min_confidence']:.2f}: {point['abstain_rate_out_of_scope']:.3f}"
            f" / {point['false_abstain_rate']:.3f}"
        )
    for question, expected, got in report.misses:
        print(f"  missed: {question!r}: expected {expected}, first was {got}")
    return 0
