"""Tokens billed for one reel and what they cost, from a price table.

Prices are USD per million tokens, standard paid tier, prompts under 200k tokens (a reel is far
below), text/image/video input. They change: a deployment overrides them with
`GEMINI_PRICE_INPUT_PER_MTOK` / `..._OUTPUT_PER_MTOK` (or the `OPENAI_` ones); a model in neither
gets `cost_usd: null` rather than a guess. Thinking tokens are billed as output and counted
there. On the free tier nothing is billed; the figure is then what the reel would cost paid.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from reels_scripter.contract import Usage


@dataclass(frozen=True)
class Price:
    input_per_mtok: float
    output_per_mtok: float
    until: date | None = None  # last day this price applies (an announced change follows)

    def cost(self, prompt_tokens: int, output_tokens: int) -> float:
        return (prompt_tokens * self.input_per_mtok + output_tokens * self.output_per_mtok) / 1e6


# Checked 2026-11 (ai.google.dev/pricing as transcribed by the research notes; openai.com/api).
PRICES: dict[str, tuple[Price, ...]] = {
    "gemini-3.5-flash-lite": (Price(0.30, 2.50),),
    "gemini-3.8-flash": (Price(0.75, 3.75, until=date(2026, 12, 31)), Price(1.50, 7.50)),
    "gemini-3.5-flash": (Price(1.50, 9.00),),
    "gemini-3.1-flash-lite": (Price(0.25, 1.50),),
    "gemini-2.5-flash": (Price(0.30, 2.50),),  # deprecated; kept so old configs still report
    "gemini-2.5-flash-lite": (Price(0.10, 0.40),),
    "gpt-4o-mini": (Price(0.15, 0.60),),
    "gpt-4o": (Price(2.50, 10.00),),
}


def price_for(
    model: str | None,
    *,
    input_override: float | None = None,
    output_override: float | None = None,
    today: date | None = None,
) -> Price | None:
    """The configured price if both halves are set, else the table's price on `today`."""
    if input_override is not None and output_override is not None:
        return Price(input_override, output_override)
    if not model:
        return None
    name = model.removeprefix("models/")
    entries = PRICES.get(name)
    if entries is None:
        return None
    day = today or datetime.now(UTC).date()
    for entry in entries:
        if entry.until is None or day <= entry.until:
            return entry
    return entries[-1]


class UsageMeter:
    """Token usage summed over every billed request of one write (a follow-up costs too)."""

    def __init__(self) -> None:
        self.prompt = 0
        self.output = 0
        self.total = 0
        self.requests = 0
        self.unreported = 0  # requests whose reply carried no usage at all

    def add(self, prompt: int | None, output: int | None, total: int | None) -> None:
        self.requests += 1
        if prompt is None and output is None and total is None:
            self.unreported += 1
        self.prompt += prompt or 0
        self.output += output or 0
        self.total += total if total is not None else (prompt or 0) + (output or 0)

    def usage(self, price: Price | None) -> Usage | None:
        if not self.requests:
            return None
        cost = None
        # A request without usage figures makes any total a guess: no cost rather than a low one.
        if price is not None and not self.unreported:
            cost = round(price.cost(self.prompt, self.output), 6)
        return Usage(
            prompt_tokens=self.prompt,
            output_tokens=self.output,
            total_tokens=self.total,
            requests=self.requests,
            cost_usd=cost,
        )
