"""The studio's web app: Starlette routes over the files, the form, the preview and the tests."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlencode

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.applications import Starlette
from starlette.datastructures import FormData as StarletteForm
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from bots.errors import FileProblem
from bots.knowledge.files import knowledge_files, read_knowledge_file
from bots.knowledge.persona import persona_files
from bots.studio import edits
from bots.studio.access import (
    EDITOR,
    AccessRules,
    LoginThrottle,
    new_csrf_token,
    same_token,
)
from bots.studio.conversations import ConversationReader
from bots.studio.form import DAYS, FormData, persona_fields, shown_value
from bots.studio.preview import Preview
from bots.studio.roundtrip import YamlEditError
from bots.studio.workspace import Workspace, digest_of, git_commit, unified_diff


class CaseLike(Protocol):
    @property
    def question(self) -> str: ...
    @property
    def expected(self) -> str: ...
    @property
    def got(self) -> str: ...
    @property
    def passed(self) -> bool: ...
    @property
    def line(self) -> int: ...


class TestReportLike(Protocol):
    @property
    def cases(self) -> Sequence[CaseLike]: ...


@dataclass(frozen=True)
class StudioTools:
    """The bot's own checks, passed in by `bots studio` so the studio says what `bots check`
    says, in the same words (the studio never reimplements validation)."""

    check_persona: edits.CheckPersona
    check_knowledge_set: edits.CheckKnowledgeSet
    run_tests: Callable[[Path, Path], TestReportLike]


@dataclass(frozen=True)
class StudioSettings:
    personas_dir: Path
    knowledge_dir: Path
    session_secret: str
    access: AccessRules = field(default_factory=AccessRules)
    loopback: bool = True
    default_persona: str = "restaurant"


def build_studio(
    settings: StudioSettings,
    tools: StudioTools,
    preview: Preview,
    conversations: ConversationReader | None = None,
    throttle: LoginThrottle | None = None,
) -> Starlette:
    studio = _Studio(settings, tools, preview, conversations, throttle or LoginThrottle())
    return studio.app


_Handler = Callable[[Request], Awaitable[Response]]


class _Studio:
    def __init__(
        self,
        settings: StudioSettings,
        tools: StudioTools,
        preview: Preview,
        conversations: ConversationReader | None,
        throttle: LoginThrottle,
    ) -> None:
        self.settings = settings
        self.tools = tools
        self.preview = preview
        self.conversations = conversations
        self.throttle = throttle
        self.workspace = Workspace(settings.personas_dir, settings.knowledge_dir)
        self.fields = persona_fields()
        self.templates = Environment(
            loader=PackageLoader("bots.studio", "templates"),
            autoescape=select_autoescape(["html"]),
        )
        editor, viewer = self._editor, self._viewer
        routes = [
            Route("/", viewer(self.home)),
            Route("/login", self.login, methods=["GET", "POST"]),
            Route("/logout", self.logout, methods=["POST"]),
            Route("/persona/{name}", editor(self.persona_page)),
            Route("/persona/{name}/check", editor(self.persona_check), methods=["POST"]),
            Route("/persona/{name}/review", editor(self.persona_review), methods=["POST"]),
            Route("/persona/{name}/preview", editor(self.persona_preview), methods=["POST"]),
            Route("/save", editor(self.save), methods=["POST"]),
            Route("/knowledge", editor(self.knowledge_page)),
            Route("/knowledge/entry", editor(self.entry_page)),
            Route("/knowledge/entry/review", editor(self.entry_review), methods=["POST"]),
            Route("/knowledge/entry/delete", editor(self.entry_delete), methods=["POST"]),
            Route("/knowledge/page", editor(self.markdown_page)),
            Route("/knowledge/page/review", editor(self.markdown_review), methods=["POST"]),
            Route("/tests/{name}", editor(self.tests_page)),
            Route("/tests/{name}/add", editor(self.tests_add), methods=["POST"]),
            Route("/conversations", viewer(self.conversations_page)),
            Route("/conversations/{conversation_id:path}", viewer(self.conversation_page)),
            Mount("/static", StaticFiles(packages=[("bots.studio", "static")]), name="static"),
        ]
        self.app = Starlette(
            routes=routes,
            middleware=[
                Middleware(
                    SessionMiddleware,
                    secret_key=settings.session_secret,
                    session_cookie="bots_studio",
                    same_site="strict",
                    https_only=False,
                )
            ],
            lifespan=self._lifespan,
        )

    @contextlib.asynccontextmanager
    async def _lifespan(self, app: Starlette) -> AsyncIterator[None]:
        await self.preview.open()
        if self.conversations is not None:
            await self.conversations.open()
        try:
            yield
        finally:
            if self.conversations is not None:
                await self.conversations.close()
            await self.preview.close()

    # -- access ----------------------------------------------------------------------------

    def role(self, request: Request) -> str | None:
        if not self.settings.access.needs_login and self.settings.loopback:
            return EDITOR  # the local user, on their own machine
        role = request.session.get("role")
        return role if isinstance(role, str) else None

    def csrf(self, request: Request) -> str:
        token = request.session.get("csrf")
        if not isinstance(token, str):
            token = new_csrf_token()
            request.session["csrf"] = token
        return token

    async def _form(self, request: Request) -> StarletteForm:
        form = await request.form()
        given = form.get("csrf") or request.headers.get("x-csrf-token")
        if not same_token(str(given) if given else None, request.session.get("csrf")):
            raise _Refused(
                403,
                "This form has expired or did not come from the studio. "
                "Reload the page and try again.",
            )
        return form

    def _guard(self, handler: _Handler, allowed: set[str]) -> _Handler:
        async def guarded(request: Request) -> Response:
            role = self.role(request)
            if role is None:
                return RedirectResponse(f"/login?{urlencode({'next': request.url.path})}", 303)
            if role not in allowed:
                return self.render(
                    request,
                    "message.html",
                    403,
                    title="Not allowed",
                    text="Your login can read conversations but not edit.",
                )
            try:
                if request.method == "POST":
                    request.state.form = await self._form(request)
                return await handler(request)
            except _Refused as refused:
                return self.render(
                    request, "message.html", refused.status, title="Refused", text=refused.text
                )
            except (FileProblem, YamlEditError) as problem:
                text = problem.describe() if isinstance(problem, FileProblem) else str(problem)
                return self.render(request, "message.html", 400, title="Problem", text=text)

        return guarded

    def _editor(self, handler: _Handler) -> _Handler:
        return self._guard(handler, {EDITOR})

    def _viewer(self, handler: _Handler) -> _Handler:
        return self._guard(handler, {EDITOR, "viewer"})

    async def login(self, request: Request) -> Response:
        error = ""
        if request.method == "POST":
            client = request.client.host if request.client else "unknown"
            form = await request.form()
            if not same_token(str(form.get("csrf") or ""), request.session.get("csrf")):
                error = "This form has expired. Please try again."
            elif self.throttle.blocked(client):
                return self.render(
                    request,
                    "login.html",
                    429,
                    error="Too many wrong passwords. Wait a few minutes.",
                )
            else:
                role = self.settings.access.role_for(str(form.get("password") or ""))
                if role is not None:
                    self.throttle.succeeded(client)
                    request.session.clear()
                    request.session["role"] = role
                    request.session["csrf"] = new_csrf_token()
                    return RedirectResponse(_local_path(str(form.get("next") or "/")), 303)
                self.throttle.failed(client)
                error = "That password is not right."
        return self.render(
            request,
            "login.html",
            401 if error else 200,
            error=error,
            next=request.query_params.get("next", "/"),
        )

    async def logout(self, request: Request) -> Response:
        await self._form(request)
        request.session.clear()
        return RedirectResponse("/login", 303)

    def render(self, request: Request, template: str, status: int = 200, **values: Any) -> Response:
        page = self.templates.get_template(template).render(
            request=request,
            csrf=self.csrf(request),
            role=self.role(request),
            personas=self.persona_names(),
            needs_login=self.settings.access.needs_login,
            **values,
        )
        return HTMLResponse(page, status_code=status)

    def persona_names(self) -> list[str]:
        return [path.stem for path in persona_files(self.settings.personas_dir)]

    # -- pages -------------------------------------------------------------------------------

    async def home(self, request: Request) -> Response:
        names = self.persona_names()
        if self.role(request) != EDITOR or not names:
            return RedirectResponse("/conversations", 303)
        first = (
            self.settings.default_persona if self.settings.default_persona in names else names[0]
        )
        return RedirectResponse(f"/persona/{first}", 303)

    def _persona_ref(self, request: Request) -> str:
        name = request.path_params["name"]
        if name not in self.persona_names():
            raise _Refused(404, f"There is no persona called {name!r}.")
        return f"personas/{name}.yaml"

    async def persona_page(self, request: Request) -> Response:
        ref = self._persona_ref(request)
        loaded = self.workspace.load(ref)
        from bots.studio import roundtrip

        data = roundtrip.load(loaded.text)
        return self._persona_form(request, ref, data, loaded.digest, None)

    def _persona_form(
        self,
        request: Request,
        ref: str,
        data: Any,
        digest: str,
        checked: edits.Checked | None,
        status: int = 200,
    ) -> Response:
        values = {f.name: shown_value(data, f) for f in _all_leaves(self.fields)}
        return self.render(
            request,
            "persona.html",
            status,
            ref=ref,
            name=request.path_params["name"],
            fields=self.fields,
            values=values,
            base=digest,
            days=DAYS,
            errors=checked.by_field if checked else {},
            general=checked.general if checked else [],
            warnings=checked.warnings if checked else [],
        )

    def _checked_persona(self, request: Request) -> tuple[str, edits.Checked, str]:
        ref = self._persona_ref(request)
        form = request.state.form
        base = str(form.get("base") or "")
        original = self.workspace.current_text(ref)
        text = edits.persona_text(original, self.fields, _plain(form))
        checked = edits.check_persona_text(
            request.path_params["name"],
            text,
            self.fields,
            self.settings.knowledge_dir,
            self.tools.check_persona,
        )
        return ref, checked, base

    async def persona_check(self, request: Request) -> Response:
        _ref, checked, _base = self._checked_persona(request)
        return JSONResponse({"errors": checked.by_field, "general": checked.general})

    async def persona_review(self, request: Request) -> Response:
        ref, checked, base = self._checked_persona(request)
        if not checked.ok:
            from bots.studio import roundtrip

            return self._persona_form(
                request, ref, roundtrip.load(checked.text), base, checked, status=422
            )
        return self._review(
            request, ref, checked.text, base, back=f"/persona/{request.path_params['name']}"
        )

    async def persona_preview(self, request: Request) -> Response:
        _ref, checked, _base = self._checked_persona(request)
        form = request.state.form
        if not checked.ok:
            problems = [*checked.general, *(m for ms in checked.by_field.values() for m in ms)]
            return self.render(request, "preview_turn.html", 422, problems=problems)
        question = str(form.get("question") or "").strip()
        if not question:
            return self.render(
                request,
                "preview_turn.html",
                422,
                problems=["Type a question to ask the assistant."],
            )
        persona = edits.persona_of(checked.text)
        answer = await self.preview.ask(
            persona,
            question,
            str(form.get("user") or "studio-user"),
            str(form.get("thread") or "preview"),
        )
        return self.render(
            request,
            "preview_turn.html",
            question=question,
            answer=answer,
            name=request.path_params["name"],
            problems=[],
        )

    # -- saving ------------------------------------------------------------------------------

    def _review(
        self, request: Request, ref: str, text: str, base: str, back: str, delete: bool = False
    ) -> Response:
        before = self.workspace.current_text(ref)
        diff = unified_diff(ref, before, "" if delete else text)
        return self.render(
            request,
            "review.html",
            ref=ref,
            text=text,
            base=base,
            diff=diff,
            back=back,
            delete=delete,
            stale=digest_of(before) != base,
        )

    async def save(self, request: Request) -> Response:
        form = request.state.form
        ref = str(form.get("ref") or "")
        text = str(form.get("text") or "").replace("\r\n", "\n")
        base = str(form.get("base") or "")
        back = _local_path(str(form.get("back") or "/"))
        problems = self._save_problems(ref, text) if not form.get("delete") else []
        if problems:
            # The review checked it; this catches a form changed after the review, or forged.
            return self.render(
                request, "message.html", 422, title="Not saved", text="; ".join(problems)
            )
        if form.get("delete"):
            outcome = self.workspace.delete(ref, base)
        else:
            outcome = self.workspace.save(ref, text, base)
        if not outcome.saved:
            return self.render(
                request,
                "conflict.html",
                409,
                ref=ref,
                text=text,
                diff=outcome.conflict_diff,
                back=back,
                base=digest_of(self.workspace.current_text(ref)),
            )
        note = ""
        if form.get("commit"):
            path, _folder = self.workspace.resolve(ref)
            _ok, note = await git_commit(
                path, str(form.get("message") or ""), str(form.get("author") or "")
            )
        return self.render(request, "saved.html", ref=ref, note=note, back=back)

    def _save_problems(self, ref: str, text: str) -> list[str]:
        """`bots check` once more on what is about to be written: errors refuse the save."""
        path, _folder = self.workspace.resolve(ref)
        if ref.startswith("personas/") and not path.name.endswith(".tests.yaml"):
            checked = edits.check_persona_text(
                path.stem, text, self.fields, self.settings.knowledge_dir, self.tools.check_persona
            )
            return [*checked.general, *(m for ms in checked.by_field.values() for m in ms)]
        if ref.startswith("knowledge/"):
            found = edits.check_knowledge_text(
                self._set_of(path), path, text, self.tools.check_knowledge_set
            )
            return [_place(p.line, p.field, p.message) for p in found]
        return []

    # -- knowledge ---------------------------------------------------------------------------

    def _sets(self) -> list[Path]:
        root = self.settings.knowledge_dir
        return sorted(p for p in root.iterdir() if p.is_dir() and not p.is_symlink())

    async def knowledge_page(self, request: Request) -> Response:
        query = request.query_params.get("q", "").strip().lower()
        sets = []
        for directory in self._sets():
            files = []
            for path in knowledge_files(directory):
                found = read_knowledge_file(path, folder=directory)
                entries = [
                    placed.entry
                    for placed in found.entries
                    if not query
                    or query
                    in " ".join(
                        (placed.entry.id, *placed.entry.phrasings, placed.entry.answer)
                    ).lower()
                ]
                files.append(
                    {
                        "ref": self.workspace.ref_of(path),
                        "markdown": path.suffix == ".md",
                        "entries": entries,
                        "problems": [p.describe() for p in found.problems],
                    }
                )
            sets.append({"name": directory.name, "files": files})
        return self.render(request, "knowledge.html", sets=sets, query=query)

    async def entry_page(self, request: Request) -> Response:
        params = request.query_params
        ref = params.get("ref", "")
        entry_id = params.get("id")
        if not ref:
            set_name = params.get("set") or (self._sets()[0].name if self._sets() else "")
            ref = f"knowledge/{set_name}/faq.yaml"
        path, folder = self.workspace.resolve(ref)
        text = self.workspace.current_text(ref)
        values: dict[str, Any] = {
            "id": "",
            "question": params.get("question", ""),
            "also_asked": [],
            "answer": params.get("answer", ""),
            "url": "",
            "tags": [],
        }
        if entry_id:
            for placed in read_knowledge_file(path, folder=folder).entries:
                if placed.entry.id == entry_id:
                    e = placed.entry
                    values = {
                        "id": e.id,
                        "question": e.question,
                        "also_asked": list(e.also_asked),
                        "answer": e.answer,
                        "url": e.url or "",
                        "tags": list(e.tags),
                    }
        return self.render(
            request,
            "entry.html",
            ref=ref,
            old_id=entry_id or "",
            values=values,
            base=digest_of(text),
            problems=[],
        )

    async def entry_review(self, request: Request) -> Response:
        form = request.state.form
        ref = str(form.get("ref") or "")
        path, _folder = self.workspace.resolve(ref)
        old_id = str(form.get("old_id") or "") or None
        values: dict[str, Any] = {
            "id": str(form.get("id") or "").strip(),
            "question": str(form.get("question") or "").strip(),
            "also_asked": [str(v).strip() for v in form.getlist("also_asked") if str(v).strip()],
            "answer": str(form.get("answer") or "").replace("\r\n", "\n").strip(),
            "url": str(form.get("url") or "").strip(),
            "tags": [str(v).strip() for v in form.getlist("tags") if str(v).strip()],
        }
        base = str(form.get("base") or "")
        text = edits.entry_text(self.workspace.current_text(ref), old_id, values)
        set_dir = self._set_of(path)
        problems = edits.check_knowledge_text(set_dir, path, text, self.tools.check_knowledge_set)
        if problems:
            return self.render(
                request,
                "entry.html",
                422,
                ref=ref,
                old_id=old_id or "",
                values=values,
                base=base,
                problems=[_place(p.line, p.field, p.message) for p in problems],
            )
        return self._review(request, ref, text, base, back="/knowledge")

    async def entry_delete(self, request: Request) -> Response:
        form = request.state.form
        ref = str(form.get("ref") or "")
        text = edits.without_entry(self.workspace.current_text(ref), str(form.get("id") or ""))
        return self._review(request, ref, text, str(form.get("base") or ""), back="/knowledge")

    def _set_of(self, path: Path) -> Path:
        relative = path.relative_to(self.settings.knowledge_dir)
        return self.settings.knowledge_dir / relative.parts[0]

    async def markdown_page(self, request: Request) -> Response:
        ref = request.query_params.get("ref", "")
        loaded = self.workspace.load(ref)
        return self.render(
            request, "page.html", ref=ref, text=loaded.text, base=loaded.digest, problems=[]
        )

    async def markdown_review(self, request: Request) -> Response:
        form = request.state.form
        ref = str(form.get("ref") or "")
        path, _folder = self.workspace.resolve(ref)
        text = str(form.get("text") or "").replace("\r\n", "\n")
        base = str(form.get("base") or "")
        problems = edits.check_knowledge_text(
            self._set_of(path), path, text, self.tools.check_knowledge_set
        )
        if problems:
            return self.render(
                request,
                "page.html",
                422,
                ref=ref,
                text=text,
                base=base,
                problems=[_place(p.line, p.field, p.message) for p in problems],
            )
        return self._review(request, ref, text, base, back="/knowledge")

    # -- tests -------------------------------------------------------------------------------

    async def tests_page(self, request: Request) -> Response:
        ref = self._persona_ref(request)
        path, _folder = self.workspace.resolve(ref)
        tests_file = path.with_name(f"{path.stem}.tests.yaml")
        report = None
        problem = ""
        if tests_file.is_file():
            try:
                report = self.tools.run_tests(path, self.settings.knowledge_dir)
            except FileProblem as found:
                problem = found.describe()
        return self.render(
            request,
            "tests.html",
            name=path.stem,
            report=report,
            problem=problem,
            tests_ref=f"personas/{tests_file.name}",
        )

    async def tests_add(self, request: Request) -> Response:
        ref = self._persona_ref(request)
        form = request.state.form
        name = request.path_params["name"]
        tests_ref = f"personas/{name}.tests.yaml"
        ask = str(form.get("ask") or "").strip()
        expect = str(form.get("expect") or "")
        if not ask:
            raise _Refused(400, "A test needs the question to ask.")
        expectation: dict[str, Any]
        if expect == "hands_off":
            expectation = {"hands_off": True}
        elif expect == "no_answer":
            expectation = {"no_answer": True}
        else:
            expectation = {"answer_from": str(form.get("entry") or "").strip()}
        del ref
        before = self.workspace.current_text(tests_ref)
        text = edits.tests_text(before, ask, expectation)
        return self._review(request, tests_ref, text, digest_of(before), back=f"/tests/{name}")

    # -- conversations ----------------------------------------------------------------------

    async def conversations_page(self, request: Request) -> Response:
        found = await self.conversations.recent() if self.conversations else []
        return self.render(
            request,
            "conversations.html",
            conversations=found,
            has_store=self.conversations is not None,
        )

    async def conversation_page(self, request: Request) -> Response:
        if self.conversations is None:
            raise _Refused(404, "No conversation store is configured (DATABASE_URL).")
        shown = await self.conversations.transcript(request.path_params["conversation_id"])
        if shown is None:
            raise _Refused(404, "There is no such conversation (it may have been forgotten).")
        return self.render(
            request, "conversation.html", conversation=shown, sets=[d.name for d in self._sets()]
        )


class _Refused(Exception):
    def __init__(self, status: int, text: str) -> None:
        super().__init__(text)
        self.status = status
        self.text = text


def _plain(form: StarletteForm) -> FormData:
    values: dict[str, list[str]] = {}
    for key, value in form.multi_items():
        if isinstance(value, str):
            values.setdefault(key, []).append(value)
    return FormData(values)


def _all_leaves(fields: Any) -> list[Any]:
    from bots.studio.form import leaves

    return leaves(fields)


def _local_path(target: str) -> str:
    """Only a path on this site: `//elsewhere.example` would leave it (an open redirect)."""
    return target if target.startswith("/") and not target.startswith(("//", "/\\")) else "/"


def _place(line: int | None, field: str | None, message: str) -> str:
    where = f"line {line}: " if line else ""
    named = f"`{field}`: " if field else ""
    return f"{where}{named}{message}"
