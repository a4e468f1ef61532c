"""One conversation turn: the engine, the prompt, the model's answer, limits and output guards."""
