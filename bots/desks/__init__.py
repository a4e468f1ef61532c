"""Help desks: Zendesk and Chatwoot tickets from hand-offs, agent replies back in the thread."""

import lazy_loader

# The names in __init__.pyi load on first use (PEP 562 `__getattr__`, by lazy_loader).
__getattr__, __dir__, __all__ = lazy_loader.attach_stub(__name__, __file__)
