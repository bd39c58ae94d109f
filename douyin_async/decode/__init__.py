"""Records from JSON: the one cattrs converter, the record decoders, the field rules."""
