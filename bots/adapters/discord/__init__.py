"""The Discord adapter: discord.py gateway events in, engine events out (translate only)."""
