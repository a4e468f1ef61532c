"""The public names of bots.report, for type checkers and readers (loaded lazily)."""

from .figures import parse_since as parse_since
from .figures import read_report as read_report
from .render import render_html as render_html
from .render import render_json as render_json
from .render import render_text as render_text
