"""Model prices per 1,000 tokens (from `BOTS_PRICES`), for the estimated cost of each call."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from bots.errors import ConfigError
from bots.models import Usage

_EXAMPLE = "gpt-4o-mini=0.00015/0.0006,gpt-4o=0.0025/0.01"


@dataclass(frozen=True, slots=True)
class Price:
    """Dollars per 1,000 prompt (input) tokens and per 1,000 completion (output) tokens."""

    prompt_per_1k: float
    completion_per_1k: float

    def cost(self, usage: Usage) -> float:
        return (
            usage.prompt_tokens * self.prompt_per_1k
            + usage.completion_tokens * self.completion_per_1k
        ) / 1000


@dataclass(frozen=True)
class PriceTable:
    """Prices by model name; a model that is not listed costs nothing (and is not guessed)."""

    prices: Mapping[str, Price] = field(default_factory=dict)

    def cost(self, model: str, usage: Usage) -> float:
        price = self.prices.get(model)
        return price.cost(usage) if price is not None else 0.0

    @classmethod
    def parse(cls, raw: str, name: str = "BOTS_PRICES") -> PriceTable:
        """`model=input/output,...` in dollars per 1,000 tokens; one price applies to both."""
        prices: dict[str, Price] = {}
        for item in (part.strip() for part in raw.split(",")):
            if not item:
                continue
            model, sep, amounts = item.partition("=")
            parts = amounts.split("/")
            if not sep or not model.strip() or len(parts) > 2:
                raise ConfigError(f"{name} must look like {_EXAMPLE}; got {item!r}")
            try:
                numbers = [float(part) for part in parts]
            except ValueError:
                raise ConfigError(
                    f"{name}: the price of {model.strip()!r} must be numbers such as "
                    f"0.00015/0.0006 (dollars per 1,000 input/output tokens); got {amounts!r}"
                ) from None
            if any(number < 0 for number in numbers):
                raise ConfigError(f"{name}: a price cannot be negative; got {item!r}")
            prompt, completion = numbers[0], numbers[-1]
            prices[model.strip()] = Price(prompt, completion)
        return cls(prices)
