"""``python -m douyin_async.sandbox``: run the sandbox server until stopped."""

import sys

from .cli import main

sys.exit(main())
