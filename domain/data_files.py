"""Access to the rule data shipped inside the `domain` package."""

from importlib.resources import files


def read_data_text(name: str) -> str:
    return files("domain").joinpath("data", name).read_text(encoding="utf-8")
