"""The HTTP layer: the aiohttp transport seam, the answer envelopes, the retry rules."""
