"""For web apps: admission by deadline, priority lanes, single flight, the page cache."""
