"""The application: the command line, the one composition root, and the commands."""

import lazy_loader

# The names in __init__.pyi load on first use (PEP 562 `__getattr__`, by lazy_loader):
# importing the package imports none of its modules, so start-up stays cheap.
__getattr__, __dir__, __all__ = lazy_loader.attach_stub(__name__, __file__)
