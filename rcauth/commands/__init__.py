"""The commands, one module per concern, each imported only when one of its commands runs.

`rcauth.cli.COMMANDS` lists them (with the one-line help `rcauth --help` shows), so starting rcauth
costs click and the root group, not every command's options and imports.
"""
