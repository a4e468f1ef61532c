"""The metrics port as the CLI wires it from settings: where it listens (BOTS_HOST)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from bots.app.wiring import ops_endpoint
from bots.config import Settings
from bots.ops.metrics import PrometheusTelemetry
from bots.store.sqlite import SQLiteStore


async def healthz(host: str, port: int) -> int:
    async with httpx.AsyncClient() as http:
        return (await http.get(f"http://{host}:{port}/healthz")).status_code


async def test_the_metrics_port_listens_only_where_bots_host_says(
    store: SQLiteStore, tmp_path: Path
) -> None:
    """BOTS_HOST=127.0.0.1: answered on 127.0.0.1, refused on 127.0.0.2 (this machine's
    loopback too, but another address), which an every-interface listener answers."""
    settings = Settings.from_env(
        {"BOTS_METRICS_PORT": "0", "BOTS_HOST": "127.0.0.1"}, data_dir=tmp_path
    )
    async with ops_endpoint(settings, PrometheusTelemetry(), store) as port:
        assert port is not None
        assert await healthz("127.0.0.1", port) == 200
        with pytest.raises(httpx.ConnectError):
            await healthz("127.0.0.2", port)


async def test_by_default_the_metrics_port_listens_on_every_interface(
    store: SQLiteStore, tmp_path: Path
) -> None:
    settings = Settings.from_env({"BOTS_METRICS_PORT": "0"}, data_dir=tmp_path)
    async with ops_endpoint(settings, PrometheusTelemetry(), store) as port:
        assert port is not None
        assert await healthz("127.0.0.2", port) == 200
