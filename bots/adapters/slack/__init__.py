"""The Slack adapter: slack-bolt events in, engine events out (translate only)."""
