from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import EmailStr, Field, StringConstraints

from yinli.core.schemas import Input, Line, Output

Password = Annotated[str, StringConstraints(min_length=8, max_length=128)]
BirthYear = Annotated[int, Field(ge=1900, le=2100)]


class SignUpIn(Input):
    email: EmailStr = Field(max_length=254)
    password: Password
    display_name: Annotated[str, Line(64)]
    role: Literal["shopper", "merchant", "creator"] = "shopper"
    birth_year: BirthYear | None = Field(None, description="Shoppers only; used for cohort analytics.")


class TokenIn(Input):
    email: Annotated[str, Line(254)]  # no control characters: a NUL was a 500 on PostgreSQL
    password: Annotated[str, StringConstraints(min_length=1, max_length=128)]


class UserOut(Output):
    id: int
    email: str
    display_name: str
    role: str
    birth_year: int | None
    age_cohort: str | None = None
    store_id: int | None = None
    created_at: datetime


class TokenOut(Output):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_at: datetime
    user: UserOut


class ProfileIn(Input):
    display_name: Annotated[str, Line(64)] = None  # type: ignore[assignment]
    birth_year: BirthYear | None = None
    password: Password = None  # type: ignore[assignment]
    current_password: Annotated[str, StringConstraints(max_length=128)] = None  # type: ignore[assignment]


class UsersPage(Output):
    items: list[UserOut]
    next_cursor: str | None


class PasswordResetIn(Input):
    email: Annotated[str, Line(254)]


class PasswordResetConfirmIn(Input):
    token: Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_\-]+$")]
    password: Password


class PasswordResetOut(Output):
    status: Literal["sent_if_the_account_exists"] = "sent_if_the_account_exists"
    expires_minutes: int


class AddressIn(Input):
    name: Annotated[str, Line(40)] = Field(description="Who receives the parcel.")
    phone: Annotated[str, Line(24)] = Field(
        description="A mainland China mobile number (11 digits starting 13-19) or E.164 (+ and 8-15 digits)."
    )
    region: Annotated[str, Line(80)] = Field(description="Province / city / district.")
    line: Annotated[str, Line(200)] = Field(description="Street, building, room.")
    is_default: bool = Field(False, description="Make it the default (the first address always is).")


class AddressOut(Output):
    id: int
    name: str
    phone: str
    region: str
    line: str
    is_default: bool
    created_at: datetime
    updated_at: datetime
