"""What every web page shares: who is calling, language, CSRF, rendering, form errors, HTML error pages.

Web handlers hold no business rules. They resolve the caller with the API's own resolver
(`yinli.api.deps.get_actor`: the `yinli_session` cookie), call domain services directly (never HTTP to
ourselves), and render. A `DomainError` a service raises becomes either field errors next to the form
input it names (`errors[].field`), or — outside a form — an HTML error page with the same status the API
would answer (401 becomes a redirect to sign in).

CSRF: the session cookie is SameSite=Lax, and every state-changing form carries a per-session token
(HMAC of the session secret under `YINLI_SECRET_KEY`; before signing in, of a random `yinli_csrf`
cookie). HTMX requests send it as `X-CSRF-Token` (set once on <body>).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import Depends, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session

from yinli.api.deps import SESSION_COOKIE, cookie_secure, get_actor, own_origin
from yinli.checkout.service import cart_count
from yinli.content import favourites
from yinli.core.auth import Actor, Role
from yinli.core.clock import Clock
from yinli.core.errors import DomainError, Forbidden, NotAuthenticated, NotFound
from yinli.core.money import Money
from yinli.core.parsing import INT64_MAX, is_id, split_decimal
from yinli.core.parsing import parse_int as parse_number
from yinli.guarantees import credit
from yinli.web import i18n

CSRF_COOKIE = "yinli_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
LANG_COOKIE = "yinli_lang"
DISPLAY_TZ = timezone(timedelta(hours=8))

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")


# --- CSRF ------------------------------------------------------------------------------------------------


def _secret(request: Request) -> bytes:
    return str(request.app.state.settings.secret_key).encode()


def csrf_seed(request: Request) -> str | None:
    """What the token is bound to: the session when signed in, else the browser's `yinli_csrf` cookie."""
    return request.cookies.get(SESSION_COOKIE) or request.cookies.get(CSRF_COOKIE)


def csrf_token(request: Request, seed: str) -> str:
    return hmac.new(_secret(request), b"csrf|" + seed.encode(), hashlib.sha256).hexdigest()


def check_csrf(request: Request, submitted: str | None) -> None:
    seed = csrf_seed(request)
    if not seed or not submitted or not hmac.compare_digest(csrf_token(request, seed), submitted):
        raise Forbidden("the form has expired or did not come from this site; reload the page", code="csrf")


# --- where to go next ------------------------------------------------------------------------------------


def safe_next(value: str | None, default: str = "/") -> str:
    """A `next` target if it is a path on this site, else `default` — the one gate for every redirect
    that a query or form chose (HX-Redirect and Location alike), so no link can send a signed-in user
    elsewhere. Accepted: starts with exactly one "/"; refused: "//host", "/\\host" (browsers read "\\" as
    "/"), a scheme, and any control character or space (browsers drop tabs and newlines, so "/<tab>/evil"
    would become "//evil")."""
    if not value or len(value) > 2000 or not value.startswith("/") or value[1:2] in ("/", "\\"):
        return default
    if "\\" in value or any(ch <= " " or ch == "\x7f" for ch in value):
        return default
    return value


# --- the page context ------------------------------------------------------------------------------------


@dataclass
class Web:
    """Per-request context for web handlers: the caller, language, CSRF token and rendering."""

    request: Request
    actor: Actor | None
    lang: str
    csrf: str
    new_seed: str | None = None  # a fresh `yinli_csrf` cookie to set on this response
    remember_lang: bool = False
    display_name: str | None = None
    cart_count: int = 0  # lines in a buyer's cart: the header's badge
    favourite_ids: frozenset[int] = frozenset()  # a buyer's favourite products: the cards' hearts

    # text
    def t(self, text: str, **values: Any) -> str:
        return i18n.translate(self.lang, text, **values)

    def label(self, kind: str, value: str | None) -> str:
        return i18n.label(self.lang, kind, value)

    def when(self, moment: datetime | None, *, date_only: bool = False) -> str:
        """A timestamp in China Standard Time, as shoppers and merchants read their clocks."""
        if moment is None:
            return "—"
        local = moment.astimezone(DISPLAY_TZ)
        return local.strftime("%Y-%m-%d" if date_only else "%Y-%m-%d %H:%M")

    @property
    def clock(self) -> Clock:
        """The app's clock (handlers that only render read it here rather than asking for ClockDep)."""
        clock: Clock = self.request.app.state.clock
        return clock

    def pay_later_room(self, db: Session) -> int:
        """The caller's unused pay-later credit, for the cards' 先用后付 badge (guarantees.credit)."""
        return credit.shopper_room(db, self.request.app.state.settings, self.actor)

    # who
    @property
    def signed_in(self) -> bool:
        return self.actor is not None

    @property
    def is_merchant(self) -> bool:
        return self.actor is not None and self.actor.role is Role.MERCHANT

    @property
    def is_operator(self) -> bool:
        return self.actor is not None and self.actor.role is Role.OPERATOR

    @property
    def is_buyer(self) -> bool:
        return self.actor is not None and self.actor.role in (Role.SHOPPER, Role.CREATOR)

    @property
    def is_htmx(self) -> bool:
        return self.request.headers.get("hx-request") == "true"

    @property
    def path_with_query(self) -> str:
        url = self.request.url
        return url.path + (f"?{url.query}" if url.query else "")

    def lang_url(self, lang: str) -> str:
        params = [(k, v) for k, v in self.request.query_params.multi_items() if k != "lang"]
        params.append(("lang", lang))
        return f"{self.request.url.path}?{urlencode(params)}"

    # responses
    def render(self, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        response = templates.TemplateResponse(
            self.request, template, {"web": self, "t": self.t, **context}, status_code=status_code
        )
        self.finish(response)
        return response

    def finish(self, response: Response) -> Response:
        settings = self.request.app.state.settings
        if self.new_seed:
            response.set_cookie(
                CSRF_COOKIE,
                self.new_seed,
                httponly=True,
                samesite="lax",
                secure=cookie_secure(self.request, settings),
                path="/",
            )
        if self.remember_lang:
            response.set_cookie(
                LANG_COOKIE,
                self.lang,
                max_age=365 * 86400,
                samesite="lax",
                secure=cookie_secure(self.request, settings),
                path="/",
            )
        return response

    def redirect(self, url: str, *, flash: str | None = None) -> Response:
        """After a successful POST: 303 to `url` (HTMX: an HX-Redirect header, so the browser follows)."""
        if flash:
            assert flash in i18n.FLASH, flash
            url, hash_, fragment = url.partition("#")
            url += ("&" if "?" in url else "?") + "done=" + flash + hash_ + fragment
        if self.is_htmx:
            response: Response = Response(status_code=204, headers={"HX-Redirect": url})
        else:
            response = RedirectResponse(url, status_code=303)
        return self.finish(response)

    @property
    def flash(self) -> str | None:
        """The outcome of the last action, from a fixed list (`?done=<code>`), so no URL can put words here."""
        code = self.request.query_params.get("done")
        return self.t(i18n.FLASH[code]) if code in i18n.FLASH else None

    def yuan(self, fen: int | None) -> str:
        """Fen as a plain yuan amount for a form input ('39.90'); Money.parse reads it back exactly."""
        if fen is None:
            return ""
        sign, fen = ("-", -fen) if fen < 0 else ("", fen)
        return f"{sign}{fen // 100}.{fen % 100:02d}"

    def money(self, fen: int | None, currency: str = "CNY") -> str:
        return Money(fen, currency).format() if fen is not None else "—"


def _language(request: Request) -> tuple[str, bool]:
    asked = request.query_params.get("lang")
    if asked in i18n.LANGUAGES:
        return asked, True
    saved = request.cookies.get(LANG_COOKIE)
    return (saved if saved in i18n.LANGUAGES else i18n.DEFAULT), False


def get_web(request: Request, actor: Annotated[Actor | None, Depends(get_actor)]) -> Web:
    lang, remember = _language(request)
    seed = csrf_seed(request)
    new_seed = None
    if seed is None:
        seed = new_seed = secrets.token_urlsafe(24)
    web = Web(request, actor, lang, csrf_token(request, seed), new_seed, remember)
    if actor is not None:
        from yinli.accounts.models import User

        with request.app.state.db.read_sessions() as session:
            user = session.get(User, actor.user_id)
            web.display_name = user.display_name if user else None
            if web.is_buyer:
                web.cart_count = cart_count(session, actor.user_id)
                web.favourite_ids = frozenset(favourites.favourite_ids(session, actor.user_id))
    return web


WebDep = Annotated[Web, Depends(get_web)]


# --- forms -----------------------------------------------------------------------------------------------


class Form(dict[str, str]):
    """A submitted form (CSRF already checked). Single values; `getlist` for repeated names."""

    def __init__(self, items: list[tuple[str, str]]) -> None:
        super().__init__()
        self._items = items
        for key, value in items:
            self[key] = value

    def getlist(self, key: str) -> list[str]:
        return [v for k, v in self._items if k == key]

    def text(self, key: str) -> str:
        return self.get(key, "").strip()

    def optional(self, key: str) -> str | None:
        value = self.text(key)
        return value or None


async def read_form(request: Request) -> Form:
    """The form of a state-changing request, after the CSRF check (403 without a valid token)."""
    data = await request.form()
    items = [(k, v) for k, v in data.multi_items() if isinstance(v, str)]
    submitted = request.headers.get(CSRF_HEADER) or dict(items).get(CSRF_FIELD)
    check_csrf(request, submitted)
    return Form([(k, v) for k, v in items if k != CSRF_FIELD])


FormDep = Annotated[Form, Depends(read_form)]


class FormErrors(dict[str, str]):
    """field -> message; `general` holds what no single field is to blame for."""

    general: str | None = None

    def __bool__(self) -> bool:
        return bool(len(self) or self.general)


def field_errors(web: Web, exc: DomainError | ValidationError, rename: Mapping[str, str] | None = None) -> FormErrors:
    """Map a service's problem details (or a schema's validation errors) to form fields.

    `rename` maps the API's field names to this form's input names (e.g. `address.name` -> `name`).
    A problem that names no field on the form is shown at the top of the form. What no form can fix —
    403, 404, not signed in — is raised again, to become the error page the WebRoute renders.
    """
    if isinstance(exc, DomainError) and (exc.status in (403, 404) or exc.code == "not_authenticated"):
        raise exc  # not the form's fault: the page answers as the API would (an HTML 403/404, or sign in)
    rename = rename or {}
    errors = FormErrors()
    if isinstance(exc, ValidationError):
        for err in exc.errors():
            name = ".".join(str(p) for p in err.get("loc", ()))
            name = rename.get(name, name)
            errors.setdefault(name, i18n.validation_message(web.lang, err))
        return errors
    message = i18n.problem_message(web.lang, exc.code, exc.detail, exc.extensions)
    for e in exc.errors:
        name = rename.get(e.field, e.field)
        errors.setdefault(name, message if e.message == exc.detail else e.message)
    if not errors:
        errors.general = message
    return errors


def status_of(exc: DomainError | ValidationError) -> int:
    """The status a form answers with when it comes back with problems: the service's own (409 for a
    conflict), 422 for input the schema refused."""
    return exc.status if isinstance(exc, DomainError) else 422


def general_error(web: Web, exc: DomainError) -> FormErrors:
    errors = FormErrors()
    errors.general = i18n.problem_message(web.lang, exc.code, exc.detail)
    return errors


def parse_yuan(web: Web, errors: FormErrors, name: str, value: str, *, required: bool = True) -> int | None:
    """A yuan amount typed into a form ('39.9') as fen, or a field error."""
    value = value.strip().replace("¥", "").replace(",", "")
    if not value:
        if required:
            errors[name] = web.t("必填")
        return None
    if value.startswith("-") and split_decimal(value[1:], places=2) is not None:
        errors[name] = web.t("金额不能为负")
        return None
    if split_decimal(value, places=2) is None:  # ASCII digits only: Decimal() would take '١٢' or '1e3'
        errors[name] = web.t("请输入金额，例如 39.90")
        return None
    return Money.parse(value).amount


def parse_int(
    web: Web,
    errors: FormErrors,
    name: str,
    value: str,
    *,
    required: bool = True,
    lo: int = -INT64_MAX,
    hi: int = INT64_MAX,
) -> int | None:
    """A whole number typed into a form (ASCII digits, `lo..hi`), or a field error. The schema the value
    then goes to has its own, usually narrower, bounds and messages; these keep the rest from a 500."""
    value = value.strip()
    if not value:
        if required:
            errors[name] = web.t("必填")
        return None
    try:
        number = parse_number(value)
    except ValueError:
        errors[name] = web.t("请输入整数")
        return None
    if not lo <= number <= hi:
        errors[name] = web.t("请输入 {lo} 到 {hi} 之间的整数", lo=lo, hi=hi)
        return None
    return number


def parse_percent(web: Web, errors: FormErrors, name: str, value: str) -> int | None:
    """A percentage typed into a form ('12.5' or '12.5%') as basis points (1250), or a field error."""
    value = value.strip().removesuffix("%").strip()
    if not value:
        errors[name] = web.t("必填")
        return None
    parts = split_decimal(value, places=2)
    if parts is None:
        errors[name] = web.t("请输入百分比，例如 12.5")
        return None
    return parts[0] * 100 + parts[1]


def parse_when(web: Web, errors: FormErrors, name: str, value: str) -> datetime | None:
    """A `datetime-local` input ('2026-11-24T20:00'), read in China Standard Time; empty is None."""
    value = value.strip()
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        errors[name] = web.t("请输入日期和时间，例如 2026-11-24 20:00")
        return None
    return moment.replace(tzinfo=DISPLAY_TZ) if moment.tzinfo is None else moment


def validate(model: type[BaseModel], data: dict[str, Any]) -> BaseModel:
    """Validate form data with the API's own input schema (same limits, same messages)."""
    return model.model_validate(data)


# --- access ---------------------------------------------------------------------------------------------


def require_signed_in(web: Web) -> Actor:
    if web.actor is None:
        raise NotAuthenticated("sign in first")
    return web.actor


def require_roles(web: Web, *roles: Role) -> Actor:
    actor = require_signed_in(web)
    if actor.role not in roles:
        raise Forbidden("this page is for: " + ", ".join(r.value for r in roles), code="wrong_role")
    return actor


# --- error pages ---------------------------------------------------------------------------------------


def _error_page_web(request: Request, lang: str) -> Web:
    """The page's header as the visitor sees it elsewhere (signed in, their name), when that can be
    read; a stale or bad token, or a database that does not answer, shows the signed-out header."""
    try:
        return get_web(request, get_actor(request))
    except Exception:  # the error page itself must always render
        return Web(request, None, lang, "")


def _error_page(
    request: Request, status: int, code: str, detail: str, headers: dict[str, str] | None = None
) -> Response:
    """The HTML error page, in the visitor's language with the site's header. A 503 reads nothing from
    the database: it also answers when the database is unavailable or the server is saturated
    (`api.problems.unavailable`)."""
    lang, _ = _language(request)
    if status == 401:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        if request.method != "GET":  # back to the page the form was on, if it was one of ours
            referer = request.headers.get("referer") or ""
            own = own_origin(request)
            target = referer[len(own) :] if referer.lower().startswith(own + "/") else "/"
        url = "/signin?next=" + quote(safe_next(target), safe="")
        if request.headers.get("hx-request") == "true":
            return Response(status_code=204, headers={"HX-Redirect": url})
        return RedirectResponse(url, status_code=303)
    web = _error_page_web(request, lang) if status != 503 else Web(request, None, lang, "")
    titles = {403: "没有权限", 404: "页面不存在", 409: "操作无法完成", 422: "输入有误", 503: "服务繁忙"}
    return templates.TemplateResponse(
        request,
        "error.html",
        {
            "web": web,
            "t": web.t,
            "status": status,
            "title": titles.get(status, "出错了"),
            "message": i18n.problem_message(lang, code, detail),
        },
        status_code=status,
        headers=headers,
    )


def html_error_page(request: Request, status: int, code: str, detail: str, headers: dict[str, str]) -> Response:
    return _error_page(request, status, code, detail, headers)


def _int_path_params(route: APIRoute) -> tuple[str, ...]:
    return tuple(p.alias for p in route.dependant.path_params if p.field_info.annotation is int)


class WebRoute(APIRoute):
    """Routes that answer HTML: a DomainError a handler lets escape becomes an HTML page, not JSON.

    Every int in a page's path is an id: it must be 1..2**53 written in ASCII digits (`parsing.is_id`),
    else the page does not exist (404) — checked here for every route, so no handler can forget, before
    FastAPI's lax int parsing (' 5', '+5', '1_000') or the database (past a BIGINT) sees it."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        ids = _int_path_params(self)

        async def handle(request: Request) -> Response:
            if any(not is_id(request.path_params.get(name, "")) for name in ids):
                return _error_page(request, 404, "not_found", "no such page")
            try:
                return await handler(request)
            except DomainError as exc:
                return _error_page(request, exc.status, exc.code, exc.detail)
            except RequestValidationError:
                return _error_page(request, 404, "not_found", "no such page")

        return handle


__all__ = [
    "CSRF_FIELD",
    "Form",
    "FormDep",
    "FormErrors",
    "NotFound",
    "Web",
    "WebDep",
    "WebRoute",
    "field_errors",
    "general_error",
    "parse_int",
    "parse_percent",
    "parse_when",
    "parse_yuan",
    "require_roles",
    "require_signed_in",
    "safe_next",
    "status_of",
    "templates",
    "validate",
]
