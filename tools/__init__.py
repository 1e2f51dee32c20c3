"""The book's tools (build, check, grade, publish); run each from the repository root as ``python -m tools.<name>``."""
