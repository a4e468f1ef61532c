"""The public names of bots.ops, for type checkers and readers (loaded lazily)."""

from .health import HealthCheck as HealthCheck
from .metrics import PrometheusTelemetry as PrometheusTelemetry
from .periodic import repeat as repeat
from .periodic import run_logged as run_logged
from .server import serve_ops as serve_ops
