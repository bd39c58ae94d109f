"""What the command shows: progress fitted to the terminal, log lines, one-line messages."""
