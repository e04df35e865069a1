"""Use cases. One public method is one unit of work; roles and state checks live here. No Qt."""

from kapconsole.services.container import Services

__all__ = ["Services"]
