"""Builds the optional C accelerator of record decoding; the metadata is in pyproject.toml.

Without a C compiler the build of the extension fails quietly (``optional=True``) and the
package runs its pure-Python path. ``DOUYIN_ASYNC_NO_EXTENSIONS=1`` skips the build.
"""

import os

from setuptools import Extension, setup

extensions = [] if os.environ.get("DOUYIN_ASYNC_NO_EXTENSIONS") else [
    Extension("douyin_async._fastrecords", ["douyin_async/_fastrecords.c"], optional=True),
]

setup(ext_modules=extensions)
