"""Why the bot refused to do something, as data the chat layer can translate.

A `SellRefused` carries a catalogue key (``code``) and the values the message needs; the
chat layer turns it into words in the user's language. Nothing was sent to the exchange's
order endpoint when one of these is raised.
"""

from __future__ import annotations

from typing import Any


class ServiceError(Exception):
    """Base for refusals the user should read about."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.params = params

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code!r}, {self.params!r})"


class SellRefused(ServiceError):
    """The sell request cannot go ahead; no order was placed."""


class ExchangeUnavailable(ServiceError):
    """The exchange could not be asked (network, rate limit, maintenance); try again later."""


class BookTooThin(SellRefused):
    """A market sell larger than the bids of the book's 30 best levels, which Upbit refuses
    on submission (https://docs.upbit.com/kr/changelog/orderbook_expansion, 2025-05-07).

    ``depth`` is what the book can take (volume, and ``depth_value`` in the quote currency).
    Hook: a chat layer that can offer another kind of sell (a protected or limit sell, which
    rest on the book instead of walking it) catches this class and adds its buttons.
    """

    def __init__(self, **params: Any) -> None:
        super().__init__("book_too_thin", **params)
