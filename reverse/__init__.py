"""Reverse: the returns, exchange and repair hub of an omnichannel brand."""

from reverse.app import create_app

__all__ = ["create_app"]
