"""Platform adapters. Imports nothing, so `bots chat` works without the Slack or Discord SDKs."""
