"""The user's language: identifying it, and the bot's fixed messages written in it."""
