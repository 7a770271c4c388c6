"""upbit-sell-bot: sell Upbit holdings from Telegram, safely."""

__version__ = "0.1.0"
