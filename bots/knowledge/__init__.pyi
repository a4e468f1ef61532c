"""The public names of bots.knowledge, for type checkers and readers (loaded lazily)."""

from .files import KnowledgeEntry as KnowledgeEntry
from .files import knowledge_files as knowledge_files
from .files import load_knowledge as load_knowledge
from .files import read_knowledge_file as read_knowledge_file
from .finding import Finding as Finding
from .persona import MatchLevel as MatchLevel
from .persona import Persona as Persona
from .persona import load_persona as load_persona
from .persona import persona_files as persona_files
from .persona import persona_json_schema as persona_json_schema
from .persona_file import PersonaFile as PersonaFile
from .persona_file import PersonaReader as PersonaReader
from .persona_file import read_persona as read_persona
from .yamlfile import YamlDocument as YamlDocument
from .yamlfile import read_yaml as read_yaml
