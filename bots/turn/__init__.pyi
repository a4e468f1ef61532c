"""The public names of bots.turn, for type checkers and readers (loaded lazily)."""

from .answer import ModelAnswer as ModelAnswer
from .engine import Engine as Engine
from .library import PersonaLibrary as PersonaLibrary
from .library import ReloadResult as ReloadResult
from .limits import Limits as Limits
from .limits import LimitSettings as LimitSettings
from .offline import offline_reply as offline_reply
from .persona_load import LoadedPersona as LoadedPersona
from .persona_load import load_persona_file as load_persona_file
from .prompt import Prompt as Prompt
from .prompt import SnippetCatalog as SnippetCatalog
from .prompt import build_prompt as build_prompt
from .runtime import PersonaRuntime as PersonaRuntime
