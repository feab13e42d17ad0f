"""The base of every section of the configuration file."""

from pydantic import BaseModel, ConfigDict


class Strict(BaseModel):
    # A misspelt key is the commonest config error; refusing unknown keys names it.
    model_config = ConfigDict(extra="forbid")
