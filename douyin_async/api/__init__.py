"""The API layer: the endpoint table, one request's executor, page decoding and streams."""
