"""`flask demo load`: the demo data set."""

import click


@click.group("demo")
def demo_group() -> None:
    """Demo data."""
