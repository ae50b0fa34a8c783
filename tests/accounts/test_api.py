"""The authorisation matrix for the accounts API: who may read and change which account.

The expected status of every role on every case; tests/matrix.py builds the scene (store A is merchant A's,
with a draft and a listed product as the row needs; store B is merchant B's) and checks what every cell shares.
"""

from __future__ import annotations

from typing import Any

from tests.bad_input import CONTROL_CHARACTERS, UNKNOWN, Bad, Shop, bad_input_test, sign_up_body
from tests.factories import PASSWORD
from tests.matrix import (
    BYSTANDER,
    Call,
    Endpoint,
    Scene,
    ask,
    authorization_test,
    bystander_id,
    names,
    row,
    rows,
    shared_test,
)

ADDRESS_BODY = {"name": "李雷", "phone": "13800000000", "region": "浙江省 杭州市 西湖区", "line": "文三路 1 号"}

# fmt: off
MATRIX: dict[str, dict[str, int | None]] = {
    #                                                          anon  shopper creator  m.A   m.B   op
    "GET /me":                                             row(401,  200,    200,     200,  200,  200),
    "PATCH /me":                                           row(401,  200,    200,     200,  200,  200),
    "GET /accounts":                                       row(401,  403,    403,     403,  403,  200),
    "GET /accounts/{someone else}":                        row(401,  404,    404,     404,  404,  200),
    # Signing up, signing in and resetting a password do not look at the caller: anonymous is the case.
    "POST /accounts (sign up)":                            row(201,  None,   None,    None, None, None),
    "POST /auth/token {bystander's password}":             row(200,  None,   None,    None, None, None),
    "POST /auth/session {bystander's password}":           row(200,  None,   None,    None, None, None),
    "POST /auth/password-reset {bystander's address}":     row(202,  None,   None,    None, None, None),
    "POST /auth/password-reset/confirm {unknown link}":    row(422,  422,    422,     422,  422,  422,  422),
    "POST /auth/logout (refused)":                         row(401,  None,   None,    None, None, None),
    "POST /auth/logout":                                   row(None, 204,    None,    None, None, 204),
    # the address book: buyers only; another shopper's address is a 404 like a missing one
    "GET /me/addresses":                                   row(401,  200,    200,     403,  403,  403,  200),
    "POST /me/addresses":                                  row(401,  201,    201,     403,  403,  403,  201),
    "GET /me/addresses/{unknown}":                         row(401,  404,    404,     403,  403,  403,  404),
    "PUT /me/addresses/{unknown}":                         row(401,  404,    404,     403,  403,  403,  404),
    "POST /me/addresses/{unknown}/default":                row(401,  404,    404,     403,  403,  403,  404),
    "DELETE /me/addresses/{unknown}":                      row(401,  404,    404,     403,  403,  403,  404),
}
# fmt: on


def check_me(scene: Scene, role: str, body: dict[str, Any]) -> None:
    caller = scene.callers[role]
    assert caller is not None and body["id"] == caller.id


def check_someone_else(scene: Scene, role: str, body: dict[str, Any]) -> None:
    assert scene.bystander is not None and body["id"] == scene.bystander.id


def bystander_sign_in(s: Scene) -> dict[str, Any]:
    assert s.bystander is not None
    return {"email": s.bystander.email, "password": PASSWORD}


ENDPOINTS: dict[str, Endpoint] = {
    "GET /me": Endpoint("GET /me", lambda s: Call("GET", "/api/v1/me"), check=check_me),
    "PATCH /me": Endpoint("PATCH /me", lambda s: Call("PATCH", "/api/v1/me", {"display_name": "新名字"}), mutates=True),
    "GET /accounts": Endpoint("GET /accounts", lambda s: Call("GET", "/api/v1/accounts")),
    "GET /accounts/{someone else}": Endpoint(
        "GET /accounts/{user_id}",
        lambda s: Call("GET", f"/api/v1/accounts/{bystander_id(s)}"),
        needs=(BYSTANDER,),
        check=check_someone_else,
    ),
    "POST /accounts (sign up)": ask(
        "POST /accounts",
        json=lambda s: {"email": f"new{next(names)}@example.com", "password": PASSWORD, "display_name": "新人"},
        mutates=True,
    ),
    "POST /auth/token {bystander's password}": ask(
        "POST /auth/token", json=bystander_sign_in, needs=(BYSTANDER,), mutates=True
    ),
    "POST /auth/session {bystander's password}": ask(
        "POST /auth/session", json=bystander_sign_in, needs=(BYSTANDER,), mutates=True
    ),
    "POST /auth/password-reset {bystander's address}": ask(
        "POST /auth/password-reset",
        json=lambda s: {"email": bystander_sign_in(s)["email"]},
        needs=(BYSTANDER,),
        mutates=True,
    ),
    "POST /auth/password-reset/confirm {unknown link}": ask(
        "POST /auth/password-reset/confirm", json={"token": "nope", "password": "a new long password"}, shared=True
    ),
    "POST /auth/logout (refused)": ask("POST /auth/logout", shared=True),
    "POST /auth/logout": ask("POST /auth/logout", mutates=True),
    "GET /me/addresses": ask("GET /me/addresses", shared=True),
    "POST /me/addresses": ask("POST /me/addresses", json=ADDRESS_BODY, mutates=True),
    "GET /me/addresses/{unknown}": ask("GET /me/addresses/{address_id}", f"/me/addresses/{UNKNOWN}", shared=True),
    "PUT /me/addresses/{unknown}": ask(
        "PUT /me/addresses/{address_id}", f"/me/addresses/{UNKNOWN}", ADDRESS_BODY, shared=True
    ),
    "POST /me/addresses/{unknown}/default": ask(
        "POST /me/addresses/{address_id}/default", f"/me/addresses/{UNKNOWN}/default", shared=True
    ),
    "DELETE /me/addresses/{unknown}": ask("DELETE /me/addresses/{address_id}", f"/me/addresses/{UNKNOWN}", shared=True),
}

ROWS = rows(MATRIX, ENDPOINTS)
test_shared_authorization_matrix = shared_test(ROWS)
test_authorization_matrix = authorization_test(ROWS)


# --- bad input (tests/bad_input.py): a clear 422/404 naming the field, and nothing written -----------------


def bad_requests(shop: Shop) -> list[Bad]:
    m, op = shop.merchant, shop.operator
    table = [
        Bad(
            "sign up as operator",
            None,
            "POST",
            "/accounts",
            sign_up_body(is_operator=True),
            422,
            "is_operator",
            "invalid_input",
        ),
        Bad("promote oneself", m, "PATCH", "/me", {"role": "operator"}, 422, "role", "invalid_input"),
        Bad("birth year is a word", m, "PATCH", "/me", {"birth_year": "nineteen-ninety"}, 422, "birth_year"),
        Bad("display name is null", m, "PATCH", "/me", {"display_name": None}, 422, "display_name"),
        Bad(
            "long display name at sign-up",
            None,
            "POST",
            "/accounts",
            sign_up_body(display_name="名" * 65),
            422,
            "display_name",
        ),
        Bad("long password", None, "POST", "/accounts", sign_up_body(password="p" * 129), 422, "password"),
        Bad("short password", None, "POST", "/accounts", sign_up_body(password="short"), 422, "password"),
        Bad("long e-mail", None, "POST", "/accounts", sign_up_body(email="a" * 250 + "@example.com"), 422, "email"),
        Bad("long display name", m, "PATCH", "/me", {"display_name": "名" * 65}, 422, "display_name"),
        Bad("blank display name", m, "PATCH", "/me", {"display_name": " "}, 422, "display_name"),
        Bad("unknown account", op, "GET", f"/accounts/{UNKNOWN}", None, 404, "user_id", "not_found"),
    ]
    for ch in CONTROL_CHARACTERS:
        u = f"U+{ord(ch):04X}"
        table += [
            Bad(f"{u} in a display name", m, "PATCH", "/me", {"display_name": f"小{ch}明"}, 422, "display_name"),
            Bad(
                f"{u} at sign-up",
                None,
                "POST",
                "/accounts",
                sign_up_body(display_name=f"新{ch}人"),
                422,
                "display_name",
            ),
            Bad(
                f"{u} in a token e-mail",
                None,
                "POST",
                "/auth/token",
                {"email": m.email.replace("@", f"{ch}@"), "password": PASSWORD},
                422,
                "email",
            ),
            Bad(
                f"{u} in a session e-mail",
                None,
                "POST",
                "/auth/session",
                {"email": f"x{ch}{m.email}", "password": PASSWORD},
                422,
                "email",
            ),
        ]
    return table


test_bad_input = bad_input_test(bad_requests)
