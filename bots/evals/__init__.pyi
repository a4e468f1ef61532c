"""The public names of bots.evals, for type checkers and readers (loaded lazily)."""

from .handoff import evaluate_handoff as evaluate_handoff
from .handoff import load_jsonl as load_jsonl
from .retrieval import evaluate_retrieval as evaluate_retrieval
