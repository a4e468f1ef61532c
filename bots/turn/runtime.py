"""A persona with everything built once for it: retrieval index, snippet catalog, token counter."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from bots.knowledge.files import KnowledgeEntry
from bots.knowledge.persona import Persona
from bots.retrieval.search import Retriever
from bots.retrieval.setup import RetrievalSetup
from bots.tokens import TokenCounter, counter_for_model
from bots.turn.link_hosts import LinkHosts
from bots.turn.prompt import SnippetCatalog


@dataclass(frozen=True)
class PersonaRuntime:
    persona: Persona
    model: str
    retriever: Retriever
    catalog: SnippetCatalog
    counter: TokenCounter
    links: LinkHosts = field(default_factory=LinkHosts)
    """The hosts the model's links may go to (`link_hosts`)."""

    @classmethod
    def build(
        cls,
        persona: Persona,
        entries: tuple[KnowledgeEntry, ...],
        model_override: str | None,
        retrieval: RetrievalSetup | None = None,
        link_hosts: Iterable[str] = (),
        counter: TokenCounter | None = None,
    ) -> PersonaRuntime:
        """`link_hosts`: the operator's allowed link hosts (BOTS_LINK_HOSTS), besides the
        hosts the knowledge links to. `counter`, when the loader already made it for this
        model, is reused."""
        model = model_override or persona.model.name
        counter = counter or counter_for_model(model)
        return cls(
            persona=persona,
            model=model,
            retriever=(retrieval or RetrievalSetup()).build(entries, match=persona.knowledge.match),
            catalog=SnippetCatalog(entries, counter),
            counter=counter,
            links=LinkHosts.build(entries, link_hosts),
        )

    @property
    def budget(self) -> int:
        """Tokens the prompt may use: the context window minus the reply's room."""
        return self.persona.model.context_window - self.persona.model.max_tokens
