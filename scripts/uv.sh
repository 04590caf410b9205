# Sourced by scripts/test and scripts/lock: puts the project's pinned uv in $UV.
#
# uv is the one tool that both keeps a lock for every Python we claim (uv.lock is universal: one file,
# with markers, for 3.10 through 3.14) and resolves the lowest versions pyproject.toml allows
# (`--resolution lowest-direct`), and it builds a test environment from the lock in seconds. It is
# itself pinned, with hashes, in requirements/uv.txt and installed by pip (which ships with Python)
# into .venvs/uv, so a fresh machine needs nothing but python3 -m venv; a uv on the PATH is not used,
# since another version may read or write uv.lock differently.
#
# Expects $ROOT (the repository) and a `say` function.

UV_VENV="$ROOT/.venvs/uv"
UV="$UV_VENV/bin/uv"
# Never download an interpreter (uv would fetch one from outside the package registries): use the
# machine's Pythons or say that one is missing.
export UV_PYTHON_DOWNLOADS=never
export UV_NO_PROGRESS=1

uv_pinned=$(sed -n 's/^uv==\([^ ]*\).*/\1/p' "$ROOT/requirements/uv.txt")
if [[ ! -x "$UV" ]] || [[ "$("$UV" --version 2>/dev/null | cut -d' ' -f2)" != "$uv_pinned" ]]; then
    say "installing uv $uv_pinned (requirements/uv.txt) into .venvs/uv"
    rm -rf "$UV_VENV"
    python3 -m venv "$UV_VENV"
    PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore \
        "$UV_VENV/bin/python" -m pip install -q --require-hashes -r "$ROOT/requirements/uv.txt"
fi
