"""The application: the command line, the one composition root, and the commands."""
