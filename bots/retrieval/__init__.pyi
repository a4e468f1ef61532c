"""The public names of bots.retrieval, for type checkers and readers (loaded lazily)."""

from .embeddings import Embedder as Embedder
from .embeddings import semantic_installed as semantic_installed
from .search import RetrievalResult as RetrievalResult
from .search import Retriever as Retriever
from .search import ScoredEntry as ScoredEntry
from .setup import RetrievalSetup as RetrievalSetup
from .setup import retrieval_setup as retrieval_setup
