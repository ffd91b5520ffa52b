"""Build the optional C extension ``emurl._fastops``; everything else is in pyproject.toml."""

import sys

from setuptools import Extension, setup

args = [] if sys.platform == "win32" else ["-O3", "-std=c99"]

setup(
    ext_modules=[
        Extension(
            "emurl._fastops",
            ["src/emurl/_fastops.c"],
            extra_compile_args=args,
            optional=True,  # without a compiler emurl still works, through cv2 (slower)
        )
    ]
)
