"""The one error configuration loading raises: every problem, each naming its key."""


class ConfigError(Exception):
    """The configuration is missing or invalid; `problems` lists each one in plain words."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))
