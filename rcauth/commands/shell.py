"""`completion`: the shell completion script, which asks rcauth itself for the candidates."""

from __future__ import annotations

import click


@click.command()
@click.argument("shell", type=click.Choice(["bash", "zsh", "fish"]))
def completion(shell: str) -> None:
    """Print the shell completion script for SHELL.

    \b
    Examples:
      eval "$(rcauth completion bash)"             # in ~/.bashrc
      eval "$(rcauth completion zsh)"              # in ~/.zshrc
      rcauth completion fish > ~/.config/fish/completions/rcauth.fish
    """
    from click.shell_completion import get_completion_class

    from rcauth.cli import cli

    completion_class = get_completion_class(shell)
    if completion_class is None:  # pragma: no cover - click ships all three
        raise click.UsageError(f"no completion for {shell}")
    click.echo(completion_class(cli, {}, "rcauth", "_RCAUTH_COMPLETE").source())
