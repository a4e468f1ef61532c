"""Benchmark: language identification on short chat messages (the bot's, and lingua's if installed).

    python benchmarks/language_id.py

Prints JSON: for each identifier, how many of the 40 messages below it names right and the
milliseconds per message. `bots` is the bot's own (bots/language/identify.py: py3langid with
script and telltale-word rules); `py3langid` and `lingua` are the bare libraries restricted
to the same languages (lingua only when `lingua-language-detector` is installed; it is not a
dependency of the bot).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

MESSAGES = [
    ("en", "can I talk to a person"), ("en", "where is my order"), ("en", "no thanks"),
    ("en", "refund?"), ("es", "quiero hablar con un agente"), ("es", "no gracias"),
    ("es", "dónde está mi pedido"), ("es", "cuánto cuesta el envío"), ("fr", "non merci"),
    ("fr", "je veux parler à quelqu'un"), ("fr", "où est ma commande"),
    ("fr", "combien coûte la livraison"), ("de", "nein danke"), ("de", "wo ist meine Bestellung"),
    ("de", "ich möchte mit einem Mitarbeiter sprechen"), ("de", "wie lange dauert der Versand"),
    ("pt", "não obrigado"), ("pt", "quero falar com um atendente"), ("pt", "onde está meu pedido"),
    ("it", "no grazie"), ("it", "dov'è il mio ordine"), ("it", "vorrei parlare con un operatore"),
    ("nl", "nee bedankt"), ("nl", "waar is mijn bestelling"),
    ("nl", "ik wil een medewerker spreken"), ("ja", "いいえ、結構です"), ("ja", "注文はどこですか"),
    ("zh", "请帮我转人工客服"), ("zh", "我的订单在哪里"), ("ko", "상담원 연결해 주세요"),
    ("ru", "Можно поговорить с живым человеком?"), ("pl", "chcę rozmawiać z konsultantem"),
    ("tr", "müşteri temsilcisiyle görüşmek istiyorum"), ("sv", "jag vill prata med en människa"),
    ("ar", "أريد التحدث مع موظف"), ("en", "hi"), ("en", "ok"), ("en", "password reset"),
    ("de", "Danke"), ("fr", "merci"),
]  # fmt: skip


def score(identify: Callable[[str], str]) -> dict[str, float]:
    started = time.perf_counter()
    right = sum(identify(text) == language for language, text in MESSAGES)
    seconds = time.perf_counter() - started
    return {"right": right, "of": len(MESSAGES), "ms_per_message": 1000 * seconds / len(MESSAGES)}


def main() -> None:
    import py3langid
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    from bots.language.identify import IDENTIFIED
    from bots.language.identify import LanguageIdentifier as BotsIdentifier

    results: dict[str, object] = {"bots": score(BotsIdentifier().identify)}
    bare = LanguageIdentifier.from_modelpath(
        Path(py3langid.__file__).parent / MODEL_FILE, norm_probs=True
    )
    bare.set_languages(list(IDENTIFIED))
    results["py3langid"] = score(lambda text: str(bare.classify(text)[0]))
    try:
        from lingua import IsoCode639_1, LanguageDetectorBuilder
    except ImportError:
        results["lingua"] = "not installed"
    else:
        started = time.perf_counter()
        codes = [getattr(IsoCode639_1, code.upper()) for code in IDENTIFIED]
        detector = (
            LanguageDetectorBuilder.from_iso_codes_639_1(*codes)
            .with_preloaded_language_models()
            .build()
        )
        loaded = time.perf_counter() - started

        def lingua_code(text: str) -> str:
            found = detector.detect_language_of(text)
            return found.iso_code_639_1.name.lower() if found else "?"

        results["lingua"] = {**score(lingua_code), "load_seconds": loaded}
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
