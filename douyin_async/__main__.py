"""``python -m douyin_async``: the ``douyin-async`` command."""

import sys

from .cli import main

sys.exit(main())
