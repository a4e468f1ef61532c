"""The public names of bots.llm, for type checkers and readers (loaded lazily)."""

from .client import OpenAIChatClient as OpenAIChatClient
from .client import RetryPolicy as RetryPolicy
from .pricing import Price as Price
from .pricing import PriceTable as PriceTable
from .types import ChatMessage as ChatMessage
from .types import ChatModel as ChatModel
from .types import ChatRequest as ChatRequest
from .types import Completed as Completed
from .types import ContentDelta as ContentDelta
from .types import LLMEvent as LLMEvent
from .types import ToolCall as ToolCall
from .types import ToolSpec as ToolSpec
