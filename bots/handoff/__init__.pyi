"""The public names of bots.handoff, for type checkers and readers (loaded lazily)."""

from .detect import Detection as Detection
from .detect import wants_human as wants_human
from .hours import next_opening as next_opening
from .lifecycle import HandoffDesk as HandoffDesk
from .lifecycle import HandoffSink as HandoffSink
from .webhook import HandoffWebhook as HandoffWebhook
from .webhook import verify_signature as verify_signature
