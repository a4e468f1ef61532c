"""The command line as a user runs it: real processes, a temp database, the fake LLM server."""

from __future__ import annotations

import json
import queue
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from bots.handoff.webhook import verify_signature
from bots.store.schema import MIGRATIONS
from tests.conftest import API_KEY
from tests.fakes.fake_llm import FakeLLMServer, Reply
from tests.fakes.fake_webhook import FakeWebhookServer
from tests.support.cli_runner import clean_env, run_bots
from tests.support.paths import REPO_ROOT

ROOT = REPO_ROOT


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return clean_env(DATABASE_URL=f"sqlite:///{tmp_path / 'cli.sqlite3'}")


def bots(args: list[str], env: dict[str, str], stdin: str = "") -> subprocess.CompletedProcess[str]:
    return run_bots(args, env, stdin=stdin, timeout=60)


def test_ask_without_api_key_answers_from_the_knowledge(env: dict[str, str]) -> None:
    result = bots(["ask", "is there parking near the restaurant?"], env)
    assert result.returncode == 0, result.stderr
    assert "car park" in result.stdout
    assert "source:" in result.stdout
    assert "Traceback" not in result.stderr


def test_ask_through_the_model_with_a_key(env: dict[str, str]) -> None:
    with FakeLLMServer() as server:
        server.script(Reply("We open at noon on Sundays."))
        env.update(OPENAI_API_KEY=API_KEY, OPENAI_BASE_URL=server.base_url, BOTS_LOG_LEVEL="DEBUG")
        result = bots(["ask", "when do you open on sunday?"], env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "We open at noon on Sundays."
    assert API_KEY not in result.stderr + result.stdout
    assert server.requests[0].headers["authorization"] == f"Bearer {API_KEY}"


def test_model_override_from_the_environment(env: dict[str, str]) -> None:
    with FakeLLMServer() as server:
        env.update(OPENAI_API_KEY=API_KEY, OPENAI_BASE_URL=server.base_url, BOTS_MODEL="llama3.1")
        assert bots(["ask", "hi"], env).returncode == 0
    assert server.requests[0].body["model"] == "llama3.1"


def test_info_logs_carry_no_message_text(env: dict[str, str]) -> None:
    env.update(BOTS_LOG_LEVEL="INFO")
    result = bots(["ask", "zebra-unicorn-question about parking"], env)
    assert result.returncode == 0
    assert "turn done" in result.stderr
    assert "zebra-unicorn" not in result.stderr


def test_info_logs_through_the_model_carry_no_text_or_key(env: dict[str, str]) -> None:
    with FakeLLMServer() as server:
        server.script(Reply("Secret-sauce-reply about parking."))
        env.update(OPENAI_API_KEY=API_KEY, OPENAI_BASE_URL=server.base_url, BOTS_LOG_LEVEL="INFO")
        result = bots(["ask", "zebra-unicorn-question about parking"], env)
    assert result.returncode == 0, result.stderr
    assert "turn done" in result.stderr
    for secret in ("zebra-unicorn", "Secret-sauce", API_KEY):
        assert secret not in result.stderr


def test_ask_with_nothing_to_ask_is_an_error(env: dict[str, str]) -> None:
    result = bots(["ask", "  "], env)
    assert result.returncode == 2
    assert "nothing to ask" in result.stderr


def test_llm_outage_is_an_honest_answer_not_a_traceback(env: dict[str, str]) -> None:
    env.update(
        OPENAI_API_KEY=API_KEY,
        OPENAI_BASE_URL="http://127.0.0.1:9/v1",
        BOTS_LLM_ATTEMPTS="1",
        BOTS_LLM_TIMEOUT="2",
    )
    result = bots(["ask", "is there parking near the restaurant?"], env)
    assert result.returncode == 0, result.stderr
    assert "car park" in result.stdout
    assert "Traceback" not in result.stderr + result.stdout


def test_chat_then_resume_continues_the_same_conversation(env: dict[str, str]) -> None:
    with FakeLLMServer() as server:
        env.update(OPENAI_API_KEY=API_KEY, OPENAI_BASE_URL=server.base_url)
        server.script(Reply("Yes, we have vegan dishes."))
        first = bots(["chat"], env, stdin="do you have vegan food?\n/quit\n")
        server.script(Reply("The falafel."))
        second = bots(["chat", "--resume"], env, stdin="which one do you recommend?\n")
    assert first.returncode == 0, first.stderr
    assert "Yes, we have vegan dishes." in first.stdout
    assert "continuing conversation" in second.stdout
    sent = [(m["role"], m["content"]) for m in server.requests[-1].body["messages"][1:]]
    assert sent == [
        ("user", "do you have vegan food?"),
        ("assistant", "Yes, we have vegan dishes."),
        ("user", "which one do you recommend?"),
    ]


def test_unknown_persona_is_a_one_line_error(env: dict[str, str]) -> None:
    result = bots(["ask", "--persona", "nope", "hi"], env)
    assert result.returncode == 2
    assert result.stderr.strip().startswith("error: no persona named 'nope'")
    assert "restaurant" in result.stderr


def test_broken_persona_names_file_line_and_field(env: dict[str, str], tmp_path: Path) -> None:
    personas = tmp_path / "personas"
    personas.mkdir()
    (personas / "shop.yaml").write_text(
        "name: shop\ndisplay_name: Shop\ninstructions: hi\nmodel:\n  temprature: 1\n",
        encoding="utf-8",
    )
    env.update(BOTS_PERSONAS_DIR=str(personas))
    result = bots(["ask", "--persona", "shop", "hi"], env)
    assert result.returncode == 2
    assert f"{personas / 'shop.yaml'}:5:3: `model.temprature`" in result.stderr
    assert "did you mean `temperature`?" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_knowledge_set_names_the_persona_line(env: dict[str, str], tmp_path: Path) -> None:
    personas = tmp_path / "personas"
    personas.mkdir()
    (personas / "shop.yaml").write_text(
        "name: shop\ndisplay_name: Shop\ninstructions: hi\nknowledge:\n  sets: [menu]\n",
        encoding="utf-8",
    )
    env.update(BOTS_PERSONAS_DIR=str(personas))
    result = bots(["ask", "--persona", "shop", "hi"], env)
    assert result.returncode == 2
    # At the missing entry itself, where `bots check` puts it (one load path for both).
    assert f"{personas / 'shop.yaml'}:5:10: `knowledge.sets`" in result.stderr
    assert "no knowledge folder 'menu'" in result.stderr
    assert "restaurant" in result.stderr  # the folders that do exist


def test_a_handoff_reaches_the_help_desk_webhook_signed(env: dict[str, str]) -> None:
    with FakeWebhookServer() as desk:
        env.update(BOTS_HANDOFF_WEBHOOK_URL=desk.url, BOTS_HANDOFF_WEBHOOK_SECRET="whsec-test")
        result = bots(["ask", "can I talk to a real person?"], env)
    assert result.returncode == 0, result.stderr
    assert "[handed to the support team: a person was asked for]" in result.stdout
    assert len(desk.requests) == 1
    received = desk.requests[0]
    body = json.loads(received.body)
    assert body["reason"] == "user_asked"
    assert body["last_messages"][-1] == {"from": "user", "text": "can I talk to a real person?"}
    assert verify_signature(
        "whsec-test",
        received.headers["x-bots-timestamp"],
        received.body,
        received.headers["x-bots-signature"],
        now=time.time(),
    )
    assert "whsec-test" not in result.stderr


def test_webhook_without_secret_is_a_config_error(env: dict[str, str]) -> None:
    env.update(BOTS_HANDOFF_WEBHOOK_URL="http://127.0.0.1:9/hook")
    result = bots(["ask", "hi"], env)
    assert result.returncode == 2
    assert "BOTS_HANDOFF_WEBHOOK_SECRET" in result.stderr


def test_chat_picks_up_a_knowledge_edit_without_a_restart(
    env: dict[str, str], tmp_path: Path
) -> None:
    personas, knowledge = tmp_path / "p", tmp_path / "k"
    shutil.copytree(ROOT / "tests" / "data" / "personas", personas)
    shutil.copytree(ROOT / "tests" / "data" / "knowledge", knowledge)
    env.update(BOTS_PERSONAS_DIR=str(personas), BOTS_KNOWLEDGE_DIR=str(knowledge))
    chat = subprocess.Popen(
        [sys.executable, "-m", "bots", "chat", "--persona", "cafe"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )
    assert chat.stdin is not None
    assert chat.stdout is not None
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(x) for x in chat.stdout], daemon=True).start()

    def ask_until(question: str, expected: str, seconds: float) -> bool:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            chat.stdin.write(question + "\n")  # type: ignore[union-attr]
            chat.stdin.flush()  # type: ignore[union-attr]
            try:
                while True:
                    line = lines.get(timeout=1.0)
                    if expected in line:
                        return True
                    if "source:" in line:
                        break
            except queue.Empty:
                pass
        return False

    try:
        assert ask_until("where can I park?", "free car park", 10)
        faq = knowledge / "cafe" / "faq.yaml"
        faq.write_text(faq.read_text().replace("free car park", "paid car park"))
        # The issue asks for edits to be live within 2 seconds; allow slack for a busy CI box.
        assert ask_until("where can I park?", "paid car park", 5)
    finally:
        chat.stdin.close()
        chat.wait(timeout=10)
        chat.stdout.close()
        assert chat.stderr is not None
        chat.stderr.close()
    assert chat.returncode == 0


def test_db_upgrade_creates_and_reports_the_schema(env: dict[str, str], tmp_path: Path) -> None:
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'fresh' / 'bots.sqlite3'}"
    first = bots(["db", "upgrade"], env)
    again = bots(["db", "upgrade"], env)
    assert first.returncode == 0, first.stderr
    expected = f"database is at schema version {len(MIGRATIONS)}"  # every migration applied
    assert first.stdout.strip() == again.stdout.strip() == expected
    assert (tmp_path / "fresh" / "bots.sqlite3").is_file()


@pytest.mark.security("files")
def test_a_knowledge_link_to_the_environment_leaks_nothing(
    env: dict[str, str], tmp_path: Path
) -> None:
    """The issue's attack, as a user ran it: a link to /proc/self/environ, then `bots ask`."""
    personas, knowledge = tmp_path / "personas", tmp_path / "knowledge"
    shutil.copytree(ROOT / "personas", personas)
    shutil.copytree(ROOT / "knowledge", knowledge)
    (knowledge / "restaurant" / "environ.md").symlink_to("/proc/self/environ")
    token, secret = "xoxb-1-cli-token-nobody-may-see", "signing-secret-nobody-may-see"
    env.update(
        BOTS_PERSONAS_DIR=str(personas),
        BOTS_KNOWLEDGE_DIR=str(knowledge),
        SLACK_BOT_TOKEN=token,
        SLACK_SIGNING_SECRET=secret,
    )
    asked = bots(["ask", "SLACK_BOT_TOKEN"], env)
    checked = bots(["check"], env)
    for result in (asked, checked):
        assert token not in result.stdout + result.stderr
        assert secret not in result.stdout + result.stderr
        assert "Traceback" not in result.stderr
    assert asked.returncode != 0
    assert "environ.md: the file is a link to somewhere else" in asked.stderr
    assert checked.returncode != 0
    assert "environ.md: the file is a link to somewhere else" in checked.stdout + checked.stderr
