"""The public names of bots.desks, for type checkers and readers (loaded lazily)."""

from .chatwoot import ChatwootDesk as ChatwootDesk
from .connector import DeskConnector as DeskConnector
from .outbox import DeskOutbox as DeskOutbox
from .protocol import DeskClient as DeskClient
from .protocol import DeskRefused as DeskRefused
from .protocol import DeskUnavailable as DeskUnavailable
from .receiver import DeskWebhooks as DeskWebhooks
from .settings import DeskSettings as DeskSettings
from .zendesk import ZendeskDesk as ZendeskDesk
